"""Global options, shared by every command through typer's context object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from edoc.office import Office

GLOBAL_VALUE_OPTIONS = ("--home", "--db", "--lang", "--passphrase-file")
GLOBAL_FLAGS = ("--json", "--debug")


@dataclass
class State:
    """What the global options said."""

    home: Path
    db: str | None
    json: bool
    lang: str
    debug: bool
    passphrase_file: Path | None = None

    def office(self) -> Office:
        from edoc.cli.passphrases import passphrases_for
        from edoc.office import open_office

        return open_office(self.home, self.db, passphrases=passphrases_for(self))


_CURRENT: State | None = None


def set_state(state: State) -> None:
    global _CURRENT
    _CURRENT = state


def current() -> State | None:
    """The state of the running command (the error handler needs the language)."""
    return _CURRENT


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State), "the root callback sets the state"
    return obj


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options to the front so they work before or after the command.

    ``edoc inbox --as x --json`` becomes ``edoc --json inbox --as x``. Everything after ``--``
    is left alone.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS or (name in GLOBAL_VALUE_OPTIONS and "=" in arg):
            front.append(arg)
        elif arg in GLOBAL_VALUE_OPTIONS and i + 1 < len(argv):
            front.extend(argv[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def env_home() -> Path:
    return Path(os.environ.get("EDOC_HOME") or "edoc-home")
