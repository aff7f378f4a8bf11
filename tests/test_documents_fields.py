"""The document models, without a database: kinds, fields, validation, files, lifecycle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from edoc.documents import (
    FORMS,
    SCHEMAS,
    TRANSITIONS,
    DocumentEvent,
    DocumentForm,
    DocumentKind,
    DocumentState,
    Secrecy,
    TransitionRefused,
    Urgency,
    allowed_events,
    from_canonical,
    load,
    next_state,
    validate,
)
from edoc.documents.thai import normalise, thai_date, thai_date_phrase, thai_digits
from edoc.errors import (
    BadChoice,
    DocumentFileInvalid,
    EmptyField,
    InvalidField,
    MissingField,
    UnknownField,
)
from tests.fixtures_documents import MINIMAL


@pytest.mark.parametrize(("kind", "form"), list(MINIMAL))
def test_every_kind_and_form_validates(kind: str, form: str | None) -> None:
    content = validate(kind, MINIMAL[(kind, form)])
    assert content.kind is DocumentKind(kind)
    assert content.form == (DocumentForm(form) if form else None)
    assert content.urgency is Urgency.NORMAL and content.secrecy is Secrecy.NORMAL
    # the canonical form is stable and rebuilds the same content
    again = from_canonical(kind, content.canonical())
    assert again.canonical_json() == content.canonical_json()
    assert json.loads(content.canonical_json()) == content.canonical()


def test_schema_table_covers_every_kind_and_form() -> None:
    keys = {(k, f) for k in DocumentKind for f in (FORMS[k] or (None,))}
    assert set(SCHEMAS) == keys
    assert {(DocumentKind(k), DocumentForm(f) if f else None) for k, f in MINIMAL} == keys
    for specs in SCHEMAS.values():
        names = [s.name for s in specs]
        assert len(names) == len(set(names))
        assert {"subject", "body", "urgency", "secrecy", "signer", "initials", "attachments"} <= set(names)


def _with(kind: tuple[str, str | None], **changes: Any) -> dict[str, Any]:
    data = dict(MINIMAL[kind])
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


_DROP = object()
EXT = ("external", None)


@pytest.mark.parametrize(
    ("kind", "data", "error", "field"),
    [
        (EXT, _with(EXT, subject=_DROP), MissingField, "subject"),
        (EXT, _with(EXT, to=_DROP), MissingField, "to"),
        (EXT, _with(EXT, signer=_DROP), MissingField, "signer"),
        (EXT, _with(EXT, body=[]), EmptyField, "body"),
        (EXT, _with(EXT, body=""), EmptyField, "body"),
        (EXT, _with(EXT, body="   \n\n  "), EmptyField, "body"),
        (EXT, _with(EXT, body=["ก", "  "]), EmptyField, "body[1]"),
        (EXT, _with(EXT, body=["ก", 3.5, {"x": 1}]), InvalidField, "body[2]"),
        (EXT, _with(EXT, subject="   "), EmptyField, "subject"),
        (EXT, _with(EXT, colour="red"), UnknownField, "colour"),
        (EXT, _with(EXT, form="order"), UnknownField, "form"),
        (EXT, _with(EXT, urgency="fast"), BadChoice, "urgency"),
        (EXT, _with(EXT, urgency="ด่วนมากๆ"), BadChoice, "urgency"),
        (EXT, _with(EXT, secrecy="hush"), BadChoice, "secrecy"),
        (EXT, _with(EXT, secrecy=3), BadChoice, "secrecy"),
        (EXT, _with(EXT, signer="Pc Mayor"), InvalidField, "signer"),
        (EXT, _with(EXT, initials=["pc.head.office", "pc.head.office"]), InvalidField, "initials"),
        (EXT, _with(EXT, initials=["pc.mayor"]), InvalidField, "initials"),
        (EXT, _with(EXT, initials="pc.head.office"), InvalidField, "initials"),
        (EXT, _with(EXT, contact={"phone": "1", "mobile": "2"}), UnknownField, "contact.mobile"),
        (EXT, _with(EXT, contact={"email": "not an address"}), InvalidField, "contact.email"),
        (EXT, _with(EXT, contact="044"), InvalidField, "contact"),
        (EXT, _with(EXT, enclosures=["ก", ""]), EmptyField, "enclosures[1]"),
        (EXT, _with(EXT, attachments=["/nonexistent/file.pdf"]), InvalidField, "attachments[0]"),
        (EXT, _with(EXT, subject="ก" * 501), InvalidField, "subject"),
        (("directive", "order"), _with(("directive", "order"), form="edict"), BadChoice, "form"),
        (("directive", "order"), _with(("directive", "order"), clauses=["ก"]), UnknownField, "clauses"),
        (("record", "note"), _with(("record", "note"), form=_DROP), MissingField, "form"),
        (("record", "minutes"), _with(("record", "minutes"), held_on="20/11/2569"), InvalidField, "held_on"),
        (("record", "minutes"), _with(("record", "minutes"), held_on=_DROP), MissingField, "held_on"),
        (("record", "minutes"), _with(("record", "minutes"), present=[]), EmptyField, "present"),
        (
            ("record", "minutes"),
            _with(("record", "minutes"), present=[{"position": "x"}]),
            MissingField,
            "present[0].name",
        ),
        (("record", "minutes"), _with(("record", "minutes"), started_at="25:00"), InvalidField, "started_at"),
    ],
)
def test_bad_fields_name_the_field(
    kind: tuple[str, str | None], data: dict[str, Any], error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as info:
        validate(kind[0], data)
    assert info.value.field == field  # type: ignore[attr-defined]
    assert field in info.value.message("en")  # type: ignore[attr-defined]
    assert field in info.value.message("th")  # type: ignore[attr-defined]
    assert info.value.exit_code == 2  # type: ignore[attr-defined]


def test_unknown_kind_is_a_bad_choice() -> None:
    with pytest.raises(BadChoice) as info:
        validate("letter", MINIMAL[EXT])
    assert info.value.field == "kind" and "external" in str(info.value)


@pytest.mark.parametrize(
    ("given", "urgency"),
    [
        ("normal", Urgency.NORMAL),
        ("ปกติ", Urgency.NORMAL),
        ("urgent", Urgency.URGENT),
        ("ด่วน", Urgency.URGENT),
        ("Very Urgent", Urgency.VERY_URGENT),
        ("ด่วนมาก", Urgency.VERY_URGENT),
        ("most_urgent", Urgency.MOST_URGENT),
        (" ด่วนที่สุด ", Urgency.MOST_URGENT),
        ("004", Urgency.MOST_URGENT),
    ],
)
def test_urgency_accepts_english_thai_and_codes(given: str, urgency: Urgency) -> None:
    assert validate("external", _with(EXT, urgency=given)).urgency is urgency


@pytest.mark.parametrize(
    ("given", "secrecy"),
    [
        ("confidential", Secrecy.CONFIDENTIAL),
        ("ลับ", Secrecy.CONFIDENTIAL),
        ("secret", Secrecy.SECRET),
        ("ลับมาก", Secrecy.SECRET),
        ("top-secret", Secrecy.TOP_SECRET),
        ("ลับที่สุด", Secrecy.TOP_SECRET),
        ("ปกติ", Secrecy.NORMAL),
    ],
)
def test_secrecy_accepts_english_and_thai(given: str, secrecy: Secrecy) -> None:
    content = validate("external", _with(EXT, secrecy=given))
    assert content.secrecy is secrecy and content.fields["secrecy"] == secrecy.value


def test_codes_of_the_interchange_standard() -> None:
    assert [u.code for u in Urgency] == ["001", "002", "003", "004"]
    assert [s.code for s in Secrecy] == ["001", "002", "003", "004"]
    assert [s.thai for s in Secrecy] == ["ปกติ", "ลับ", "ลับมาก", "ลับที่สุด"]


def test_defaults_are_filled_in() -> None:
    content = validate("external", MINIMAL[EXT])
    assert content.get("closing") == "ขอแสดงความนับถือ"
    assert content.get("salutation") == "เรียน"
    assert content.fields["copies_to"] == ()
    assert validate("directive", MINIMAL[("directive", "order")]).form is DocumentForm.ORDER
    assert validate("publicity", MINIMAL[("publicity", "announcement")]).form is DocumentForm.ANNOUNCEMENT
    assert validate("directive", _with(("directive", "order"), form="คำสั่ง")).form is DocumentForm.ORDER


def test_text_is_normalised() -> None:
    # nikhahit + sara aa typed for sara am; a tone mark typed before its vowel; stray spaces
    content = validate("external", _with(EXT, subject="  การนํา  เสนอ\u200b ", body=["ที่ก่ี\n ทำ"]))
    assert content.subject == "การนำ เสนอ"
    assert content.body == ("ที่กี่ ทำ",)
    assert normalise("น\u0e4d\u0e49\u0e32") == "น\u0e49\u0e33"


def test_body_as_one_string_is_split_at_blank_lines() -> None:
    content = validate("external", _with(EXT, body="ย่อหน้าแรก\nต่อบรรทัด\n\n  \nย่อหน้าที่สอง\n"))
    assert content.body == ("ย่อหน้าแรก ต่อบรรทัด", "ย่อหน้าที่สอง")


def test_minutes_people_and_times() -> None:
    content = validate(
        "record",
        _with(
            ("record", "minutes"),
            present=["นายหนึ่ง", {"name": "นายสอง", "position": "ประธาน"}],
            absent=[{"name": "นายสาม", "remark": "ติดราชการ"}],
            started_at="9.30",
            ended_at="12:00 น.",
        ),
    )
    assert content.get("present") == ({"name": "นายหนึ่ง"}, {"name": "นายสอง", "position": "ประธาน"})
    assert content.canonical()["present"][1] == {"name": "นายสอง", "position": "ประธาน"}
    assert (content.get("started_at"), content.get("ended_at")) == ("09:30", "12:00")
    assert content.get("held_on") == "2026-11-20"


def test_json_and_toml_files_mean_the_same(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 fake")
    data = {**MINIMAL[EXT], "attachments": ["scan.pdf"], "contact": {"unit": "กองช่าง", "phone": "0 4431 1234"}}
    (tmp_path / "letter.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "letter.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    from_json = load("external", tmp_path / "letter.json")
    from_toml = load("external", tmp_path / "letter.toml")
    assert from_json == from_toml
    assert from_json.attachments == ((tmp_path / "scan.pdf").resolve(),)


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("bad.json", '{"subject": ', "bad JSON at line 1"),
        ("list.json", "[1, 2]", "must be an object"),
        ("bad.toml", "subject = ", "bad TOML"),
        ("latin1.toml", None, "not UTF-8"),
    ],
)
def test_broken_files_say_what_is_wrong(tmp_path: Path, name: str, text: str | None, needle: str) -> None:
    path = tmp_path / name
    if text is None:
        path.write_bytes('subject = "caf\xe9"'.encode("latin-1"))
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(DocumentFileInvalid) as info:
        load("external", path)
    assert needle in str(info.value) and name in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentFileInvalid, match="No such file"):
        load("external", tmp_path / "nope.toml")


def test_thai_dates_and_digits() -> None:
    from datetime import date

    assert thai_date(date(2026, 11, 22)) == "22 พฤศจิกายน 2569"
    assert thai_date(date(2026, 1, 5), thai=True) == "๕ มกราคม ๒๕๖๙"
    assert thai_date_phrase(date(2026, 12, 31)) == "31 ธันวาคม พ.ศ. 2569"
    assert thai_digits("นม 52101/7") == "นม ๕๒๑๐๑/๗"


# -- lifecycle ---------------------------------------------------------------------------------


def test_outgoing_path() -> None:
    state = DocumentState.DRAFT
    for event in ("submit", "initial", "number", "sign", "send", "close", "file"):
        state = next_state(state, event)
    assert state is DocumentState.FILED


def test_incoming_path_and_reopen() -> None:
    state = DocumentState.RECEIVED
    for event in ("register", "route", "route", "close", "reopen", "close", "file"):
        state = next_state(state, event)
    assert state is DocumentState.FILED
    assert next_state("closed", "reopen", outgoing=True) is DocumentState.SENT


def test_everything_not_in_the_table_is_refused() -> None:
    refused = 0
    for state in DocumentState:
        for event in DocumentEvent:
            if (state, event) in TRANSITIONS:
                assert event in allowed_events(state)
                continue
            refused += 1
            with pytest.raises(TransitionRefused):
                next_state(state, event)
    assert refused > 60
    assert allowed_events("filed") == () and allowed_events("cancelled") == ()
    # the things that must never happen
    for state, event in [("sent", "cancel"), ("signed", "edit"), ("draft", "send"), ("received", "sign")]:
        with pytest.raises(TransitionRefused):
            next_state(state, event)


def test_unknown_state_or_event_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        next_state("lost", "sign")
    with pytest.raises(ValueError):
        next_state("draft", "burn")
