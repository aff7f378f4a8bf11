"""The session type the office passes between storage calls (re-exported so that only
:mod:`edoc.storage` imports sqlmodel)."""

from typing import Any

from sqlalchemy import event
from sqlmodel import Session

__all__ = ["Session", "keep_loaded", "memo"]

_KEPT = "edoc_kept"
_MEMO = "edoc_memo"


def memo(session: Session, kind: str) -> dict[Any, Any] | None:
    """The rows of ``kind`` (``agency`` by code, ``account`` by username) this session already
    looked up, when it keeps what it loads (:func:`keep_loaded`); None otherwise."""
    memos: dict[str, dict[Any, Any]] | None = session.info.get(_MEMO)
    return None if memos is None else memos.setdefault(kind, {})


def keep_loaded(session: Session) -> None:
    """Keep every row ``session`` loads from now until it closes, so that a batch act (many
    documents in one transaction) reads a row it already has (an agency, its parents, a user)
    from the identity map instead of the database: the map holds rows only while something
    else refers to them. Lookups by code or username are remembered too (:func:`memo`): a batch
    act does not rename agencies or users. Idempotent."""
    if _KEPT in session.info:
        return
    kept: list[Any] = []
    session.info[_KEPT] = kept
    session.info[_MEMO] = {}

    def loaded(_session: Session, instance: Any) -> None:
        kept.append(instance)

    event.listen(session, "loaded_as_persistent", loaded)
