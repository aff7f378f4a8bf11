"""Schema migrations: alembic scripts shipped inside the package.

``upgrade`` runs them (``edoc init``); ``head_revision`` and ``current_revision`` let every other
command check the schema cheaply, without importing alembic.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from edoc.storage.revision import head_revision

__all__ = ["current_revision", "head_revision", "upgrade"]


def current_revision(conn: Connection) -> str | None:
    """The revision stamped in the database, or None for an empty database."""
    try:
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except (OperationalError, ProgrammingError):
        conn.rollback()
        return None
    return None if row is None else str(row[0])


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; safe to run again and from two processes."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "edoc.storage:migrations")
    with engine.execution_options(edoc_write=True).begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two `edoc init` at once: the second waits here, then finds nothing to do.
            conn.execute(text("SELECT pg_advisory_xact_lock(7303626)"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return head_revision()
