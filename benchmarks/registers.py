"""The registers at scale: a register page of 50 rows and a Thai search, beside hand-written SQL.

The documents are made through the library's own bulk path (``Office.receive_backlog``: the
document rows, a run of receive numbers, the register rows and one audit event per document,
signed by the clerk, in transactions of ``--chunk`` documents), spread over ``--agencies``
agencies. Then, in the same run:

- register page: ``Office.register(agency, "received", year, as_user=clerk, limit=50,
  offset=random page)`` (the permission check, the query, the values) against the same page
  read with the driver (``sqlite3`` / psycopg) and plain SQL;
- search: ``Office.search(word, as_user=clerk, limit=20)`` (the trigram index, the access
  policy per hit, the register numbers) against the same FTS5 (or pg_trgm) query for the
  clerk's agency written by hand.

Targets (issue 7): register page p95 < 20 ms, search p95 < 100 ms, both within 2x of the hand
SQL.

    python -m benchmarks.registers [--documents 1000000] [--agencies 343] [--db URL] [--json]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import Result, median_ms, p95_ms, print_table, to_json

WORDS = (
    "ขอเชิญประชุม",
    "คณะกรรมการ",
    "พัฒนาท้องถิ่น",
    "งบประมาณ",
    "โครงการ",
    "ก่อสร้างถนน",
    "ประชาสัมพันธ์",
    "รายงานผล",
    "การดำเนินงาน",
    "ขอความร่วมมือ",
    "แจ้งกำหนดการ",
    "ฝึกอบรม",
    "ตรวจสอบ",
    "จัดซื้อจัดจ้าง",
    "สาธารณสุข",
    "ป้องกันภัย",
    "ภัยแล้ง",
    "น้ำท่วม",
    "การศึกษา",
    "ผู้สูงอายุ",
)
SENDERS = ("จังหวัดนครราชสีมา", "อำเภอปากช่อง", "สำนักงานสาธารณสุขจังหวัด", "สำนักงานท้องถิ่นจังหวัด", "กรมส่งเสริมการปกครองท้องถิ่น")
PASSPHRASE = "benchmark passphrase, not secret"
"""The passphrase of the clerks' keys and the CA in the benchmark's home."""
RARE = "ไข้เลือดออก"
"""The searched word: in about 1 subject in 200 (a realistic, not a degenerate, hit count)."""


def _subject(rng: random.Random, i: int) -> str:
    words = rng.sample(WORDS, 3)
    if i % 200 == 0:
        words[1] = RARE
    return "".join(words) + f" ครั้งที่ {i % 97 + 1}"


def build(
    office: Any, documents: int, agencies: int, chunk: int, rng: random.Random, say: Any = print
) -> tuple[list[str], float]:
    from edoc.directory import Agency, Role, User
    from edoc.pki.model import CertificateRequest
    from edoc.registers.views import BacklogItem

    codes = [f"AG{i:03d}" for i in range(agencies)]
    office.add_agencies([Agency(c, f"เทศบาลตำบลทดสอบ {i}", f"นม {60000 + i}") for i, c in enumerate(codes)])
    office.add_users(
        [User(f"clerk{i:03d}", c, "นางสาวธุรการ ทดสอบ", "เจ้าพนักงานธุรการ", Role.CLERK) for i, c in enumerate(codes)]
    )
    # each backlog event is signed by its clerk (a legal act): a CA and a key per clerk
    office.pki_init("p384")
    office.issue_certificates([CertificateRequest(f"clerk{i:03d}") for i in range(agencies)])
    per = documents // agencies
    started = time.perf_counter()
    made = 0
    for a, code in enumerate(codes):
        left = per + (1 if a < documents % agencies else 0)
        while left:
            n = min(chunk, left)
            items = [
                BacklogItem(
                    subject=_subject(rng, made + j),
                    from_=SENDERS[(made + j) % len(SENDERS)],
                    document_number=f"นม 0017/{made + j}",
                    document_date=date(2026, 1 + (made + j) % 12, 1 + (made + j) % 28),
                )
                for j in range(n)
            ]
            office.receive_backlog(code, items, as_user=f"clerk{a:03d}")
            made += n
            left -= n
        if a % 20 == 0:
            say(f"  {made:,} documents in {time.perf_counter() - started:.0f} s")
    return codes, time.perf_counter() - started


def _paired(
    edoc: Any, hand: Any, args: list[Any], cpu: dict[str, list[float]] | None = None
) -> tuple[list[float], list[float]]:
    """Seconds of ``edoc(arg)`` and ``hand(arg)`` over ``args``, interleaved (one, then the
    other, on the same argument) so that both see the same load on a shared machine; the
    first argument warms both up and is not counted. ``cpu`` receives this process's CPU
    seconds of each call under ``"edoc"`` and ``"hand"`` (what the call cost, whatever else the
    machine was doing; the database server's own time on PostgreSQL is not in it)."""
    first, *rest = args
    edoc(first)
    hand(first)
    a: list[float] = []
    b: list[float] = []
    ca: list[float] = []
    cb: list[float] = []
    for i, arg in enumerate(rest):
        pair = ((edoc, a, ca), (hand, b, cb)) if i % 2 == 0 else ((hand, b, cb), (edoc, a, ca))
        for fn, into, cpu_into in pair:
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn(arg)
            into.append(time.perf_counter() - t0)
            cpu_into.append(time.process_time() - c0)
    if cpu is not None:
        cpu["edoc"], cpu["hand"] = ca, cb
    return a, b


# The hand-written peers do the same work with the bare driver (sqlite3 / psycopg), in one read
# transaction as edoc does: who is asking and whose register (one query), then the same rows
# and columns, fetched into Python tuples. No permission policy: that is edoc's to add.
_WHO = (
    "SELECT a.id, a.code, a.name, a.thai_digits, u.role, u.active, ua.code FROM agency a "
    "LEFT JOIN account u ON u.username = {p} LEFT JOIN agency ua ON ua.id = u.agency_id WHERE a.code = {p}"
)
_PAGE = (
    "SELECT number, registered_at, document_number, document_date, from_name, to_name, subject, action, remark, "
    "document_id, cancelled, seq, series FROM register_entry WHERE agency_id = {p} AND book = 'received' "
    "AND year = {p} ORDER BY seq, series LIMIT 50 OFFSET {p}"
)
_HIT_COLUMNS = (
    "d.id, {score}, d.agency_id, coalesce(d.holder_unit_id, d.unit_id), d.secrecy, d.state, d.subject, d.number, "
    "d.from_name, d.to_name"
)
# search_text's rowid is agency_id << 32 | document id (migration 0014): the agency's range
_SEARCH_SQLITE = (
    f"SELECT {_HIT_COLUMNS.format(score='-bm25(search_text, 10.0, 5.0, 2.0, 1.0)')} "
    "FROM search_text s JOIN document d ON d.id = s.rowid - ? WHERE search_text MATCH ? "
    "AND s.rowid BETWEEN ? AND ? ORDER BY bm25(search_text, 10.0, 5.0, 2.0, 1.0), d.id DESC LIMIT 50"
)
_PG_SCORE = (
    "(CASE WHEN d.subject ILIKE %s THEN 10 ELSE 0 END + CASE WHEN coalesce(d.number, '') ILIKE %s THEN 5 ELSE 0 END "
    "+ CASE WHEN d.from_name ILIKE %s OR d.to_name ILIKE %s THEN 2 ELSE 0 END + 1)::float AS score"
)
_SEARCH_PG = (
    f"SELECT {_HIT_COLUMNS.format(score=_PG_SCORE)} FROM document d WHERE d.agency_id = %s AND "
    "edoc_search_text(d.subject, d.number, d.from_name, d.to_name, d.fields_json) ILIKE %s "
    "ORDER BY score DESC, d.id DESC LIMIT 50"
)
_NUMBER = "SELECT document_id FROM register_entry WHERE number = {p} AND agency_id = {p}"
_ENTRIES = (
    "SELECT e.document_id, e.number, e.book, e.registered_at FROM register_entry e "
    "JOIN document d ON d.id = e.document_id AND d.agency_id = e.agency_id WHERE e.document_id IN ({ids}) "
    "ORDER BY e.id"
)


def run(
    documents: int = 1_000_000,
    agencies: int = 343,
    chunk: int = 5_000,
    repeat: int = 200,
    db_url: str | None = None,
    home_dir: str | None = None,
    say: Any = print,
) -> list[Result]:
    """Build (unless ``home_dir`` holds a built home) and measure; the result rows."""
    from edoc.office import init_office, open_office
    from edoc.pki.keys import StaticPassphrases

    rng = random.Random(7)
    home = Path(home_dir or tempfile.mkdtemp(prefix="edoc-bench-registers-"))
    fresh = not (home / "edoc.toml").exists()
    init_office(home, db_url, name="registers benchmark")
    if fresh:  # keys sealed with the minimum KDF rounds: the benchmark is not about unlocking them
        (home / "edoc.toml").write_text(
            '[office]\nname = "registers benchmark"\n[pki]\nkdf_rounds = 10000\nbase_url = "http://127.0.0.1:9"\n',
            encoding="utf-8",
        )
    office = open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE))
    build_s = 0.0
    if fresh:
        say(f"building {documents:,} documents over {agencies} agencies in {home} ...")
        codes, build_s = build(office, documents, agencies, chunk, rng, say)
    else:
        codes = sorted(a.code for a in office.list_agencies())
    year = office.register(codes[0], "received", as_user="clerk000", limit=1).year
    pg = office.db.engine.dialect.name == "postgresql"
    p = "%s" if pg else "?"
    rows_per = documents // len(codes)
    raw, execute = _raw(db_url, home)
    if pg and fresh:
        # what an operator does after a bulk import: without statistics (autovacuum may be off,
        # or not have caught up) the planner scans a million rows for a 20-row lookup
        execute("ANALYZE", ())

    # -- register page ------------------------------------------------------------------------
    picks = [(rng.randrange(len(codes)), rng.randrange(max(1, rows_per // 50)) * 50) for _ in range(repeat + 1)]

    def edoc_page(pick: tuple[int, int]) -> None:
        a, off = pick
        page = office.register(codes[a], "received", year=year, as_user=f"clerk{a:03d}", limit=50, offset=off)
        assert len(page.rows) == 50 or off + 50 > rows_per

    who_sql, page_sql = _WHO.format(p=p), _PAGE.format(p=p)

    def hand_page(pick: tuple[int, int]) -> None:
        a, off = pick
        execute("BEGIN", ())
        agency_id, *_ = execute(who_sql, (f"clerk{a:03d}", codes[a]))[0]
        rows = execute(page_sql, (agency_id, year, off))
        execute("COMMIT", ())
        assert len(rows) == 50 or off + 50 > rows_per

    page_cpu: dict[str, list[float]] = {}
    page_edoc, page_hand = _paired(edoc_page, hand_page, picks, page_cpu)
    ids = {c: execute(f"SELECT id FROM agency WHERE code = {p}", (c,))[0][0] for c in codes}

    def bare_page(pick: tuple[int, int]) -> None:
        a, off = pick
        execute(page_sql, (ids[codes[a]], year, off))

    page_only, _ = _paired(bare_page, lambda _pick: None, picks)

    # -- search -------------------------------------------------------------------------------
    who = [rng.randrange(len(codes)) for _ in range(repeat + 1)]
    counts: list[int] = []

    def edoc_search(a: int) -> None:
        counts.append(len(office.search(RARE, as_user=f"clerk{a:03d}", limit=20)))

    search_sql = _SEARCH_PG if pg else _SEARCH_SQLITE
    number_sql = _NUMBER.format(p=p)
    like = f"%{RARE}%"

    def hand_search(a: int) -> None:
        execute("BEGIN", ())
        agency_id, *_ = execute(who_sql, (f"clerk{a:03d}", codes[a]))[0]
        execute(number_sql, (RARE, agency_id))
        if pg:
            found = execute(search_sql, (like,) * 4 + (agency_id, like))[:20]
        else:
            low = agency_id << 32
            found = execute(search_sql, (low, f'"{RARE}"', low, low + (1 << 32) - 1))[:20]
        if found:
            execute(_ENTRIES.format(ids=", ".join([p] * len(found))), tuple(r[0] for r in found))
        execute("COMMIT", ())

    search_cpu: dict[str, list[float]] = {}
    search_edoc, search_hand = _paired(edoc_search, hand_search, who, search_cpu)
    raw.close()
    office.close()

    label = "PostgreSQL" if pg else "SQLite"
    note = f"{documents:,} docs / {len(codes)} agencies, {label}"
    hand = "hand SQL, same queries"
    results = [
        Result("register page (50 rows) p50", median_ms(page_edoc), "ms", hand, median_ms(page_hand), "", note),
        Result("register page (50 rows) p95", p95_ms(page_edoc), "ms", hand, p95_ms(page_hand), "< 20 ms, 2x"),
        Result("register page, CPU of this process p50", median_ms(page_cpu["edoc"]), "ms", hand,
               median_ms(page_cpu["hand"]), "", "what a call costs, whatever the machine's load"),
        Result("register page: the page query alone p50", median_ms(page_only), "ms", "", None, "",
               "the bare SELECT by agency id, no reader, no transaction"),
        Result("search Thai word p50", median_ms(search_edoc), "ms", hand, median_ms(search_hand), "",
               f"'{RARE}', ~{sum(counts) / max(1, len(counts)):.0f} hits shown"),
        Result("search Thai word p95", p95_ms(search_edoc), "ms", hand, p95_ms(search_hand), "< 100 ms, 2x"),
        Result("search, CPU of this process p50", median_ms(search_cpu["edoc"]), "ms", hand,
               median_ms(search_cpu["hand"]), ""),
    ]  # fmt: skip
    if build_s:
        results.append(Result("bulk registration", documents / build_s, "docs/s", note=f"{build_s:.0f} s for {note}"))
    return results


DATABASE = True
"""Run once on SQLite and once on PostgreSQL by ``python -m benchmarks``."""
SUITE_SIZES = {"tiny": (600, 3, 5), "quick": (20_000, 20, 50), "full": (1_000_000, 343, 200)}
"""size -> (documents, agencies, repeats)."""


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    documents, agencies, repeat = SUITE_SIZES[size]
    return run(documents, agencies, 5_000, repeat, db_url, None, say=lambda _m: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--agencies", type=int, default=343)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite home)")
    parser.add_argument("--home", default=None, help="reuse this home (built if empty)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.documents, args.agencies, args.chunk, args.repeat, args.db, args.home)
    if args.json:
        print(to_json(results))
    else:
        label = "PostgreSQL" if args.db and args.db.startswith("postgresql") else "SQLite"
        print_table(f"registers ({label})", results)


def _raw(db_url: str | None, home: Path) -> tuple[Any, Any]:
    """A bare driver connection to the same database and a ``(sql, params) -> rows`` runner."""
    if db_url and db_url.startswith("postgresql"):
        import psycopg

        conn = psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

        def run_pg(sql: str, params: tuple[Any, ...]) -> list[Any]:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []

        return conn, run_pg
    path = db_url[len("sqlite:///") :] if db_url and db_url.startswith("sqlite:///") else str(home / "edoc.db")
    conn = sqlite3.connect(path, isolation_level=None)  # BEGIN/COMMIT as written

    def run_sqlite(sql: str, params: tuple[Any, ...]) -> list[Any]:
        return conn.execute(sql, params).fetchall()

    return conn, run_sqlite


if __name__ == "__main__":
    main()
