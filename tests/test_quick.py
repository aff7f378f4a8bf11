"""The SQLite fast path for listings returns exactly what the office returns."""

from __future__ import annotations

from pathlib import Path

from edoc.office import Office
from edoc.pilot import DemoOptions
from edoc.pilot.directory import build_directory
from edoc.storage import quick


def test_quick_matches_office(sqlite_office: Office, home: Path) -> None:
    build_directory(sqlite_office, DemoOptions(agencies=40, users=300), lambda *a: None)
    path = home / "edoc.db"
    assert quick.list_agencies(path, home) == sqlite_office.list_agencies()
    assert quick.list_users(path, home) == sqlite_office.list_users()
    assert quick.list_users(path, home, "PAKCHONG") == sqlite_office.list_users("PAKCHONG")


APP = """
from pathlib import Path
from typing import Annotated
import sys, typer
if sys.argv[1] == "fast":
    from edoc.cli import fastparams
    assert fastparams.install()
app = typer.Typer()
@app.command()
def cmd(
    name: Annotated[str, typer.Argument()],
    where: Annotated[Path | None, typer.Option("--where")] = None,
    flag: Annotated[bool, typer.Option("--flag")] = False,
    count: Annotated[int, typer.Option("--count", min=1)] = 1,
) -> None:
    print(repr((name, where, flag, count)))
    print("pydantic" in sys.modules)
app(sys.argv[2:], standalone_mode=False)
"""


def test_fastparams_agree_with_typer() -> None:
    """Our pydantic-free coercion of str/Path/bool gives what typer's own gives."""
    import subprocess
    import sys

    args = ["ชื่อ ไทย", "--where", "/tmp/x", "--flag", "--count", "3"]
    outputs = {}
    for mode in ("plain", "fast"):
        r = subprocess.run([sys.executable, "-c", APP, mode, *args], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outputs[mode] = r.stdout.splitlines()[0]
    assert outputs["plain"] == outputs["fast"] == repr(("ชื่อ ไทย", Path("/tmp/x"), True, 3))
