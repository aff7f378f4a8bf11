"""Pick the fast read path for directory listings when the database is the SQLite default."""

from __future__ import annotations

import os
from pathlib import Path

from edoc.cli.state import State
from edoc.directory import Agency, User


def _sqlite_file(st: State) -> Path | None:
    from edoc.errors import HomeNotInitialised
    from edoc.settings import SETTINGS_FILE, load_settings
    from edoc.storage.quick import sqlite_path

    if not (st.home / SETTINGS_FILE).exists():
        raise HomeNotInitialised(str(st.home))
    load_settings(st.home)  # a broken edoc.toml is reported the same on both paths
    return sqlite_path(st.db or os.environ.get("EDOC_DATABASE_URL") or None, st.home)


def list_agencies(st: State) -> list[Agency]:
    path = _sqlite_file(st)
    if path is not None:
        from edoc.storage import quick

        return quick.list_agencies(path, st.home)
    with st.office() as office:
        return office.list_agencies()


def list_users(st: State, agency: str | None) -> list[User]:
    path = _sqlite_file(st)
    if path is not None:
        from edoc.storage import quick

        return quick.list_users(path, st.home, agency)
    with st.office() as office:
        return office.list_users(agency)
