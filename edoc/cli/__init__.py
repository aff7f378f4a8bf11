"""The ``edoc`` command line: a thin typer layer over :mod:`edoc.office`.

Kept light on purpose: importing this package imports typer only; each command imports the
office (SQLAlchemy), pyHanko or fpdf2 when it runs, so ``edoc --help`` stays fast.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    from edoc.cli.runner import run

    sys.exit(run(sys.argv[1:] if argv is None else argv))
