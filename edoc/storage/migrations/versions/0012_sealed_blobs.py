"""sealed blobs: confidential and secret content stored only as CMS EnvelopedData

Revision ID: 0012_sealed
Revises: 0011_registers
Create Date: 2026-12-03

``blob.envelope_sha256``: set on the row named by the SHA-256 of a restricted document's
plaintext (its PDF, attachment or fields); the bytes are not stored under that name, only the
envelope (another blob, named by its own hash) that encrypts them for their readers' keys.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_sealed"
down_revision = "0011_registers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blob") as batch:
        batch.add_column(sa.Column("envelope_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("blob") as batch:
        batch.drop_column("envelope_sha256")
