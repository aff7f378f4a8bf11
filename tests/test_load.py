"""Load: 8 clerk processes at once on one SQLite home and one PostgreSQL database.

A short run of :mod:`benchmarks.load` (``python -m benchmarks.load`` runs the full minute and
prints throughput and p95 per act): every clerk does every kind of act (draft, import, number,
receive with the seal's stamp, search, register, show), then more at random for a few seconds.
No act may fail: lock waits are retried inside the act and only counted. Afterwards every
series is 1..n, no document has two numbers in one register, and the audit log verifies.
Nothing here is timed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import load

pytestmark = pytest.mark.slow


def test_eight_clerks_at_once(tmp_path: Path, db_url: str | None) -> None:
    home = tmp_path / "home"
    load.setup(home, db_url, 8)
    summary = load.summarise(load.run_clerks(home, db_url, 8, seconds=3.0, seed=5, min_acts=len(load.FIRST) + 2))
    assert summary["errors"] == []
    assert set(summary["acts"]) == set(load.MIX)  # every kind of act was done, by every clerk at least once
    assert summary["acts"]["receive"]["count"] >= 8 and summary["acts"]["number"]["count"] >= 8
    assert summary["total"] >= 8 * (len(load.FIRST) + 2)
    assert load.check(home, db_url) == []


def test_check_sees_a_number_issued_twice(tmp_path: Path) -> None:
    """The load test's check is not blind: a duplicated receive number is reported."""
    import sqlite3

    home = tmp_path / "home"
    load.setup(home, None, 2)
    summary = load.summarise(load.run_clerks(home, None, 2, seconds=0.0, seed=1, min_acts=len(load.FIRST)))
    assert summary["errors"] == [] and load.check(home, None) == []
    conn = sqlite3.connect(home / "edoc.db")
    with conn:
        conn.execute(
            "INSERT INTO register_entry (agency_id, book, series, year, seq, number, document_id, registered_at,"
            " document_number, document_date, from_name, to_name, subject, action, remark, cancelled)"
            " SELECT agency_id, book, series, year, seq + 1, number, document_id, registered_at,"
            " document_number, document_date, from_name, to_name, subject, action, remark, cancelled"
            " FROM register_entry WHERE book = 'received' ORDER BY seq DESC LIMIT 1"
        )
    conn.close()
    assert any("two numbers" in p for p in load.check(home, None))


def test_three_hosts_on_one_postgresql(tmp_path: Path, db_url: str | None) -> None:
    """PostgreSQL as the scale path: clerks on three "hosts" (three homes that share nothing but
    the database URL and a shared blob directory) work at once; each host sees the others' work."""
    if db_url is None:
        pytest.skip("several hosts share a PostgreSQL database, not a SQLite file")
    shared = tmp_path / "shared-blobs"  # what an NFS mount would be
    first = tmp_path / "host-a"
    load.setup(first, db_url, 6, blob_dir=shared)
    hosts = [first, tmp_path / "host-b", tmp_path / "host-c"]
    for home in hosts[1:]:
        load.add_host(home, db_url, blob_dir=shared)
        assert sorted(p.name for p in home.iterdir()) == ["edoc.toml"]  # no key, no blob, no database here
    summary = load.summarise(
        load.run_clerks(first, db_url, 6, seconds=2.0, seed=9, min_acts=len(load.FIRST), hosts=hosts)
    )
    assert summary["errors"] == [] and set(summary["acts"]) == set(load.MIX)
    for home in hosts:  # every host reads every blob and verifies the whole log
        assert load.check(home, db_url) == []
    assert any(shared.rglob("*")), "the PDFs went to the shared blob directory"
