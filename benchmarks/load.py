"""Load: concurrent clerk processes doing a mix of acts against one database.

Four agencies, two clerks each: eight clerk processes (``--clerks``) start together and, for
``--seconds``, each picks its next act at random from :data:`MIX`: draft a letter, number one
of its drafts, import an outside PDF, receive (register, with the agency seal's received
stamp) one of its imports, search, read its agency's register, show a document. Two clerks of
the same agency share its numbering series, so numbers and receive numbers are contended.

Reported per act: count, throughput and p95 latency with all clerks, beside the same act done by
one clerk alone measured in the same run (the peer), and the whole mix's throughput beside one
clerk's. The only failure allowed is none: SQLite lock waits and PostgreSQL deadlocks or
serialisation failures are retried inside the act (``storage/engine.py``) and counted as
``retries``; anything that reaches a clerk is an error and is reported.

After the run, the numbering and the audit log are checked (see :func:`check`).

    python -m benchmarks.load [--seconds 60] [--clerks 8] [--db URL] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import Result, p95_ms, print_table, to_json

PASSPHRASE = "load test passphrase (not secret)"
AGENCIES = (
    ("PAKCHONG", "เทศบาลเมืองปากช่อง", "นม 52101"),
    ("KLANGDONG", "เทศบาลตำบลกลางดง", "นม 52102"),
    ("MUSI", "องค์การบริหารส่วนตำบลหมูสี", "นม 52103"),
    ("NONGSARAI", "องค์การบริหารส่วนตำบลหนองสาหร่าย", "นม 52104"),
)
MIX: dict[str, int] = {"draft": 3, "number": 2, "import": 2, "receive": 2, "search": 1, "register": 1, "show": 2}
"""Relative weights of the acts a clerk does."""
FIRST = ("draft", "import", "number", "receive", "search", "register", "show")
"""Each clerk's first acts, so that a short run still does every kind."""


def clerks(n: int) -> list[tuple[str, str]]:
    """(username, agency) of ``n`` clerks, spread over the agencies."""
    return [(f"clerk{i + 1}", AGENCIES[i % len(AGENCIES)][0]) for i in range(n)]


def settings_text(blob_dir: Path | None = None) -> str:
    """The ``edoc.toml`` of every home of the run (the same on every host)."""
    storage = f'[storage]\nblob_dir = "{blob_dir}"\n' if blob_dir is not None else ""
    return (
        '[office]\nname = "load test"\n[pki]\nkdf_rounds = 10000\nbase_url = "http://127.0.0.1:9"\n'
        "[audit]\ncheckpoint_every = 500\ncheckpoint_seconds = 100000000\n" + storage
    )


def add_host(home: Path, db_url: str, blob_dir: Path | None = None) -> None:
    """Another host's home on the same PostgreSQL database: only its settings, nothing copied."""
    from edoc.office import init_office

    init_office(home, db_url, name="load test")
    (home / "edoc.toml").write_text(settings_text(blob_dir), encoding="utf-8")


def setup(home: Path, db_url: str | None, n_clerks: int, blob_dir: Path | None = None) -> None:
    """The agencies, their clerks and executives, the CA, the clerks' keys and the agencies' seals."""
    from edoc.directory import Agency, Role, User
    from edoc.office import init_office, open_office
    from edoc.pki.keys import StaticPassphrases
    from edoc.pki.model import CertificateRequest

    init_office(home, db_url, name="load test")
    (home / "edoc.toml").write_text(settings_text(blob_dir), encoding="utf-8")
    with open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        office.add_agencies([Agency("NMA-PROV", "จังหวัดนครราชสีมา", "นม 0017")])
        office.add_agencies([Agency(code, name, letter, parent="NMA-PROV") for code, name, letter in AGENCIES])
        users = [
            User(f"exec.{code.lower()}", code, "นายผู้บริหาร ท้องถิ่น", "นายก", Role.EXECUTIVE) for code, _, _ in AGENCIES
        ]
        users += [
            User(name, agency, f"นางสาวธุรการ {name}", "เจ้าพนักงานธุรการ", Role.CLERK) for name, agency in clerks(n_clerks)
        ]
        office.add_users(users)
        office.pki_init("p384")
        requests = [CertificateRequest(name) for name, _ in clerks(n_clerks)]
        requests += [CertificateRequest(f"agency:{code}") for code, _, _ in AGENCIES]
        office.issue_certificates(requests)
        office.create_audit_key()


def outside_pdf(title: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def clerk(
    home: str,
    db_url: str | None,
    username: str,
    agency: str,
    barrier: Any,
    seconds: float,
    seed: int,
    out: str,
    min_acts: int = 0,
) -> None:
    """One clerk process: acts until ``stop_at``; writes (act, seconds, error) rows and retries to ``out``."""
    import logging

    from edoc.documents import validate
    from edoc.office import open_office
    from edoc.pki.keys import StaticPassphrases
    from edoc.storage import engine

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    retries = Counter[str]()
    retryable = engine._retryable

    def counting(exc: BaseException) -> bool:  # count the lock waits the engine retries
        ok = retryable(exc)
        if ok:
            retries[type(exc).__name__] += 1
        return ok

    engine._retryable = counting  # type: ignore[assignment]
    rng = random.Random(seed)
    rows: list[tuple[str, float, str]] = []
    drafts: list[int] = []
    imports: list[int] = []
    seen: list[int] = []
    content = validate(
        "external",
        {
            "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาท้องถิ่น",
            "to": "นายอำเภอปากช่อง",
            "body": ["ด้วยจะจัดประชุมคณะกรรมการพัฒนาท้องถิ่น", "จึงเรียนมาเพื่อโปรดเข้าร่วมประชุม"],
            "signer": f"exec.{agency.lower()}",
        },
    )
    acts = list(MIX)
    weights = [MIX[a] for a in acts]
    with open_office(Path(home), db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        office.list_agencies()  # connect before the start
        n = 0
        barrier.wait()  # every clerk has imported edoc and connected: start together
        began = time.monotonic()
        stop_at = began + seconds
        while time.monotonic() < stop_at or n < min_acts:
            act = FIRST[n] if n < len(FIRST) else rng.choices(acts, weights)[0]
            if act == "number" and not drafts:
                act = "draft"
            if act == "receive" and not imports:
                act = "import"
            if act == "show" and not seen:
                act = "search"
            n += 1
            started = time.perf_counter()
            error = ""
            try:
                if act == "draft":
                    doc = office.new_document("external", content, as_user=username)
                    drafts.append(doc)
                    seen.append(doc)
                elif act == "number":
                    office.number_document(drafts.pop(rng.randrange(len(drafts))), as_user=username)
                elif act == "import":
                    pdf = outside_pdf(f"หนังสือ {username} {n}")
                    doc = office.import_document(pdf, as_user=username, subject=f"หนังสือเชิญประชุม {username} {n}")
                    imports.append(doc)
                    seen.append(doc)
                elif act == "receive":
                    office.receive_document(imports.pop(rng.randrange(len(imports))), as_user=username, level="B-B")
                elif act == "search":
                    office.search("ประชุม", as_user=username, limit=20)
                elif act == "register":
                    office.register(agency, "sent" if n % 2 else "received", as_user=username, limit=50)
                elif act == "show":
                    office.show_document(rng.choice(seen), as_user=username)
            except Exception as exc:  # an error is a result here: reported, never hidden
                error = f"{type(exc).__name__}: {exc}"[:300]
            rows.append((act, time.perf_counter() - started, error))
        elapsed = time.monotonic() - began
    Path(out).write_text(json.dumps({"rows": rows, "retries": dict(retries), "elapsed": elapsed}), encoding="utf-8")


def run_clerks(
    home: Path,
    db_url: str | None,
    n_clerks: int,
    seconds: float,
    seed: int,
    min_acts: int = 0,
    hosts: list[Path] | None = None,
) -> dict[str, Any]:
    """Start ``n_clerks`` processes together for ``seconds``; gather their rows.

    ``hosts``: homes the clerks take in turn (other hosts' homes on the same PostgreSQL database,
    see :func:`add_host`); default: all in ``home``.
    """
    homes = hosts or [home]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n_clerks)
    outs = [home / f"clerk-{seed}-{i}.json" for i in range(n_clerks)]
    procs = [
        ctx.Process(
            target=clerk,
            args=(
                str(homes[i % len(homes)]),
                db_url,
                name,
                agency,
                barrier,
                seconds,
                seed * 100 + i,
                str(outs[i]),
                min_acts,
            ),
        )
        for i, (name, agency) in enumerate(clerks(n_clerks))
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"clerk processes failed: exit codes {failed}")
    rows: list[tuple[str, float, str]] = []
    retries: Counter[str] = Counter()
    elapsed = seconds
    for o in outs:
        data = json.loads(o.read_text(encoding="utf-8"))
        elapsed = max(elapsed, data["elapsed"])
        rows += [tuple(r) for r in data["rows"]]  # type: ignore[misc]
        retries.update(data["retries"])
    return {"rows": rows, "retries": dict(retries), "seconds": elapsed, "clerks": n_clerks}


def summarise(run: dict[str, Any]) -> dict[str, Any]:
    """Per act: count, per-second rate, median and p95 ms; the errors."""
    by_act: dict[str, list[float]] = {}
    errors: list[str] = []
    for act, seconds, error in run["rows"]:
        if error:
            errors.append(f"{act}: {error}")
        else:
            by_act.setdefault(act, []).append(seconds)
    acts = {
        act: {
            "count": len(times),
            "per_s": len(times) / run["seconds"],
            "median_ms": statistics.median(times) * 1000,
            "p95_ms": p95_ms(times),
        }
        for act, times in sorted(by_act.items())
    }
    total = sum(a["count"] for a in acts.values())
    return {
        "clerks": run["clerks"],
        "seconds": run["seconds"],
        "acts": acts,
        "total": total,
        "per_s": total / run["seconds"],
        "errors": errors,
        "retries": run["retries"],
    }


def check(home: Path, db_url: str | None) -> list[str]:
    """Numbers 1..n in every series with one register row per document; every blob row has its
    bytes, hashing right; the audit log verifies."""
    from sqlmodel import select

    from edoc.office import open_office
    from edoc.pki.keys import StaticPassphrases
    from edoc.storage.tables import RegisterEntryRow

    problems: list[str] = []
    with open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        entries = office._read(lambda s: list(s.exec(select(RegisterEntryRow))))
        series: dict[tuple[int, str, str, int], list[int]] = {}
        for e in entries:
            series.setdefault((e.agency_id, e.book, e.series, e.year), []).append(e.seq)
        for key, seqs in series.items():
            if sorted(seqs) != list(range(1, len(seqs) + 1)):
                problems.append(f"series {key}: not 1..{len(seqs)}")
        per_doc = Counter((e.document_id, e.book) for e in entries)
        if any(c != 1 for c in per_doc.values()):
            problems.append("a document has two numbers in one register")
        blobs = office._read(office.db.blobs.check)
        problems += [f"blob {p.sha256[:12]}: {p.problem}" for p in blobs if p.problem != "orphan"]
        office.audit_checkpoint()
        log = office.verify_audit_log()
        if not log.ok:
            problems += [p.message() for p in log.problems[:5]]
    return problems


def run(
    seconds: float, n_clerks: int, db_url: str | None, peer_seconds: float | None = None
) -> tuple[list[Result], dict[str, Any]]:
    """The load run and its peer (one clerk alone); results, and the summaries for JSON."""
    with tempfile.TemporaryDirectory(dir=os.environ.get("EDOC_BENCH_DIR")) as tmp:
        home = Path(tmp) / "home"
        setup(home, db_url, n_clerks)
        alone = summarise(run_clerks(home, db_url, 1, peer_seconds or max(2.0, seconds / 4), seed=1))
        many = summarise(run_clerks(home, db_url, n_clerks, seconds, seed=2))
        problems = check(home, db_url)
    db = "SQLite" if db_url is None else "PostgreSQL"
    results = [
        Result(
            f"mix of acts, {n_clerks} clerk processes ({db})",
            many["per_s"],
            "acts/s",
            "one clerk alone",
            alone["per_s"],
            "no errors",
            f"{many['total']:,} acts in {seconds:g} s; errors {len(many['errors'])}; retried lock waits "
            f"{sum(many['retries'].values())}; checks: {'ok' if not problems else problems[0]}",
        )
    ]
    for act, figures in many["acts"].items():
        peer = alone["acts"].get(act)
        results.append(
            Result(
                f"{act}: p95 with {n_clerks} clerks",
                figures["p95_ms"],
                "ms",
                "p95, one clerk alone" if peer else "",
                peer["p95_ms"] if peer else None,
                "",
                f"{figures['count']:,} acts, {figures['per_s']:.1f}/s, median {figures['median_ms']:.1f} ms",
            )
        )
    return results, {"many": many, "alone": alone, "problems": problems}


DATABASE = True
"""Run once on SQLite and once on PostgreSQL by ``python -m benchmarks``."""


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry (see :mod:`benchmarks.run`): 8 clerks for 2, 10 or 60 s."""
    seconds = {"tiny": 2.0, "quick": 10.0, "full": 60.0}[size]
    results, summary = run(seconds, 8, db_url)
    if summary["many"]["errors"] or summary["problems"]:
        raise RuntimeError(f"load run failed: {(summary['many']['errors'] + summary['problems'])[:3]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clerks", type=int, default=8)
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary home)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results, summary = run(args.seconds, args.clerks, args.db)
    if args.json:
        data = json.loads(to_json(results))
        data["summary"] = summary
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_table(f"load: {args.clerks} clerks for {args.seconds:g} s", results)
        for error in summary["many"]["errors"][:20]:
            print("ERROR", error)
        for problem in summary["problems"]:
            print("CHECK FAILED", problem)


if __name__ == "__main__":
    main()
