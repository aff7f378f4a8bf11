"""Crash harness: run edoc acts in child processes, SIGKILL them at random points, restart, check.

    python -m tests.crash --home DIR [--db URL] [--kills 110] [--lanes 2] [--seed 1] [--json]

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
- ``sign``, ``send``, ``receive``: through the office, when those acts exist (see ``ACTS``).

Every act appends its audit event in its transaction, and the office makes signed audit
checkpoints every few events, so kills also land in checkpoints. The child reports on a pipe
when it starts and finishes each act; the harness kills it after a random delay (often in the
middle of an act, sometimes between acts, sometimes in its commit), then starts a new child for
the lane at the interrupted act, which looks in the database whether that act took effect and
re-runs it if not (that is what a clerk does after a crash). When enough kills are done, each
lane is run to the end of the last act started, without kills. Then the checks, on what is in
the database and the blob store:

- every act of the plan took effect exactly once (one document per draft, import, signed
  letter; one number per numbered draft; one user per ``user`` act);
- no number duplicated or skipped: each series' sequence is exactly 1..n and each number's
  row agrees with its document;
- every stored PDF and attachment reads back with its hash (rows point to no missing file),
  and the blob store's own check finds nothing missing or corrupted (orphan files, left when a
  kill came after a file was written but before its row committed, are allowed and counted);
- the audit log verifies (sequence, hashes, tree, checkpoints), with exactly one event per act.

The report is one JSON object; ``tests/test_crash.py`` runs this on SQLite and PostgreSQL and
also runs ``edoc audit verify`` on the result.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import select
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

AUDIT_PASSPHRASE = "crash-test audit passphrase"
AGENCY = "PAKCHONG"
PLAN = ("draft", "number", "signed", "import", "draft", "number", "user", "import")
"""One round of a lane's plan; rounds repeat with new keys."""


# -- the plan ----------------------------------------------------------------------------------


def op_of(lane: int, i: int) -> tuple[str, str]:
    """The ``i``-th act of ``lane``: (kind, key). A ``number`` act numbers the draft before it."""
    kind = PLAN[i % len(PLAN)]
    if kind == "number":
        return kind, f"L{lane}-{i - 1}"
    return kind, f"L{lane}-{i}"


def subject(kind: str, key: str) -> str:
    return {"draft": "ขอเชิญประชุม", "signed": "หนังสือลงนาม", "import": "หนังสือจากภายนอก"}[kind] + f" [{key}]"


# -- setup -------------------------------------------------------------------------------------


def setup(home: Path, db_url: str | None) -> None:
    """An office with two agencies, their people and an audit key; checkpoints every 7 events."""
    from edoc.directory import Agency, Role, Unit, User
    from edoc.office import init_office, open_office
    from edoc.pki.keys import StaticPassphrases

    init_office(home, db_url, name="crash test")
    (home / "edoc.toml").write_text(
        '[office]\nname = "crash test"\n[pki]\nkdf_rounds = 10000\n'
        "[audit]\ncheckpoint_every = 7\ncheckpoint_seconds = 100000000\n",
        encoding="utf-8",
    )
    with open_office(home, db_url, passphrases=StaticPassphrases({"audit": AUDIT_PASSPHRASE})) as office:
        office.add_agencies(
            [
                Agency("PAKCHONG-DIST", "อำเภอปากช่อง", "นม 0318"),
                Agency(AGENCY, "เทศบาลเมืองปากช่อง", "นม 52101", parent="PAKCHONG-DIST"),
            ]
        )
        office.add_units([Unit(AGENCY, "OFFICE", "สำนักปลัดเทศบาล")])
        office.add_users(
            [
                User("clerk", AGENCY, "นางสาวสมใจ รักงาน", "เจ้าพนักงานธุรการ", Role.CLERK, unit="OFFICE"),
                User("mayor", AGENCY, "นายกเทศ มนตรี", "นายกเทศมนตรีเมืองปากช่อง", Role.EXECUTIVE),
                User("admin", AGENCY, "นายดูแล ระบบ", "นักวิชาการคอมพิวเตอร์", Role.ADMIN),
                User("dclerk", "PAKCHONG-DIST", "นายรับ หนังสือ", "เจ้าพนักงานธุรการ", Role.CLERK),
            ]
        )
        office.create_audit_key()


# -- the child ---------------------------------------------------------------------------------


class Lane:
    """What one child needs to do acts: its office, a signing key, and how to tell what is done."""

    def __init__(self, home: Path, db_url: str | None, lane: int, work: Path, signer: Any) -> None:
        from edoc.office import open_office
        from edoc.pki.keys import StaticPassphrases

        self.office = open_office(home, db_url, passphrases=StaticPassphrases({"audit": AUDIT_PASSPHRASE}))
        self.lane = lane
        self.work = work
        self.signer = signer

    def find(self, kind: str, key: str) -> list[Any]:
        """The documents a ``draft``/``signed``/``import`` act with this key made."""
        from sqlmodel import select

        from edoc.storage.tables import DocumentRow

        text = subject(kind, key)
        return self.office._read(lambda s: list(s.exec(select(DocumentRow).where(DocumentRow.subject == text))))

    def done(self, kind: str, key: str) -> bool:
        if kind in ("draft", "signed", "import"):
            return bool(self.find(kind, key))
        if kind == "number":
            return any(row.number for row in self.find("draft", key))
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
    from edoc.signing import Credentials, SignatureBlock, SigningKey, sign_pdf

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

    def sign(key_text: str) -> bytes:
        block = SignatureBlock("นายกเทศ มนตรี", f"นายกเทศมนตรีเมืองปากช่อง {key_text}", datetime.now(UTC))
        return sign_pdf(letter, signing_key, field="signature", appearance=block).pdf

    return sign


def child(
    home: Path, db_url: str | None, lane: int, start: int, stop: int | None, work: Path, signer: Any, fd: int
) -> None:
    """Do the lane's acts from ``start`` (checking first whether it took effect) to ``stop``."""
    out = os.fdopen(fd, "w", buffering=1)
    worker = Lane(home, db_url, lane, work, signer)
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
        worker.do(kind, key)
        out.write(f"D {i}\n")
        i += 1
    worker.office.close()
    out.write("E\n")


# -- the harness -------------------------------------------------------------------------------

ACT_TIMES: list[float] = []
"""Seconds each completed act took (seen from the harness), to time the kills."""


class Child:
    def __init__(self, pid: int, fd: int, lane: int) -> None:
        self.pid, self.fd, self.lane = pid, fd, lane
        self.buf = b""
        self.ready = False
        self.ended = False
        self.started: int | None = None
        self.done: int | None = None
        self.started_at: float | None = None

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
            elif tag == "S":
                self.started = int(arg)
                self.started_at = time.monotonic()
            elif tag == "D":
                self.done = int(arg)
                if self.started_at is not None:
                    ACT_TIMES.append(time.monotonic() - self.started_at)


def spawn(home: Path, db_url: str | None, lane: int, start: int, stop: int | None, work: Path, signer: Any) -> Child:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into the harness
        code = 0
        try:
            os.close(r)
            child(home, db_url, lane, start, stop, work, signer, w)
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
    setup(home, db_url)
    work = home / "crash-attachments"
    work.mkdir()
    signer = make_signer()
    signer("warm-up")  # load fonts and HarfBuzz before forking
    next_op = dict.fromkeys(range(lanes), 0)
    highest_started = dict.fromkeys(range(lanes), -1)
    done_kills = 0
    in_act = 0
    spawned = 0
    finished_clean = 0
    started = time.monotonic()
    running: dict[int, tuple[Child, float]] = {}
    while done_kills < kills or running:
        for lane in range(lanes):
            if lane not in running and done_kills + len(running) < kills:
                c = spawn(home, db_url, lane, next_op[lane], None, work, signer)
                spawned += 1
                running[lane] = (c, -1.0)
        fds = [c.fd for c, _ in running.values()]
        select.select(fds, [], [], 0.01)
        now = time.monotonic()
        for lane, (c, kill_at) in list(running.items()):
            c.pump()
            if c.ready and kill_at < 0:
                # a busy machine makes acts slow: kills spread over about three acts' time
                typical = sorted(ACT_TIMES)[len(ACT_TIMES) // 2] if ACT_TIMES else 0.0
                kill_at = now + rng.uniform(0, max(max_delay, 3 * typical))
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
                elif status != 0:
                    for other, _ in running.values():
                        os.kill(other.pid, signal.SIGKILL)
                    raise RuntimeError(f"lane {lane}'s child failed (status {status}); see its traceback above")
                if c.started is not None:
                    highest_started[lane] = max(highest_started[lane], c.started)
                if c.done is not None:
                    next_op[lane] = c.done + 1
    # finish every lane up to and including the last act started, without kills
    for lane in range(lanes):
        stop = max(highest_started[lane] + 1, len(PLAN))  # at least one act of every kind
        highest_started[lane] = stop - 1
        c = spawn(home, db_url, lane, next_op[lane], stop, work, signer)
        status = reap(c)
        if status != 0:
            raise RuntimeError(f"lane {lane}'s final run failed (status {status})")
        finished_clean += 1
    elapsed = time.monotonic() - started
    report = check(home, db_url, {lane: highest_started[lane] + 1 for lane in range(lanes)})
    report.update(
        kills=done_kills,
        kills_in_act=in_act,
        children=spawned + finished_clean,
        seconds=round(elapsed, 1),
        database="sqlite" if db_url is None else "postgresql",
    )
    return report


# -- the checks --------------------------------------------------------------------------------


def check(home: Path, db_url: str | None, acts: dict[int, int]) -> dict[str, Any]:
    """What the database and blob store hold, against the plan (``acts``: lane -> acts done)."""
    from sqlmodel import select

    from edoc.errors import EdocError
    from edoc.office import open_office
    from edoc.pki.keys import StaticPassphrases
    from edoc.storage.tables import AttachmentRow, BlobRow, DocumentRow, RegisterEntryRow

    problems: list[str] = []
    planned: Counter[str] = Counter()
    with open_office(home, db_url, passphrases=StaticPassphrases({"audit": AUDIT_PASSPHRASE})) as office:

        def gather(s: Any) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
            return (
                list(s.exec(select(DocumentRow))),
                list(s.exec(select(RegisterEntryRow))),
                list(s.exec(select(AttachmentRow))),
                list(s.exec(select(BlobRow))),
            )

        docs, entries, attachments, blob_rows = office._read(gather)
        by_subject: dict[str, list[Any]] = {}
        for d in docs:
            by_subject.setdefault(d.subject, []).append(d)
        users = {u.username for u in office.list_users()}
        numbered_expected = 0
        for lane, n in acts.items():
            for i in range(n):
                kind, key = op_of(lane, i)
                planned[kind] += 1
                if kind in ("draft", "signed", "import"):
                    found = by_subject.get(subject(kind, key), [])
                    if len(found) != 1:
                        problems.append(f"{kind} {key}: {len(found)} documents (want 1)")
                elif kind == "number":
                    numbered_expected += 1
                    found = by_subject.get(subject("draft", key), [])
                    if len(found) != 1 or not found[0].number:
                        problems.append(f"number {key}: the draft has no number")
                elif kind == "user" and f"u{key.lower()}" not in users:
                    problems.append(f"user {key}: missing")
        if len(docs) != planned["draft"] + planned["signed"] + planned["import"]:
            problems.append(
                f"{len(docs)} documents stored, {planned['draft'] + planned['signed'] + planned['import']} made"
            )

        # numbers: each series 1..n, one register row per numbered document, rows agree
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
        numbered = [d for d in docs if d.number and d.origin == "drafted"]
        if len(numbered) != numbered_expected or len(by_doc) != numbered_expected:
            problems.append(
                f"{len(numbered)} numbered documents, {len(by_doc)} register rows, {numbered_expected} acts"
            )
        doc_by_id = {d.id: d for d in docs}
        for e in entries:
            d = doc_by_id.get(e.document_id)
            if d is None or (e.book == "sent" and d.number != e.document_number):
                problems.append(f"register row {e.number} disagrees with its document")

        # blobs: every row's bytes hash right; every reference has its row and bytes
        referenced = [d.pdf_sha256 for d in docs if d.pdf_sha256] + [a.sha256 for a in attachments]
        blob_problems = office._read(office.db.blobs.check)
        bad = [p for p in blob_problems if p.problem != "orphan"]
        if bad:
            problems.append(f"blob store: {[(p.sha256[:12], p.problem) for p in bad[:5]]}")
        read_back = 0
        pdf_hashes = {d.pdf_sha256 for d in docs if d.pdf_sha256}
        for digest in referenced:
            try:
                data = office._read(lambda s, digest=digest: office.db.blobs.get(s, digest))
            except EdocError as exc:  # BlobMissing, BlobCorrupted
                problems.append(f"blob {digest[:12]}: {type(exc).__name__}")
                continue
            if hashlib.sha256(data).hexdigest() != digest:
                problems.append(f"blob {digest[:12]} does not hash to its name")
            elif digest in pdf_hashes and not data.startswith(b"%PDF-"):
                problems.append(f"blob {digest[:12]}: a document's PDF that is not a PDF")
            else:
                read_back += 1

        # audit: the whole log verifies, and there is one event per act
        office.audit_checkpoint()
        log = office.verify_audit_log()
        if not log.ok:
            problems.append(f"audit log: {[p.message() for p in log.problems[:3]]}")
        checkpoints = len(office.audit_checkpoints())
        events = Counter(e.act for e in office.audit_events())
        want = {
            "document.new": planned["draft"],
            "doc.number": planned["number"],
            "document.import": planned["signed"] + planned["import"],
        }
        for act, n in want.items():
            if events[act] != n:
                problems.append(f"audit: {events[act]} {act} events for {n} acts")
        if events["user.add"] != planned["user"] + 4:  # and the four of the setup
            problems.append(f"audit: {events['user.add']} user.add events for {planned['user'] + 4} users")
    return {
        "ok": not problems,
        "problems": problems[:50],
        "acts": dict(planned),
        "documents": len(docs),
        "numbers": len(by_doc),
        "blobs": len(blob_rows),
        "blobs_read_back": read_back,
        "orphan_files": sum(1 for p in blob_problems if p.problem == "orphan"),
        "audit_events": log.events,
        "checkpoints": checkpoints,
    }


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
