"""Demo step: Pak Chong's clerk registers incoming letters, numbers an outgoing one, prints both
registers, and searches them.

Three letters arrive from outside (the province, the district office, the provincial health
office) as PDFs; the clerk imports each and receives it (``Office.receive_document``): a
receive number, and the received stamp signed by the municipality's seal. The external letter
the documents step drafted gets its outgoing number. Both registers are written as A4
landscape PDFs (and the stamped letters as PDFs) into ``<home>/registers/``; a search for a
Thai word shows what the clerk finds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edoc.errors import Conflict
from edoc.office import Office
from edoc.pilot.names import PAKCHONG

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

CLERK = "pc.clerk"
"""Who registers (the clerk of the mayor's office)."""
REGISTERS_DIR = "registers"
"""Folder, in the home, for the registers' PDFs and the stamped letters."""

INCOMING: tuple[dict[str, Any], ...] = (
    {
        "agency": ("จังหวัดนครราชสีมา", "ศาลากลางจังหวัดนครราชสีมา ถนนมหาดไทย อำเภอเมือง นครราชสีมา 30000", "นม 0017"),
        "number": "นม 0017/4521",
        "signer": ("นายชัยวัฒน์ ศรีนคร", "ผู้ว่าราชการจังหวัดนครราชสีมา"),
        "fields": {
            "subject": "ขอเชิญประชุมคณะกรรมการขับเคลื่อนโคราชเมืองดิจิทัล ครั้งที่ 4/2569",
            "to": "นายกเทศมนตรีเมืองปากช่อง",
            "body": [
                "ด้วยจังหวัดนครราชสีมากำหนดประชุมคณะกรรมการขับเคลื่อนโคราชเมืองดิจิทัล ครั้งที่ 4/2569 "
                "เพื่อติดตามการใช้ระบบสารบรรณอิเล็กทรอนิกส์ขององค์กรปกครองส่วนท้องถิ่น",
                "จึงเรียนมาเพื่อโปรดเข้าร่วมประชุมตามวันเวลาดังกล่าว",
            ],
        },
    },
    {
        "agency": ("อำเภอปากช่อง", "ที่ว่าการอำเภอปากช่อง ถนนมิตรภาพ อำเภอปากช่อง นครราชสีมา 30130", "นม 0318"),
        "number": "นม 0318/2210",
        "signer": ("นายปกครอง ดีงาม", "นายอำเภอปากช่อง"),
        "fields": {
            "subject": "ขอความร่วมมือประชาสัมพันธ์การเลือกตั้งผู้ใหญ่บ้าน",
            "to": "นายกเทศมนตรีเมืองปากช่อง",
            "body": [
                "ด้วยอำเภอปากช่องจะจัดให้มีการเลือกตั้งผู้ใหญ่บ้านในเขตอำเภอ",
                "จึงขอความร่วมมือเทศบาลเมืองปากช่องประชาสัมพันธ์ให้ประชาชนทราบโดยทั่วกัน",
            ],
        },
    },
    {
        "agency": ("สำนักงานสาธารณสุขจังหวัดนครราชสีมา", "ถนนพิบูลละเอียด อำเภอเมือง นครราชสีมา 30000", "นม 0033"),
        "number": "นม 0033/918",
        "signer": ("นายแพทย์สุขภาพ แข็งแรง", "นายแพทย์สาธารณสุขจังหวัดนครราชสีมา"),
        "fields": {
            "subject": "แจ้งแนวทางการเฝ้าระวังโรคไข้เลือดออกในชุมชน",
            "to": "นายกเทศมนตรีเมืองปากช่อง",
            "body": [
                "ด้วยขณะนี้เข้าสู่ช่วงฤดูฝน ซึ่งเป็นช่วงที่มีการระบาดของโรคไข้เลือดออก",
                "จึงขอให้เทศบาลดำเนินการกำจัดแหล่งเพาะพันธุ์ยุงลายในชุมชนอย่างต่อเนื่อง",
            ],
        },
    },
)
"""The letters that arrive from outside: sender (name, address, letter code), number, signer."""

SEARCH_WORD = "ประชุม"
"""What the demo searches for (inside running Thai text, no spaces)."""


def _letter(item: dict[str, Any], on: date) -> bytes:
    from edoc.documents import validate
    from edoc.documents.render import Letterhead, Person, RenderInput, render

    name, address, letter_code = item["agency"]
    content = validate("external", {**item["fields"], "signer": "outside"})
    return render(
        RenderInput(
            content=content,
            agency=Letterhead(name=name, address=address, letter_code=letter_code),
            signer=Person(*item["signer"]),
            date=on,
            created=datetime.now(UTC),
            number=item["number"],
        )
    ).pdf


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _receive(
    office: Office, today: date, folder: Path, progress: Callable[[str, int, int], None]
) -> list[dict[str, Any]]:
    """Import and receive each incoming letter; write the stamped PDFs."""
    received = []
    for i, item in enumerate(INCOMING):
        sender = item["agency"][0]
        doc_id = office.import_document(
            _letter(item, today),
            as_user=CLERK,
            subject=item["fields"]["subject"],
            from_agency=sender,
            number=item["number"],
            document_date=today,
        )
        got = office.receive_document(doc_id, as_user=CLERK)
        stamped = office.export_document(doc_id, as_user=CLERK)
        _write(folder / f"letter-{got.number.year}-{got.number.text}.pdf", stamped)
        received.append({"id": doc_id, "number": got.number.text, "from": sender, "stamp": got.stamp_field})
        progress("registers", i + 1, len(INCOMING))
    return received


def register_letters(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    """Receive the incoming letters, number the outgoing one, write both registers, search."""
    from edoc.pilot import StepResult

    folder = office.home / REGISTERS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    today = office.now().date()
    with office.pki_server():  # the stamp's time-stamp and revocation data (signing.default_level)
        received = _receive(office, today, folder, progress)
    numbered = []
    for hit in office.search("ขอใช้สถานที่จัดงานวันเด็ก", as_user=CLERK, limit=5):
        try:
            numbered.append(office.number_document(hit.document_id, as_user=CLERK).text)
        except Conflict:
            continue  # numbered (or signed) by an earlier step already
    registers: dict[str, Any] = {}
    for book in ("received", "sent"):
        page = office.register(PAKCHONG, book, as_user=CLERK)
        name = f"{book}-{page.year}.pdf"
        _write(folder / name, office.register_report(page))
        registers[book] = {"file": name, "rows": [r.as_dict() for r in page.rows]}
    hits = office.search(SEARCH_WORD, as_user=CLERK, limit=10)
    lines = "; ".join(f"เลขรับ {r['number']} จาก {r['from']}" for r in received)
    found = ", ".join(f"#{h.document_id} {h.subject[:40]}" for h in hits[:3])
    return StepResult(
        "registers",
        f"{CLERK} received {len(received)} letters with signed received stamps ({lines}); numbered "
        f"{', '.join(numbered) or 'nothing new'}; registers of sent ({len(registers['sent']['rows'])} rows) and "
        f"received ({len(registers['received']['rows'])} rows) written to {folder}; search "
        f"'{SEARCH_WORD}': {len(hits)} found ({found})",
        details={
            "folder": str(folder),
            "received": received,
            "numbered": numbered,
            "registers": registers,
            "search": {"query": SEARCH_WORD, "items": [h.as_dict() for h in hits]},
        },
    )
