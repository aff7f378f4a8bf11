"""``edoc demo --documents N``: the year in fast forward, then the audit log verified."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edoc.office import open_office
from tests.conftest import drop_pg_database, invoke, new_pg_database


def _registers_of_the_year(
    home: Path, start: datetime, db: str | None = None
) -> dict[str, list[tuple[str, str, int, str]]]:
    """Every register row (both books, every agency) the year made: (agency, series, seq, action)
    per book, and a check that each series of each register numbers 1..k with no gap or repeat."""
    rows: dict[str, list[tuple[str, str, int, str]]] = {"sent": [], "received": []}
    with open_office(home, db) as office:
        for agency in office.list_agencies():
            for book in ("sent", "received"):
                for year in range(start.year + 543, start.year + 545):
                    page = office.register(agency.code, book, year=year)
                    seqs: dict[str, list[int]] = defaultdict(list)
                    for r in page.rows:
                        seqs[r.series].append(r.seq)
                        if r.registered_at is not None and r.registered_at >= start:
                            rows[book].append((agency.code, r.series, r.seq, r.action))
                    for series, numbers in seqs.items():
                        assert sorted(numbers) == list(range(1, len(numbers) + 1)), (agency.code, book, year, series)
    return rows


@pytest.mark.parametrize("workers", ["1", "2"])
def test_year_in_fast_forward(tmp_path: Path, workers: str) -> None:
    home = tmp_path / "demo"
    r = invoke("--json", "demo", "--documents", "40", "--workers", workers, home=home)
    assert r.code == 0, r.stderr
    steps = {s["step"]: s for s in r.json()["steps"]}
    names = [s["step"] for s in r.json()["steps"]]
    assert names.index("year") == len(names) - 2 and names[-1] == "audit"  # last before the audit
    year = steps["year"]["details"]
    assert year["documents"] == 40 and year["errors"] == {} and year["workers"] == int(workers)
    # documents 0-2, 5 of every ten are sent (5: a circular to three agencies), 3-4 kept, 6-9 from outside
    assert (year["letters"], year["circulars"], year["receipts"]) == (20, 4, 16)
    assert year["signed"] == year["letters"] + year["circulars"]  # each letter signed by its executive
    assert year["sent"] == 12 + 4 and year["delivered"] == 12 + 4 * 3 and year["received"] == year["delivered"]
    # every letter received from another agency routed there: proposed, endorsed, assigned or closed
    assert year["proposed"] == year["endorsed"] == year["closed"] == 12 and 0 < year["assigned"] <= 12
    # everything filed: the originals, the copies registered in other agencies, the outside letters
    assert year["filed"] == 40 + year["received"] and year["filed_1y"] > 0
    destruction = year["destruction"]
    assert destruction["agency"] == "PAKCHONG" and destruction["destroyed"] > 0
    # the registers agree: one sent row per letter, one received row per receipt, all filed
    rows = _registers_of_the_year(home, datetime.fromisoformat(year["start"]))
    assert len(rows["sent"]) == year["letters"] + year["circulars"]
    assert len(rows["received"]) == year["receipts"] + year["received"]
    assert all(action.startswith("เก็บ") for book in rows.values() for *_, action in book)
    audit = steps["audit"]["details"]
    assert audit["events"] > 40 * 5  # every act recorded; the audit step verified the whole log


def test_year_on_postgresql_in_two_processes(pg_server: str, tmp_path: Path) -> None:
    """The scale path: two worker processes, each with its own office, on one PostgreSQL."""
    url, name = new_pg_database(pg_server)
    try:
        home = tmp_path / "demo"
        r = invoke("--json", "--db", url, "demo", "--documents", "20", "--workers", "2", home=home)
        assert r.code == 0, r.stderr
        steps = {s["step"]: s for s in r.json()["steps"]}
        year = steps["year"]["details"]
        assert year["errors"] == {} and year["workers"] == 2
        assert (year["letters"], year["circulars"], year["receipts"]) == (10, 2, 8)
        assert year["received"] == year["delivered"] == 6 + 2 * 3 and year["closed"] == 6
        assert year["filed"] == 20 + year["received"]
        rows = _registers_of_the_year(home, datetime.fromisoformat(year["start"]), url)
        assert len(rows["sent"]) == 12 and len(rows["received"]) == 8 + year["received"]
        assert steps["audit"]["details"]["events"] > 20 * 5
    finally:
        drop_pg_database(pg_server, name)


def test_a_failed_worker_is_an_edoc_error_naming_the_worker_and_the_cause(sqlite_office: object) -> None:
    """A worker that raises something it did not expect (here: a plan whose agencies have no
    clerk, a KeyError in the worker process) fails the year with WorkerFailed, exit code 6,
    naming each worker process and what it reported, not with a bare RuntimeError."""
    from edoc.errors import WorkerFailed, exit_code_for
    from edoc.pilot.year import YearPlan, _in_workers

    plan = YearPlan(
        total=2,
        people={"NOBODY-A": {}, "NOBODY-B": {}},
        agencies=["NOBODY-A", "NOBODY-B"],
        committee=frozenset(),
        start=datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        step=timedelta(hours=1),
    )
    with pytest.raises(WorkerFailed) as caught:
        _in_workers(sqlite_office, plan, 2, lambda n: None)  # type: ignore[arg-type]
    err = caught.value
    assert err.worker in ("edoc-year-0", "edoc-year-1")
    assert err.cause == "KeyError: 'clerk'"
    other = "edoc-year-1" if err.worker == "edoc-year-0" else "edoc-year-0"
    assert err.detail == f"also {other}: KeyError: 'clerk'"
    assert exit_code_for(err) == 6
    assert err.message("en") == f"worker {err.worker} failed: KeyError: 'clerk': also {other}: KeyError: 'clerk'"


def test_a_worker_killed_without_reporting_is_named_with_its_signal() -> None:
    from edoc.pilot.year import _ended

    assert _ended(-9) == "killed by SIGKILL without reporting"
    assert _ended(3) == "ended with exit code 3 without reporting"
