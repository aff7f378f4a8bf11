"""A routing pilot: province, district, Pak Chong and a neighbour, people of every role, a real CA
with user certificates and agency seals, and signed letters to send.

``signed_letter`` uses ``office.sign_document`` when the signing act exists; until then it numbers
the letter, renders its final PDF and marks it signed through storage (the state and the stored
PDF are what sending looks at).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edoc.directory import Agency, Role, Unit, User
from edoc.office import Office, init_office, open_office
from edoc.pki.keys import StaticPassphrases
from edoc.pki.model import CertificateRequest, agency_owner
from tests.fixtures_pki import PASSPHRASE, free_port, write_settings

PROV, DIST, PC, SIKHIU = "NMA-PROV", "PAKCHONG-DIST", "PAKCHONG", "SIKHIU"

PEOPLE: list[User] = [
    User("pc.clerk", PC, "นางสุภาพร บุญมา", "เจ้าพนักงานธุรการ", Role.CLERK, unit="OFFICE"),
    User("pc.mayor", PC, "นายสมศักดิ์ ประเสริฐวงศ์", "นายกเทศมนตรีเมืองปากช่อง", Role.EXECUTIVE),
    User("pc.head", PC, "นายวิชัย มั่นคง", "หัวหน้าสำนักปลัด", Role.HEAD, unit="OFFICE"),
    User("pc.officer", PC, "นายช่าง ดีมาก", "นายช่างโยธา", Role.OFFICER, unit="ENG"),
    User("d.clerk", DIST, "นายรับ หนังสือ", "เจ้าพนักงานธุรการ", Role.CLERK, unit="ADMIN"),
    User("d.chief", DIST, "นายอำเภอ ปากช่อง", "นายอำเภอปากช่อง", Role.EXECUTIVE),
    User("d.head", DIST, "นายปลัด อาวุโส", "ปลัดอำเภอหัวหน้าฝ่ายบริหารงานปกครอง", Role.HEAD, unit="ADMIN"),
    User("d.officer", DIST, "นายปกครอง ดี", "ปลัดอำเภอ", Role.OFFICER, unit="ADMIN"),
    User("d.officer2", DIST, "นางสาวพัฒนา ชุมชน", "พัฒนากรอำเภอ", Role.OFFICER, unit="DEV"),
    User("d.auditor", DIST, "นางตรวจ สอบ", "ผู้ตรวจสอบภายใน", Role.AUDITOR),
    User("d.admin", DIST, "นายระบบ ดูแล", "นักวิชาการคอมพิวเตอร์", Role.ADMIN),
    User("p.clerk", PROV, "นางสาวจิราพร สุขใจ", "เจ้าพนักงานธุรการ", Role.CLERK),
    User("p.governor", PROV, "นายผู้ว่า ราชการ", "ผู้ว่าราชการจังหวัดนครราชสีมา", Role.EXECUTIVE),
    User("p.auditor", PROV, "นายตรวจ จังหวัด", "ผู้ตรวจราชการ", Role.AUDITOR),
    User("s.clerk", SIKHIU, "นางรับ สีคิ้ว", "เจ้าพนักงานธุรการ", Role.CLERK),
]

LETTER: dict[str, Any] = {
    "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาอำเภอ",
    "to": "นายอำเภอปากช่อง",
    "body": ["ด้วยเทศบาลเมืองปากช่องจะจัดประชุมคณะกรรมการพัฒนา", "จึงเรียนมาเพื่อโปรดพิจารณา"],
    "signer": "pc.mayor",
}


def build(office: Office) -> None:
    office.add_agencies(
        [
            Agency(PROV, "จังหวัดนครราชสีมา", "นม 0017"),
            Agency(DIST, "อำเภอปากช่อง", "นม 0318", parent=PROV),
            Agency(PC, "เทศบาลเมืองปากช่อง", "นม 52101", parent=DIST),
            Agency(SIKHIU, "อำเภอสีคิ้ว", "นม 0319", parent=PROV),
        ]
    )
    office.add_units(
        [
            Unit(PC, "OFFICE", "สำนักปลัดเทศบาล"),
            Unit(PC, "ENG", "กองช่าง"),
            Unit(DIST, "ADMIN", "ฝ่ายบริหารงานปกครอง"),
            Unit(DIST, "DEV", "สำนักงานพัฒนาชุมชน"),
        ]
    )
    office.add_users(PEOPLE)


def make_home(home: Path, db_url: str | None) -> None:
    init_office(home, db_url, name="เทศบาลเมืองปากช่อง")
    write_settings(home, kdf_rounds=10_000, base_url=f"http://127.0.0.1:{free_port()}")
    _signing_level(home, "B-B")  # signatures and received stamps without a running TSA/OCSP
    with open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        build(office)
        office.pki_init("p384")
        requests = [CertificateRequest(u.username) for u in PEOPLE if u.role is not Role.ADMIN]
        requests += [CertificateRequest(agency_owner(code)) for code in (PROV, DIST, PC, SIKHIU)]
        office.issue_certificates(requests)


def _signing_level(home: Path, level: str) -> None:
    import tomllib

    import tomli_w

    path = home / "edoc.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("signing", {})["default_level"] = level
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


def open_home(home: Path, db_url: str | None) -> Office:
    return open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE))


@pytest.fixture
def route_office(home: Path, db_url: str | None) -> Iterator[Office]:
    """The routing pilot on SQLite and on PostgreSQL."""
    make_home(home, db_url)
    with open_home(home, db_url) as office:
        yield office


@pytest.fixture
def route_sqlite(home: Path) -> Iterator[Office]:
    """The routing pilot on SQLite only."""
    make_home(home, None)
    with open_home(home, None) as office:
        yield office


def mark_signed(office: Office, doc_id: int) -> None:
    """Number the document, render its final PDF and mark it signed (until ``doc sign`` lands)."""
    sign = getattr(office, "sign_document", None)
    if sign is not None:
        sign(doc_id, as_user="pc.mayor", level="B-B")
        return
    from edoc.storage import documents as doc_store

    office.number_document(doc_id, as_user="pc.clerk")

    def act(session: Any) -> None:
        row = doc_store.document_row(session, doc_id, for_update=True)
        pdf = office._render_row(session, row).pdf
        row.pdf_sha256 = office.db.blobs.put(session, pdf)
        row.state = "signed"
        session.add(row)

    office._run(act)


def signed_letter(office: Office, **fields: Any) -> int:
    """A letter from Pak Chong, drafted by its clerk and signed by the mayor; its id."""
    doc_id = office.new_document("external", {**LETTER, **fields}, as_user="pc.clerk")
    mark_signed(office, doc_id)
    return doc_id


def received_secret_copy(office: Office) -> tuple[int, int]:
    """A secret letter signed by Pak Chong's mayor, sent to the district and registered there by
    its clerk: ``(letter id, copy id)`` (the start of every secrecy-at-rest test of a route)."""
    doc = office.new_document("external", {**LETTER, "secrecy": "secret"}, as_user="pc.clerk")
    office.sign_document(doc, as_user="pc.mayor", level="B-B")
    copy = office.send_document(doc, as_user="pc.clerk", to=DIST).recipients[0].copy_id
    assert copy is not None
    receive(office, copy, "d.clerk")
    return doc, copy


def receive(office: Office, copy_id: int, as_user: str) -> str:
    """Register a delivered copy: ``office.receive_document`` when it exists; until then the same
    act the registers engineer builds around it (receive number, then the routing hook)."""
    act_ = getattr(office, "receive_document", None)
    if act_ is not None:
        return str(act_(copy_id, as_user=as_user, level="B-B").number.text)
    from edoc.directory import Act, require
    from edoc.documents import DocumentEvent

    def act(session: Any) -> str:
        actor, _ = office._actor(session, as_user)
        row = office._document_row(session, copy_id, for_update=True)
        require(actor, Act.RECEIVE, office._document_facts(session, row))
        office._change_state(session, row, DocumentEvent.REGISTER)
        number = office._issue_receive_number(session, row, actor)
        office._routing_on_registered(session, row, number, actor)
        return number.text

    return office._run(act)
