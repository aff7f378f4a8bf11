"""Who may do what: one pure function of (actor, act, target).

The office gathers the facts (who acts, in which agency and unit, what the document is and
whether the actor is on its route) and asks :func:`decide`. Keeping this pure means the whole
policy is tested as a table, without a database.

The rules for documents (``READ`` is the content: show, export, render, search text;
``READ_METADATA`` is number, subject line, dates, status, evidence, history):

* A document is its agency's: nobody outside that agency sees it, except auditors of an
  agency above it (metadata always; content only of normal, finished documents).
* Confidential and secret documents (ลับ, ลับมาก, ลับที่สุด): content only for the people on
  their route (who drafted, signed, initialled, registered, held, were proposed or assigned it).
  Their metadata follows the normal rules (registers list them; the subject is masked by whoever
  shows it to someone who may not read it).
* Drafts (``draft``, ``awaiting-signature``): content only for the people named on them, the
  registry (clerks number and send them) and the executives.
* Normal documents: clerks (the registry) and executives read all of their agency's; auditors
  too; heads and officers read what reached them or their unit; admins read only what reached
  them (they run the system, not the correspondence).
* Acting on a route needs the document to have reached the actor or their unit (or, for the
  registry's work, a clerk); who *holds* it is the flow's own rule (:mod:`edoc.routing.flow`).
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
    state: str = ""
    """The document's lifecycle state (``draft`` ... ``filed``); '' when not known."""


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
_DRAFT_STATES = frozenset({"draft", "awaiting-signature"})
_WHOLE_AGENCY_READERS = frozenset({Role.CLERK, Role.EXECUTIVE, Role.AUDITOR})
"""Roles that read every normal, finished document of their own agency."""
_METADATA_READERS = frozenset({Role.CLERK, Role.HEAD, Role.EXECUTIVE, Role.AUDITOR, Role.ADMIN})
"""Roles that see the metadata of every document of their own agency (as in the registers)."""


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


def _reached(actor: Actor, doc: DocumentFacts) -> bool:
    """Did the document reach the actor, or (in their agency) their unit?"""
    if actor.username in doc.parties:
        return True
    if doc.agency != actor.agency or actor.unit is None:
        return False
    return actor.unit in doc.units or actor.unit == doc.unit


def _decide_document(actor: Actor, act: Act, doc: DocumentFacts) -> Decision:
    own_agency = doc.agency == actor.agency
    party = own_agency and actor.username in doc.parties
    reached = _reached(actor, doc)
    restricted = doc.secrecy in _RESTRICTED
    draft = doc.state in _DRAFT_STATES
    elsewhere = Decision(False, f"the document belongs to agency {doc.agency}")
    if act is Act.READ_METADATA:
        if not own_agency:
            return _ALLOW if _within(actor, doc.agency, doc.agency_path) else elsewhere
        if party or reached:
            return _ALLOW
        if draft:
            if actor.role in (Role.CLERK, Role.EXECUTIVE):
                return _ALLOW
            return Decision(False, f"the draft is seen by the people named on it, not {actor.username}")
        if actor.role in _METADATA_READERS:
            return _ALLOW
        return Decision(False, f"the document has not reached {actor.username} or their unit")
    if act is Act.READ:
        if not own_agency:
            if not _within(actor, doc.agency, doc.agency_path):
                return elsewhere
            if restricted:
                return Decision(False, f"auditors do not see the content of {doc.secrecy} documents")
            if draft:
                return Decision(False, "auditors do not see drafts")
            return _ALLOW
        if restricted:
            if party:
                return _ALLOW
            return Decision(False, f"the document is {doc.secrecy} and {actor.username} is not on its route")
        if draft:
            if party or actor.role in (Role.CLERK, Role.EXECUTIVE):
                return _ALLOW
            return Decision(False, f"the draft is seen by the people named on it, not {actor.username}")
        if party or actor.role in _WHOLE_AGENCY_READERS:
            return _ALLOW
        if actor.role in (Role.HEAD, Role.OFFICER) and reached:
            return _ALLOW
        return Decision(False, f"the document has not reached {actor.username} or their unit")
    if not own_agency:
        return elsewhere
    if act is Act.SIGN:
        if actor.role in (Role.AUDITOR, Role.ADMIN, Role.CLERK):
            return Decision(False, f"a {actor.role} does not sign documents")
        if restricted and not party:
            return Decision(False, f"the document is {doc.secrecy} and {actor.username} is not on its route")
        if actor.role is Role.EXECUTIVE or party:
            return _ALLOW
        return Decision(False, f"{actor.username} is neither on the document's route nor an executive")
    if act is Act.ROUTE:
        if actor.role in (Role.AUDITOR, Role.ADMIN):
            return Decision(False, f"a {actor.role} does not take part in routing")
        if reached or actor.role is Role.CLERK:
            return _ALLOW
        if restricted:
            return Decision(False, f"the document is {doc.secrecy} and {actor.username} is not on its route")
        if actor.role in (Role.EXECUTIVE, Role.HEAD):
            return _ALLOW
        return Decision(False, f"the document is not with {actor.username} or their unit")
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
