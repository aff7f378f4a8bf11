"""Engines and transactions for SQLite and PostgreSQL.

SQLite runs in WAL mode with foreign keys on, ``synchronous=FULL`` (registers are legal
records) and a busy timeout, and write transactions start with ``BEGIN IMMEDIATE`` so that two
processes never deadlock upgrading a read lock. PostgreSQL runs at READ COMMITTED; acts that
must serialise take row locks, and deadlocks or serialisation failures are retried.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from edoc.errors import Busy, DatabaseUnavailable, InvalidDatabaseUrl

if TYPE_CHECKING:
    from edoc.storage.driver import Reader

T = TypeVar("T")

_PG_RETRY_CODES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def parse_url(url: str) -> URL:
    """Parse and check a database URL; ``postgresql://`` means ``postgresql+psycopg://``."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidDatabaseUrl(str(url), "empty")
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise InvalidDatabaseUrl(url, "not a SQLAlchemy URL (sqlite:///PATH or postgresql+psycopg://...)") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise InvalidDatabaseUrl(url, f"database {backend!r} is not supported (sqlite or postgresql)")
    driver = parsed.drivername.partition("+")[2]
    if backend == "sqlite":
        if driver not in ("pysqlite", ""):
            raise InvalidDatabaseUrl(url, f"SQLite driver {driver!r} is not supported")
        if not parsed.database or parsed.database == ":memory:":
            raise InvalidDatabaseUrl(url, "give a file path: an in-memory database cannot be shared between commands")
        return parsed
    if backend == "postgresql":
        if driver not in ("psycopg", ""):
            raise InvalidDatabaseUrl(url, f"PostgreSQL driver {driver!r} is not supported; use postgresql+psycopg://")
        if not parsed.database:
            raise InvalidDatabaseUrl(url, "no database name")
        return parsed.set(drivername="postgresql+psycopg")
    raise AssertionError("unreachable")  # pragma: no cover


def make_engine(url: str, *, busy_timeout_ms: int = 30000) -> Engine:
    """An engine for ``url`` with edoc's connection settings."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, busy_timeout_ms)
        return _pg_engine(parsed)
    except NoSuchModuleError as exc:  # pragma: no cover - depends on installed drivers
        raise InvalidDatabaseUrl(url, str(exc)) from exc


def _pg_engine(url: URL) -> Engine:
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)

    @event.listens_for(engine, "do_connect")
    def _name(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        # Operators (and the crash tests) tell edoc's processes apart in pg_stat_activity; the
        # pid is taken at connect time, so a forked worker names its own connections.
        cparams.setdefault("application_name", f"edoc pid {os.getpid()}")

    return engine


def _sqlite_engine(url: URL, busy_timeout_ms: int) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: SQLAlchemy's statement machinery cost a fifth of a small act's
        # transaction. A lock timeout becomes Busy (retried by Transactions.run), as it would
        # through SQLAlchemy.
        statement = "BEGIN IMMEDIATE" if conn.get_execution_options().get("edoc_write", False) else "BEGIN"
        try:
            conn.connection.driver_connection.execute(statement)
        except sqlite3.OperationalError as exc:
            raise _translate_driver(exc) from exc

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@dataclass
class Transactions:
    """Opens sessions: one transaction per act, retried when the database says so."""

    engine: Engine
    retries: int = 8

    def __post_init__(self) -> None:
        self._write_bind = self.engine.execution_options(edoc_write=True)

    @contextmanager
    def session(self, *, write: bool) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        bind = self._write_bind if write else self.engine
        try:
            with Session(bind, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except OperationalError as exc:
            raise _translate(exc) from exc

    def read_driver(self, fn: Callable[[Reader], T]) -> T:
        """Run ``fn`` in one read transaction on a pooled driver connection, without a Session
        (for reads on hot paths: a Session costs about ten times the queries of a register page).
        The transaction is rolled back at the end: nothing is written through it."""
        from edoc.storage.driver import Reader

        try:
            pooled = self.engine.raw_connection()
        except OperationalError as exc:
            raise _translate(exc) from exc
        try:
            raw = pooled.driver_connection
            sqlite = self.engine.dialect.name == "sqlite"
            cursor = raw.cursor()  # type: ignore[union-attr]
            try:
                if sqlite:
                    cursor.execute("BEGIN")  # the connection runs without pysqlite's transactions
                try:
                    return fn(Reader(cursor, sqlite))
                finally:
                    raw.rollback()  # type: ignore[union-attr]
            except self.engine.dialect.loaded_dbapi.OperationalError as exc:  # sqlite3's or psycopg's own
                raise _translate_driver(exc) from exc
            finally:
                cursor.close()
        finally:
            pooled.close()  # back to the pool

    def run(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``fn(session)`` in one transaction, retrying lock timeouts and deadlocks."""
        delay = 0.02
        for attempt in range(self.retries + 1):
            try:
                with self.session(write=write) as session:
                    return fn(session)
            except (Busy, DBAPIError) as exc:
                if attempt == self.retries or not _retryable(exc):
                    if isinstance(exc, DBAPIError):
                        raise _translate(exc) from exc
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")  # pragma: no cover


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, Busy):
        return True
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        if code in _PG_RETRY_CODES:
            return True
        return "database is locked" in str(exc.orig)
    return False


def _translate(exc: DBAPIError) -> Exception:
    message = str(exc.orig)
    if "database is locked" in message:
        return Busy()
    if isinstance(exc, OperationalError):
        return DatabaseUnavailable(message.strip().splitlines()[0] if message.strip() else repr(exc))
    return exc


def _translate_driver(exc: Exception) -> Exception:
    message = str(exc).strip()
    if "database is locked" in message:
        return Busy()
    return DatabaseUnavailable(message.splitlines()[0] if message else repr(exc))


def ping(engine: Engine) -> None:
    """Connect once; raise :class:`DatabaseUnavailable` when that fails."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise _translate(exc) from exc
