"""Crash tests: SIGKILL edoc processes at random points, restart, re-run, check nothing is lost.

The harness is :mod:`tests.crash` (its docstring says what it kills and what it checks: numbering,
imports, user adds, letters signed, sent to two agencies and received there through the office,
audit appends). Here it runs with 110 kills on SQLite and 110 on PostgreSQL (220 in all), then
``edoc audit verify`` (a separate process) must pass on what is left. A second test damages a
finished home in the ways a crash could (a file gone, a file changed, a number twice, a
consignment lost, a document received twice, a row pointing at the PDF before its stamp) and
shows the checks see each.

Marked ``slow`` (``-m "not slow"`` skips them); CI runs them: a few minutes per database on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
KILLS = int(os.environ.get("EDOC_CRASH_KILLS", "110"))
"""Kills per database (the issue asks for at least 200 in all: 110 on each of two)."""

pytestmark = pytest.mark.slow


def harness(home: Path, db_url: str | None, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "tests.crash", "--home", str(home), *args]
    if db_url:
        argv += ["--db", db_url]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=1200)
    assert r.stdout, r.stderr[:6000]
    report: dict[str, Any] = json.loads(r.stdout)
    report["_rc"] = r.returncode
    report["_stderr"] = r.stderr[:6000]
    return report


def test_kills_lose_and_double_nothing(tmp_path: Path, db_url: str | None) -> None:
    from tests.crash import RECIPIENTS, SAMPLE, SEND_POINTS

    home = tmp_path / "home"
    report = harness(home, db_url, "--kills", str(KILLS), "--lanes", "2", "--seed", "7")
    assert report["ok"] and report["_rc"] == 0, (report["problems"], report["_stderr"])
    assert report["kills"] == KILLS
    assert report["kills_in_act"] >= KILLS * 0.8  # kills land in acts, not in start-up
    acts = report["acts"]
    kinds = ("draft", "number", "signed", "import", "user", "letter", "sign", "send", "receive")
    assert isinstance(acts, dict) and all(acts.get(k, 0) > 0 for k in kinds)
    killed = report["kills_by_act"]
    assert isinstance(killed, dict) and all(killed.get(k, 0) > 0 for k in ("sign", "send", "receive")), killed
    # some sends die between (or in) their transactions, at each fault point; each is completed
    # by running the same send again
    aimed = report["kills_aimed"]
    assert isinstance(aimed, dict) and set(aimed) == set(SEND_POINTS), aimed
    assert report["sends_resumed"] >= sum(aimed.values())  # runs that found a send half done
    # attachments of drafts, outside PDFs, signed letters, received copies (stamped): each its blob
    assert report["blobs_read_back"] == acts["draft"] + acts["signed"] + acts["import"] + acts["sign"] + acts["receive"]
    assert report["deliveries"] == len(RECIPIENTS) * acts["send"] and report["received"] == acts["receive"]
    # submission-accepted and delivered per consignment, registered once received
    assert report["evidence_records_checked"] == 2 * report["deliveries"] + acts["receive"]
    # every PDF a row points at is the one its last audit event names: imports, letters, copies
    assert report["pdfs_matching_log"] == acts["signed"] + acts["import"] + acts["sign"] + report["deliveries"]
    assert report["pdfs_validated"] == min(SAMPLE, acts["sign"]) + min(SAMPLE, acts["receive"])
    # an independent process verifies the audit log the killed processes left
    r = run_cli("audit", "verify", "--json", *(["--db", db_url] if db_url else []), home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["ok"] is True


def test_the_checks_see_what_a_bad_crash_would_leave(tmp_path: Path) -> None:
    """Lose a file, change a file, issue a number twice, lose a consignment, receive a document
    twice, leave a row pointing at the PDF before its stamp: each is reported."""
    import sqlite3

    home = tmp_path / "home"
    report = harness(home, None, "--kills", "6", "--lanes", "1", "--seed", "3")
    assert report["ok"], report["problems"]
    from tests import crash

    acts = {0: sum(v for v in report["acts"].values())}
    conn = sqlite3.connect(home / "edoc.db")
    # files rows point at (kills leave orphan files too: losing one of those is no loss)
    (outside,) = conn.execute("SELECT pdf_sha256 FROM document WHERE subject = ?", (crash.subject("import", "L0-3"),))
    (attached,) = conn.execute("SELECT sha256 FROM attachment ORDER BY id LIMIT 1")
    blobs = [home / "blobs" / digest[:2] / digest for (digest,) in (outside, attached)]
    blobs[0].unlink()
    blobs[1].write_bytes(blobs[1].read_bytes() + b"x")
    with conn:
        conn.execute(
            "INSERT INTO register_entry (agency_id, book, series, year, seq, number, document_id, registered_at,"
            " document_number, document_date, from_name, to_name, subject, action, remark, cancelled)"
            " SELECT agency_id, book, series, year, seq + 2, number || '-dup', document_id, registered_at,"
            " document_number, document_date, from_name, to_name, subject, action, remark, cancelled"
            " FROM register_entry WHERE book = 'sent' ORDER BY seq DESC LIMIT 1"
        )
        (letter,) = conn.execute(
            "SELECT id FROM document WHERE origin = 'drafted' AND subject = ?", (crash.subject("letter", "L0-4"),)
        ).fetchone()
        by_code = dict(conn.execute("SELECT code, id FROM agency").fetchall())
        lost, _ = conn.execute(
            "SELECT id, copy_id FROM delivery WHERE document_id = ? AND recipient_id = ?", (letter, by_code["SIKHIU"])
        ).fetchone()
        conn.execute("DELETE FROM delivery_evidence WHERE delivery_id = ?", (lost,))
        conn.execute("DELETE FROM delivery WHERE id = ?", (lost,))
        (copy,) = conn.execute(
            "SELECT copy_id FROM delivery WHERE document_id = ? AND recipient_id = ?",
            (letter, by_code["PAKCHONG-DIST"]),
        ).fetchone()
        conn.execute(
            "UPDATE document SET pdf_sha256 = (SELECT pdf_sha256 FROM document WHERE id = ?) WHERE id = ?",
            (letter, copy),
        )
        conn.execute(
            "INSERT INTO register_entry (agency_id, book, series, year, seq, number, document_id, registered_at,"
            " document_number, document_date, from_name, to_name, subject, action, remark, cancelled)"
            " SELECT agency_id, book, series, year,"
            " (SELECT max(seq) + 1 FROM register_entry r WHERE r.agency_id = e.agency_id AND r.book = e.book),"
            " number || '-dup', document_id, registered_at,"
            " document_number, document_date, from_name, to_name, subject, action, remark, cancelled"
            " FROM register_entry e WHERE book = 'received' AND document_id = ?",
            (copy,),
        )
    conn.close()
    damaged = crash.check(home, None, acts)
    problems = "\n".join(damaged["problems"])
    assert not damaged["ok"]
    assert "BlobMissing" in problems and "BlobCorrupted" in problems  # the lost file, the changed file
    assert "skipped [" in problems and "more than one outgoing number" in problems  # the number issued twice
    assert "blob store:" in problems  # the store's own check agrees
    assert "delivered to ['PAKCHONG-DIST']" in problems  # the consignment lost
    assert f"received twice: documents [{copy}]" in problems  # a second receive number
    assert f"document {copy}: stored PDF" in problems  # the row points at the PDF before the stamp
