"""``python -m benchmarks`` runs every benchmark module and reports each figure beside its peer.

Sizes here are tiny: this keeps the runner (and each module's ``suite``) from rotting; the
figures themselves are not asserted (no timed assertions in unit tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from benchmarks import run as runner
from benchmarks.common import Result

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_is_discovered() -> None:
    names = runner.discover()
    assert {"audit", "signing", "startup"} <= set(names)
    assert not set(names) & runner.SHARED
    on_disk = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - runner.SHARED - {"__init__"}
    assert set(names) == on_disk


def test_quick_tiny_run_reports_every_module_as_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=1800,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["machine"]["cores"] == os.cpu_count()
    assert data["size"] == "tiny" and data["errors"] == []
    modules = {row["module"] for row in data["results"]}
    assert modules == set(runner.discover())
    for row in data["results"]:
        assert row["name"] and row["unit"] and isinstance(row["value"], float | int)
        if row["peer_value"]:
            assert row["ratio"] == pytest.approx(row["value"] / row["peer_value"])
    databases = {row["database"] for row in data["results"] if row["module"] == "audit"}
    assert databases == ({"sqlite", "postgresql"} if os.environ.get("EDOC_TEST_PG_URL") else {"sqlite"})
    # the same figures, as a table on stdout
    assert "edoc benchmarks (tiny)" in r.stdout and "ratio" in r.stdout


def test_a_module_with_only_run_is_called_scaled_and_errors_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def run(runs: int = 300, db_url: str | None = "x") -> list[Result]:
        seen.update(runs=runs, db_url=db_url)
        return [Result("thing", 1.0, "ms", "plain", 2.0)]

    plain = types.ModuleType("benchmarks.plain")
    plain.run = run  # type: ignore[attr-defined]
    assert runner.uses_database(plain)
    assert runner.call(plain, "quick", None)[0].ratio == 0.5
    assert seen == {"runs": 30, "db_url": None}

    def needy(events: int) -> list[Result]:
        return []

    broken = types.ModuleType("benchmarks.broken")
    broken.run = needy  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="events"):
        runner.call(broken, "tiny", None)

    monkeypatch.setattr(runner, "discover", lambda: ["broken"])
    monkeypatch.setitem(sys.modules, "benchmarks.broken", broken)
    report = runner.run_all("tiny", None, None, say=lambda text: None)
    assert report.rows == [] and report.errors[0]["module"] == "broken"
    assert "events" in report.errors[0]["error"]
