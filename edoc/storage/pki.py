"""PKI queries: the CA's register of certificates, its CRLs, and the trust list.

Rows in, domain values out (:mod:`edoc.pki.model`). Acts that must serialise (issuance with its
duplicate check, CRL numbering, ``pki init``) call :func:`lock_ca` first: an advisory lock held
to the end of the transaction on PostgreSQL; on SQLite the write transaction's ``BEGIN
IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from sqlalchemy import func, insert, text
from sqlmodel import Session, col, select

from edoc.errors import CertificateNotFound, PkiNotInitialised
from edoc.pki.model import (
    CertificateInfo,
    CertKind,
    CertStatus,
    CrlInfo,
    KeyStorage,
    KeyType,
    RevocationReason,
    TrustAnchor,
    fingerprint,
    key_type_of,
    serial_hex,
)
from edoc.storage.tables import AccountRow, AgencyRow, CertificateRow, CrlRow, TrustAnchorRow, UnitRow

_CA_LOCK = 7303627
"""PostgreSQL advisory lock key of CA acts (``edoc init`` uses 7303626)."""

END_ENTITY_KINDS = (CertKind.USER.value, CertKind.SEAL.value)


def lock_ca(session: Session) -> None:
    """Serialise CA acts until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_CA_LOCK})"))


def to_info(row: CertificateRow) -> CertificateInfo:
    cert = x509.load_der_x509_certificate(row.der)
    return CertificateInfo(
        serial=row.serial,
        kind=CertKind(row.kind),
        owner=row.owner,
        subject=row.subject,
        issuer=cert.issuer.rfc4514_string(),
        key_type=KeyType(row.key_type),
        key_storage=KeyStorage(row.key_storage),
        not_before=row.not_before,
        not_after=row.not_after,
        issued_at=row.issued_at,
        fingerprint=row.fingerprint,
        der=row.der,
        revoked_at=row.revoked_at,
        revocation_reason=RevocationReason(row.revocation_reason) if row.revocation_reason else None,
        pkcs11_token=row.pkcs11_token,
    )


# --- the CA's own certificates ------------------------------------------------------------------


def ca_row(session: Session, kind: CertKind) -> CertificateRow | None:
    """The newest root or issuing CA certificate (None before ``pki init``)."""
    return session.exec(
        select(CertificateRow).where(CertificateRow.kind == kind.value).order_by(col(CertificateRow.id).desc())
    ).first()


def require_ca(session: Session) -> tuple[CertificateRow, CertificateRow]:
    """(root, issuing); :class:`PkiNotInitialised` before ``pki init``."""
    root = ca_row(session, CertKind.ROOT)
    issuing = ca_row(session, CertKind.ISSUING)
    if root is None or issuing is None:
        raise PkiNotInitialised()
    return root, issuing


def get_row(session: Session, row_id: int) -> CertificateRow:
    row = session.get(CertificateRow, row_id)
    if row is None:  # pragma: no cover - foreign keys prevent it
        raise CertificateNotFound(str(row_id))
    return row


def chain_rows(session: Session, row: CertificateRow) -> list[CertificateRow]:
    """The issuers of ``row``, nearest first, up to the root."""
    out: list[CertificateRow] = []
    seen = {row.id}
    issuer_id = row.issuer_id
    while issuer_id is not None and issuer_id not in seen:
        issuer = get_row(session, issuer_id)
        out.append(issuer)
        seen.add(issuer_id)
        issuer_id = issuer.issuer_id
    return out


# --- subjects: what a certificate's name is made of -----------------------------------------------


@dataclass(frozen=True)
class SubjectFacts:
    """What the directory says about an owner, for their certificate's subject."""

    owner: str
    kind: CertKind
    account_id: int | None
    agency_id: int
    agency_code: str
    agency_name: str
    unit_name: str | None = None
    full_name: str = ""
    position: str = ""
    username: str = ""
    email: str | None = None
    active: bool = True


def subject_facts(session: Session, usernames: Sequence[str], agency_codes: Sequence[str]) -> dict[str, SubjectFacts]:
    """Facts for users and agency seals, keyed by owner; missing ones are simply absent."""
    out: dict[str, SubjectFacts] = {}
    agencies = {}
    for start in range(0, len(agency_codes), 500):
        chunk = list(agency_codes[start : start + 500])
        for row in session.exec(select(AgencyRow).where(col(AgencyRow.code).in_(chunk))):
            agencies[row.code] = row
    for code, agency in agencies.items():
        assert agency.id is not None
        out[f"agency:{code}"] = SubjectFacts(
            owner=f"agency:{code}",
            kind=CertKind.SEAL,
            account_id=None,
            agency_id=agency.id,
            agency_code=code,
            agency_name=agency.name,
        )
    for start in range(0, len(usernames), 500):
        chunk = list(usernames[start : start + 500])
        query = (
            select(AccountRow, AgencyRow, UnitRow)
            .join(AgencyRow, col(AgencyRow.id) == col(AccountRow.agency_id))
            .join(UnitRow, col(UnitRow.id) == col(AccountRow.unit_id), isouter=True)
            .where(col(AccountRow.username).in_(chunk))
        )
        for account, agency, unit in session.exec(query):
            assert agency.id is not None
            out[account.username] = SubjectFacts(
                owner=account.username,
                kind=CertKind.USER,
                account_id=account.id,
                agency_id=agency.id,
                agency_code=agency.code,
                agency_name=agency.name,
                unit_name=unit.name if unit is not None else None,
                full_name=account.full_name,
                position=account.position,
                username=account.username,
                email=account.email,
                active=account.active,
            )
    return out


# --- end-entity certificates ----------------------------------------------------------------------


def current_rows(session: Session, owners: Sequence[str], at: datetime) -> dict[str, CertificateRow]:
    """Each owner's newest certificate that is neither revoked nor expired at ``at``."""
    out: dict[str, CertificateRow] = {}
    for start in range(0, len(owners), 500):
        chunk = list(owners[start : start + 500])
        query = (
            select(CertificateRow)
            .where(
                col(CertificateRow.owner).in_(chunk),
                col(CertificateRow.revoked_at).is_(None),
                col(CertificateRow.not_after) > at,
            )
            .order_by(col(CertificateRow.id))
        )
        for row in session.exec(query):
            out[row.owner] = row  # ascending ids: the newest wins
    return out


def owner_rows(session: Session, owner: str, kinds: Iterable[str] | None = None) -> list[CertificateRow]:
    """Every certificate of ``owner``, newest first."""
    query = select(CertificateRow).where(CertificateRow.owner == owner)
    if kinds is not None:
        query = query.where(col(CertificateRow.kind).in_(list(kinds)))
    return list(session.exec(query.order_by(col(CertificateRow.id).desc())))


def row_by_serial(session: Session, serial: str) -> CertificateRow:
    row = session.exec(select(CertificateRow).where(CertificateRow.serial == serial)).first()
    if row is None:
        raise CertificateNotFound(serial)
    return row


def certificate_values(
    cert: x509.Certificate,
    *,
    kind: CertKind,
    owner: str,
    storage: KeyStorage,
    issued_at: datetime,
    issuer_id: int | None = None,
    key_data: bytes | None = None,
    account_id: int | None = None,
    agency_id: int | None = None,
    pkcs11_token: str | None = None,
    pkcs11_key_id: str | None = None,
    key_type: KeyType | None = None,
) -> dict[str, Any]:
    """The columns of a :class:`CertificateRow` for ``cert``."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    der = cert.public_bytes(Encoding.DER)
    public = cert.public_key()
    spki = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return {
        "serial": serial_hex(cert.serial_number),
        "kind": kind.value,
        "owner": owner,
        "account_id": account_id,
        "agency_id": agency_id,
        "issuer_id": issuer_id,
        "subject": cert.subject.rfc4514_string(),
        "key_type": (key_type or key_type_of(public)).value,
        "fingerprint": fingerprint(der),
        "spki_sha256": hashlib.sha256(spki).hexdigest(),
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "issued_at": issued_at,
        "der": der,
        "key_storage": storage.value,
        "key_data": key_data,
        "pkcs11_token": pkcs11_token,
        "pkcs11_key_id": pkcs11_key_id,
        "revoked_at": None,
        "revocation_reason": None,
    }


def values_to_info(values: dict[str, Any]) -> CertificateInfo:
    """The :class:`CertificateInfo` of a row about to be inserted (no second read)."""
    return to_info(CertificateRow(**values))


def insert_certificates(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert certificate rows (dicts of :class:`CertificateRow` columns) in one statement."""
    if rows:
        session.execute(insert(CertificateRow), list(rows))


def insert_certificate(session: Session, values: dict[str, Any]) -> CertificateRow:
    row = CertificateRow(**values)
    session.add(row)
    session.flush()
    return row


def list_rows(
    session: Session, *, owner: str | None = None, kind: str | None = None, agency_id: int | None = None
) -> list[CertificateRow]:
    query = select(CertificateRow)
    if owner is not None:
        query = query.where(CertificateRow.owner == owner)
    if kind is not None:
        query = query.where(CertificateRow.kind == kind)
    if agency_id is not None:
        query = query.where(CertificateRow.agency_id == agency_id)
    return list(session.exec(query.order_by(col(CertificateRow.id))))


def revoke_row(session: Session, row: CertificateRow, at: datetime, reason: RevocationReason) -> None:
    row.revoked_at = at
    row.revocation_reason = reason.value
    session.add(row)
    session.flush()


def count_by_kind(session: Session) -> dict[str, dict[str, int]]:
    """``{kind: {"total": n, "revoked": m}}``."""
    out: dict[str, dict[str, int]] = {}
    query = select(CertificateRow.kind, func.count(), func.count(col(CertificateRow.revoked_at))).group_by(
        col(CertificateRow.kind)
    )
    for kind, total, revoked in session.exec(query):
        out[kind] = {"total": int(total), "revoked": int(revoked)}
    return out


# --- revocation status, CRLs -----------------------------------------------------------------------


def status_of(session: Session, serial: int, issuer_id: int) -> tuple[CertStatus, datetime | None, str | None]:
    """What the register says about ``serial`` among the certificates of ``issuer_id``."""
    row = session.exec(
        select(CertificateRow).where(
            CertificateRow.serial == format(serial, "x"), CertificateRow.issuer_id == issuer_id
        )
    ).first()
    if row is None:
        return CertStatus.UNKNOWN, None, None
    if row.revoked_at is not None:
        return CertStatus.REVOKED, row.revoked_at, row.revocation_reason
    return CertStatus.GOOD, None, None


def revoked_under(session: Session, issuer_id: int) -> list[tuple[int, datetime, str]]:
    """(serial, revoked at, reason) of every revoked certificate the issuer signed."""
    query = (
        select(CertificateRow.serial, CertificateRow.revoked_at, CertificateRow.revocation_reason)
        .where(CertificateRow.issuer_id == issuer_id, col(CertificateRow.revoked_at).is_not(None))
        .order_by(col(CertificateRow.revoked_at), col(CertificateRow.id))
    )
    return [(int(s, 16), at, reason or "unspecified") for s, at, reason in session.exec(query) if at is not None]


def next_crl_number(session: Session, issuer_id: int) -> int:
    last = session.exec(select(func.max(CrlRow.number)).where(CrlRow.issuer_id == issuer_id)).one()
    return int(last or 0) + 1


def insert_crl(session: Session, values: dict[str, Any]) -> None:
    session.add(CrlRow(**values))
    session.flush()


def latest_crl(session: Session, issuer_id: int, kind: CertKind) -> CrlInfo | None:
    row = session.exec(select(CrlRow).where(CrlRow.issuer_id == issuer_id).order_by(col(CrlRow.number).desc())).first()
    if row is None:
        return None
    return CrlInfo(
        issuer=kind,
        number=row.number,
        this_update=row.this_update,
        next_update=row.next_update,
        revoked=row.revoked,
        der=row.der,
    )


def latest_revocation(session: Session, issuer_id: int) -> datetime | None:
    """When the newest revocation under ``issuer_id`` happened."""
    return session.exec(select(func.max(CertificateRow.revoked_at)).where(CertificateRow.issuer_id == issuer_id)).one()


# --- the trust list ----------------------------------------------------------------------------


def _anchor(row: TrustAnchorRow) -> TrustAnchor:
    return TrustAnchor(
        fingerprint=row.fingerprint,
        subject=row.subject,
        label=row.label,
        source=row.source,
        added_at=row.added_at,
        der=row.der,
    )


def trust_anchors(session: Session) -> list[TrustAnchor]:
    rows = session.exec(select(TrustAnchorRow).order_by(col(TrustAnchorRow.added_at), col(TrustAnchorRow.label)))
    return [_anchor(r) for r in rows]


def trust_anchor(session: Session, fingerprint: str) -> TrustAnchor | None:
    row = session.get(TrustAnchorRow, fingerprint)
    return None if row is None else _anchor(row)


def insert_trust_anchor(session: Session, anchor: TrustAnchor) -> None:
    session.add(
        TrustAnchorRow(
            fingerprint=anchor.fingerprint,
            subject=anchor.subject,
            label=anchor.label,
            source=anchor.source,
            added_at=anchor.added_at,
            der=anchor.der,
        )
    )
    session.flush()


def delete_trust_anchor(session: Session, fingerprint: str) -> None:
    row = session.get(TrustAnchorRow, fingerprint)
    if row is not None:
        session.delete(row)
        session.flush()
