"""search by agency: the full-text match restricted to the searcher's agency before ranking

Revision ID: 0014_search_agency
Revises: 0013_sealed_notes
Create Date: 2026-12-03

A search only ever looks inside the searcher's agency (or, for an auditor, the agencies below
theirs); the index used to match across every agency and leave the agency filter to a join with
``document`` afterwards: at 1,000,000 documents a word found in 5,000 subjects cost 5,000 joins
and ranks for about 15 rows kept.

- SQLite: the FTS5 table ``search_text`` is rebuilt with its rowid = ``agency_id * 2**32 +
  document id`` (:data:`edoc.storage.search.AGENCY_SHIFT`). An FTS5 doclist is ordered by rowid,
  so one agency's documents are one contiguous range of every term's doclist, and a
  ``rowid BETWEEN`` constraint makes FTS5 seek to that range and stop at its end: the match,
  the ranking and the join only ever see the agency's own hits. The triggers write the same
  key (and follow a change of ``agency_id``).
- PostgreSQL: the trigram index becomes a two-column GIN index, ``(agency_id, text)``, through
  ``btree_gin``, so the index itself intersects the agency with the trigrams.
"""

from __future__ import annotations

from alembic import op

revision = "0014_search_agency"
down_revision = "0013_sealed_notes"
branch_labels = None
depends_on = None

_SQLITE_ROW = (
    "{p}.subject, coalesce({p}.number, ''), {p}.from_name || ' ' || {p}.to_name, "
    "coalesce((SELECT group_concat(value, ' ') FROM json_each({p}.fields_json, '$.body')), '')"
)
_KEY = "({p}.agency_id * 4294967296 + {p}.id)"
_OLD_KEY = "{p}.id"


def _sqlite(key: str, update_of: str) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS search_text_ad",
        "DROP TRIGGER IF EXISTS search_text_au",
        "DROP TRIGGER IF EXISTS search_text_ai",
        "DROP TABLE IF EXISTS search_text",
        "CREATE VIRTUAL TABLE search_text USING fts5(subject, number, parties, body, tokenize = 'trigram')",
        "INSERT INTO search_text (rowid, subject, number, parties, body) SELECT "
        + key.format(p="d")
        + ", "
        + _SQLITE_ROW.format(p="d")
        + " FROM document AS d",
        "CREATE TRIGGER search_text_ai AFTER INSERT ON document BEGIN "
        "INSERT INTO search_text (rowid, subject, number, parties, body) VALUES ("
        + key.format(p="new")
        + ", "
        + _SQLITE_ROW.format(p="new")
        + "); END",
        f"CREATE TRIGGER search_text_au AFTER UPDATE OF {update_of} ON document "
        "BEGIN DELETE FROM search_text WHERE rowid = "
        + key.format(p="old")
        + "; INSERT INTO search_text (rowid, subject, number, parties, body) VALUES ("
        + key.format(p="new")
        + ", "
        + _SQLITE_ROW.format(p="new")
        + "); END",
        "CREATE TRIGGER search_text_ad AFTER DELETE ON document BEGIN DELETE FROM search_text WHERE rowid = "
        + key.format(p="old")
        + "; END",
    ]


SQLITE_UP = _sqlite(_KEY, "agency_id, subject, number, from_name, to_name, fields_json")
SQLITE_DOWN = _sqlite(_OLD_KEY, "subject, number, from_name, to_name, fields_json")

_PG_TEXT = "edoc_search_text(subject, number, from_name, to_name, fields_json)"
PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "DROP INDEX IF EXISTS ix_document_search",
    f"CREATE INDEX ix_document_search ON document USING gin (agency_id, {_PG_TEXT} gin_trgm_ops)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_document_search",
    f"CREATE INDEX ix_document_search ON document USING gin ({_PG_TEXT} gin_trgm_ops)",
]


def upgrade() -> None:
    statements = PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
