"""README.md's five-minute tour, run for real, so the README cannot rot.

The tour's ``sh`` blocks run in order as one bash script in a fresh temporary ``HOME`` (so
``~/pakchong`` is a new home), with ``edoc`` = ``python -m edoc`` from this tree, the ``toml``
block written as ``letter.toml`` and the pki port swapped for a free one. Then the ``python``
block runs in the same directory. Every command must exit 0 (``set -e``); a few key outputs are
checked. The README's relative links must name files that exist.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR_PORT = "8780"


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    nxt = text.find("\n## ", start + 3)
    return text[start : nxt if nxt >= 0 else len(text)]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readme_tour_blocks_are_there() -> None:
    tour = _section(README.read_text(encoding="utf-8"), "A five-minute tour")
    assert len(_blocks(tour, "sh")) >= 4
    assert len(_blocks(tour, "toml")) == 1
    assert len(_blocks(tour, "python")) == 1
    assert "letter.toml" in tour


def test_readme_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert targets, "the README links nowhere"
    missing = [t for t in targets if not re.match(r"[a-z]+://", t) and not (ROOT / t).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_readme_tour_runs(tmp_path: Path) -> None:
    tour = _section(README.read_text(encoding="utf-8"), "A five-minute tour")
    port = str(_free_port())
    home = tmp_path / "user"
    home.mkdir()
    (home / "letter.toml").write_text(_blocks(tour, "toml")[0], encoding="utf-8")
    script = "\n".join(_blocks(tour, "sh")).replace(TOUR_PORT, port)
    # ``edoc`` as a real program on PATH (as the console script is), not a shell function: the
    # tour's ``edoc pki serve &`` then ``kill $SERVE`` must stop the server itself, and a
    # function in the background is a subshell whose child python would outlive the kill
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "edoc").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m edoc "$@"\n', encoding="utf-8")
    (bin_dir / "edoc").chmod(0o755)
    prelude = (
        "set -euo pipefail\n"
        f'python3() {{ "{sys.executable}" "$@"; }}\n'
        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
        "cd ~\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDOC_")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), LANG="C.UTF-8", EDOC_LANG="en", COLUMNS="200")
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert run.returncode == 0, f"tour failed ({run.returncode}):\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    # `kill $SERVE` stopped the server: nothing answers on its port any more
    import time

    for _ in range(50):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", int(port))) != 0:
                break
        time.sleep(0.1)
    else:
        raise AssertionError(f"edoc pki serve still answers on port {port} after the tour's kill")
    out = run.stdout
    assert "letter.pdf: TOTAL-PASSED" in out
    assert "นม 52101/1" in out
    assert (home / "draft.pdf").read_bytes().startswith(b"%PDF")
    assert (home / "root.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    rows = list(csv.DictReader((home / "received.csv").open(encoding="utf-8-sig")))
    assert len(rows) == 1
    assert rows[0]["document_number"] == "นม 52101/1"
    assert "วันเด็กแห่งชาติ" in rows[0]["subject"]
    assert "OK" in out  # audit verify's verdict
    assert "registered" in out  # the sender's status table: the district registered it
    assert "assign" in out and "ADMIN" in out  # the chief's order to the unit

    py = subprocess.run(
        [sys.executable, "-c", _blocks(tour, "python")[0]],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert py.returncode == 0, py.stderr[-4000:]
    assert "PAKCHONG เทศบาลเมืองปากช่อง นม 52101" in py.stdout
    assert py.stdout.strip().splitlines()[-1].endswith("TOTAL-PASSED")
