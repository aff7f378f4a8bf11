"""The facade: one object per office, one method per act, one transaction per act.

Every act follows the same shape: check the input (eagerly, before touching anything), open one
transaction, check permissions against the stored facts, change the state, append the audit
event, commit. Either all of it is stored or none of it. Files (blobs) are written and fsynced
before the rows that point at them, inside the same act.

``open_office`` is the Python front door; the CLI is a thin layer over these methods.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import logging
import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import tomli_w

from edoc.audit import check as audit_check
from edoc.audit import merkle
from edoc.audit import views as audit_views
from edoc.audit.bundle import BundleSummary, write_bundle
from edoc.audit.checkpoint import (
    AuditKeyInfo,
    AuditPrivateKey,
    AuditPublicKey,
    Checkpoint,
    Cosignature,
    KeyAlgorithm,
    as_audit_key,
    checkpoint_signature_ok,
    new_audit_key,
    sign_checkpoint,
    witness_text,
)
from edoc.audit.checkpoint import key_id as audit_key_id
from edoc.audit.checkpoint import load_public_key as audit_load_public_key
from edoc.audit.checkpoint import origin_for as audit_origin_for
from edoc.audit.checkpoint import public_key_pem as audit_public_pem
from edoc.audit.events import Event as AuditEvent
from edoc.audit.proofs import ConsistencyProof, InclusionProof
from edoc.audit.signers import EventSigner, load_certificate, signer_from_identity, verify_with_certificate
from edoc.audit.verify import AuditReport, Outside, Problem, check_log, progress_every
from edoc.audit.views import HistoryEntry, sealed_reason, sealed_reason_digest
from edoc.directory import (
    Act,
    Actor,
    Agency,
    DocumentFacts,
    Role,
    Unit,
    User,
    decide,
    require,
    validate_agency_code,
    validate_letter_code,
    validate_username,
)
from edoc.directory.model import validate_text
from edoc.documents import (
    AttachmentInfo,
    DocumentContent,
    DocumentEvent,
    DocumentKind,
    DocumentState,
    DocumentView,
    Secrecy,
    Urgency,
    from_canonical,
    next_state,
    parse_kind,
    validate,
)
from edoc.documents.fields import read_attachment
from edoc.documents.lifecycle import INITIAL_STATE, TransitionRefused
from edoc.documents.thai import one_line
from edoc.errors import (
    AgencyNotFound,
    AlreadyCertified,
    AlreadyExists,
    AlreadyNumbered,
    AlreadyReceived,
    AlreadyRevoked,
    AuditKeyExists,
    AuditKeyMissing,
    AuditLogDamaged,
    CaKeysMissing,
    CaNotUsable,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    CheckpointNotFound,
    DestructionRefused,
    EdocError,
    EmptyField,
    EventNotFound,
    HomeNotInitialised,
    InvalidField,
    InvalidState,
    NoCertificate,
    NotFound,
    NotNumberable,
    PassphraseRequired,
    PermissionDenied,
    PkiAlreadyInitialised,
    RecordRefused,
    TimestampInvalid,
    TokenNotFound,
    UserNotFound,
    WitnessRefused,
    WrongPassphrase,
)
from edoc.pki import model as pki_model
from edoc.pki.keys import KeyRing, NoPassphrases, Passphrases, seal_private_key
from edoc.registers import (
    BE_OFFSET,
    RECEIVE_SERIES,
    Book,
    IssuedNumber,
    NumberingRules,
    SeriesKey,
    format_number,
    letter_code_for,
    numbering_year,
    outgoing_series,
    register_number,
)
from edoc.registers.retention import (
    TRANSFER_AGE_YEARS,
    CommitteeRole,
    ListState,
    RetentionClass,
    class_table,
    committee_problems,
    due_year,
    resolve_class,
)
from edoc.registers.views import (
    BacklogItem,
    DestructionList,
    FiledRecord,
    Received,
    RegisterPage,
    RegisterRow,
    SearchHit,
)
from edoc.settings import SETTINGS_FILE, Settings, default_home, load_settings
from edoc.storage import audit as audit_store
from edoc.storage import directory as dir_store
from edoc.storage import documents as doc_store
from edoc.storage import pki as pki_store
from edoc.storage import registers as reg_store
from edoc.storage.blobs import sha256_hex
from edoc.storage.database import Database
from edoc.storage.documents import INITIAL_ROLES, SIGNER_ROLES
from edoc.storage.session import Session, keep_loaded
from edoc.storage.tables import AccountRow, AgencyRow, DocumentRow, UnitRow

if TYPE_CHECKING:
    from edoc.documents.render import RenderInput, RenderResult
    from edoc.storage.driver import Reader
    from edoc.storage.search import Candidate as SearchCandidate

T = TypeVar("T")

SYSTEM = "system"
"""Actor name of office administration done from the command line (directory, init)."""


@dataclass(frozen=True)
class InitResult:
    """What ``edoc init`` did."""

    home: Path
    database: str
    revision: str
    created: bool
    """True when the home or schema did not exist before."""


def _resolve_home(home: str | os.PathLike[str] | None) -> Path:
    return Path(home) if home is not None else default_home()


def _resolve_url(db_url: str | None) -> str | None:
    return db_url or os.environ.get("EDOC_DATABASE_URL") or None


def init_office(
    home: str | os.PathLike[str] | None = None,
    db_url: str | None = None,
    *,
    name: str | None = None,
    demo: bool = False,
) -> InitResult:
    """Create the home, its settings and the schema; migrate an older schema. Safe to re-run."""
    home_path = _resolve_home(home)
    url = _resolve_url(db_url)
    db = Database.open(home_path, url)  # a bad URL fails here, before anything is created
    created = not (home_path / SETTINGS_FILE).exists()
    try:
        home_path.mkdir(parents=True, exist_ok=True)
        settings_path = home_path / SETTINGS_FILE
        if created:
            office: dict[str, Any] = {"name": name or "edoc office"}
            if demo:
                office["demo"] = True
            _write_atomic(settings_path, tomli_w.dumps({"office": office}).encode())
        elif name and load_settings(home_path).office.name != name:
            parsed = tomllib.loads(settings_path.read_text(encoding="utf-8"))
            parsed.setdefault("office", {})["name"] = name
            _write_atomic(settings_path, tomli_w.dumps(parsed).encode())
        load_settings(home_path)  # refuse a broken edoc.toml now
        before = db.revision()
        revision = db.upgrade()
        office_obj = Office(home_path, db, load_settings(home_path))
        if before != revision:
            office_obj._run(
                lambda s: office_obj._record(
                    s, "office.init", payload={"from_revision": before, "to_revision": revision}
                )
            )
        return InitResult(home_path, db.safe_url(), revision, created or before is None)
    finally:
        db.close()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def open_office(
    home: str | os.PathLike[str] | None = None,
    db_url: str | None = None,
    *,
    passphrases: Passphrases | None = None,
) -> Office:
    """Open an initialised office (``EDOC_HOME`` and ``EDOC_DATABASE_URL`` by default).

    ``passphrases`` unlocks private keys for acts with legal weight (sign, send, receive, ...);
    without it those acts fail with :class:`~edoc.errors.PassphraseRequired`.
    """
    home_path = _resolve_home(home)
    if not (home_path / SETTINGS_FILE).exists():
        raise HomeNotInitialised(str(home_path))
    settings = load_settings(home_path)
    db = Database.open(
        home_path,
        _resolve_url(db_url),
        blob_dir=settings.storage.blob_dir,
        busy_timeout_ms=settings.storage.busy_timeout_ms,
    )
    try:
        db.check_schema(home_path)
    except BaseException:
        db.close()
        raise
    return Office(home_path, db, settings, passphrases)


class Office:
    """One office: its home, database and settings. Use :func:`open_office` to get one."""

    def __init__(self, home: Path, db: Database, settings: Settings, passphrases: Passphrases | None = None) -> None:
        self.home = home
        self.db = db
        self.settings = settings
        self.keyring = KeyRing(passphrases or NoPassphrases())
        """Private keys unlocked once per process (see :mod:`edoc.pki.keys`)."""

    # -- plumbing ---------------------------------------------------------------------------

    def __enter__(self) -> Office:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def now(self) -> datetime:
        """The current time, aware UTC (tests freeze it)."""
        return datetime.now(UTC)

    def _run(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        """Run one act in one transaction (retried on lock timeouts and deadlocks).

        The audit events the act records are appended at its end, in the same transaction:
        no act without its events, no event without its act. After the commit, a signed
        checkpoint is made when one is due (see :meth:`_audit_after_append`).
        """

        def act(session: Session) -> tuple[T, audit_store.Appended | None]:
            result = fn(session)
            return result, audit_store.flush_pending(session)

        result, appended = self.db.tx.run(act, write=write)
        if appended is not None:
            self._audit_after_append(appended)
        return result

    def _read(self, fn: Callable[[Session], T]) -> T:
        return self.db.tx.run(fn, write=False)

    def _record(
        self,
        session: Session,
        act: str,
        *,
        actor: str = SYSTEM,
        agency: str = "",
        document_id: int | None = None,
        payload: dict[str, Any] | None = None,
        sign: Any = None,
    ) -> None:
        """Append the act's audit event in the act's own transaction."""
        body = dict(payload or {})
        if actor == SYSTEM:
            body.setdefault("os_user", _OS_USER)
        audit_store.record(
            session,
            audit_store.PendingEvent(
                at=self.now(),
                actor=actor,
                agency=agency,
                act=act,
                document_id=document_id,
                payload=body,
                sign=sign,
            ),
        )

    def _actor(self, session: Session, username: str) -> tuple[Actor, AccountRow]:
        """The acting user, as the permission policy sees them."""
        row = dir_store.account_row(session, username)
        user = dir_store.get_user(session, username)
        agency = dir_store.agency_row(session, user.agency)
        if not row.active:
            raise PermissionDenied(f"the account {username!r} is disabled")
        actor = Actor(
            username=user.username,
            role=user.role,
            agency=user.agency,
            agency_path=dir_store.agency_path(session, agency),
            unit=user.unit,
        )
        return actor, row

    # -- directory ----------------------------------------------------------------------------

    def add_agency(
        self,
        code: str,
        *,
        name: str,
        letter_code: str,
        parent: str | None = None,
        address: str = "",
        thai_digits: bool = False,
    ) -> Agency:
        """Add an agency to the directory (``edoc agency add``)."""
        return self.add_agencies(
            [
                Agency(
                    code=code,
                    name=name,
                    letter_code=letter_code,
                    parent=parent,
                    address=address,
                    thai_digits=thai_digits,
                )
            ]
        )[0]

    def add_agencies(self, agencies: Sequence[Agency]) -> list[Agency]:
        """Add many agencies in one transaction (parents before children)."""
        clean = [
            Agency(
                code=validate_agency_code(a.code),
                name=validate_text("name", a.name),
                letter_code=validate_letter_code(a.letter_code),
                parent=validate_agency_code(a.parent) if a.parent else None,
                address=validate_text("address", a.address, required=False),
                thai_digits=bool(a.thai_digits),
            )
            for a in agencies
        ]

        def act(session: Session) -> list[Agency]:
            dir_store.insert_agencies(session, clean)
            for agency in clean:
                self._record(session, "agency.add", agency=agency.code, payload=_agency_payload(agency))
            return clean

        return self._run(act)

    def list_agencies(self) -> list[Agency]:
        return self._read(dir_store.list_agencies)

    def get_agency(self, code: str) -> Agency:
        return self._read(lambda s: dir_store.get_agency(s, code))

    def agencies_under(self, code: str) -> list[str]:
        """Codes of every agency below ``code`` (for circulars to a whole branch)."""
        return self._read(lambda s: dir_store.descendants(s, code))

    def add_unit(self, agency: str, code: str, *, name: str) -> Unit:
        """Add a unit (กอง/ฝ่าย) inside an agency (``edoc unit add``)."""
        return self.add_units([Unit(agency=agency, code=code, name=name)])[0]

    def add_units(self, units: Sequence[Unit]) -> list[Unit]:
        """Add many units in one transaction."""
        clean = [
            Unit(
                agency=validate_agency_code(u.agency),
                code=validate_agency_code(u.code),
                name=validate_text("name", u.name),
            )
            for u in units
        ]

        def act(session: Session) -> list[Unit]:
            for unit in clean:
                dir_store.insert_unit(session, unit)
                self._record(
                    session,
                    "unit.add",
                    agency=unit.agency,
                    payload={"unit": unit.code, "name": unit.name},
                )
            return clean

        return self._run(act)

    def list_units(self, agency: str | None = None) -> list[Unit]:
        return self._read(lambda s: dir_store.list_units(s, agency))

    def add_user(
        self,
        username: str,
        *,
        agency: str,
        full_name: str,
        position: str,
        role: str | Role,
        unit: str | None = None,
        email: str | None = None,
    ) -> User:
        """Add a user account (``edoc user add``)."""
        return self.add_users(
            [
                User(
                    username=username,
                    agency=agency,
                    full_name=full_name,
                    position=position,
                    role=_role(role),
                    unit=unit,
                    email=email,
                )
            ]
        )[0]

    def add_users(self, users: Iterable[User]) -> list[User]:
        """Add many users in one transaction (the province-sized directory)."""
        clean = [
            User(
                username=validate_username(u.username),
                agency=validate_agency_code(u.agency),
                full_name=validate_text("name", u.full_name),
                position=validate_text("position", u.position),
                role=_role(u.role),
                unit=validate_agency_code(u.unit) if u.unit else None,
                email=_email(u.email),
                active=_active(u.active),
            )
            for u in users
        ]

        def act(session: Session) -> list[User]:
            dir_store.insert_users(session, clean)
            for user in clean:
                self._record(session, "user.add", agency=user.agency, payload=_user_payload(user))
            return clean

        return self._run(act)

    def list_users(self, agency: str | None = None) -> list[User]:
        return self._read(lambda s: dir_store.list_users(s, agency))

    def get_user(self, username: str) -> User:
        return self._read(lambda s: dir_store.get_user(s, username))

    def check_permission(self, username: str, act: Act, agency: str | None = None) -> None:
        """Raise PermissionDenied unless ``username`` may do ``act`` (agency-level acts)."""

        def check(session: Session) -> None:
            actor, _ = self._actor(session, username)
            require(actor, act, agency)

        self._read(check)

    def directory_counts(self) -> dict[str, int]:
        return self._read(dir_store.count_rows)

    # -- documents (issue 3) ------------------------------------------------------------------

    def new_document(
        self,
        kind: str | DocumentKind,
        fields: Mapping[str, Any] | DocumentContent,
        *,
        as_user: str,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> int:
        """Create a draft (``edoc doc new``); return its id.

        ``fields`` is the document file's mapping (validated here; relative attachment paths
        are resolved against ``base_dir``) or an already validated
        :class:`~edoc.documents.DocumentContent`. The drafter needs :attr:`Act.DRAFT` in their
        agency; the signer and the heads who initial must be active users of the same agency.
        Attachments are stored as blobs with their SHA-256.
        """
        wanted = parse_kind(kind)
        if isinstance(fields, DocumentContent):
            content = fields
        else:
            content = validate(wanted, fields, base_dir=Path(base_dir) if base_dir is not None else None)
        if content.kind is not wanted:
            raise InvalidField("kind", f"the fields are for a {content.kind} document, not {wanted}")
        files = [read_attachment(f"attachments[{i}]", path) for i, path in enumerate(content.attachments)]
        now = self.now()

        def act(session: Session) -> int:
            actor, account = self._actor(session, as_user)
            require(actor, Act.DRAFT)
            people = doc_store.accounts_by_username(session, [content.signer, *content.initials])
            signer = doc_store.check_party(people, content.signer, "signer", account.agency_id, SIGNER_ROLES)
            for i, name in enumerate(content.initials):
                doc_store.check_party(people, name, f"initials[{i}]", account.agency_id, INITIAL_ROLES)
            agency = dir_store.agency_row(session, actor.agency)
            fields_json, subject = content.canonical_json(), content.subject
            if self._sealed(content.secrecy.value):  # secrecy at rest: only envelopes are stored
                readers = self._sealed_readers(
                    session, actor.agency, [actor.username, content.signer, *content.initials], content.secrecy.value
                )
                infos = [
                    AttachmentInfo(
                        name=name, sha256=self._seal_content(session, data, readers), size=len(data), media_type=media
                    )
                    for name, data, media in files
                ]
                sealed_fields = self._seal_content(session, _salted(content.canonical_json()), readers)
                fields_json = _sealed_stub(sealed_fields, initials=content.initials)
                subject = _masked(content.secrecy.value)
            else:
                infos = [
                    AttachmentInfo(name=name, sha256=self.db.blobs.put(session, data), size=len(data), media_type=media)
                    for name, data, media in files
                ]
            row = doc_store.insert_document(
                session,
                DocumentRow(
                    agency_id=account.agency_id,
                    unit_id=account.unit_id,
                    kind=content.kind.value,
                    form=content.form.value if content.form else "",
                    origin="drafted",
                    state=INITIAL_STATE["drafted"].value,
                    subject=subject,
                    fields_json=fields_json,
                    urgency=content.urgency.value,
                    secrecy=content.secrecy.value,
                    drafter_id=account.id,
                    signer_id=signer.id,
                    from_name=agency.name,
                    to_name=str(content.get("to", "")),
                    holder_id=account.id,
                    holder_unit_id=account.unit_id,
                    created_at=now,
                    updated_at=now,
                ),
            )
            assert row.id is not None
            doc_store.insert_attachments(session, row.id, infos)
            self._record(
                session,
                "document.new",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={
                    "kind": content.kind.value,
                    "form": content.form.value if content.form else None,
                    "urgency": content.urgency.value,
                    "secrecy": content.secrecy.value,
                    "signer": content.signer,
                    "initials": list(content.initials),
                    "fields_sha256": sha256_hex(content.canonical_json().encode()),
                    "attachments": [{"name": a.name, "sha256": a.sha256} for a in infos],
                },
            )
            return row.id

        return self._run(act)

    def import_document(
        self,
        pdf_bytes: bytes,
        *,
        as_user: str,
        subject: str | None = None,
        from_agency: str | None = None,
        number: str | None = None,
        document_date: date | None = None,
        urgency: str | Urgency = Urgency.NORMAL,
        secrecy: str | Secrecy = Secrecy.NORMAL,
        kind: str | DocumentKind = DocumentKind.EXTERNAL,
    ) -> int:
        """Store a PDF that came from outside the system, unchanged (``edoc doc import``).

        Its SHA-256 is recorded; ``subject`` defaults to the PDF's own title. The new row's
        origin is ``imported`` and its state ``received``; registering it (receive number,
        received stamp) is a separate act. Needs :attr:`Act.IMPORT` (clerks, admins).
        """
        from edoc.documents.incoming import inspect_pdf

        info = inspect_pdf(pdf_bytes)
        wanted = parse_kind(kind)
        title = one_line(subject if subject is not None else info.title)
        if not title:
            raise EmptyField("subject")
        if len(title) > 500:
            raise InvalidField("subject", "is longer than 500 characters")
        sender = one_line(from_agency or "")
        doc_number = one_line(number or "") or None
        if doc_number is not None and len(doc_number) > 96:
            raise InvalidField("number", "is longer than 96 characters")
        if document_date is not None and not isinstance(document_date, date):
            raise TypeError("document_date must be a date")
        try:
            level = Urgency.parse(urgency)
        except ValueError:
            raise InvalidField("urgency", f"{urgency!r} is not an urgency") from None
        try:
            secret = Secrecy.parse(secrecy)
        except ValueError:
            raise InvalidField("secrecy", f"{secrecy!r} is not a secrecy class") from None
        data = bytes(pdf_bytes)
        now = self.now()

        def act(session: Session) -> int:
            actor, account = self._actor(session, as_user)
            require(actor, Act.IMPORT)
            fields_json, stored_subject = "{}", title
            if self._sealed(secret.value):  # secrecy at rest: the PDF and the subject only sealed
                readers = self._sealed_readers(session, actor.agency, [actor.username], secret.value)
                digest = self._seal_content(session, data, readers)
                about = json.dumps({"subject": title}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                fields_json = _sealed_stub(self._seal_content(session, _salted(about), readers))
                stored_subject = _masked(secret.value)
            else:
                digest = self.db.blobs.put(session, data)
            row = doc_store.insert_document(
                session,
                DocumentRow(
                    agency_id=account.agency_id,
                    unit_id=None,
                    kind=wanted.value,
                    form="",
                    origin="imported",
                    state=INITIAL_STATE["imported"].value,
                    subject=stored_subject,
                    fields_json=fields_json,
                    urgency=level.value,
                    secrecy=secret.value,
                    drafter_id=account.id,
                    number=doc_number,
                    document_date=document_date,
                    from_name=sender,
                    to_name=dir_store.agency_row(session, actor.agency).name,
                    pdf_sha256=digest,
                    holder_id=account.id,
                    holder_unit_id=account.unit_id,
                    created_at=now,
                    updated_at=now,
                ),
            )
            assert row.id is not None
            self._record(
                session,
                "document.import",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={
                    "sha256": digest,
                    "size": len(data),
                    "pages": info.pages,
                    "encrypted": info.encrypted,
                    "kind": wanted.value,
                    "urgency": level.value,
                    "secrecy": secret.value,
                },
            )
            return row.id

        return self._run(act)

    def show_document(self, doc_id: int, *, as_user: str) -> DocumentView:
        """The document as ``as_user`` may see it (``edoc doc show``); needs :attr:`Act.READ`."""

        openers = self._reader_openers(doc_id, as_user)

        def read(session: Session) -> DocumentView:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.READ, self._document_facts(session, row))
            view = doc_store.to_view(session, row)
            if not self._sealed(row.secrecy) or "sealed" not in view.fields:
                return view
            from types import MappingProxyType

            fields = self._fields_of(session, row, openers)  # opened with the reader's key
            subject = str(fields.get("subject") or view.subject)
            return dataclasses.replace(view, subject=subject, fields=MappingProxyType(fields))

        return self._read(read)

    def render_document(self, doc_id: int, *, as_user: str) -> bytes:
        """A PDF preview of the document as it stands (``edoc doc render``); needs :attr:`Act.READ`.

        A drafted document is rendered from its fields (number and date once issued; today's
        date until then); an imported or delivered one gives its stored PDF unchanged. Once a
        document has a signed PDF, ``doc export`` gives that; this stays a preview.
        """
        return self.render_document_result(doc_id, as_user=as_user).pdf

    def render_document_result(self, doc_id: int, *, as_user: str) -> RenderResult:
        """Like :meth:`render_document`, with the page count, the reserved signature boxes and
        the received-stamp zone (see :mod:`edoc.documents.render`)."""
        from edoc.documents.render import render, stored_result

        openers = self._reader_openers(doc_id, as_user)

        def read(session: Session) -> RenderInput | bytes:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.READ, self._document_facts(session, row))
            if row.origin != "drafted":
                return self._stored_pdf(session, row, openers)
            return self._render_input(session, row, openers=openers)

        got = self._read(read)
        if isinstance(got, bytes):
            return stored_result(got)
        return render(got)

    def _render_row(
        self, session: Session, row: DocumentRow, *, on: date | None = None, openers: Sequence[tuple[Any, Any]] = ()
    ) -> RenderResult:
        """Render a drafted document inside the caller's transaction (the first signature uses
        this to make the final PDF, after the number is issued). ``on`` overrides the date;
        ``openers`` open sealed fields and attachments."""
        from edoc.documents.render import render

        return render(self._render_input(session, row, on=on, openers=openers))

    def _render_input(
        self, session: Session, row: DocumentRow, *, on: date | None = None, openers: Sequence[tuple[Any, Any]] = ()
    ) -> RenderInput:
        """Everything the renderer needs about ``row``: fields, agency, signer, initials, files
        (sealed ones opened with ``openers``)."""
        from edoc.documents.pdf import Attachment
        from edoc.documents.render import Letterhead, Person, RenderInput

        if row.origin != "drafted":
            raise InvalidState(f"document {row.id}", row.origin, "be rendered from fields")
        content = from_canonical(row.kind, self._fields_of(session, row, openers))
        agency = doc_store.agency_of(session, row)
        people = doc_store.accounts_by_username(session, [content.signer, *content.initials])
        signer = people[content.signer]
        initials = tuple(Person(people[u].full_name, people[u].position) for u in content.initials if u in people)
        assert row.id is not None
        files = tuple(
            Attachment(a.name, self._open_content(session, a.sha256, openers, row), a.media_type)
            for a in doc_store.attachments_of(session, row.id)
        )
        return RenderInput(
            content=content,
            agency=Letterhead(
                name=agency.name,
                address=agency.address,
                letter_code=agency.letter_code,
                thai_digits=agency.thai_digits,
                emblem=self._emblem(agency.code),
            ),
            signer=Person(signer.full_name, signer.position),
            date=on or row.document_date or self._today(),
            created=self.now(),
            number=row.number,
            initials=initials,
            unit_name=doc_store.unit_name(session, row.unit_id) or "",
            attachments=files,
        )

    def _stored_pdf(self, session: Session, row: DocumentRow, openers: Sequence[tuple[Any, Any]] = ()) -> bytes:
        if row.pdf_sha256 is None:
            raise InvalidState(f"document {row.id}", row.origin, "be rendered without its PDF")
        return self._open_content(session, row.pdf_sha256, openers, row)

    def _emblem(self, agency_code: str) -> bytes | None:
        """The agency's emblem image from ``<home>/assets/`` (``emblem-<CODE>.png`` or ``.jpg``,
        else ``emblem.png`` / ``.jpg`` for every agency), or None for the placeholder seal."""
        folder = self.home / "assets"
        for stem in (f"emblem-{agency_code}", "emblem"):
            for suffix in (".png", ".jpg", ".jpeg"):
                path = folder / f"{stem}{suffix}"
                if path.is_file():
                    return path.read_bytes()
        return None

    def _today(self) -> date:
        """Today in the office's time zone (dates printed on documents)."""
        from zoneinfo import ZoneInfo

        return self.now().astimezone(ZoneInfo(self.settings.office.timezone)).date()

    def _document_row(self, session: Session, doc_id: int, *, for_update: bool = False) -> DocumentRow:
        """The stored row of ``doc_id`` (:class:`~edoc.errors.DocumentNotFound` otherwise).

        ``for_update`` locks it until the act's transaction ends (use it before a state change).
        """
        return doc_store.document_row(session, doc_id, for_update=for_update)

    def _document_facts(self, session: Session, row: DocumentRow) -> DocumentFacts:
        """What the permission policy needs about ``row``: its agency and path, unit, secrecy,
        and the parties on it (drafter, signer, heads who initial, holder)."""
        agency = doc_store.agency_of(session, row)
        ids = doc_store.usernames(session, (row.drafter_id, row.signer_id, row.holder_id))
        parties = set(ids.values()) | set(doc_store.initials_of(row))
        unit = doc_store.unit_code(session, row.holder_unit_id or row.unit_id)
        route_parties, route_units = self._routing_reached(session, row)
        return DocumentFacts(
            agency=agency.code,
            agency_path=dir_store.agency_path(session, agency),
            unit=unit,
            secrecy=row.secrecy,
            parties=frozenset(parties | route_parties),
            units=frozenset(({unit} if unit else set()) | route_units),
            state=row.state,
        )

    def _change_state(self, session: Session, row: DocumentRow, event: DocumentEvent | str) -> DocumentState:
        """Move ``row`` by ``event`` through the lifecycle table (in the caller's transaction).

        Raises :class:`~edoc.errors.InvalidState` (exit 5) when the table refuses; sets
        ``updated_at``. The caller records the act's audit event.
        """
        try:
            after = next_state(row.state, event, outgoing=row.origin == "drafted")
        except TransitionRefused as exc:
            raise InvalidState(f"document {row.id}", exc.state.value, exc.event.value) from None
        row.state = after.value
        row.updated_at = self.now()
        session.add(row)
        session.flush()
        return after

    # -- secrecy at rest (issue 8, item 5) --------------------------------------------------------
    # Confidential, secret and top-secret content (PDFs, attachments, the fields of a draft, the
    # subject of an import) is stored only as CMS EnvelopedData (edoc.routing.envelope) for the
    # agency's seal and every person on the document's route; the ``subject`` column holds the
    # secrecy mark. Rows, registers, evidence and audit events record the plaintext's SHA-256.
    # Openers are ``(certificate, private key)`` pairs, unlocked before the act's transaction.

    _SEALED_LEVELS = frozenset({"confidential", "secret", "top-secret"})

    @classmethod
    def _sealed(cls, secrecy: str) -> bool:
        """Is content of this secrecy stored only encrypted?"""
        return secrecy in cls._SEALED_LEVELS

    def _sealed_readers(self, session: Session, agency: str, people: Iterable[str], secrecy: str) -> list[Any]:
        """Current certificates of ``agency``'s seal (required) and of ``people`` who have one."""
        from cryptography import x509

        from edoc.errors import EncryptionCertificateMissing

        seal = pki_model.agency_owner(agency)
        agency_id = dir_store.agency_row(session, agency).id
        accounts = doc_store.accounts_by_username(session, sorted({p for p in people if p}))
        names = sorted(n for n, a in accounts.items() if a.agency_id == agency_id and a.active)  # own, active people
        rows = pki_store.current_rows(session, [seal, *names], self.now())
        if seal not in rows:
            raise EncryptionCertificateMissing(seal, secrecy)
        return [x509.load_der_x509_certificate(rows[n].der) for n in [seal, *names] if n in rows]

    def _row_readers(self, session: Session, row: DocumentRow, extra: Iterable[str] = ()) -> list[Any]:
        """Who a new version of ``row``'s sealed content is encrypted for: its agency's seal and
        every person on its route (``_document_facts``' parties), plus ``extra``."""
        facts = self._document_facts(session, row)
        return self._sealed_readers(session, facts.agency, [*facts.parties, *extra], row.secrecy)

    def _seal_content(self, session: Session, data: bytes, readers: Sequence[Any]) -> str:
        """Store ``data`` only as an envelope for ``readers`` (and whoever could already open an
        earlier envelope of the same bytes); return the plaintext's SHA-256, the name rows use."""
        from edoc.routing import envelope

        digest = sha256_hex(data)
        blobs = self.db.blobs
        existing = blobs.envelope_of(session, digest, for_update=True)
        certs = list(readers)
        if existing is None:
            try:
                blobs.get(session, digest)
            except EdocError:
                pass
            else:
                return digest  # the same bytes are already stored in the clear for a normal document
        else:
            certs += self._recipient_certificates(session, envelope.recipients(blobs.get(session, existing)))
        blobs.put_sealed(session, digest, len(data), envelope.seal(data, certs))
        return digest

    @staticmethod
    def _recipient_certificates(session: Session, ids: Iterable[tuple[bytes, int]]) -> list[Any]:
        from cryptography import x509

        out = []
        for _issuer, serial in ids:
            try:
                row = pki_store.row_by_serial(session, pki_model.serial_hex(serial))
            except EdocError:
                continue
            out.append(x509.load_der_x509_certificate(row.der))
        return out

    def _open_content(
        self, session: Session, digest: str, openers: Sequence[tuple[Any, Any]], row: DocumentRow
    ) -> bytes:
        """The bytes named ``digest``: read, or opened from their envelope with one of
        ``openers``; :class:`~edoc.errors.ContentSealed` (exit 3) when none of them opens it."""
        from edoc.errors import ContentSealed
        from edoc.routing import envelope
        from edoc.storage.blobs import BlobCorrupted

        blobs = self.db.blobs
        sealed = blobs.envelope_of(session, digest)
        if sealed is None:
            return blobs.get(session, digest)
        data = blobs.get(session, sealed)
        for cert, key in openers:
            if not envelope.is_recipient(data, cert):
                continue
            try:
                plain = envelope.open_sealed(data, cert, key)
            except envelope.EnvelopeError:
                continue
            if sha256_hex(plain) != digest:
                raise BlobCorrupted(digest)
            return plain
        who = ", ".join(sorted({_cert_owner(c) for c, _ in openers})) or "the reader"
        raise ContentSealed(row.id, row.secrecy, f"no key of {who} opens it")

    def _rewrap(
        self,
        session: Session,
        digest: str,
        openers: Sequence[tuple[Any, Any]],
        new: Sequence[Any],
        row: DocumentRow,
        fallback: Callable[[], Sequence[tuple[Any, Any]]] | None = None,
    ) -> None:
        """Add ``new`` certificates as recipients of ``digest``'s envelope (the content key is
        re-wrapped with one of ``openers``, else of ``fallback()``; the encrypted content is not
        touched)."""
        from edoc.errors import ContentSealed
        from edoc.routing import envelope

        blobs = self.db.blobs
        sealed = blobs.envelope_of(session, digest, for_update=True)  # one re-wrap at a time
        if sealed is None:
            return
        data = blobs.get(session, sealed)
        missing = [c for c in new if not envelope.is_recipient(data, c)]
        if not missing:
            return
        for cert, key in [*openers, *(fallback() if fallback is not None else ())]:
            if envelope.is_recipient(data, cert):
                try:
                    wrapped = envelope.add_recipients(data, cert, key, missing)
                except envelope.EnvelopeError:
                    continue
                blobs.put_sealed(session, digest, 0, wrapped)
                return
        who = ", ".join(sorted({_cert_owner(c) for c, _ in openers})) or "nobody"
        raise ContentSealed(row.id, row.secrecy, f"no key of {who} opens it to add {len(missing)} reader(s)")

    def _sealed_digests(self, session: Session, row: DocumentRow) -> list[str]:
        """The sealed content of ``row``: its PDF, its fields and its attachments."""
        assert row.id is not None
        out = [row.pdf_sha256] if row.pdf_sha256 else []
        stub = doc_store.fields_of(row).get("sealed")
        if isinstance(stub, str):
            out.append(stub)
        out += [a.sha256 for a in doc_store.attachments_of(session, row.id)]
        return out

    def _share_sealed(
        self,
        session: Session,
        row: DocumentRow,
        openers: Sequence[tuple[Any, Any]],
        *,
        people: Iterable[str] = (),
        agencies: Iterable[str] = (),
        fallback: Callable[[], Sequence[tuple[Any, Any]]] | None = None,
    ) -> None:
        """Let ``people`` (usernames of ``row``'s agency) and ``agencies`` (their seals) open
        ``row``'s sealed content: its PDF, fields and attachments; the people also its sealed
        route notes (other agencies never get the notes of this agency's route)."""
        from cryptography import x509

        if not self._sealed(row.secrecy):
            return
        agency_id = row.agency_id
        accounts = doc_store.accounts_by_username(session, sorted({p for p in people if p}))
        persons = sorted(n for n, a in accounts.items() if a.agency_id == agency_id and a.active)
        owners = [*persons, *(pki_model.agency_owner(a) for a in agencies)]
        rows = pki_store.current_rows(session, sorted(set(owners)), self.now())
        certs = [x509.load_der_x509_certificate(r.der) for r in rows.values()]
        if not certs:
            return
        for digest in self._sealed_digests(session, row):
            self._rewrap(session, digest, openers, certs, row, fallback)
        people_certs = [x509.load_der_x509_certificate(rows[n].der) for n in persons if n in rows]
        if people_certs:
            for digest, _to_sender in self._note_digests(session, row):
                self._rewrap(session, digest, openers, people_certs, row, fallback)

    # Route notes (endorsements, orders, return reasons) of a restricted document are sealed
    # too: each note on its own (salted JSON ``{"note": ..., "_salt": ...}``, so its hash cannot
    # confirm a guessed text), for the document's readers; a reason returned to the sending
    # agency also for the readers of the sender's document. ``route_step.note_sha256``, the
    # signed step body and the audit event name it; a returned delivery's reason and evidence say
    # ``sealed:sha256:<hash>`` (edoc.audit.views.sealed_reason).

    def _seal_note(
        self, session: Session, row: DocumentRow, text: str, reached: Iterable[str], *, to_sender: bool
    ) -> str:
        """Store ``text`` (a route note of ``row``) only sealed; return its blob's name."""
        readers = self._row_readers(session, row, reached)
        if to_sender:
            readers += self._sender_readers(session, row)
        return self._seal_content(session, _salted_note(text), readers)

    def _sender_readers(self, session: Session, row: DocumentRow) -> list[Any]:
        """For a delivered copy of a restricted letter: who reads the sender's document (its
        agency's seal and its route), else []."""
        if row.parent_id is None:
            return []
        parent = session.get(DocumentRow, row.parent_id)
        if parent is None or not self._sealed(parent.secrecy):
            return []
        return self._row_readers(session, parent)

    @staticmethod
    def _note_digests(session: Session, row: DocumentRow) -> list[tuple[str, bool]]:
        """``row``'s sealed route notes: ``(hash, returned to the sender)`` in step order."""
        from edoc.routing.flow import FlowState
        from edoc.storage import routing as route_store

        if row.id is None:
            return []
        return [
            (s.note_sha256, s.action == "return" and s.state_after == FlowState.SENT_BACK.value)
            for s in route_store.step_rows(session, row.id)
            if s.note_sha256
        ]

    def _open_note(
        self, session: Session, digest: str, openers: Sequence[tuple[Any, Any]], row: DocumentRow
    ) -> str | None:
        """The sealed note ``digest`` opened with one of ``openers``; None when none opens it."""
        from edoc.errors import ContentSealed

        if not openers:
            return None
        try:
            value = json.loads(self._open_content(session, digest, openers, row))
        except ContentSealed:
            return None
        return str(value["note"])

    def _note_openers(self, doc_id: int, as_user: str) -> list[tuple[Any, Any]]:
        """For someone who may read restricted document ``doc_id`` which has sealed route notes
        (its own, or reasons its copies were sent back with), their unlocked keys; [] otherwise:
        nothing is asked of people who only see metadata, and a reader whose passphrase is not
        given sees the secrecy mark instead of the notes (status and history are views of the
        route, not of the content)."""
        from edoc.directory import decide
        from edoc.errors import PassphraseRequired
        from edoc.storage import routing as route_store

        def check(session: Session) -> bool:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            if not self._sealed(row.secrecy) or row.id is None:
                return False
            if not decide(actor, Act.READ, self._document_facts(session, row)):
                return False
            if self._note_digests(session, row):
                return True
            return any(sealed_reason_digest(d.reason) is not None for d in route_store.deliveries_of(session, row.id))

        if not self._read(check):
            return []
        try:
            return self._key_openers(as_user)
        except PassphraseRequired:
            return []

    def _seal_openers(self, agency: str) -> list[tuple[Any, Any]]:
        """The agency seal's unlocked key as an opener (the seal opens every sealed document of
        its agency: the registry's key for sending, receiving and re-wrapping)."""
        return self._identity_openers(self.signing_identity(pki_model.agency_owner(agency)))

    def _fields_of(self, session: Session, row: DocumentRow, openers: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
        """``row``'s fields, opened when they are sealed."""
        fields = doc_store.fields_of(row)
        sealed = fields.get("sealed")
        if not isinstance(sealed, str):
            return fields
        value = json.loads(self._open_content(session, sealed, openers, row))
        assert isinstance(value, dict)
        value.pop("_salt", None)
        return value

    def _key_openers(self, owner: str) -> list[tuple[Any, Any]]:
        """``owner``'s certificates with a key this office holds, unlocked (newest first). Call
        it outside a transaction: it may ask for a passphrase."""
        from cryptography import x509

        rows = self._read(lambda s: pki_store.owner_rows(s, owner, pki_store.END_ENTITY_KINDS))
        out: list[tuple[Any, Any]] = []
        for r in rows:
            cert = x509.load_der_x509_certificate(r.der)
            if r.key_storage == pki_model.KeyStorage.PKCS11.value:  # the token opens it (ECDH or RSA on it)
                from edoc.pki import pkcs11

                out.append((cert, pkcs11.token_key(self._pkcs11_ref(owner, r), cert.public_key())))
                continue
            data = r.key_data
            if data is None:
                continue
            key = self.keyring.unlock(owner, r.serial, lambda d=data: d)  # type: ignore[misc]
            out.append((cert, key))
        return out

    @staticmethod
    def _identity_openers(identity: pki_model.SigningIdentity) -> list[tuple[Any, Any]]:
        """The key of a signing identity as an opener: unlocked, or on its token."""
        if identity.pkcs11 is not None:
            from edoc.pki import pkcs11

            return [(identity.certificate, pkcs11.token_key(identity.pkcs11, identity.certificate.public_key()))]
        return [] if identity.private_key is None else [(identity.certificate, identity.private_key)]

    def _reader_openers(self, doc_id: int, as_user: str) -> list[tuple[Any, Any]]:
        """For a sealed document ``as_user`` may read, their unlocked keys; [] for others. The
        policy is asked first, so a refused reader gets exit 3 before any passphrase prompt."""

        def check(session: Session) -> bool:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.READ, self._document_facts(session, row))
            return self._sealed(row.secrecy)

        return self._key_openers(as_user) if self._read(check) else []

    def reseal_document(self, doc_id: int, *, as_user: str) -> dict[str, Any]:
        """Encrypt a confidential or secret document's stored content again, each piece with a
        fresh content key, for exactly who may open it now (``edoc doc reseal``): the seals and
        the active people with current certificates on the route of every document sharing it
        (a sent letter's copies share its PDF and fields). Run it when someone leaves the route
        (account disabled, certificate revoked): the old envelopes, which still wrap the key for
        them, are retired. The registry does it (:attr:`Act.MANAGE_RECORDS`) with the agency's
        seal, which opens every sealed document of the agency; the ``doc.reseal`` event lists
        the readers by certificate serial."""
        from edoc.routing import envelope

        def agency_of(session: Session) -> str:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.MANAGE_RECORDS, self._document_facts(session, row).agency)
            if not self._sealed(row.secrecy):
                raise InvalidState(f"document {doc_id}", row.secrecy, "be resealed (only restricted content is)")
            return actor.agency

        openers = self._seal_openers(self._read(agency_of))

        def act(session: Session) -> dict[str, Any]:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id, for_update=True)
            require(actor, Act.MANAGE_RECORDS, self._document_facts(session, row).agency)
            resealed: dict[str, list[str]] = {}
            for digest in self._sealed_digests(session, row):
                if self.db.blobs.envelope_of(session, digest, for_update=True) is None:
                    continue
                data = self._open_content(session, digest, openers, row)
                readers: list[Any] = []
                for other in doc_store.documents_using(session, digest):
                    if self._sealed(other.secrecy):
                        readers += self._row_readers(session, other)
                        if other.parent_id is None and other.id is not None:  # a sender: its recipients' seals
                            readers += self._recipient_seals(session, other)
                self.db.blobs.put_sealed(session, digest, len(data), envelope.seal(data, readers))
                resealed[digest] = sorted({pki_model.serial_hex(c.serial_number) for c in readers})
            notes: dict[str, list[str]] = {}
            for digest, to_sender in self._note_digests(session, row):
                if self.db.blobs.envelope_of(session, digest, for_update=True) is None:
                    continue
                data = self._open_content(session, digest, openers, row)
                readers = self._row_readers(session, row)
                if to_sender:  # a reason returned to the sending agency: theirs to read too
                    readers += self._sender_readers(session, row)
                self.db.blobs.put_sealed(session, digest, len(data), envelope.seal(data, readers))
                notes[digest] = sorted({pki_model.serial_hex(c.serial_number) for c in readers})
            result = {
                "content": [{"sha256": d, "readers": r} for d, r in sorted(resealed.items())],
                "notes": [{"sha256": d, "readers": r} for d, r in sorted(notes.items())],
            }
            self._record(
                session, "doc.reseal", actor=actor.username, agency=actor.agency, document_id=doc_id, payload=result
            )
            return {"id": doc_id, **result}

        return self._run(act)

    def seal_stored(self, *, as_user: str) -> dict[str, Any]:
        """Seal every confidential and secret document of the registry's agency still stored in
        the clear (``edoc doc seal-stored``): stored before migration ``0012_sealed`` (content,
        fields, subject) or ``0013_sealed_notes`` (route notes). One transaction per document,
        each with a ``doc.seal`` event; a document with nothing left in the clear is skipped, so
        running it again changes nothing.

        Per document: every blob of its content (the PDF now and the earlier versions its events
        name, attachments) becomes an envelope for the readers of every document using it (the
        clear file is removed after the commit); its fields (with the subject) are sealed and
        replaced by the stub, the ``subject`` column by the secrecy mark; each route note is
        sealed (with the signed step body, which holds the note). On SQLite the freed pages are
        overwritten and the write-ahead log truncated at the end. What was appended to the
        audit log and the registers before stays as recorded (the log is append-only, and the
        registers are checked against it): see docs/routing.md."""
        from edoc.storage import records as rec_store

        def plan(session: Session) -> tuple[str, list[int]]:
            actor, account = self._actor(session, as_user)
            require(actor, Act.MANAGE_RECORDS, actor.agency)
            levels = sorted(self._SEALED_LEVELS)
            return actor.agency, doc_store.ids_of_agency(session, account.agency_id, secrecy=levels)

        agency, ids = self._read(plan)
        self.signing_identity(pki_model.agency_owner(agency))  # the seal is needed: refuse early
        sealed: list[dict[str, Any]] = []
        for doc_id in ids:
            done = self._run(partial(self._seal_stored_one, doc_id, as_user, rec_store.content_digests))
            if done is not None:
                sealed.append(done)
        self.db.truncate_log()
        return {"agency": agency, "checked": len(ids), "sealed": sealed}

    def _seal_stored_one(
        self, doc_id: int, as_user: str, content_digests: Callable[[Session, DocumentRow], list[str]], session: Session
    ) -> dict[str, Any] | None:
        """:meth:`seal_stored` for one document, in its transaction; None when nothing was clear."""
        from edoc.routing import envelope

        actor, _ = self._actor(session, as_user)
        row = self._document_row(session, doc_id, for_update=True)
        require(actor, Act.MANAGE_RECORDS, self._document_facts(session, row).agency)
        if not self._sealed(row.secrecy) or row.destroyed_at is not None:
            return None
        self.db.overwrite_freed(session)
        blobs = self.db.blobs
        known, pdf_hash, fields_hash = self._expected_pdf(session, row)
        content: list[str] = []
        for digest in content_digests(session, row):
            if blobs.envelope_of(session, digest, for_update=True) is not None:
                continue
            users = doc_store.documents_using(session, digest)
            if any(not self._sealed(u.secrecy) for u in users):
                continue  # a normal document holds the same bytes: they stay readable for it
            try:
                data = blobs.get(session, digest)
            except EdocError:
                continue  # erased (destroyed) or missing: nothing to seal
            readers = self._row_readers(session, row)
            for other in [row, *users]:
                if other.id != row.id:
                    readers += self._row_readers(session, other)
                if other.parent_id is None:  # a sender: its recipients' seals
                    readers += self._recipient_seals(session, other)
            blobs.put_sealed(session, digest, len(data), envelope.seal(data, readers))
            content.append(digest)
        fields = doc_store.fields_of(row)
        sealed_fields: str | None = None
        if not isinstance(fields.get("sealed"), str):
            plain = {**fields, "subject": fields.get("subject", row.subject)}
            text = json.dumps(plain, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            sealed_fields = self._seal_content(session, _salted(text), self._row_readers(session, row))
            row.fields_json = _sealed_stub(sealed_fields, initials=doc_store.initials_of(row))
        masked = _masked(row.secrecy)
        subject_changed = row.subject != masked
        row.subject = masked
        notes: list[str] = []
        for step in self._clear_notes(session, row):
            to_sender = step.action == "return" and step.state_after == "sent-back"
            readers = self._row_readers(session, row) + (self._sender_readers(session, row) if to_sender else [])
            value: dict[str, Any] = {"note": step.note, "_salt": os.urandom(16).hex()}
            if step.body is not None:
                value["signed_body"] = step.body  # the actor signed the note: kept, sealed with it
            raw = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
            step.note_sha256 = self._seal_content(session, raw, readers)
            step.note, step.body = "", None
            session.add(step)
            notes.append(step.note_sha256)
        if not (content or sealed_fields or subject_changed or notes):
            return None
        session.add(row)
        session.flush()
        payload: dict[str, Any] = {"content": content, "sealed_fields": sealed_fields, "notes": notes}
        if known and fields_hash is not None:  # what a later signature checks the text against
            payload.update(pdf_sha256=pdf_hash, fields_sha256=sha256_hex(row.fields_json.encode()))
        self._record(
            session, "doc.seal", actor=actor.username, agency=actor.agency, document_id=doc_id, payload=payload
        )
        return {"id": doc_id, **payload}

    @staticmethod
    def _clear_notes(session: Session, row: DocumentRow) -> list[Any]:
        """``row``'s route steps whose note is still stored in the clear (a registration's note
        is its receive number, which the register shows anyway: not a note to seal)."""
        from edoc.routing.flow import RouteAction
        from edoc.storage import routing as route_store

        if row.id is None:
            return []
        return [
            s
            for s in route_store.step_rows(session, row.id)
            if s.note and s.note_sha256 is None and s.action != RouteAction.REGISTER.value
        ]

    def _recipient_seals(self, session: Session, row: DocumentRow) -> list[Any]:
        """Current seal certificates of the agencies ``row`` was sent to."""
        from cryptography import x509

        from edoc.storage import routing as route_store

        assert row.id is not None
        deliveries = route_store.deliveries_of(session, row.id)
        codes = [route_store.agency_row_by_id(session, d.recipient_id).code for d in deliveries]
        rows = pki_store.current_rows(session, [pki_model.agency_owner(c) for c in codes], self.now())
        return [x509.load_der_x509_certificate(r.der) for r in rows.values()]

    # -- pki (issue 4) --------------------------------------------------------------------------
    # The pilot's CA. Public API for other issues (see docs/pki.md):
    #   signing_identity(owner) -> SigningIdentity   trust_roots() -> [x509.Certificate]
    #   latest_crl() -> CrlInfo | None               export_chain(owner) -> [cert, issuing, root]
    #   pki_server() -> PkiServer (context manager: CRL, OCSP and TSA on 127.0.0.1)   tsa_url()

    def use_passphrases(self, passphrases: Passphrases) -> None:
        """Unlock keys with ``passphrases`` from now on (keys already unlocked stay unlocked)."""
        if not isinstance(passphrases, Passphrases):
            raise TypeError("passphrases must be a Passphrases source")
        self.keyring.passphrases = passphrases

    def pki_init(
        self,
        key: str | pki_model.KeyType | None = None,
        *,
        organisation: str | None = None,
        base_url: str | None = None,
        service_key: str | pki_model.KeyType | None = None,
    ) -> pki_model.CaInfo:
        """Create the pilot's root CA and issuing CA, the TSA and OCSP responder certificates,
        the first CRLs, and put the root on the trust list (``edoc pki init``).

        ``key``: ``rsa3072`` (default, the setting ``pki.ca_key``) or ``p384``. ``organisation``:
        the O of the CA names (default: the office's name). ``base_url``: where ``edoc pki serve``
        will be published; it is written into the certificates and saved as ``pki.base_url``.
        Passphrases needed: ``ca`` (CA keys, files in ``<home>/pki/``), ``tsa`` and ``ocsp``.
        """
        from cryptography.hazmat.primitives.serialization import Encoding

        from edoc.pki import cafiles, profiles
        from edoc.pki.keys import seal_private_key

        kt = pki_model.KeyType.parse(key or self.settings.pki.ca_key, allowed=pki_model.CA_KEY_TYPES)
        service_kt = pki_model.KeyType.parse(
            service_key or self.settings.pki.user_key, allowed=pki_model.END_ENTITY_KEY_TYPES, field_name="service-key"
        )
        org = validate_text("organisation", organisation or self.settings.office.name, max_length=64)
        urls = profiles.Urls.of(base_url if base_url is not None else self.settings.pki.base_url)
        existing = self._read(lambda s: pki_store.ca_row(s, pki_model.CertKind.ROOT))
        if existing is not None:
            raise PkiAlreadyInitialised(existing.serial)
        rounds = self.settings.pki.kdf_rounds
        secrets_ = {owner: self.keyring.passphrases.get(owner) for owner in ("ca", "tsa", "ocsp")}
        if urls.base != self.settings.pki.base_url.rstrip("/"):
            self._save_setting("pki", "base_url", urls.base)
        files = cafiles.CaFiles(self.home)
        with files.lock():
            now = self.now()
            files.set_aside(now)
            start = now - profiles.BACKDATE
            root_key = profiles.generate_key(kt)
            root_name = profiles.ca_name(org, profiles.common_name(org, "Root CA"))
            root = profiles.build_root(
                root_key, root_name, start, now + timedelta(days=self.settings.pki.root_validity_days)
            )
            issuing_key = profiles.generate_key(kt)
            issuing = profiles.build_issuing(
                issuing_key.public_key(),
                profiles.ca_name(org, profiles.common_name(org, "Issuing CA 1")),
                root,
                root_key,
                start,
                min(now + timedelta(days=self.settings.pki.ca_validity_days), root.not_valid_after_utc),
                urls,
            )
            # files before rows: keys sealed in memory, then written atomically (0600)
            files.write(
                cafiles.ROOT_KEY, seal_private_key(root_key, secrets_["ca"], name="root", rounds=rounds), secret=True
            )
            files.write(
                cafiles.ISSUING_KEY,
                seal_private_key(issuing_key, secrets_["ca"], name="issuing", rounds=rounds),
                secret=True,
            )
            files.write(cafiles.ROOT_CERT, root.public_bytes(Encoding.PEM), secret=False)
            files.write(cafiles.ISSUING_CERT, issuing.public_bytes(Encoding.PEM), secret=False)
            services = []
            for kind, owner, days, build in (
                (pki_model.CertKind.TSA, "tsa", self.settings.pki.tsa_validity_days, profiles.build_tsa),
                (pki_model.CertKind.OCSP, "ocsp", self.settings.pki.ocsp_validity_days, profiles.build_ocsp_responder),
            ):
                service_key_obj = profiles.generate_key(service_kt)
                label = "Time-Stamping Authority" if kind is pki_model.CertKind.TSA else "OCSP Responder"
                cert = build(
                    service_key_obj.public_key(),
                    profiles.ca_name(org, profiles.common_name(org, label)),
                    issuing,
                    issuing_key,
                    start,
                    min(now + timedelta(days=days), issuing.not_valid_after_utc),
                    urls,
                )
                sealed = seal_private_key(service_key_obj, secrets_[owner], name=owner, rounds=rounds)
                services.append((kind, owner, cert, sealed))

            def act(session: Session) -> None:
                pki_store.lock_ca(session)
                clash = pki_store.ca_row(session, pki_model.CertKind.ROOT)
                if clash is not None:
                    raise PkiAlreadyInitialised(clash.serial)
                root_row = pki_store.insert_certificate(
                    session,
                    pki_store.certificate_values(
                        root, kind=pki_model.CertKind.ROOT, owner="ca", storage=pki_model.KeyStorage.FILE, issued_at=now
                    ),
                )
                issuing_row = pki_store.insert_certificate(
                    session,
                    pki_store.certificate_values(
                        issuing,
                        kind=pki_model.CertKind.ISSUING,
                        owner="ca",
                        storage=pki_model.KeyStorage.FILE,
                        issued_at=now,
                        issuer_id=root_row.id,
                    ),
                )
                self._record(
                    session,
                    "pki.init",
                    payload={
                        "root": pki_model.cert_payload(root),
                        "issuing": pki_model.cert_payload(issuing),
                        "key": kt.value,
                        "organisation": org,
                        "base_url": urls.base,
                    },
                )
                for kind, owner, cert, sealed in services:
                    pki_store.insert_certificate(
                        session,
                        pki_store.certificate_values(
                            cert,
                            kind=kind,
                            owner=owner,
                            storage=pki_model.KeyStorage.DATABASE,
                            issued_at=now,
                            issuer_id=issuing_row.id,
                            key_data=sealed,
                        ),
                    )
                    self._record(
                        session,
                        "pki.issue",
                        payload={**pki_model.cert_payload(cert), "kind": kind.value, "owner": owner},
                    )
                assert root_row.id is not None and issuing_row.id is not None
                self._sign_crl(session, issuing_row.id, issuing, issuing_key, pki_model.CertKind.ISSUING, now)
                self._sign_crl(session, root_row.id, root, root_key, pki_model.CertKind.ROOT, now)
                anchor = pki_model.TrustAnchor(
                    fingerprint=pki_model.fingerprint(root.public_bytes(Encoding.DER)),
                    subject=root.subject.rfc4514_string(),
                    label="pilot root",
                    source="pilot",
                    added_at=now,
                    der=root.public_bytes(Encoding.DER),
                )
                if pki_store.trust_anchor(session, anchor.fingerprint) is None:
                    pki_store.insert_trust_anchor(session, anchor)
                    self._record(session, "pki.trust.add", payload=pki_model.anchor_payload(anchor))

            self._run(act)
        return self.pki_status()

    def pki_status(self) -> pki_model.CaInfo:
        """The office's CA: root, issuing CA, TSA and OCSP certificates; :class:`PkiNotInitialised` before init."""
        from edoc.pki import cafiles

        def read(session: Session) -> pki_model.CaInfo:
            root, issuing = pki_store.require_ca(session)
            now = self.now()
            services = pki_store.current_rows(session, ["tsa", "ocsp"], now)
            return pki_model.CaInfo(
                root=pki_store.to_info(root),
                issuing=pki_store.to_info(issuing),
                tsa=pki_store.to_info(services["tsa"]) if "tsa" in services else None,
                ocsp=pki_store.to_info(services["ocsp"]) if "ocsp" in services else None,
                base_url=self.settings.pki.base_url.rstrip("/"),
                keys_here=cafiles.CaFiles(self.home).exists(cafiles.ISSUING_KEY),
            )

        return self._read(read)

    def issue_certificate(
        self,
        username: str | None = None,
        *,
        agency: str | None = None,
        key: str | pki_model.KeyType | None = None,
        pkcs11_token: str | None = None,
        replace: bool = False,
        actor: str | None = None,
    ) -> pki_model.CertificateInfo:
        """Issue a signing certificate to a user, or an agency seal with ``agency=CODE``
        (``edoc pki issue``).

        The key is made here and stored encrypted under the owner's passphrase, or created on
        the PKCS#11 token labelled ``pkcs11_token`` (PIN: owner ``pkcs11:<label>``). An owner who
        already has a current certificate gets :class:`AlreadyCertified` unless ``replace``,
        which revokes the old one as ``superseded`` in the same act. ``actor``: an admin on
        whose authority this is done (checked against the permission policy); None for the CA
        operator at the command line.
        """
        if (username is None) == (agency is None):
            raise InvalidField("owner", "give either a username or an agency code")
        owner = (
            validate_username(username)
            if username is not None
            else pki_model.agency_owner(validate_agency_code(agency or ""))
        )
        return self.issue_certificates(
            [pki_model.CertificateRequest(owner, key, pkcs11_token)], replace=replace, actor=actor
        )[0]

    def issue_certificates(
        self,
        requests: Iterable[pki_model.CertificateRequest],
        *,
        replace: bool = False,
        actor: str | None = None,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[pki_model.CertificateInfo]:
        """Issue many certificates in one act (the pilot's 1,775): all of them or none.

        Keys are generated and sealed in parallel worker processes (see :mod:`edoc.pki.bulk`);
        ``progress(done, total)`` follows that work. Every owner's passphrase is asked for
        before any work starts.
        """
        from edoc.pki import bulk, profiles

        reqs = [self._pki_request(r) for r in requests]
        owners = [r.owner for r in reqs]
        if len(set(owners)) != len(owners):
            raise InvalidField("owner", f"{next(o for o in owners if owners.count(o) > 1)} is named twice")
        if not reqs:
            return []
        now = self.now()
        usernames = [o for o in owners if not o.startswith(pki_model.AGENCY_PREFIX)]
        codes = [o[len(pki_model.AGENCY_PREFIX) :] for o in owners if o.startswith(pki_model.AGENCY_PREFIX)]

        def gather(session: Session) -> tuple[dict[str, pki_store.SubjectFacts], dict[str, Any]]:
            pki_store.require_ca(session)
            facts = pki_store.subject_facts(session, usernames, codes)
            if actor is not None:
                acting, _ = self._actor(session, actor)
                for agency_code in sorted({f.agency_code for f in facts.values()}):
                    require(acting, Act.ISSUE_CERTIFICATE, agency_code)
            current = pki_store.current_rows(session, owners, now)
            return facts, {o: (r.serial, r.not_after) for o, r in current.items()}

        facts, current = self._read(gather)
        for r in reqs:
            fact = facts.get(r.owner)
            if fact is None:
                if r.owner.startswith(pki_model.AGENCY_PREFIX):
                    raise AgencyNotFound(r.owner[len(pki_model.AGENCY_PREFIX) :])
                raise UserNotFound(r.owner)
            if not fact.active:
                raise PermissionDenied(f"the account {r.owner!r} is disabled")
            if r.owner in current and not replace:
                serial, not_after = current[r.owner]
                raise AlreadyCertified(r.owner, serial, not_after.isoformat())
        ca_cert, ca_key, issuing_id = self._issuing_ca(now)
        urls = profiles.Urls.of(self.settings.pki.base_url)
        # every passphrase first: a missing one fails before any key is made
        jobs = [
            bulk.KeyJob(pki_model.KeyType(str(r.key)), self.keyring.passphrases.get(r.owner), r.owner)
            for r in reqs
            if r.pkcs11_token is None
        ]
        pins = {
            r.pkcs11_token: self.keyring.passphrases.get(pki_model.pin_owner(r.pkcs11_token))
            for r in reqs
            if r.pkcs11_token
        }
        sealed = iter(bulk.make_sealed_keys(jobs, self.settings.pki.kdf_rounds, workers=workers, progress=progress))
        not_after = min(now + timedelta(days=self.settings.pki.validity_days), ca_cert.not_valid_after_utc)
        start = now - profiles.BACKDATE
        values: list[dict[str, Any]] = []
        for r in reqs:
            fact = facts[r.owner]
            key_type = pki_model.KeyType(str(r.key))
            key_data: bytes | None = None
            key_id: bytes | None = None
            if r.pkcs11_token is None:
                made = next(sealed)
                public_der, key_data = made.public_der, made.key_data
            else:
                from edoc.pki import pkcs11

                key_id = os.urandom(16)
                public_der = pkcs11.generate_key_on_token(
                    self._pkcs11_module(), r.pkcs11_token, pins[r.pkcs11_token], key_type, key_id=key_id, label=r.owner
                )
            public = profiles.load_public(public_der)
            if fact.kind is pki_model.CertKind.SEAL:
                subject = profiles.seal_name(agency_name=fact.agency_name, agency_code=fact.agency_code)
            else:
                subject = profiles.user_name(
                    full_name=fact.full_name,
                    position=fact.position,
                    agency_name=fact.agency_name,
                    unit_name=fact.unit_name,
                    username=fact.username,
                )
            cert = profiles.build_signer(
                public,
                subject,
                ca_cert,
                ca_key,
                start,
                not_after,
                urls,
                email=fact.email if fact.kind is pki_model.CertKind.USER else None,
            )
            if r.pkcs11_token is not None and key_id is not None:
                from edoc.pki import pkcs11

                pkcs11.store_certificate(
                    self._pkcs11_module(),
                    r.pkcs11_token,
                    pins[r.pkcs11_token],
                    profiles.der(cert),
                    key_id=key_id,
                    label=r.owner,
                )
            values.append(
                pki_store.certificate_values(
                    cert,
                    kind=fact.kind,
                    owner=r.owner,
                    storage=pki_model.KeyStorage.PKCS11 if r.pkcs11_token else pki_model.KeyStorage.DATABASE,
                    issued_at=now,
                    issuer_id=issuing_id,
                    key_data=key_data,
                    account_id=fact.account_id,
                    agency_id=fact.agency_id,
                    pkcs11_token=r.pkcs11_token,
                    pkcs11_key_id=key_id.hex() if key_id is not None else None,
                    key_type=key_type,
                )
            )

        def act(session: Session) -> list[pki_model.CertificateInfo]:
            pki_store.lock_ca(session)
            for owner, old in pki_store.current_rows(session, owners, now).items():
                if not replace:
                    raise AlreadyCertified(owner, old.serial, old.not_after.isoformat())
                pki_store.revoke_row(session, old, now, pki_model.RevocationReason.SUPERSEDED)
                self._record(
                    session,
                    "pki.revoke",
                    agency=facts[owner].agency_code,
                    payload={"serial": old.serial, "owner": owner, "reason": "superseded"},
                )
            pki_store.insert_certificates(session, values)
            for v in values:
                self._record(
                    session,
                    "pki.issue",
                    actor=actor or SYSTEM,
                    agency=facts[v["owner"]].agency_code,
                    payload={
                        "serial": v["serial"],
                        "fingerprint": v["fingerprint"],
                        "kind": v["kind"],
                        "owner": v["owner"],
                        "key_type": v["key_type"],
                        "key_storage": v["key_storage"],
                        "not_after": v["not_after"].isoformat(),
                    },
                )
            return [pki_store.values_to_info(v) for v in values]

        return self._run(act)

    def revoke(
        self, target: str, reason: str | pki_model.RevocationReason = "unspecified", *, actor: str | None = None
    ) -> list[pki_model.CertificateInfo]:
        """Revoke a certificate by serial (hex), or every current certificate of an owner
        (username or ``agency:CODE``) (``edoc pki revoke``). From this moment OCSP answers
        ``revoked`` and :meth:`signing_identity` refuses; the CRL lists it from the next
        :meth:`publish_crl`."""
        why = pki_model.RevocationReason.parse(reason)
        if not isinstance(target, str) or not target.strip():
            raise InvalidField("target", "give a serial number or an owner")
        now = self.now()

        def act(session: Session) -> list[pki_model.CertificateInfo]:
            if pki_model.looks_like_serial(target):
                rows = [pki_store.row_by_serial(session, pki_model.serial_hex(pki_model.parse_serial(target)))]
                if rows[0].revoked_at is not None:
                    raise AlreadyRevoked(
                        rows[0].serial, rows[0].revoked_at.isoformat(), rows[0].revocation_reason or ""
                    )
            else:
                owner = self._pki_owner(target)
                every = pki_store.owner_rows(session, owner)
                rows = [r for r in every if r.revoked_at is None and r.not_after > now]
                if not rows:
                    if owner.startswith(pki_model.AGENCY_PREFIX):
                        dir_store.agency_row(session, owner[len(pki_model.AGENCY_PREFIX) :])
                    elif owner not in pki_model.SERVICE_OWNERS:
                        dir_store.account_row(session, owner)
                    revoked = [r for r in every if r.revoked_at is not None]
                    if revoked:
                        newest = revoked[0]
                        assert newest.revoked_at is not None
                        raise AlreadyRevoked(
                            newest.serial, newest.revoked_at.isoformat(), newest.revocation_reason or ""
                        )
                    raise NoCertificate(owner)
            for row in rows:
                if row.kind in (pki_model.CertKind.ROOT.value, pki_model.CertKind.ISSUING.value):
                    raise InvalidField("target", f"{row.serial} is a CA certificate; 'pki revoke' revokes end entities")
            agency_codes = dir_store.agency_codes_by_id(session)
            if actor is not None:
                acting, _ = self._actor(session, actor)
                for row in rows:
                    require(acting, Act.ISSUE_CERTIFICATE, agency_codes.get(row.agency_id or -1, acting.agency))
            out = []
            for row in rows:
                pki_store.revoke_row(session, row, now, why)
                self._record(
                    session,
                    "pki.revoke",
                    actor=actor or SYSTEM,
                    agency=agency_codes.get(row.agency_id or -1, ""),
                    payload={"serial": row.serial, "owner": row.owner, "reason": why.value},
                )
                out.append(pki_store.to_info(row))
            return out

        return self._run(act)

    def publish_crl(self) -> pki_model.CrlInfo:
        """Sign a fresh CRL of the issuing CA, and of the root when its key is here (``edoc pki crl``).

        Returns the issuing CA's CRL (the one end-entity certificates point at)."""
        now = self.now()
        ca_cert, ca_key, issuing_id = self._issuing_ca(now)
        root = self._root_ca(now)

        def act(session: Session) -> pki_model.CrlInfo:
            pki_store.lock_ca(session)
            info = self._sign_crl(session, issuing_id, ca_cert, ca_key, pki_model.CertKind.ISSUING, now)
            if root is not None:
                self._sign_crl(session, root[2], root[0], root[1], pki_model.CertKind.ROOT, now)
            return info

        return self._run(act)

    def unlock_ca(self) -> None:
        """Unlock the issuing CA's key now (passphrase ``ca``) and check it can issue; the key
        stays unlocked for this process. Raises what issuance would raise."""
        self._issuing_ca(self.now())

    def latest_crl(self, issuer: str | pki_model.CertKind = pki_model.CertKind.ISSUING) -> pki_model.CrlInfo | None:
        """The newest CRL of the issuing CA (or of the root), as stored; None if none was signed."""
        kind = pki_model.CertKind(issuer)
        if kind not in (pki_model.CertKind.ISSUING, pki_model.CertKind.ROOT):
            raise InvalidField("issuer", "CRLs are signed by the issuing CA or the root")

        def read(session: Session) -> pki_model.CrlInfo | None:
            root, issuing = pki_store.require_ca(session)
            row = issuing if kind is pki_model.CertKind.ISSUING else root
            assert row.id is not None
            return pki_store.latest_crl(session, row.id, kind)

        return self._read(read)

    def signing_identity(self, owner: str, *, at: datetime | None = None) -> pki_model.SigningIdentity:
        """The certificate, chain and unlocked key (or PKCS#11 reference) ``owner`` signs with.

        ``owner`` is a username or ``agency:CODE``. Refuses, with a specific error, an owner
        without a certificate, a revoked, expired or not-yet-valid certificate, a disabled
        account, a CA that is no longer valid, a wrong passphrase or PIN, and (outside test and
        demo homes) the published example keys. Call it before signing: a revoked user can no
        longer sign.
        """
        name = self._pki_owner(owner)
        when = at or self.now()
        row, chain = self._read(lambda session: self._identity_rows(session, name, when))
        return self._identity_of(name, row, chain)

    def _signing_identities(self, owners: Sequence[str]) -> dict[str, pki_model.SigningIdentity]:
        """:meth:`signing_identity` of several owners, their checks in one read (a batch of
        receives needs a clerk and a seal per agency). Keyed by the owners as given."""
        names = {owner: self._pki_owner(owner) for owner in dict.fromkeys(owners)}
        when = self.now()

        def gather(session: Session) -> dict[str, tuple[Any, list[Any]]]:
            return {name: self._identity_rows(session, name, when) for name in dict.fromkeys(names.values())}

        found = self._read(gather)
        return {owner: self._identity_of(name, *found[name]) for owner, name in names.items()}

    def _identity_rows(self, session: Session, name: str, when: datetime) -> tuple[Any, list[Any]]:
        """The current certificate row of ``name`` and its CA chain, refusing a disabled account,
        a revoked, expired or not-yet-valid certificate or CA (checked at every use)."""
        rows = pki_store.owner_rows(session, name, pki_store.END_ENTITY_KINDS)
        if name.startswith(pki_model.AGENCY_PREFIX):
            dir_store.agency_row(session, name[len(pki_model.AGENCY_PREFIX) :])
        else:
            account = dir_store.account_row(session, name)
            if not account.active:
                raise PermissionDenied(f"the account {name!r} is disabled")
        if not rows:
            raise NoCertificate(name)
        chosen = next(
            (r for r in rows if r.revoked_at is None and r.not_before <= when <= r.not_after),
            None,
        )
        if chosen is None:
            newest = rows[0]
            if newest.revoked_at is not None:
                raise CertificateRevoked(
                    name, newest.serial, newest.revoked_at.isoformat(), newest.revocation_reason or "unspecified"
                )
            if when > newest.not_after:
                raise CertificateExpired(name, newest.serial, newest.not_after.isoformat())
            raise CertificateNotYetValid(name, newest.serial, newest.not_before.isoformat())
        chain = pki_store.chain_rows(session, chosen)
        for ca in chain:
            if ca.revoked_at is not None:
                raise CaNotUsable(f"the CA certificate {ca.serial} was revoked")
            if not ca.not_before <= when <= ca.not_after:
                raise CaNotUsable(f"the CA certificate {ca.serial} is valid {ca.not_before} to {ca.not_after}")
        return chosen, chain

    def _identity_of(self, name: str, row: Any, chain: list[Any]) -> pki_model.SigningIdentity:
        """The identity of checked rows (:meth:`_identity_rows`). A key in the database is parsed,
        unlocked and matched to its certificate once per process and certificate (the
        certificate's status is what :meth:`_identity_rows` checks at every use)."""
        from cryptography import x509

        from edoc.pki import profiles, testkeys

        cache: dict[tuple[str, str, tuple[str, ...]], pki_model.SigningIdentity] = self.__dict__.setdefault(
            "_identities", {}
        )
        cache_key = (name, row.serial, tuple(c.serial for c in chain))
        stored = row.key_storage != pki_model.KeyStorage.PKCS11.value
        hit = cache.get(cache_key) if stored else None
        if hit is not None and self.keyring.cached(name, row.serial) is hit.private_key:
            # the same certificate and the same unlocked key (a forgotten key unlocks again); the
            # example-key check stays at every use, as for a key unlocked now
            testkeys.refuse_example_key(
                hit.certificate.public_key(), demo=self.settings.office.demo, what=f"the key of {name}"
            )
            return hit
        cert = x509.load_der_x509_certificate(row.der)
        key_type = pki_model.KeyType(row.key_type)
        chain_certs = tuple(x509.load_der_x509_certificate(c.der) for c in chain)
        if row.key_storage == pki_model.KeyStorage.PKCS11.value:
            from edoc.pki import pkcs11

            ref = self._pkcs11_ref(name, row)
            if not pkcs11.key_exists(ref):
                raise TokenNotFound(f"the key of {name} ({row.pkcs11_key_id}) is not on token {ref.token_label!r}")
            return pki_model.SigningIdentity(name, cert, chain_certs, key_type, pkcs11=ref)
        data = row.key_data
        if data is None:
            raise NoCertificate(name)
        private = self.keyring.unlock(name, row.serial, lambda: data)
        if not profiles.same_public_key(private, cert):
            raise CaNotUsable(f"the stored key of {name} does not belong to certificate {row.serial}")
        testkeys.refuse_example_key(private.public_key(), demo=self.settings.office.demo, what=f"the key of {name}")
        identity = pki_model.SigningIdentity(name, cert, chain_certs, key_type, private_key=private)
        cache[cache_key] = identity
        return identity

    def _pkcs11_ref(self, name: str, row: Any) -> pki_model.Pkcs11KeyRef:
        """Where the key of certificate ``row`` (stored on a PKCS#11 token) is; asks for the
        token's PIN through the passphrase source."""
        token = row.pkcs11_token or ""
        return pki_model.Pkcs11KeyRef(
            module=self._pkcs11_module(),
            token_label=token,
            key_id=bytes.fromhex(row.pkcs11_key_id or ""),
            key_label=name,
            pin=self.keyring.passphrases.get(pki_model.pin_owner(token)),
        )

    def certificates(
        self, owner: str | None = None, *, kind: str | pki_model.CertKind | None = None, agency: str | None = None
    ) -> list[pki_model.CertificateInfo]:
        """Certificates in the CA's register, oldest first; filter by owner, kind or agency."""
        name = self._pki_owner(owner) if owner is not None else None
        kind_value = pki_model.CertKind(kind).value if kind is not None else None

        def read(session: Session) -> list[pki_model.CertificateInfo]:
            agency_id = dir_store.agency_row(session, agency).id if agency is not None else None
            return [
                pki_store.to_info(r)
                for r in pki_store.list_rows(session, owner=name, kind=kind_value, agency_id=agency_id)
            ]

        return self._read(read)

    def certificate(self, serial: str) -> pki_model.CertificateInfo:
        """One certificate by serial (hex)."""
        wanted = pki_model.serial_hex(pki_model.parse_serial(serial))
        return self._read(lambda s: pki_store.to_info(pki_store.row_by_serial(s, wanted)))

    def certificate_status(self, serial: str | int) -> pki_model.CertStatus:
        """good, revoked or unknown, as OCSP answers for a serial of the issuing CA."""
        number = serial if isinstance(serial, int) else pki_model.parse_serial(serial)

        def read(session: Session) -> pki_model.CertStatus:
            _root, issuing = pki_store.require_ca(session)
            assert issuing.id is not None
            return pki_store.status_of(session, number, issuing.id)[0]

        return self._read(read)

    def export_root(self) -> Any:
        """The pilot root CA certificate (``x509.Certificate``; ``edoc pki export-root``)."""
        from cryptography import x509

        root, _issuing = self._read(pki_store.require_ca)
        return x509.load_der_x509_certificate(root.der)

    def export_chain(self, owner: str) -> list[Any]:
        """``[certificate, issuing CA, root]`` (``x509.Certificate``s) of an owner's current
        certificate (the newest if none is current), or of a serial (``edoc pki export-cert``)."""
        from cryptography import x509

        def read(session: Session) -> list[Any]:
            pki_store.require_ca(session)
            if pki_model.looks_like_serial(owner):
                row = pki_store.row_by_serial(session, pki_model.serial_hex(pki_model.parse_serial(owner)))
            else:
                name = self._pki_owner(owner)
                current = pki_store.current_rows(session, [name], self.now())
                rows = pki_store.owner_rows(session, name)
                if name in current:
                    row = current[name]
                elif rows:
                    row = rows[0]
                else:
                    if name.startswith(pki_model.AGENCY_PREFIX):
                        dir_store.agency_row(session, name[len(pki_model.AGENCY_PREFIX) :])
                    elif name not in pki_model.SERVICE_OWNERS:
                        dir_store.account_row(session, name)
                    raise NoCertificate(name)
            return [x509.load_der_x509_certificate(r.der) for r in [row, *pki_store.chain_rows(session, row)]]

        return self._read(read)

    def trust_anchors(self) -> list[pki_model.TrustAnchor]:
        """The office's trust list (``edoc pki trust list``)."""
        return self._read(pki_store.trust_anchors)

    def trust_roots(self) -> list[Any]:
        """The trusted roots as ``x509.Certificate``s, for verification. Never the OS store."""
        return [a.certificate for a in self.trust_anchors()]

    def add_trust_root(self, data: bytes, *, label: str | None = None) -> list[pki_model.TrustAnchor]:
        """Add the CA certificate(s) in ``data`` (PEM or DER) to the trust list
        (``edoc pki trust add FILE.pem``), e.g. the Thailand National Root CA."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID

        from edoc.pki import profiles

        if not isinstance(data, bytes):
            raise TypeError("data must be bytes")
        try:
            certs = (
                x509.load_pem_x509_certificates(data)
                if b"-----BEGIN" in data
                else [x509.load_der_x509_certificate(data)]
            )
        except ValueError:
            raise InvalidField("file", "not a PEM or DER certificate") from None
        now = self.now()
        anchors = []
        for cert in certs:
            if not profiles.is_ca(cert):
                raise InvalidField("file", f"{cert.subject.rfc4514_string()} is not a CA certificate")
            if cert.not_valid_after_utc < now:
                raise InvalidField("file", f"{cert.subject.rfc4514_string()} expired on {cert.not_valid_after_utc}")
            cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            name = label or (str(cns[0].value) if cns else cert.subject.rfc4514_string())
            der = cert.public_bytes(Encoding.DER)
            anchors.append(
                pki_model.TrustAnchor(
                    fingerprint=pki_model.fingerprint(der),
                    subject=cert.subject.rfc4514_string(),
                    label=validate_text("label", name),
                    source="added",
                    added_at=now,
                    der=der,
                )
            )

        def act(session: Session) -> list[pki_model.TrustAnchor]:
            for anchor in anchors:
                if pki_store.trust_anchor(session, anchor.fingerprint) is not None:
                    raise AlreadyExists("trust anchor", anchor.fingerprint)
                pki_store.insert_trust_anchor(session, anchor)
                self._record(session, "pki.trust.add", payload=pki_model.anchor_payload(anchor))
            return anchors

        return self._run(act)

    def remove_trust_root(self, fingerprint: str) -> pki_model.TrustAnchor:
        """Take a root off the trust list (not the pilot root: that would orphan every signature)."""
        wanted = fingerprint.strip().lower().replace(":", "")

        def act(session: Session) -> pki_model.TrustAnchor:
            matches = (
                [a for a in pki_store.trust_anchors(session) if a.fingerprint.startswith(wanted)] if wanted else []
            )
            if len(matches) != 1:
                raise NotFound(f"no single trust anchor with fingerprint {fingerprint!r}")
            anchor = matches[0]
            if anchor.source == "pilot":
                raise InvalidState("the pilot root", "the office's own root", "remove it from the trust list")
            pki_store.delete_trust_anchor(session, anchor.fingerprint)
            self._record(session, "pki.trust.remove", payload=pki_model.anchor_payload(anchor))
            return anchor

        return self._run(act)

    def tsa_url(self) -> str:
        """Where RFC 3161 time-stamps are asked for: ``signing.tsa_url`` or ``<pki.base_url>/tsa``."""
        from edoc.pki.profiles import Urls

        return self.settings.signing.tsa_url or Urls.of(self.settings.pki.base_url).tsa

    def pki_server(self, *, host: str = "127.0.0.1", port: int | None = None, refresh_crl: bool = False) -> Any:
        """The CRL/OCSP/TSA server (:class:`edoc.pki.server.PkiServer`), not yet started.

        The TSA and OCSP keys are unlocked now, once (passphrases ``tsa`` and ``ocsp``). The
        port defaults to the one in ``pki.base_url``; 0 picks a free one. With ``refresh_crl``
        the CA key is unlocked too (passphrase ``ca``) and a fresh CRL is signed whenever the
        published one is past half its life or older than the latest revocation. Use it as a
        context manager: ``with office.pki_server() as server: ...``.
        """
        import urllib.parse

        from cryptography import x509

        from edoc.pki import ocsp, profiles, server, tsa

        now = self.now()

        def read(session: Session) -> tuple[Any, Any, dict[str, Any]]:
            root, issuing = pki_store.require_ca(session)
            return root, issuing, pki_store.current_rows(session, ["tsa", "ocsp"], now)

        root_row, issuing_row, services = self._read(read)
        for owner in ("tsa", "ocsp"):
            if owner not in services:
                raise NoCertificate(owner)
        issuing = x509.load_der_x509_certificate(issuing_row.der)
        root = x509.load_der_x509_certificate(root_row.der)
        keys = {}
        for owner in ("tsa", "ocsp"):
            row = services[owner]
            keys[owner] = self.keyring.unlock(owner, row.serial, partial(self._stored_key, row.key_data, owner))
        tsa_cert = x509.load_der_x509_certificate(services["tsa"].der)
        ocsp_cert = x509.load_der_x509_certificate(services["ocsp"].der)
        assert issuing_row.id is not None and root_row.id is not None
        issuing_id, root_id = issuing_row.id, root_row.id
        signer = self._issuing_ca(now) if refresh_crl else None
        root_signer = self._root_ca(now) if refresh_crl else None

        def lookup(serial: int) -> ocsp.Status:
            status, at, reason = self._read(lambda s: pki_store.status_of(s, serial, issuing_id))
            flag = None
            if reason and reason != pki_model.RevocationReason.UNSPECIFIED.value:
                flag = pki_model.RevocationReason(reason).flag
            return ocsp.Status(status, at, flag)

        refresh_lock = threading.Lock()

        def crl(which: str) -> bytes | None:
            kind = pki_model.CertKind.ISSUING if which == "issuing" else pki_model.CertKind.ROOT
            issuer_id = issuing_id if kind is pki_model.CertKind.ISSUING else root_id
            active = signer if kind is pki_model.CertKind.ISSUING else root_signer
            latest, last_revocation = self._read(
                lambda s: (pki_store.latest_crl(s, issuer_id, kind), pki_store.latest_revocation(s, issuer_id))
            )
            if active is not None:
                moment = self.now()
                stale = latest is None or moment >= latest.this_update + (latest.next_update - latest.this_update) / 2
                if stale or (
                    last_revocation is not None and latest is not None and last_revocation >= latest.this_update
                ):
                    with refresh_lock:
                        latest = self._run(
                            partial(self._fresh_crl, issuer_id=issuer_id, signer=active, kind=kind, now=moment)
                        )
            return None if latest is None else latest.der

        service = server.Service(
            responder=ocsp.Responder(
                issuing,
                ocsp_cert,
                keys["ocsp"],
                lookup,
                validity=timedelta(minutes=self.settings.pki.ocsp_next_update_minutes),
            ),
            stamper=tsa.TimeStamper(tsa_cert, keys["tsa"], [issuing]),
            crl=crl,
            ca_certificates={"issuing": profiles.der(issuing), "root": profiles.der(root)},
            now=self.now,
        )
        if port is None:
            port = urllib.parse.urlsplit(self.settings.pki.base_url).port or 80
        return server.PkiServer(service, host, port)

    # pki helpers

    def _pki_owner(self, owner: str) -> str:
        """A username, ``agency:CODE``, or a service owner (``tsa``, ``ocsp``), normalised."""
        if not isinstance(owner, str):
            raise TypeError("owner must be a str")
        text = owner.strip()
        if text.startswith(pki_model.AGENCY_PREFIX):
            return pki_model.agency_owner(validate_agency_code(text[len(pki_model.AGENCY_PREFIX) :]))
        if text in pki_model.SERVICE_OWNERS:
            return text
        return validate_username(text)

    def _pki_request(self, request: pki_model.CertificateRequest) -> pki_model.CertificateRequest:
        if not isinstance(request, pki_model.CertificateRequest):
            raise TypeError("requests must be CertificateRequest values")
        owner = self._pki_owner(request.owner)
        if owner in pki_model.SERVICE_OWNERS:
            raise InvalidField("owner", f"{owner} certificates are made by 'pki init'")
        key = pki_model.KeyType.parse(request.key or self.settings.pki.user_key, allowed=pki_model.END_ENTITY_KEY_TYPES)
        token = request.pkcs11_token
        if token is not None:
            token = validate_text("pkcs11-token", token, max_length=32)
        return pki_model.CertificateRequest(owner, key, token)

    @staticmethod
    def _stored_key(data: bytes | None, owner: str) -> bytes:
        if data is None:
            raise NoCertificate(owner)
        return data

    def _pkcs11_module(self) -> str:
        return self.settings.pki.pkcs11_module

    def _issuing_ca(self, now: datetime) -> tuple[Any, Any, int]:
        """(certificate, unlocked key, row id) of the issuing CA, checked usable at ``now``."""
        from cryptography import x509

        from edoc.pki import cafiles, profiles, testkeys

        root_row, issuing_row = self._read(pki_store.require_ca)
        files = cafiles.CaFiles(self.home)
        if not files.exists(cafiles.ISSUING_KEY) or not files.exists(cafiles.ISSUING_CERT):
            raise CaKeysMissing(str(files.dir))
        cert = x509.load_pem_x509_certificate(files.read(cafiles.ISSUING_CERT))
        if pki_model.fingerprint(profiles.der(cert)) != issuing_row.fingerprint:
            raise CaNotUsable(f"{files.path(cafiles.ISSUING_CERT)} is not the issuing CA this database knows")
        for row, what in ((root_row, "root"), (issuing_row, "issuing CA")):
            if row.revoked_at is not None:
                raise CaNotUsable(f"the {what} certificate was revoked on {row.revoked_at.isoformat()}")
            if now > row.not_after:
                raise CaNotUsable(f"the {what} certificate expired on {row.not_after.isoformat()}")
            if now < row.not_before:
                raise CaNotUsable(f"the {what} certificate is valid only from {row.not_before.isoformat()}")
        key = self.keyring.unlock("ca", issuing_row.serial, lambda: files.read(cafiles.ISSUING_KEY))
        if not profiles.same_public_key(key, cert):
            raise CaNotUsable(f"{files.path(cafiles.ISSUING_KEY)} does not hold the issuing CA's key")
        testkeys.refuse_example_key(key.public_key(), demo=self.settings.office.demo, what="the issuing CA key")
        assert issuing_row.id is not None
        return cert, key, issuing_row.id

    def _root_ca(self, now: datetime) -> tuple[Any, Any, int] | None:
        """(certificate, unlocked key, row id) of the root when its key is in this home, else None."""
        from cryptography import x509

        from edoc.pki import cafiles, profiles, testkeys

        files = cafiles.CaFiles(self.home)
        if not files.exists(cafiles.ROOT_KEY):
            return None
        root_row, _issuing = self._read(pki_store.require_ca)
        cert = x509.load_der_x509_certificate(root_row.der)
        key = self.keyring.unlock("ca", root_row.serial, lambda: files.read(cafiles.ROOT_KEY))
        if not profiles.same_public_key(key, cert):
            raise CaNotUsable(f"{files.path(cafiles.ROOT_KEY)} does not hold the root's key")
        testkeys.refuse_example_key(key.public_key(), demo=self.settings.office.demo, what="the root CA key")
        assert root_row.id is not None
        return cert, key, root_row.id

    def _sign_crl(
        self, session: Session, issuer_id: int, cert: Any, key: Any, kind: pki_model.CertKind, now: datetime
    ) -> pki_model.CrlInfo:
        import hashlib

        from cryptography.hazmat.primitives.serialization import Encoding

        from edoc.pki import profiles

        revoked = pki_store.revoked_under(session, issuer_id)
        number = pki_store.next_crl_number(session, issuer_id)
        next_update = now + timedelta(hours=self.settings.pki.crl_next_update_hours)
        crl = profiles.build_crl(
            cert,
            key,
            [(serial, at, pki_model.RevocationReason(reason).flag) for serial, at, reason in revoked],
            number=number,
            this_update=now,
            next_update=next_update,
        )
        der = crl.public_bytes(Encoding.DER)
        digest = hashlib.sha256(der).hexdigest()
        pki_store.insert_crl(
            session,
            {
                "issuer_id": issuer_id,
                "number": number,
                "this_update": now,
                "next_update": next_update,
                "revoked": len(revoked),
                "der": der,
                "sha256": digest,
            },
        )
        self._record(
            session,
            "pki.crl",
            payload={
                "issuer": kind.value,
                "number": number,
                "this_update": now.isoformat(),
                "next_update": next_update.isoformat(),
                "revoked": len(revoked),
                "sha256": digest,
            },
        )
        return pki_model.CrlInfo(kind, number, now, next_update, len(revoked), der)

    def _fresh_crl(
        self, session: Session, *, issuer_id: int, signer: tuple[Any, Any, int], kind: pki_model.CertKind, now: datetime
    ) -> pki_model.CrlInfo:
        pki_store.lock_ca(session)
        return self._sign_crl(session, issuer_id, signer[0], signer[1], kind, now)

    def _save_setting(self, section: str, key: str, value: Any) -> None:
        """Write one setting into ``edoc.toml`` (atomically) and reload the settings."""
        path = self.home / SETTINGS_FILE
        parsed = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        parsed.setdefault(section, {})[key] = value
        _write_atomic(path, tomli_w.dumps(parsed).encode())
        self.settings = load_settings(self.home)

    # -- signing (issue 5) ----------------------------------------------------------------------
    # Acts: sign_document (edoc doc sign ID), sign_documents (a batch over both cores),
    # refresh_document_ltv (edoc doc ltv), export_document (edoc doc export).
    # For other issues: _apply_seal(session, row, appearance, owner="agency:CODE") adds a seal
    # signature (received stamp, receipt) to a stored PDF inside the caller's act;
    # _signing_key(owner) is the unlocked key, once per process; _signing_services() the TSA,
    # trust roots and revocation sources. Every act that changes a stored PDF records its new
    # hash (``pdf_sha256``, or ``pdf_after``) in its audit event: a later signature refuses one whose
    # stored PDF is not the one the last such event recorded (see _expected_pdf).

    _SIGNABLE_STATES = frozenset({"draft", "awaiting-signature"})

    def _signing_key(self, owner: str) -> tuple[Any, pki_model.SigningIdentity]:
        """The :class:`~edoc.signing.SigningKey` of ``owner`` (a username or ``agency:CODE``) and
        its identity. The identity is checked every time (revoked, expired, not yet valid,
        disabled account); the key is unlocked once per process and kept with the reserved
        signature sizes pyHanko estimated for it. Call it outside a transaction."""
        identity = self.signing_identity(owner)
        return self._signing_key_of(identity), identity

    def _signing_key_of(self, identity: pki_model.SigningIdentity) -> Any:
        """The :class:`~edoc.signing.SigningKey` of a checked identity (kept per process and
        certificate, with the signature sizes pyHanko reserved for it)."""
        from edoc.signing import Credentials, Pkcs11Key, SigningKey

        cache: dict[tuple[str, str], Any] = self.__dict__.setdefault("_signing_keys", {})
        key = cache.get((identity.owner, identity.serial))
        if key is None:
            ref = identity.pkcs11
            creds = Credentials(
                certificate=identity.certificate,
                chain=identity.chain,
                key=identity.private_key,
                pkcs11=None
                if ref is None
                else Pkcs11Key(
                    module=ref.module,
                    token_label=ref.token_label,
                    key_id=ref.key_id,
                    key_label=ref.key_label,
                    pin=ref.pin.decode("utf-8") if isinstance(ref.pin, bytes) else str(ref.pin),
                ),
                owner=identity.owner,
            )
            key = SigningKey(creds)
            cache[(identity.owner, identity.serial)] = key
        return key

    def _signing_event_signer(self, key: Any, identity: pki_model.SigningIdentity) -> EventSigner:
        """The audit-event signer of a signing act: the same key, and for a PKCS#11 key the
        same logged-in session as the PDF signature."""
        if identity.pkcs11 is None:
            return signer_from_identity(identity)
        from edoc.audit.signers import event_signer

        algorithm = identity.hash_algorithm
        return event_signer(lambda data: key.sign_bytes(data, algorithm), identity.certificate, identity.chain)

    def close_signing_keys(self) -> None:
        """Log out of PKCS#11 tokens and forget the signing keys this office opened."""
        cache: dict[tuple[str, str], Any] = self.__dict__.pop("_signing_keys", {})
        for key in cache.values():
            key.close()

    def _signing_services(self) -> Any:
        """Where time-stamps and validation material come from: the configured TSA
        (``signing.tsa_url`` or the pilot's ``edoc pki serve``), the office's trust anchors, the
        latest CRLs the CA published (CRLs and OCSP are also fetched from the certificates' URLs
        when B-LT needs them)."""
        from edoc.signing import Services

        crls = []
        for kind in (pki_model.CertKind.ISSUING, pki_model.CertKind.ROOT):
            try:
                info = self.latest_crl(kind)
            except EdocError:
                info = None
            if info is not None:
                crls.append(info.der)
        return Services(trust_roots=tuple(self.trust_roots()), tsa_url=self.tsa_url(), crls=tuple(crls))

    def _default_level(self, level: str | None) -> Any:
        from edoc.signing import Level

        return Level.parse(level if level is not None else self.settings.signing.default_level)

    def _expected_pdf(self, session: Session, row: DocumentRow) -> tuple[bool, str | None, str | None]:
        """What the last act that changed this document's PDF left: (known, pdf sha256, fields
        sha256). ``known`` is False when no such act is in the log (a draft never signed, or a
        copy delivered from elsewhere)."""
        assert row.id is not None
        found: tuple[bool, str | None, str | None] = (False, None, None)
        for event in audit_store.events_of_document(session, [row.id]):
            payload = event.payload
            if event.act == "document.import":
                found = (True, str(payload.get("sha256")), None)
                continue
            after = payload.get("pdf_sha256") or payload.get("pdf_after")
            if isinstance(after, str) and after:
                fields = payload.get("fields_sha256")
                found = (True, after, str(fields) if fields else found[2])
        return found

    def _check_unchanged(self, session: Session, row: DocumentRow) -> None:
        """Refuse (:class:`~edoc.errors.DocumentChanged`, exit 2) a document whose stored PDF or
        text is not what the last signature left."""
        from edoc.errors import DocumentChanged

        known, pdf_hash, fields_hash = self._expected_pdf(session, row)
        if not known:
            if row.origin == "drafted" and row.pdf_sha256 is not None:
                raise DocumentChanged(row.id, row.pdf_sha256, "no PDF (it was never signed)")
            return
        if row.pdf_sha256 != pdf_hash:
            raise DocumentChanged(row.id, row.pdf_sha256 or "none", pdf_hash or "none")
        if fields_hash is not None and sha256_hex(row.fields_json.encode()) != fields_hash:
            raise DocumentChanged(
                row.id, f"text {sha256_hex(row.fields_json.encode())[:16]}…", f"text {fields_hash[:16]}…"
            )

    def _signer_role(self, session: Session, row: DocumentRow, actor: Actor) -> tuple[Any, str]:
        """In what capacity ``actor`` signs ``row``, and the field: the named signer or an
        executive of the issuing agency fill ``signature``; a head who initials fills their
        ``initial-N``; the drafter signs in ``drafter``. Anyone else is refused (exit 3)."""
        from edoc.errors import NotASigner
        from edoc.signing.model import DRAFTER_FIELD, SignerRole, initial_field

        ids = doc_store.usernames(session, (row.drafter_id, row.signer_id))
        signer = ids.get(row.signer_id) if row.signer_id is not None else None
        drafter = ids.get(row.drafter_id) if row.drafter_id is not None else None
        initials = list(doc_store.initials_of(row))
        if actor.username == signer:
            return SignerRole.SIGNER, "signature"
        if actor.username in initials:
            return SignerRole.INITIAL, initial_field(initials.index(actor.username) + 1)
        if actor.role is Role.EXECUTIVE:
            return SignerRole.SIGNER, "signature"
        if actor.username == drafter:
            return SignerRole.DRAFTER, DRAFTER_FIELD
        agency = doc_store.agency_of(session, row)
        raise NotASigner(actor.username, row.id, agency.code)

    def _plan_signature(
        self, session: Session, doc_id: int, as_user: str, level: Any, openers: Sequence[tuple[Any, Any]] = ()
    ) -> _SignPlan:
        """Everything a signature needs, checked, in the act's transaction: who signs in which
        field, that the document may be signed now and has not changed, the PDF to sign (the
        first signature issues the number if missing, renders the final PDF and pre-creates its
        signature fields), and the appearance."""
        from edoc.errors import FieldAlreadySigned, FieldLocked, SignatureFieldMissing, SignatureOutOfOrder
        from edoc.signing import InitialMark, SignatureBlock, inspect_fields, prepare_fields
        from edoc.signing.fields import locked_by
        from edoc.signing.model import DRAFTER_FIELD, SIGNATURE_FIELD, SignerRole, initial_field, initial_number
        from edoc.signing.thai import initials_of

        if not isinstance(doc_id, int) or isinstance(doc_id, bool):
            raise TypeError("document id must be an int")
        actor, _ = self._actor(session, as_user)
        row = self._document_row(session, doc_id, for_update=True)
        require(actor, Act.SIGN, self._document_facts(session, row))
        if row.origin != "drafted":
            raise InvalidState(f"document {doc_id}", row.origin, "be signed (incoming documents are received)")
        if row.state not in self._SIGNABLE_STATES:
            raise InvalidState(f"document {doc_id}", row.state, "be signed")
        role, field = self._signer_role(session, row, actor)
        event = DocumentEvent.SIGN if role is SignerRole.SIGNER else DocumentEvent.INITIAL
        try:
            next_state(row.state, event, outgoing=True)
        except TransitionRefused:
            raise InvalidState(f"document {doc_id}", row.state, event.value) from None
        self._check_unchanged(session, row)
        rendered = False
        number = row.number
        if row.pdf_sha256 is None:
            if not row.number:
                number = self._issue_number(session, row, actor).text
            result = self._render_row(session, row, openers=openers)
            base = prepare_fields(result.pdf, result.signature_boxes)
            base_sha = None
            rendered = True
        else:
            base = self._open_content(session, row.pdf_sha256, openers, row)  # sealed: the signer's key opens it
            base_sha = row.pdf_sha256
        if rendered:
            infos = inspect_fields(base)
            signed_now = {f.name: f.signed for f in infos}
            blocker = locked_by(infos, field)
            if blocker is not None:
                raise FieldLocked(field, blocker)
        else:
            # the fields the first signature made, and what the log says was signed since: the
            # stored PDF is not parsed here (sign_pdf reads it, and re-checks locks and fields)
            signed_now = {initial_field(i + 1): False for i in range(len(doc_store.initials_of(row)))}
            signed_now[SIGNATURE_FIELD] = False
            assert row.id is not None
            for past in audit_store.events_of_document(session, [row.id]):
                if past.act == "doc.sign":
                    signed_now[str(past.payload.get("field"))] = True
        if signed_now.get(field):
            raise FieldAlreadySigned(field)
        if field != DRAFTER_FIELD and field not in signed_now:
            raise SignatureFieldMissing(field)
        # order: initials bottom up; the signer after every initial
        initial_fields = sorted(
            (n for n in signed_now if initial_number(n) is not None), key=lambda n: initial_number(n) or 0
        )
        k = initial_number(field)
        waiting = [n for n in initial_fields if not signed_now[n] and (k is None or (initial_number(n) or 0) < k)]
        if waiting and role is not SignerRole.DRAFTER:
            names = list(doc_store.initials_of(row))
            people = ", ".join(
                names[(initial_number(n) or 1) - 1] for n in waiting if (initial_number(n) or 1) <= len(names)
            )
            detail = f"waiting for {', '.join(waiting)}" + (f" ({people})" if people else "")
            raise SignatureOutOfOrder(doc_id, field, detail)
        user = dir_store.get_user(session, actor.username)
        agency = dir_store.agency_row(session, actor.agency)
        now = self.now()
        appearance: Any
        if role is SignerRole.SIGNER:
            appearance = SignatureBlock(user.full_name, user.position, now, thai_digits=agency.thai_digits)
            reason = "ลงนาม (signed)"
        elif role is SignerRole.INITIAL:
            appearance = InitialMark(initials_of(user.full_name), now, thai_digits=agency.thai_digits)
            reason = "ลงชื่อย่อกำกับ (initialled)"
        else:
            appearance = None
            reason = "ผู้ร่าง (drafted)"
        return _SignPlan(
            doc_id=doc_id,
            username=actor.username,
            agency=actor.agency,
            role=role,
            field=field,
            level=level,
            pdf=base,
            base_sha=base_sha,
            state=row.state,
            event=event,
            number=number,
            fields_sha256=sha256_hex(row.fields_json.encode()),
            appearance=appearance,
            reason=reason,
            location=agency.name,
            when=now,
            rendered=rendered,
        )

    def _commit_signature(self, session: Session, plan: _SignPlan, signed: Any, key: Any, identity: Any) -> Any:
        """Store a signature made from ``plan``: the PDF as a new blob (written and fsynced
        before the row points at it), the state, and the audit event signed by the signer."""
        from edoc.errors import DocumentChanged
        from edoc.signing import DocumentSigned
        from edoc.signing.model import SignerRole

        row = self._document_row(session, plan.doc_id, for_update=True)
        if row.pdf_sha256 != plan.base_sha or row.state != plan.state:
            # signed by someone else meanwhile (a batch signs outside the planning transaction)
            raise DocumentChanged(plan.doc_id, row.pdf_sha256 or "none", plan.base_sha or "none")
        if sha256_hex(row.fields_json.encode()) != plan.fields_sha256:
            raise DocumentChanged(plan.doc_id, "changed text", "the text that was signed")
        if self._sealed(row.secrecy):  # re-encrypted for the seal and the route: never stored in the clear
            digest = self._seal_content(session, signed.pdf, self._row_readers(session, row))
        else:
            digest = self.db.blobs.put(session, signed.pdf)
        row.pdf_sha256 = digest
        after = self._change_state(session, row, plan.event)
        self._record(
            session,
            "doc.sign",
            actor=plan.username,
            agency=plan.agency,
            document_id=plan.doc_id,
            payload={
                "field": plan.field,
                "role": plan.role.value,
                "level": signed.level.value,
                "number": row.number,
                "signer_serial": signed.signer_serial,
                "signing_time": signed.signing_time.isoformat(),
                "timestamp_time": signed.timestamp_time.isoformat() if signed.timestamp_time else None,
                "rendered": plan.rendered,
                "pdf_before_sha256": plan.base_sha if plan.base_sha else sha256_hex(plan.pdf),
                "pdf_sha256": digest,
                "size": len(signed.pdf),
                "fields_sha256": plan.fields_sha256,
                "state": after.value,
            },
            sign=self._signing_event_signer(key, identity),
        )
        return DocumentSigned(
            doc_id=plan.doc_id,
            field=plan.field,
            role=SignerRole(plan.role),
            level=signed.level,
            signer=plan.username,
            signer_serial=signed.signer_serial,
            signing_time=signed.signing_time,
            timestamp_time=signed.timestamp_time,
            number=row.number,
            state=after.value,
            pdf_sha256=digest,
            size=len(signed.pdf),
            rendered=plan.rendered,
        )

    def sign_document(self, doc_id: int, *, as_user: str, level: str | None = None) -> Any:
        """Sign a document (``edoc doc sign ID --as USER [--level …]``); return
        :class:`~edoc.signing.DocumentSigned`.

        Who signs where: the document's signer (or another executive of the issuing agency)
        the signature block; each head who initials their ``initial-N`` field, in route order;
        the drafter an invisible approval signature. The signer signs after every initial; the
        state goes draft → awaiting-signature on the first initial and → signed when the signer
        signs. The first signature issues the number if missing, renders the final PDF and
        pre-creates its signature fields, all in this act's transaction; later signatures are
        incremental updates of the stored PDF, refused if it (or the text it was rendered from)
        changed since the last signature. ``level`` defaults to ``signing.default_level``.
        Refusals: not a signer of this document, revoked/expired/not-yet-valid certificate
        (exit 3); changed document (exit 2); out of order or already signed (exit 5).
        """
        from edoc.signing import sign_pdf

        wanted = self._default_level(level)
        key, identity = self._signing_key(as_user)
        services = self._signing_services() if wanted.timestamped else None

        openers = self._identity_openers(identity)

        def act(session: Session) -> Any:
            plan = self._plan_signature(session, doc_id, as_user, wanted, openers)
            signed = sign_pdf(
                plan.pdf,
                key,
                field=plan.field,
                level=plan.level,
                appearance=plan.appearance,
                create=plan.appearance is None,
                lock=() if plan.appearance is None else None,
                services=services,
                reason=plan.reason,
                location=plan.location,
                when=plan.when,
                tz=self.settings.office.timezone,
            )
            return self._commit_signature(session, plan, signed, key, identity)

        return self._run(act)

    def awaiting_signature(self, *, as_user: str) -> list[int]:
        """Ids of the documents of ``as_user``'s agency waiting for *their* signature: drafts
        and documents awaiting signature where they are the signer, or a head whose turn it is to
        initial (``edoc doc sign --all-awaiting``), oldest first."""
        from edoc.storage.signing import drafted_in_states

        def read(session: Session) -> list[int]:
            actor, account = self._actor(session, as_user)
            rows = drafted_in_states(session, account.agency_id, self._SIGNABLE_STATES)
            signed: dict[int, set[str]] = {}
            for event in audit_store.events_of_document(session, [r.id for r in rows if r.id is not None]):
                if event.act == "doc.sign" and event.document_id is not None:
                    signed.setdefault(event.document_id, set()).add(str(event.payload.get("field")))
            out = []
            for row in rows:
                assert row.id is not None
                done = signed.get(row.id, set())
                initials = list(doc_store.initials_of(row))
                fields = [f"initial-{i + 1}" for i in range(len(initials))]
                if row.signer_id == account.id:
                    turn = "signature" not in done and all(f in done for f in fields)
                elif actor.username in initials:
                    k = initials.index(actor.username)
                    turn = fields[k] not in done and all(f in done for f in fields[:k])
                else:
                    turn = False
                if turn:
                    out.append(row.id)
            return out

        return self._read(read)

    def sign_documents(
        self,
        doc_ids: Sequence[int],
        *,
        as_user: str,
        level: str | None = None,
        workers: int | None = None,
        progress: Callable[[Any], None] | None = None,
    ) -> list[Any]:
        """Sign many documents with one unlock (``edoc doc sign ID1 ID2 … --as USER``); return a
        :class:`~edoc.signing.BatchItem` per document, in the order given.

        Each document is planned in its own transaction (checks; a first signature issues its
        number and renders the final PDF there), signed in worker processes (one per core by
        default; the unlocked key is inherited, never written anywhere), then stored in its own
        transaction with its audit event. A document that fails (refused, changed, a bad PDF)
        is reported in its item and the others go on. ``progress(item)`` is called as each
        document finishes. A number issued for a document whose signature then failed stays
        issued (as ``edoc doc number`` would have issued it).
        """
        from edoc.signing.batch import Job, sign_batch

        ids = list(doc_ids)
        for d in ids:
            if not isinstance(d, int) or isinstance(d, bool) or d < 1:
                raise InvalidField("id", f"{d!r} is not a document id")
        if len(set(ids)) != len(ids):
            raise InvalidField("id", "a document is listed twice")
        wanted = self._default_level(level)
        key, identity = self._signing_key(as_user)
        services = self._signing_services() if wanted.timestamped else None
        items: dict[int, Any] = {}
        plans: dict[int, _SignPlan] = {}
        report = progress or (lambda item: None)
        for d in ids:
            try:
                plan = partial(
                    self._plan_signature,
                    doc_id=d,
                    as_user=as_user,
                    level=wanted,
                    openers=self._identity_openers(identity),
                )
                plans[d] = self._run(plan)
            except EdocError as exc:
                items[d] = _batch_failure(d, exc)
                report(items[d])
        jobs = [
            Job(
                key=d,
                pdf=p.pdf,
                field=p.field,
                level=p.level,
                appearance=p.appearance,
                create=p.appearance is None,
                # as sign_document: an approval's invisible field locks only itself, so the
                # initials and the executive's signature that follow stay allowed
                lock=() if p.appearance is None else None,
                reason=p.reason,
                location=p.location,
                when=p.when,
                tz=self.settings.office.timezone,
                extra={"location": p.location},
            )
            for d, p in plans.items()
        ]
        for outcome in sign_batch(jobs, key, services=services, workers=workers):
            d = int(outcome.key)
            if outcome.signed is None:
                from edoc.signing import BatchItem

                items[d] = BatchItem(d, None, outcome.error, outcome.error_th, outcome.exit_code)
            else:
                try:
                    commit = partial(
                        self._commit_signature, plan=plans[d], signed=outcome.signed, key=key, identity=identity
                    )
                    stored = self._run(commit)
                except EdocError as exc:
                    items[d] = _batch_failure(d, exc)
                else:
                    from edoc.signing import BatchItem

                    items[d] = BatchItem(d, stored)
            report(items[d])
        return [items[d] for d in ids]

    def _apply_seal(
        self,
        session: Session,
        row: DocumentRow,
        appearance: Any,
        *,
        owner: str,
        actor: str | None = None,
        level: str | None = None,
        zone: Any = None,
        key: Any = None,
        identity: Any = None,
        presigned: tuple[str, Any] | None = None,
    ) -> Any:
        """Add an agency seal's signature to ``row``'s stored PDF inside the caller's act.

        ``appearance`` is a :class:`~edoc.signing.ReceivedStamp` (a visible received stamp in a
        new ``received-N`` field in the stamp zone: the renderer's for letters edoc rendered,
        ``zone`` or the top right of page 1 for others) or None (an invisible receipt in a new
        ``receipt-N`` field). The new PDF is stored as a blob (written and fsynced first), the
        row points at it, and a ``doc.stamp`` / ``doc.receipt`` event signed by the seal records
        both hashes (``actor`` is who acts; the caller records its own act too). ``level``
        defaults to ``signing.default_level``. Pass ``key``/``identity`` from
        :meth:`_signing_key` (called before the transaction) to avoid a lookup here. ``presigned``
        is ``(pdf sha256, signed)`` from :meth:`_seal_pdf`, made before the transaction (signing
        is the slow part; outside the transaction it does not hold the database's write lock):
        it is used when the row still has that PDF, else the PDF is signed here. Returns
        :class:`~edoc.signing.SealApplied`. Refuses a document without a PDF
        (:class:`~edoc.errors.NoSignedPdf`) or one changed since its last recorded PDF.
        """
        from edoc.errors import NoSignedPdf
        from edoc.signing import ReceivedStamp, SealApplied

        if appearance is not None and not isinstance(appearance, ReceivedStamp):
            raise TypeError("appearance must be a ReceivedStamp or None (a receipt)")
        wanted = self._default_level(level)
        if key is None or identity is None:
            key, identity = self._signing_key(owner)
        if row.pdf_sha256 is None:
            raise NoSignedPdf(row.id)
        self._check_unchanged(session, row)
        before = row.pdf_sha256
        if presigned is not None and presigned[0] == before and presigned[1].level is wanted:
            signed = presigned[1]
        else:
            pdf = self._open_content(
                session, before, self._identity_openers(identity), row
            )  # the seal opens sealed content
            signed = self._seal_pdf(pdf, row.origin, appearance, key, wanted, zone=zone)
        act = "doc.stamp" if appearance is not None else "doc.receipt"
        if self._sealed(row.secrecy):
            digest = self._seal_content(session, signed.pdf, self._row_readers(session, row))
        else:
            digest = self.db.blobs.put(session, signed.pdf)
        row.pdf_sha256 = digest
        row.updated_at = self.now()
        session.add(row)
        session.flush()
        prefix = pki_model.AGENCY_PREFIX
        agency = identity.owner[len(prefix) :] if identity.owner.startswith(prefix) else ""
        self._record(
            session,
            act,
            actor=actor or identity.owner,
            agency=agency or doc_store.agency_of(session, row).code,
            document_id=row.id,
            payload={
                "field": signed.field,
                "seal": identity.owner,
                "level": signed.level.value,
                "signer_serial": signed.signer_serial,
                "signing_time": signed.signing_time.isoformat(),
                "timestamp_time": signed.timestamp_time.isoformat() if signed.timestamp_time else None,
                "pdf_before_sha256": before,
                "pdf_sha256": digest,
                "size": len(signed.pdf),
                "fields_sha256": sha256_hex(row.fields_json.encode()) if row.origin == "drafted" else None,
            },
            sign=self._signing_event_signer(key, identity),
        )
        return SealApplied(
            pdf=signed.pdf,
            sha256=digest,
            field=signed.field,
            level=signed.level,
            owner=identity.owner,
            signer_serial=signed.signer_serial,
            signing_time=signed.signing_time,
        )

    def _seal_pdf(self, pdf: bytes, origin: str, appearance: Any, key: Any, level: Any, *, zone: Any = None) -> Any:
        """The seal's signature over ``pdf`` for :meth:`_apply_seal`: a received stamp in the
        stamp zone (the renderer's for letters edoc rendered, ``zone`` or the top right of page 1
        for others), or an invisible receipt when ``appearance`` is None. No database: call it
        before the act's transaction and hand the result to :meth:`_apply_seal`."""
        from edoc.signing import default_stamp_zone, sign_receipt, stamp_received

        services = self._signing_services() if level.timestamped else None
        if appearance is None:
            return sign_receipt(pdf, key, level=level, services=services, when=self.now())
        if zone is None:
            if origin == "drafted":
                from edoc.documents.render import stamp_zone

                zone = stamp_zone()
            else:  # every copy of a circular has the same PDF: its first page is measured once
                zones: dict[str, Any] = self.__dict__.setdefault("_stamp_zones", {})
                digest = sha256_hex(pdf)
                zone = zones.get(digest)
                if zone is None:
                    if len(zones) >= 256:
                        zones.clear()
                    zone = zones[digest] = default_stamp_zone(pdf)
        return stamp_received(
            pdf, key, appearance, zone=zone, level=level, services=services, tz=self.settings.office.timezone
        )

    def refresh_document_ltv(self, doc_id: int, *, as_user: str) -> dict[str, Any]:
        """Renew a signed document's long-term validity (``edoc doc ltv ID``): one incremental
        update with the validation material (chains, CRLs, OCSP) of its signatures and last
        archive time-stamp, then a new archive time-stamp (B-LTA). Run it before the last
        time-stamp's certificate expires. Records management (clerks, admins) of the
        document's agency, and its signer, may do it; refused on a changed document."""
        from edoc.errors import NoSignedPdf
        from edoc.signing import inspect_fields, refresh_ltv
        from edoc.signing.model import FieldKind

        services = self._signing_services()
        now = self.now()
        openers = self._reader_openers(doc_id, as_user)

        def act(session: Session) -> dict[str, Any]:
            actor, account = self._actor(session, as_user)
            row = self._document_row(session, doc_id, for_update=True)
            facts = self._document_facts(session, row)
            require(actor, Act.READ, facts)
            if row.signer_id != account.id:
                require(actor, Act.MANAGE_RECORDS, facts.agency)
            if row.pdf_sha256 is None:
                raise NoSignedPdf(doc_id)
            self._check_unchanged(session, row)
            before = row.pdf_sha256
            data = refresh_ltv(self._open_content(session, before, openers, row), services)
            if self._sealed(row.secrecy):
                digest = self._seal_content(session, data, self._row_readers(session, row))
            else:
                digest = self.db.blobs.put(session, data)
            row.pdf_sha256 = digest
            row.updated_at = now
            session.add(row)
            session.flush()
            stamps = [f.name for f in inspect_fields(data) if f.kind is FieldKind.TIMESTAMP and f.signed]
            payload = {
                "archive_timestamp": stamps[-1] if stamps else None,
                "archive_timestamps": len(stamps),
                "pdf_before_sha256": before,
                "pdf_sha256": digest,
                "size": len(data),
                "fields_sha256": sha256_hex(row.fields_json.encode()) if row.origin == "drafted" else None,
            }
            self._record(
                session, "doc.ltv", actor=actor.username, agency=facts.agency, document_id=doc_id, payload=payload
            )
            return {
                "id": doc_id,
                "sha256": digest,
                "bytes": len(data),
                "archive_timestamp": payload["archive_timestamp"],
                "archive_timestamps": len(stamps),
            }

        return self._run(act)

    def export_document(self, doc_id: int, *, as_user: str) -> bytes:
        """The document's stored PDF exactly as stored (``edoc doc export ID --out FILE``): the
        signed letter, or an incoming document with its stamps. Reading it is access-checked
        (:attr:`Act.READ`) and recorded in the audit log (``doc.export`` with its hash)."""
        from edoc.errors import NoSignedPdf

        openers = self._reader_openers(doc_id, as_user)

        def act(session: Session) -> bytes:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            facts = self._document_facts(session, row)
            require(actor, Act.READ, facts)
            if row.pdf_sha256 is None:
                raise NoSignedPdf(doc_id)
            data = self._open_content(session, row.pdf_sha256, openers, row)  # sealed: the reader's key
            self._record(
                session,
                "doc.export",
                actor=actor.username,
                agency=actor.agency,
                document_id=doc_id,
                payload={"sha256": row.pdf_sha256, "size": len(data)},
            )
            return data

        return self._run(act)

    # -- verification (issue 6) -----------------------------------------------------------------

    # -- registers, numbering, search, records (issue 7) ----------------------------------------

    _INCOMING_ORIGINS = frozenset({"imported", "delivered"})
    """Origins of documents that come from outside: they get receive numbers, not outgoing ones."""
    _UNNUMBERABLE_STATES = frozenset({"cancelled", "sent", "received", "closed", "filed"})
    """States in which a document no longer gets an outgoing number."""

    @staticmethod
    def _doc_fields(row: DocumentRow) -> dict[str, Any]:
        try:
            value = json.loads(row.fields_json or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @staticmethod
    def _text_of(value: Any) -> str:
        """A field that may be text or a list of texts, as one line."""
        if isinstance(value, str):
            return value
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value if isinstance(v, str | int))
        return ""

    def _numbering_rules(self) -> NumberingRules:
        n = self.settings.numbering
        return NumberingRules.from_settings(n.year, n.series, n.unit_letter_codes)

    def _local(self, at: datetime) -> datetime:
        """``at`` in the office's time zone (Asia/Bangkok): what dates on documents show."""
        return at.astimezone(ZoneInfo(self.settings.office.timezone))

    def _issue_number(
        self, session: Session, row: DocumentRow, actor: Actor, *, circular: bool | None = None
    ) -> IssuedNumber:
        """Issue the outgoing number of ``row`` in the act's transaction, or return the one it has.

        The signing act calls this from the first signature when the document has no number
        yet. It takes the next number of the document's series (see :mod:`edoc.registers`),
        writes the row of the register of sent documents, stamps ``row.number`` and
        ``row.document_date`` (today in Asia/Bangkok, unless set) and records ``doc.number``.
        The caller checks permissions; this refuses incoming and cancelled documents.
        """
        assert row.id is not None, "flush the document before numbering it"
        reg_store.lock_document(session, row)
        if row.number:
            existing = reg_store.entries_of(session, row.id, Book.SENT.value)
            if existing:
                e = existing[0]
                return IssuedNumber(
                    agency=dir_store.agency_codes_by_id(session)[row.agency_id],
                    series=SeriesKey.parse(e.series),
                    year=e.year,
                    seq=e.seq,
                    text=e.document_number,
                )
            raise NotNumberable(row.id, f"it already carries the number {row.number!r} from outside")
        if row.origin in self._INCOMING_ORIGINS:
            raise NotNumberable(row.id, "it is an incoming document; it gets a receive number when received")
        if row.state in self._UNNUMBERABLE_STATES:
            raise NotNumberable(row.id, f"it is {row.state}")
        agency = session.get(AgencyRow, row.agency_id)
        assert agency is not None and agency.id is not None
        fields = self._doc_fields(row)
        if circular is None:
            circular = bool(fields.get("circular", False))
        rules = self._numbering_rules()
        unit_code = None
        if row.unit_id is not None:
            unit = session.get(UnitRow, row.unit_id)
            unit_code = unit.code if unit is not None else None
        series = outgoing_series(
            row.kind, form=row.form, circular=circular, agency=agency.code, unit=unit_code, rules=rules
        )
        now = self.now()
        today = self._local(now).date()
        year = numbering_year(today, rules.year)
        seq = reg_store.next_seq(session, agency.id, series.key, year)
        letter_code = letter_code_for(series, agency.code, agency.letter_code, rules)
        number = IssuedNumber(agency.code, series, year, seq, format_number(series, seq, year, letter_code))
        row.number = number.text
        if row.document_date is None:
            row.document_date = today
        row.updated_at = now
        session.add(row)
        to_name = row.to_name or self._text_of(fields.get("to"))
        entry = reg_store.NewEntry(
            agency_id=agency.id,
            book=Book.SENT.value,
            series=series.key,
            year=year,
            seq=seq,
            number=register_number(series, seq, year),
            document_id=row.id,
            registered_at=now,
            document_number=number.text,
            document_date=row.document_date,
            from_name=row.from_name or agency.name,
            to_name=to_name,
            subject=row.subject,
        )
        reg_store.add_entries(session, [entry])
        session.flush()
        self._record(
            session,
            "doc.number",
            actor=actor.username,
            agency=agency.code,
            document_id=row.id,
            payload={"number": number.text, **self._register_payload(entry)},
        )
        return number

    def _registers_target(self, session: Session, doc_id: int, as_user: str) -> tuple[DocumentRow, Actor]:
        """The document (locked until the act ends) and the acting user."""
        if not isinstance(doc_id, int) or isinstance(doc_id, bool):
            raise TypeError("document id must be an int")
        actor, _ = self._actor(session, as_user)
        row = self._document_row(session, doc_id, for_update=True)
        return reg_store.mark_locked(session, row), actor

    def number_document(self, doc_id: int, *, as_user: str, circular: bool | None = None) -> IssuedNumber:
        """Issue the outgoing number of a document (``edoc doc number``).

        ``circular`` puts it in the circular series (``<letter code>/ว <n>``); by default the
        document's ``circular`` field decides. A document already numbered is
        :class:`~edoc.errors.AlreadyNumbered` (exit 5): a number is issued once.
        """
        if circular is not None and not isinstance(circular, bool):
            raise TypeError("circular must be a bool or None")

        def act(session: Session) -> IssuedNumber:
            row, actor = self._registers_target(session, doc_id, as_user)
            require(actor, Act.NUMBER, self._document_facts(session, row))
            if row.number:
                raise AlreadyNumbered(doc_id, row.number)
            if row.origin in self._INCOMING_ORIGINS:
                raise NotNumberable(doc_id, "it is an incoming document; it gets a receive number when received")
            self._change_state(session, row, DocumentEvent.NUMBER)
            return self._issue_number(session, row, actor, circular=circular)

        return self._run(act)

    def cancel_document(self, doc_id: int, *, as_user: str, reason: str) -> None:
        """Cancel a document before it is sent. Its number, if any, stays in the register of sent
        documents marked cancelled (ยกเลิก) with the reason: a number is never reused."""
        reason = validate_text("reason", reason)

        def act(session: Session) -> None:
            row, actor = self._registers_target(session, doc_id, as_user)
            require(actor, Act.NUMBER, self._document_facts(session, row))
            self._change_state(session, row, DocumentEvent.CANCEL)
            assert row.id is not None
            remark = f"ยกเลิก: {reason}"
            cancelled = reg_store.cancel_entries(session, row.id, remark)
            self._record(
                session,
                "doc.cancel",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={"reason": reason, "number": row.number, "register_rows": cancelled, "remark": remark},
            )

        self._run(act)

    def _take_receive_number(
        self, session: Session, row: DocumentRow, *, remark: str = "", at: datetime | None = None
    ) -> tuple[IssuedNumber, reg_store.NewEntry]:
        """Take the next receive number (เลขรับ) of ``row``'s agency and write its row in the
        register of received documents, in the act's transaction (no event: the caller records
        it with :meth:`_register_payload`), registered ``at`` (default now). A document is
        received once: :class:`AlreadyReceived`."""
        assert row.id is not None, "flush the document before registering it"
        reg_store.lock_document(session, row)
        existing = reg_store.entries_of(session, row.id, Book.RECEIVED.value)
        if existing:
            raise AlreadyReceived(row.id, existing[0].number)
        agency = session.get(AgencyRow, row.agency_id)
        assert agency is not None and agency.id is not None
        now = at or self.now()
        year = numbering_year(self._local(now).date(), self._numbering_rules().year)
        seq = reg_store.next_seq(session, agency.id, RECEIVE_SERIES.key, year)
        number = IssuedNumber(agency.code, RECEIVE_SERIES, year, seq, format_number(RECEIVE_SERIES, seq, year, ""))
        fields = self._doc_fields(row)
        entry = reg_store.NewEntry(
            agency_id=agency.id,
            book=Book.RECEIVED.value,
            series=RECEIVE_SERIES.key,
            year=year,
            seq=seq,
            number=number.text,
            document_id=row.id,
            registered_at=now,
            document_number=row.number or "",
            document_date=row.document_date,
            from_name=row.from_name,
            to_name=row.to_name or self._text_of(fields.get("to")) or agency.name,
            subject=row.subject,
            remark=remark,
        )
        reg_store.add_entries(session, [entry])
        row.updated_at = now
        session.add(row)
        session.flush()
        return number, entry

    def _register_payload(self, entry: reg_store.NewEntry) -> dict[str, Any]:
        """The register row's columns, as the audit event carries them: the registers can be
        rebuilt from the log alone."""
        return {
            "book": entry.book,
            "series": entry.series,
            "year": entry.year,
            "seq": entry.seq,
            "register_number": entry.number,
            "date": self._local(entry.registered_at).date().isoformat(),
            "registered_at": entry.registered_at.isoformat(),
            "document_number": entry.document_number,
            "document_date": entry.document_date.isoformat() if entry.document_date else None,
            "from": entry.from_name,
            "to": entry.to_name,
            "subject": entry.subject,
            "action": entry.action,
            "remark": entry.remark,
        }

    def _issue_receive_number(
        self, session: Session, row: DocumentRow, actor: Actor, *, remark: str = ""
    ) -> IssuedNumber:
        """Register ``row`` in its agency's register of received documents (เลขรับ) without a
        stamp, in the act's transaction, and record ``doc.register`` with the row's columns.
        A document is received once: a second call is :class:`AlreadyReceived`."""
        number, entry = self._take_receive_number(session, row, remark=remark)
        self._record(
            session,
            "doc.register",
            actor=actor.username,
            agency=number.agency,
            document_id=row.id,
            payload={"number": number.text, **self._register_payload(entry)},
        )
        return number

    def _check_receivable(self, session: Session, doc_id: int, as_user: str) -> str:
        """Refuse early (before unlocking keys) what the receive act would refuse; the agency."""
        actor, _ = self._actor(session, as_user)
        row = self._document_row(session, doc_id)
        require(actor, Act.RECEIVE, self._document_facts(session, row))
        existing = reg_store.entries_of(session, doc_id, Book.RECEIVED.value)
        if existing:
            raise AlreadyReceived(doc_id, existing[0].number)
        if row.origin not in self._INCOMING_ORIGINS:
            raise InvalidState(f"document {doc_id}", f"{row.origin} here", "be received (only incoming documents are)")
        if row.pdf_sha256 is None:
            raise InvalidState(f"document {doc_id}", "without its PDF", "be received")
        return actor.agency

    def receive_document(
        self, doc_id: int, *, as_user: str, remark: str = "", level: str | None = None
    ) -> Received:
        """Register an incoming document (``edoc doc receive``): receive number and stamp.

        In one transaction: the next receive number of the clerk's agency (per year, Asia/Bangkok),
        its row in the register of received documents, the received stamp (agency name, เลขรับ,
        วันที่, เวลา; top right of page 1) added to the PDF as an incremental signature by the
        agency's seal (``agency:CODE``, through the signing issue's :meth:`_apply_seal`, at
        ``level`` or ``signing.default_level``), so every earlier signature stays valid and the
        stamp is signed, routing told (:meth:`_routing_on_registered`), and the ``doc.receive``
        event (with the register row's columns and both PDF hashes) signed by the clerk's key.
        Receiving twice is :class:`~edoc.errors.AlreadyReceived` (exit 5), never a second
        number. Needs :attr:`Act.RECEIVE` (clerks) on a document of their agency.
        """
        if not isinstance(doc_id, int) or isinstance(doc_id, bool):
            raise TypeError("document id must be an int")
        return self.receive_documents([(doc_id, as_user)], remark=remark, level=level)[0]

    def receive_documents(
        self, items: Sequence[tuple[int, str]], *, remark: str = "", level: str | None = None
    ) -> list[Received]:
        """Receive several incoming documents, each by its own clerk (``(document id, username)``
        pairs; e.g. the copies of a circular in many agencies), as :meth:`receive_document`
        receives one, in one transaction: every document gets its receive number, register row,
        stamp signed by its agency's seal, ``registered`` evidence and ``doc.receive`` event
        signed by its clerk, or, when any of them is refused (bad input, not allowed, received
        already), none does. Results in the order of ``items``.

        The checks, the planned receive numbers and the PDFs are read in one read; the stamps
        are signed before the transaction (for the number each act will most likely take, at
        the time it will record; signing is the slow part and inside the transaction it would
        hold the database's write lock) and their files written; the transaction checks each
        document again, takes its number, and stamps again inside only a document whose number
        or PDF another act changed meanwhile. Sealed (secret) content is stamped inside, where
        the seal opens it.
        """
        from edoc.signing import ReceivedStamp

        if not isinstance(items, Sequence) or isinstance(items, str) or not items:
            raise InvalidField("items", "give at least one (document id, username) pair")
        pairs: list[tuple[int, str]] = []
        for i, item in enumerate(items):
            if not (isinstance(item, tuple) and len(item) == 2):
                raise InvalidField(f"items[{i}]", "give a (document id, username) pair")
            doc_id, user = item
            if not isinstance(doc_id, int) or isinstance(doc_id, bool):
                raise TypeError("document id must be an int")
            if not isinstance(user, str) or not user.strip():
                raise InvalidField(f"items[{i}]", "give the receiving clerk's username")
            pairs.append((doc_id, user))
        if len({d for d, _ in pairs}) != len(pairs):
            raise InvalidField("items", "a document appears twice (a document is received once)")
        note = one_line(remark or "")
        self._default_level(level)  # a bad level is bad input before anything else
        at = self.now()

        def check_and_plan(session: Session) -> list[tuple[str, str, str, bool, str, bytes | None, str]]:
            keep_loaded(session)  # the agencies, their parents, the clerks: read once for the batch
            year = numbering_year(self._local(at).date(), self._numbering_rules().year)
            last: dict[int, int] = {}
            pdfs: dict[str, bytes] = {}  # a circular's copies share one PDF: read it once
            plans = []
            for doc_id, user in pairs:
                agency_code = self._check_receivable(session, doc_id, user)
                row = self._document_row(session, doc_id)
                agency = session.get(AgencyRow, row.agency_id)
                assert agency is not None and agency.id is not None and row.pdf_sha256 is not None
                if agency.id not in last:
                    last[agency.id] = reg_store.last_seq(session, agency.id, RECEIVE_SERIES.key, year)
                last[agency.id] += 1
                text = format_number(RECEIVE_SERIES, last[agency.id], year, "")
                # sealed content is opened by the seal inside the act (no plaintext outside it)
                pdf = None
                if not self._sealed(row.secrecy):
                    if row.pdf_sha256 not in pdfs:
                        pdfs[row.pdf_sha256] = self.db.blobs.get(session, row.pdf_sha256)
                    pdf = pdfs[row.pdf_sha256]
                plans.append((agency_code, row.pdf_sha256, agency.name, agency.thai_digits, text, pdf, row.origin))
            return plans

        plans = self._read(check_and_plan)
        seal_owners = [pki_model.agency_owner(plan[0]) for plan in plans]
        identities = self._signing_identities([*(u for _, u in pairs), *seal_owners])
        wanted = self._default_level(level)
        signers: dict[str, EventSigner] = {}
        seals: dict[str, Any] = {}
        prepared = []
        for (doc_id, user), owner, plan in zip(pairs, seal_owners, plans, strict=True):
            agency_code, before_sha, agency_name, thai_digits, planned, pdf, origin = plan
            if user not in signers:
                signers[user] = signer_from_identity(identities[user])
            identity = identities[owner]
            key = self._signing_key_of(identity)
            if agency_code not in seals:
                seals[agency_code] = self._seal_of(agency_code, identity)
            planned_stamp = ReceivedStamp(agency=agency_name, number=planned, when=at, thai_digits=thai_digits)
            presigned = None
            if pdf is not None:
                signed = self._seal_pdf(pdf, origin, planned_stamp, key, wanted)
                self.db.blobs.write_ahead(signed.pdf)  # the file first; the act adds its row
                presigned = (before_sha, signed)
            prepared.append(
                (doc_id, user, key, identity, seals[agency_code], signers[user], planned_stamp, presigned)
            )

        def act(session: Session) -> list[Received]:
            keep_loaded(session)
            return [
                self._receive_in(
                    session,
                    doc_id,
                    user,
                    note=note,
                    at=at,
                    level=level,
                    key=key,
                    identity=identity,
                    seal=seal,
                    event_signer=event_signer,
                    planned_stamp=planned_stamp,
                    presigned=presigned,
                )
                for doc_id, user, key, identity, seal, event_signer, planned_stamp, presigned in prepared
            ]

        return self._run(act)

    def _receive_in(
        self,
        session: Session,
        doc_id: int,
        as_user: str,
        *,
        note: str,
        at: datetime,
        level: str | None,
        key: Any,
        identity: pki_model.SigningIdentity,
        seal: Any,
        event_signer: EventSigner,
        planned_stamp: Any,
        presigned: tuple[str, Any] | None,
    ) -> Received:
        """One document's receive inside the act of :meth:`receive_documents`."""
        from edoc.signing import ReceivedStamp

        row, actor = self._registers_target(session, doc_id, as_user)
        require(actor, Act.RECEIVE, self._document_facts(session, row))
        if row.origin not in self._INCOMING_ORIGINS:
            raise InvalidState(f"document {doc_id}", f"{row.origin} here", "be received")
        self._change_state(session, row, DocumentEvent.REGISTER)
        number, entry = self._take_receive_number(session, row, remark=note, at=at)
        agency = session.get(AgencyRow, row.agency_id)
        assert agency is not None and row.id is not None
        before = row.pdf_sha256
        if before is None:
            raise InvalidState(f"document {doc_id}", "without its PDF", "be received")
        stamp = ReceivedStamp(
            agency=agency.name, number=number.text, when=entry.registered_at, thai_digits=agency.thai_digits
        )
        sealed = self._apply_seal(
            session,
            row,
            stamp,
            owner=identity.owner,
            actor=actor.username,
            level=level,
            key=key,
            identity=identity,
            presigned=presigned if stamp == planned_stamp else None,
        )
        registered = self._routing_on_registered(session, row, number, actor, seal=seal)
        delivery = {"consignment": registered[0], "evidence": registered[1]} if registered else {}
        self._record(
            session,
            "doc.receive",
            actor=actor.username,
            agency=agency.code,
            document_id=row.id,
            payload={
                "number": number.text,
                **self._register_payload(entry),
                "pdf_before": before,
                "pdf_after": sealed.sha256,
                "stamp_field": sealed.field,
                "seal": sealed.signer_serial,
                "level": sealed.level.value,
                **delivery,
            },
            sign=event_signer,
        )
        return Received(
            document_id=row.id,
            number=number,
            registered_at=entry.registered_at,
            pdf_sha256=sealed.sha256,
            previous_sha256=before,
            stamp_field=sealed.field,
            seal_serial=sealed.signer_serial,
        )

    def receive_backlog(self, agency: str, items: Sequence[BacklogItem], *, as_user: str) -> list[IssuedNumber]:
        """Register many incoming documents at once (the bulk path): a backlog keyed in from a
        paper register or brought over from an earlier system, without PDFs (so no stamp).

        One transaction: the documents (origin ``imported``, state ``received``), a run of
        consecutive receive numbers taken in one statement, their register rows, and one
        ``doc.register`` event per document carrying its register columns. Needs
        :attr:`Act.RECEIVE` in ``agency``; any bad item refuses the whole batch. Registering is
        an act with legal weight: each event is signed by the clerk's key (unlocked once, before
        the transaction, as :meth:`receive_document` does), so a clerk without a valid
        certificate is refused (:class:`~edoc.errors.NoCertificate` and the like) before
        anything is stored.
        """
        if not isinstance(items, Sequence) or not items:
            raise InvalidField("items", "give at least one document")
        clean = []
        for i, item in enumerate(items):
            if not isinstance(item, BacklogItem):
                raise TypeError("items must be BacklogItem values")
            subject = one_line(item.subject)
            if not subject:
                raise EmptyField(f"items[{i}].subject")
            if len(subject) > 500 or len(item.document_number) > 96:
                raise InvalidField(f"items[{i}]", "subject or number too long")
            clean.append((item, subject))
        self.check_permission(as_user, Act.RECEIVE, agency)  # refused for that before any key is unlocked
        event_signer = self._event_signer(as_user)

        def act(session: Session) -> list[IssuedNumber]:
            actor, account = self._actor(session, as_user)
            row = dir_store.agency_row(session, agency)
            require(actor, Act.RECEIVE, row.code)
            assert row.id is not None
            now = self.now()
            year = numbering_year(self._local(now).date(), self._numbering_rules().year)
            ids = rec_store.insert_documents(
                session,
                [
                    {
                        "agency_id": row.id,
                        "unit_id": None,
                        "kind": DocumentKind.EXTERNAL.value,
                        "form": "",
                        "origin": "imported",
                        "state": INITIAL_STATE["imported"].value,
                        "subject": subject,
                        "fields_json": json.dumps(
                            {"body": list(item.body)} if item.body else {}, ensure_ascii=False, separators=(",", ":")
                        ),
                        "urgency": Urgency.NORMAL.value,
                        "secrecy": Secrecy.NORMAL.value,
                        "drafter_id": account.id,
                        "number": one_line(item.document_number) or None,
                        "document_date": item.document_date,
                        "from_name": one_line(item.from_),
                        "to_name": one_line(item.to) or row.name,
                        "holder_id": account.id,
                        "holder_unit_id": account.unit_id,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for item, subject in clean
                ],
            )
            seqs = reg_store.take_seqs(session, row.id, RECEIVE_SERIES.key, year, len(ids))
            entries = [
                reg_store.NewEntry(
                    agency_id=row.id,
                    book=Book.RECEIVED.value,
                    series=RECEIVE_SERIES.key,
                    year=year,
                    seq=seq,
                    number=str(seq),
                    document_id=doc_id,
                    registered_at=now,
                    document_number=one_line(item.document_number),
                    document_date=item.document_date,
                    from_name=one_line(item.from_),
                    to_name=one_line(item.to) or row.name,
                    subject=subject,
                    remark=one_line(item.remark),
                )
                for (item, subject), doc_id, seq in zip(clean, ids, seqs, strict=True)
            ]
            reg_store.add_entries(session, entries)
            for entry in entries:
                self._record(
                    session,
                    "doc.register",
                    actor=actor.username,
                    agency=row.code,
                    document_id=entry.document_id,
                    payload={"number": entry.number, "backlog": True, **self._register_payload(entry)},
                    sign=event_signer,
                )
            return [
                IssuedNumber(row.code, RECEIVE_SERIES, year, e.seq, format_number(RECEIVE_SERIES, e.seq, year, ""))
                for e in entries
            ]

        from edoc.storage import records as rec_store

        return self._run(act)

    # registers ------------------------------------------------------------------------------

    def _register_reader(self, source: Session | Reader, agency: str, as_user: str | None) -> reg_store.PageContext:
        """The agency whose register is read, after checking ``as_user`` may read it (auditors
        may read the registers of their agency and the ones below it). Without a user it is the
        office's operator (who holds the database itself). The agency and the reader come from
        one query."""
        from edoc.storage import search as search_store

        context = reg_store.page_context(source, agency, as_user)
        if context is None:
            raise AgencyNotFound(agency)
        if as_user is not None:
            if context.user is None:
                raise UserNotFound(as_user)
            actor = self._light_actor(context.user)
            if actor.role is Role.AUDITOR:
                path = search_store.agency_paths(source, [context.agency_id])[context.agency_id][1]
                if actor.agency in path:
                    require(actor, Act.VIEW_REGISTER, actor.agency)
                    return context
            require(actor, Act.VIEW_REGISTER, context.agency_code)
        return context

    @staticmethod
    def _light_actor(found: tuple[str, str, bool, str, str | None]) -> Actor:
        """The acting user from their account facts (username, role, active, agency code, unit
        code) read by a hot path's own query (a register page, a search): the same
        :class:`Actor` as :meth:`_actor` but without the path of their agency (which only
        auditors' decisions use, and those ask for it). A disabled account is refused."""
        name, role, active, agency_code, unit_code = found
        if not active:
            raise PermissionDenied(f"the account {name!r} is disabled")
        return Actor(username=name, role=Role(role), agency=agency_code, unit=unit_code)

    def register(
        self,
        agency: str,
        book: str | Book,
        *,
        year: int | None = None,
        as_user: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        after: tuple[int, str] | None = None,
    ) -> RegisterPage:
        """The register of sent or received documents of ``agency`` for ``year`` (Buddhist Era;
        the current numbering year by default), in register order (``edoc register``).

        ``limit``/``offset`` give one page; ``after`` (a row's ``(seq, series)``, e.g. the last
        row of the previous page) starts right after that row instead of counting ``offset``
        rows (keyset pagination: as fast on page 1,000 as on page 1). Needs :attr:`Act.VIEW_REGISTER` when ``as_user``
        is given (clerks, heads, executives, admins of the agency; auditors above it).
        """
        try:
            which = Book(book)
        except ValueError:
            raise InvalidField("book", f"{book!r} is not sent or received") from None
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise TypeError("year must be an int (Buddhist Era)")
        if year is not None and not 2400 <= year <= 3000:
            raise InvalidField("year", f"{year} is not a Buddhist Era year (e.g. 2569)")
        if limit is not None and limit < 1:
            raise InvalidField("limit", "must be at least 1")
        if offset < 0:
            raise InvalidField("offset", "must not be negative")
        if after is not None and not (
            isinstance(after, tuple) and len(after) == 2 and type(after[0]) is int and isinstance(after[1], str)
        ):
            raise InvalidField("after", "give (seq, series) of a register row")
        wanted = year if year is not None else numbering_year(self._today(), self._numbering_rules().year)

        zone = ZoneInfo(self.settings.office.timezone)

        def read(reader: Reader) -> RegisterPage:
            context = self._register_reader(reader, agency, as_user)
            rows = reg_store.register_page(
                reader, context.agency_id, which.value, wanted, zone, limit=limit, offset=offset, after=after
            )
            return RegisterPage(
                agency=context.agency_code,
                agency_name=context.agency_name,
                book=which,
                year=wanted,
                rows=tuple(rows),
                thai_digits=context.thai_digits,
            )

        return self.db.tx.read_driver(read)

    def register_report(self, page: RegisterPage) -> bytes:
        """A register as an A4 landscape Thai PDF report: the agency heading, the regulation's
        columns, page numbers (``edoc register … --pdf``). Rendered with the documents' renderer."""
        from edoc.documents.report import Report, render_report
        from edoc.documents.thai import digits, thai_date
        from edoc.registers.views import REGISTER_HEADINGS_TH

        thai = page.thai_digits

        def day(value: Any) -> str:
            return thai_date(value, thai=thai) if value else ""

        title = "ทะเบียนหนังสือส่ง" if page.book.value == "sent" else "ทะเบียนหนังสือรับ"
        rows = tuple(
            (
                digits(r.register_number, thai),
                day(r.date),
                digits(r.document_number, thai),
                day(r.document_date),
                r.from_,
                r.to,
                r.subject,
                r.action,
                ("ยกเลิก " if r.cancelled and "ยกเลิก" not in r.remark else "") + r.remark,
            )
            for r in page.rows
        )
        report = Report(
            title=title,
            subtitle=f"{page.agency_name} ประจำปี พ.ศ. {digits(str(page.year), thai)}",
            columns=REGISTER_HEADINGS_TH,
            widths=(9, 11, 12, 11, 14, 14, 23, 11, 9),
            rows=rows,
            created=self.now(),
            author=page.agency_name,
            thai_digits=thai,
        )
        return render_report(report)

    # search ---------------------------------------------------------------------------------

    SEARCH_SCAN_LIMIT = 5000
    """Candidates a search checks against the access policy at most (most relevant first)."""

    def search(self, query: str, *, as_user: str, limit: int = 20, offset: int = 0) -> list[SearchHit]:
        """Documents matching every word of ``query`` in their subject, number, sender,
        recipient or body, or whose register number is ``query`` (``edoc search``).

        Only what ``as_user`` may see: documents of their agency (auditors: and below) the
        access policy lets them read; where it lets them see only the register's columns
        (e.g. a secret document they are not on), a match in the body does not count. Most
        relevant first. Thai needs no spaces: words are matched as substrings (trigrams).
        """
        if not isinstance(query, str):
            raise TypeError("query must be a str")
        terms = [t for t in one_line(query).split(" ") if t]
        if not terms:
            raise EmptyField("text")
        if any(len(t) > 200 for t in terms):
            raise InvalidField("text", "a word is longer than 200 characters")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidField("limit", "must be between 1 and 1000")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidField("offset", "must not be negative")
        from edoc.storage import search as search_store

        def read(session: Session) -> list[SearchHit]:
            searching = search_store.searcher(session, as_user)
            if searching is None:
                raise UserNotFound(as_user)
            actor = self._light_actor(searching[0])
            agency_ids = [searching[1]]
            if actor.role is Role.AUDITOR:
                agency_ids = search_store.agency_ids(session, actor.agency, True)
            wanted = offset + limit
            seen: set[int] = set()
            visible: list[tuple[SearchCandidate, bool]] = []
            lowered = [t.casefold() for t in terms]
            agencies: dict[int, tuple[str, tuple[str, ...]]] = {}
            units: dict[int | None, str | None] = {None: None}

            def consider(found: Sequence[SearchCandidate]) -> None:
                missing = {c.agency_id for c in found} - agencies.keys()
                if missing:
                    agencies.update(search_store.agency_paths(session, missing))
                for c in found:
                    if c.document_id in seen or len(visible) >= wanted:
                        continue
                    seen.add(c.document_id)
                    if c.unit_id not in units:
                        units[c.unit_id] = doc_store.unit_code(session, c.unit_id)
                    where = agencies[c.agency_id]
                    verdict = self._search_visibility(session, actor, c, where, units[c.unit_id], lowered)
                    if verdict is not None:
                        visible.append((c, verdict))

            if len(terms) == 1:
                consider(search_store.by_register_number(session, terms[0], agency_ids))
            batch = max(wanted * 2, 50)
            scanned = 0
            while len(visible) < wanted and scanned < self.SEARCH_SCAN_LIMIT:
                found = search_store.candidates(session, terms, agency_ids, limit=batch, offset=scanned)
                consider(found)
                scanned += len(found)
                if len(found) < batch:
                    break
            chosen = visible[offset:wanted]
            entries = reg_store.latest_entries(session, [c.document_id for c, _ in chosen])
            zone = ZoneInfo(self.settings.office.timezone)
            hits = []
            for c, content in chosen:
                entry = entries.get(c.document_id)
                hits.append(
                    SearchHit(
                        document_id=c.document_id,
                        score=c.score,
                        subject=c.subject,
                        document_number=c.number or "",
                        register_number=entry[0] if entry else "",
                        book=entry[1] if entry else "",
                        registered=entry[2].astimezone(zone).date() if entry else None,
                        from_=c.from_name,
                        to=c.to_name,
                        state=c.state,
                        agency=agencies[c.agency_id][0],
                        content_visible=content,
                    )
                )
            return hits

        return self._read(read)

    def _search_visibility(
        self,
        session: Session,
        actor: Actor,
        c: SearchCandidate,
        agency: tuple[str, tuple[str, ...]],
        unit: str | None,
        terms: Sequence[str],
    ) -> bool | None:
        """True: ``actor`` may read the candidate ``c``; False: only its register columns (and
        every term is in them); None: not shown. Asks the policy with the cheap facts first (the
        candidate's own columns; parties only widen what is allowed), then with the full facts."""
        from edoc.directory.permissions import decide

        code, path = agency
        cheap = DocumentFacts(agency=code, agency_path=path, unit=unit, secrecy=c.secrecy, state=c.state)
        if decide(actor, Act.READ, cheap):
            return True
        row = self._document_row(session, c.document_id)
        facts = self._document_facts(session, row)
        if decide(actor, Act.READ, facts):
            return True
        if decide(actor, Act.READ_METADATA, facts):
            columns = " ".join([row.subject, row.number or "", row.from_name, row.to_name]).casefold()
            numbers = " ".join(e.number for e in reg_store.entries_of(session, c.document_id))
            if all(t in columns or t == numbers or t in numbers.split() for t in terms):
                return False
        return None

    # records: filing, retention, holds, destruction -----------------------------------------

    def _retention_table(self, agency: str) -> tuple[dict[str, RetentionClass], str]:
        r = self.settings.retention
        table = class_table(r.classes, r.by_agency.get(agency))
        return table, r.default_by_agency.get(agency, r.default_class)

    def _file_in(
        self, session: Session, row: DocumentRow, actor: Actor, retention_class: str | None = None
    ) -> FiledRecord:
        """File ``row`` (เก็บ) under a retention class in the caller's transaction: the state
        moves to ``filed`` (refused from states that cannot be filed), the class and time are
        stored, the registers' การปฏิบัติ says เก็บ, and ``doc.file`` is recorded. Routing's
        ``file`` action calls this after its own checks."""
        assert row.id is not None
        code = doc_store.agency_of(session, row).code
        table, default = self._retention_table(code)
        chosen = resolve_class(table, retention_class, default)
        self._change_state(session, row, DocumentEvent.FILE)
        now = self.now()
        row.retention_class = chosen.name
        row.filed_at = now
        session.add(row)
        session.flush()
        for book in (Book.SENT.value, Book.RECEIVED.value):
            reg_store.set_action(session, row.id, book, _FILED_ACTION)
        filed_year = self._local(now).year
        due = due_year(filed_year, chosen)
        self._record(
            session,
            "doc.file",
            actor=actor.username,
            agency=code,
            document_id=row.id,
            payload={
                "retention_class": chosen.name,
                "years": chosen.years,
                "due_year": due + BE_OFFSET if due is not None else None,
                "register_action": _FILED_ACTION,
            },
        )
        return self._filed_record(row, code)

    def _filed_record(self, row: DocumentRow, code: str) -> FiledRecord:
        assert row.id is not None
        years = None
        due = None
        if row.retention_class is not None:
            table, _ = self._retention_table(code)
            cls = table.get(row.retention_class)
            years = cls.years if cls is not None else None
            if cls is not None and row.filed_at is not None:
                y = due_year(self._local(row.filed_at).year, cls)
                due = y + BE_OFFSET if y is not None else None
        return FiledRecord(
            document_id=row.id,
            subject=row.subject,
            document_number=row.number or "",
            document_date=row.document_date,
            retention_class=row.retention_class,
            years=years,
            filed_at=row.filed_at,
            due_year=due,
            legal_hold=row.legal_hold,
            destroyed_at=row.destroyed_at,
        )

    def file_document(self, doc_id: int, *, as_user: str, retention_class: str | None = None) -> FiledRecord:
        """File a finished document (เก็บ) under a retention class: ``10y`` by default (or the
        agency's default), ``permanent``, ``5y``, ``1y`` or a class of the agency's table in
        ``edoc.toml``. Needs :attr:`Act.ROUTE` on the document (clerks; the people it reached)."""
        if retention_class is not None and not isinstance(retention_class, str):
            raise TypeError("retention_class must be a str or None")

        def act(session: Session) -> FiledRecord:
            row, actor = self._registers_target(session, doc_id, as_user)
            require(actor, Act.ROUTE, self._document_facts(session, row))
            return self._file_in(session, row, actor, retention_class)

        return self._run(act)

    def _records_agency(self, session: Session, agency: str | None, as_user: str, act: Act) -> tuple[Actor, AgencyRow]:
        actor, _ = self._actor(session, as_user)
        row = dir_store.agency_row(session, agency or actor.agency)
        if (
            act is Act.VIEW_REGISTER
            and actor.role is Role.AUDITOR
            and actor.agency in dir_store.agency_path(session, row)
        ):
            require(actor, act, actor.agency)
        else:
            require(actor, act, row.code)
        return actor, row

    @staticmethod
    def _ce_year(year: int | None, default: int) -> int:
        if year is None:
            return default
        if isinstance(year, bool) or not isinstance(year, int):
            raise TypeError("year must be an int (Buddhist Era)")
        if not 2400 <= year <= 3000:
            raise InvalidField("year", f"{year} is not a Buddhist Era year (e.g. 2569)")
        return year - BE_OFFSET

    def _due_rows(
        self, session: Session, agency: AgencyRow, year_ce: int
    ) -> tuple[list[DocumentRow], list[DocumentRow]]:
        """Filed documents of ``agency`` due for destruction by the end of ``year_ce``: (due and
        destroyable, due but held)."""
        from edoc.storage import records as rec_store

        table, _ = self._retention_table(agency.code)
        tz = ZoneInfo(self.settings.office.timezone)
        bounds = {}
        for cls in table.values():
            if cls.permanent:
                continue
            # due when filed_year + years <= year_ce: filed before 1 January of year_ce - years + 1
            bounds[cls.name] = datetime(year_ce - cls.years + 1, 1, 1, tzinfo=tz).astimezone(UTC)
        assert agency.id is not None
        rows = rec_store.filed_before(session, agency.id, bounds)
        return [r for r in rows if not r.legal_hold], [r for r in rows if r.legal_hold]

    def records_due(
        self, *, as_user: str, agency: str | None = None, year: int | None = None
    ) -> tuple[list[FiledRecord], list[FiledRecord]]:
        """The list for destruction (บัญชีหนังสือขอทำลาย): filed documents of the agency due by
        the end of ``year`` (Buddhist Era; default the current year), not permanent, not
        destroyed, and apart the ones due but under a legal hold (``edoc records due``)."""
        year_ce = self._ce_year(year, self._today().year)

        def read(session: Session) -> tuple[list[FiledRecord], list[FiledRecord]]:
            _, row = self._records_agency(session, agency, as_user, Act.VIEW_REGISTER)
            due, held = self._due_rows(session, row, year_ce)
            return [self._filed_record(r, row.code) for r in due], [self._filed_record(r, row.code) for r in held]

        return self._read(read)

    def records_transfer(
        self, *, as_user: str, agency: str | None = None, year: int | None = None
    ) -> list[FiledRecord]:
        """Documents over 20 years old in ``year`` (Buddhist Era; default now), not destroyed:
        the list for the National Archives (บัญชีส่งมอบหนังสือครบ 20 ปี, ``edoc records transfer``).
        A document's age counts from its own date (ลงวันที่), else from when it was created."""
        from edoc.storage import records as rec_store

        year_ce = self._ce_year(year, self._today().year)

        def read(session: Session) -> list[FiledRecord]:
            _, row = self._records_agency(session, agency, as_user, Act.VIEW_REGISTER)
            assert row.id is not None
            last = year_ce - TRANSFER_AGE_YEARS
            tz = ZoneInfo(self.settings.office.timezone)
            rows = rec_store.older_than(
                session, row.id, date(last, 12, 31), datetime(last + 1, 1, 1, tzinfo=tz).astimezone(UTC)
            )
            return [self._filed_record(r, row.code) for r in rows]

        return self._read(read)

    def hold_document(self, doc_id: int, *, as_user: str, reason: str) -> FiledRecord:
        """Put a legal hold on a document (``edoc records hold``): it is never destroyed while
        held. Needs :attr:`Act.MANAGE_RECORDS`; holding a held document is a conflict."""
        reason = validate_text("reason", reason)

        def act(session: Session) -> FiledRecord:
            row, actor = self._registers_target(session, doc_id, as_user)
            code = self._document_facts(session, row).agency
            require(actor, Act.MANAGE_RECORDS, code)
            if row.destroyed_at is not None:
                raise RecordRefused(doc_id, "its content was destroyed already")
            if row.legal_hold:
                raise RecordRefused(doc_id, f"it is already held ({row.legal_hold})")
            row.legal_hold = reason
            row.updated_at = self.now()
            session.add(row)
            session.flush()
            self._record(
                session,
                "records.hold",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={"reason": reason},
            )
            return self._filed_record(row, code)

        return self._run(act)

    def release_document(self, doc_id: int, *, as_user: str, reason: str) -> FiledRecord:
        """Lift a legal hold (``edoc records release``); the reason goes to the audit log."""
        reason = validate_text("reason", reason)

        def act(session: Session) -> FiledRecord:
            row, actor = self._registers_target(session, doc_id, as_user)
            code = self._document_facts(session, row).agency
            require(actor, Act.MANAGE_RECORDS, code)
            if not row.legal_hold:
                raise RecordRefused(doc_id, "it is not held")
            held = row.legal_hold
            row.legal_hold = None
            row.updated_at = self.now()
            session.add(row)
            session.flush()
            self._record(
                session,
                "records.release",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={"reason": reason, "held_for": held},
            )
            return self._filed_record(row, code)

        return self._run(act)

    def _destruction_list(self, session: Session, list_id: int) -> DestructionList:
        from edoc.storage import records as rec_store

        row = rec_store.list_row(session, list_id)
        approvals = rec_store.approvals(session, list_id)
        missing = committee_problems((a.username, CommitteeRole(a.role)) for a in approvals)
        if not row.archives_reference:
            missing.append("the National Archives' no-objection is not recorded")
        if row.state == ListState.DESTROYED.value:
            missing = ["it was carried out already"]
        assert row.id is not None
        return DestructionList(
            id=row.id,
            agency=dir_store.agency_codes_by_id(session)[row.agency_id],
            year=row.year + BE_OFFSET,
            state=row.state,
            documents=tuple(json.loads(row.documents_json)),
            approvals=tuple((a.username, a.role) for a in approvals),
            archives_reference=row.archives_reference,
            missing=tuple(missing),
        )

    def destruction_list(self, list_id: int, *, as_user: str) -> DestructionList:
        """A destruction list and what it still lacks."""
        from edoc.storage import records as rec_store

        def read(session: Session) -> DestructionList:
            row = rec_store.list_row(session, list_id)
            code = dir_store.agency_codes_by_id(session)[row.agency_id]
            self._records_agency(session, code, as_user, Act.VIEW_REGISTER)
            return self._destruction_list(session, list_id)

        return self._read(read)

    def propose_destruction(
        self, *, as_user: str, agency: str | None = None, year: int | None = None
    ) -> DestructionList:
        """Make the list of documents to destroy (บัญชีหนังสือขอทำลาย) from what is due by the
        end of ``year`` (Buddhist Era; default the current year), held and permanent documents
        left out. Needs :attr:`Act.MANAGE_RECORDS`. Nothing due is bad input."""
        from edoc.storage import records as rec_store

        year_ce = self._ce_year(year, self._today().year)

        if year_ce > self._today().year:
            raise InvalidField("year", f"{year_ce + BE_OFFSET} has not come yet: list what fell due by a year gone by")

        def act(session: Session) -> DestructionList:
            actor, row = self._records_agency(session, agency, as_user, Act.MANAGE_RECORDS)
            due, _ = self._due_rows(session, row, year_ce)
            if not due:
                raise InvalidField("year", f"no document of {row.code} falls due by {year_ce + BE_OFFSET}")
            ids = sorted(r.id for r in due if r.id is not None)
            assert row.id is not None
            new = rec_store.add_list(session, row.id, year_ce, ids, actor.username, self.now())
            self._record(
                session,
                "records.propose",
                actor=actor.username,
                agency=row.code,
                payload={"list": new.id, "year": year_ce + BE_OFFSET, "documents": ids},
            )
            assert new.id is not None
            return self._destruction_list(session, new.id)

        return self._run(act)

    def approve_destruction(self, list_id: int, *, as_user: str, role: str | CommitteeRole) -> DestructionList:
        """A committee member approves a destruction list with their key (the audit event is
        signed by it): one ``chair`` and at least two ``member``\\ s, each a different person of
        the agency with :attr:`Act.APPROVE_DESTRUCTION` (heads, executives)."""
        from edoc.storage import records as rec_store

        try:
            as_role = CommitteeRole(role)
        except ValueError:
            raise InvalidField("role", f"{role!r} is not chair or member") from None

        def check(session: Session) -> None:
            actor, _ = self._actor(session, as_user)
            listed = rec_store.list_row(session, list_id)
            require(actor, Act.APPROVE_DESTRUCTION, dir_store.agency_codes_by_id(session)[listed.agency_id])

        self._read(check)  # refuse before asking for the key
        signer = self._event_signer(as_user)

        def act(session: Session) -> DestructionList:
            actor, _ = self._actor(session, as_user)
            listed = rec_store.list_row(session, list_id, for_update=True)
            code = dir_store.agency_codes_by_id(session)[listed.agency_id]
            require(actor, Act.APPROVE_DESTRUCTION, code)
            if listed.state != ListState.PROPOSED.value:
                raise DestructionRefused(list_id, "it was carried out already")
            given = rec_store.approvals(session, list_id)
            if any(a.username == actor.username for a in given):
                raise AlreadyExists("approval", f"{actor.username} on list {list_id}")
            if as_role is CommitteeRole.CHAIR and any(a.role == CommitteeRole.CHAIR.value for a in given):
                raise AlreadyExists("chair's approval", f"list {list_id}")
            rec_store.add_approval(session, list_id, actor.username, as_role.value, self.now())
            self._record(
                session,
                "records.approve",
                actor=actor.username,
                agency=code,
                payload={
                    "list": list_id,
                    "role": as_role.value,
                    "documents": json.loads(listed.documents_json),
                    "list_sha256": sha256_hex(listed.documents_json.encode()),
                },
                sign=signer,
            )
            return self._destruction_list(session, list_id)

        return self._run(act)

    def record_archives_reply(self, list_id: int, *, as_user: str, reference: str) -> DestructionList:
        """Record the National Archives' no-objection to a destruction list (its letter's number
        and date in ``reference``). Needs :attr:`Act.MANAGE_RECORDS`."""
        from edoc.storage import records as rec_store

        reference = validate_text("reference", reference)

        def act(session: Session) -> DestructionList:
            listed = rec_store.list_row(session, list_id, for_update=True)
            code = dir_store.agency_codes_by_id(session)[listed.agency_id]
            actor, _ = self._records_agency(session, code, as_user, Act.MANAGE_RECORDS)
            if listed.state != ListState.PROPOSED.value:
                raise DestructionRefused(list_id, "it was carried out already")
            if listed.archives_reference:
                raise AlreadyExists("archives' reply", f"list {list_id}: {listed.archives_reference}")
            listed.archives_reference = reference
            listed.archives_by = actor.username
            listed.archives_at = self.now()
            session.add(listed)
            session.flush()
            self._record(
                session,
                "records.archives",
                actor=actor.username,
                agency=code,
                payload={"list": list_id, "reference": reference, "no_objection": True},
            )
            return self._destruction_list(session, list_id)

        return self._run(act)

    def destroy_records(self, list_id: int, *, as_user: str) -> DestructionList:
        """Carry out an approved destruction list (``edoc records destroy``).

        Refused (:class:`~edoc.errors.DestructionRefused`, exit 5) unless a chair and at least
        two members approved it and the archives' no-objection is recorded, and if any listed
        document is now under a legal hold, has a permanent class, or is no longer due. Then,
        in one transaction, each document's content (its PDFs and attachments, and the body in
        its fields) is erased; its register rows, hashes and audit trail stay, and it is marked
        destroyed. The event is signed by the actor's key."""
        from edoc.storage import records as rec_store

        def check(session: Session) -> None:
            listed = rec_store.list_row(session, list_id)
            code = dir_store.agency_codes_by_id(session)[listed.agency_id]
            self._records_agency(session, code, as_user, Act.MANAGE_RECORDS)
            missing = self._destruction_list(session, list_id).missing
            if missing:
                raise DestructionRefused(list_id, "; ".join(missing))

        self._read(check)  # refuse before asking for the key
        signer = self._event_signer(as_user)

        def act(session: Session) -> DestructionList:
            listed = rec_store.list_row(session, list_id, for_update=True)
            code = dir_store.agency_codes_by_id(session)[listed.agency_id]
            actor, agency = self._records_agency(session, code, as_user, Act.MANAGE_RECORDS)
            current = self._destruction_list(session, list_id)
            if current.missing:
                raise DestructionRefused(list_id, "; ".join(current.missing))
            table, _ = self._retention_table(code)
            due_ids = {r.id for r in self._due_rows(session, agency, listed.year)[0]}
            rows = []
            for doc_id in current.documents:
                row = reg_store.lock_document(session, self._document_row(session, doc_id))
                cls = table.get(row.retention_class or "")
                if row.legal_hold:
                    raise DestructionRefused(list_id, f"document {doc_id} is under a legal hold ({row.legal_hold})")
                if cls is None or cls.permanent:
                    raise DestructionRefused(list_id, f"document {doc_id} is kept permanently")
                if row.destroyed_at is not None:
                    raise DestructionRefused(list_id, f"document {doc_id} was destroyed already")
                if doc_id not in due_ids:
                    raise DestructionRefused(list_id, f"document {doc_id} is not due")
                rows.append(row)
            now = self.now()
            erased: dict[int, list[str]] = {}
            for row in rows:
                assert row.id is not None
                digests = rec_store.content_digests(session, row)
                erased[row.id] = digests
                row.destroyed_at = now
                row.fields_json = "{}"
                row.updated_at = now
                session.add(row)
                for book in (Book.SENT.value, Book.RECEIVED.value):
                    reg_store.set_action(session, row.id, book, _DESTROYED_ACTION)
            session.flush()
            listed.state = ListState.DESTROYED.value
            listed.destroyed_by = actor.username
            listed.destroyed_at = now
            session.add(listed)
            session.flush()
            self._record(
                session,
                "records.destroy",
                actor=actor.username,
                agency=code,
                payload={
                    "list": list_id,
                    "documents": [{"id": i, "erased": d} for i, d in erased.items()],
                    "approvals": [{"username": u, "role": r} for u, r in current.approvals],
                    "archives_reference": current.archives_reference,
                    "register_action": _DESTROYED_ACTION,
                },
                sign=signer,
            )
            # last: erase the bytes no other live document still uses
            for digest in rec_store.unshared(session, [d for ds in erased.values() for d in ds]):
                self.db.blobs.erase(session, digest)
            return self._destruction_list(session, list_id)

        return self._run(act)

    # -- routing (issue 8) ----------------------------------------------------------------------
    # Sending between agencies (consignments and signed evidence, DHX/ETSI style), the route inside
    # an agency (propose, endorse, assign, acknowledge, return, close, file), inboxes and status.

    def _routing_reached(self, session: Session, row: DocumentRow) -> tuple[set[str], set[str]]:
        """People and units the document reached on its route here (for :meth:`_document_facts`)."""
        from edoc.storage import routing as route_store

        if row.id is None:
            return set(), set()
        return route_store.parties(session, row.id), route_store.units(session, row.id)

    def _seal(self, agency: str) -> Any:
        """The agency's seal (:class:`edoc.routing.seals.Seal`) from its current certificate; raises
        what :meth:`signing_identity` raises (no seal certificate, revoked, wrong passphrase)."""

        identity = self.signing_identity(pki_model.agency_owner(agency))
        return self._seal_of(agency, identity)

    @staticmethod
    def _seal_of(owner: str, identity: pki_model.SigningIdentity) -> Any:
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        from edoc.routing.seals import Seal

        key = identity.private_key
        if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            return Seal.from_key(owner, key, identity.certificate, identity.chain)
        if identity.hash_algorithm != "sha256":  # a P-384 key on a token: CMS here is SHA-256
            raise CaNotUsable(f"the key of {identity.owner} on its token signs with {identity.hash_algorithm}")
        return Seal(owner, identity.certificate, identity.sign, identity.chain)

    def _sign_evidence(self, seal: Any, evidence: Any) -> bytes:
        from edoc.routing.seals import sign_detached

        return sign_detached(evidence.encode(), seal, at=evidence.at)

    @staticmethod
    def _fault(point: str) -> None:
        """Fault injection for the crash tests: ``EDOC_FAULT=<point>`` ends the process at once
        (no cleanup, no rollback of what is already committed), as a power cut would."""
        if os.environ.get("EDOC_FAULT") == point:
            os._exit(86)

    def _participant(self, session: Session, account: AccountRow) -> Any:
        from edoc.routing.flow import Participant

        unit = doc_store.unit_code(session, account.unit_id)
        return Participant(account.username, account.role, unit)

    def _route_of(self, session: Session, row: DocumentRow) -> Any:
        """The stored route of ``row``, or the route it starts with (its holder, or the registry)."""
        from edoc.routing import flow
        from edoc.storage import routing as route_store

        assert row.id is not None
        stored = route_store.route_row(session, row.id)
        holder = doc_store.usernames(session, [row.holder_id]).get(row.holder_id) if row.holder_id else None
        unit = doc_store.unit_code(session, row.holder_unit_id)
        if stored is not None:
            return route_store.to_route(stored, row, holder, unit)
        if row.state in ("closed",):
            return flow.Route(row.id, flow.FlowState.CLOSED, holder=holder, unit=unit, due=row.due)
        return flow.Route(row.id, flow.FlowState.OPEN, holder=holder, unit=unit, due=row.due)

    def _default_due(self, urgency: str, on: date) -> date | None:
        from edoc.routing.due import default_due, parse_holidays

        r = self.settings.routing
        return default_due(on, urgency, r.due_days, parse_holidays(r.holidays))

    def add_agency_group(self, name: str, *, title: str = "", members: Sequence[str]) -> Any:
        """A named group of agencies that circulars go to (``edoc agency group add``)."""
        from edoc.storage import routing as route_store

        clean = one_line(name or "")
        if not clean or not clean.replace("-", "").replace("_", "").replace(".", "").isalnum() or not clean.isascii():
            raise InvalidField("name", f"{name!r} is not a group name (ASCII letters, digits, - _ .)")
        codes = [c.strip() for c in members if c and c.strip()]
        if not codes:
            raise EmptyField("members")

        def act(session: Session) -> Any:
            group = route_store.insert_group(session, clean, one_line(title or ""), codes, self.now())
            self._record(session, "agency.group", payload=group.to_json())
            return group

        return self._run(act)

    def agency_groups(self) -> list[Any]:
        """Every agency group, by name."""
        from edoc.storage import routing as route_store

        return self._read(route_store.list_groups)

    def send_document(
        self,
        doc_id: int,
        *,
        as_user: str,
        to: Sequence[str] | str = (),
        group: str | None = None,
        under: str | None = None,
    ) -> Any:
        """Send a signed document to other agencies (``edoc doc send``); a :class:`SendResult`.

        ``to`` names agency codes (a list, or one text with commas); ``group`` adds the members
        of a named agency group, ``under`` every agency below a parent (a circular). Each
        recipient gets its own consignment and, once delivered, its own document id holding the
        same signed PDF (content-addressed: not copied). Only the registry (clerks) sends; only
        signed documents are sent; top-secret ones never; a second send to the same agency is
        refused (``duplicate``).

        The send is one transaction that accepts it for every recipient (evidence
        ``submission-accepted``, sealed by the sender), then transactions that deliver the
        copies, ``routing.deliveries_per_transaction`` recipients each (evidence ``delivered``).
        A crash leaves every recipient either fully delivered or only accepted; running the same
        send again delivers the rest.
        """
        from edoc.routing import delivery as dl
        from edoc.routing.model import SendResult, SentTo
        from edoc.storage import routing as route_store
        from edoc.storage.tables import DeliveryRow, DispatchRow

        if not isinstance(doc_id, int) or isinstance(doc_id, bool):
            raise TypeError("document id must be an int")
        texts = [to] if isinstance(to, str) else list(to)
        codes = [c.strip() for text in texts for c in text.split(",") if c.strip()]
        for code in codes:
            validate_agency_code(code)
        if group is not None and not group.strip():
            raise InvalidField("group", "give the group's name")
        if under is not None:
            validate_agency_code(under.strip())
        if not codes and group is None and under is None:
            raise dl.NoRecipients()

        def sender_of(session: Session) -> str:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.SEND, self._document_facts(session, row))
            return actor.agency

        sender = self._read(sender_of)
        seal = self._seal(sender)  # before any transaction: unlocking a key takes time
        signer = self._event_signer(as_user)
        now = self.now()

        def submit(session: Session) -> tuple[int, bool, list[tuple[str, str]]]:
            actor, account = self._actor(session, as_user)
            row = self._document_row(session, doc_id, for_update=True)
            require(actor, Act.SEND, self._document_facts(session, row))
            dl.check_sendable(
                doc_id,
                state=row.state,
                secrecy=row.secrecy,
                signed=row.state in ("signed", "sent") and row.pdf_sha256 is not None,
            )
            requested = list(codes)
            mode, target = "direct", ""
            # a circular to a group or a branch goes to its other members: not back to the sender
            if group is not None:
                members = route_store.get_group(session, group.strip()).members
                requested += [c for c in members if c != actor.agency]
                mode, target = "group", group.strip()
            if under is not None:
                dir_store.agency_row(session, under.strip())  # AgencyNotFound for an unknown parent
                requested += [c for c in dir_store.descendants(session, under.strip()) if c != actor.agency]
                mode, target = "under", under.strip()
            known = route_store.agency_ids(session, [*requested, actor.agency])
            recipients = dl.plan_recipients(doc_id, actor.agency, requested, known)
            plan = dl.resume_or_refuse(doc_id, recipients, route_store.existing_deliveries(session, doc_id))
            if plan.dispatch is not None:
                return plan.dispatch, True, [(e.consignment, e.recipient) for e in plan.resume]
            assert account.id is not None and row.id is not None
            dispatch = route_store.insert_dispatch(
                session,
                DispatchRow(
                    document_id=row.id,
                    sender_id=row.agency_id,
                    actor_id=account.id,
                    mode=mode,
                    target=target,
                    recipients=len(recipients),
                    created_at=now,
                ),
            )
            assert dispatch.id is not None
            if row.state == DocumentState.SIGNED.value:
                self._change_state(session, row, DocumentEvent.SEND)
            if self._sealed(row.secrecy):  # secrecy at rest: each recipient's seal can open the copy
                self._share_sealed(session, row, self._seal_openers(actor.agency), agencies=plan.new)
            accepted: list[tuple[int, dl.Evidence, bytes]] = []
            for code in plan.new:
                evidence = dl.Evidence(
                    consignment=dl.new_consignment_id(actor.agency, now),
                    seq=0,
                    kind=dl.EvidenceKind.SUBMISSION_ACCEPTED,
                    at=now,
                    sender=actor.agency,
                    recipient=code,
                    agency=actor.agency,
                    actor=actor.username,
                    document_number=row.number or "",
                    document_sha256=row.pdf_sha256 or "",
                )
                accepted.append((known[code], evidence, self._sign_evidence(seal, evidence)))
            route_store.accept_deliveries(
                session,
                dispatch_id=dispatch.id,
                document_id=row.id,
                sender_id=row.agency_id,
                accepted=accepted,
                signer_serial=seal_serial,
                at=now,
            )
            pending = [(e.consignment, e.recipient) for _r, e, _s in accepted]
            digests = {e.consignment: e.digest() for _r, e, _s in accepted}
            self._record(
                session,
                "doc.send",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={
                    "dispatch": dispatch.id,
                    "mode": mode,
                    "target": target,
                    "number": row.number,
                    "sha256": row.pdf_sha256,
                    "secrecy": row.secrecy,
                    "urgency": row.urgency,
                    "consignments": [
                        {"agency": c, "consignment": k, "evidence": digests[k]} for k, c in pending
                    ],
                },
                sign=signer,
            )
            return dispatch.id, False, pending

        seal_serial = pki_model.serial_hex(seal.certificate.serial_number)
        dispatch_id, resumed, pending = self._run(submit)
        self._fault("send:accepted")
        today = self._today()

        def deliver_all(session: Session, chunk: list[str]) -> None:
            """Deliver the chunk's consignments still only accepted (a concurrent run of the same
            send may have delivered some): copies, routes, signed evidence, events; multi-row
            statements for the rows."""
            found = route_store.deliveries_by_consignment(session, chunk)
            waiting = [found[c] for c in chunk if c in found and found[c].state == dl.DeliveryState.ACCEPTED.value]
            if not waiting:
                return
            original = self._document_row(session, waiting[0].document_id)
            assert original.id is not None
            due = self._default_due(original.urgency, today)
            at = self.now()
            names = route_store.agency_names(session, [d.recipient_id for d in waiting])
            codes = {i: code for i, (code, _name) in names.items()}
            lasts = route_store.last_evidence_of(session, [d.id for d in waiting if d.id is not None])
            signed: list[tuple[DeliveryRow, dl.Evidence, bytes]] = []
            for d in waiting:
                assert d.id is not None and d.document_id == original.id
                previous = dl.Evidence.decode(lasts[d.id].body.encode("utf-8"))
                evidence = previous.following(dl.EvidenceKind.DELIVERED, at=at, agency=previous.sender, actor=as_user)
                dl.next_state(d.consignment, dl.DeliveryState(d.state), evidence.kind)
                signed.append((d, evidence, self._sign_evidence(seal, evidence)))
            self._fault("send:in-delivery")
            copies = route_store.deliver_copies(
                session, original, signed, signer_serial=seal_serial, due=due, at=at
            )
            for d, evidence, _signature in signed:
                self._record(
                    session,
                    "doc.deliver",
                    actor=as_user,
                    agency=codes[d.recipient_id],
                    document_id=copies[d.recipient_id],
                    payload={
                        "consignment": d.consignment,
                        "parent": original.id,
                        "evidence": evidence.digest(),
                        "from_document": original.id,
                        "from_agency": evidence.sender,
                        "sha256": original.pdf_sha256,
                        "due": due.isoformat() if due else None,
                    },
                )

        # a few transactions, not one per recipient: each commit is a disk flush
        size = max(1, self.settings.routing.deliveries_per_transaction)
        done = 0
        for start in range(0, len(pending), size):
            chunk = [consignment for consignment, _code in pending[start : start + size]]
            self._run(lambda session, chunk=chunk: deliver_all(session, chunk))  # type: ignore[misc]
            for i in range(done + 1, done + len(chunk) + 1):
                self._fault(f"send:delivered:{i}")
            done += len(chunk)

        def result(session: Session) -> SendResult:
            rows = route_store.deliveries_of(session, doc_id)
            names = route_store.agency_names(session, [r.recipient_id for r in rows])
            mine = [r for r in rows if r.dispatch_id == dispatch_id]
            return SendResult(
                id=doc_id,
                dispatch=dispatch_id,
                resumed=resumed,
                recipients=tuple(
                    SentTo(names[r.recipient_id][0], r.consignment, dl.DeliveryState(r.state), r.copy_id) for r in mine
                ),
            )

        return self._read(result)

    def _routing_on_registered(
        self, session: Session, row: DocumentRow, number: IssuedNumber, actor: Actor, *, seal: Any = None
    ) -> tuple[str, str] | None:
        """Hook for receiving (issue 7): called in the receive act's transaction once ``row`` has its
        receive number and stamp. For a delivered copy this records the consignment's
        ``registered`` evidence (sealed by the receiving agency, with the receive number; ``seal``
        is that agency's seal when the caller already has it) and returns ``(consignment, evidence
        digest)`` for the receive event; for every received document it starts the route here with
        the registering clerk as holder."""
        from edoc.routing import delivery as dl
        from edoc.routing import flow
        from edoc.storage import routing as route_store

        assert row.id is not None
        account = dir_store.account_row(session, actor.username)
        me = self._participant(session, account)
        now = self.now()
        d = route_store.delivery_of_copy(session, row.id, for_update=True)
        registered: tuple[str, str] | None = None
        if d is not None:
            assert d.id is not None
            agency = route_store.agency_row_by_id(session, d.recipient_id)
            if seal is None or seal.agency != agency.code:
                seal = self._seal(agency.code)
            last = route_store.last_evidence(session, d.id)
            assert last is not None
            previous = dl.Evidence.decode(last.body.encode("utf-8"))
            evidence = previous.following(
                dl.EvidenceKind.REGISTERED,
                at=now,
                agency=agency.code,
                actor=actor.username,
                receive_number=number.text,
            )
            dl.next_state(d.consignment, dl.DeliveryState(d.state), evidence.kind)
            route_store.append_evidence(
                session,
                d,
                evidence,
                self._sign_evidence(seal, evidence),
                pki_model.serial_hex(seal.certificate.serial_number),
                row.agency_id,
            )
            registered = (d.consignment, evidence.digest())
        route = self._route_of(session, row)
        if route.state is flow.FlowState.DELIVERED:
            route = flow.apply(route, flow.Request(flow.RouteAction.REGISTER, me), today=self._today())
        elif route_store.route_row(session, row.id) is None:
            route = flow.started(row.id, me, due=row.due or self._default_due(row.urgency, self._today()))
        else:
            return registered
        route_store.save_route(session, row, route, holder_id=account.id, unit_id=account.unit_id, at=now)
        step_seq = route_store.next_step_seq(session, row.id)
        from edoc.storage.tables import RouteStepRow

        assert account.id is not None
        route_store.insert_step(
            session,
            RouteStepRow(
                document_id=row.id,
                seq=step_seq,
                action=flow.RouteAction.REGISTER.value,
                actor_id=account.id,
                note=number.text,
                due=route.due,
                state_after=route.state.value,
                at=now,
            ),
        )
        route_store.add_parties(session, row.id, [account.id], now)
        if self._sealed(row.secrecy):  # the registering clerk joins the route: re-wrapped by the seal
            code = doc_store.agency_of(session, row).code
            self._share_sealed(session, row, self._seal_openers(code), people=[actor.username])
        return registered

    def route_document(
        self,
        doc_id: int,
        action: str,
        *,
        as_user: str,
        to: str | None = None,
        note: str = "",
        due: date | str | None = None,
        retention: str | None = None,
    ) -> Any:
        """One step on the document's route in its agency (``edoc doc route``); a :class:`RouteResult`.

        ``action``: propose (เสนอ, ``to`` a head or executive), endorse (เกษียน, ``note`` signed
        by the actor), assign (สั่งการ, ``to`` an officer or a unit; ``due`` defaults by urgency),
        acknowledge (ทราบ), return (ส่งคืน, with ``note`` as the reason: to whoever handed it on,
        or for a delivered copy nobody here handed on, back to the sending agency with
        ``returned`` evidence), close (เรื่องเสร็จ), file (เก็บ, with a ``retention`` class).
        Endorse, assign and return are acts with legal weight: the step is signed (detached CMS)
        with the actor's key, and so is its audit event.
        """
        from edoc.routing import delivery as dl
        from edoc.routing import flow
        from edoc.routing.model import RouteResult
        from edoc.routing.seals import sign_detached
        from edoc.storage import routing as route_store
        from edoc.storage.tables import RouteStepRow

        if not isinstance(doc_id, int) or isinstance(doc_id, bool):
            raise TypeError("document id must be an int")
        try:
            wanted = flow.RouteAction(str(action).strip().lower())
        except ValueError:
            raise InvalidField(
                "action", f"{action!r} is not one of {', '.join(a.value for a in flow.USER_ACTIONS)}"
            ) from None
        if wanted is flow.RouteAction.REGISTER:
            raise InvalidField("action", "registration is 'edoc doc receive', not a route action")
        text = (note or "").strip()
        if len(text) > 4000:
            raise InvalidField("note", "is longer than 4000 characters")
        when: date | None
        if due is None or isinstance(due, date):
            when = due
        else:
            try:
                when = date.fromisoformat(str(due).strip())
            except ValueError:
                raise InvalidField("due", f"{due!r} is not a date like 2026-11-30") from None
        target = (to or "").strip() or None
        if retention is not None and wanted is not flow.RouteAction.FILE:
            raise InvalidField("retention", "only filing takes a retention class")
        weighty = wanted in (flow.RouteAction.ENDORSE, flow.RouteAction.ASSIGN, flow.RouteAction.RETURN)
        identity = self.signing_identity(as_user) if weighty else None
        today = self._today()

        def prepare(session: Session) -> str | None:
            """The agency whose seal a return to the sender needs (None when none)."""
            row = self._document_row(session, doc_id)
            if wanted is not flow.RouteAction.RETURN or row.id is None:
                return None
            d = route_store.delivery_of_copy(session, row.id)
            return route_store.agency_row_by_id(session, d.recipient_id).code if d is not None else None

        seal_agency = self._read(prepare)
        seal = self._seal(seal_agency) if seal_agency else None
        openers = self._route_openers(doc_id, as_user)

        def act(session: Session) -> RouteResult:
            actor, account = self._actor(session, as_user)
            row = self._document_row(session, doc_id, for_update=True)
            facts = self._document_facts(session, row)
            require(actor, Act.ROUTE, facts)
            assert row.id is not None and account.id is not None
            route = self._route_of(session, row)
            me = self._participant(session, account)
            to_person = None
            to_account: AccountRow | None = None
            to_unit_row: UnitRow | None = None
            if target is not None:
                try:
                    to_account = dir_store.account_row(session, target)
                except UserNotFound:
                    to_account = None
                if to_account is not None:
                    if to_account.agency_id != account.agency_id:
                        raise InvalidField("to", f"{target} is not in agency {actor.agency}")
                    if not to_account.active:
                        raise InvalidField("to", f"the account {target!r} is disabled")
                    to_person = self._participant(session, to_account)
                else:
                    try:
                        to_unit_row = dir_store.unit_row(session, account.agency_id, actor.agency, target)
                    except NotFound:
                        raise InvalidField(
                            "to", f"{target!r} is neither a user nor a unit of agency {actor.agency}"
                        ) from None
                    if wanted is not flow.RouteAction.ASSIGN:
                        raise InvalidField("to", f"only an order goes to a unit; {wanted.value} needs a person")
            order_due = when
            if wanted is flow.RouteAction.ASSIGN and order_due is None:
                order_due = route.due or self._default_due(row.urgency, today)
                if order_due is not None and order_due < today:
                    order_due = today
            request = flow.Request(
                wanted,
                me,
                to=to_person,
                to_unit=to_unit_row.code if to_unit_row is not None else None,
                note=text,
                due=order_due,
                retention=(retention or "default") if wanted is flow.RouteAction.FILE else None,
            )
            after = flow.apply(route, request, today=today)
            now = self.now()
            if wanted is flow.RouteAction.FILE:  # the registers' filing: class, register, doc.file
                filed = self._file_in(session, row, actor, retention)
                after = dataclasses.replace(after, retention=filed.retention_class)
            holder_id = None
            if after.holder is not None:
                holder_id = (
                    account.id if after.holder == account.username else dir_store.account_row(session, after.holder).id
                )
            unit_id = None
            if after.unit is not None:
                unit_id = dir_store.unit_row(session, account.agency_id, actor.agency, after.unit).id
            route_store.save_route(session, row, after, holder_id=holder_id, unit_id=unit_id, at=now)
            seq = route_store.next_step_seq(session, row.id)
            members = (
                dir_store.unit_usernames(session, to_unit_row.id)
                if to_unit_row is not None and to_unit_row.id is not None
                else []
            )
            reached = [actor.username, target or "", *members]
            # secrecy at rest: a restricted document's note is stored only sealed, for the
            # document's readers (and the sender's, for a reason that goes back to the sender);
            # the step, its signed body and its audit event carry the sealed note's hash
            note_digest = (
                self._seal_note(
                    session, row, text, reached, to_sender=after.state is flow.FlowState.SENT_BACK
                )
                if text and self._sealed(row.secrecy)
                else None
            )
            noted: dict[str, Any] = {"note": text} if note_digest is None else {"note_sha256": note_digest}
            step = RouteStepRow(
                document_id=row.id,
                seq=seq,
                action=wanted.value,
                actor_id=account.id,
                to_account_id=to_account.id if to_account is not None else None,
                to_unit_id=to_unit_row.id if to_unit_row is not None else None,
                note=text if note_digest is None else "",
                note_sha256=note_digest,
                due=after.due if wanted is flow.RouteAction.ASSIGN else None,
                state_after=after.state.value,
                at=now,
            )
            body: dict[str, Any] = {
                "type": "edoc-route-step/1",
                "document_id": row.id,
                "agency": actor.agency,
                "number": row.number,
                "sha256": row.pdf_sha256,
                "seq": seq,
                "action": wanted.value,
                "actor": actor.username,
                "to": target,
                **noted,
                "due": after.due.isoformat() if wanted is flow.RouteAction.ASSIGN and after.due else None,
                "at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
            if identity is not None:
                raw = dl.canonical(body)
                step.body = raw.decode("utf-8")
                step.signature = sign_detached(raw, self._seal_of(as_user, identity), at=now)
                step.signer_serial = identity.serial
            route_store.insert_step(session, step)
            route_store.add_parties(session, row.id, [account.id, to_account.id if to_account else None], now)
            if self._sealed(row.secrecy):  # whoever the document reaches can open it: re-wrap for them
                self._share_sealed(
                    session,
                    row,
                    openers,
                    people=reached,
                    fallback=partial(self._seal_openers, actor.agency),
                )
            if to_unit_row is not None and to_unit_row.id is not None:
                route_store.add_unit(session, row.id, to_unit_row.id, now)
            returned: str | None = None
            if wanted is flow.RouteAction.CLOSE:
                self._change_state(session, row, DocumentEvent.CLOSE)
            elif wanted is flow.RouteAction.FILE:
                pass  # filed above
            elif after.state is flow.FlowState.SENT_BACK:
                reason = text if note_digest is None else sealed_reason(note_digest)
                returned = self._routing_sent_back(session, row, actor, reason, seal, now)
                self._change_state(session, row, DocumentEvent.CLOSE)
            elif row.state in (DocumentState.RECEIVED.value, DocumentState.SENT.value):
                self._change_state(session, row, DocumentEvent.ROUTE)
            self._record(
                session,
                f"doc.route.{wanted.value}",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={
                    "seq": seq,
                    "from_state": route.state.value,
                    "state": after.state.value,
                    "to": target,
                    **noted,
                    "due": after.due.isoformat() if after.due else None,
                    "retention": after.retention if wanted is flow.RouteAction.FILE else None,
                    "step_signature": step.signer_serial,
                    **({"evidence": returned} if returned else {}),
                },
                sign=signer_from_identity(identity) if identity is not None else None,
            )
            return RouteResult(row.id, wanted.value, after.state.value, after.holder, after.unit, after.due, seq)

        return self._run(act)

    def _route_openers(self, doc_id: int, as_user: str) -> list[tuple[Any, Any]]:
        """For a route step on a sealed document the actor may route: their unlocked keys (to
        re-wrap the content key for whoever the step reaches); [] otherwise, and for refused
        actors (the act refuses them with exit 3 before anything is asked)."""

        def check(session: Session) -> bool:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            sealed = self._sealed(row.secrecy)
            return sealed and decide(actor, Act.ROUTE, self._document_facts(session, row)).allowed

        return self._key_openers(as_user) if self._read(check) else []

    def _routing_sent_back(
        self, session: Session, row: DocumentRow, actor: Actor, reason: str, seal: Any, now: datetime
    ) -> str | None:
        """A delivered copy returned to its sender: the consignment's ``returned`` evidence (its
        digest is returned, for the route event; None when there is no consignment)."""
        from edoc.routing import delivery as dl
        from edoc.storage import routing as route_store

        assert row.id is not None
        d = route_store.delivery_of_copy(session, row.id, for_update=True)
        if d is None or seal is None:
            return None  # an imported document: nobody in edoc to send it back to
        assert d.id is not None
        last = route_store.last_evidence(session, d.id)
        assert last is not None
        previous = dl.Evidence.decode(last.body.encode("utf-8"))
        evidence = previous.following(
            dl.EvidenceKind.RETURNED, at=now, agency=previous.recipient, actor=actor.username, reason=reason
        )
        dl.next_state(d.consignment, dl.DeliveryState(d.state), evidence.kind)
        route_store.append_evidence(
            session,
            d,
            evidence,
            self._sign_evidence(seal, evidence),
            pki_model.serial_hex(seal.certificate.serial_number),
            row.agency_id,
        )
        return evidence.digest()

    def inbox(self, *, as_user: str) -> list[Any]:
        """What waits for ``as_user`` (``edoc inbox``): held by them, with their unit, waiting for
        registration (clerks), or for their signature; overdue first, then most urgent, then
        oldest due date. Subjects of documents the person may not read are masked."""
        from edoc.directory import decide
        from edoc.routing.due import URGENCY_RANK
        from edoc.routing.model import InboxItem
        from edoc.storage import routing as route_store

        today = self._today()

        def read(session: Session) -> list[InboxItem]:
            actor, account = self._actor(session, as_user)
            rows = route_store.inbox_rows(session, account, registry=actor.role is Role.CLERK)
            holders = route_store.usernames_by_id(session, [d.holder_id for d, _, _ in rows])
            units = route_store.unit_codes_by_id(session, [d.holder_unit_id for d, _, _ in rows])
            items: list[InboxItem] = []
            for doc, route, delivery in rows:
                assert doc.id is not None
                facts = self._document_facts(session, doc)
                if not decide(actor, Act.READ_METADATA, facts):
                    continue
                readable = bool(decide(actor, Act.READ, facts))
                if route is None:
                    waiting = "signature" if doc.state == "awaiting-signature" else "registration"
                    state = doc.state
                elif route.state == "delivered":
                    waiting, state = "registration", route.state
                elif doc.holder_id == account.id:
                    waiting, state = "you", route.state
                else:
                    waiting, state = "unit", route.state
                items.append(
                    InboxItem(
                        id=doc.id,
                        number=doc.number,
                        subject=doc.subject if readable else _masked(doc.secrecy),
                        sender=doc.from_name,
                        urgency=doc.urgency,
                        secrecy=doc.secrecy,
                        state=state,
                        due=doc.due,
                        overdue=doc.due is not None and doc.due < today,
                        waiting=waiting,
                        kind=doc.kind,
                        arrived=doc.created_at,
                        holder=holders.get(doc.holder_id) if doc.holder_id else None,
                        unit=units.get(doc.holder_unit_id) if doc.holder_unit_id else None,
                        consignment=delivery.consignment if delivery is not None else None,
                        receive_number=delivery.receive_number if delivery is not None else None,
                    )
                )
            items.sort(
                key=lambda i: (
                    not i.overdue,
                    URGENCY_RANK.get(i.urgency, 9),
                    i.due or date.max,
                    i.arrived or datetime.max.replace(tzinfo=UTC),
                    i.id,
                )
            )
            return items

        return self._read(read)

    def document_status(self, doc_id: int, *, as_user: str) -> Any:
        """Where a document stands (``edoc doc status``): for the sender, every recipient with its
        latest evidence; for any holder, its route here. Needs :attr:`Act.READ_METADATA`."""
        from edoc.directory import decide
        from edoc.routing import delivery as dl
        from edoc.routing.model import DocumentStatus, RecipientStatus
        from edoc.storage import routing as route_store

        openers = self._note_openers(doc_id, as_user)  # sealed notes: the reader's keys

        def note(session: Session, digest: str | None, text: str, row: DocumentRow) -> str:
            """A sealed note opened for a reader; the secrecy mark for everyone else."""
            if digest is None:
                return text
            opened = self._open_note(session, digest, openers, row)
            return opened if opened is not None else _masked(row.secrecy)

        def read(session: Session) -> DocumentStatus:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.READ_METADATA, self._document_facts(session, row))
            assert row.id is not None
            deliveries = route_store.deliveries_of(session, row.id)
            names = route_store.agency_names(session, [d.recipient_id for d in deliveries])
            evidence = route_store.evidence_of(session, [d.id for d in deliveries if d.id is not None])
            copies = {d.copy_id for d in deliveries if d.copy_id is not None}
            copy_rows = {c: self._document_row(session, c) for c in copies}
            copy_routes = {c: route_store.route_row(session, c) for c in copies}
            holder_names = route_store.usernames_by_id(session, [r.holder_id for r in copy_rows.values()])
            recipients = []
            for d in deliveries:
                assert d.id is not None
                copy = copy_rows.get(d.copy_id) if d.copy_id is not None else None
                croute = copy_routes.get(d.copy_id) if d.copy_id is not None else None
                recipients.append(
                    RecipientStatus(
                        agency=names[d.recipient_id][0],
                        agency_name=names[d.recipient_id][1],
                        consignment=d.consignment,
                        state=dl.DeliveryState(d.state),
                        copy_id=d.copy_id,
                        receive_number=d.receive_number,
                        reason=(
                            note(session, sealed_reason_digest(d.reason), d.reason, row)
                            if d.reason is not None
                            else None
                        ),
                        evidence=tuple(evidence.get(d.id, [])),
                        holder=holder_names.get(copy.holder_id) if copy is not None and copy.holder_id else None,
                        route_state=croute.state if croute is not None else None,
                    )
                )
            mine = route_store.route_row(session, row.id)
            holder = doc_store.usernames(session, [row.holder_id]).get(row.holder_id) if row.holder_id else None
            own = route_store.delivery_of_copy(session, row.id)
            readable = decide(actor, Act.READ, self._document_facts(session, row))
            return DocumentStatus(
                id=row.id,
                number=row.number,
                subject=row.subject if readable else _masked(row.secrecy),
                state=row.state,
                recipients=tuple(recipients),
                route_state=mine.state if mine is not None else None,
                holder=holder,
                due=row.due,
                steps=tuple(
                    dataclasses.replace(s, note=note(session, s.note_sha256, s.note, row))
                    for s in route_store.steps(session, row.id)
                ),
                parent=row.parent_id,
                consignment=own.consignment if own is not None else None,
            )

        return self._read(read)

    def export_evidence(self, doc_id: int, out: str | os.PathLike[str], *, as_user: str) -> Any:
        """Write the document's delivery evidence to the folder ``out`` for an offline check
        (``edoc doc evidence``): per consignment ``<seq>-<kind>.json`` (the exact signed bytes)
        and ``.p7s`` (the seal's detached CMS signature), the seals' certificates and chains in
        ``certs/``, and ``manifest.json``. Check it with :func:`edoc.routing.evidence.check_folder`
        or ``openssl cms -verify`` (see docs/routing.md)."""
        from edoc.routing.evidence import write_folder

        status = self.document_status(doc_id, as_user=as_user)
        serials = {e.signer_serial for r in status.recipients for e in r.evidence}

        def read(session: Session) -> list[bytes]:
            ders: list[bytes] = []
            for serial in sorted(serials):
                row = pki_store.row_by_serial(session, serial)
                ders.append(row.der)
                ders.extend(c.der for c in pki_store.chain_rows(session, row))
            return ders

        return write_folder(Path(out), status, self._read(read))

    # -- audit (issue 9) ------------------------------------------------------------------------

    _audit_quiet_failed_at: float | None = None
    """When an automatic checkpoint last found the audit key locked (monotonic seconds)."""

    def audit_events(self, start: int = 0, stop: int | None = None) -> list[AuditEvent]:
        """Events ``start`` to ``stop - 1`` of the audit log, as stored."""
        return self._read(lambda s: audit_store.events(s, start, stop))

    def _event_signer(self, username: str) -> EventSigner:
        """The ``sign`` argument of :meth:`_record` for an act with legal weight by ``username``
        (or ``agency:CODE`` for a seal): signs the event with that key (unlocked through the key
        ring, or on its token) and keeps the certificate and its chain with the log. Raises what
        :meth:`signing_identity` raises: no certificate, revoked, expired, wrong passphrase."""
        return signer_from_identity(self.signing_identity(username))

    def create_audit_key(self, algorithm: str = "ed25519", *, passphrase: bytes | None = None) -> AuditKeyInfo:
        """Make the office's audit key (``edoc audit key create``) and the first checkpoint.

        The private key is sealed (PKCS#12, AES-256, PBKDF2) under the passphrase of owner
        ``audit`` and kept in the database, so every host sharing the database signs with it;
        the public key is recorded in the log (event ``audit.key.create``) and given to
        auditors (``edoc audit key export``).
        """
        try:
            alg = KeyAlgorithm(algorithm)
        except ValueError:
            raise InvalidField("algorithm", f"{algorithm!r} is not one of ed25519, p256") from None
        secret = passphrase if passphrase is not None else self.keyring.passphrases.get("audit")
        private = new_audit_key(alg)
        kid = audit_key_id(private)
        sealed = seal_private_key(private, secret, name="edoc audit key", rounds=self.settings.pki.kdf_rounds)
        pem = audit_public_pem(private)

        def act(session: Session) -> AuditKeyInfo:
            current = audit_store.active_key(session)
            if current is not None:
                raise AuditKeyExists(current.key_id)
            earlier = audit_store.audit_keys(session)
            origin = earlier[0].origin if earlier else audit_origin_for(kid)
            stored = audit_store.StoredKey(kid, alg.value, origin, pem, sealed, self.now(), None)
            audit_store.add_key(session, stored)
            self._record(
                session,
                "audit.key.create",
                payload={"key_id": kid, "algorithm": alg.value, "origin": origin, "public_key": pem},
            )
            return AuditKeyInfo(kid, alg.value, origin, pem, stored.created_at)

        info = self._run(act)
        self._audit_quiet_failed_at = None  # automatic checkpoints may try the new key at once
        cp, _ = self._audit_checkpoint_with(private, info.key_id)
        self._audit_stamp_if_wanted(cp, quiet=True)
        return info

    def audit_key(self) -> AuditKeyInfo:
        """The office's audit key (public half)."""
        stored = self._read(audit_store.active_key)
        if stored is None:
            raise AuditKeyMissing()
        return AuditKeyInfo(stored.key_id, stored.algorithm, stored.origin, stored.public_pem, stored.created_at)

    def _audit_private_key(self) -> tuple[AuditPrivateKey, str]:
        stored = self._read(audit_store.active_key)
        if stored is None:
            raise AuditKeyMissing()
        key = as_audit_key(self.keyring.unlock("audit", stored.key_id, lambda: stored.sealed))
        if key is None or audit_key_id(key) != stored.key_id:
            raise AuditLogDamaged(f"the stored audit key does not match its id {stored.key_id[:16]}")
        return key, stored.key_id

    def audit_checkpoint(self) -> tuple[Checkpoint, bool]:
        """Sign a checkpoint of the whole log now (``edoc audit checkpoint``).

        Returns the checkpoint and whether it is new (when no event was added since the newest
        checkpoint, that one is returned). Needs the audit key's passphrase. With
        ``[audit] timestamp = true`` the checkpoint is then time-stamped by the office's TSA
        (if it has no token yet); a TSA that does not answer raises
        :class:`~edoc.errors.SigningServiceUnavailable` after the checkpoint is committed
        (``edoc audit timestamp`` stamps it later).
        """
        key, kid = self._audit_private_key()
        cp, created = self._audit_checkpoint_with(key, kid)
        self._audit_stamp_if_wanted(cp, quiet=False)
        return cp, created

    def _audit_checkpoint_with(self, key: AuditPrivateKey, kid: str) -> tuple[Checkpoint, bool]:
        def act(session: Session) -> tuple[Checkpoint, bool]:
            head = audit_store.read_head(session, lock=True)
            latest = audit_store.latest_checkpoint(session)
            if latest is not None and latest.size == head.size:
                return latest, False
            stored = audit_store.active_key(session)
            if stored is None or stored.key_id != kid:
                raise AuditKeyMissing()
            cp = sign_checkpoint(key, stored.origin, head.size, head.frontier.root(), self.now())
            audit_store.add_checkpoint(session, cp)
            return cp, True

        return self._run(act)

    def _audit_after_append(self, appended: audit_store.Appended) -> None:
        """Make a checkpoint when one is due and the audit key opens without asking anyone."""
        settings = self.settings.audit
        due = appended.size - appended.checkpoint_size >= settings.checkpoint_every or (
            appended.checkpoint_at is None
            or (self.now() - appended.checkpoint_at).total_seconds() >= settings.checkpoint_seconds
        )
        if not due:
            return
        failed = self._audit_quiet_failed_at
        if failed is not None and time.monotonic() - failed < max(60, settings.checkpoint_seconds):
            return
        if self.keyring.passphrases.interactive:
            return  # a prompt would interrupt the act's caller: leave it to `edoc audit checkpoint`
        try:
            key, kid = self._audit_private_key()
            cp, _ = self._audit_checkpoint_with(key, kid)
            self._audit_stamp_if_wanted(cp, quiet=True)
        except (AuditKeyMissing, PassphraseRequired, WrongPassphrase):
            self._audit_quiet_failed_at = time.monotonic()
        except EdocError as exc:  # the act is committed; a checkpoint can be made later
            logging.getLogger(__name__).warning("automatic audit checkpoint failed: %s", exc.message("en"))

    def audit_timestamp(self, size: int | None = None) -> tuple[Checkpoint, bytes, bool]:
        """Have checkpoint ``size`` (default: the newest) time-stamped now by the office's TSA
        (``edoc audit timestamp``): an RFC 3161 token over the checkpoint's text, checked against
        the office's trust roots before it is kept, with the TSA's certificates, and recorded in
        the log (``audit.timestamp``).

        Returns the checkpoint, its token (DER) and whether the token is new (a checkpoint
        stamped before keeps its token). A checkpoint made more than
        :data:`~edoc.audit.timestamp.MAX_DELAY` ago is refused: a stamp now would not confirm
        the time it claims.
        """
        import hashlib

        from edoc.audit.events import format_time
        from edoc.audit.timestamp import MAX_DELAY, read_token

        def read(session: Session) -> tuple[Checkpoint, bytes | None]:
            cp = audit_store.checkpoint(session, size) if size is not None else audit_store.latest_checkpoint(session)
            if cp is None:
                raise CheckpointNotFound(size if size is not None else "(none yet)")
            return cp, audit_store.timestamp_token(session, cp.size)

        cp, existing = self._read(read)
        if existing is not None:
            return cp, existing, False
        age = self.now() - cp.at
        if age > MAX_DELAY:
            raise TimestampInvalid(
                cp.size,
                f"it was made {age.days} days ago, and a time-stamp more than {MAX_DELAY.days} days after a "
                "checkpoint does not confirm its time; make a new checkpoint ('edoc audit checkpoint') and stamp that",
            )
        token = self._audit_tsa_token(cp)
        info = read_token(token)

        def act(session: Session) -> None:
            self._keep_timestamp(session, cp, token)
            self._record(
                session,
                "audit.timestamp",
                payload={
                    "size": cp.size,
                    "root": cp.root.hex(),
                    "tsa_time": format_time(info.gen_time),
                    "tsa": info.tsa,
                    "token_sha256": hashlib.sha256(token).hexdigest(),
                },
            )

        self._run(act)
        return cp, token, True

    def audit_timestamp_tokens(self) -> dict[int, bytes]:
        """The checkpoints' RFC 3161 tokens (DER), by checkpoint size."""
        return self._read(audit_store.timestamp_tokens)

    def _audit_tsa_token(self, cp: Checkpoint) -> bytes:
        """A token from the office's TSA over ``cp``, checked with the office's trust roots."""
        from edoc.audit.timestamp import IMPRINT_HASH, imprint, token_problem
        from edoc.signing.services import Services, stamp_digest

        roots = self.trust_roots()
        token = stamp_digest(Services(tsa_url=self.tsa_url()), imprint(cp, IMPRINT_HASH), IMPRINT_HASH)
        why = token_problem(token, cp, roots=roots)
        if why is not None:
            raise TimestampInvalid(cp.size, f"the token {self.tsa_url()} returned {why}")
        return token

    def _keep_timestamp(self, session: Session, cp: Checkpoint, token: bytes) -> None:
        from edoc.audit.timestamp import token_certificates

        audit_store.set_timestamp_token(session, cp.size, token)
        audit_store.store_certificates(session, token_certificates(token))

    def _audit_stamp_if_wanted(self, cp: Checkpoint, *, quiet: bool) -> None:
        """Time-stamp a checkpoint that has no token when ``[audit] timestamp`` is on. ``quiet``
        (automatic checkpoints, export): a TSA failure is logged, not raised; the checkpoint
        stands and ``edoc audit timestamp`` can stamp it later."""
        if not self.settings.audit.timestamp:
            return
        try:
            if self._read(lambda s: audit_store.timestamp_token(s, cp.size)) is not None:
                return
            token = self._audit_tsa_token(cp)
            self._run(lambda s: self._keep_timestamp(s, cp, token))
        except EdocError as exc:
            if not quiet:
                raise
            logging.getLogger(__name__).warning(
                "time-stamp of audit checkpoint %s failed: %s", cp.size, exc.message("en")
            )

    def audit_proof(self, seq: int, *, size: int | None = None) -> InclusionProof:
        """Prove that event ``seq`` is in the log (``edoc audit proof``).

        Against the checkpoint of ``size`` if given, else the newest checkpoint that covers the
        event, else the current tree (unsigned: ``checkpoint`` is None). The proof is checked
        with the independent checker before it is returned.
        """
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise TypeError("seq must be an int")

        def read(session: Reader) -> InclusionProof:  # the driver's cursor: a Session costs more than the proof
            log_size = audit_store.head_size(session)
            if not 0 <= seq < log_size:
                raise EventNotFound(seq, log_size)
            cp: Checkpoint | None
            if size is not None:
                if not seq < size <= log_size:
                    raise InvalidField("size", f"must be above {seq} and at most the log's size {log_size}")
                cp = audit_store.checkpoint(session, size)
                target = size
            else:
                cp = audit_store.covering_checkpoint(session, seq)
                target = cp.size if cp is not None else log_size
            ranges = merkle.inclusion_ranges(seq, target)
            needed = merkle.needed_nodes(ranges)
            if cp is None:
                needed |= merkle.needed_nodes([(0, target)])
            nodes = audit_store.perfect_nodes(session, needed)
            found = audit_store.event_leaf(session, seq)
            if found is None:
                raise AuditLogDamaged(f"event {seq} is missing")
            try:
                path = merkle.assemble(ranges, nodes.__getitem__)
                root = cp.root if cp is not None else merkle.root_of(target, nodes.__getitem__)
            except KeyError as exc:
                raise AuditLogDamaged(f"tree node {exc.args[0]} is missing") from None
            return InclusionProof(seq, target, found[0], tuple(path), root, cp)

        proof = self.db.tx.read_driver(read)
        why = proof.check()
        if why is not None:
            raise AuditLogDamaged(f"the proof of event {seq} does not hold ({why})")
        return proof

    def audit_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Prove that the log of ``old_size`` events is a prefix of the log of ``new_size``
        (default: the newest checkpoint, else the current log). Checked before it is returned."""

        def read(session: Reader) -> ConsistencyProof:  # the driver's cursor, as for audit_proof
            log_size = audit_store.head_size(session)
            latest = audit_store.latest_checkpoint(session)
            new = new_size if new_size is not None else (latest.size if latest else log_size)
            if not 0 < old_size <= new <= log_size:
                raise InvalidField(
                    "size", f"sizes must satisfy 0 < old ({old_size}) <= new ({new}) <= log size ({log_size})"
                )
            old_cp = audit_store.checkpoint(session, old_size)
            new_cp = audit_store.checkpoint(session, new)
            ranges = merkle.consistency_ranges(old_size, new)
            needed = merkle.needed_nodes([*ranges, (0, old_size), (0, new)])
            nodes = audit_store.perfect_nodes(session, needed)
            try:
                path = merkle.assemble(ranges, nodes.__getitem__)
                old_root = merkle.root_of(old_size, nodes.__getitem__)
                new_root = merkle.root_of(new, nodes.__getitem__)
            except KeyError as exc:
                raise AuditLogDamaged(f"tree node {exc.args[0]} is missing") from None
            return ConsistencyProof(old_size, new, old_root, new_root, tuple(path), old_cp, new_cp)

        proof = self.db.tx.read_driver(read)
        why = proof.check()
        if why is not None:
            raise AuditLogDamaged(f"the consistency proof from {old_size} to {proof.new_size} does not hold ({why})")
        return proof

    def audit_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        return self._read(audit_store.checkpoints)

    def witness_checkpoint(
        self,
        agency: str,
        *,
        size: int | None = None,
        signer: EventSigner | None = None,
        previous: Checkpoint | None = None,
    ) -> Cosignature:
        """Countersign a checkpoint as ``agency`` (``edoc audit witness``).

        The witness checks the checkpoint's signature, then that the log it commits to extends
        the last checkpoint this agency countersigned (or ``previous``, a copy it kept itself),
        with a consistency proof checked by the independent checker; only then does it sign
        with its seal (``signer``, default the agency's seal identity from the PKI). It refuses
        (:class:`WitnessRefused`) a history that contradicts what it saw before.
        """
        code = validate_agency_code(agency)
        self.get_agency(code)
        seal = signer if signer is not None else self._event_signer(f"agency:{code}")

        def read(session: Session) -> tuple[Checkpoint, list[AuditPublicKey], list[Cosignature]]:
            cp = audit_store.checkpoint(session, size) if size is not None else audit_store.latest_checkpoint(session)
            if cp is None:
                raise CheckpointNotFound(size if size is not None else "(none yet)")
            keys = [audit_load_public_key(k.public_pem) for k in audit_store.audit_keys(session)]
            return cp, keys, audit_store.cosignatures(session, agency=code)

        cp, keys, mine = self._read(read)
        if not any(audit_key_id(k) == cp.key_id and checkpoint_signature_ok(cp, k) for k in keys):
            raise WitnessRefused(code, f"checkpoint {cp.size} is not signed by the office's audit key")
        earlier = previous
        if earlier is None and mine:
            last = mine[-1]
            earlier_cp = self._read(lambda s: audit_store.checkpoint(s, last.size))
            if earlier_cp is None or not verify_with_certificate(
                load_certificate(last.certificate), witness_text(code, last.at, earlier_cp), last.signature
            ):
                raise WitnessRefused(
                    code, f"the checkpoint of size {last.size} it countersigned before was changed or removed"
                )
            earlier = earlier_cp
        if earlier is not None:
            if earlier.size > cp.size:
                raise WitnessRefused(code, f"it already countersigned a bigger log ({earlier.size} events)")
            if earlier.size == cp.size:
                if earlier.root != cp.root:
                    raise WitnessRefused(code, f"checkpoint {cp.size} differs from the one it saw before")
                if any(c.size == cp.size for c in mine):
                    raise AlreadyExists("countersignature", f"{code}@{cp.size}")
            elif earlier.size > 0:
                proof = self.audit_consistency(earlier.size, cp.size)
                if not audit_check.verify_consistency(earlier.size, cp.size, earlier.root, cp.root, list(proof.path)):
                    raise WitnessRefused(
                        code, f"the log of {cp.size} events does not extend the log of {earlier.size} it saw before"
                    )
        at = self.now()
        cs = Cosignature(code, cp.size, at, seal.sign_bytes(witness_text(code, at, cp)), seal.certificate)
        if not verify_with_certificate(load_certificate(seal.certificate), witness_text(code, at, cp), cs.signature):
            raise WitnessRefused(code, "its seal's signature does not verify with its certificate")

        def act(session: Session) -> Cosignature:
            audit_store.add_cosignature(session, cs)
            audit_store.store_certificates(session, seal.certificates())
            self._record(
                session,
                "audit.witness",
                agency=code,
                payload={"size": cp.size, "root": cp.root.hex(), "certificate": seal.serial},
            )
            return cs

        return self._run(act)

    def verify_audit_log(
        self,
        *,
        keys: Sequence[AuditPublicKey] = (),
        trust: Sequence[Any] = (),
        outside: Sequence[Outside] = (),
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
        check_signatures: bool = True,
    ) -> AuditReport:
        """Check the whole log in the database (``edoc audit verify``).

        Recomputes the tree from the events, compares every stored leaf hash and node, checks
        every checkpoint against the audit keys (``keys`` if given: the auditor's own copy;
        else the office's), every witness, every actor signature (chains to the ``trust`` roots,
        default the office's trust list), the checkpoints brought from ``outside``, and that the
        directory tables agree with the log. The report names the first bad event.
        """

        roots = list(trust) or self.trust_roots()

        def read(session: Session) -> AuditReport:
            conn = audit_store.verification_connection(session)
            stored_keys = audit_store.audit_keys(session)
            trusted = {audit_key_id(k): k for k in keys} or {
                k.key_id: audit_load_public_key(k.public_pem) for k in stored_keys
            }
            views = audit_views.LogViews()
            records = views.tap(audit_store.records(conn))
            report = check_log(
                progress_every(50_000, progress, records),
                checkpoints=audit_store.checkpoints(session),
                keys=trusted,
                cosignatures=audit_store.cosignatures(session),
                certificates=audit_store.certificates(session),
                roots=roots,
                nodes=audit_store.node_stream(conn),
                head=audit_store.head_for_verification(session),
                outside=outside,
                extra=self._audit_view_problems(session, views),  # consumed after the events
                require_checkpoint=bool(keys),
                workers=workers,
                check_signatures=check_signatures,
                timestamps=audit_store.timestamp_tokens(session),
            )
            return dataclasses.replace(report, notes=(*report.notes, _views_note(views)))

        return self._read(read)

    def _audit_view_tables(self, session: Session) -> dict[str, Any]:
        """The tables the log's views are compared with: the directory as rows, the registers,
        deliveries and document numbers as streams (read after the events, in the same snapshot)."""
        conn = session.connection()
        return {
            "agencies": {
                a.code: {"name": a.name, "letter_code": a.letter_code, "parent": a.parent, "address": a.address}
                for a in dir_store.list_agencies(session)
            },
            "units": {(u.agency, u.code): {"name": u.name} for u in dir_store.list_units(session)},
            "users": {
                u.username: {
                    "agency": u.agency,
                    "name": u.full_name,
                    "position": u.position,
                    "role": u.role.value,
                    "unit": u.unit,
                }
                for u in dir_store.list_users(session)
            },
            audit_views.REGISTERS: audit_store.register_table(conn),
            audit_views.DELIVERIES: audit_store.delivery_table(conn),
            audit_views.NUMBERS: audit_store.number_table(conn),
        }

    def _audit_view_problems(self, session: Session, views: audit_views.LogViews) -> Iterator[Problem]:
        """Differences between the tables and what the log says they hold, once ``views`` has
        folded the whole log (a generator: :func:`check_log` reads it after the events)."""
        yield from views.problems(self._audit_view_tables(session))

    def audit_views_from_log(self) -> audit_views.LogViews:
        """Every view folded from the audit log alone (one streaming pass over the events)."""

        def read(session: Session) -> audit_views.LogViews:
            views = audit_views.LogViews()
            for _ in views.tap(audit_store.records(audit_store.verification_connection(session))):
                pass
            return views

        return self._read(read)

    def register_from_log(self, agency: str, book: str | Book, *, year: int) -> list[RegisterRow]:
        """A register rebuilt from the audit log alone (what :meth:`register` reads from its
        table): the rows the log's events imply, in register order."""
        which = Book(book)
        views = self.audit_views_from_log()
        return [self._register_row_of(r) for r in audit_views.register_rows(views, agency, which.value, year)]

    def _register_row_of(self, r: Mapping[str, Any]) -> RegisterRow:
        at = datetime.fromisoformat(str(r["registered_at"]))
        return RegisterRow(
            register_number=r["register_number"],
            date=self._local(at).date(),
            document_number=r["document_number"],
            document_date=date.fromisoformat(r["document_date"]) if r["document_date"] else None,
            from_=r["from"],
            to=r["to"],
            subject=r["subject"],
            action=r["action"],
            remark=r["remark"],
            document_id=r["document_id"],
            cancelled=r["cancelled"],
            registered_at=at,
            seq=r["seq"],
            series=r["series"],
        )

    def export_audit_log(self, out: str | os.PathLike[str]) -> BundleSummary:
        """Write the whole log as a bundle an auditor checks offline (``edoc audit export``).

        When the audit key opens without a prompt, a fresh checkpoint is made first so the
        bundle is covered to its last event. The export itself is recorded (``audit.export``).
        """
        if not self.keyring.passphrases.interactive:
            import contextlib

            with contextlib.suppress(AuditKeyMissing, PassphraseRequired, WrongPassphrase):
                key, kid = self._audit_private_key()
                cp, _ = self._audit_checkpoint_with(key, kid)
                self._audit_stamp_if_wanted(cp, quiet=True)
        target = Path(out)

        def read(session: Session) -> BundleSummary:
            conn = audit_store.verification_connection(session)
            head = audit_store.read_head(session)
            tokens = audit_store.timestamp_tokens(session)
            cps = audit_store.checkpoints(session)
            stored_keys = audit_store.audit_keys(session)
            return write_bundle(
                target,
                leaves=audit_store.leaves(conn, stop=head.size),
                checkpoints=cps,
                cosignatures=audit_store.cosignatures(session),
                tokens=tokens,
                keys=[k.public_pem for k in stored_keys],
                certificates=audit_store.certificates(session),
                origin=stored_keys[0].origin if stored_keys else "",
                office=self.settings.office.name,
                exported_at=self.now(),
                views={
                    name: rows.items() if isinstance(rows, dict) else rows
                    for name, rows in self._audit_view_tables(session).items()
                },
            )

        summary = self._read(read)
        self._run(
            lambda s: self._record(
                s,
                "audit.export",
                payload={"events": summary.events, "root": summary.root, "checkpoint": summary.latest_checkpoint},
            )
        )
        return summary

    def document_history(self, document_id: int, *, as_user: str) -> list[HistoryEntry]:
        """A document's history from the audit log alone (``edoc doc history``): its events and
        those of the copies delivered from it, in log order. Needs :attr:`Act.READ_METADATA`."""
        if not isinstance(document_id, int) or isinstance(document_id, bool):
            raise TypeError("document_id must be an int")

        def read(session: Session) -> list[HistoryEntry]:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, document_id)
            require(actor, Act.READ_METADATA, self._document_facts(session, row))
            ids = [document_id, *audit_store.copies_of(session, document_id)]
            entries = audit_views.history(audit_store.events_of_document(session, ids))
            return [opened(session, e, row) for e in entries]

        def opened(session: Session, entry: HistoryEntry, row: DocumentRow) -> HistoryEntry:
            """A sealed route note (``note_sha256``) opened for a reader as ``note``: the log
            keeps the hash, and the opened note is checked against it."""
            digest = entry.payload.get("note_sha256")
            if not isinstance(digest, str) or "note" in entry.payload:
                return entry
            text = self._open_note(session, digest, openers, row)
            if text is None:
                return entry
            return dataclasses.replace(entry, payload={**entry.payload, "note": text})

        openers = self._note_openers(document_id, as_user)
        return self._read(read)

    # -- end of acts ----------------------------------------------------------------------------


def _masked(secrecy: str) -> str:
    """What is shown instead of the subject of a document one may not read."""
    words = {"confidential": "ลับ", "secret": "ลับมาก", "top-secret": "ลับที่สุด"}
    return f"[{words.get(secrecy, secrecy)}: {secrecy}]"


def _salted(fields_json: str) -> bytes:
    """Canonical fields with a random ``_salt`` added before sealing: the stored hash of sealed
    fields must not let anyone confirm a guessed subject (an import's fields are its subject)."""
    value = json.loads(fields_json)
    value["_salt"] = os.urandom(16).hex()
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _salted_note(text: str) -> bytes:
    """A route note as sealed: canonical JSON with a random ``_salt``, so the hash the step, its
    signature and the audit log carry cannot confirm a guessed note (short notes are guessable)."""
    value = {"note": text, "_salt": os.urandom(16).hex()}
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _sealed_stub(digest: str, *, initials: Sequence[str] = ()) -> str:
    """What ``fields_json`` holds for sealed fields: the plaintext's SHA-256 (its blob is an
    envelope) and the usernames who initial (route metadata the policy and signing read)."""
    stub: dict[str, Any] = {"sealed": digest}
    if initials:
        stub["initials"] = list(initials)
    return json.dumps(stub, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _cert_owner(cert: Any) -> str:
    """A certificate's owner as edoc names it (its common name as a fallback)."""
    from cryptography.x509.oid import NameOID

    for oid in (NameOID.USER_ID, NameOID.COMMON_NAME):
        attrs = cert.subject.get_attributes_for_oid(oid)
        if attrs:
            return str(attrs[0].value)
    return cert.subject.rfc4514_string()


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidField("role", f"{role!r} is not one of {', '.join(r.value for r in Role)}") from None


def _email(email: str | None) -> str | None:
    if email is None or email == "":
        return None
    if "@" not in email or " " in email.strip():
        raise InvalidField("email", f"{email!r} is not an e-mail address")
    return email.strip()


def _agency_payload(agency: Agency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name,
        "letter_code": agency.letter_code,
        "parent": agency.parent,
        "address": agency.address,
    }


def _user_payload(user: User) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "username": user.username,
        "name": user.full_name,
        "position": user.position,
        "role": user.role.value,
        "unit": user.unit,
    }
    if not user.active:  # the log says the account was added disabled (events of active ones unchanged)
        payload["active"] = False
    return payload


def _active(value: object) -> bool:
    """``User.active`` as given: a bool, nothing else (a string "false" must not enable an account)."""
    if not isinstance(value, bool):
        raise InvalidField("active", f"must be true or false, not {value!r}")
    return value


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - containers without a passwd entry
        return str(os.getuid())


_OS_USER = _os_user()


# -- audit (issue 9) helpers --------------------------------------------------------------------------


_FILED_ACTION = "เก็บ"
"""The registers' การปฏิบัติ once a document is filed (also in the ``doc.file`` event)."""
_DESTROYED_ACTION = "ทำลายแล้ว"
"""... once its content is destroyed (also in the ``records.destroy`` event)."""


def _views_note(views: audit_views.LogViews) -> str:
    """What the views compared, for the report's notes."""
    n = views.counts()
    return (
        f"tables compared with the log: {n['agencies']} agencies, {n['units']} units, {n['users']} users, "
        f"{n[audit_views.REGISTERS]} register rows, {n[audit_views.DELIVERIES]} deliveries, "
        f"{n[audit_views.NUMBERS]} document numbers"
    )


# -- signing (issue 5) helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class _SignPlan:
    """A checked signature, ready to be made (see :meth:`Office._plan_signature`)."""

    doc_id: int
    """The document."""
    username: str
    """Who signs."""
    agency: str
    """Their agency's code."""
    role: Any
    """A :class:`~edoc.signing.SignerRole`."""
    field: str
    """The field to sign."""
    level: Any
    """The :class:`~edoc.signing.Level`."""
    pdf: bytes
    """The PDF to sign (the stored one, or the final render with its empty fields)."""
    base_sha: str | None
    """SHA-256 of the stored PDF it was read from (None for the first signature)."""
    state: str
    """The document's state when planned."""
    event: DocumentEvent
    """The lifecycle event the signature is."""
    number: str | None
    """The document's number."""
    fields_sha256: str
    """SHA-256 of the text (canonical fields) the PDF was rendered from."""
    appearance: Any
    """What the visible signature shows (None: invisible, in a new field)."""
    reason: str
    """The signature's /Reason."""
    location: str
    """The signature's /Location (the agency's name)."""
    when: datetime
    """Signing time."""
    rendered: bool
    """True when the plan rendered the final PDF."""


def _batch_failure(doc_id: int, exc: EdocError) -> Any:
    from edoc.signing import BatchItem

    return BatchItem(doc_id, None, exc.message("en"), exc.message("th"), exc.exit_code)
