"""routing: deliveries with signed evidence, routes inside agencies, agency groups, sealed content

Revision ID: 0008_routing
Revises: 0001
Create Date: 2026-11-23

Consignments (one per document and recipient agency, never two), their evidence records signed
with agency seals, the sends (dispatches) they came from, the route of each document inside its
agency with its steps and the people and units it reached, named groups of agencies for
circulars, and the envelopes that keep secret content encrypted at rest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import edoc.storage.types

revision = "0008_routing"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "agency_group_member",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["agency_group.id"],
        ),
        sa.PrimaryKeyConstraint("group_id", "agency_id"),
    )
    op.create_table(
        "dispatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dispatch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_document_id"), ["document_id"], unique=False)

    op.create_table(
        "route",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("trail", sa.Text(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("retention", sa.String(length=32), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("updated_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.PrimaryKeyConstraint("document_id"),
    )
    with op.batch_alter_table("route", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_state"), ["state"], unique=False)

    op.create_table(
        "route_party",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("since", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.PrimaryKeyConstraint("document_id", "account_id"),
    )
    with op.batch_alter_table("route_party", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_party_account_id"), ["account_id"], unique=False)

    op.create_table(
        "route_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("to_account_id", sa.Integer(), nullable=True),
        sa.Column("to_unit_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("state_after", sa.String(length=16), nullable=False),
        sa.Column("at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("signer_serial", sa.String(length=48), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "seq", name="uq_route_step_seq"),
    )
    with op.batch_alter_table("route_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_step_document_id"), ["document_id"], unique=False)

    op.create_table(
        "route_unit",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("since", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("document_id", "unit_id"),
    )
    with op.batch_alter_table("route_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_unit_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "sealed_content",
        sa.Column("envelope_sha256", sa.String(length=64), nullable=False),
        sa.Column("plain_sha256", sa.String(length=64), nullable=False),
        sa.Column("plain_size", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["envelope_sha256"],
            ["blob.sha256"],
        ),
        sa.PrimaryKeyConstraint("envelope_sha256"),
    )
    with op.batch_alter_table("sealed_content", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sealed_content_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sealed_content_plain_sha256"), ["plain_sha256"], unique=False)

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consignment", sa.String(length=64), nullable=False),
        sa.Column("dispatch_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("receive_number", sa.String(length=96), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"],
            ["document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["dispatch_id"],
            ["dispatch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["agency.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consignment"),
        sa.UniqueConstraint("copy_id"),
        sa.UniqueConstraint("document_id", "recipient_id", name="uq_delivery_document_recipient"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_dispatch_id"), ["dispatch_id"], unique=False)
        batch_op.create_index("ix_delivery_recipient_state", ["recipient_id", "state"], unique=False)

    op.create_table(
        "delivery_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signer_serial", sa.String(length=48), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id", "seq", name="uq_evidence_delivery_seq"),
    )
    with op.batch_alter_table("delivery_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_evidence_delivery_id"), ["delivery_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_evidence_delivery_id"))

    op.drop_table("delivery_evidence")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_recipient_state")
        batch_op.drop_index(batch_op.f("ix_delivery_dispatch_id"))

    op.drop_table("delivery")
    with op.batch_alter_table("sealed_content", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sealed_content_plain_sha256"))
        batch_op.drop_index(batch_op.f("ix_sealed_content_document_id"))

    op.drop_table("sealed_content")
    with op.batch_alter_table("route_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_unit_unit_id"))

    op.drop_table("route_unit")
    with op.batch_alter_table("route_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_step_document_id"))

    op.drop_table("route_step")
    with op.batch_alter_table("route_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_party_account_id"))

    op.drop_table("route_party")
    with op.batch_alter_table("route", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_state"))

    op.drop_table("route")
    with op.batch_alter_table("dispatch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_document_id"))

    op.drop_table("dispatch")
    op.drop_table("agency_group_member")
    op.drop_table("agency_group")
