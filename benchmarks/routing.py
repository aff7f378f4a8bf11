"""A circular from Pak Chong to every agency of the province, received and registered by each.

The pilot province (``edoc demo``'s directory with 344 agencies: Pak Chong and the 343 others)
with a real CA, a seal per agency and a certificate per clerk. The mayor's letter is signed,
then the clerk sends it ``--to-all-under NMA-PROV`` (343 consignments, sealed evidence,
``routing.deliveries_per_transaction`` deliveries per transaction), then every recipient's
clerk receives it (receive number, received stamp signed by the agency's seal,
``registered`` evidence sealed, audit event signed by the clerk), spread over worker
processes, each receiving ``--batch`` agencies' copies per transaction
(``Office.receive_documents``; 1: one ``receive_document`` act each).

Figures, each beside a plain peer measured in the same run:

- send: edoc's send beside bare ``sqlite3`` inserting the same rows (copy, delivery, two
  evidence rows) in the same transactions with the same durability (WAL, synchronous=FULL),
  plus a bare ECDSA P-256 signature per evidence record;
- receive: edoc's receive acts beside the bare received-stamp signature of the same PDF
  (:func:`edoc.signing.stamp_received`, no database) over the same worker processes;
- end to end: send + receive, target under 10 s.

Unlocking keys (one PBKDF2 per seal and per clerk, at the benchmark's ``kdf_rounds``) is a
once-per-session cost, done before the clock starts and reported on its own.

    python -m benchmarks.routing [--agencies 345] [--workers 2] [--batch 20] [--db URL] [--secrecy secret] [--json]

``--secrecy secret`` sends a secret letter: its PDF and fields stored only sealed, the recipient
seals added to the shared envelopes at the send, each receive opening the PDF with its seal.

The directory of ``--agencies N`` holds the province and N - 1 agencies below it; the circular
goes to all of them but Pak Chong: N - 2 recipients (345 gives the issue's 343). A PostgreSQL ``--db`` names a server:
the benchmark makes a fresh database there and drops it afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import Result, print_table, to_json

DATABASE = True
"""The figures depend on the database: the runner runs this on SQLite and on PostgreSQL."""
SIZES = {"tiny": 6, "quick": 40, "full": 345}
"""Agencies in the directory per runner size (recipients: two fewer)."""
PASSPHRASE = "benchmark passphrase"
PROVINCE = "NMA-PROV"


def _passphrases() -> Any:
    from edoc.pki.keys import StaticPassphrases

    return StaticPassphrases(default=PASSPHRASE)


def build(home: Path, db_url: str | None, agencies: int, secrecy: str = "normal") -> tuple[int, dict[str, str]]:
    """The province, its certificates and a signed letter; (letter id, clerk of each agency)."""
    import tomllib

    import tomli_w

    from edoc.directory import Role
    from edoc.office import init_office, open_office
    from edoc.pilot import DemoOptions
    from edoc.pilot.directory import build_directory
    from edoc.pki.model import CertificateRequest, agency_owner

    init_office(home, db_url, name="เทศบาลเมืองปากช่อง")
    path = home / "edoc.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("pki", {})["kdf_rounds"] = 10_000
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with open_office(home, db_url, passphrases=_passphrases()) as office:
        build_directory(office, DemoOptions(agencies=agencies, users=agencies * 3 + 30), lambda *a: None)
        office.pki_init("p384")
        clerks: dict[str, str] = {}
        for user in office.list_users():
            if user.role is Role.CLERK and user.agency not in clerks:
                clerks[user.agency] = user.username
        codes = [a.code for a in office.list_agencies()]
        missing = [c for c in codes if c not in clerks]
        if missing:
            raise SystemExit(f"agencies without a clerk: {missing[:5]}")
        requests = [CertificateRequest(u) for u in sorted({*clerks.values(), "pc.clerk", "pc.mayor"})]
        requests += [CertificateRequest(agency_owner(c)) for c in codes]
        office.issue_certificates(requests)
        letter = {
            "subject": "ขอความร่วมมือประชาสัมพันธ์โครงการปากช่องเมืองสะอาด",
            "to": "หัวหน้าส่วนราชการทุกแห่งในจังหวัดนครราชสีมา",
            "body": ["ด้วยเทศบาลเมืองปากช่องจัดโครงการปากช่องเมืองสะอาด", "จึงเรียนมาเพื่อโปรดประชาสัมพันธ์"],
            "signer": "pc.mayor",
            "urgency": "urgent",
            "secrecy": secrecy,
        }
        doc = office.new_document("external", letter, as_user="pc.clerk")
        sign = getattr(office, "sign_document", None)
        if sign is not None:
            sign(doc, as_user="pc.mayor", level="B-B")
        else:  # before the signing act landed: the final PDF, marked signed through storage
            from edoc.storage import documents as doc_store

            office.number_document(doc, as_user="pc.clerk")

            def mark(session: Any) -> None:
                row = doc_store.document_row(session, doc, for_update=True)
                row.pdf_sha256 = office.db.blobs.put(session, office._render_row(session, row).pdf)
                row.state = "signed"
                session.add(row)

            office._run(mark)
    return doc, clerks


def _unlock(office: Any, owners: list[str]) -> float:
    started = time.perf_counter()
    for owner in owners:
        office.signing_identity(owner)
    return time.perf_counter() - started


def _receive_share(args: tuple[str, str | None, list[tuple[int, str, str]], int]) -> tuple[float, float, int, float]:
    """In a worker: unlock the share's keys, then receive its copies, ``batch`` agencies per
    :meth:`~edoc.office.Office.receive_documents` (one transaction each; 1: one
    ``receive_document`` per agency). (unlock s, receive s, n, receive CPU s)."""
    home, db_url, share, batch = args
    from edoc.office import open_office

    with open_office(Path(home), db_url, passphrases=_passphrases()) as office:
        unlock = _unlock(office, [o for _, clerk, code in share for o in (clerk, f"agency:{code}")])
        started, cpu = time.perf_counter(), time.process_time()
        if batch <= 1:
            for copy_id, clerk, _code in share:
                office.receive_document(copy_id, as_user=clerk, level="B-B")
        else:
            for start in range(0, len(share), batch):
                office.receive_documents([(c, clerk) for c, clerk, _ in share[start : start + batch]], level="B-B")
        return unlock, time.perf_counter() - started, len(share), time.process_time() - cpu


def _stamp_share(args: tuple[bytes, bytes, bytes, int]) -> tuple[float, float]:
    """In a worker: the bare received stamp, ``n`` times on the same PDF (the peer). (s, CPU s)"""
    pdf, key_der, cert_der, n = args
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    from edoc.documents.render import stamp_zone
    from edoc.signing.keys import Credentials, SigningKey
    from edoc.signing.model import FieldBox, Level, ReceivedStamp
    from edoc.signing.sign import stamp_received

    private = load_der_private_key(key_der, None)
    key = SigningKey(Credentials(x509.load_der_x509_certificate(cert_der), (), key=private))  # type: ignore[arg-type]
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        stamp = ReceivedStamp(agency="อำเภอปากช่อง", number=str(i + 1), when=datetime.now(UTC))
        stamp_received(pdf, key, stamp, zone=FieldBox.of(stamp_zone()), level=Level.B_B)
    return time.perf_counter() - started, time.process_time() - cpu


def _peer_send(n: int) -> tuple[float, float]:
    """Bare sqlite3 + ECDSA: the rows and signatures of a send to ``n`` agencies."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(Path(tmp) / "peer.db", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("CREATE TABLE doc (id INTEGER PRIMARY KEY, agency INT, subject TEXT, sha TEXT)")
        con.execute("CREATE TABLE delivery (id INTEGER PRIMARY KEY, consignment TEXT UNIQUE, copy INT, state TEXT)")
        con.execute("CREATE TABLE evidence (id INTEGER PRIMARY KEY, delivery INT, seq INT, body TEXT, sig BLOB)")
        started, cpu = time.perf_counter(), time.process_time()
        con.execute("BEGIN IMMEDIATE")
        for i in range(n):
            body = f'{{"consignment":"c{i}","seq":0}}'.encode()
            con.execute("INSERT INTO delivery VALUES (?, ?, NULL, 'accepted')", (i, f"c{i}"))
            con.execute(
                "INSERT INTO evidence (delivery, seq, body, sig) VALUES (?, 0, ?, ?)",
                (i, body, key.sign(body, ec.ECDSA(hashes.SHA256()))),
            )
        con.execute("COMMIT")
        for i in range(n):
            body = f'{{"consignment":"c{i}","seq":1}}'.encode()
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute("INSERT INTO doc (agency, subject, sha) VALUES (?, 'x', 'y')", (i,))
            con.execute("UPDATE delivery SET copy = ?, state = 'delivered' WHERE id = ?", (cur.lastrowid, i))
            con.execute(
                "INSERT INTO evidence (delivery, seq, body, sig) VALUES (?, 1, ?, ?)",
                (i, body, key.sign(body, ec.ECDSA(hashes.SHA256()))),
            )
            con.execute("COMMIT")
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        con.close()
    return elapsed, cpu


def run(db_url: str | None, agencies: int, workers: int, batch: int = 20, secrecy: str = "normal") -> list[Result]:
    from edoc.office import open_office

    label = "PostgreSQL" if db_url and db_url.startswith("postgresql") else "SQLite"
    if secrecy != "normal":
        label += f" ({secrecy})"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        t0 = time.perf_counter()
        doc, clerks = build(home, db_url, agencies, secrecy)
        setup = time.perf_counter() - t0
        with open_office(home, db_url, passphrases=_passphrases()) as office:
            unlock_send = _unlock(office, ["pc.clerk", "agency:PAKCHONG"])
            started, cpu = time.perf_counter(), time.process_time()
            sent = office.send_document(doc, as_user="pc.clerk", under=PROVINCE)
            send_s, send_cpu = time.perf_counter() - started, time.process_time() - cpu
            n = len(sent.recipients)
            assert all(r.copy_id is not None for r in sent.recipients)
        jobs = [(r.copy_id or 0, clerks[r.agency], r.agency) for r in sent.recipients]
        shares = [jobs[i::workers] for i in range(workers)]
        ctx = multiprocessing.get_context("fork")
        started = time.perf_counter()
        with ctx.Pool(workers) as pool:
            outcomes = pool.map(_receive_share, [(str(home), db_url, s, batch) for s in shares])
        receive_wall = time.perf_counter() - started
        unlock_recv = max(o[0] for o in outcomes)
        receive_s = receive_wall - unlock_recv  # the clock of the acts themselves
        receive_cpu = sum(o[3] for o in outcomes)
        with open_office(home, db_url, passphrases=_passphrases()) as office:
            status = office.document_status(doc, as_user="pc.clerk")
            registered = sum(1 for r in status.recipients if r.state.value == "registered")
            assert registered == n, f"{registered} of {n} registered"
            # the peer's inputs: the PDF as sent and one seal's key
            identity = office.signing_identity("agency:PAKCHONG-DIST")
            from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

            key_der = identity.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())  # type: ignore[union-attr]
            cert_der = identity.der
            pdf = office.export_document(doc, as_user="pc.mayor")  # opened from its envelope when sealed
    peer_send, peer_send_cpu = _peer_send(n)
    per = [len(s) for s in shares]
    ctx = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with ctx.Pool(workers) as pool:
        stamped = pool.map(_stamp_share, [(pdf, key_der, cert_der, k) for k in per])
    peer_receive = time.perf_counter() - started
    peer_receive_cpu = sum(c for _, c in stamped)
    total = send_s + receive_s
    total_cpu = send_cpu + receive_cpu
    peer_cpu = peer_send_cpu + peer_receive_cpu
    note = f"{n} agencies, {workers} workers, {batch} per receive transaction"
    # CPU seconds do not depend on what else the machine runs; on idle cores the circular takes
    # about send CPU + receive CPU / workers (PostgreSQL's own CPU is not counted)
    idle = send_cpu + receive_cpu / workers
    peer_idle = peer_send_cpu + peer_receive_cpu / workers
    return [
        Result(
            f"{label}: send (submission + {n} deliveries)", send_s, "s", "bare sqlite3 + ECDSA", peer_send, note=note
        ),
        Result(f"{label}: send per delivery", send_s / n * 1000, "ms", "bare sqlite3 + ECDSA", peer_send / n * 1000),
        Result(
            f"{label}: receive + stamp + register, all",
            receive_s,
            "s",
            "bare stamp signatures",
            peer_receive,
            note=note,
        ),
        Result(f"{label}: receive per agency", receive_s / n * 1000, "ms", "bare stamp", peer_receive / n * 1000),
        Result(f"{label}: circular end to end", total, "s", "bare peers", peer_send + peer_receive, target="< 10 s"),
        Result(
            f"{label}: end to end per delivery",
            total / n * 1000,
            "ms",
            "bare peers",
            (peer_send + peer_receive) / n * 1000,
        ),
        Result(f"{label}: send, CPU", send_cpu, "s", "bare sqlite3 + ECDSA", peer_send_cpu),
        Result(f"{label}: receive, CPU (all workers)", receive_cpu, "s", "bare stamp signatures", peer_receive_cpu),
        Result(f"{label}: circular end to end, CPU", total_cpu, "s", "bare peers", peer_cpu),
        Result(
            f"{label}: end to end on {workers} idle cores (from CPU)",
            idle,
            "s",
            "bare peers",
            peer_idle,
            target="< 10 s",
            note="send CPU + receive CPU / workers",
        ),
        Result(
            f"{label}: key unlocks (once per session)",
            unlock_send + unlock_recv,
            "s",
            note=f"PBKDF2 10,000 rounds; {2 * n + 2} keys; setup {setup:.0f} s",
        ),
    ]


def suite(size: str, db_url: str | None) -> list[Result]:
    """For ``python -m benchmarks``: ``db_url`` is None (SQLite) or a fresh, empty database."""
    return run(db_url, SIZES[size], 2)


@contextlib.contextmanager
def fresh_pg_database(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``server_url``, dropped afterwards."""
    import secrets

    import psycopg

    name = f"edoc_bench_{secrets.token_hex(4)}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    base = server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--agencies", type=int, default=345, help="agencies in the directory (the circular reaches N - 2 of them)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--batch", type=int, default=20, help="agencies per receive transaction in a worker (1: one act each)"
    )
    parser.add_argument("--db", action="append", help="database URL (repeatable); default SQLite")
    parser.add_argument(
        "--secrecy", default="normal", help="the letter's secrecy: normal, or confidential/secret (sealed at rest)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: list[Result] = []
    for url in args.db or [None]:
        if url and url.startswith("postgresql"):
            with fresh_pg_database(url) as fresh:
                results.extend(run(fresh, args.agencies, args.workers, args.batch, args.secrecy))
        else:
            results.extend(run(url, args.agencies, args.workers, args.batch, args.secrecy))
    if args.json:
        print(to_json(results))
    else:
        print_table("Routing: a circular to the province", results)


if __name__ == "__main__":
    main()
