"""pki: certificates, CRLs, trust anchors

Revision ID: 0010_pki
Revises: 0009_audit
Create Date: 2026-11-23

The CA's register of certificates (with the encrypted keys the office holds), the CRLs it
signed, and the office's trust list.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import edoc.storage.types

revision = "0010_pki"
down_revision = "0009_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trust_anchor",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("added_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("issuer_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("key_type", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("spki_sha256", sa.String(length=64), nullable=False),
        sa.Column("not_before", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("not_after", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("issued_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("key_storage", sa.String(length=16), nullable=False),
        sa.Column("key_data", sa.LargeBinary(), nullable=True),
        sa.Column("pkcs11_token", sa.String(length=64), nullable=True),
        sa.Column("pkcs11_key_id", sa.String(length=128), nullable=True),
        sa.Column("revoked_at", edoc.storage.types.UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["issuer_id"], ["certificate.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
        sa.UniqueConstraint("serial"),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_issuer_id"), ["issuer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_certificate_owner_kind", ["owner", "kind"], unique=False)

    op.create_table(
        "crl",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("this_update", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("next_update", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("revoked", sa.Integer(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["certificate.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer_id", "number", name="uq_crl_issuer_number"),
    )


def downgrade() -> None:
    op.drop_table("crl")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_owner_kind")
        batch_op.drop_index(batch_op.f("ix_certificate_kind"))
        batch_op.drop_index(batch_op.f("ix_certificate_issuer_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_agency_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_account_id"))

    op.drop_table("certificate")
    op.drop_table("trust_anchor")
