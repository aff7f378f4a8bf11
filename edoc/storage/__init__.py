"""Storage: sqlmodel tables, engines, migrations and the blob store.

The only package that imports sqlmodel, SQLAlchemy or alembic (enforced by import-linter).
"""
