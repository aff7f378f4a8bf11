"""The route of a document inside one agency, as a pure state machine.

Paper flow it replaces (ระเบียบงานสารบรรณ): the clerk registers an incoming letter (ลงรับ), proposes
it up the chain (เสนอ), heads and the executive annotate it (เกษียน) and order it (สั่งการ /
มอบหมาย) to a unit or an officer with a due date, the officer takes note (ทราบ), acts and reports
back, a holder may hand it back (ส่งคืน) with a reason, and the matter is closed (เรื่องเสร็จ) and
filed (เก็บ) with a retention class.

:func:`apply` takes a :class:`Route` and a :class:`Request` and returns the next route or raises
a specific error; nothing here touches the database. The office stores each step, and the
property test in ``tests/test_routing_flow.py`` drives random sequences of requests through it.

Who may act is part of the flow: only the holder (or, when a matter is assigned to a unit, a
member of that unit; or, before registration, the agency's clerks) acts on a route. Whether the
actor may see the document at all is the permission policy's business
(:mod:`edoc.directory.permissions`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from edoc.errors import InvalidField, NotHolder, PermissionDenied, RouteActionRefused


class FlowState(StrEnum):
    """Where a matter stands in its agency."""

    DELIVERED = "delivered"
    """In the agency's inbox, delivered by another agency, not yet registered (รอลงรับ)."""
    OPEN = "open"
    """Registered (or drafted here) and with its first holder; nothing done yet."""
    PROPOSED = "proposed"
    """Proposed up to a superior (เสนอ)."""
    ENDORSED = "endorsed"
    """Annotated by its holder (เกษียน)."""
    ASSIGNED = "assigned"
    """Ordered to a unit or an officer, with a due date (สั่งการ / มอบหมาย)."""
    ACKNOWLEDGED = "acknowledged"
    """Its holder took note (ทราบ)."""
    RETURNED = "returned"
    """Handed back, with a reason, to whoever handed it on (ส่งคืน)."""
    CLOSED = "closed"
    """Finished (เรื่องเสร็จ); only filing is left."""
    FILED = "filed"
    """Kept with a retention class (เก็บ); the route is over."""
    SENT_BACK = "sent-back"
    """Returned to the agency that sent it (ส่งคืนต้นทาง); the route is over here."""

    @property
    def thai(self) -> str:
        return _STATE_TH[self]

    @property
    def is_open(self) -> bool:
        """Still being worked on (someone, a unit or the registry holds it)."""
        return self in OPEN_STATES


_STATE_TH = {
    FlowState.DELIVERED: "รอลงรับ",
    FlowState.OPEN: "ลงรับแล้ว",
    FlowState.PROPOSED: "เสนอแล้ว",
    FlowState.ENDORSED: "เกษียนแล้ว",
    FlowState.ASSIGNED: "สั่งการแล้ว",
    FlowState.ACKNOWLEDGED: "ทราบแล้ว",
    FlowState.RETURNED: "ส่งคืนแล้ว",
    FlowState.CLOSED: "เรื่องเสร็จ",
    FlowState.FILED: "เก็บแล้ว",
    FlowState.SENT_BACK: "ส่งคืนต้นทางแล้ว",
}

CLOSED_STATES = frozenset({FlowState.CLOSED, FlowState.FILED, FlowState.SENT_BACK})
"""States in which the matter is finished here."""
OPEN_STATES = frozenset(FlowState) - CLOSED_STATES
"""States in which the matter still waits for someone."""


class RouteAction(StrEnum):
    """What a person does to a matter."""

    REGISTER = "register"
    """Registration (ลงรับ) of a delivered copy: done by ``doc receive``, not by ``doc route``."""
    PROPOSE = "propose"
    """เสนอ: hand the matter up to a head or an executive."""
    ENDORSE = "endorse"
    """เกษียน: write a note on it (signed by the actor)."""
    ASSIGN = "assign"
    """สั่งการ / มอบหมาย: order it to a unit or an officer, with a due date."""
    ACKNOWLEDGE = "acknowledge"
    """ทราบ: take note of what was handed over (and take a matter assigned to one's unit)."""
    RETURN = "return"
    """ส่งคืน: hand it back with a reason (to the sending agency when nobody here handed it on)."""
    CLOSE = "close"
    """เรื่องเสร็จ: the matter is finished."""
    FILE = "file"
    """เก็บ: keep the finished matter with a retention class."""

    @property
    def thai(self) -> str:
        return _ACTION_TH[self]


_ACTION_TH = {
    RouteAction.REGISTER: "ลงรับ",
    RouteAction.PROPOSE: "เสนอ",
    RouteAction.ENDORSE: "เกษียน",
    RouteAction.ASSIGN: "สั่งการ",
    RouteAction.ACKNOWLEDGE: "ทราบ",
    RouteAction.RETURN: "ส่งคืน",
    RouteAction.CLOSE: "เรื่องเสร็จ",
    RouteAction.FILE: "เก็บ",
}

USER_ACTIONS: tuple[RouteAction, ...] = tuple(a for a in RouteAction if a is not RouteAction.REGISTER)
"""The actions ``edoc doc route`` takes (registration is ``edoc doc receive``)."""

REGISTRY_ROLE = "clerk"
"""The role that holds the agency's registry: receives, registers, files."""
SUPERIOR_ROLES = frozenset({"head", "executive"})
"""Roles that a matter is proposed to, and that may assign it."""
NON_HOLDER_ROLES = frozenset({"auditor", "admin"})
"""Roles that never hold a matter."""

_WORKING = frozenset(
    {
        RouteAction.PROPOSE,
        RouteAction.ENDORSE,
        RouteAction.ASSIGN,
        RouteAction.ACKNOWLEDGE,
        RouteAction.RETURN,
        RouteAction.CLOSE,
    }
)
_TRANSITIONS: dict[FlowState, frozenset[RouteAction]] = {
    FlowState.DELIVERED: frozenset({RouteAction.REGISTER, RouteAction.RETURN}),
    FlowState.OPEN: _WORKING - {RouteAction.ACKNOWLEDGE},
    FlowState.PROPOSED: _WORKING,
    FlowState.ENDORSED: _WORKING,
    FlowState.ASSIGNED: _WORKING,
    FlowState.RETURNED: _WORKING,
    FlowState.ACKNOWLEDGED: _WORKING - {RouteAction.ACKNOWLEDGE},
    FlowState.CLOSED: frozenset({RouteAction.FILE}),
    FlowState.FILED: frozenset(),
    FlowState.SENT_BACK: frozenset(),
}


@dataclass(frozen=True)
class Position:
    """Who a matter is with: a person, a unit, or (both None) the agency's registry."""

    holder: str | None
    """Username of the person holding it, if a person does."""
    unit: str | None
    """Code of the unit it is with (the holder's unit, or the unit it was assigned to)."""

    def describe(self) -> str:
        if self.holder:
            return self.holder
        if self.unit:
            return f"unit {self.unit}"
        return "the registry (clerks)"


@dataclass(frozen=True)
class Participant:
    """A person as the flow sees them."""

    username: str
    """Login name."""
    role: str
    """Role value (``clerk``, ``officer``, ``head``, ``executive``, ``auditor``, ``admin``)."""
    unit: str | None = None
    """Code of their unit, if any."""


@dataclass(frozen=True)
class Route:
    """The route of one document in one agency."""

    document_id: int
    """The agency's copy of the document."""
    state: FlowState
    """Where the matter stands."""
    holder: str | None = None
    """Username of who holds it now (None: a unit or the registry)."""
    unit: str | None = None
    """Unit it is with, if any."""
    due: date | None = None
    """When the matter must be done (set by urgency on registration, or by an order)."""
    trail: tuple[Position, ...] = ()
    """Earlier positions, most recent last: a return goes back one step."""
    retention: str | None = None
    """Retention class, once filed."""
    delivered: bool = False
    """True for a copy delivered by another agency: it can be sent back there."""

    @property
    def position(self) -> Position:
        return Position(self.holder, self.unit)

    def allowed(self) -> frozenset[RouteAction]:
        """Actions the flow allows now (whoever asks)."""
        actions = _TRANSITIONS[self.state]
        if RouteAction.RETURN in actions and not self.trail and not self.delivered:
            actions = actions - {RouteAction.RETURN}
        return actions


@dataclass(frozen=True)
class Request:
    """One action asked for by one person."""

    action: RouteAction
    """What is to be done."""
    actor: Participant
    """Who does it."""
    to: Participant | None = None
    """The person it goes to (propose, assign)."""
    to_unit: str | None = None
    """The unit it goes to (assign to a unit)."""
    note: str = ""
    """The endorsement text, the order's words, or the reason for a return."""
    due: date | None = None
    """A due date (required for assign: the office fills in the urgency's default)."""
    retention: str | None = None
    """Retention class (file)."""


def delivered(document_id: int, *, due: date | None = None) -> Route:
    """The route of a copy just delivered to an agency's inbox."""
    return Route(document_id, FlowState.DELIVERED, due=due, delivered=True)


def started(document_id: int, holder: Participant, *, due: date | None = None) -> Route:
    """The route of a document that starts here (drafted or imported) with ``holder``."""
    return Route(document_id, FlowState.OPEN, holder=holder.username, unit=holder.unit, due=due)


def can_act(route: Route, actor: Participant) -> bool:
    """Does ``actor`` hold the matter (or may take it for the registry or their unit)?"""
    if actor.role in NON_HOLDER_ROLES:
        return False
    if route.state is FlowState.DELIVERED:
        return actor.role == REGISTRY_ROLE
    if route.state is FlowState.CLOSED and actor.role == REGISTRY_ROLE:
        return True  # the registry files finished matters
    if route.holder is not None:
        return actor.username == route.holder
    if route.unit is not None:
        return actor.unit == route.unit
    return actor.role == REGISTRY_ROLE


def apply(route: Route, request: Request, *, today: date) -> Route:
    """The route after ``request``; raises and changes nothing when the request is refused.

    Errors: :class:`RouteActionRefused` (the state does not allow the action),
    :class:`NotHolder` (the actor does not hold it), :class:`PermissionDenied` (only heads and
    executives assign; proposals go up), :class:`InvalidField` (missing or bad ``to``, ``note``,
    ``due``, ``retention``).
    """
    action = request.action
    if action not in route.allowed():
        detail = ""
        if action is RouteAction.RETURN and route.state in OPEN_STATES:
            detail = "nobody in this agency handed it on, so there is no one to return it to"
        raise RouteActionRefused(
            route.document_id,
            route.state.value,
            action.value,
            ", ".join(sorted(a.value for a in route.allowed())),
            detail,
        )
    actor = request.actor
    if not can_act(route, actor):
        raise NotHolder(route.document_id, actor.username, route.position.describe())
    if request.due is not None and request.due < today:
        raise InvalidField("due", f"{request.due.isoformat()} is in the past (today is {today.isoformat()})")
    due = request.due if request.due is not None else route.due
    here = route.position
    if action is RouteAction.REGISTER:
        return replace(route, state=FlowState.OPEN, holder=actor.username, unit=actor.unit, due=due)
    if action is RouteAction.PROPOSE:
        target = _person(request, "propose")
        if target.role not in SUPERIOR_ROLES:
            raise InvalidField(
                "to", f"{target.username} is a {target.role}; a matter is proposed to a head or an executive"
            )
        return replace(
            route,
            state=FlowState.PROPOSED,
            holder=target.username,
            unit=target.unit,
            trail=(*route.trail, here),
            due=due,
        )
    if action is RouteAction.ENDORSE:
        _note(request, "an endorsement needs its text (--note)")
        return replace(route, state=FlowState.ENDORSED, due=due)
    if action is RouteAction.ASSIGN:
        if actor.role not in SUPERIOR_ROLES:
            raise PermissionDenied(f"{actor.username} is a {actor.role}; only a head or an executive assigns")
        if due is None:
            raise InvalidField("due", "an order needs a due date")
        if (request.to is None) == (request.to_unit is None):
            raise InvalidField("to", "assign to exactly one officer or one unit")
        if request.to is not None:
            target = _person(request, "assign")
            holder, unit = target.username, target.unit
        else:
            holder, unit = None, request.to_unit
        return replace(
            route,
            state=FlowState.ASSIGNED,
            holder=holder,
            unit=unit,
            trail=(*route.trail, here),
            due=due,
        )
    if action is RouteAction.ACKNOWLEDGE:
        holder = route.holder if route.holder is not None else actor.username
        return replace(route, state=FlowState.ACKNOWLEDGED, holder=holder, unit=route.unit or actor.unit, due=due)
    if action is RouteAction.RETURN:
        _note(request, "a return needs its reason (--note)")
        if not route.trail:  # allowed() let it through: a delivered copy goes back to its sender
            return replace(route, state=FlowState.SENT_BACK, holder=None, unit=None, due=None)
        back = route.trail[-1]
        return replace(route, state=FlowState.RETURNED, holder=back.holder, unit=back.unit, trail=route.trail[:-1])
    if action is RouteAction.CLOSE:
        return replace(route, state=FlowState.CLOSED, due=due)
    if action is RouteAction.FILE:
        if not request.retention:
            raise InvalidField("retention", "filing needs a retention class")
        return replace(route, state=FlowState.FILED, retention=request.retention)
    raise AssertionError(f"unhandled action {action}")  # pragma: no cover


def _person(request: Request, verb: str) -> Participant:
    target = request.to
    if target is None:
        raise InvalidField("to", f"{verb} needs a person (--to USERNAME)")
    if target.username == request.actor.username:
        raise InvalidField("to", f"{target.username} cannot {verb} a matter to themselves")
    if target.role in NON_HOLDER_ROLES:
        raise InvalidField("to", f"{target.username} is an {target.role} and does not take matters")
    return target


def _note(request: Request, message: str) -> None:
    if not request.note.strip():
        raise InvalidField("note", message)
