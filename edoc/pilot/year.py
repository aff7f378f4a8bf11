"""Demo step, before the audit: a year of correspondence in fast forward (``--documents N``).

The office's clock runs forward through the next 300 days (certificates are valid from today),
one document after another, in every agency of the directory in turn, with the acts that exist.
Document ``i`` is drafted (or received from outside) in agency ``i mod A``; by ``i mod 10``:

- 0, 1, 2 — a letter to another agency: the clerk drafts it for the agency's executive and
  numbers it (``new_document``, ``number_document``), the executive signs it (``sign_document``,
  PAdES B-B), the clerk sends it (``send_document``: consignment, evidence, the recipient's
  copy) and files the original; in the receiving agency the clerk registers the copy
  (``receive_document``: receive number, the seal's signed stamp, ``registered`` evidence) and
  routes it: proposed to the executive, endorsed (a signed note), assigned to a head who closes
  it (an agency without a head: the executive closes it), then filed by the registry
  (``route_document`` propose, endorse, assign, close, file);
- 3, 4 — a letter kept in the agency: drafted, numbered, signed and filed;
- 5 — a circular (หนังสือเวียน, the ว series) to a group of three other agencies: numbered,
  signed, sent to all three in one send; each registers its copy and files it;
- 6 to 9 — a letter from outside edoc arrives as a PDF and the clerk imports and receives it
  (``import_document``, ``receive_document``) and files it.

Filing: one in ten documents (every other round in agencies with a destruction committee) under
the one-year class (1y), the rest under the agency's default. Then, early in the next calendar
year, a destruction round in the first agency with a committee (an executive as chair and two
heads or executives as members): the list of what fell due (``propose_destruction``), the
committee's signed approvals, the National Archives' reply, and the destruction (content
erased; register rows, hashes and audit trail kept).

Speed and memory. Keys are unlocked once per process (the office's key ring) and each distinct
content is validated once; nothing per document is kept (counters only), so memory does not grow
with ``N``. With ``workers`` > 1 the agencies are shared out between worker processes (spawned,
each with its own :class:`~edoc.office.Office` on the same home and database: nothing in edoc
assumes one process); a worker does every act of the documents that start in its agencies,
including the receipt and the route in the receiving agency, so two workers may act in one
agency at once, as two clerks would. Progress comes back through a queue.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from edoc.directory import Role
from edoc.errors import EdocError, WorkerFailed
from edoc.office import Office

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

DEFAULT_DOCUMENTS = 60
"""Documents in the year when ``--documents`` is not given (a few per agency of the pilot)."""
PARALLEL_FROM = 1000
"""With ``--workers 0`` (auto), a year of at least this many documents runs in two processes."""
CIRCULAR_RECIPIENTS = 3
"""Agencies a circular of the year goes to."""

SUBJECTS = (
    "ขอเชิญประชุมคณะกรรมการพัฒนาท้องถิ่น",
    "ขอความอนุเคราะห์ใช้สถานที่จัดกิจกรรม",
    "ขอส่งรายงานผลการดำเนินงานประจำไตรมาส",
    "ขอความร่วมมือประชาสัมพันธ์โครงการ",
    "แจ้งกำหนดการตรวจติดตามการใช้จ่ายงบประมาณ",
    "ขอเชิญร่วมพิธีเปิดงานประจำปี",
)
SENDERS = ("จังหวัดนครราชสีมา", "อำเภอปากช่อง", "สำนักงานสาธารณสุขจังหวัดนครราชสีมา", "สำนักงานท้องถิ่นจังหวัด")

Tick = Callable[[int], None]
"""``tick(n)``: ``n`` more documents of the year are done."""


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


@dataclass(frozen=True)
class YearPlan:
    """Everything a process needs to run its share of the year (picklable: sent to workers)."""

    total: int
    people: dict[str, dict[str, list[str]]]
    agencies: list[str]
    committee: frozenset[str]
    start: datetime
    step: timedelta

    def at(self, i: int) -> datetime:
        return self.start + self.step * i

    def clerk(self, agency: str, i: int) -> str:
        clerks = self.people[agency]["clerk"]
        return clerks[i // len(self.agencies) % len(clerks)]

    def partners(self, i: int, k: int) -> list[str]:
        """``k`` other agencies for document ``i`` (rotating, so every pair meets in time)."""
        n = len(self.agencies)
        if n < 2:
            return []
        here = i % n
        first = 1 + (i // n) % (n - 1)
        return [self.agencies[(here + (first + j - 1) % (n - 1) + 1) % n] for j in range(min(k, n - 1))]

    def retention(self, agency: str, i: int) -> str | None:
        if i % 10 == 6 or (agency in self.committee and i // len(self.agencies) % 2 == 0):
            return "1y"
        return None


class _Year:
    """One process's share of the year: the acts of the documents that start in its agencies."""

    def __init__(self, office: Office, plan: YearPlan) -> None:
        from edoc.documents import validate

        self.office = office
        self.plan = plan
        self.validate = validate
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.pdfs = {(s, f): _incoming_pdf(s, f) for s in SUBJECTS for f in SENDERS}
        self.contents: dict[tuple[str, str, str], Any] = {}  # at most agencies x subjects x 3

    def run(self, share: int, shares: int, tick: Tick) -> None:
        plan = self.plan
        n = len(plan.agencies)
        clock = [plan.start]
        self.office.now = lambda: clock[0]  # type: ignore[method-assign]
        try:
            for i in range(plan.total):
                if (i % n) % shares != share:
                    continue
                clock[0] = plan.at(i)
                try:
                    self.document(i)
                except EdocError as exc:
                    self.errors[type(exc).__name__] += 1
                tick(1)
        finally:
            del self.office.now  # back to the real clock

    def _content(self, agency: str, subject: str, to: str) -> Any:
        key = (agency, subject, to)
        if key not in self.contents:
            self.contents[key] = self.validate(
                "external",
                {
                    "subject": subject,
                    "to": to,
                    "body": [f"ด้วย{subject}", "จึงเรียนมาเพื่อโปรดทราบและพิจารณา"],
                    "signer": self.plan.people[agency]["executive"][0],
                },
            )
        return self.contents[key]

    def _file(self, doc: int, clerk: str, retention: str | None) -> None:
        self.office.file_document(doc, as_user=clerk, retention_class=retention)
        self.counts["filed"] += 1
        self.counts["filed 1y"] += retention is not None

    def document(self, i: int) -> None:
        plan, office, counts = self.plan, self.office, self.counts
        agency = plan.agencies[i % len(plan.agencies)]
        who = plan.people[agency]
        clerk = plan.clerk(agency, i)
        subject = SUBJECTS[i % len(SUBJECTS)]
        retention = plan.retention(agency, i)
        kind = i % 10
        partners = plan.partners(i, CIRCULAR_RECIPIENTS if kind == 5 else 1) if kind in (0, 1, 2, 5) else []
        if kind >= 6:  # a letter from outside, received
            sender = SENDERS[i % len(SENDERS)]
            doc = office.import_document(
                self.pdfs[(subject, sender)], as_user=clerk, subject=f"{subject} ({sender})", from_agency=sender
            )
            office.receive_document(doc, as_user=clerk, level="B-B")  # no TSA in the demo
            counts["receipts"] += 1
            self._file(doc, clerk, retention)
            return
        circular = kind == 5
        to = "องค์กรปกครองส่วนท้องถิ่นทุกแห่ง" if circular else "นายอำเภอปากช่อง"
        doc = office.new_document("external", self._content(agency, subject, to), as_user=clerk)
        office.number_document(doc, as_user=clerk, circular=circular)
        counts["circulars" if circular else "letters"] += 1
        office.sign_document(doc, as_user=who["executive"][0], level="B-B")  # PAdES B-B: no TSA
        counts["signed"] += 1
        if partners:
            sent = office.send_document(doc, as_user=clerk, to=partners)
            counts["sent"] += 1
            copies = [(r.agency, r.copy_id) for r in sent.recipients if r.copy_id is not None]
            counts["delivered"] += len(copies)
        else:
            copies = []
        self._file(doc, clerk, retention)
        for there, copy in copies:
            self.arrive(i, there, copy, route=not circular)

    def arrive(self, i: int, agency: str, copy: int, *, route: bool) -> None:
        """The receiving agency registers a copy, routes it (letters) and files it."""
        plan, office, counts = self.plan, self.office, self.counts
        who = plan.people[agency]
        clerk = plan.clerk(agency, i)
        office.receive_document(copy, as_user=clerk, level="B-B")
        counts["received"] += 1
        retention = plan.retention(agency, i)
        if not route:
            self._file(copy, clerk, retention)
            return
        executive = who["executive"][0]
        office.route_document(copy, "propose", as_user=clerk, to=executive, note="เสนอเพื่อโปรดพิจารณา")
        counts["proposed"] += 1
        heads = who.get("head", [])
        office.route_document(copy, "endorse", as_user=executive, note="ทราบ มอบหัวหน้าดำเนินการ" if heads else "ทราบ")
        counts["endorsed"] += 1
        if heads:
            head = heads[i // len(plan.agencies) % len(heads)]
            office.route_document(copy, "assign", as_user=executive, to=head, note="ดำเนินการตามระเบียบ")
            counts["assigned"] += 1
            office.route_document(copy, "close", as_user=head, note="ดำเนินการแล้ว")
        else:
            office.route_document(copy, "close", as_user=executive, note="ทราบแล้ว")
        counts["closed"] += 1
        office.route_document(copy, "file", as_user=clerk, retention=retention)
        counts["filed"] += 1
        counts["filed 1y"] += retention is not None


def _worker(home: str, db_url: str, passphrases: bytes, plan: YearPlan, share: int, shares: int, out: Any) -> None:
    """A worker process: its own office on the same home and database, its share of the year;
    progress and, at the end, its counters go back through ``out``."""
    from edoc.office import open_office

    pending = [0]
    last = [time.monotonic()]

    def tick(n: int) -> None:
        pending[0] += n
        now = time.monotonic()
        if now - last[0] >= 0.25:
            out.put(("progress", share, pending[0]))
            pending[0], last[0] = 0, now

    try:
        with open_office(home, db_url, passphrases=pickle.loads(passphrases)) as office:
            year = _Year(office, plan)
            year.run(share, shares, tick)
            office.close_signing_keys()
        out.put(("progress", share, pending[0]))
        out.put(("done", share, (dict(year.counts), dict(year.errors))))
    except BaseException as exc:  # reported to the parent, which fails the step
        out.put(("failed", share, f"{type(exc).__name__}: {exc}"))
        raise


def _in_workers(office: Office, plan: YearPlan, shares: int, tick: Tick) -> tuple[Counter[str], Counter[str]]:
    """Run the year in ``shares`` spawned processes; add up what they did."""
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding database connections
    out = ctx.Queue()
    secrets = pickle.dumps(office.keyring.passphrases)
    procs = [
        ctx.Process(
            target=_worker,
            args=(str(office.home), office.db.url, secrets, plan, share, shares, out),
            name=f"edoc-year-{share}",
        )
        for share in range(shares)
    ]
    for p in procs:
        p.start()
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    failed: dict[int, str] = {}  # share -> cause
    running = set(range(shares))
    try:
        while running:
            try:
                what, share, payload = out.get(timeout=1.0)
            except queue.Empty:
                for share, p in enumerate(procs):
                    if share in running and not p.is_alive() and p.exitcode not in (None, 0):
                        failed.setdefault(share, _ended(p.exitcode))
                        running.discard(share)
                continue
            if what == "progress":
                tick(payload)
            elif what == "done":
                counts.update(payload[0])
                errors.update(payload[1])
                running.discard(share)
            else:
                failed[share] = payload
                running.discard(share)
    finally:
        for p in procs:
            p.join()
    # a worker that reported and exited between a timed-out get and its is_alive check was
    # taken for one that never reported: its report is in the queue still, and says more
    while failed:
        try:
            what, share, payload = out.get_nowait()
        except queue.Empty:
            break
        if what == "failed":
            failed[share] = payload
    if failed:
        first, *others = sorted(failed)
        raise WorkerFailed(
            procs[first].name, failed[first], "; ".join(f"also {procs[s].name}: {failed[s]}" for s in others)
        )
    return counts, errors


def _ended(exitcode: int | None) -> str:
    """How a worker that never reported ended: its exit code, or the signal that killed it."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name} without reporting"
        except ValueError:
            pass
    return f"ended with exit code {exitcode} without reporting"


def _workers(options: DemoOptions, total: int) -> int:
    wanted = getattr(options, "workers", 0)
    if wanted:
        return int(wanted)
    return min(2, os.cpu_count() or 1) if total >= PARALLEL_FROM else 1


def fast_forward_year(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    from edoc.pilot import StepResult

    total = options.documents or DEFAULT_DOCUMENTS
    people = _people(office)
    if not people:
        return StepResult("year", "no agency has a clerk and an executive: nothing to do", details={"documents": 0})
    agencies = sorted(people)
    committee = frozenset(a for a, p in people.items() if len(p.get("executive", []) + p.get("head", [])) >= 3)
    start = office.now()
    plan = YearPlan(  # certificates are valid from today, for two years
        total, people, agencies, committee, start, timedelta(days=300) / max(total, 1)
    )
    shares = max(1, min(_workers(options, total), len(agencies)))
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        progress("year", done[0], total)

    progress("year", 0, total)
    if shares == 1:
        year = _Year(office, plan)
        year.run(0, 1, tick)
        counts, errors = year.counts, year.errors
    else:
        counts, errors = _in_workers(office, plan, shares, tick)
    # the destruction round: early in the year after the last filing, when everything filed
    # for one year has fallen due (within the two years the certificates are valid)
    clock = datetime(plan.at(total).year + 1, 1, 10, 3, 0, tzinfo=UTC)
    office.now = lambda: clock  # type: ignore[method-assign]
    try:
        destruction = _destruction_round(office, people)
    finally:
        del office.now
    routed = counts["closed"]
    summary = (
        f"{total:,} documents over 300 days from {start:%Y-%m-%d} in {len(agencies)} agencies"
        f" ({shares} process{'es' if shares > 1 else ''}): "
        f"{counts['letters']:,} letters and {counts['circulars']:,} circulars numbered and signed by their "
        f"executives, {counts['sent']:,} sent to other agencies ({counts['delivered']:,} copies delivered, "
        f"{counts['received']:,} registered there, {routed:,} routed: proposed, endorsed, "
        f"{counts['assigned']:,} assigned, closed); {counts['receipts']:,} letters from outside received with "
        f"signed stamps; {counts['filed']:,} filed ({counts['filed 1y']:,} for one year); {destruction['summary']}"
        + (f"; errors {dict(errors)}" if errors else "")
    )
    return StepResult(
        "year",
        summary,
        details={
            "documents": total,
            "agencies": len(agencies),
            "workers": shares,
            "start": start.isoformat(),
            **{k.replace(" ", "_"): v for k, v in sorted(counts.items())},
            "errors": dict(errors),
            "destruction": destruction,
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
