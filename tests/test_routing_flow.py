"""The in-agency route as a pure state machine: table tests and a property test over random runs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edoc.errors import EdocError, InvalidField, NotHolder, PermissionDenied, RouteActionRefused
from edoc.routing.flow import (
    CLOSED_STATES,
    NON_HOLDER_ROLES,
    OPEN_STATES,
    FlowState,
    Participant,
    Request,
    Route,
    RouteAction,
    apply,
    can_act,
    delivered,
    started,
)

TODAY = date(2026, 11, 23)  # a Monday
CLERK = Participant("clerk", "clerk", "OFFICE")
CLERK2 = Participant("clerk2", "clerk", "ADMIN")
HEAD = Participant("head", "head", "OFFICE")
HEAD_ENG = Participant("head.eng", "head", "ENGINEERING")
EXEC = Participant("mayor", "executive", None)
OFFICER = Participant("officer", "officer", "OFFICE")
ENGINEER = Participant("engineer", "officer", "ENGINEERING")
AUDITOR = Participant("auditor", "auditor", None)
ADMIN = Participant("admin", "admin", "STRATEGY")
PEOPLE = (CLERK, CLERK2, HEAD, HEAD_ENG, EXEC, OFFICER, ENGINEER, AUDITOR, ADMIN)


def req(action: RouteAction, actor: Participant, **kw: object) -> Request:
    return Request(action, actor, **kw)  # type: ignore[arg-type]


def test_the_pilot_flow_from_inbox_to_file() -> None:
    route = delivered(7, due=TODAY + timedelta(days=3))
    assert route.state is FlowState.DELIVERED and route.allowed() == {RouteAction.REGISTER, RouteAction.RETURN}
    route = apply(route, req(RouteAction.REGISTER, CLERK), today=TODAY)
    assert (route.state, route.holder, route.unit) == (FlowState.OPEN, "clerk", "OFFICE")
    route = apply(route, req(RouteAction.ENDORSE, CLERK, note="เรียน นายกฯ เพื่อโปรดทราบ"), today=TODAY)
    route = apply(route, req(RouteAction.PROPOSE, CLERK, to=HEAD), today=TODAY)
    route = apply(route, req(RouteAction.PROPOSE, HEAD, to=EXEC), today=TODAY)
    assert (route.state, route.holder) == (FlowState.PROPOSED, "mayor")
    route = apply(route, req(RouteAction.ENDORSE, EXEC, note="ทราบ มอบกองช่างดำเนินการ"), today=TODAY)
    route = apply(
        route, req(RouteAction.ASSIGN, EXEC, to_unit="ENGINEERING", due=TODAY + timedelta(days=5)), today=TODAY
    )
    assert (route.state, route.holder, route.unit, route.due) == (
        FlowState.ASSIGNED,
        None,
        "ENGINEERING",
        TODAY + timedelta(days=5),
    )
    assert can_act(route, HEAD_ENG) and can_act(route, ENGINEER) and not can_act(route, OFFICER)
    with pytest.raises(NotHolder):
        apply(route, req(RouteAction.ACKNOWLEDGE, OFFICER), today=TODAY)
    route = apply(route, req(RouteAction.ACKNOWLEDGE, HEAD_ENG), today=TODAY)
    assert (route.holder, route.unit) == ("head.eng", "ENGINEERING")
    route = apply(route, req(RouteAction.ASSIGN, HEAD_ENG, to=ENGINEER), today=TODAY)
    route = apply(route, req(RouteAction.ACKNOWLEDGE, ENGINEER), today=TODAY)
    route = apply(route, req(RouteAction.PROPOSE, ENGINEER, to=HEAD_ENG), today=TODAY)
    route = apply(route, req(RouteAction.CLOSE, HEAD_ENG), today=TODAY)
    assert route.state is FlowState.CLOSED and route.allowed() == {RouteAction.FILE}
    route = apply(route, req(RouteAction.FILE, CLERK2, retention="10y"), today=TODAY)
    assert (route.state, route.retention) == (FlowState.FILED, "10y")
    assert route.allowed() == frozenset()


def test_return_goes_back_one_step_and_then_to_the_sender() -> None:
    route = apply(delivered(1), req(RouteAction.REGISTER, CLERK), today=TODAY)
    route = apply(route, req(RouteAction.PROPOSE, CLERK, to=HEAD), today=TODAY)
    route = apply(route, req(RouteAction.PROPOSE, HEAD, to=EXEC), today=TODAY)
    with pytest.raises(InvalidField) as exc:
        apply(route, req(RouteAction.RETURN, EXEC), today=TODAY)
    assert exc.value.field == "note"
    route = apply(route, req(RouteAction.RETURN, EXEC, note="ข้อมูลไม่ครบ"), today=TODAY)
    assert (route.state, route.holder, len(route.trail)) == (FlowState.RETURNED, "head", 1)
    route = apply(route, req(RouteAction.RETURN, HEAD, note="ส่งผิดหน่วยงาน"), today=TODAY)
    assert (route.holder, route.trail) == ("clerk", ())
    route = apply(route, req(RouteAction.RETURN, CLERK, note="ไม่ใช่ภารกิจของเทศบาล"), today=TODAY)
    assert route.state is FlowState.SENT_BACK and route.state in CLOSED_STATES


def test_a_matter_drafted_here_cannot_be_returned_by_its_first_holder() -> None:
    route = started(3, OFFICER)
    with pytest.raises(RouteActionRefused) as exc:
        apply(route, req(RouteAction.RETURN, OFFICER, note="x"), today=TODAY)
    assert exc.value.exit_code == 5 and "return" in exc.value.message()


@pytest.mark.parametrize(
    ("request_", "error", "field"),
    [
        (req(RouteAction.PROPOSE, CLERK), InvalidField, "to"),
        (req(RouteAction.PROPOSE, CLERK, to=OFFICER), InvalidField, "to"),
        (req(RouteAction.PROPOSE, CLERK, to=AUDITOR), InvalidField, "to"),
        (req(RouteAction.PROPOSE, CLERK, to=CLERK), InvalidField, "to"),
        (req(RouteAction.ENDORSE, CLERK, note="  "), InvalidField, "note"),
        (req(RouteAction.ASSIGN, CLERK, to=OFFICER, due=TODAY), PermissionDenied, None),
        (req(RouteAction.CLOSE, CLERK, due=TODAY - timedelta(days=1)), InvalidField, "due"),
        (req(RouteAction.ACKNOWLEDGE, CLERK), RouteActionRefused, None),
        (req(RouteAction.FILE, CLERK, retention="10y"), RouteActionRefused, None),
        (req(RouteAction.REGISTER, CLERK), RouteActionRefused, None),
        (req(RouteAction.CLOSE, OFFICER), NotHolder, None),
    ],
)
def test_refusals(request_: Request, error: type[EdocError], field: str | None) -> None:
    route = started(5, CLERK)
    with pytest.raises(error) as exc:
        apply(route, request_, today=TODAY)
    if field is not None:
        assert getattr(exc.value, "field", None) == field


def test_assign_needs_one_target_and_a_due_date() -> None:
    route = started(5, HEAD)
    with pytest.raises(InvalidField, match="exactly one"):
        apply(route, req(RouteAction.ASSIGN, HEAD, to=OFFICER, to_unit="OFFICE", due=TODAY), today=TODAY)
    with pytest.raises(InvalidField, match="due date"):
        apply(route, req(RouteAction.ASSIGN, HEAD, to=OFFICER), today=TODAY)
    done = apply(route, req(RouteAction.ASSIGN, HEAD, to=OFFICER, due=TODAY), today=TODAY)
    assert (done.holder, done.unit, done.due) == ("officer", "OFFICE", TODAY)


def test_only_clerks_register_and_nobody_else_holds_the_inbox() -> None:
    route = delivered(9)
    for person in PEOPLE:
        assert can_act(route, person) == (person.role == "clerk")
    with pytest.raises(NotHolder):
        apply(route, req(RouteAction.REGISTER, HEAD), today=TODAY)


# -- the property test ---------------------------------------------------------------------------

PERSON = st.sampled_from(PEOPLE)
UNITS = st.sampled_from(["OFFICE", "ENGINEERING", "FINANCE"])
DUE = st.one_of(st.none(), st.integers(-3, 10).map(lambda d: TODAY + timedelta(days=d)))
NOTES = st.sampled_from(["", "ทราบ", "มอบกองช่างดำเนินการ", "  "])
REQUESTS = st.builds(
    Request,
    action=st.sampled_from(list(RouteAction)),
    actor=PERSON,
    to=st.one_of(st.none(), PERSON),
    to_unit=st.one_of(st.none(), UNITS),
    note=NOTES,
    due=DUE,
    retention=st.sampled_from([None, "10y", "permanent"]),
)


def _check_invariants(route: Route, history: list[FlowState]) -> None:
    assert route.state in FlowState
    assert (route.state in OPEN_STATES) != (route.state in CLOSED_STATES), "every state is open or closed"
    if route.state is FlowState.DELIVERED:
        assert route.holder is None and route.unit is None and route.trail == ()
    elif route.state in OPEN_STATES:
        assert route.holder is not None or route.unit is not None, "an open matter is always with someone"
    if route.state is FlowState.ASSIGNED:
        assert route.due is not None
    if route.state is FlowState.FILED:
        assert route.retention is not None and FlowState.CLOSED in history
    if route.state is FlowState.SENT_BACK:
        assert route.delivered and route.holder is None
    holder_roles = {p.username: p.role for p in PEOPLE}
    if route.holder is not None:
        assert holder_roles[route.holder] not in NON_HOLDER_ROLES
    for pos in route.trail:
        assert pos.holder is not None or pos.unit is not None
    if FlowState.DELIVERED in history[1:]:
        raise AssertionError("nothing leads back into the inbox")
    if any(s in CLOSED_STATES for s in history[:-1]):
        closed_at = next(i for i, s in enumerate(history) if s in CLOSED_STATES)
        assert all(s in CLOSED_STATES for s in history[closed_at:]), "a closed matter never reopens"


def _holders(route: Route) -> list[Participant]:
    """People who may act now: most requests in a run come from them, so runs get deep."""
    return [p for p in PEOPLE if can_act(route, p)] or list(PEOPLE)


@settings(max_examples=250, deadline=None, derandomize=True)
@given(st.booleans(), st.data())
def test_random_runs_never_reach_an_illegal_state(from_inbox: bool, data: st.DataObject) -> None:
    route = delivered(1) if from_inbox else started(1, OFFICER)
    history = [route.state]
    handovers = 0
    for _ in range(data.draw(st.integers(0, 40), label="length")):
        request = data.draw(REQUESTS, label="request")
        if data.draw(st.integers(0, 9), label="by holder") < 8:  # mostly the holder acts
            actor = data.draw(st.sampled_from(_holders(route)), label="holder")
            request = Request(**{**request.__dict__, "actor": actor})
        before = route
        try:
            route = apply(route, request, today=TODAY)
        except (RouteActionRefused, NotHolder, PermissionDenied, InvalidField) as exc:
            assert route == before
            assert exc.exit_code in (2, 3, 5)
            if isinstance(exc, RouteActionRefused):
                assert request.action not in before.allowed()
            continue
        assert request.action in before.allowed(), "only allowed actions succeed"
        assert can_act(before, request.actor), "only the holder acts"
        if request.action in (RouteAction.PROPOSE, RouteAction.ASSIGN):
            handovers += 1
        elif request.action is RouteAction.RETURN and route.state is FlowState.RETURNED:
            handovers -= 1
        assert len(route.trail) == handovers
        history.append(route.state)
        _check_invariants(route, history)
        REACHED.add(route.state)
    assert route.state in OPEN_STATES or route.state in CLOSED_STATES


REACHED: set[FlowState] = set()


def test_the_random_runs_reached_every_state() -> None:
    """Guard against a property test that passes because nothing ever happens."""
    if not REACHED:
        test_random_runs_never_reach_an_illegal_state()
    assert set(FlowState) - {FlowState.DELIVERED} <= REACHED, sorted(set(FlowState) - REACHED)
