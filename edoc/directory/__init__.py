"""Agencies, units, users and roles, and the one pure function that decides who may do what.

Nothing here touches the database: :mod:`edoc.storage` turns rows into these values and
:mod:`edoc.office` asks :func:`decide` / :func:`require` before every act.
"""

from edoc.directory.model import (
    Agency,
    Role,
    Unit,
    User,
    validate_agency_code,
    validate_letter_code,
    validate_username,
)
from edoc.directory.permissions import Act, Actor, Decision, DocumentFacts, decide, require

__all__ = [
    "Act",
    "Actor",
    "Agency",
    "Decision",
    "DocumentFacts",
    "Role",
    "Unit",
    "User",
    "decide",
    "require",
    "validate_agency_code",
    "validate_letter_code",
    "validate_username",
]
