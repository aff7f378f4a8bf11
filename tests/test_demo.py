"""``edoc demo`` builds the pilot and prints it."""

from __future__ import annotations

from pathlib import Path

from edoc.pilot.directory import province_agencies, province_users
from tests.conftest import invoke, run_cli


def test_demo_prints_the_pilot(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    r = run_cli("demo", home=home, timeout=1200)  # the whole flow: slow on a busy machine
    assert r.returncode == 0, r.stderr
    for text in ("เทศบาลเมืองปากช่อง", "อำเภอปากช่อง", "จังหวัดนครราชสีมา", "pc.mayor", "directory"):
        assert text in r.stdout
    again = invoke("demo", home=home)
    assert again.code == 5 and "--reset" in again.stderr
    reset = invoke("--json", "demo", "--reset", home=home)
    assert reset.code == 0, reset.stderr
    assert reset.json()["steps"][0]["details"]["agencies"] == 6


def test_province_sized_directory_is_generated_deterministically() -> None:
    agencies = province_agencies(343)
    users = province_users(agencies, 15219)
    assert len(agencies) == 343 and len({a.code for a, _ in agencies}) == 343
    assert len(users) == 15219 and len({u.username for u in users}) == 15219
    assert users == province_users(province_agencies(343), 15219)
    by_agency: dict[str, set[str]] = {}
    for u in users:
        by_agency.setdefault(u.agency, set()).add(u.role.value)
    assert all({"executive", "clerk"} <= roles for roles in by_agency.values())


def test_demo_province_scale_json(tmp_path: Path) -> None:
    r = invoke("--json", "demo", "--agencies", "120", "--users", "2000", home=tmp_path / "p")
    assert r.code == 0, r.stderr
    details = r.json()["steps"][0]["details"]
    assert (details["agencies"], details["users"]) == (120, 2000)
