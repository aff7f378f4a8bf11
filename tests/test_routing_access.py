"""Access control through the command line: every role of the recipient agency, the sender, an
agency above and a neighbour, for normal, confidential and secret letters. Each denial is exit 3,
each allowed read exit 0; the expectations are written out by hand. Export and search are proved
over the whole matrix through the office API (each allowed export is the stored PDF, opened from
its envelope with the reader's own key when the letter is confidential or secret) and through
the command line for the whole export matrix and a sample of searches.

The letter goes Pak Chong -> district; the district clerk registers it, proposes it to the chief,
who assigns it to d.officer (unit ADMIN). On its route: d.clerk, d.chief, d.officer.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from edoc.errors import PermissionDenied
from edoc.office import Office
from tests.conftest import invoke
from tests.fixtures_pki import PASSPHRASE
from tests.fixtures_send import DIST, make_home, open_home, receive, signed_letter

ON_ROUTE = {"d.clerk", "d.chief", "d.officer"}
USERS = [
    "d.clerk",
    "d.chief",
    "d.head",  # head of ADMIN: the unit it is with, not on the route
    "d.officer",
    "d.officer2",  # another unit
    "d.auditor",
    "d.admin",
    "p.auditor",  # auditor of the province, above the district
    "p.governor",  # executive of the province: another agency
    "pc.clerk",  # the sender's clerk: sees the sender's copy, not the district's
    "s.clerk",  # a neighbour
]

# Content (doc show) of the district's copy, for a normal letter.
SHOW_NORMAL = {"d.clerk", "d.chief", "d.head", "d.officer", "d.auditor", "p.auditor"}
# Metadata (doc status, doc history) of the district's copy, at every secrecy level.
METADATA = {"d.clerk", "d.chief", "d.head", "d.officer", "d.auditor", "d.admin", "p.auditor"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[int, int]]]:
    home = tmp_path_factory.mktemp("access") / "home"
    make_home(home, None)
    docs: dict[str, tuple[int, int]] = {}
    with open_home(home, None) as office:
        for secrecy in ("normal", "confidential", "secret"):
            doc = signed_letter(office, secrecy=secrecy, subject=f"เรื่อง {secrecy}")
            copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
            assert copy is not None
            receive(office, copy, "d.clerk")
            office.route_document(copy, "propose", as_user="d.clerk", to="d.chief")
            office.route_document(copy, "assign", as_user="d.chief", to="d.officer", note="ดำเนินการ")
            docs[secrecy] = (doc, copy)
    (home / "pp.toml").write_text(f'[passphrases]\ndefault = "{PASSPHRASE}"\n', encoding="utf-8")
    return home, docs


def _code(home: Path, *args: str) -> int:
    return invoke("--passphrase-file", str(home / "pp.toml"), *args, home=home).code


@pytest.mark.parametrize(("secrecy", "user"), list(itertools.product(("normal", "confidential", "secret"), USERS)))
def test_matrix(world: tuple[Path, dict[str, tuple[int, int]]], secrecy: str, user: str) -> None:
    home, docs = world
    doc, copy = docs[secrecy]
    content = (user in SHOW_NORMAL) if secrecy == "normal" else (user in ON_ROUTE)
    assert _code(home, "doc", "show", str(copy), "--as", user) == (0 if content else 3)
    meta = user in METADATA
    assert _code(home, "doc", "status", str(copy), "--as", user) == (0 if meta else 3)
    assert _code(home, "doc", "history", str(copy), "--as", user) == (0 if meta else 3)
    # the sender's own copy: only Pak Chong's people (here its clerk) and the auditors above it
    sender_meta = user in ("pc.clerk", "d.auditor", "p.auditor")
    assert _code(home, "doc", "status", str(doc), "--as", user) == (0 if sender_meta else 3)
    # acting on the route: only the holder (d.officer); the others are refused with exit 3
    if user != "d.officer":
        assert _code(home, "doc", "route", str(copy), "acknowledge", "--as", user) == 3
    # doc export: exactly who may read the content; the file is the signed PDF as stored
    out = home.parent / f"export-{secrecy}-{user}.pdf"
    assert _code(home, "doc", "export", str(copy), "--out", str(out), "--as", user) == (0 if content else 3)
    assert out.is_file() == content
    if content:
        assert out.read_bytes().startswith(b"%PDF-")
        assert hashlib.sha256(out.read_bytes()).hexdigest() == _pdf_sha256(home, copy)


# Who may read the sender's copy (Pak Chong's): its drafter, and for a normal letter the
# auditors above Pak Chong (the district's and the province's).
def _sender_content(secrecy: str, user: str) -> bool:
    return user == "pc.clerk" or (secrecy == "normal" and user in ("d.auditor", "p.auditor"))


SENDER_METADATA = {"pc.clerk", "d.auditor", "p.auditor"}


@pytest.mark.parametrize("secrecy", ["normal", "confidential", "secret"])
def test_export_and_search_matrix_through_the_office(
    world: tuple[Path, dict[str, tuple[int, int]]], secrecy: str
) -> None:
    home, docs = world
    doc, copy = docs[secrecy]
    with open_home(home, None) as office:
        number = office.show_document(doc, as_user="pc.clerk").number
        assert number
        for user in USERS:
            content = (user in SHOW_NORMAL) if secrecy == "normal" else (user in ON_ROUTE)
            for doc_id, allowed in ((copy, content), (doc, _sender_content(secrecy, user))):
                if allowed:
                    pdf = office.export_document(doc_id, as_user=user)
                    assert hashlib.sha256(pdf).hexdigest() == _pdf_sha256(home, doc_id), (user, doc_id)
                else:
                    with pytest.raises(PermissionDenied):
                        office.export_document(doc_id, as_user=user)
            # by number: whoever sees the register's columns finds it; content only for readers
            hits = {h.document_id: h.content_visible for h in office.search(number, as_user=user)}
            expected = {}
            if user in METADATA:
                expected[copy] = content
            if user in SENDER_METADATA:
                expected[doc] = _sender_content(secrecy, user)
            assert hits == expected, (user, hits)
            # by a word of the body: only readers of a normal letter; a restricted body is sealed
            found = {h.document_id for h in office.search("จัดประชุม", as_user=user)}
            if secrecy == "normal":
                assert copy in found if content else copy not in found, user
                assert doc in found if _sender_content(secrecy, user) else doc not in found, user
            else:
                assert copy not in found and doc not in found, user


@pytest.mark.parametrize("user", ["d.officer", "d.head", "d.auditor", "p.auditor", "s.clerk"])
def test_search_through_the_command_line(world: tuple[Path, dict[str, tuple[int, int]]], user: str) -> None:
    home, docs = world
    doc, copy = docs["secret"]
    with open_home(home, None) as office:
        number = str(office.show_document(doc, as_user="pc.clerk").number)
    result = invoke("--json", "search", number, "--as", user, home=home)
    assert result.code == 0
    items = {i["id"]: i for i in result.json()["items"]}
    assert (copy in items) == (user in METADATA)
    if copy in items:
        assert items[copy]["content_visible"] == (user in ON_ROUTE)
        assert "เรื่อง secret" not in items[copy]["subject"] and "ลับมาก" in items[copy]["subject"]


def test_auditors_see_registers_evidence_and_the_log(
    world: tuple[Path, dict[str, tuple[int, int]]], tmp_path: Path
) -> None:
    home, docs = world
    _doc, copy = docs["secret"]
    for auditor in ("d.auditor", "p.auditor"):
        assert _code(home, "register", "received", "--agency", DIST, "--as", auditor) == 0
        assert _code(home, "doc", "evidence", str(copy), "--out", str(tmp_path / auditor), "--as", auditor) == 0
        assert _code(home, "doc", "history", str(copy), "--as", auditor) == 0
        assert _code(home, "doc", "show", str(copy), "--as", auditor) == 3
        assert _code(home, "doc", "export", str(copy), "--out", str(tmp_path / "x.pdf"), "--as", auditor) == 3
    assert _code(home, "audit", "verify") == 0


def _pdf_sha256(home: Path, doc_id: int) -> str:
    """The PDF hash the document's row records (of the plaintext: the same for a sealed one)."""
    with open_home(home, None) as office:

        def read(session: object) -> str:
            row = office._document_row(session, doc_id)  # type: ignore[arg-type]
            assert row.pdf_sha256 is not None
            return row.pdf_sha256

        return office._read(read)


def test_inbox_shows_each_person_what_waits_for_them(world: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    home, docs = world
    copies = sorted(c for _, c in docs.values())
    for user in USERS:
        result = invoke("--json", "inbox", "--as", user, home=home)
        assert result.code == 0
        ids = sorted(i["id"] for i in result.json()["items"])
        assert ids == (copies if user == "d.officer" else []), user


def test_secret_subjects_are_masked_for_the_registry_before_it_is_theirs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_home(home, None)
    with open_home(home, None) as office:
        doc = signed_letter(office, secrecy="secret", subject="เรื่องลับมาก")
        office.send_document(doc, as_user="pc.clerk", to=DIST)
    items = invoke("--json", "inbox", "--as", "d.clerk", home=home).json()["items"]
    assert len(items) == 1 and "เรื่องลับมาก" not in items[0]["subject"] and items[0]["secrecy"] == "secret"


def test_auditors_read_evidence_but_not_secret_content(world: tuple[Path, dict[str, tuple[int, int]]]) -> None:
    home, docs = world
    _doc, copy = docs["secret"]
    with open_home(home, None) as office:
        assert _office_status_ok(office, copy, "p.auditor")
    assert _code(home, "doc", "show", str(copy), "--as", "p.auditor") == 3


def _office_status_ok(office: Office, doc: int, user: str) -> bool:
    status = office.document_status(doc, as_user=user)
    return status.consignment is not None and "ลับ" in status.subject
