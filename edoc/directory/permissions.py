"""Who may do what: one pure function of (actor, act, target).

The office gathers the facts (who acts, in which agency and unit, what the document is and
whether the actor is on its route) and asks :func:`decide`. Keeping this pure means the whole
policy is tested as a table, without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from edoc.directory.model import Role
from edoc.errors import PermissionDenied


class Act(StrEnum):
    """The acts the policy knows."""

    MANAGE_DIRECTORY = "manage-directory"
    ISSUE_CERTIFICATE = "issue-certificate"
    DRAFT = "draft"
    IMPORT = "import"
    NUMBER = "number"
    SIGN = "sign"
    SEND = "send"
    RECEIVE = "receive"
    ROUTE = "route"
    READ = "read"
    READ_METADATA = "read-metadata"
    VIEW_REGISTER = "view-register"
    VIEW_AUDIT = "view-audit"
    MANAGE_RECORDS = "manage-records"
    APPROVE_DESTRUCTION = "approve-destruction"


@dataclass(frozen=True)
class Actor:
    """The person acting, as the policy sees them."""

    username: str
    """Login name."""
    role: Role
    """Their role."""
    agency: str
    """Code of their agency."""
    agency_path: tuple[str, ...] = ()
    """Codes from the root of the agency tree down to (and including) their agency."""
    unit: str | None = None
    """Code of their unit, if any."""


@dataclass(frozen=True)
class DocumentFacts:
    """What the policy needs to know about a document."""

    agency: str
    """Code of the agency that holds this copy of the document."""
    agency_path: tuple[str, ...] = ()
    """Codes from the root of the tree down to the holding agency."""
    unit: str | None = None
    """Unit the document is with, if any."""
    secrecy: str = "normal"
    """``normal``, ``confidential``, ``secret`` or ``top-secret``."""
    parties: frozenset[str] = field(default_factory=frozenset)
    """Usernames on the document's route: drafter, heads who initialled, signer, holders,
    people it was assigned or proposed to."""
    units: frozenset[str] = field(default_factory=frozenset)
    """Units the document was assigned to."""


@dataclass(frozen=True)
class Decision:
    """The answer: allowed or not, and why (in English; the error carries it to the user)."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


_ALLOW = Decision(True, "allowed")

# Roles that may do an act in their own agency, where no document facts matter.
_AGENCY_ACTS: dict[Act, frozenset[Role]] = {
    Act.MANAGE_DIRECTORY: frozenset({Role.ADMIN}),
    Act.ISSUE_CERTIFICATE: frozenset({Role.ADMIN}),
    Act.DRAFT: frozenset({Role.OFFICER, Role.HEAD, Role.EXECUTIVE, Role.CLERK}),
    Act.IMPORT: frozenset({Role.CLERK, Role.ADMIN}),
    Act.NUMBER: frozenset({Role.CLERK, Role.OFFICER, Role.HEAD, Role.EXECUTIVE}),
    Act.SEND: frozenset({Role.CLERK}),
    Act.RECEIVE: frozenset({Role.CLERK}),
    Act.VIEW_REGISTER: frozenset({Role.CLERK, Role.HEAD, Role.EXECUTIVE, Role.AUDITOR, Role.ADMIN}),
    Act.VIEW_AUDIT: frozenset({Role.AUDITOR, Role.ADMIN}),
    Act.MANAGE_RECORDS: frozenset({Role.CLERK, Role.ADMIN}),
    Act.APPROVE_DESTRUCTION: frozenset({Role.HEAD, Role.EXECUTIVE}),
}

_RESTRICTED = frozenset({"confidential", "secret", "top-secret"})


def _within(actor: Actor, facts_agency: str, facts_path: tuple[str, ...]) -> bool:
    """Is the target agency the actor's own, or (for auditors) one below it?"""
    if actor.agency == facts_agency:
        return True
    return actor.role is Role.AUDITOR and actor.agency in facts_path


def decide(actor: Actor, act: Act, target: DocumentFacts | str | None = None) -> Decision:
    """May ``actor`` do ``act`` on ``target``?

    ``target`` is the document's facts for document acts, an agency code for agency acts
    (registers, directory), or None for the actor's own agency.
    """
    if not isinstance(act, Act):
        raise TypeError(f"act must be an Act, not {type(act).__name__}")
    if isinstance(target, DocumentFacts):
        return _decide_document(actor, act, target)
    agency = target if isinstance(target, str) else actor.agency
    roles = _AGENCY_ACTS.get(act)
    if roles is None:
        raise ValueError(f"{act} needs the document's facts")
    if actor.role not in roles:
        return Decision(False, f"a {actor.role} may not {act}")
    if agency != actor.agency and not (actor.role is Role.AUDITOR and act in (Act.VIEW_REGISTER, Act.VIEW_AUDIT)):
        if actor.role is Role.ADMIN and act in (Act.MANAGE_DIRECTORY, Act.ISSUE_CERTIFICATE):
            return _ALLOW
        return Decision(False, f"{actor.username} does not belong to agency {agency}")
    return _ALLOW


def _decide_document(actor: Actor, act: Act, doc: DocumentFacts) -> Decision:
    on_route = actor.username in doc.parties or (
        actor.unit is not None and actor.unit in doc.units and doc.agency == actor.agency
    )
    own_agency = doc.agency == actor.agency
    if act in (Act.READ_METADATA,):
        if own_agency and actor.role is not Role.OFFICER:
            return _ALLOW
        if on_route or _within(actor, doc.agency, doc.agency_path):
            return _ALLOW
        return Decision(False, f"the document belongs to agency {doc.agency}")
    if act is Act.READ:
        if not own_agency and not (actor.role is Role.AUDITOR and _within(actor, doc.agency, doc.agency_path)):
            return Decision(False, f"the document belongs to agency {doc.agency}")
        if doc.secrecy in _RESTRICTED:
            if on_route:
                return _ALLOW
            return Decision(False, f"the document is {doc.secrecy} and {actor.username} is not on its route")
        if actor.role is Role.AUDITOR or on_route:
            return _ALLOW
        if actor.role in (Role.CLERK, Role.EXECUTIVE, Role.ADMIN):
            return _ALLOW
        if actor.role is Role.HEAD and (doc.unit is None or doc.unit == actor.unit):
            return _ALLOW
        return Decision(False, f"the document has not reached {actor.username}")
    if not own_agency:
        return Decision(False, f"the document belongs to agency {doc.agency}")
    if act is Act.SIGN:
        if actor.role in (Role.EXECUTIVE,) or on_route:
            if actor.role in (Role.AUDITOR, Role.ADMIN, Role.CLERK):
                return Decision(False, f"a {actor.role} does not sign documents")
            return _ALLOW
        return Decision(False, f"{actor.username} is neither on the document's route nor an executive")
    if act is Act.ROUTE:
        if on_route or actor.role in (Role.CLERK, Role.EXECUTIVE):
            if doc.secrecy in _RESTRICTED and not on_route:
                return Decision(False, f"the document is {doc.secrecy} and {actor.username} is not on its route")
            return _ALLOW
        return Decision(False, f"the document is not with {actor.username}")
    roles = _AGENCY_ACTS.get(act)
    if roles is None:
        raise ValueError(f"unknown act {act}")
    if actor.role not in roles:
        return Decision(False, f"a {actor.role} may not {act}")
    return _ALLOW


def require(actor: Actor, act: Act, target: DocumentFacts | str | None = None) -> None:
    """Like :func:`decide`, but raise :class:`PermissionDenied` when not allowed."""
    decision = decide(actor, act, target)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
