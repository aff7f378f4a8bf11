"""The import rules of docs/architecture.md, enforced by import-linter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    r = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "BROKEN" not in r.stdout


def test_cli_import_is_light() -> None:
    """``import edoc.cli.app`` must not pull in the heavy libraries (start-up time)."""
    code = (
        "import sys, edoc.cli.app\n"
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'pyhanko', 'fpdf', 'pydantic', 'cryptography', 'pythainlp')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""
