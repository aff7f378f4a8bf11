"""registers: search index, destruction lists and approvals

Revision ID: 0011_registers
Revises: 0010_pki
Create Date: 2026-11-22

- The full-text index of documents (subject, number, sender and recipient, body paragraphs).
  SQLite: an FTS5 table ``search_text`` with the trigram tokenizer (Thai needs no spaces to be
  found), rowid = document id, kept in step with ``document`` by triggers. PostgreSQL: pg_trgm
  and a GIN trigram index over the same text, as an expression of the row.
- An index on register numbers (``register_entry.number``): finding a receive number.
- Destruction lists and the committee's approvals.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import edoc.storage.types

revision = "0011_registers"
down_revision = "0010_pki"
branch_labels = None
depends_on = None

_SQLITE_ROW = (
    "{p}.subject, coalesce({p}.number, ''), {p}.from_name || ' ' || {p}.to_name, "
    "coalesce((SELECT group_concat(value, ' ') FROM json_each({p}.fields_json, '$.body')), '')"
)

SQLITE_UP = [
    "CREATE VIRTUAL TABLE search_text USING fts5(subject, number, parties, body, tokenize = 'trigram')",
    "INSERT INTO search_text (rowid, subject, number, parties, body) SELECT d.id, "
    + _SQLITE_ROW.format(p="d")
    + " FROM document AS d",
    "CREATE TRIGGER search_text_ai AFTER INSERT ON document BEGIN "
    "INSERT INTO search_text (rowid, subject, number, parties, body) VALUES (new.id, "
    + _SQLITE_ROW.format(p="new")
    + "); END",
    "CREATE TRIGGER search_text_au AFTER UPDATE OF subject, number, from_name, to_name, fields_json ON document "
    "BEGIN DELETE FROM search_text WHERE rowid = old.id; "
    "INSERT INTO search_text (rowid, subject, number, parties, body) VALUES (new.id, "
    + _SQLITE_ROW.format(p="new")
    + "); END",
    "CREATE TRIGGER search_text_ad AFTER DELETE ON document BEGIN DELETE FROM search_text WHERE rowid = old.id; END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_text_ad",
    "DROP TRIGGER IF EXISTS search_text_au",
    "DROP TRIGGER IF EXISTS search_text_ai",
    "DROP TABLE IF EXISTS search_text",
]

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # One immutable function so that the index and the queries use the very same expression.
    "CREATE OR REPLACE FUNCTION edoc_search_text(subject text, number text, from_name text, to_name text, "
    "fields_json text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT subject || ' ' || coalesce(number, '') || ' ' || from_name || ' ' || to_name || ' ' || "
    "coalesce((SELECT string_agg(value, ' ') FROM jsonb_array_elements_text("
    "CASE WHEN jsonb_typeof(fields_json::jsonb -> 'body') = 'array' THEN fields_json::jsonb -> 'body' "
    "ELSE '[]'::jsonb END)), '') $$",
    "CREATE INDEX ix_document_search ON document USING gin "
    "(edoc_search_text(subject, number, from_name, to_name, fields_json) gin_trgm_ops)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_document_search",
    "DROP FUNCTION IF EXISTS edoc_search_text(text, text, text, text, text)",
]


def upgrade() -> None:
    op.create_table(
        "destruction_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("documents_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.Column("archives_reference", sa.Text(), nullable=True),
        sa.Column("archives_by", sa.String(length=64), nullable=True),
        sa.Column("archives_at", edoc.storage.types.UTCDateTime(), nullable=True),
        sa.Column("destroyed_by", sa.String(length=64), nullable=True),
        sa.Column("destroyed_at", edoc.storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("destruction_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_destruction_list_agency_id"), ["agency_id"], unique=False)
    op.create_table(
        "destruction_approval",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("approved_at", edoc.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["destruction_list.id"]),
        sa.PrimaryKeyConstraint("list_id", "username"),
    )
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.create_index("ix_register_number_text", ["number"], unique=False)
        batch_op.create_index("ix_register_page", ["agency_id", "book", "year", "seq", "series"], unique=False)
    statements = PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_register_page")
        batch_op.drop_index("ix_register_number_text")
    op.drop_table("destruction_approval")
    with op.batch_alter_table("destruction_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destruction_list_agency_id"))
    op.drop_table("destruction_list")
