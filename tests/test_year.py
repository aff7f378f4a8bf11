"""``edoc demo --documents N``: the year in fast forward, then the audit log verified."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import invoke


def test_year_in_fast_forward(tmp_path: Path) -> None:
    r = invoke("--json", "demo", "--documents", "40", home=tmp_path / "demo")
    assert r.code == 0, r.stderr
    steps = {s["step"]: s for s in r.json()["steps"]}
    names = [s["step"] for s in r.json()["steps"]]
    assert names.index("year") == len(names) - 2 and names[-1] == "audit"  # last before the audit
    year = steps["year"]["details"]
    assert year["documents"] == 40 and year["errors"] == {}
    assert year["letters"] > 0 and year["circulars"] > 0 and year["receipts"] > 0
    assert year["letters"] + year["circulars"] + year["receipts"] == 40
    assert year["signed"] == year["letters"] + year["circulars"]  # each letter signed by its executive
    assert year["filed"] == 40 and year["filed_1y"] > 0  # signed letters and received ones
    destruction = year["destruction"]
    assert destruction["agency"] == "PAKCHONG" and destruction["destroyed"] > 0
    audit = steps["audit"]["details"]
    assert audit["events"] > 40 * 2  # every act recorded; the audit step verified the whole log
