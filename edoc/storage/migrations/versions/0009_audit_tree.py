"""audit log: Merkle tree nodes, checkpoints, witnesses, audit key, certificates

Revision ID: 0009_audit
Revises: 0008_routing
Create Date: 2026-11-22

Adds each event's leaf hash, the tree's stored nodes, the checkpoint fields of the head, and the
tables of checkpoints, witnesses' countersignatures, the office's sealed audit key and the
certificates that signed events. Events recorded before this revision get their leaf hashes,
nodes and the head's frontier computed here.
"""

from __future__ import annotations

import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

import edoc.storage.types

revision = "0009_audit"
down_revision = "0008_routing"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_key",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("retired_at", edoc.storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["audit_key.key_id"]),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "audit_witness",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["size"], ["audit_checkpoint.size"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("size", "agency", name="uq_audit_witness"),
    )
    op.create_table(
        "audit_cert",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_table(
        "audit_node",
        sa.Column("position", _BIGINT, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("position"),
    )
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkpoint_size", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("checkpoint_at", edoc.storage.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.alter_column("checkpoint_size", server_default=None)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf_hash", sa.LargeBinary(), nullable=True))
    _backfill()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("leaf_hash", existing_type=sa.LargeBinary(), nullable=False)


def _backfill() -> None:
    """Leaf hashes, nodes and frontier for the events recorded before this revision."""
    import hashlib

    from edoc.audit.events import body_text, format_time, leaf_text
    from edoc.audit.merkle import Frontier

    bind = op.get_bind()
    events = sa.table(
        "audit_event",
        sa.column("seq", sa.Integer()),
        sa.column("at", edoc.storage.types.UTCDateTime()),
        sa.column("actor", sa.String()),
        sa.column("agency", sa.String()),
        sa.column("act", sa.String()),
        sa.column("document_id", sa.Integer()),
        sa.column("payload", sa.Text()),
        sa.column("signature", sa.LargeBinary()),
        sa.column("signer_cert", sa.String()),
        sa.column("leaf_hash", sa.LargeBinary()),
    )
    rows = bind.execute(sa.select(events).order_by(events.c.seq)).all()
    frontier = Frontier.empty()
    nodes: list[tuple[int, bytes]] = []
    for row in rows:
        if row.seq != frontier.size:
            raise RuntimeError(f"audit event {frontier.size} is missing: the log was tampered with before this upgrade")
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        body = body_text(row.seq, format_time(at), row.actor, row.agency, row.act, row.document_id, row.payload)
        leaf = leaf_text(body, row.signature, row.signer_cert).encode()
        digest = hashlib.sha256(b"\x00" + leaf).digest()
        frontier.append(digest, nodes)
        bind.execute(sa.update(events).where(events.c.seq == row.seq).values(leaf_hash=digest))
    if nodes:
        node_table = sa.table("audit_node", sa.column("position", sa.BigInteger()), sa.column("hash", sa.LargeBinary()))
        bind.execute(sa.insert(node_table), [{"position": p, "hash": h} for p, h in nodes])
    bind.execute(
        sa.text("UPDATE audit_head SET size = :size, frontier = :frontier WHERE id = 1"),
        {"size": frontier.size, "frontier": json.dumps([h.hex() for h in frontier.hashes])},
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("leaf_hash")
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("checkpoint_at")
        batch_op.drop_column("checkpoint_size")
    op.drop_table("audit_node")
    op.drop_table("audit_cert")
    op.drop_table("audit_witness")
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_key")
