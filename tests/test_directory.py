"""The directory's values and the permission policy, as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edoc.directory import (
    Act,
    Actor,
    DocumentFacts,
    Role,
    decide,
    require,
    validate_agency_code,
    validate_letter_code,
    validate_username,
)
from edoc.errors import InvalidField, PermissionDenied

THAI_LETTERS = "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ"


@pytest.mark.parametrize("code", ["นม 52101", "มท 0201.2", "นม 0023.4", "กค 0405.1.2", "ศธ 04002", "นม  52101 "])
def test_letter_codes_accepted(code: str) -> None:
    assert validate_letter_code(code) == " ".join(code.split())


@pytest.mark.parametrize("code", ["", "52101", "abc 12", "นม", "นม 12a", "นม 12.", "นม/12", "นม 12 34"])
def test_letter_codes_refused(code: str) -> None:
    with pytest.raises(InvalidField) as exc:
        validate_letter_code(code)
    assert exc.value.field == "letter-code"


@given(
    st.text(alphabet=THAI_LETTERS, min_size=1, max_size=4),
    st.integers(0, 10**6),
    st.lists(st.integers(0, 999), max_size=3),
)
def test_letter_codes_property(letters: str, n: int, tail: list[int]) -> None:
    code = f"{letters} {n}" + "".join(f".{t}" for t in tail)
    assert validate_letter_code(code) == code


def test_letter_code_type_error() -> None:
    with pytest.raises(TypeError):
        validate_letter_code(52101)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Bad", "a", "a b", "ก.ข", "-x", "x" * 65])
def test_bad_usernames(name: str) -> None:
    with pytest.raises(InvalidField):
        validate_username(name)


@pytest.mark.parametrize("code", ["", "has space", "x" * 33, "ปากช่อง"])
def test_bad_agency_codes(code: str) -> None:
    with pytest.raises(InvalidField):
        validate_agency_code(code)


def actor(role: Role, agency: str = "PC", unit: str | None = "OFFICE", name: str = "u") -> Actor:
    return Actor(username=name, role=role, agency=agency, agency_path=("PROV", "DIST", agency), unit=unit)


DOC = DocumentFacts(agency="PC", agency_path=("PROV", "DIST", "PC"), unit="OFFICE")


@pytest.mark.parametrize(
    ("role", "act", "allowed"),
    [
        (Role.ADMIN, Act.MANAGE_DIRECTORY, True),
        (Role.CLERK, Act.MANAGE_DIRECTORY, False),
        (Role.EXECUTIVE, Act.MANAGE_DIRECTORY, False),
        (Role.OFFICER, Act.DRAFT, True),
        (Role.AUDITOR, Act.DRAFT, False),
        (Role.CLERK, Act.RECEIVE, True),
        (Role.OFFICER, Act.RECEIVE, False),
        (Role.CLERK, Act.SEND, True),
        (Role.EXECUTIVE, Act.SEND, False),
        (Role.AUDITOR, Act.VIEW_AUDIT, True),
        (Role.CLERK, Act.VIEW_AUDIT, False),
        (Role.AUDITOR, Act.VIEW_REGISTER, True),
        (Role.OFFICER, Act.VIEW_REGISTER, False),
    ],
)
def test_agency_acts(role: Role, act: Act, allowed: bool) -> None:
    assert bool(decide(actor(role), act)) is allowed


def test_other_agency_is_refused_except_auditors_below() -> None:
    assert not decide(actor(Role.CLERK, agency="OTHER"), Act.VIEW_REGISTER, "PC")
    prov_auditor = Actor("aud", Role.AUDITOR, "PROV", ("PROV",))
    assert decide(prov_auditor, Act.VIEW_REGISTER, "PC").allowed is True  # str target: own check
    doc_facts = DocumentFacts(agency="PC", agency_path=("PROV", "DIST", "PC"))
    assert decide(prov_auditor, Act.READ, doc_facts)
    secret = DocumentFacts(agency="PC", agency_path=("PROV", "DIST", "PC"), secrecy="secret")
    assert not decide(prov_auditor, Act.READ, secret)
    assert decide(prov_auditor, Act.READ_METADATA, secret)


def test_secret_documents_only_for_people_on_the_route() -> None:
    secret = DocumentFacts(agency="PC", agency_path=("PC",), secrecy="secret", parties=frozenset({"on.route"}))
    assert not decide(actor(Role.EXECUTIVE), Act.READ, secret)
    assert not decide(actor(Role.CLERK), Act.READ, secret)
    assert decide(actor(Role.OFFICER, name="on.route"), Act.READ, secret)


def test_signing_needs_route_or_executive() -> None:
    assert decide(actor(Role.EXECUTIVE), Act.SIGN, DOC)
    assert not decide(actor(Role.HEAD), Act.SIGN, DOC)
    on_route = DocumentFacts(agency="PC", parties=frozenset({"head1"}))
    assert decide(actor(Role.HEAD, name="head1"), Act.SIGN, on_route)
    assert not decide(actor(Role.EXECUTIVE, agency="OTHER"), Act.SIGN, DOC)
    assert not decide(actor(Role.CLERK, name="head1"), Act.SIGN, on_route)


def test_require_raises_with_reason() -> None:
    with pytest.raises(PermissionDenied) as exc:
        require(actor(Role.OFFICER), Act.MANAGE_DIRECTORY)
    assert "officer" in str(exc.value)


def test_decide_type_checks() -> None:
    with pytest.raises(TypeError):
        decide(actor(Role.ADMIN), "manage-directory")  # type: ignore[arg-type]
