"""A small directory for the registers' tests, and documents to number.

Two agencies (Pak Chong municipality and the district office), each with a clerk, an officer,
a head and an executive; Pak Chong has two units.
"""

from __future__ import annotations

from edoc.directory import Agency, Role, Unit, User
from edoc.office import Office

PAKCHONG = "PAKCHONG"
DISTRICT = "PAKCHONG-DIST"


def build_directory(office: Office) -> None:
    office.add_agencies(
        [
            Agency("PAKCHONG-DIST", "อำเภอปากช่อง", "นม 0318"),
            Agency(PAKCHONG, "เทศบาลเมืองปากช่อง", "นม 52101", parent=DISTRICT),
        ]
    )
    office.add_units([Unit(PAKCHONG, "ENG", "กองช่าง"), Unit(PAKCHONG, "FIN", "กองคลัง")])
    office.add_users(
        [
            User("clerk", PAKCHONG, "นางสาวสมใจ รักงาน", "เจ้าพนักงานธุรการ", Role.CLERK),
            User("officer", PAKCHONG, "นายช่าง ดีมาก", "นายช่างโยธา", Role.OFFICER, unit="ENG"),
            User("head", PAKCHONG, "นายหัวหน้า กองช่าง", "ผู้อำนวยการกองช่าง", Role.HEAD, unit="ENG"),
            User("mayor", PAKCHONG, "นายกเทศ มนตรี", "นายกเทศมนตรีเมืองปากช่อง", Role.EXECUTIVE),
            User("auditor", PAKCHONG, "นางตรวจ สอบ", "ผู้ตรวจสอบภายใน", Role.AUDITOR),
            User("fofficer", PAKCHONG, "นางการเงิน ดี", "นักวิชาการเงินและบัญชี", Role.OFFICER, unit="FIN"),
            User("dclerk", DISTRICT, "นายรับ หนังสือ", "เจ้าพนักงานธุรการ", Role.CLERK),
            User("dofficer", DISTRICT, "นายปกครอง ดี", "ปลัดอำเภอ", Role.OFFICER),
        ]
    )


LETTER: dict[str, object] = {
    "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาเทศบาล",
    "to": "นายอำเภอปากช่อง",
    "body": ["ด้วยเทศบาลเมืองปากช่องจะจัดประชุมคณะกรรมการพัฒนาเทศบาล", "จึงเรียนมาเพื่อโปรดเข้าร่วมประชุม"],
    "signer": "mayor",
}
"""An external letter from Pak Chong, signed by the mayor."""

FORMS: dict[tuple[str, str | None], dict[str, object]] = {
    ("external", None): LETTER,
    ("internal", None): {**LETTER, "to": "ปลัดเทศบาล"},
    ("stamped", None): LETTER,
    ("directive", "order"): {
        "form": "order",
        "subject": "แต่งตั้งคณะกรรมการตรวจรับพัสดุ",
        "body": ["อาศัยอำนาจตามความในพระราชบัญญัติเทศบาล"],
        "signer": "mayor",
    },
    ("publicity", "announcement"): {
        "form": "announcement",
        "subject": "รับสมัครบุคคลเพื่อสรรหาเป็นพนักงานจ้าง",
        "body": ["ด้วยเทศบาลเมืองปากช่องประสงค์จะรับสมัครบุคคล"],
        "signer": "mayor",
    },
}


def new_drafts(
    office: Office,
    as_user: str,
    n: int,
    *,
    kind: str = "external",
    form: str | None = None,
    **fields: object,
) -> list[int]:
    """``n`` drafts made through ``new_document`` (subjects numbered 1..n)."""
    from edoc.documents import validate

    base = {**FORMS[(kind, form)], **fields}
    subject = str(base["subject"])
    return [
        office.new_document(kind, validate(kind, {**base, "subject": f"{subject} ครั้งที่ {i + 1}"}), as_user=as_user)
        for i in range(n)
    ]


def tiny_pdf(title: str = "หนังสือจากภายนอก") -> bytes:
    """A one-page PDF with a title, as an outside sender would send."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def imported(office: Office, as_user: str, n: int, **kwargs: object) -> list[int]:
    """``n`` incoming PDFs imported through ``import_document``."""
    return [
        office.import_document(tiny_pdf(), as_user=as_user, subject=f"หนังสือขอความร่วมมือ ฉบับที่ {i + 1}", **kwargs)  # type: ignore[arg-type]
        for i in range(n)
    ]


def bulk_drafts(office: Office, as_user: str, n: int) -> list[int]:
    """``n`` external-letter drafts in one transaction (setup for the load tests).

    The rows are what ``new_document`` stores for the same content (one validated content,
    subjects numbered 1..n); one transaction instead of ``n`` keeps the 8 x 500 numbering test
    about numbering rather than about drafting.
    """
    from datetime import UTC, datetime

    from edoc.documents import validate
    from edoc.storage import directory as dir_store
    from edoc.storage.tables import DocumentRow

    content = validate("external", LETTER)

    def act(session: object) -> list[int]:
        actor, account = office._actor(session, as_user)  # type: ignore[arg-type]
        signer = dir_store.account_row(session, str(LETTER["signer"]))  # type: ignore[arg-type]
        agency = dir_store.agency_row(session, actor.agency)  # type: ignore[arg-type]
        now = datetime.now(UTC)
        rows = [
            DocumentRow(
                agency_id=account.agency_id,
                unit_id=account.unit_id,
                kind="external",
                form="",
                origin="drafted",
                state="draft",
                subject=f"{content.subject} ครั้งที่ {i + 1}",
                fields_json=content.canonical_json(),
                drafter_id=account.id,
                signer_id=signer.id,
                from_name=agency.name,
                to_name=str(LETTER["to"]),
                holder_id=account.id,
                holder_unit_id=account.unit_id,
                created_at=now,
                updated_at=now,
            )
            for i in range(n)
        ]
        session.add_all(rows)  # type: ignore[attr-defined]
        session.flush()  # type: ignore[attr-defined]
        return [r.id for r in rows if r.id is not None]

    return office._run(act)  # type: ignore[arg-type]
