"""Pure rules of routing: due dates, send planning, the delivery state machine, evidence and seals."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edoc import errors
from edoc.routing.delivery import (
    DeliveryState,
    Evidence,
    EvidenceKind,
    Existing,
    Fault,
    check_chain,
    check_sendable,
    new_consignment_id,
    next_state,
    plan_recipients,
    resume_or_refuse,
)
from edoc.routing.due import add_working_days, default_due, is_working_day, parse_holidays
from edoc.routing.seals import Seal, check_signature, sign_detached
from edoc.settings import RoutingSettings
from tests.fixtures_routing import MiniCA, pem

FRIDAY = date(2026, 11, 27)
DUE_DAYS = RoutingSettings().due_days


# -- due dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "urgency", "expected"),
    [
        (date(2026, 11, 23), "most-urgent", date(2026, 11, 23)),  # Monday: same day
        (date(2026, 11, 23), "very-urgent", date(2026, 11, 24)),  # next working day
        (date(2026, 11, 23), "urgent", date(2026, 11, 26)),  # 3 working days
        (FRIDAY, "very-urgent", date(2026, 11, 30)),  # Friday -> Monday
        (FRIDAY, "urgent", date(2026, 12, 2)),
        (date(2026, 11, 28), "very-urgent", date(2026, 11, 30)),  # Saturday -> Monday
        (FRIDAY, "most-urgent", FRIDAY),
        (FRIDAY, "normal", date(2026, 12, 8)),
    ],
)
def test_default_due_dates_skip_weekends(received: date, urgency: str, expected: date) -> None:
    assert default_due(received, urgency, DUE_DAYS) == expected


def test_holidays_are_skipped() -> None:
    holidays = parse_holidays(["2026-12-07", "2026-12-10"])  # วันพ่อแห่งชาติ (observed), วันรัฐธรรมนูญ
    assert default_due(date(2026, 12, 4), "very-urgent", DUE_DAYS, holidays) == date(2026, 12, 8)
    assert default_due(date(2026, 12, 8), "urgent", DUE_DAYS, holidays) == date(2026, 12, 14)


def test_due_settings_are_checked() -> None:
    with pytest.raises(errors.InvalidField) as exc:
        parse_holidays(["2026-13-01"])
    assert exc.value.field == "routing.holidays"
    with pytest.raises(errors.InvalidField):
        default_due(FRIDAY, "asap", DUE_DAYS)
    with pytest.raises(errors.InvalidField):
        default_due(FRIDAY, "urgent", {"urgent": -1})
    assert default_due(FRIDAY, "normal", {"urgent": 3}) is None


@given(st.dates(date(2020, 1, 1), date(2040, 1, 1)), st.integers(0, 30))
def test_working_days_property(start: date, days: int) -> None:
    end = add_working_days(start, days)
    span = [start + timedelta(d) for d in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d) for d in span) == days
    assert days == 0 or is_working_day(end)


# -- sending --------------------------------------------------------------------------------------


def test_sendable_checks_have_explicit_faults() -> None:
    check_sendable(1, state="signed", secrecy="secret", signed=True)
    cases = [
        ({"state": "signed", "secrecy": "top-secret", "signed": True}, errors.TopSecretNotSent, 3, Fault.TOP_SECRET),
        ({"state": "cancelled", "secrecy": "normal", "signed": True}, errors.CancelledNotSent, 5, Fault.CANCELLED),
        ({"state": "draft", "secrecy": "normal", "signed": False}, errors.NotSendable, 5, Fault.NOT_SIGNED),
    ]
    for kwargs, error, code, fault in cases:
        with pytest.raises(error) as exc:
            check_sendable(1, **kwargs)  # type: ignore[arg-type]
        assert exc.value.exit_code == code and exc.value.fault == fault


def test_recipients_are_planned_and_every_unknown_one_named() -> None:
    known = {"PAKCHONG", "DIST", "PROV"}
    assert plan_recipients(1, "PAKCHONG", ["DIST", " PROV", "DIST", ""], known) == ("DIST", "PROV")
    with pytest.raises(errors.UnknownRecipients) as exc:
        plan_recipients(1, "PAKCHONG", ["NOPE", "DIST", "GONE"], known)
    assert exc.value.code_list == ["NOPE", "GONE"] and exc.value.exit_code == 4
    with pytest.raises(errors.SendToSelf):
        plan_recipients(1, "PAKCHONG", ["DIST", "PAKCHONG"], known)
    with pytest.raises(errors.NoRecipients):
        plan_recipients(1, "PAKCHONG", [" "], known)


def test_every_fault_code_is_an_error() -> None:
    faults = {
        cls.fault
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.DeliveryFault) and cls is not errors.DeliveryFault
    }
    assert faults == {f.value for f in Fault}


def _existing(recipient: str, state: DeliveryState, dispatch: int = 1) -> Existing:
    return Existing(recipient, f"C-{recipient}", state, dispatch)


def test_a_second_send_is_refused_and_an_interrupted_one_resumed() -> None:
    assert resume_or_refuse(1, ["A", "B"], []).new == ("A", "B")
    interrupted = [
        _existing("A", DeliveryState.DELIVERED),
        _existing("B", DeliveryState.ACCEPTED),
        _existing("C", DeliveryState.ACCEPTED),
    ]
    plan = resume_or_refuse(1, ["A", "B", "C"], interrupted)
    assert plan.new == () and [e.recipient for e in plan.resume] == ["B", "C"] and plan.dispatch == 1
    with pytest.raises(errors.AlreadySent) as exc:
        resume_or_refuse(1, ["B", "D"], interrupted)  # not the same send
    assert exc.value.agency_list == ["B"] and exc.value.fault == "duplicate"
    done = [_existing("A", DeliveryState.DELIVERED), _existing("B", DeliveryState.REGISTERED)]
    with pytest.raises(errors.AlreadySent):
        resume_or_refuse(1, ["A", "B"], done)  # finished: a second identical send is refused
    assert resume_or_refuse(1, ["C"], done).new == ("C",)


def test_delivery_states_follow_the_evidence() -> None:
    state = next_state("c", None, EvidenceKind.SUBMISSION_ACCEPTED)
    for kind in (EvidenceKind.DELIVERED, EvidenceKind.REGISTERED, EvidenceKind.RETURNED):
        state = next_state("c", state, kind)
    assert state is DeliveryState.RETURNED
    with pytest.raises(errors.DeliveryStateConflict) as exc:
        next_state("c", DeliveryState.ACCEPTED, EvidenceKind.REGISTERED)
    assert exc.value.exit_code == 5
    with pytest.raises(errors.DeliveryStateConflict):
        next_state("c", DeliveryState.RETURNED, EvidenceKind.REGISTERED)


# -- evidence and seals ---------------------------------------------------------------------------

AT = datetime(2026, 11, 23, 3, 4, 5, 678901, tzinfo=UTC)


def _chain() -> list[Evidence]:
    first = Evidence(
        consignment=new_consignment_id("PAKCHONG", AT),
        seq=0,
        kind=EvidenceKind.SUBMISSION_ACCEPTED,
        at=AT,
        sender="PAKCHONG",
        recipient="PROV",
        agency="PAKCHONG",
        actor="pc.clerk",
        document_number="นม 52101/1234",
        document_sha256="ab" * 32,
    )
    second = replace(first, seq=1, kind=EvidenceKind.DELIVERED, previous=first.digest())
    third = replace(
        first,
        seq=2,
        kind=EvidenceKind.REGISTERED,
        agency="PROV",
        actor="prov.clerk",
        receive_number="รับ 17/2569",
        previous=second.digest(),
    )
    return [first, second, third]


def test_evidence_round_trips_and_chains() -> None:
    records = _chain()
    assert records[0].consignment.startswith("PAKCHONG.20261123.")
    for record in records:
        assert Evidence.decode(record.encode()) == record
    assert check_chain(records) == []
    assert records[2].encode().decode().count("รับ 17/2569") == 1
    broken = [records[0], replace(records[1], previous="00" * 32), records[2]]
    assert any("does not follow" in p for p in check_chain(broken))
    forged = [records[0], records[1], replace(records[2], agency="PAKCHONG", previous=records[1].digest())]
    assert any("must be signed by PROV" in p for p in check_chain(forged))
    skipped = [records[0], replace(records[2], seq=1, previous=records[0].digest())]
    assert any("cannot follow" in p for p in check_chain(skipped))
    with pytest.raises(ValueError):
        Evidence.decode(records[0].encode() + b" ")


@pytest.mark.parametrize("key", ["p256", "rsa2048"])
def test_seal_signatures_check_offline_and_with_openssl(key: str, tmp_path: Path) -> None:
    ca = MiniCA()
    seal_key, cert = ca.issue("ตราเทศบาลปากช่อง", key=key)
    seal = Seal.from_key("PAKCHONG", seal_key, cert, [ca.issuing])
    record = _chain()[0].encode()
    when = ca.now + timedelta(minutes=1)  # inside the certificates' validity, whatever today is
    signature = sign_detached(record, seal, at=when)
    check = check_signature(record, signature, [ca.root])
    assert check.ok, check.problems
    assert check.signing_time == when.replace(microsecond=0)
    assert "ปากช่อง" in check.signer

    (tmp_path / "e.json").write_bytes(record)
    (tmp_path / "e.p7s").write_bytes(signature)
    (tmp_path / "root.pem").write_bytes(pem(ca.root))
    openssl = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(tmp_path / "e.p7s"),
        "-content", str(tmp_path / "e.json"), "-CAfile", str(tmp_path / "root.pem"), "-purpose", "any",
        "-out", "/dev/null",
    ]  # fmt: skip
    r = subprocess.run(openssl, capture_output=True, text=True)
    assert r.returncode == 0 and "Verification successful" in r.stderr, r.stderr

    (tmp_path / "e.json").write_bytes(record.replace(b"PROV", b"PRAV"))
    assert subprocess.run(openssl, capture_output=True).returncode != 0
    tampered = check_signature(record.replace(b"PROV", b"PRAV"), signature, [ca.root])
    assert not tampered.ok and any("changed" in p for p in tampered.problems)
    other_root = MiniCA().root
    untrusted = check_signature(record, signature, [other_root])
    assert not untrusted.ok and any("no trusted issuer" in p for p in untrusted.problems)
    assert not check_signature(record, b"garbage", [ca.root]).ok


def test_an_expired_seal_is_reported() -> None:
    ca = MiniCA()
    key, cert = ca.issue("seal", days=1)
    seal = Seal.from_key("PAKCHONG", key, cert, [ca.issuing])
    later = ca.now + timedelta(days=30)
    check = check_signature(b"x", sign_detached(b"x", seal, at=later), [ca.root])
    assert not check.ok and any("not valid" in p for p in check.problems)
