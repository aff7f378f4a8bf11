"""Start-up time of short commands a clerk runs many times a day.

Peer: ``python -c pass`` (the interpreter with this machine's site-packages), measured in the
same run. Target: ``edoc --help`` and ``edoc agency list`` under 300 ms.

    python -m benchmarks.startup [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Result, median_ms, print_table, timeit


def run(runs: int = 15) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        subprocess.run([sys.executable, "-m", "edoc", "--home", str(home), "demo"], check=True, capture_output=True)
        edoc = [sys.executable, "-m", "edoc"]

        def cmd(argv: list[str]) -> object:
            return subprocess.run(argv, check=True, capture_output=True)

        peer = median_ms(timeit(lambda: cmd([sys.executable, "-c", "pass"]), repeat=runs))
        results = []
        for name, argv in (
            ("edoc --help", [*edoc, "--help"]),
            ("edoc agency list", [*edoc, "--home", str(home), "agency", "list"]),
            ("edoc user list", [*edoc, "--home", str(home), "user", "list"]),
            ("edoc --json agency list", [*edoc, "--home", str(home), "--json", "agency", "list"]),
        ):
            value = median_ms(timeit(lambda argv=argv: cmd(argv), repeat=runs))
            results.append(Result(name, value, "ms", "python -c pass", peer, "< 300 ms"))
        return results


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    return run({"tiny": 2, "quick": 5, "full": 15}[size])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print_table("start-up (median wall time)", run(args.runs))


if __name__ == "__main__":
    main()
