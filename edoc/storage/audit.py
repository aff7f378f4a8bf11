"""The audit log in the database: appending inside the act's own transaction, the Merkle tree's
nodes, checkpoints, witnesses, the sealed audit key, and the streams verification reads.

Appending (:func:`flush_pending`, called by ``Office._run`` at the end of every act) locks the
single ``audit_head`` row, gives the act's events the next sequence numbers, hashes each into
the tree's right edge (the *frontier*, kept in the head: O(log n) per event, whatever the
log's size), and writes the events, the tree nodes they complete and the new head, all in the
act's transaction: no act without its events, no event without its act.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from edoc.audit import Event, canonical_json
from edoc.audit.checkpoint import Checkpoint, Cosignature
from edoc.audit.events import body_text, format_time, leaf_bytes, leaf_text
from edoc.audit.merkle import Frontier, Node, node_position
from edoc.audit.verify import Head, Record
from edoc.audit.views import register_values
from edoc.storage.bulk import COPY_FROM, copy_tuples
from edoc.storage.driver import Reader, fetch
from edoc.storage.tables import (
    AuditCertRow,
    AuditCheckpointRow,
    AuditEventRow,
    AuditHeadRow,
    AuditKeyRow,
    AuditNodeRow,
    AuditWitnessRow,
)

_EVENTS = AuditEventRow.__table__  # type: ignore[attr-defined]
_HEAD = AuditHeadRow.__table__  # type: ignore[attr-defined]
_NODES = AuditNodeRow.__table__  # type: ignore[attr-defined]
_CERTS = AuditCertRow.__table__  # type: ignore[attr-defined]
_CHECKPOINTS = AuditCheckpointRow.__table__  # type: ignore[attr-defined]

_EVENT_COLUMNS = "seq, at, actor, agency, act, document_id, payload, signature, signer_cert, leaf_hash"


class AuditHeadMissing(RuntimeError):
    """The head row is gone: only a direct change to the database can do that."""


@dataclass(frozen=True)
class HeadState:
    """The audit head as read (and, inside an append, locked)."""

    size: int
    """Events in the log."""
    frontier: Frontier
    """The tree's right edge."""
    checkpoint_size: int
    """Size of the newest checkpoint (0: none)."""
    checkpoint_at: datetime | None
    """When the newest checkpoint was signed."""


def read_head(session: Session, *, lock: bool = False) -> HeadState:
    """The head row; with ``lock``, locked until the transaction ends (appends serialise here).

    On SQLite the write transaction (BEGIN IMMEDIATE) already holds the database's lock.
    """
    conn = session.connection()
    query = sa_select(_HEAD.c.size, _HEAD.c.frontier, _HEAD.c.checkpoint_size, _HEAD.c.checkpoint_at).where(
        _HEAD.c.id == 1
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:  # the first migration inserts it; its absence means tampering
        raise AuditHeadMissing("the audit head row is missing: the audit log was tampered with")
    size, frontier_json, cp_size, cp_at = row
    hashes = [bytes.fromhex(h) for h in json.loads(frontier_json)]
    try:
        frontier = Frontier(size, hashes)
    except ValueError as exc:
        raise AuditHeadMissing(f"the audit head is damaged: {exc}") from None
    return HeadState(size, frontier, cp_size, cp_at)


@dataclass(frozen=True)
class PendingEvent:
    """An event recorded during an act, appended when the act's transaction ends."""

    at: datetime
    actor: str
    agency: str
    act: str
    document_id: int | None
    payload: dict[str, Any]
    sign: Callable[[bytes], tuple[bytes, str]] | None = None
    """Signs the event's body with the actor's key: ``(bytes) -> (signature, cert_serial)``.
    When it also has ``certificate`` (and ``chain``) attributes holding DER bytes, as
    :class:`edoc.audit.signers.EventSigner` does, those certificates are kept in the log."""


@dataclass(frozen=True)
class Appended:
    """What one append did."""

    first: int
    """Sequence number of the first event appended."""
    count: int
    """Events appended."""
    size: int
    """Events in the log after the append."""
    checkpoint_size: int
    """Size of the newest checkpoint."""
    checkpoint_at: datetime | None
    """When the newest checkpoint was signed."""


_PENDING = "edoc_pending_events"


def record(session: Session, event: PendingEvent) -> None:
    """Queue ``event`` in ``session``; :func:`flush_pending` appends the queue at the act's end."""
    payload_json = canonical_json(event.payload).decode()  # refuse a bad payload now, where the act sees it
    if event.at.tzinfo is None:
        raise ValueError("audit times must be aware datetimes")
    session.info.setdefault(_PENDING, []).append((event, payload_json))


def flush_pending(session: Session) -> Appended | None:
    """Append every queued event of this transaction, in order, in one batch."""
    pending: list[tuple[PendingEvent, str]] = session.info.pop(_PENDING, [])
    if not pending:
        return None
    return _append(session, pending)


def discard_pending(session: Session) -> None:
    """Forget queued events (the act failed and its transaction rolls back)."""
    session.info.pop(_PENDING, None)


def append_events(session: Session, pending: list[PendingEvent]) -> Appended:
    """Append events (seq = current size, size + 1, ...) in ``session``'s transaction."""
    return _append(session, [(e, canonical_json(e.payload).decode()) for e in pending])


_HEAD_SQL = "SELECT size, frontier, checkpoint_size, checkpoint_at FROM audit_head WHERE id = 1"
_INSERT_EVENT = (
    "INSERT INTO audit_event (seq, at, actor, agency, act, document_id, payload, signature, signer_cert, leaf_hash)"
    " VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
)
_INSERT_NODE = "INSERT INTO audit_node (position, hash) VALUES ({p}, {p})"
_UPDATE_HEAD = "UPDATE audit_head SET size = {p}, frontier = {p} WHERE id = 1"
_INSERT_CERT = "INSERT INTO audit_cert (serial, der) VALUES ({p}, {p}) ON CONFLICT (serial) DO NOTHING"


def _append(session: Session, pending: list[tuple[PendingEvent, str]]) -> Appended:
    """The hot path of every act: one locked read of the head, one batch of events, one batch
    of nodes, one update of the head, through the driver's own cursor (SQLAlchemy's statement
    machinery costs more than the rest of the append)."""
    conn = session.connection()  # begins the transaction (BEGIN IMMEDIATE on SQLite)
    sqlite = conn.dialect.name == "sqlite"
    p = "?" if sqlite else "%s"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_HEAD_SQL if sqlite else _HEAD_SQL + " FOR UPDATE")
        row = cursor.fetchone()
        if row is None:  # the first migration inserts it; its absence means tampering
            raise AuditHeadMissing("the audit head row is missing: the audit log was tampered with")
        size, frontier_json, cp_size, cp_at = row
        try:
            frontier = Frontier(size, [bytes.fromhex(h) for h in json.loads(frontier_json)])
        except ValueError as exc:
            raise AuditHeadMissing(f"the audit head is damaged: {exc}") from None
        first = size
        rows: list[tuple[Any, ...]] = []
        created: list[tuple[int, bytes]] = []
        certs: dict[str, bytes] = {}
        sha256 = hashlib.sha256
        for item, payload_json in pending:
            seq = frontier.size
            at = item.at.astimezone(UTC)
            stamp = (
                f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}:{at.minute:02d}:{at.second:02d}"
                f".{at.microsecond:06d}Z"
            )
            body = body_text(seq, stamp, item.actor, item.agency, item.act, item.document_id, payload_json)
            signature: bytes | None = None
            serial: str | None = None
            if item.sign is not None:
                signature, serial = item.sign(body.encode())
                _collect_certificates(item.sign, serial, certs)
            digest = sha256(b"\x00" + leaf_text(body, signature, serial).encode()).digest()
            frontier.append(digest, created)
            # SQLAlchemy's DATETIME text on SQLite; naive UTC on PostgreSQL (as UTCDateTime stores it)
            stored_at: object = f"{stamp[:10]} {stamp[11:26]}" if sqlite else at.replace(tzinfo=None)
            rows.append(
                (
                    seq,
                    stored_at,
                    item.actor,
                    item.agency,
                    item.act,
                    item.document_id,
                    payload_json,
                    signature,
                    serial,
                    digest,
                )
            )
        if not sqlite and len(rows) >= COPY_FROM:  # a bulk act: one COPY each, not a statement per row
            copy_tuples(session, "audit_event", _EVENT_COLUMNS.split(", "), rows)
            copy_tuples(session, "audit_node", ("position", "hash"), created)
        else:
            cursor.executemany(_INSERT_EVENT.format(p=p), rows)
            if created:
                cursor.executemany(_INSERT_NODE.format(p=p), created)
        cursor.execute(_UPDATE_HEAD.format(p=p), (frontier.size, json.dumps([h.hex() for h in frontier.hashes])))
        if certs:
            cursor.executemany(_INSERT_CERT.format(p=p), list(certs.items()))
    finally:
        cursor.close()
    return Appended(first, frontier.size - first, frontier.size, cp_size, _db_datetime(cp_at))


def _db_datetime(value: object) -> datetime | None:
    """A raw driver value of a UTCDateTime column as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"unexpected time value {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _collect_certificates(sign: object, serial: str, into: dict[str, bytes]) -> None:
    cert = getattr(sign, "certificate", None)
    if isinstance(cert, bytes):
        into[serial] = cert
        for der in getattr(sign, "chain", ()) or ():
            if isinstance(der, bytes):
                from edoc.audit.signers import load_certificate, serial_hex

                into.setdefault(serial_hex(load_certificate(der)), der)


def store_certificates(session: Session, certs: dict[str, bytes]) -> None:
    """Keep certificates by serial (a serial already kept is left as it is)."""
    conn = session.connection()
    known = set(conn.execute(sa_select(_CERTS.c.serial).where(_CERTS.c.serial.in_(list(certs)))).scalars())
    new = [{"serial": s, "der": d} for s, d in certs.items() if s not in known]
    if new:
        conn.execute(insert(_CERTS), new)


def certificates(session: Session) -> dict[str, bytes]:
    """The certificates the log's signatures need, by serial: those the log keeps (signers'
    and witnesses', with their chains), and from the PKI's register the CA certificates and
    every certificate an event names as its signer (signers that did not bring their own)."""
    out = {r.serial: bytes(r.der) for r in session.exec(select(AuditCertRow))}
    rows = _fetch(
        session,
        "SELECT serial, der FROM certificate WHERE kind IN ('root', 'issuing')"
        " OR serial IN (SELECT DISTINCT signer_cert FROM audit_event WHERE signer_cert IS NOT NULL)",
    )
    for serial, der in rows:
        out.setdefault(serial, bytes(der))
    return out


# --- reading events --------------------------------------------------------------------------------


def row_to_event(row: AuditEventRow) -> Event:
    return Event(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        agency=row.agency,
        act=row.act,
        document_id=row.document_id,
        payload=json.loads(row.payload),
        signature=row.signature,
        signer_cert=row.signer_cert,
    )


def events(session: Session, start: int = 0, stop: int | None = None) -> list[Event]:
    query = select(AuditEventRow).where(AuditEventRow.seq >= start).order_by(col(AuditEventRow.seq))
    if stop is not None:
        query = query.where(AuditEventRow.seq < stop)
    return [row_to_event(r) for r in session.exec(query)]


def events_of_document(session: Session, document_ids: Iterable[int]) -> list[Event]:
    """Every event about these documents, in log order."""
    ids = list(document_ids)
    query = select(AuditEventRow).where(col(AuditEventRow.document_id).in_(ids)).order_by(col(AuditEventRow.seq))
    return [row_to_event(r) for r in session.exec(query)]


def copies_of(session: Session, document_id: int) -> list[int]:
    """Ids of the copies delivered from a document (rows whose parent it is)."""
    from edoc.storage.tables import DocumentRow

    query = sa_select(DocumentRow.__table__.c.id).where(DocumentRow.__table__.c.parent_id == document_id)  # type: ignore[attr-defined]
    return [int(i) for i in session.connection().execute(query).scalars()]


def events_of_acts(session: Session, acts: Iterable[str]) -> list[Event]:
    """Every event of these acts, in log order."""
    query = select(AuditEventRow).where(col(AuditEventRow.act).in_(list(acts))).order_by(col(AuditEventRow.seq))
    return [row_to_event(r) for r in session.exec(query)]


def event_count(session: Session) -> int:
    return int(session.connection().execute(sa_select(func.count()).select_from(_EVENTS)).scalar_one())


def _at_text(value: object) -> str:
    """The leaf's time text from a raw database value (SQLite text, PostgreSQL naive UTC)."""
    if isinstance(value, str) and len(value) == 26 and value[10] == " ":
        return f"{value[:10]}T{value[11:]}Z"  # SQLAlchemy's SQLite format, microseconds always
    at = _db_datetime(value)
    assert at is not None
    return format_time(at)


def leaf_of_row(
    seq: int,
    at: object,
    actor: str,
    agency: str,
    act: str,
    document_id: int | None,
    payload: str,
    signature: bytes | None,
    signer_cert: str | None,
) -> tuple[bytes, str]:
    """The leaf bytes and time text of a stored event, exactly as hashed when it was appended."""
    at_text = _at_text(at)
    body = body_text(seq, at_text, actor, agency, act, document_id, payload)
    return leaf_text(body, None if signature is None else bytes(signature), signer_cert).encode(), at_text


def verification_connection(session: Session) -> Connection:
    """The session's connection, at REPEATABLE READ on PostgreSQL so every stream sees one snapshot
    (SQLite's read transaction is one snapshot already). Call before anything else in the session."""
    if session.get_bind().dialect.name == "postgresql":
        return session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return session.connection()


def _stream(conn: Connection, sql: str, name: str) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` streamed through the driver's cursor (a server-side cursor on
    PostgreSQL), in the session's transaction."""
    for rows in _batches(conn, sql, name):
        yield from rows


def _batches(conn: Connection, sql: str, name: str) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of ``sql`` in lists of up to 20,000, as :func:`_stream` reads them."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = raw.cursor(name=name)  # type: ignore[union-attr]
        cursor.itersize = 20_000
    else:
        cursor = raw.cursor()  # type: ignore[union-attr]
        cursor.arraysize = 20_000
    try:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(20_000)
            if not rows:
                break
            yield rows
    finally:
        cursor.close()


def records(conn: Connection, start: int = 0) -> Iterator[Record]:
    """Every stored event from ``start`` as the verifier reads it, in sequence order, streamed."""
    columns = _EVENT_COLUMNS
    if conn.dialect.name == "sqlite":  # the payload's UTF-8 bytes as stored: neither decoded nor encoded again
        columns = columns.replace("payload", "CAST(payload AS BLOB)")
    sql = f"SELECT {columns} FROM audit_event WHERE seq >= {int(start)} ORDER BY seq"
    for seq, at, actor, agency, act, document_id, payload, signature, signer_cert, stored in _stream(
        conn, sql, "edoc_audit_events"
    ):
        # SQLite's text as _at_text reads it, without the call
        at_text = f"{at[:10]}T{at[11:]}Z" if type(at) is str and len(at) == 26 and at[10] == " " else _at_text(at)
        if type(payload) is not bytes:
            payload = payload.encode() if isinstance(payload, str) else bytes(payload)
        if signature is not None and type(signature) is not bytes:
            signature = bytes(signature)
        if stored is not None and type(stored) is not bytes:
            stored = bytes(stored)
        leaf = leaf_bytes(seq, at_text, actor, agency, act, document_id, payload, signature, signer_cert)
        yield seq, leaf, stored, act, at_text, signature, signer_cert


def leaves(conn: Connection, stop: int | None = None) -> Iterator[bytes]:
    """Every leaf, in order (for the export)."""
    for record_ in records(conn):
        if stop is not None and record_[0] >= stop:
            break
        yield record_[1]


def node_stream(conn: Connection) -> Iterator[tuple[int, bytes]]:
    """Stored tree nodes of level >= 1, ``(position, hash)`` in position order, streamed."""
    sql = "SELECT position, hash FROM audit_node ORDER BY position"
    if conn.dialect.name == "sqlite":  # the driver's rows are already (int, bytes): passed on in C
        yield from chain.from_iterable(_batches(conn, sql, "edoc_audit_nodes"))
        return
    for position, h in _stream(conn, sql, "edoc_audit_nodes"):
        yield position, bytes(h)


def head_for_verification(session: Session) -> Head:
    head = read_head(session)
    return Head(head.size, tuple(head.frontier.hashes))


def _fetch(source: Session | Reader, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a small query through the driver's cursor (``?`` placeholders on every
    database), in a Session's transaction or a bare :class:`Reader`'s: the read paths that must
    answer in well under a millisecond."""
    return fetch(source, sql, params)


def head_size(session: Session | Reader) -> int:
    """Events in the log, as the head counts them."""
    rows = _fetch(session, "SELECT size FROM audit_head WHERE id = 1")
    if not rows:
        raise AuditHeadMissing("the audit head row is missing: the audit log was tampered with")
    return int(rows[0][0])


def event_leaf(session: Session | Reader, seq: int) -> tuple[bytes, bytes] | None:
    """``(leaf, stored leaf hash)`` of one event, or None."""
    rows = _fetch(session, f"SELECT {_EVENT_COLUMNS} FROM audit_event WHERE seq = ?", (seq,))
    if not rows:
        return None
    seq_, at, actor, agency, act, document_id, payload, signature, signer_cert, stored = rows[0]
    leaf, _ = leaf_of_row(
        seq_, at, actor, agency, act, document_id, payload, None if signature is None else bytes(signature), signer_cert
    )
    return leaf, bytes(stored)


def perfect_nodes(session: Session | Reader, needed: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of these perfect nodes (level 0: leaf hashes)."""
    leaves_needed = sorted({i for level, i in needed if level == 0})
    inner = {node_position(level, i): (level, i) for level, i in needed if level > 0}
    out: dict[Node, bytes] = {}
    if leaves_needed:
        marks = ", ".join("?" * len(leaves_needed))
        for seq, h in _fetch(
            session, f"SELECT seq, leaf_hash FROM audit_event WHERE seq IN ({marks})", tuple(leaves_needed)
        ):
            out[(0, seq)] = bytes(h)
    if inner:
        marks = ", ".join("?" * len(inner))
        for position, h in _fetch(
            session, f"SELECT position, hash FROM audit_node WHERE position IN ({marks})", tuple(inner)
        ):
            out[inner[position]] = bytes(h)
    return out


_CHECKPOINT_COLUMNS = "origin, size, root, at, key_id, signature"


def _checkpoint_of(row: tuple[Any, ...]) -> Checkpoint:
    origin, size, root, at, key_id, signature = row
    when = _db_datetime(at)
    assert when is not None
    return Checkpoint(origin, size, bytes(root), when, key_id, bytes(signature))


# --- keys, checkpoints, witnesses --------------------------------------------------------------------


@dataclass(frozen=True)
class StoredKey:
    """An audit key as stored."""

    key_id: str
    algorithm: str
    origin: str
    public_pem: str
    sealed: bytes
    created_at: datetime
    retired_at: datetime | None


def _key(row: AuditKeyRow) -> StoredKey:
    return StoredKey(row.key_id, row.algorithm, row.origin, row.public_pem, row.sealed, row.created_at, row.retired_at)


def audit_keys(session: Session) -> list[StoredKey]:
    """Every audit key the office has had, oldest first."""
    return [_key(r) for r in session.exec(select(AuditKeyRow).order_by(col(AuditKeyRow.created_at)))]


def active_key(session: Session) -> StoredKey | None:
    """The key that signs new checkpoints."""
    row = session.exec(
        select(AuditKeyRow).where(col(AuditKeyRow.retired_at).is_(None)).order_by(col(AuditKeyRow.created_at).desc())
    ).first()
    return None if row is None else _key(row)


def add_key(session: Session, key: StoredKey) -> None:
    session.add(
        AuditKeyRow(
            key_id=key.key_id,
            algorithm=key.algorithm,
            origin=key.origin,
            public_pem=key.public_pem,
            sealed=key.sealed,
            created_at=key.created_at,
            retired_at=key.retired_at,
        )
    )
    session.flush()


def _checkpoint(row: AuditCheckpointRow) -> Checkpoint:
    return Checkpoint(row.origin, row.size, bytes(row.root), row.at, row.key_id, bytes(row.signature))


def checkpoints(session: Session) -> list[Checkpoint]:
    """Every checkpoint, by size."""
    return [_checkpoint(r) for r in session.exec(select(AuditCheckpointRow).order_by(col(AuditCheckpointRow.size)))]


def checkpoint(session: Session | Reader, size: int) -> Checkpoint | None:
    rows = _fetch(session, f"SELECT {_CHECKPOINT_COLUMNS} FROM audit_checkpoint WHERE size = ?", (size,))
    return _checkpoint_of(rows[0]) if rows else None


def latest_checkpoint(session: Session | Reader) -> Checkpoint | None:
    rows = _fetch(session, f"SELECT {_CHECKPOINT_COLUMNS} FROM audit_checkpoint ORDER BY size DESC LIMIT 1")
    return _checkpoint_of(rows[0]) if rows else None


def covering_checkpoint(session: Session | Reader, seq: int) -> Checkpoint | None:
    """The newest checkpoint, if it covers event ``seq``."""
    latest = latest_checkpoint(session)
    return latest if latest is not None and latest.size > seq else None


def timestamp_token(session: Session, size: int) -> bytes | None:
    row = session.get(AuditCheckpointRow, size)
    return None if row is None or row.timestamp_token is None else bytes(row.timestamp_token)


def timestamp_tokens(session: Session) -> dict[int, bytes]:
    """Every checkpoint's RFC 3161 token, by checkpoint size (checkpoints without one are left out)."""
    rows = _fetch(session, "SELECT size, timestamp_token FROM audit_checkpoint WHERE timestamp_token IS NOT NULL")
    return {int(size): bytes(token) for size, token in rows}


def set_timestamp_token(session: Session, size: int, token: bytes) -> None:
    """Keep the RFC 3161 token of checkpoint ``size`` (the checkpoint must exist)."""
    result = session.connection().execute(
        update(_CHECKPOINTS).where(_CHECKPOINTS.c.size == size).values(timestamp_token=token)
    )
    if result.rowcount != 1:
        raise LookupError(f"no checkpoint of size {size}")


def add_checkpoint(session: Session, cp: Checkpoint, *, token: bytes | None = None) -> None:
    """Store a checkpoint and remember it in the head (the head must be locked by the caller)."""
    conn = session.connection()
    conn.execute(
        insert(_CHECKPOINTS).values(
            size=cp.size,
            origin=cp.origin,
            root=cp.root,
            at=cp.at,
            key_id=cp.key_id,
            signature=cp.signature,
            timestamp_token=token,
        )
    )
    conn.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1, _HEAD.c.checkpoint_size <= cp.size)
        .values(checkpoint_size=cp.size, checkpoint_at=cp.at)
    )


def _cosignature(row: AuditWitnessRow) -> Cosignature:
    return Cosignature(row.agency, row.size, row.at, bytes(row.signature), bytes(row.certificate))


def cosignatures(session: Session, *, agency: str | None = None) -> list[Cosignature]:
    """Witnesses' countersignatures, by checkpoint size."""
    query = select(AuditWitnessRow).order_by(col(AuditWitnessRow.size), col(AuditWitnessRow.agency))
    if agency is not None:
        query = query.where(AuditWitnessRow.agency == agency)
    return [_cosignature(r) for r in session.exec(query)]


def add_cosignature(session: Session, cs: Cosignature) -> None:
    session.add(
        AuditWitnessRow(size=cs.size, agency=cs.agency, at=cs.at, signature=cs.signature, certificate=cs.certificate)
    )
    session.flush()


# --- the tables the log's views are compared with ----------------------------------------------------

_REGISTER_TABLE_SQL = (
    "SELECT a.code, r.book, r.year, r.series, r.seq, r.number, r.registered_at, r.document_number,"
    " r.document_date, r.from_name, r.to_name, r.subject, r.action, r.remark, r.document_id, r.cancelled"
    " FROM register_entry r JOIN agency a ON a.id = r.agency_id"
    " ORDER BY a.code, r.book, r.year, r.seq, r.series"
)
_DELIVERY_TABLE_SQL = (
    "SELECT d.id, d.consignment, d.document_id, a.code, d.state, d.copy_id, d.receive_number, d.reason"
    " FROM delivery d JOIN agency a ON a.id = d.recipient_id ORDER BY d.id"
)
_EVIDENCE_TABLE_SQL = "SELECT delivery_id, kind, digest FROM delivery_evidence ORDER BY delivery_id, seq"
_NUMBER_TABLE_SQL = "SELECT id, number FROM document ORDER BY id"


def register_table(conn: Connection) -> Iterator[tuple[tuple[str, str, int, str, int], list[Any]]]:
    """Every register row as the views compare it: ``((agency, book, year, series, seq),
    values in edoc.audit.views.REGISTER_FIELDS order)``, streamed in register order."""
    for (
        code,
        book,
        year,
        series,
        seq,
        number,
        at,
        doc_number,
        doc_date,
        frm,
        to,
        subject,
        action,
        remark,
        doc,
        cancelled,
    ) in _stream(conn, _REGISTER_TABLE_SQL, "edoc_view_registers"):
        yield (
            (code, book, int(year), series, int(seq)),
            register_values(
                number, _db_datetime(at), doc_number, doc_date, frm, to, subject, action, remark, doc, cancelled
            ),
        )


def delivery_table(conn: Connection) -> Iterator[tuple[str, list[Any]]]:
    """Every consignment as the views compare it: ``(consignment, values in
    edoc.audit.views.DELIVERY_FIELDS order)``, with its evidence as ``((kind, digest), ...)``."""
    evidence: dict[int, list[tuple[str, str]]] = {}
    for delivery_id, kind, digest in _stream(conn, _EVIDENCE_TABLE_SQL, "edoc_view_evidence"):
        evidence.setdefault(int(delivery_id), []).append((kind, digest))
    for delivery_id, consignment, document_id, code, state, copy_id, receive_number, reason in _stream(
        conn, _DELIVERY_TABLE_SQL, "edoc_view_deliveries"
    ):
        yield (
            consignment,
            [document_id, code, state, copy_id, receive_number, reason, tuple(evidence.pop(int(delivery_id), ()))],
        )


def number_table(conn: Connection) -> Iterator[tuple[int, list[Any]]]:
    """Every document's number: ``(id, [number or ''])``, streamed."""
    for doc_id, number in _stream(conn, _NUMBER_TABLE_SQL, "edoc_view_numbers"):
        yield int(doc_id), [number or ""]
