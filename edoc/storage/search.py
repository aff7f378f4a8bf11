"""Full-text search over documents: subject, number, sender and recipient, body paragraphs.

SQLite: the FTS5 table ``search_text`` (trigram tokenizer) that triggers keep in step with
``document`` (migrations ``0011_registers``, ``0014_search_agency``); its rowid is
``agency_id * 2**32 + document id`` (:func:`fts_key`), so each agency's documents are one
contiguous range of every doclist and a ``rowid BETWEEN`` restricts the match to the agency
before anything is ranked or joined; relevance is FTS5's bm25 with the subject weighted most.
PostgreSQL: a GIN pg_trgm index over
``edoc_search_text(subject, number, from_name, to_name, fields_json)`` (whose planner cost,
migration ``0015``, keeps it in use); each term is an ``ILIKE '%term%'`` the index answers, and
the planner ANDs it with the ``agency_id`` index in one bitmap before reading any row;
relevance weighs where the terms were found (subject, number, sender/recipient, body). Thai
needs no spaces on either: trigrams are three characters, whatever the script. Terms shorter
than three characters cannot use the trigram index and are matched by scanning the candidates
the longer terms left (or the agency's documents, when every term is short).

A receive number (เลขรับ, digits) is also looked up exactly in the register.

Only candidates come out of here: the office checks each against the access policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from edoc.storage.driver import Reader, fetch, marks

MIN_TRIGRAM = 3
"""Characters a term needs to use the trigram index."""

AGENCY_SHIFT = 32
"""SQLite's ``search_text`` rowid is ``agency_id << AGENCY_SHIFT | document id``."""
_LOW = (1 << AGENCY_SHIFT) - 1


def fts_key(agency_id: int, document_id: int) -> int:
    """The ``search_text`` rowid of a document (see the migration ``0014_search_agency``)."""
    if not 0 <= document_id <= _LOW or agency_id < 0:
        raise ValueError("document ids must fit in 32 bits and agency ids be non-negative")
    return (agency_id << AGENCY_SHIFT) | document_id


def agency_range(agency_id: int) -> tuple[int, int]:
    """The first and last ``search_text`` rowid an agency's documents can have."""
    return fts_key(agency_id, 0), fts_key(agency_id, _LOW)


@dataclass(frozen=True)
class Candidate:
    """A document that matched, before the access check, with the columns the check and the
    hit need (read in the same query, so checking a candidate costs no further query)."""

    document_id: int
    score: float
    """Higher is more relevant."""
    agency_id: int = 0
    """The agency holding this copy."""
    unit_id: int | None = None
    """The unit it is with (its holder's unit, else its own), if any."""
    secrecy: str = "normal"
    """Its secrecy level."""
    state: str = ""
    """Its lifecycle state."""
    subject: str = ""
    """เรื่อง."""
    number: str | None = None
    """ที่ (None when it has none)."""
    from_name: str = ""
    """จาก."""
    to_name: str = ""
    """ถึง."""


_COLUMNS = (
    "d.id, {score}, d.agency_id, coalesce(d.holder_unit_id, d.unit_id), d.secrecy, d.state, "
    "d.subject, d.number, d.from_name, d.to_name"
)


def _candidate(row: tuple[Any, ...]) -> Candidate:
    doc_id, score, agency_id, unit_id, secrecy, state, subject, number, from_name, to_name = row
    return Candidate(
        int(doc_id), float(score), int(agency_id), unit_id, secrecy, state, subject, number, from_name, to_name
    )


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def candidates(
    session: Session, terms: Sequence[str], agency_ids: Sequence[int], *, limit: int, offset: int = 0
) -> list[Candidate]:
    """Documents of ``agency_ids`` that contain every term (case-insensitive), most relevant
    first, skipping ``offset`` and returning at most ``limit``."""
    if not terms or not agency_ids:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _pg(session, terms, agency_ids, limit, offset)
    return _sqlite(session, terms, agency_ids, limit, offset)


RANGES_AT_MOST = 4
"""Up to this many agencies, a search is one rowid range of ``search_text`` per agency; beyond
(an auditor over a whole tree) one match over the index, filtered on the agency part of the
rowid before the join (every range would rank on its own, and bm25 counts each phrase's hits
over the whole index once per range)."""


def _sqlite(
    session: Session, terms: Sequence[str], agency_ids: Sequence[int], limit: int, offset: int
) -> list[Candidate]:
    long_terms = [t for t in terms if len(t) >= MIN_TRIGRAM]
    short = [t for t in terms if len(t) < MIN_TRIGRAM]
    match = " AND ".join(_fts_phrase(t) for t in long_terms)
    filters = ""
    filter_params: list[object] = []
    for term in short:
        filters += (
            " AND (s.subject LIKE ? ESCAPE '\\' OR s.number LIKE ? ESCAPE '\\' "
            "OR s.parties LIKE ? ESCAPE '\\' OR s.body LIKE ? ESCAPE '\\')"
        )
        filter_params += [_like(term)] * 4
    score = "-bm25(search_text, 10.0, 5.0, 2.0, 1.0)" if long_terms else "1.0"
    columns = _COLUMNS.format(score=f"{score} AS score")
    wanted = sorted(set(agency_ids))
    matching = "search_text MATCH ? AND " if long_terms else ""
    head = [match] if long_terms else []
    params: list[object] = []
    if len(wanted) <= RANGES_AT_MOST:
        parts = []
        for agency_id in wanted:
            low, high = agency_range(agency_id)
            parts.append(
                f"SELECT {columns} FROM search_text AS s JOIN document AS d ON d.id = s.rowid - {low} "
                f"WHERE {matching}s.rowid BETWEEN {low} AND {high}{filters}"
            )
            params += head + filter_params
        sql = " UNION ALL ".join(parts)
    else:
        sql = (
            f"SELECT {columns} FROM search_text AS s JOIN document AS d ON d.id = (s.rowid & {_LOW}) "
            f"WHERE {matching}(s.rowid >> {AGENCY_SHIFT}) IN ({marks(len(wanted))}){filters}"
        )
        params += head + wanted + filter_params
    # the score, then the newest first (columns 2 and 1: the same names in every part of a union)
    sql += " ORDER BY 2 DESC, 1 DESC LIMIT ? OFFSET ?"
    return [_candidate(r) for r in fetch(session, sql, [*params, limit, offset])]


_PG_TEXT = "edoc_search_text(d.subject, d.number, d.from_name, d.to_name, d.fields_json)"


def _pg(session: Session, terms: Sequence[str], agency_ids: Sequence[int], limit: int, offset: int) -> list[Candidate]:
    likes = [_like(term) for term in terms]
    score = " + ".join(
        "(CASE WHEN d.subject ILIKE ? THEN 10 ELSE 0 END"
        " + CASE WHEN coalesce(d.number, '') ILIKE ? THEN 5 ELSE 0 END"
        " + CASE WHEN d.from_name ILIKE ? OR d.to_name ILIKE ? THEN 2 ELSE 0 END + 1)"
        for _ in terms
    )
    params: list[object] = [p for like in likes for p in (like,) * 4]
    params += list(agency_ids) + likes + [limit, offset]
    where = [f"d.agency_id IN ({marks(len(agency_ids))})"] + [f"{_PG_TEXT} ILIKE ?" for _ in terms]
    sql = (
        f"SELECT {_COLUMNS.format(score=f'({score})::float AS score')} FROM document AS d "
        f"WHERE {' AND '.join(where)} ORDER BY score DESC, d.id DESC LIMIT ? OFFSET ?"
    )
    return [_candidate(r) for r in fetch(session, sql, params)]


def by_register_number(session: Session, number: str, agency_ids: Sequence[int]) -> list[Candidate]:
    """Documents whose register number (receive or sent) is exactly ``number`` (newest first)."""
    if not agency_ids:
        return []
    sql = (
        f"SELECT {_COLUMNS.format(score='1000000.0')} FROM document AS d WHERE d.id IN ("
        "SELECT document_id FROM register_entry WHERE number = ? "
        f"AND agency_id IN ({marks(len(agency_ids))})) ORDER BY d.id DESC"
    )
    return [_candidate(r) for r in fetch(session, sql, [number, *agency_ids])]


def searcher(session: Session, username: str) -> tuple[tuple[str, str, bool, str, str | None], int] | None:
    """((username, role, active, agency code, unit code), agency id) of the account searching,
    in one query; None when there is no such account."""
    rows = fetch(
        session,
        "SELECT u.username, u.role, u.active, a.code, un.code, a.id FROM account AS u "
        "JOIN agency AS a ON a.id = u.agency_id LEFT JOIN unit AS un ON un.id = u.unit_id WHERE u.username = ?",
        [username],
    )
    if not rows:
        return None
    name, role, active, code, unit, agency_id = rows[0]
    return (name, role, bool(active), code, unit), int(agency_id)


def agency_ids(session: Session, code: str, below: bool) -> list[int]:
    """Ids of the agencies a search looks in: ``code``'s own, and with ``below`` (auditors)
    every agency under it in the tree."""
    if not below:
        return [int(r[0]) for r in fetch(session, "SELECT id FROM agency WHERE code = ?", [code])]
    rows = fetch(
        session,
        "WITH RECURSIVE down(id, depth) AS (SELECT id, 0 FROM agency WHERE code = ? "
        "UNION SELECT a.id, down.depth + 1 FROM agency AS a JOIN down ON a.parent_id = down.id "
        "WHERE down.depth < 64) SELECT DISTINCT id FROM down",
        [code],
    )
    return sorted(int(r[0]) for r in rows)


def agency_paths(source: Session | Reader, ids: Iterable[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """(code, codes from the root of the tree down to it) of each agency in ``ids``, in one query."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = fetch(
        source,
        "WITH RECURSIVE up(start, id, code, parent_id, depth) AS ("
        f"SELECT id, id, code, parent_id, 0 FROM agency WHERE id IN ({marks(len(wanted))}) "
        "UNION ALL SELECT up.start, a.id, a.code, a.parent_id, up.depth + 1 FROM agency AS a "
        "JOIN up ON a.id = up.parent_id WHERE up.depth < 64) "
        "SELECT start, id, code FROM up ORDER BY start, depth",
        wanted,
    )
    chains: dict[int, list[tuple[int, str]]] = {}
    for start, agency_id, code in rows:
        chains.setdefault(int(start), []).append((int(agency_id), code))
    out: dict[int, tuple[str, tuple[str, ...]]] = {}
    for start, chain in chains.items():
        seen: set[int] = set()
        path: list[str] = []
        for agency_id, code in chain:  # from the agency up to the root; a cycle stops the walk
            if agency_id in seen:
                break
            seen.add(agency_id)
            path.append(code)
        out[start] = (path[0], tuple(reversed(path)))
    return out
