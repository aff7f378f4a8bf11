"""The office's database: engine, transactions, blob store and schema check, in one object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from edoc.errors import HomeNotInitialised, SchemaOutdated
from edoc.storage import migrate
from edoc.storage.blobs import BlobStore, DatabaseBlobStore, DirectoryBlobStore
from edoc.storage.engine import Transactions, is_sqlite, make_engine, parse_url, ping


def default_url(home: Path) -> str:
    """``sqlite:///<home>/edoc.db`` with an absolute path."""
    return f"sqlite:///{(Path(home) / 'edoc.db').resolve()}"


@dataclass
class Database:
    """Everything storage offers the office."""

    url: str
    engine: Engine
    tx: Transactions
    blobs: BlobStore

    @classmethod
    def open(cls, home: Path, url: str | None = None, *, blob_dir: str = "", busy_timeout_ms: int = 30000) -> Database:
        url = default_url(home) if url is None else url
        parse_url(url)  # refuse a malformed URL before anything touches the disk
        engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
        if blob_dir:
            blobs: BlobStore = DirectoryBlobStore(Path(blob_dir))
        elif is_sqlite(engine):
            blobs = DirectoryBlobStore(Path(home) / "blobs")
        else:
            blobs = DatabaseBlobStore()
        return cls(url=url, engine=engine, tx=Transactions(engine), blobs=blobs)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> str:
        """Run the migrations (``edoc init``)."""
        ping(self.engine)
        return migrate.upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision stamped in the database (None when empty)."""
        ping(self.engine)
        with self.engine.connect() as conn:
            return migrate.current_revision(conn)

    def check_schema(self, home: Path) -> None:
        """Refuse to work on a missing or older schema (a newer one is refused too)."""
        ping(self.engine)
        with self.engine.connect() as conn:
            found = migrate.current_revision(conn)
        needed = migrate.head_revision()
        if found is None:
            raise HomeNotInitialised(str(home))
        if found != needed:
            raise SchemaOutdated(found, needed)

    def overwrite_freed(self, session: object) -> None:
        """SQLite: from now on, in this transaction's connection, overwrite deleted and replaced
        content with zeros (``PRAGMA secure_delete``), so a value taken out of the clear (a
        restricted document sealed after the fact) does not linger in free pages. PostgreSQL
        keeps dead tuples until VACUUM (see docs/routing.md). Nothing on other databases."""
        from sqlalchemy import text
        from sqlmodel import Session

        assert isinstance(session, Session)
        if is_sqlite(self.engine):
            session.execute(text("PRAGMA secure_delete = ON"))

    def truncate_log(self) -> None:
        """SQLite: checkpoint the write-ahead log into the database and truncate it, so pages
        written before (older versions of rows) are not left in the ``-wal`` file."""
        from sqlalchemy import text

        if is_sqlite(self.engine):
            with self.engine.connect() as conn:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    def close(self) -> None:
        self.engine.dispose()

    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return parse_url(self.url).render_as_string(hide_password=True)
