"""Crash harness: run edoc acts in child processes, SIGKILL them at random points, restart, check.

    python -m tests.crash --home DIR [--db URL] [--kills 110] [--lanes 2] [--seed 1] [--max-delay 1.2]

The harness process imports edoc once and forks its children (a fork costs milliseconds, an
interpreter start about a second; the children are still separate processes with their own
database connections, killed with SIGKILL). No database connection is open in the harness while
it forks. Each *lane* is a child working through its own endless, deterministic plan of acts:

- ``draft``: ``new_document`` of an external letter with a unique attachment (a blob), then
  ``number``: ``number_document`` on it (the agency's outgoing series, shared by all lanes);
- ``signed``: a letter signed with the signing library (PAdES, P-256) and stored through
  ``import_document`` (a PDF blob whose hash is in the row);
- ``import``: an outside PDF through ``import_document``;
- ``user``: ``add_user`` (a directory act: its audit append);
- ``letter``: ``new_document`` of a letter without a number, then ``sign``: ``sign_document``
  by the mayor through the office (the first signature issues the number, renders the final
  PDF and signs it, in one transaction), ``send``: ``send_document`` to the two other agencies of
  :data:`RECIPIENTS` (one transaction accepting both consignments, sealed evidence, then one per
  delivery), and ``receive``: ``receive_document`` by each recipient's clerk (receive number,
  the received stamp signed by the agency's seal, the consignment's ``registered`` evidence).

Every act appends its audit event in its transaction, and the office makes signed audit
checkpoints every few events, so kills also land in checkpoints. The child reports on a pipe
when it starts and finishes each act; the harness kills it after a random delay (often in the
middle of an act, sometimes between acts, sometimes in its commit), then starts a new child for
the lane at the interrupted act, which looks in the database whether that act took effect and
re-runs it if not (that is what a clerk does after a crash; a send interrupted between its
transactions is completed by running the same send again). When enough kills are done, each
lane is run to the end of the last act started, without kills. Then the checks, on what is in
the database and the blob store:

- every act of the plan took effect exactly once (one document per draft, import, signed
  letter, letter; one number per numbered draft and signed letter; one user per ``user`` act);
- no number duplicated or skipped: each series' sequence is exactly 1..n (outgoing numbers and
  each recipient's receive numbers) and each number's row agrees with its document;
- no delivery lost or doubled: one dispatch per send, one consignment per recipient per sent
  letter, delivered (or registered, once its receive act ran) with its copy there, its evidence
  records in order; the evidence exported and checked offline against the office's root
  (:func:`edoc.routing.evidence.check_folder`: seals, chain, order);
- every received copy has exactly one receive number, the one its consignment records;
- every stored PDF and attachment reads back with its hash (rows point to no missing file),
  and the blob store's own check finds nothing missing or corrupted (orphan files, left when a
  kill came after a file was written but before its row committed, are allowed and counted);
  each document's PDF is the one the last audit event that made or brought it names;
- pyHanko validates a sample of the signed letters and of the received copies (every signature
  intact, valid and trusted up to the office's root, revocation checked against its CRLs);
- the audit log verifies (sequence, hashes, tree, checkpoints), with exactly one event per act.

The report is one JSON object; ``tests/test_crash.py`` runs this on SQLite and PostgreSQL and
also runs ``edoc audit verify`` on the result.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import select
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

AUDIT_PASSPHRASE = "crash-test audit passphrase"
AGENCY = "PAKCHONG"
RECIPIENTS = ("PAKCHONG-DIST", "SIKHIU")
"""Where a lane's signed letters are sent; each recipient's clerk receives them."""
CLERKS = {"PAKCHONG-DIST": "dclerk", "SIKHIU": "sclerk"}
PASSPHRASE = "crash-test key passphrase"
"""The passphrase of the CA's, the people's and the seals' keys."""
SETUP_USERS = 5
"""Users the setup adds (each an ``user.add`` event)."""
PLAN: tuple[tuple[str, int], ...] = (
    ("draft", 0),
    ("number", 1),
    ("signed", 0),
    ("import", 0),
    ("letter", 0),
    ("sign", 1),
    ("send", 2),
    ("receive", 3),
    ("receive", 4),
    ("user", 0),
)
"""One round of a lane's plan, (kind, how many acts back the document it acts on was made);
rounds repeat with new keys. A ``letter`` is drafted without a number; ``sign`` signs it
through the office (the first signature numbers and renders it), ``send`` sends it to the
:data:`RECIPIENTS`, and the two ``receive`` acts register it there, one per recipient."""
SEND_AT = [kind for kind, _ in PLAN].index("send")


# -- the plan ----------------------------------------------------------------------------------


def op_of(lane: int, i: int) -> tuple[str, str]:
    """The ``i``-th act of ``lane``: (kind, key). The key of an act on an earlier document is
    that document's key (``L0-4``); a ``receive`` adds the recipient (``L0-4@SIKHIU``)."""
    kind, back = PLAN[i % len(PLAN)]
    key = f"L{lane}-{i - back}"
    if kind == "receive":
        nth = sum(1 for k, _ in PLAN[: i % len(PLAN)] if k == "receive")
        key += f"@{RECIPIENTS[nth]}"
    return kind, key


SUBJECTS = {
    "draft": "ขอเชิญประชุม",
    "signed": "หนังสือลงนาม",
    "import": "หนังสือจากภายนอก",
    "letter": "ขอความร่วมมือประชาสัมพันธ์",
}


def subject(kind: str, key: str) -> str:
    return SUBJECTS[kind] + f" [{key}]"


# -- setup -------------------------------------------------------------------------------------


def setup(home: Path, db_url: str | None) -> None:
    """An office with four agencies, their people, the pilot's CA with certificates for the
    mayor, the clerks and the agencies' seals (P-256, signatures at B-B: no TSA to wait for),
    and an audit key; checkpoints every 7 events, each delivery of a send in its own commit."""
    from edoc.directory import Agency, Role, Unit, User
    from edoc.office import init_office, open_office
    from edoc.pki.model import CertificateRequest, agency_owner

    init_office(home, db_url, name="crash test")
    (home / "edoc.toml").write_text(
        '[office]\nname = "crash test"\n'
        '[pki]\nkdf_rounds = 10000\nuser_key = "p256"\nbase_url = "http://127.0.0.1:9"\n'
        '[signing]\ndefault_level = "B-B"\n'
        "[audit]\ncheckpoint_every = 7\ncheckpoint_seconds = 100000000\n"
        # one recipient per transaction: kills land between recipients (the default 100 would
        # deliver both of a send's recipients in one commit, and send:delivered:1 would come
        # after the whole send)
        "[routing]\ndeliveries_per_transaction = 1\n",
        encoding="utf-8",
    )
    with open_office(home, db_url, passphrases=passphrases()) as office:
        office.add_agencies(
            [
                Agency("NMA-PROV", "จังหวัดนครราชสีมา", "นม 0017"),
                Agency("PAKCHONG-DIST", "อำเภอปากช่อง", "นม 0318", parent="NMA-PROV"),
                Agency(AGENCY, "เทศบาลเมืองปากช่อง", "นม 52101", parent="PAKCHONG-DIST"),
                Agency("SIKHIU", "อำเภอสีคิ้ว", "นม 0319", parent="NMA-PROV"),
            ]
        )
        office.add_units([Unit(AGENCY, "OFFICE", "สำนักปลัดเทศบาล")])
        users = [
            User("clerk", AGENCY, "นางสาวสมใจ รักงาน", "เจ้าพนักงานธุรการ", Role.CLERK, unit="OFFICE"),
            User("mayor", AGENCY, "นายกเทศ มนตรี", "นายกเทศมนตรีเมืองปากช่อง", Role.EXECUTIVE),
            User("admin", AGENCY, "นายดูแล ระบบ", "นักวิชาการคอมพิวเตอร์", Role.ADMIN),
            User("dclerk", "PAKCHONG-DIST", "นายรับ หนังสือ", "เจ้าพนักงานธุรการ", Role.CLERK),
            User("sclerk", "SIKHIU", "นางรับ สีคิ้ว", "เจ้าพนักงานธุรการ", Role.CLERK),
        ]
        assert len(users) == SETUP_USERS
        office.add_users(users)
        office.pki_init("p384")
        office.issue_certificates(
            [CertificateRequest(u) for u in ("mayor", "clerk", *CLERKS.values())]
            + [CertificateRequest(agency_owner(code)) for code in (AGENCY, *RECIPIENTS)]
        )
        office.create_audit_key()


def passphrases() -> Any:
    from edoc.pki.keys import StaticPassphrases

    return StaticPassphrases({"audit": AUDIT_PASSPHRASE}, default=PASSPHRASE)


# -- the child ---------------------------------------------------------------------------------


class Lane:
    """What one child needs to do acts: its office, a signing key, and how to tell what is done."""

    def __init__(self, home: Path, db_url: str | None, lane: int, work: Path, signer: Any, out: Any) -> None:
        from edoc.office import open_office

        self.office = open_office(home, db_url, passphrases=passphrases())
        self.lane = lane
        self.work = work
        self.signer = signer
        self.out = out

    def find(self, kind: str, key: str) -> list[Any]:
        """The documents a ``draft``/``signed``/``import``/``letter`` act with this key made (not
        the copies a send delivered)."""
        from sqlmodel import select

        from edoc.storage.tables import DocumentRow

        text = subject(kind, key)
        query = select(DocumentRow).where(DocumentRow.subject == text, DocumentRow.origin != "delivered")
        return self.office._read(lambda s: list(s.exec(query)))

    def deliveries(self, key: str) -> dict[str, Any]:
        """The consignments of the letter ``key``, by recipient code."""
        from edoc.storage import routing as route_store

        (row,) = self.find("letter", key)

        def read(s: Any) -> dict[str, Any]:
            rows = route_store.deliveries_of(s, row.id)
            codes = route_store.agency_names(s, [d.recipient_id for d in rows])
            return {codes[d.recipient_id][0]: d for d in rows}

        return self.office._read(read)

    def copy_of(self, key: str) -> int:
        """The recipient's own document id of the letter (``receive`` key ``L0-4@SIKHIU``)."""
        letter, _, code = key.partition("@")
        copy_id = self.deliveries(letter)[code].copy_id
        assert copy_id is not None, f"{key} was not delivered"
        return int(copy_id)

    def done(self, kind: str, key: str) -> bool:
        if kind in ("draft", "signed", "import", "letter"):
            return bool(self.find(kind, key))
        if kind == "number":
            return any(row.number for row in self.find("draft", key))
        if kind == "sign":
            return any(row.pdf_sha256 for row in self.find("letter", key))
        if kind == "send":
            delivered = self.deliveries(key)
            return set(delivered) == set(RECIPIENTS) and all(d.state != "accepted" for d in delivered.values())
        if kind == "receive":
            from edoc.storage import registers as reg_store

            copy_id = self.copy_of(key)
            return bool(self.office._read(lambda s: reg_store.entries_of(s, copy_id, "received")))
        if kind == "user":
            from edoc.errors import NotFound

            try:
                self.office.get_user(f"u{key.lower()}")
                return True
            except NotFound:
                return False
        raise ValueError(kind)

    def do(self, kind: str, key: str) -> None:
        from edoc.directory import Role, User
        from edoc.documents import validate

        office = self.office
        if kind == "draft":
            attachment = self.work / f"{key}.txt"
            attachment.write_bytes(f"เอกสารประกอบ {key}\n".encode() * 50)
            content = validate(
                "external",
                {
                    "subject": subject(kind, key),
                    "to": "นายอำเภอปากช่อง",
                    "body": ["ด้วยเทศบาลเมืองปากช่องจะจัดประชุมคณะกรรมการ", "จึงเรียนมาเพื่อโปรดเข้าร่วมประชุม"],
                    "signer": "mayor",
                    "attachments": [str(attachment)],
                },
            )
            office.new_document("external", content, as_user="clerk")
        elif kind == "number":
            (row,) = self.find("draft", key)
            office.number_document(row.id, as_user="clerk")
        elif kind == "signed":
            office.import_document(self.signer(key), as_user="clerk", subject=subject(kind, key), from_agency="อำเภอ")
        elif kind == "import":
            office.import_document(outside_pdf(key), as_user="clerk", subject=subject(kind, key), from_agency="จังหวัด")
        elif kind == "letter":
            content = validate(
                "external",
                {
                    "subject": subject(kind, key),
                    "to": "นายอำเภอปากช่อง และนายอำเภอสีคิ้ว",
                    "body": ["ด้วยเทศบาลเมืองปากช่องจะจัดงานเทศกาลเที่ยวปากช่อง", "จึงเรียนมาเพื่อโปรดประชาสัมพันธ์"],
                    "signer": "mayor",
                },
            )
            office.new_document("external", content, as_user="clerk")
        elif kind == "sign":
            (row,) = self.find("letter", key)
            office.sign_document(row.id, as_user="mayor")
        elif kind == "send":
            (row,) = self.find("letter", key)
            half_done = bool(self.deliveries(key))  # a killed send left accepted consignments
            if half_done:  # noted before: a kill after the send returns must not lose the count
                self.out.write("X send-resumed\n")
            result = office.send_document(row.id, as_user="clerk", to=list(RECIPIENTS))
            if result.resumed != half_done:
                raise RuntimeError(f"send {key}: resumed {result.resumed}, but half done {half_done}")
        elif kind == "receive":
            code = key.partition("@")[2]
            office.receive_document(self.copy_of(key), as_user=CLERKS[code])
        elif kind == "user":
            office.add_users([User(f"u{key.lower()}", AGENCY, f"นายทดสอบ {key}", "พนักงานจ้าง", Role.OFFICER)])
        else:
            raise ValueError(kind)


def outside_pdf(key: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": f"หนังสือจากภายนอก {key}"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def make_signer() -> Any:
    """A P-256 key and certificate, and a function that signs a Thai letter with the library."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from benchmarks.signing import _letter
    from edoc.signing import (
        Credentials,
        SignatureBlock,
        SigningKey,
        default_stamp_zone,
        sign_pdf,
        stamp_received,
    )

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "นายกเทศ มนตรี")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    letter = _letter()
    signing_key = SigningKey(Credentials(certificate=cert, chain=(), key=key, owner="mayor"))

    def sign(key_text: str, stamp: Any = None) -> bytes:
        block = SignatureBlock("นายกเทศ มนตรี", f"นายกเทศมนตรีเมืองปากช่อง {key_text}", datetime.now(UTC))
        pdf = sign_pdf(letter, signing_key, field="signature", appearance=block).pdf
        if stamp is not None:  # a received stamp, as the office adds it
            pdf = stamp_received(pdf, signing_key, stamp, zone=default_stamp_zone(pdf), level="B-B").pdf
        return pdf

    return sign


def warm_up(signer: Any) -> None:
    """Do once in the harness, before forking, what a child would otherwise do at its first act
    of each kind (and a kill would throw away): load fonts, HarfBuzz and the Thai word
    dictionary (seconds), render a letter, draw a received stamp, import the modules."""
    from edoc.documents import validate
    from edoc.documents.render import Letterhead, Person, RenderInput, render
    from edoc.routing import delivery, evidence, seals  # noqa: F401
    from edoc.signing import ReceivedStamp, prepare_fields

    content = validate(
        "external",
        {"subject": "อุ่นเครื่อง", "to": "นายอำเภอปากช่อง", "body": ["ด้วยเทศบาลเมืองปากช่องขอทดสอบระบบ"], "signer": "mayor"},
    )
    now = datetime.now(UTC)
    result = render(
        RenderInput(
            content=content,
            agency=Letterhead("เทศบาลเมืองปากช่อง", letter_code="นม 52101"),
            signer=Person("นายกเทศ มนตรี", "นายกเทศมนตรีเมืองปากช่อง"),
            date=now.date(),
            created=now,
            number="นม 52101/1",
        )
    )
    prepare_fields(result.pdf, result.signature_boxes)
    signer("warm-up", stamp=ReceivedStamp("อำเภอปากช่อง", "1", now))


SEND_POINTS = ("send:accepted", "send:in-delivery", "send:delivered:1")
"""The send's fault points (``Office._fault``): after the transaction accepting every
consignment, inside the first delivery's transaction, between the two deliveries."""
AIM_EVERY = 2
"""Every this many rounds of a lane, its send is killed at one of :data:`SEND_POINTS` (in turn)
rather than at a random time: a random kill seldom lands between a send's transactions."""


def aim_at(point: str, out: Any) -> None:
    """Make the office's fault point ``point`` SIGKILL this process (once armed)."""
    from edoc.office import Office

    def fault(at: str) -> None:
        if at == point and AIMED[0]:
            out.write(f"X aimed {point}\n")
            os.kill(os.getpid(), signal.SIGKILL)

    setattr(Office, "_fault", staticmethod(fault))  # noqa: B010 (a test patches the fault point)


AIMED = [False]
"""Whether the aimed kill is armed (in a child: during its send)."""


def child(
    home: Path,
    db_url: str | None,
    lane: int,
    start: int,
    stop: int | None,
    work: Path,
    signer: Any,
    fd: int,
    aim: str | None = None,
) -> None:
    """Do the lane's acts from ``start`` (checking first whether it took effect) to ``stop``;
    with ``aim``, die by SIGKILL at that fault point of the next send (never a retried one: the
    harness aims only at a send that has not started)."""
    out = os.fdopen(fd, "w", buffering=1)
    worker = Lane(home, db_url, lane, work, signer, out)
    if aim is not None:
        aim_at(aim, out)
    i = start
    if stop is not None and i >= stop:
        pass
    elif worker.done(*op_of(lane, i)):  # the interrupted act took effect before the kill
        out.write(f"S {i}\nD {i}\n")
        i += 1
    out.write("R\n")  # kills are timed from here: in the acts, not in start-up
    while stop is None or i < stop:
        kind, key = op_of(lane, i)
        out.write(f"S {i}\n")
        AIMED[0] = aim is not None and kind == "send"
        worker.do(kind, key)
        if AIMED[0]:
            raise RuntimeError(f"the send {key} never reached the fault point {aim}")
        out.write(f"D {i}\n")
        i += 1
    worker.office.close()
    out.write("E\n")


# -- the harness -------------------------------------------------------------------------------

ACT_TIMES: list[float] = []
"""Seconds each completed act took (seen from the harness), to time the kills."""
ACT_TIMES_BY_KIND: dict[str, list[float]] = {}
"""The same by kind of act (for the report)."""
START_TIMES: list[float] = []
"""Seconds from fork to ready (open the office, check the interrupted act)."""


class Child:
    def __init__(self, pid: int, fd: int, lane: int) -> None:
        self.pid, self.fd, self.lane = pid, fd, lane
        self.buf = b""
        self.ready = False
        self.ended = False
        self.started: int | None = None
        self.done: int | None = None
        self.started_at: float | None = None
        self.notes: Counter[str] = Counter()
        self.born = time.monotonic()

    def pump(self) -> None:
        try:
            chunk = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.ended = True
            return
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            tag, _, arg = line.decode().partition(" ")
            if tag == "R":
                self.ready = True
                START_TIMES.append(time.monotonic() - self.born)
            elif tag == "S":
                self.started = int(arg)
                self.started_at = time.monotonic()
            elif tag == "D":
                self.done = int(arg)
                if self.started_at is not None and self.ready:  # not the check at start-up
                    took = time.monotonic() - self.started_at
                    ACT_TIMES.append(took)
                    ACT_TIMES_BY_KIND.setdefault(op_of(self.lane, self.done)[0], []).append(took)
            elif tag == "X":
                self.notes[arg] += 1


def spawn(
    home: Path,
    db_url: str | None,
    lane: int,
    start: int,
    stop: int | None,
    work: Path,
    signer: Any,
    aim: str | None = None,
) -> Child:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into the harness
        code = 0
        try:
            os.close(r)
            child(home, db_url, lane, start, stop, work, signer, w, aim)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    os.set_blocking(r, False)
    return Child(pid, r, lane)


def reap(c: Child) -> int:
    _, status = os.waitpid(c.pid, 0)
    while not c.ended:
        c.pump()
    os.close(c.fd)
    return status


def wait_backend_gone(db_url: str, pid: int, timeout: float = 60) -> None:
    """Wait until PostgreSQL has finished with a killed process's connections.

    The server finishes (commits or rolls back) what a killed client left in flight a moment
    after the socket closes; a COMMIT it had received still commits. A clerk restarting an
    act after a crash comes later than that; the harness restarts at once, so it waits for the
    server first (edoc names its connections ``edoc pid N``, see ``storage/engine.py``).
    """
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(db_url)
    deadline = time.monotonic() + timeout
    with psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=u.database,
        autocommit=True,
    ) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (f"edoc pid {pid}",)
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.005)
    raise RuntimeError(f"PostgreSQL still serves the killed process {pid} after {timeout} s")


def run(home: Path, db_url: str | None, kills: int, lanes: int, seed: int, max_delay: float) -> dict[str, Any]:
    rng = random.Random(seed)
    setup_from = time.monotonic()
    setup(home, db_url)
    work = home / "crash-attachments"
    work.mkdir()
    signer = make_signer()
    warm_up(signer)  # load fonts, HarfBuzz and the Thai dictionary before forking
    setup_seconds = time.monotonic() - setup_from
    next_op = dict.fromkeys(range(lanes), 0)
    highest_started = dict.fromkeys(range(lanes), -1)
    stalled = dict.fromkeys(range(lanes), 0)
    aimed: dict[int, set[int]] = {lane: set() for lane in range(lanes)}
    fresh = dict.fromkeys(range(lanes), True)  # the lane's next act has not started yet
    done_kills = 0
    in_act = 0
    kills_by_act: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    spawned = 0
    finished_clean = 0
    started = time.monotonic()
    running: dict[int, tuple[Child, float]] = {}
    while done_kills < kills or running:
        for lane in range(lanes):
            if lane not in running and done_kills + len(running) < kills:
                # every AIM_EVERY rounds, the round's send dies at a fault point, in turn (the
                # child runs there without a random kill); never a retried send
                rnd, pos = divmod(next_op[lane], len(PLAN))
                aim = None
                unstarted = pos < SEND_AT or (pos == SEND_AT and fresh[lane])
                if rnd % AIM_EVERY == 0 and rnd not in aimed[lane] and unstarted:
                    aim = SEND_POINTS[(rnd // AIM_EVERY + lane) % len(SEND_POINTS)]
                    aimed[lane].add(rnd)
                c = spawn(home, db_url, lane, next_op[lane], None, work, signer, aim)
                spawned += 1
                running[lane] = (c, math.inf if aim else -1.0)
        fds = [c.fd for c, _ in running.values()]
        select.select(fds, [], [], 0.01)
        now = time.monotonic()
        for lane, (c, kill_at) in list(running.items()):
            c.pump()
            if c.ready and kill_at < 0:
                # a busy machine makes acts slow: kills spread over about three acts' time, and
                # over twice that after each kill that let the lane finish no act (an act that
                # takes longer than the spread would otherwise be killed for ever)
                typical = sorted(ACT_TIMES)[len(ACT_TIMES) // 2] if ACT_TIMES else 0.0
                spread = max(max_delay, 3 * typical) * 2 ** min(stalled[lane], 4)
                kill_at = now + rng.uniform(0, spread)
                running[lane] = (c, kill_at)
            if c.ended or (c.ready and now >= kill_at):
                if not c.ended:
                    os.kill(c.pid, signal.SIGKILL)
                status = reap(c)
                del running[lane]
                if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                    done_kills += 1
                    if db_url is not None:
                        wait_backend_gone(db_url, c.pid)
                    if c.started is not None and c.started != c.done:
                        in_act += 1
                        kills_by_act[op_of(lane, c.started)[0]] += 1
                elif status != 0:
                    for other, _ in running.values():
                        os.kill(other.pid, signal.SIGKILL)
                    raise RuntimeError(f"lane {lane}'s child failed (status {status}); see its traceback above")
                notes.update(c.notes)
                if c.started is not None:
                    highest_started[lane] = max(highest_started[lane], c.started)
                if c.started is not None:
                    fresh[lane] = c.started == c.done
                if c.done is not None and c.done + 1 > next_op[lane]:
                    next_op[lane] = c.done + 1
                    stalled[lane] = 0
                else:
                    stalled[lane] += 1
    # finish every lane up to and including the last act started, without kills
    for lane in range(lanes):
        stop = max(highest_started[lane] + 1, len(PLAN))  # at least one act of every kind
        highest_started[lane] = stop - 1
        c = spawn(home, db_url, lane, next_op[lane], stop, work, signer)
        status = reap(c)
        if status != 0:
            raise RuntimeError(f"lane {lane}'s final run failed (status {status})")
        notes.update(c.notes)
        finished_clean += 1
    elapsed = time.monotonic() - started
    checked_from = time.monotonic()
    report = check(home, db_url, {lane: highest_started[lane] + 1 for lane in range(lanes)}, seed=seed)
    report.update(
        kills=done_kills,
        kills_in_act=in_act,
        kills_by_act=dict(kills_by_act),
        kills_aimed={k.partition(" ")[2]: n for k, n in sorted(notes.items()) if k.startswith("aimed ")},
        sends_resumed=notes["send-resumed"],
        median_act_seconds={k: round(sorted(v)[len(v) // 2], 3) for k, v in sorted(ACT_TIMES_BY_KIND.items())},
        median_restart_seconds=round(sorted(START_TIMES)[len(START_TIMES) // 2], 3) if START_TIMES else None,
        setup_seconds=round(setup_seconds, 1),
        check_seconds=round(time.monotonic() - checked_from, 1),
        children=spawned + finished_clean,
        seconds=round(elapsed, 1),
        database="sqlite" if db_url is None else "postgresql",
    )
    return report


# -- the checks --------------------------------------------------------------------------------


SAMPLE = 4
"""Signed letters, and received copies, whose PDFs pyHanko validates (chosen with the seed)."""


def check(home: Path, db_url: str | None, acts: dict[int, int], *, seed: int = 1) -> dict[str, Any]:
    """What the database and blob store hold, against the plan (``acts``: lane -> acts done)."""
    from sqlmodel import select

    from edoc.errors import EdocError
    from edoc.office import open_office
    from edoc.storage.tables import (
        AgencyRow,
        AttachmentRow,
        BlobRow,
        DeliveryRow,
        DispatchRow,
        DocumentRow,
        EvidenceRow,
        RegisterEntryRow,
    )

    problems: list[str] = []
    planned: Counter[str] = Counter()
    with open_office(home, db_url, passphrases=passphrases()) as office:

        def gather(s: Any) -> tuple[list[Any], ...]:
            return tuple(
                list(s.exec(select(table)))
                for table in (
                    DocumentRow,
                    RegisterEntryRow,
                    AttachmentRow,
                    BlobRow,
                    DeliveryRow,
                    EvidenceRow,
                    DispatchRow,
                    AgencyRow,
                )
            )

        docs, entries, attachments, blob_rows, deliveries, evidence, dispatches, agencies = office._read(gather)
        code_of = {a.id: a.code for a in agencies}
        originals: dict[str, list[Any]] = {}
        copies: dict[str, list[Any]] = {}
        for d in docs:
            (copies if d.origin == "delivered" else originals).setdefault(d.subject, []).append(d)
        users = {u.username for u in office.list_users()}
        sent: list[str] = []  # letter keys
        received: set[str] = set()  # "L0-4@SIKHIU"
        for lane, n in acts.items():
            for i in range(n):
                kind, key = op_of(lane, i)
                planned[kind] += 1
                if kind in SUBJECTS:
                    found = originals.get(subject(kind, key), [])
                    if len(found) != 1:
                        problems.append(f"{kind} {key}: {len(found)} documents (want 1)")
                elif kind == "number":
                    found = originals.get(subject("draft", key), [])
                    if len(found) != 1 or not found[0].number:
                        problems.append(f"number {key}: the draft has no number")
                elif kind == "sign":
                    found = originals.get(subject("letter", key), [])
                    if len(found) != 1 or not found[0].pdf_sha256 or found[0].state not in ("signed", "sent"):
                        problems.append(f"sign {key}: the letter is not signed")
                elif kind == "send":
                    sent.append(key)
                elif kind == "receive":
                    received.add(key)
                elif kind == "user" and f"u{key.lower()}" not in users:
                    problems.append(f"user {key}: missing")
        made = sum(planned[k] for k in SUBJECTS)
        n_copies = sum(len(v) for v in copies.values())
        if len(docs) - n_copies != made:
            problems.append(f"{len(docs) - n_copies} documents stored, {made} made")
        if n_copies != len(RECIPIENTS) * planned["send"]:
            problems.append(f"{n_copies} delivered copies for {planned['send']} sends to {len(RECIPIENTS)} agencies")

        # numbers: each series 1..n, one register row per numbered or received document, rows agree
        series: dict[tuple[int, str, str, int], list[int]] = {}
        for e in entries:
            series.setdefault((e.agency_id, e.book, e.series, e.year), []).append(e.seq)
        for k, seqs in series.items():
            if sorted(seqs) != list(range(1, len(seqs) + 1)):
                dup = [s for s, c in Counter(seqs).items() if c > 1]
                missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
                problems.append(f"series {k}: duplicated {dup[:5]}, skipped {missing[:5]}")
        by_doc = Counter(e.document_id for e in entries if e.book == "sent")
        if any(c != 1 for c in by_doc.values()):
            problems.append("a document has more than one outgoing number")
        numbered_expected = planned["number"] + planned["sign"]  # the first signature numbers
        numbered = [d for d in docs if d.number and d.origin == "drafted"]
        if len(numbered) != numbered_expected or len(by_doc) != numbered_expected:
            problems.append(
                f"{len(numbered)} numbered documents, {len(by_doc)} register rows, {numbered_expected} acts"
            )
        receive_rows = Counter(e.document_id for e in entries if e.book == "received")
        if any(c != 1 for c in receive_rows.values()):
            problems.append(f"received twice: documents {[d for d, c in receive_rows.items() if c > 1][:5]}")
        doc_by_id = {d.id: d for d in docs}
        for e in entries:
            d = doc_by_id.get(e.document_id)
            if d is None or (e.book == "sent" and d.number != e.document_number):
                problems.append(f"register row {e.number} disagrees with its document")
            elif e.book == "received" and (d.origin != "delivered" or d.agency_id != e.agency_id):
                problems.append(f"receive row {e.number} ({code_of[e.agency_id]}) is not of a copy delivered there")

        # deliveries: one consignment per recipient per sent letter, delivered (or registered when
        # its receive act ran), its copy there, its evidence a whole chain; one dispatch per send
        letter_ids: dict[int, str] = {}
        for key in sent:
            found = originals.get(subject("letter", key), [])
            if len(found) == 1:
                letter_ids[found[0].id] = key
        deliveries_by_doc: dict[int, list[Any]] = {}
        for dv in deliveries:
            deliveries_by_doc.setdefault(dv.document_id, []).append(dv)
        if set(deliveries_by_doc) - set(letter_ids):
            problems.append(f"deliveries of documents never sent: {sorted(set(deliveries_by_doc) - set(letter_ids))}")
        dispatch_count = Counter(dp.document_id for dp in dispatches)
        chains: dict[int, list[str]] = {}
        for ev in sorted(evidence, key=lambda ev: (ev.delivery_id, ev.seq)):
            chains.setdefault(ev.delivery_id, []).append(ev.kind)
        receive_number = {e.document_id: e.number for e in entries if e.book == "received"}
        registered = 0
        for doc_id, key in letter_ids.items():
            if dispatch_count[doc_id] != 1:
                problems.append(f"send {key}: {dispatch_count[doc_id]} dispatches (want 1)")
            mine = deliveries_by_doc.get(doc_id, [])
            to = sorted(code_of[dv.recipient_id] for dv in mine)
            if to != sorted(RECIPIENTS):
                problems.append(f"send {key}: delivered to {to} (want each of {sorted(RECIPIENTS)} once)")
            for dv in mine:
                code = code_of[dv.recipient_id]
                copy = doc_by_id.get(dv.copy_id)
                want = ["submission-accepted", "delivered"]
                if f"{key}@{code}" in received:
                    want.append("registered")
                if chains.get(dv.id) != want or dv.state != want[-1]:
                    problems.append(f"send {key} to {code}: {dv.state}, evidence {chains.get(dv.id)} (want {want})")
                if copy is None or copy.origin != "delivered" or copy.agency_id != dv.recipient_id:
                    problems.append(f"send {key} to {code}: no copy there")
                elif copy.number != doc_by_id[doc_id].number:
                    problems.append(f"send {key} to {code}: the copy carries {copy.number}")
                elif dv.state == "registered":
                    registered += 1
                    if receive_number.get(copy.id) is None or dv.receive_number != receive_number[copy.id]:
                        problems.append(
                            f"receive {key}@{code}: {dv.receive_number} in the consignment, "
                            f"{receive_number.get(copy.id)} in the register"
                        )
                elif copy.id in receive_number:
                    problems.append(f"receive {key}@{code}: in the register, not in the consignment")
        if len(receive_rows) != planned["receive"] or registered != planned["receive"]:
            problems.append(
                f"{len(receive_rows)} received documents, {registered} registered consignments, "
                f"{planned['receive']} receive acts"
            )
        evidence_checked = _check_evidence(office, home, sorted(letter_ids), problems)

        # blobs: every row's bytes hash right; every reference has its row and bytes
        referenced = sorted({d.pdf_sha256 for d in docs if d.pdf_sha256} | {a.sha256 for a in attachments})
        blob_problems = office._read(office.db.blobs.check)
        bad = [p for p in blob_problems if p.problem != "orphan"]
        if bad:
            problems.append(f"blob store: {[(p.sha256[:12], p.problem) for p in bad[:5]]}")
        read_back = 0
        pdf_hashes = {d.pdf_sha256 for d in docs if d.pdf_sha256}
        pdfs: dict[str, bytes] = {}
        for digest in referenced:
            try:
                data = office._read(partial(office.db.blobs.get, digest=digest))
            except EdocError as exc:  # BlobMissing, BlobCorrupted
                problems.append(f"blob {digest[:12]}: {type(exc).__name__}")
                continue
            if hashlib.sha256(data).hexdigest() != digest:
                problems.append(f"blob {digest[:12]} does not hash to its name")
            elif digest in pdf_hashes and not data.startswith(b"%PDF-"):
                problems.append(f"blob {digest[:12]}: a document's PDF that is not a PDF")
            else:
                read_back += 1
                if digest in pdf_hashes:
                    pdfs[digest] = data

        # audit: the whole log verifies, one event per act, and each stored PDF is the one the
        # last event that changed (or brought) it recorded
        office.audit_checkpoint()
        log = office.verify_audit_log()
        if not log.ok:
            problems.append(f"audit log: {[p.message() for p in log.problems[:3]]}")
        checkpoints = len(office.audit_checkpoints())
        all_events = office.audit_events()
        events = Counter(e.act for e in all_events)
        want_events = {
            "document.new": planned["draft"] + planned["letter"],
            "doc.number": planned["number"] + planned["sign"],
            "document.import": planned["signed"] + planned["import"],
            "doc.sign": planned["sign"],
            "doc.send": planned["send"],
            "doc.deliver": planned["send"] * len(RECIPIENTS),
            "doc.receive": planned["receive"],
            "doc.stamp": planned["receive"],  # the received stamp, signed by the agency's seal
            "user.add": planned["user"] + SETUP_USERS,
        }
        for act, n in want_events.items():
            if events[act] != n:
                problems.append(f"audit: {events[act]} {act} events for {n} acts")
        logged_pdf: dict[int, str] = {}
        for e in all_events:
            if e.document_id is None:
                continue
            for field in ("pdf_sha256", "pdf_after", "sha256"):
                value = e.payload.get(field)
                if isinstance(value, str) and value:
                    logged_pdf[e.document_id] = value
                    break
        pdfs_logged = 0
        for d in docs:
            if d.pdf_sha256 is None:
                continue
            if logged_pdf.get(d.id) != d.pdf_sha256:
                problems.append(f"document {d.id}: stored PDF {d.pdf_sha256[:12]}, last logged {logged_pdf.get(d.id)}")
            else:
                pdfs_logged += 1

        # pyHanko validates a sample of the signed letters (one signature) and of the received
        # copies (the mayor's signature and the agency's signed received stamp)
        rng = random.Random(seed)
        signed_letters = sorted(d.id for d in docs if d.origin == "drafted" and d.pdf_sha256)
        stamped = sorted(i for i in receive_number if doc_by_id[i].origin == "delivered")
        roots = office.trust_roots()
        crls = [info.der for info in (office.latest_crl("issuing"), office.latest_crl("root")) if info is not None]
        validated = 0
        for ids, want_sigs in ((signed_letters, 1), (stamped, 2)):
            for doc_id in rng.sample(ids, min(SAMPLE, len(ids))):
                pdf = pdfs.get(doc_by_id[doc_id].pdf_sha256)
                if pdf is None:
                    continue  # reported above
                trouble = pyhanko_problems(pdf, roots, crls, want_sigs)
                problems.extend(f"document {doc_id}: {t}" for t in trouble)
                validated += not trouble
    return {
        "ok": not problems,
        "problems": problems[:50],
        "acts": dict(planned),
        "documents": len(docs),
        "numbers": len(by_doc),
        "received": len(receive_rows),
        "deliveries": len(deliveries),
        "evidence_records_checked": evidence_checked,
        "blobs": len(blob_rows),
        "blobs_read_back": read_back,
        "pdfs_matching_log": pdfs_logged,
        "pdfs_validated": validated,
        "orphan_files": sum(1 for p in blob_problems if p.problem == "orphan"),
        "audit_events": log.events,
        "checkpoints": checkpoints,
    }


def _check_evidence(office: Any, home: Path, letter_ids: list[int], problems: list[str]) -> int:
    """Export each sent letter's delivery evidence and check it offline against the office's
    roots (:func:`edoc.routing.evidence.check_folder`: seals, chains, order); records checked."""
    import shutil

    from edoc.routing.evidence import check_folder

    roots = office.trust_roots()
    folder = home / "crash-evidence"
    checked = 0
    for doc_id in letter_ids:
        out = folder / str(doc_id)
        office.export_evidence(doc_id, out, as_user="clerk")
        result = check_folder(out, roots)
        if not result.ok:
            bad = [p for r in result.records for p in r.problems] + list(result.problems)
            problems.append(f"evidence of document {doc_id}: {bad[:3]}")
        checked += len(result.records)
    shutil.rmtree(folder, ignore_errors=True)
    return checked


def pyhanko_problems(pdf: bytes, roots: list[Any], crls: list[bytes], want: int) -> list[str]:
    """What pyHanko's validator finds wrong with the signatures of ``pdf``: it must hold
    ``want`` signatures, each intact, valid, trusted up to ``roots`` (revocation checked against
    the CA's ``crls``, nothing fetched), and changed after signing only by later signatures."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    anchors = [asn1_x509.Certificate.load(r.public_bytes(Encoding.DER)) for r in roots]
    reader = PdfFileReader(io.BytesIO(pdf))
    sigs = reader.embedded_signatures
    out = [] if len(sigs) == want else [f"{len(sigs)} signatures (want {want})"]
    for sig in sigs:
        vc = ValidationContext(trust_roots=anchors, crls=crls, allow_fetching=False, revocation_mode="hard-fail")
        status = validate_pdf_signature(sig, vc)
        level = status.modification_level
        if not (status.intact and status.valid and status.trusted):
            out.append(f"{sig.field_name}: intact {status.intact}, valid {status.valid}, trusted {status.trusted}")
        if level is None or level.name not in ("NONE", "LTA_UPDATES", "FORM_FILLING") or status.docmdp_ok is False:
            out.append(f"{sig.field_name}: changed after signing ({level}, docmdp {status.docmdp_ok})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--db", default=None)
    parser.add_argument("--kills", type=int, default=110)
    parser.add_argument("--lanes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=1.2, help="seconds: kills fall in [0, this] after start")
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    report = run(args.home, args.db, args.kills, args.lanes, args.seed, args.max_delay)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
