"""sealed route notes: endorsements, orders and return reasons of restricted documents

Revision ID: 0013_sealed_notes
Revises: 0012_sealed
Create Date: 2026-12-03

``route_step.note_sha256``: for a confidential or secret document the step's note is stored only
as CMS EnvelopedData (a blob whose plaintext is the salted note, named by this hash) for the
same readers as the document; ``route_step.note`` is then empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_sealed_notes"
down_revision = "0012_sealed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("route_step") as batch:
        batch.add_column(sa.Column("note_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("route_step") as batch:
        batch.drop_column("note_sha256")
