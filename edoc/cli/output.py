"""Output: one JSON document on stdout with ``--json``, rich tables otherwise.

Progress bars and logs go to stderr, so stdout stays clean for pipes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from edoc.cli.state import State

_stdout: Console | None = None
_stderr: Console | None = None


def out() -> Console:
    global _stdout
    if _stdout is None or _stdout.file is not sys.stdout:
        # Thai has no spaces, and rich would fold a Thai word mid-syllable to fit 80 columns:
        # when stdout is not a terminal, give tables room instead.
        width = None if sys.stdout.isatty() else 240
        _stdout = Console(file=sys.stdout, soft_wrap=False, highlight=False, width=width)
    return _stdout


def err() -> Console:
    global _stderr
    if _stderr is None or _stderr.file is not sys.stderr:
        _stderr = Console(file=sys.stderr, highlight=False)
    return _stderr


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        t.add_column(column, overflow="fold", no_wrap=False)
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    return t


def emit(st: State, data: Any, human: Callable[[Console], None] | None = None) -> None:
    """``data`` as JSON with ``--json``; else ``human(console)`` (or a plain rendering)."""
    if st.json:
        write_json(data)
    elif human is not None:
        human(out())
    else:
        out().print(data)


def write_out(out: Path, data: bytes) -> None:
    """Write ``data`` to the ``--out`` file whole or not at all (temporary file, fsync, rename);
    :class:`~edoc.errors.InvalidField` ``out`` (exit 2) when it cannot be written."""
    import os

    from edoc.errors import InvalidField

    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidField("out", f"cannot write {out}: {exc.strerror or exc}") from None
