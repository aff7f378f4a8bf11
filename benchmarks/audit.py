"""The audit log at scale: appends, whole-log verification, proofs.

Appends go through the library exactly as every act's do (``Office._run`` with
``Office._record``), in a realistic mix of transaction sizes; a fraction of events is signed
by its actor (P-256, like the pilot's user certificates). Peers, measured in the same run:

- appends: the same rows inserted with bare ``sqlite3`` in the same transactions, with the
  same durability settings as edoc (WAL, ``synchronous=FULL``);
- verification: bare ``hashlib`` hashing the same leaves (once each), and the whole RFC 9162
  tree over them (leaves and nodes);
- proofs: a bare ``sqlite3`` primary-key lookup of one event row.

Targets: >= 10,000 appends/s on SQLite; whole-log verification of 1,000,000 events under 10 s;
an inclusion proof under 1 ms.

    python -m benchmarks.audit [--events 1000000] [--signed 0.1] [--db URL] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import Result, median_ms, print_table, to_json

MIX: tuple[tuple[int, float], ...] = (
    (1, 0.05),  # single acts: a render, a read of a secret document
    (2, 0.10),  # sign (number + signature), send
    (4, 0.10),  # receive and register, route a step
    (25, 0.25),  # batch signing, a circular to a district's agencies
    (200, 0.25),  # a province-wide circular, a day's registers
    (1000, 0.25),  # directory imports, year-end records
)
"""(events per transaction, share of all events)."""

PLAIN_ACTS = ("document.new", "doc.render", "doc.number", "doc.route.propose", "doc.read")
SIGNED_ACTS = ("doc.sign", "doc.send", "doc.receive", "doc.route.endorse", "doc.route.assign")
"""Acts with legal weight are signed by their actor (``edoc audit verify`` fails them otherwise)."""


def transaction_sizes(total: int, rng: random.Random) -> list[int]:
    """Transaction sizes whose events follow :data:`MIX`, summing to ``total``."""
    sizes: list[int] = []
    for size, share in MIX:
        n = int(total * share) // size
        sizes += [size] * n
    rng.shuffle(sizes)
    rest = total - sum(sizes)
    sizes += [1] * rest
    return sizes


def payload(i: int) -> dict[str, Any]:
    return {
        "pdf_sha256": hashlib.sha256(b"%d" % i).hexdigest(),
        "number": f"นม 52101/{i % 9999 + 1}",
        "subject": "ขอความอนุเคราะห์ข้อมูลประกอบการพิจารณา",
        "to": ["NMA-D02", "NMA-D03"],
        "level": "B-LT",
    }


def make_signer() -> Any:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from edoc.audit.signers import event_signer

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench signer")])
    now = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return event_signer(key, cert)


def cpu() -> float:
    """CPU seconds of this process and of its finished children (signature workers)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def append_with_edoc(
    office: Any, sizes: list[int], signed: float, progress: Callable[[int], None]
) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to append every event through the library."""
    rng = random.Random(7)
    signer = make_signer()
    started = time.perf_counter()
    started_cpu = cpu()
    i = 0
    for size in sizes:
        first = i

        def act(session: Any, first: int = first, size: int = size) -> None:
            for j in range(first, first + size):
                legal = rng.random() < signed
                office._record(
                    session,
                    (SIGNED_ACTS if legal else PLAIN_ACTS)[j % 5],
                    actor="pc.clerk",
                    agency="PAKCHONG",
                    document_id=j // 7 + 1,
                    payload=payload(j),
                    sign=signer if legal else None,
                )

        office._run(act)
        i += size
        progress(i)
    return time.perf_counter() - started, cpu() - started_cpu


def append_bare_sqlite(path: Path, sizes: list[int]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for the same rows with bare sqlite3."""
    import json

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE e (seq INTEGER PRIMARY KEY, at TIMESTAMP, actor VARCHAR(64), agency VARCHAR(32), act VARCHAR(48),"
        " document_id INTEGER, payload TEXT, signature BLOB, signer_cert VARCHAR(64))"
    )
    conn.execute("CREATE INDEX e_doc ON e (document_id)")
    started = time.perf_counter()
    started_cpu = cpu()
    i = 0
    for size in sizes:
        rows = [
            (
                j,
                "2026-11-22 03:04:05.000000",
                "pc.clerk",
                "PAKCHONG",
                PLAIN_ACTS[j % 5],
                j // 7 + 1,
                json.dumps(payload(j), ensure_ascii=False, sort_keys=True),
                None,
                None,
            )
            for j in range(i, i + size)
        ]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        i += size
    elapsed = time.perf_counter() - started, cpu() - started_cpu
    conn.close()
    return elapsed


def single_event_latency(office: Any, bare: Path, n: int = 300) -> tuple[float, float]:
    def edoc_one() -> None:
        office._run(lambda s: office._record(s, "doc.render", actor="pc.clerk", agency="PAKCHONG", payload={}))

    conn = sqlite3.connect(bare, isolation_level=None)
    seq = [10**9]

    def bare_one() -> None:
        seq[0] += 1
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO e (seq, at, actor, agency, act, payload) VALUES (?, '', 'x', '', 'a', '{}')", seq)
        conn.execute("COMMIT")

    from benchmarks.common import timeit

    edoc_ms = median_ms(timeit(edoc_one, repeat=n, warmup=5))
    bare_ms = median_ms(timeit(bare_one, repeat=n, warmup=5))
    conn.close()
    return edoc_ms, bare_ms


def leaves_of(office: Any) -> list[bytes]:
    from edoc.storage import audit as audit_store

    with office.db.engine.connect() as conn:
        return [r[1] for r in audit_store.records(conn)]


def bare_hashing(leaves: list[bytes]) -> tuple[float, float, list[list[bytes]]]:
    """CPU seconds to hash every leaf once; and to build the whole tree (leaves and nodes);
    and the tree's levels (level k, entry i < n >> k: the perfect node over leaves
    [i * 2**k, (i + 1) * 2**k))."""
    sha = hashlib.sha256
    started = time.process_time()
    for leaf in leaves:
        sha(b"\x00" + leaf).digest()
    once = time.process_time() - started
    started = time.process_time()
    level = [sha(b"\x00" + leaf).digest() for leaf in leaves]
    levels = [level]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[k] + level[k + 1]).digest() for k in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        levels.append(level)
    return once, time.process_time() - started, levels


def bare_inclusion_path(levels: list[list[bytes]], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 2.1.3.1 from the tree in memory, with bare hashlib:
    perfect subtrees are read from ``levels``, the others hashed from them."""
    sha = hashlib.sha256

    def mth(lo: int, hi: int) -> bytes:
        n = hi - lo
        if n & (n - 1) == 0:
            return levels[n.bit_length() - 1][lo >> (n.bit_length() - 1)]
        k = 1 << ((n - 1).bit_length() - 1)
        return sha(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()

    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if index - lo < k:
            path.append(mth(lo + k, hi))
            hi = lo + k
        else:
            path.append(mth(lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def proof_times(
    office: Any, db_path: Path | None, size: int, levels: list[list[bytes]], n: int = 2000
) -> tuple[float, float, float, int, float, float]:
    """(edoc proof median ms, p95 ms, proof check median ms, hashes, bare sqlite lookup median
    ms, bare hashlib proof from memory median ms)."""
    from edoc.audit import check

    rng = random.Random(11)
    picks = [rng.randrange(size) for _ in range(n)]
    times: list[float] = []
    checks: list[float] = []
    hashes = 0
    for seq in picks:
        started = time.perf_counter()
        proof = office.audit_proof(seq)
        times.append(time.perf_counter() - started)
        hashes = max(hashes, len(proof.path))
        started = time.perf_counter()
        assert check.verify_inclusion(check.hash_leaf(proof.leaf), seq, proof.size, list(proof.path), proof.root)
        checks.append(time.perf_counter() - started)
    memory: list[float] = []
    for seq in picks:
        started = time.perf_counter()
        path = bare_inclusion_path(levels, seq, size)
        memory.append(time.perf_counter() - started)
    assert path == list(office.audit_proof(picks[-1]).path)  # the same proof
    bare = 0.0
    if db_path is not None:
        conn = sqlite3.connect(db_path)
        lookups = []
        for seq in picks:
            started = time.perf_counter()
            conn.execute("SELECT * FROM audit_event WHERE seq = ?", (seq,)).fetchone()
            lookups.append(time.perf_counter() - started)
        conn.close()
        bare = statistics.median(lookups) * 1000
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))] * 1000
    return (
        statistics.median(times) * 1000,
        p95,
        statistics.median(checks) * 1000,
        hashes,
        bare,
        statistics.median(memory) * 1000,
    )


FOLD_EVENTS = 200_000
"""Register events the views fold is measured over (each becomes a row held in memory)."""


def views_fold(n: int) -> tuple[float, float]:
    """Seconds to fold ``n`` register events (``doc.number`` with a full register payload) into
    the registers view through :meth:`LogViews.tap`, as ``audit verify`` does, and seconds for
    the peer: the same leaves made and parsed with bare ``json.loads``, nothing kept."""
    import json

    from edoc.audit.events import body_text, canonical_json, leaf_text
    from edoc.audit.views import LogViews

    template = canonical_json(
        {
            "action": "",
            "book": "sent",
            "date": "2026-11-02",
            "document_date": "2026-11-02",
            "document_number": "นม 52101/@",
            "from": "เทศบาลเมืองปากช่อง",
            "number": "นม 52101/@",
            "register_number": "@",
            "registered_at": "2026-11-02T03:04:05.123456+00:00",
            "remark": "",
            "seq": 999999999,
            "series": "out",
            "subject": "ขอความอนุเคราะห์ข้อมูลประกอบการพิจารณา",
            "to": "นายอำเภอปากช่อง",
            "year": 2569,
        }
    ).decode()

    def records() -> Any:
        for i in range(n):
            payload = template.replace("@", str(i + 1)).replace("999999999", str(i + 1))
            body = body_text(i, "2026-11-02T03:04:05.123456Z", "pc.clerk", "PAKCHONG", "doc.number", i, payload)
            yield i, leaf_text(body, None, None).encode(), None, "doc.number", "", None, None

    views = LogViews()
    started = time.perf_counter()
    for _ in views.tap(records()):
        pass
    fold_s = time.perf_counter() - started
    assert len(views.registers) == n
    del views
    started = time.perf_counter()
    for record in records():
        json.loads(record[1])
    return fold_s, time.perf_counter() - started


def run(events: int, signed: float, db_url: str | None, workers: int | None) -> list[Result]:
    from rich.console import Console

    from edoc.office import init_office, open_office
    from edoc.pki.keys import StaticPassphrases

    say = Console(stderr=True).print
    rng = random.Random(3)
    sizes = transaction_sizes(events, rng)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("EDOC_BENCH_DIR")) as tmp:
        home = Path(tmp) / "home"
        init_office(home, db_url, name="bench")
        (home / "edoc.toml").write_text(
            '[office]\nname = "bench"\n[pki]\nkdf_rounds = 10000\n[audit]\ncheckpoint_every = 100000\n'
            "checkpoint_seconds = 100000000\n",
            encoding="utf-8",
        )
        office = open_office(home, db_url, passphrases=StaticPassphrases({"audit": "bench audit passphrase"}))
        office.create_audit_key()
        say(f"appending {events:,} events in {len(sizes):,} transactions ({signed:.0%} signed) …")
        last = [0.0]

        def progress(done: int) -> None:
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                say(f"  {done:,}")

        edoc_s, edoc_cpu = append_with_edoc(office, sizes, signed, progress)
        bare_s, bare_cpu = append_bare_sqlite(Path(tmp) / "bare.db", sizes)
        note = f"{len(sizes):,} tx, {signed:.0%} signed by actor (P-256)"
        results.append(
            Result(
                "append, realistic transactions (CPU)",
                events / edoc_cpu,
                "events/CPU s",
                "bare sqlite3 inserts",
                events / bare_cpu,
                ">= 10000/s",
                f"{note}; {edoc_cpu:.1f} CPU s against {bare_cpu:.1f}",
            )
        )
        results.append(
            Result(
                "append, realistic transactions (wall)",
                events / edoc_s,
                "events/s",
                "bare sqlite3 inserts",
                events / bare_s,
                ">= 10000/s",
                f"{note}; every commit waits for its fsync (synchronous=FULL) on both sides",
            )
        )
        if db_url is None:
            edoc_ms, bare_ms = single_event_latency(office, Path(tmp) / "bare.db")
            results.append(
                Result("one act, one event (commit latency)", edoc_ms, "ms", "bare insert + commit", bare_ms)
            )
        office.audit_checkpoint()
        size = len(office.audit_checkpoints()) and office.audit_checkpoints()[-1].size
        say("verifying the whole log …")
        leaves = leaves_of(office)
        once_s, tree_s, levels = bare_hashing(leaves)
        del leaves
        for signatures in (True, False):
            started = time.perf_counter()
            main_cpu = time.process_time()
            started_cpu = cpu()
            report = office.verify_audit_log(workers=workers, check_signatures=signatures)
            full_s = time.perf_counter() - started
            main_cpu = time.process_time() - main_cpu
            full_cpu = cpu() - started_cpu
            assert report.ok, [p.message() for p in report.problems[:5]]
            # what two idle cores would take: the main process's share, or half of all the CPU
            idle = max(main_cpu, full_cpu / 2)
            what = (
                f"{report.events:,} events, {report.signatures:,} actor signatures"
                if signatures
                else "sequence, leaf hashes, every node, head, checkpoints, directory views"
            )
            name = "verify whole log (all checks)" if signatures else "verify whole log, actor signatures aside"
            peer = ("bare hashlib: each leaf once", once_s) if signatures else ("bare hashlib: whole tree", tree_s)
            results.append(
                Result(
                    f"{name}, CPU",
                    full_cpu,
                    "CPU s",
                    *peer,
                    "< 10 s",
                    f"{what}; main process {main_cpu:.1f} CPU s; on 2 idle cores >= {idle:.1f} s",
                )
            )
            results.append(Result(f"{name}, wall", full_s, "s", *peer, "< 10 s", "wall seconds on the loaded machine"))
        say("exporting and checking the bundle offline …")
        started = time.perf_counter()
        office.export_audit_log(Path(tmp) / "bundle")
        export_s = time.perf_counter() - started
        pem = Path(tmp) / "audit.pem"
        pem.write_text(office.audit_key().public_pem)
        from edoc.audit.bundle import verify_bundle

        started = time.perf_counter()
        offline = verify_bundle(Path(tmp) / "bundle", pem, workers=workers)
        offline_s = time.perf_counter() - started
        assert offline.ok, [p.message() for p in offline.problems[:5]]
        results.append(Result("export bundle", export_s, "s", "bare hashlib: each leaf once", once_s))
        results.append(
            Result(
                "verify bundle offline (all checks)", offline_s, "s", "bare hashlib: each leaf once", once_s, "< 10 s"
            )
        )
        say("views fold …")
        folded = min(events, FOLD_EVENTS)
        fold_s, parse_s = views_fold(folded)
        results.append(
            Result(
                "views fold (register events)",
                fold_s,
                "s",
                "bare json.loads of the same leaves",
                parse_s,
                note=f"{folded:,} doc.number events, {fold_s / folded * 1e6:.2f} µs each, one register row each",
            )
        )
        say("proofs …")
        db_path = home / "edoc.db" if db_url is None else None
        med, p95, check_ms, hashes, bare_ms, memory_ms = proof_times(office, db_path, size, levels)
        note = f"p95 {p95:.2f} ms; {hashes} hashes ({hashes * 32} bytes) for {size:,} events"
        results.append(
            Result(
                "inclusion proof (office.audit_proof)",
                med,
                "ms",
                "bare hashlib, the same proof from the tree in memory",
                memory_ms,
                "< 1 ms",
                note,
            )
        )
        if db_path:
            results.append(
                Result("inclusion proof (office.audit_proof)", med, "ms", "bare sqlite3 row lookup", bare_ms, "< 1 ms")
            )
        results.append(Result("inclusion proof check (edoc.audit.check)", check_ms, "ms", note="independent checker"))
        cps = office.audit_checkpoints()
        consistency = office.audit_consistency(cps[0].size, cps[-1].size)  # warm, and the note's example
        pairs = [(cps[i % len(cps)].size, cps[-1].size) for i in range(0, 97 * 200, 97)]
        times = []
        for old, new in pairs:  # between checkpoints spread over the log, each checked as it is built
            started = time.perf_counter()
            office.audit_consistency(old, new)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        results.append(
            Result(
                "consistency proof (office.audit_consistency)",
                statistics.median(times),
                "ms",
                target="< 1 ms",
                note=f"p95 {times[int(len(times) * 0.95)]:.2f} ms over {len(times)} checkpoint pairs; "
                f"{len(consistency.path)} hashes for {cps[0].size:,} -> {cps[-1].size:,}",
            )
        )
        office.close()
    return results


DATABASE = True
"""Run once on SQLite and once on PostgreSQL by ``python -m benchmarks``."""
SUITE_EVENTS = {"tiny": 600, "quick": 20_000, "full": 1_000_000}


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    return run(SUITE_EVENTS[size], 0.1, db_url, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--signed", type=float, default=0.1, help="share of events signed by their actor")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary home)")
    parser.add_argument("--workers", type=int, default=None, help="processes for actors' signatures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.events, args.signed, args.db, args.workers)
    if args.json:
        print(to_json(results))
    else:
        print_table(f"audit log, {args.events:,} events", results)


if __name__ == "__main__":
    main()
