"""Demo step: a letter from Pak Chong to the district office and the province, registered there,
routed to the district chief, who endorses it and assigns it; then the sender's status table.

Every act goes through the office: the mayor signs (``sign_document``), Pak Chong's clerk sends
(one consignment per agency, evidence sealed by Pak Chong), each clerk receives (receive number,
received stamp and ``registered`` evidence sealed by their agency), the district clerk proposes
it to the chief, who endorses it (a note signed with his key) and assigns it to the
administration unit with the urgency's default due date.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edoc.office import Office
from edoc.pilot.names import DISTRICT, PROVINCE

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

LETTER: dict[str, Any] = {
    "subject": "ขอรายงานผลการใช้ระบบสารบรรณอิเล็กทรอนิกส์ของเทศบาลเมืองปากช่อง",
    "to": "นายอำเภอปากช่อง",
    "body": [
        "ด้วยเทศบาลเมืองปากช่องได้ทดลองใช้ระบบสารบรรณอิเล็กทรอนิกส์ในการรับส่งหนังสือราชการ ระหว่างหน่วยงานครบหนึ่งเดือนแล้ว",
        "จึงเรียนมาเพื่อโปรดทราบ และขอได้โปรดแจ้งผลการรับหนังสือทางระบบให้เทศบาลทราบด้วย",
    ],
    "signer": "pc.mayor",
    "urgency": "urgent",
    "copies_to": ["ผู้ว่าราชการจังหวัดนครราชสีมา"],
}

SENDER_CLERK = "pc.clerk"
CLERKS = {DISTRICT: "dist.clerk", PROVINCE: "prov.clerk"}
CHIEF = "dist.chief"


def route_letter(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    from edoc.pilot import StepResult

    users = {u.username for u in office.list_users()}
    needed = {SENDER_CLERK, "pc.mayor", CHIEF, *CLERKS.values()}
    sign = getattr(office, "sign_document", None)
    if not needed <= users or sign is None:
        why = "the pilot's people are not all there" if sign is not None else "signing is not available"
        return StepResult("routing", f"skipped: {why}")
    progress("routing", 0, 6)
    doc = office.new_document("external", LETTER, as_user=SENDER_CLERK)
    sign(doc, as_user="pc.mayor", level="B-B")
    progress("routing", 1, 6)
    sent = office.send_document(doc, as_user=SENDER_CLERK, to=[DISTRICT, PROVINCE])
    progress("routing", 2, 6)
    copies = {r.agency: r.copy_id for r in sent.recipients}
    numbers = {}
    for agency, clerk in CLERKS.items():
        copy = copies[agency]
        assert copy is not None
        numbers[agency] = office.receive_document(copy, as_user=clerk, level="B-B").number.text
    progress("routing", 3, 6)
    here = copies[DISTRICT]
    assert here is not None
    office.route_document(here, "propose", as_user=CLERKS[DISTRICT], to=CHIEF, note="เสนอนายอำเภอเพื่อโปรดทราบ")
    office.route_document(here, "endorse", as_user=CHIEF, note="ทราบ ให้ฝ่ายบริหารงานปกครองรวบรวมผลแจ้งเทศบาล")
    assigned = office.route_document(here, "assign", as_user=CHIEF, to="ADMIN", note="ดำเนินการแจ้งผลภายในกำหนด")
    progress("routing", 5, 6)
    status = office.document_status(doc, as_user=SENDER_CLERK)
    progress("routing", 6, 6)
    rows = [
        {
            "agency": r.agency,
            "name": r.agency_name,
            "state": r.state.value,
            "receive_number": r.receive_number,
            "route": r.route_state,
            "consignment": r.consignment,
            "evidence": [e.evidence.kind.value for e in r.evidence],
        }
        for r in status.recipients
    ]
    table = "; ".join(f"{r['name']}: {r['state']} เลขรับ {r['receive_number']} ({r['route']})" for r in rows)
    summary = (
        f"{SENDER_CLERK} sent {status.number} to {len(rows)} agencies; {CHIEF} endorsed and assigned it to unit "
        f"{assigned.unit} due {assigned.due}; sender's status: {table}"
    )
    return StepResult(
        "routing",
        summary,
        details={
            "document": doc,
            "number": status.number,
            "recipients": rows,
            "district_copy": here,
            "assigned": assigned.to_json(),
        },
    )
