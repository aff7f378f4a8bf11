"""The newest schema revision shipped, read from the migration scripts without alembic."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REV = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(None|['\"]([^'\"]+)['\"])", re.M)


@cache
def head_revision() -> str:
    """The newest revision among the shipped scripts (the one no other script revises)."""
    revisions: dict[str, str | None] = {}
    for script in VERSIONS.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        rev = _REV.search(source)
        down = _DOWN.search(source)
        if rev and down:
            revisions[rev.group(1)] = down.group(2)
    parents = {d for d in revisions.values() if d}
    heads = sorted(set(revisions) - parents)
    if len(heads) != 1:
        raise RuntimeError(f"migrations must form one chain, found heads {heads}")
    return heads[0]
