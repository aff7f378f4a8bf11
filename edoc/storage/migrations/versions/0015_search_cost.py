"""search cost: tell PostgreSQL's planner what edoc_search_text costs

Revision ID: 0015_search_cost
Revises: 0014_search_agency
Create Date: 2026-12-03

``edoc_search_text`` (the text the trigram index is built on) parses ``fields_json`` as JSON
for every row it is computed on, and is not inlined (its body has a sub-select), so the planner
charges it the default ``COST 100``. At 1,000,000 documents that made a search for one agency
take the btree index on ``agency_id`` and compute the text for each of the agency's ~2,900
documents (81 ms) rather than the two-column GIN index of ``0014`` (2.4 ms for the same 14
rows). ``COST 10000`` is what it costs relative to an operator: the planner then uses the GIN
index, alone for one agency and beside the ``agency_id`` index for several.
"""

from __future__ import annotations

from alembic import op

revision = "0015_search_cost"
down_revision = "0014_search_agency"
branch_labels = None
depends_on = None

_FUNCTION = "edoc_search_text(text, text, text, text, text)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {_FUNCTION} COST 10000")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {_FUNCTION} COST 100")
