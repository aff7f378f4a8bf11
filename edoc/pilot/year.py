"""Demo step, before the audit: a year of correspondence in fast forward (``--documents N``).

The office's clock runs forward through the next 300 days (certificates are valid from today),
one document after another, in every agency of the directory in turn, with the acts that exist:

- letters: the clerk drafts an external letter for the agency's executive and numbers it
  (``new_document``, ``number_document``); one in six is a circular (หนังสือเวียน: the ว series);
- receipts: a letter from outside arrives as a PDF and the clerk imports and receives it
  (``import_document``, ``receive_document``: receive number and the seal's signed stamp);
- signing: the agency's executive signs each letter (``sign_document``, PAdES B-B);
- filing: every signed letter and every received letter is filed (``file_document``); one in
  four (every other one in agencies with a destruction committee) under the one-year class
  (1y), the rest under the agency's default.

Then, early in the next calendar year, a destruction round in the first agency with a committee (an
executive as chair and two heads or executives as members): the list of what fell due
(``propose_destruction``), the committee's signed approvals, the National Archives' reply, and
the destruction (content erased; register rows, hashes and audit trail kept).

Sending between agencies and routing inside one are used when those acts exist; the step says
which acts it could not use in this build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from edoc.directory import Role
from edoc.errors import EdocError
from edoc.office import Office

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

DEFAULT_DOCUMENTS = 60
"""Documents in the year when ``--documents`` is not given (a few per agency of the pilot)."""

SUBJECTS = (
    "ขอเชิญประชุมคณะกรรมการพัฒนาท้องถิ่น",
    "ขอความอนุเคราะห์ใช้สถานที่จัดกิจกรรม",
    "ขอส่งรายงานผลการดำเนินงานประจำไตรมาส",
    "ขอความร่วมมือประชาสัมพันธ์โครงการ",
    "แจ้งกำหนดการตรวจติดตามการใช้จ่ายงบประมาณ",
    "ขอเชิญร่วมพิธีเปิดงานประจำปี",
)
SENDERS = ("จังหวัดนครราชสีมา", "อำเภอปากช่อง", "สำนักงานสาธารณสุขจังหวัดนครราชสีมา", "สำนักงานท้องถิ่นจังหวัด")


def _incoming_pdf(subject: str, sender: str) -> bytes:
    """A one-page letter as another system would send it (made with pypdf: not edoc's renderer)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": subject, "/Author": sender})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _people(office: Office) -> dict[str, dict[str, list[str]]]:
    """Per agency: usernames of its active clerks, executives and heads."""
    by_agency: dict[str, dict[str, list[str]]] = {}
    for u in office.list_users():
        if u.active and u.role in (Role.CLERK, Role.EXECUTIVE, Role.HEAD):
            by_agency.setdefault(u.agency, {}).setdefault(u.role.value, []).append(u.username)
    return {a: p for a, p in by_agency.items() if p.get("clerk") and p.get("executive")}


def fast_forward_year(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    from edoc.documents import validate
    from edoc.pilot import StepResult

    total = options.documents or DEFAULT_DOCUMENTS
    people = _people(office)
    if not people:
        return StepResult("year", "no agency has a clerk and an executive: nothing to do", details={"documents": 0})
    agencies = sorted(people)
    signing = hasattr(office, "sign_document")
    committee = {a for a, p in people.items() if len(p.get("executive", []) + p.get("head", [])) >= 3}
    start = office.now()
    step = timedelta(days=300) / max(total, 1)  # certificates are valid from today, for two years
    clock = [start]
    office.now = lambda: clock[0]  # type: ignore[method-assign]
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    pdfs = {(s, f): _incoming_pdf(s, f) for s in SUBJECTS for f in SENDERS}
    contents: dict[tuple[str, str, bool], Any] = {}
    try:
        for i in range(total):
            clock[0] = start + step * i
            agency = agencies[i % len(agencies)]
            who = people[agency]
            clerk = who["clerk"][i // len(agencies) % len(who["clerk"])]
            subject = SUBJECTS[i % len(SUBJECTS)]
            retention = "1y" if i % 10 == 6 or (agency in committee and i // len(agencies) % 2 == 0) else None
            try:
                if i % 10 < 6:  # a letter or a circular
                    circular = i % 6 == 5
                    key = (agency, subject, circular)
                    if key not in contents:
                        contents[key] = validate(
                            "external",
                            {
                                "subject": subject,
                                "to": "นายอำเภอปากช่อง" if not circular else "องค์กรปกครองส่วนท้องถิ่นทุกแห่ง",
                                "body": [f"ด้วย{subject}", "จึงเรียนมาเพื่อโปรดทราบและพิจารณา"],
                                "signer": who["executive"][0],
                            },
                        )
                    doc = office.new_document("external", contents[key], as_user=clerk)
                    office.number_document(doc, as_user=clerk, circular=circular)
                    counts["circulars" if circular else "letters"] += 1
                    if signing:  # the executive signs (PAdES B-B: no time-stamp server in the demo)
                        office.sign_document(doc, as_user=who["executive"][0], level="B-B")
                        counts["signed"] += 1
                    else:
                        continue  # only a signed (or sent) letter can be filed
                else:  # a letter from outside, received
                    sender = SENDERS[i % len(SENDERS)]
                    doc = office.import_document(
                        pdfs[(subject, sender)], as_user=clerk, subject=f"{subject} ({sender})", from_agency=sender
                    )
                    office.receive_document(doc, as_user=clerk, level="B-B")  # no TSA in the demo
                    counts["receipts"] += 1
                office.file_document(doc, as_user=clerk, retention_class=retention)
                counts["filed"] += 1
                counts["filed 1y"] += retention is not None
            except EdocError as exc:
                errors[type(exc).__name__] += 1
            finally:
                progress("year", i + 1, total)
        # the destruction round: early in the year after the last filing, when everything filed
        # for one year has fallen due (within the two years the certificates are valid)
        clock[0] = datetime((start + step * total).year + 1, 1, 10, 3, 0, tzinfo=UTC)
        destruction = _destruction_round(office, people)
    finally:
        del office.now  # back to the real clock
    missing = [act for act in ("sign_document", "send_document", "route_document") if not hasattr(office, act)]
    summary = (
        f"{total:,} documents over 300 days from {start:%Y-%m-%d} in {len(agencies)} agencies: "
        f"{counts['letters']:,} letters and {counts['circulars']:,} circulars numbered "
        f"({counts['signed']:,} signed by their executives), "
        f"{counts['receipts']:,} letters received with signed stamps, {counts['filed']:,} filed "
        f"({counts['filed 1y']:,} for one year); {destruction['summary']}"
        + (f"; errors {dict(errors)}" if errors else "")
        + (f"; not in this build yet: {', '.join(missing)}" if missing else "")
    )
    return StepResult(
        "year",
        summary,
        details={
            "documents": total,
            "agencies": len(agencies),
            **{k.replace(" ", "_"): v for k, v in counts.items()},
            "errors": dict(errors),
            "destruction": destruction,
            "acts_not_available": missing,
        },
    )


def _destruction_round(office: Office, people: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """Destroy what fell due, in the first agency with a committee of three and records due."""
    reasons = []
    for agency in sorted(people):
        who = people[agency]
        approvers = who.get("executive", []) + who.get("head", [])
        if len(approvers) < 3:
            continue
        clerk = who["clerk"][0]
        try:
            proposed = office.propose_destruction(as_user=clerk, agency=agency)
        except EdocError as exc:  # nothing due here: try the next agency
            reasons.append(f"{agency}: {exc.message('en')}")
            continue
        list_id = proposed.id
        office.approve_destruction(list_id, as_user=who["executive"][0], role="chair")
        members = [u for u in approvers if u != who["executive"][0]][:2]
        for member in members:
            office.approve_destruction(list_id, as_user=member, role="member")
        office.record_archives_reply(list_id, as_user=clerk, reference="หอจดหมายเหตุแห่งชาติ ที่ วธ 0705/ว 1234")
        done = office.destroy_records(list_id, as_user=clerk)
        n = len(done.documents)
        return {
            "agency": agency,
            "list": list_id,
            "destroyed": n,
            "summary": f"destruction round in {agency}: list {list_id}, approved by 3, {n} records destroyed",
        }
    why = "; ".join(reasons[:2]) if reasons else "no agency has a committee of three"
    return {"agency": None, "summary": f"no destruction round ({why})"}
