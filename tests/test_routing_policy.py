"""The access policy as a table: every role, own and other agency, every secrecy level, and how
the document reached the person. The expectations are written out by hand, not recomputed."""

from __future__ import annotations

import itertools

import pytest

from edoc.directory import Act, Actor, DocumentFacts, Role, decide

PATH = ("PROV", "DIST", "PC")
RELATIONS = ("party", "unit", "none")
SECRECY = ("normal", "confidential", "secret", "top-secret")


def _actor(role: Role, agency: str = "PC", relation: str = "none") -> Actor:
    unit = "ENG" if relation == "unit" else "OFFICE"
    path = {"PC": PATH, "PROV": ("PROV",), "OTHER": ("OTHER",)}[agency]
    return Actor(username="u", role=role, agency=agency, agency_path=path, unit=unit)


def _doc(secrecy: str, relation: str, state: str = "received") -> DocumentFacts:
    return DocumentFacts(
        agency="PC",
        agency_path=PATH,
        unit="ENG",
        secrecy=secrecy,
        parties=frozenset({"u"} if relation == "party" else {"someone.else"}),
        units=frozenset({"ENG"}),
        state=state,
    )


# Content of a normal, finished document of one's own agency, by role and how it reached them.
READ_NORMAL = {
    Role.CLERK: {"party": True, "unit": True, "none": True},
    Role.EXECUTIVE: {"party": True, "unit": True, "none": True},
    Role.AUDITOR: {"party": True, "unit": True, "none": True},
    Role.HEAD: {"party": True, "unit": True, "none": False},
    Role.OFFICER: {"party": True, "unit": True, "none": False},
    Role.ADMIN: {"party": True, "unit": False, "none": False},  # admins run the system, take no matters
}
# Metadata (number, subject line, status, evidence) of one's own agency's documents.
METADATA = {
    Role.CLERK: {"party": True, "unit": True, "none": True},
    Role.EXECUTIVE: {"party": True, "unit": True, "none": True},
    Role.AUDITOR: {"party": True, "unit": True, "none": True},
    Role.HEAD: {"party": True, "unit": True, "none": True},
    Role.OFFICER: {"party": True, "unit": True, "none": False},
    Role.ADMIN: {"party": True, "unit": True, "none": True},
}


@pytest.mark.parametrize(("role", "secrecy", "relation"), list(itertools.product(Role, SECRECY, RELATIONS)))
def test_own_agency_matrix(role: Role, secrecy: str, relation: str) -> None:
    actor, doc = _actor(role, relation=relation), _doc(secrecy, relation)
    content = decide(actor, Act.READ, doc)
    if secrecy == "normal":
        assert content.allowed is READ_NORMAL[role][relation], content.reason
    else:  # confidential and secret: only the people on the route
        assert content.allowed is (relation == "party"), content.reason
        if not content.allowed:
            assert "route" in content.reason
    assert decide(actor, Act.READ_METADATA, doc).allowed is METADATA[role][relation]


@pytest.mark.parametrize(("role", "secrecy"), list(itertools.product(Role, SECRECY)))
def test_other_agencies_see_nothing_but_auditors_above_see_metadata(role: Role, secrecy: str) -> None:
    doc = _doc(secrecy, "none")
    outsider = _actor(role, agency="OTHER")
    assert not decide(outsider, Act.READ, doc)
    assert not decide(outsider, Act.READ_METADATA, doc)
    above = _actor(role, agency="PROV")
    assert decide(above, Act.READ_METADATA, doc).allowed is (role is Role.AUDITOR)
    assert decide(above, Act.READ, doc).allowed is (role is Role.AUDITOR and secrecy == "normal")
    for act in (Act.ROUTE, Act.SEND, Act.RECEIVE, Act.SIGN):
        assert not decide(above, act, doc)


@pytest.mark.parametrize("role", list(Role))
def test_drafts_are_seen_by_the_people_named_on_them_the_registry_and_executives(role: Role) -> None:
    draft = _doc("normal", "none", state="draft")
    assert decide(_actor(role), Act.READ, draft).allowed is (role in (Role.CLERK, Role.EXECUTIVE))
    assert decide(_actor(role, relation="party"), Act.READ, _doc("normal", "party", state="awaiting-signature"))
    assert decide(_actor(role), Act.READ_METADATA, draft).allowed is (role in (Role.CLERK, Role.EXECUTIVE))


@pytest.mark.parametrize(("role", "secrecy", "relation"), list(itertools.product(Role, SECRECY, RELATIONS)))
def test_routing_needs_the_document_to_have_reached_you(role: Role, secrecy: str, relation: str) -> None:
    allowed = decide(_actor(role, relation=relation), Act.ROUTE, _doc(secrecy, relation)).allowed
    if role in (Role.AUDITOR, Role.ADMIN):
        assert not allowed
    elif relation != "none" or role is Role.CLERK:
        assert allowed
    else:
        assert allowed is (secrecy == "normal" and role in (Role.EXECUTIVE, Role.HEAD))


def test_sending_is_the_registrys_and_signing_needs_the_route_for_secrets() -> None:
    for secrecy in SECRECY:
        doc = _doc(secrecy, "none", state="signed")
        assert [r for r in Role if decide(_actor(r), Act.SEND, doc)] == [Role.CLERK]
    assert decide(_actor(Role.EXECUTIVE), Act.SIGN, _doc("normal", "none"))
    assert not decide(_actor(Role.EXECUTIVE), Act.SIGN, _doc("secret", "none"))
    assert decide(_actor(Role.EXECUTIVE, relation="party"), Act.SIGN, _doc("secret", "party"))
    assert not decide(_actor(Role.CLERK, relation="party"), Act.SIGN, _doc("normal", "party"))
