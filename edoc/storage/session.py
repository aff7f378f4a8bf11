"""The session type the office passes between storage calls (re-exported so that only
:mod:`edoc.storage` imports sqlmodel)."""

from sqlmodel import Session

__all__ = ["Session"]
