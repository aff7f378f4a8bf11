"""Every script in examples/ runs and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> str:
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_build_directory(tmp_path: Path) -> None:
    out = run_example("build_directory.py", str(tmp_path / "home"))
    assert "เทศบาลเมืองปากช่อง" in out and "pc.mayor" in out
    assert out == run_example("build_directory.py", str(tmp_path / "home"))  # re-run is safe
