"""The facade: one object per office, one method per act, one transaction per act.

Every act follows the same shape: check the input (eagerly, before touching anything), open one
transaction, check permissions against the stored facts, change the state, append the audit
event, commit. Either all of it is stored or none of it. Files (blobs) are written and fsynced
before the rows that point at them, inside the same act.

``open_office`` is the Python front door; the CLI is a thin layer over these methods.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from edoc.audit.views import HistoryEntry, Rows
from edoc.directory import (
    Act,
    Actor,
    Agency,
    DocumentFacts,
    Role,
    Unit,
    User,
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
    TokenNotFound,
    UserNotFound,
    WitnessRefused,
    WrongPassphrase,
)
from edoc.pki import model as pki_model
from edoc.pki.keys import KeyRing, NoPassphrases, Passphrases, seal_private_key
from edoc.registers import (
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
from edoc.settings import SETTINGS_FILE, Settings, default_home, load_settings
from edoc.storage import audit as audit_store
from edoc.storage import directory as dir_store
from edoc.storage import documents as doc_store
from edoc.storage import pki as pki_store
from edoc.storage import registers as reg_store
from edoc.storage.blobs import sha256_hex
from edoc.storage.database import Database
from edoc.storage.documents import INITIAL_ROLES, SIGNER_ROLES
from edoc.storage.session import Session
from edoc.storage.tables import AccountRow, AgencyRow, DocumentRow, UnitRow

if TYPE_CHECKING:
    from edoc.documents.render import RenderInput, RenderResult

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
                    subject=content.subject,
                    fields_json=content.canonical_json(),
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
                    subject=title,
                    fields_json="{}",
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

        def read(session: Session) -> DocumentView:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.READ, self._document_facts(session, row))
            return doc_store.to_view(session, row)

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

        def read(session: Session) -> RenderInput | bytes:
            actor, _ = self._actor(session, as_user)
            row = self._document_row(session, doc_id)
            require(actor, Act.READ, self._document_facts(session, row))
            if row.origin != "drafted":
                return self._stored_pdf(session, row)
            return self._render_input(session, row)

        got = self._read(read)
        if isinstance(got, bytes):
            return stored_result(got)
        return render(got)

    def _render_row(self, session: Session, row: DocumentRow, *, on: date | None = None) -> RenderResult:
        """Render a drafted document inside the caller's transaction (the first signature uses
        this to make the final PDF, after the number is issued). ``on`` overrides the date."""
        from edoc.documents.render import render

        return render(self._render_input(session, row, on=on))

    def _render_input(self, session: Session, row: DocumentRow, *, on: date | None = None) -> RenderInput:
        """Everything the renderer needs about ``row``: fields, agency, signer, initials, files."""
        from edoc.documents.pdf import Attachment
        from edoc.documents.render import Letterhead, Person, RenderInput

        if row.origin != "drafted":
            raise InvalidState(f"document {row.id}", row.origin, "be rendered from fields")
        content = from_canonical(row.kind, doc_store.fields_of(row))
        agency = doc_store.agency_of(session, row)
        people = doc_store.accounts_by_username(session, [content.signer, *content.initials])
        signer = people[content.signer]
        initials = tuple(Person(people[u].full_name, people[u].position) for u in content.initials if u in people)
        assert row.id is not None
        files = tuple(
            Attachment(a.name, self.db.blobs.get(session, a.sha256), a.media_type)
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

    def _stored_pdf(self, session: Session, row: DocumentRow) -> bytes:
        if row.pdf_sha256 is None:
            raise InvalidState(f"document {row.id}", row.origin, "be rendered without its PDF")
        return self.db.blobs.get(session, row.pdf_sha256)

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
        from cryptography import x509

        from edoc.pki import profiles, testkeys

        name = self._pki_owner(owner)
        when = at or self.now()

        def gather(session: Session) -> tuple[Any, list[Any]]:
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

        row, chain = self._read(gather)
        cert = x509.load_der_x509_certificate(row.der)
        key_type = pki_model.KeyType(row.key_type)
        chain_certs = tuple(x509.load_der_x509_certificate(c.der) for c in chain)
        if row.key_storage == pki_model.KeyStorage.PKCS11.value:
            from edoc.pki import pkcs11

            token = row.pkcs11_token or ""
            ref = pki_model.Pkcs11KeyRef(
                module=self._pkcs11_module(),
                token_label=token,
                key_id=bytes.fromhex(row.pkcs11_key_id or ""),
                key_label=name,
                pin=self.keyring.passphrases.get(pki_model.pin_owner(token)),
            )
            if not pkcs11.key_exists(ref):
                raise TokenNotFound(f"the key of {name} ({row.pkcs11_key_id}) is not on token {token!r}")
            return pki_model.SigningIdentity(name, cert, chain_certs, key_type, pkcs11=ref)
        data = row.key_data
        if data is None:
            raise NoCertificate(name)
        private = self.keyring.unlock(name, row.serial, lambda: data)
        if not profiles.same_public_key(private, cert):
            raise CaNotUsable(f"the stored key of {name} does not belong to certificate {row.serial}")
        testkeys.refuse_example_key(private.public_key(), demo=self.settings.office.demo, what=f"the key of {name}")
        return pki_model.SigningIdentity(name, cert, chain_certs, key_type, private_key=private)

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
        reg_store.add_entries(
            session,
            [
                reg_store.NewEntry(
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
            ],
        )
        session.flush()
        self._record(
            session,
            "doc.number",
            actor=actor.username,
            agency=agency.code,
            document_id=row.id,
            payload={"number": number.text, "series": series.key, "year": year, "seq": seq, "book": "sent"},
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
            cancelled = reg_store.cancel_entries(session, row.id, f"ยกเลิก: {reason}")
            self._record(
                session,
                "doc.cancel",
                actor=actor.username,
                agency=actor.agency,
                document_id=row.id,
                payload={"reason": reason, "number": row.number, "register_rows": cancelled},
            )

        self._run(act)

    def _issue_receive_number(
        self, session: Session, row: DocumentRow, actor: Actor, *, remark: str = ""
    ) -> IssuedNumber:
        """Register ``row`` in its agency's register of received documents (เลขรับ), in the act's
        transaction. A document is received once: a second call is :class:`AlreadyReceived`."""
        assert row.id is not None, "flush the document before registering it"
        reg_store.lock_document(session, row)
        existing = reg_store.entries_of(session, row.id, Book.RECEIVED.value)
        if existing:
            raise AlreadyReceived(row.id, existing[0].number)
        agency = session.get(AgencyRow, row.agency_id)
        assert agency is not None and agency.id is not None
        now = self.now()
        year = numbering_year(self._local(now).date(), self._numbering_rules().year)
        seq = reg_store.next_seq(session, agency.id, RECEIVE_SERIES.key, year)
        number = IssuedNumber(agency.code, RECEIVE_SERIES, year, seq, format_number(RECEIVE_SERIES, seq, year, ""))
        fields = self._doc_fields(row)
        reg_store.add_entries(
            session,
            [
                reg_store.NewEntry(
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
            ],
        )
        row.updated_at = now
        session.add(row)
        session.flush()
        self._record(
            session,
            "doc.register",
            actor=actor.username,
            agency=agency.code,
            document_id=row.id,
            payload={"number": number.text, "series": RECEIVE_SERIES.key, "year": year, "seq": seq, "book": "received"},
        )
        return number


    # -- routing (issue 8) ----------------------------------------------------------------------

    def _routing_reached(self, session: Session, row: DocumentRow) -> tuple[set[str], set[str]]:
        """People and units the document reached on its route here (for :meth:`_document_facts`)."""
        from edoc.storage import routing as route_store

        if row.id is None:
            return set(), set()
        return route_store.parties(session, row.id), route_store.units(session, row.id)

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
        self._audit_checkpoint_with(private, info.key_id)
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
        checkpoint, that one is returned). Needs the audit key's passphrase.
        """
        key, kid = self._audit_private_key()
        return self._audit_checkpoint_with(key, kid)

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
            self._audit_checkpoint_with(key, kid)
        except (AuditKeyMissing, PassphraseRequired, WrongPassphrase):
            self._audit_quiet_failed_at = time.monotonic()
        except EdocError as exc:  # the act is committed; a checkpoint can be made later
            logging.getLogger(__name__).warning("automatic audit checkpoint failed: %s", exc.message("en"))

    def audit_proof(self, seq: int, *, size: int | None = None) -> InclusionProof:
        """Prove that event ``seq`` is in the log (``edoc audit proof``).

        Against the checkpoint of ``size`` if given, else the newest checkpoint that covers the
        event, else the current tree (unsigned: ``checkpoint`` is None). The proof is checked
        with the independent checker before it is returned.
        """
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise TypeError("seq must be an int")

        def read(session: Session) -> InclusionProof:
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

        proof = self._read(read)
        why = proof.check()
        if why is not None:
            raise AuditLogDamaged(f"the proof of event {seq} does not hold ({why})")
        return proof

    def audit_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Prove that the log of ``old_size`` events is a prefix of the log of ``new_size``
        (default: the newest checkpoint, else the current log). Checked before it is returned."""

        def read(session: Session) -> ConsistencyProof:
            head = audit_store.read_head(session)
            latest = audit_store.latest_checkpoint(session)
            new = new_size if new_size is not None else (latest.size if latest else head.size)
            if not 0 < old_size <= new <= head.size:
                raise InvalidField(
                    "size", f"sizes must satisfy 0 < old ({old_size}) <= new ({new}) <= log size ({head.size})"
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

        proof = self._read(read)
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
            views = self._audit_view_problems(session)
            return check_log(
                progress_every(50_000, progress, audit_store.records(conn)),
                checkpoints=audit_store.checkpoints(session),
                keys=trusted,
                cosignatures=audit_store.cosignatures(session),
                certificates=audit_store.certificates(session),
                roots=roots,
                nodes=audit_store.node_stream(conn),
                head=audit_store.head_for_verification(session),
                outside=outside,
                extra=views,
                require_checkpoint=bool(keys),
                workers=workers,
                check_signatures=check_signatures,
            )

        return self._read(read)

    def _audit_view_problems(self, session: Session) -> list[Problem]:
        """Differences between the tables and what the log says they hold."""
        problems: list[Problem] = []
        tables: dict[str, Rows] = {
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
        }
        for view in audit_views.DIRECTORY_VIEWS:
            logged = view.replay(audit_store.events_of_acts(session, view.acts))
            problems.extend(audit_views.compare(view, logged, tables[view.name]))
        return problems

    def export_audit_log(self, out: str | os.PathLike[str]) -> BundleSummary:
        """Write the whole log as a bundle an auditor checks offline (``edoc audit export``).

        When the audit key opens without a prompt, a fresh checkpoint is made first so the
        bundle is covered to its last event. The export itself is recorded (``audit.export``).
        """
        if not self.keyring.passphrases.interactive:
            import contextlib

            with contextlib.suppress(AuditKeyMissing, PassphraseRequired, WrongPassphrase):
                self.audit_checkpoint()
        target = Path(out)

        def read(session: Session) -> BundleSummary:
            conn = audit_store.verification_connection(session)
            head = audit_store.read_head(session)
            tokens = {}
            cps = audit_store.checkpoints(session)
            for cp in cps:
                token = audit_store.timestamp_token(session, cp.size)
                if token is not None:
                    tokens[cp.size] = token
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
            return audit_views.history(audit_store.events_of_document(session, ids))

        return self._read(read)

    # -- end of acts ----------------------------------------------------------------------------


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
    return {
        "username": user.username,
        "name": user.full_name,
        "position": user.position,
        "role": user.role.value,
        "unit": user.unit,
    }


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - containers without a passwd entry
        return str(os.getuid())


_OS_USER = _os_user()
