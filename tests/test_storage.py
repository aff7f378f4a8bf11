"""The storage layer on SQLite and PostgreSQL: one module, parametrised over both."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from edoc.errors import AlreadyExists, BlobMissing, InvalidDatabaseUrl, SchemaOutdated
from edoc.office import Office, init_office, open_office
from edoc.storage.blobs import BlobCorrupted, DirectoryBlobStore
from edoc.storage.database import Database
from edoc.storage.revision import head_revision


def test_init_is_idempotent(home: Path, db_url: str | None) -> None:
    first = init_office(home, db_url, name="one")
    second = init_office(home, db_url)
    assert first.created and not second.created
    assert first.revision == second.revision == head_revision()
    with open_office(home, db_url) as office:
        acts = [e.act for e in office.audit_events()]
    assert acts == ["office.init"], "re-running init must not record a second migration"


def test_sqlite_pragmas(sqlite_office: Office) -> None:
    with sqlite_office.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_sqlite_write_lock_timeout_is_busy_and_retried(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE goes to the driver directly: a lock timeout must still be Busy (retried
    by Transactions.run, then raised), and the next act must go through once the lock is gone."""
    import sqlite3

    from edoc.errors import Busy
    from edoc.storage.engine import Transactions, make_engine

    path = tmp_path / "lock.db"
    tx = Transactions(make_engine(f"sqlite:///{path}", busy_timeout_ms=50), retries=1)
    tx.run(lambda s: s.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(Busy):
        tx.run(lambda s: s.connection().exec_driver_sql("INSERT INTO t VALUES (1)"))
    other.execute("COMMIT")
    other.close()
    tx.run(lambda s: s.connection().exec_driver_sql("INSERT INTO t VALUES (2)"))
    assert tx.run(lambda s: s.connection().exec_driver_sql("SELECT x FROM t").scalars().all(), write=False) == [2]
    tx.engine.dispose()


def test_migrations_match_models(office: Office) -> None:
    """The schema the migrations build is exactly what the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from edoc.storage.tables import include_name

    with office.db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_older_schema_is_refused_then_migrated(home: Path, db_url: str | None) -> None:
    init_office(home, db_url)
    office = open_office(home, db_url)
    with office.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    office.close()
    with pytest.raises(SchemaOutdated):
        open_office(home, db_url)
    with office.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))
    open_office(home, db_url).close()


def test_failed_act_writes_nothing(office: Office) -> None:
    office.add_agency("A1", name="หน่วยงานหนึ่ง", letter_code="นม 1")
    before = len(office.audit_events())
    with pytest.raises(AlreadyExists):
        office.add_agencies(
            [
                office.get_agency("A1").__class__("A2", "สอง", "นม 2"),
                office.get_agency("A1"),  # duplicate: the whole batch must roll back
            ]
        )
    assert [a.code for a in office.list_agencies()] == ["A1"]
    assert len(office.audit_events()) == before


def test_every_act_has_its_event(office: Office) -> None:
    office.add_agency("A1", name="หน่วยงานหนึ่ง", letter_code="นม 1")
    office.add_unit("A1", "U1", name="กองหนึ่ง")
    office.add_user("u.one", agency="A1", full_name="นายหนึ่ง ทดสอบ", position="ทดสอบ", role="clerk", unit="U1")
    events = office.audit_events()
    assert [e.act for e in events] == ["office.init", "agency.add", "unit.add", "user.add"]
    assert [e.seq for e in events] == list(range(len(events)))
    assert events[3].payload["username"] == "u.one"


def test_add_users_honours_active(office: Office) -> None:
    """A user added with ``active=False`` is stored disabled, may not act, and the log says so."""
    from edoc.directory import Act, User
    from edoc.errors import InvalidField, PermissionDenied

    office.add_agency("A1", name="หน่วยงานหนึ่ง", letter_code="นม 1")
    office.add_users(
        [
            User("u.on", "A1", "นายเปิด ทดสอบ", "ทดสอบ", "clerk"),  # type: ignore[arg-type]
            User("u.off", "A1", "นายปิด ทดสอบ", "ทดสอบ", "clerk", active=False),  # type: ignore[arg-type]
        ]
    )
    assert office.get_user("u.on").active is True
    assert office.get_user("u.off").active is False
    office.check_permission("u.on", Act.RECEIVE, "A1")
    with pytest.raises(PermissionDenied, match="disabled"):
        office.check_permission("u.off", Act.RECEIVE, "A1")
    payloads = {e.payload["username"]: e.payload for e in office.audit_events() if e.act == "user.add"}
    assert payloads["u.off"]["active"] is False and "active" not in payloads["u.on"]
    with pytest.raises(InvalidField):
        office.add_users([User("u.bad", "A1", "นายผิด ทดสอบ", "ทดสอบ", "clerk", active="no")])  # type: ignore[arg-type]
    assert {u.username for u in office.list_users("A1")} == {"u.on", "u.off"}  # the bad batch stored nothing


def test_blobs_round_trip(office: Office) -> None:
    data = b"%PDF-1.7 pretend" * 100
    with office.db.tx.session(write=True) as s:
        digest = office.db.blobs.put(s, data)
        assert office.db.blobs.put(s, data) == digest  # idempotent
    with office.db.tx.session(write=False) as s:
        assert office.db.blobs.get(s, digest) == data
        assert office.db.blobs.check(s) == []
        with pytest.raises(BlobMissing):
            office.db.blobs.get(s, "0" * 64)


def test_blob_written_before_row_and_rollback_leaves_orphan_only(sqlite_office: Office) -> None:
    store = sqlite_office.db.blobs
    assert isinstance(store, DirectoryBlobStore)
    data = b"never committed"

    class Boom(Exception):
        pass

    with pytest.raises(Boom), sqlite_office.db.tx.session(write=True) as s:
        digest = store.put(s, data)
        assert store.path(digest).read_bytes() == data  # durable before the row exists
        raise Boom
    with sqlite_office.db.tx.session(write=False) as s:
        problems = store.check(s)
    assert [(p.sha256, p.problem) for p in problems] == [(digest, "orphan")]


def test_corrupted_blob_is_reported(sqlite_office: Office) -> None:
    store = sqlite_office.db.blobs
    assert isinstance(store, DirectoryBlobStore)
    with sqlite_office.db.tx.session(write=True) as s:
        digest = store.put(s, b"original bytes")
    store.path(digest).write_bytes(b"tampered bytes")
    with sqlite_office.db.tx.session(write=False) as s:
        with pytest.raises(BlobCorrupted):
            store.get(s, digest)
        assert [p.problem for p in store.check(s)] == ["corrupted"]
    os.unlink(store.path(digest))
    with sqlite_office.db.tx.session(write=False) as s:
        assert [p.problem for p in store.check(s)] == ["missing"]


def test_postgres_blobs_live_in_database(office: Office) -> None:
    if office.db.dialect != "postgresql":
        pytest.skip("SQLite keeps blobs in files")
    with office.db.tx.session(write=True) as s:
        digest = office.db.blobs.put(s, b"in the database")
    with office.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT data FROM blob WHERE sha256 = :d"), {"d": digest}).scalar()
    assert bytes(stored) == b"in the database"
    assert not (office.home / "blobs").exists()


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "foo://bar/baz",
        "sqlite://",
        "sqlite:///:memory:",
        "mysql://u@h/db",
        "postgresql+asyncpg://h/db",
        "postgresql://h",
    ],
)
def test_bad_database_urls(url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidDatabaseUrl):
        Database.open(tmp_path, url)
    assert list(tmp_path.iterdir()) == []


def test_postgres_url_without_driver_means_psycopg(tmp_path: Path) -> None:
    from edoc.storage.engine import parse_url

    assert parse_url("postgresql://u@127.0.0.1/x").drivername == "postgresql+psycopg"
