"""Who acts, and which document: shared by every command that reads or changes documents.

Every read of a document goes through access control, so every ``doc`` command needs to know
who is asking: ``--as USER``, else ``EDOC_USER``, else exit 2 saying so. (The contract writes
``edoc doc show ID`` without ``--as``; a clerk's shell can set ``EDOC_USER`` once.)
"""

from __future__ import annotations

import os

AS_HELP = "Who acts (username); default $EDOC_USER."


def acting_user(value: str | None) -> str:
    """``--as`` if given, else ``$EDOC_USER``; :class:`~edoc.errors.ActorRequired` (exit 2) if neither."""
    from edoc.errors import ActorRequired

    name = (value or os.environ.get("EDOC_USER") or "").strip()
    if not name:
        raise ActorRequired()
    return name


def document_id(value: str) -> int:
    """A document id from the command line: a positive whole number (exit 2 otherwise)."""
    from edoc.errors import InvalidField

    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise InvalidField("id", f"{value!r} is not a document id (a positive whole number)")
    return int(text)
