"""Full-text search over documents: subject, number, sender and recipient, body paragraphs.

SQLite: the FTS5 table ``search_text`` (trigram tokenizer, rowid = document id) that triggers
keep in step with ``document`` (migration ``0011_registers``); relevance is FTS5's bm25 with
the subject weighted most. PostgreSQL: a GIN pg_trgm index over
``edoc_search_text(subject, number, from_name, to_name, fields_json)``; each term is an
``ILIKE '%term%'`` the index answers; relevance weighs where the terms were found (subject,
number, sender/recipient, body). Thai needs no spaces on either: trigrams are three
characters, whatever the script. Terms shorter than three characters cannot use the trigram
index and are matched by scanning the candidates the longer terms left (or the agency's
documents, when every term is short).

A receive number (เลขรับ, digits) is also looked up exactly in the register.

Only candidates come out of here: the office checks each against the access policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlmodel import Session

MIN_TRIGRAM = 3
"""Characters a term needs to use the trigram index."""


@dataclass(frozen=True)
class Candidate:
    """A document that matched, before the access check."""

    document_id: int
    score: float
    """Higher is more relevant."""


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


def _sqlite(
    session: Session, terms: Sequence[str], agency_ids: Sequence[int], limit: int, offset: int
) -> list[Candidate]:
    long_terms = [t for t in terms if len(t) >= MIN_TRIGRAM]
    short = [t for t in terms if len(t) < MIN_TRIGRAM]
    params: dict[str, object] = {"agencies": list(agency_ids), "limit": limit, "offset": offset}
    where = ["d.agency_id IN :agencies"]
    for i, term in enumerate(short):
        params[f"s{i}"] = _like(term)
        where.append(
            f"(s.subject LIKE :s{i} ESCAPE '\\' OR s.number LIKE :s{i} ESCAPE '\\' "
            f"OR s.parties LIKE :s{i} ESCAPE '\\' OR s.body LIKE :s{i} ESCAPE '\\')"
        )
    if long_terms:
        params["q"] = " AND ".join(_fts_phrase(t) for t in long_terms)
        sql = (
            "SELECT d.id, -bm25(search_text, 10.0, 5.0, 2.0, 1.0) AS score "
            "FROM search_text AS s JOIN document AS d ON d.id = s.rowid "
            f"WHERE search_text MATCH :q AND {' AND '.join(where)} "
            "ORDER BY bm25(search_text, 10.0, 5.0, 2.0, 1.0), d.id DESC LIMIT :limit OFFSET :offset"
        )
    else:
        sql = (
            "SELECT d.id, 1.0 AS score FROM search_text AS s JOIN document AS d ON d.id = s.rowid "
            f"WHERE {' AND '.join(where)} ORDER BY d.id DESC LIMIT :limit OFFSET :offset"
        )
    stmt = text(sql).bindparams(bindparam("agencies", expanding=True))
    return [Candidate(int(r[0]), float(r[1])) for r in session.execute(stmt, params)]


_PG_TEXT = "edoc_search_text(d.subject, d.number, d.from_name, d.to_name, d.fields_json)"


def _pg(session: Session, terms: Sequence[str], agency_ids: Sequence[int], limit: int, offset: int) -> list[Candidate]:
    params: dict[str, object] = {"agencies": list(agency_ids), "limit": limit, "offset": offset}
    where = ["d.agency_id IN :agencies"]
    score = []
    for i, term in enumerate(terms):
        params[f"t{i}"] = _like(term)
        where.append(f"{_PG_TEXT} ILIKE :t{i}")
        score.append(
            f"(CASE WHEN d.subject ILIKE :t{i} THEN 10 ELSE 0 END"
            f" + CASE WHEN coalesce(d.number, '') ILIKE :t{i} THEN 5 ELSE 0 END"
            f" + CASE WHEN d.from_name ILIKE :t{i} OR d.to_name ILIKE :t{i} THEN 2 ELSE 0 END + 1)"
        )
    sql = (
        f"SELECT d.id, ({' + '.join(score)})::float AS score FROM document AS d "
        f"WHERE {' AND '.join(where)} ORDER BY score DESC, d.id DESC LIMIT :limit OFFSET :offset"
    )
    stmt = text(sql).bindparams(bindparam("agencies", expanding=True))
    return [Candidate(int(r[0]), float(r[1])) for r in session.execute(stmt, params)]


def by_register_number(session: Session, number: str, agency_ids: Sequence[int]) -> list[int]:
    """Documents whose register number (receive or sent) is exactly ``number``."""
    if not agency_ids:
        return []
    stmt = text(
        "SELECT DISTINCT document_id FROM register_entry WHERE number = :n AND agency_id IN :agencies "
        "ORDER BY document_id DESC"
    ).bindparams(bindparam("agencies", expanding=True))
    return [int(r[0]) for r in session.execute(stmt, {"n": number, "agencies": list(agency_ids)})]
