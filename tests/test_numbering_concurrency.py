"""Numbers under concurrency: several processes numbering at once against one database.

Every number 1..N*500 exactly once, on one SQLite home and on PostgreSQL; processes racing to
number the same documents give each document exactly one number.

These tests are about locking, not about the disk: 4,000 acts are 4,000 commits, each waiting
for an fsync that costs 10-80 ms on a busy shared CI disk. So the SQLite home lives on tmpfs
(``/dev/shm``, where fsync returns at once) and the PostgreSQL test database commits with
``synchronous_commit = off``. Neither changes what the code does or which locks it takes:
transactions, ``BEGIN IMMEDIATE``, row locks and visibility are exactly as in production; only
the wait for the platter is gone. Durability itself is the storage layer's own tests' subject.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from edoc.office import Office, init_office, open_office
from tests.fixtures_registers import build_directory, bulk_drafts, new_drafts

PROCESSES = 8
PER_PROCESS = 500
RACED = 40


def _worker(home: str, db_url: str | None, ids: list[int], start: object, out: object) -> None:
    """Number ``ids`` (in a shuffled order) as soon as ``start`` is set; report the outcome."""
    from edoc.errors import AlreadyNumbered

    numbered: list[tuple[int, int]] = []
    refused = 0
    with open_office(home, db_url) as office:
        order = list(ids)
        random.Random(os.getpid()).shuffle(order)
        start.wait()  # type: ignore[attr-defined]
        for doc_id in order:
            try:
                numbered.append((doc_id, office.number_document(doc_id, as_user="clerk").seq))
            except AlreadyNumbered:
                refused += 1
    out.put((numbered, refused))  # type: ignore[attr-defined]


def _run_workers(home: Path, db_url: str | None, work: list[list[int]]) -> list[tuple[list[tuple[int, int]], int]]:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(home), db_url, ids, start, out)) for ids in work]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def _stored(office: Office) -> tuple[list[int], dict[int, str], int]:
    """(register seqs, document id -> number, counter value) as stored."""
    from sqlmodel import select

    from edoc.storage.tables import CounterRow, DocumentRow, RegisterEntryRow

    def read(session: object) -> tuple[list[int], dict[int, str], int]:
        seqs = list(session.exec(select(RegisterEntryRow.seq).where(RegisterEntryRow.book == "sent")))  # type: ignore[attr-defined]
        numbers = {
            i: n
            for i, n in session.exec(select(DocumentRow.id, DocumentRow.number).where(DocumentRow.number.is_not(None)))  # type: ignore[attr-defined, union-attr]
        }
        counter = session.exec(select(CounterRow.last).where(CounterRow.series == "out")).one()  # type: ignore[attr-defined]
        return seqs, numbers, counter

    return office._read(read)  # type: ignore[arg-type]


@pytest.fixture
def fast_home(tmp_path: Path, db_url: str | None) -> Iterator[Path]:
    """A home on tmpfs for SQLite; ``synchronous_commit = off`` for the PostgreSQL database."""
    if db_url is not None:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(db_url)
        with psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
        ) as c:
            c.execute(f'ALTER DATABASE "{url.database}" SET synchronous_commit TO off')
        yield tmp_path / "home"
        return
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path / "home"
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="edoc-test-") as tmp:
        yield Path(tmp) / "home"


@pytest.mark.slow
def test_processes_number_without_gaps_or_duplicates(fast_home: Path, db_url: str | None) -> None:
    home = fast_home
    init_office(home, db_url)
    with open_office(home, db_url) as office:
        build_directory(office)
        ids = bulk_drafts(office, "officer", PROCESSES * PER_PROCESS)
    work = [ids[i::PROCESSES] for i in range(PROCESSES)]
    results = _run_workers(home, db_url, work)
    issued = [seq for numbered, _ in results for _, seq in numbered]
    assert sorted(issued) == list(range(1, PROCESSES * PER_PROCESS + 1))
    with open_office(home, db_url) as office:
        seqs, numbers, counter = _stored(office)
        events = [e for e in office.audit_events() if e.act == "doc.number"]
    assert sorted(seqs) == list(range(1, PROCESSES * PER_PROCESS + 1))
    assert counter == PROCESSES * PER_PROCESS
    assert len(set(numbers.values())) == len(numbers) == PROCESSES * PER_PROCESS
    by_doc = {doc: seq for numbered, _ in results for doc, seq in numbered}
    assert all(numbers[doc] == f"นม 52101/{seq}" for doc, seq in by_doc.items())
    assert len(events) == PROCESSES * PER_PROCESS
    assert [e.seq for e in office.audit_events()] == list(range(len(office.audit_events())))


@pytest.mark.slow
def test_racing_for_the_same_documents_gives_one_number_each(fast_home: Path, db_url: str | None) -> None:
    home = fast_home
    init_office(home, db_url)
    with open_office(home, db_url) as office:
        build_directory(office)
        ids = new_drafts(office, "officer", RACED)
    results = _run_workers(home, db_url, [ids] * PROCESSES)
    issued = [(doc, seq) for numbered, _ in results for doc, seq in numbered]
    refused = sum(r for _, r in results)
    assert sorted(seq for _, seq in issued) == list(range(1, RACED + 1))
    assert Counter(doc for doc, _ in issued) == Counter(ids)
    assert refused == RACED * (PROCESSES - 1)
    with open_office(home, db_url) as office:
        seqs, numbers, counter = _stored(office)
    assert sorted(seqs) == list(range(1, RACED + 1)) and counter == RACED and len(numbers) == RACED
