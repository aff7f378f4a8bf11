"""The facade: one object per office, one method per act, one transaction per act.

Every act follows the same shape: check the input (eagerly, before touching anything), open one
transaction, check permissions against the stored facts, change the state, append the audit
event, commit. Either all of it is stored or none of it. Files (blobs) are written and fsynced
before the rows that point at them, inside the same act.

``open_office`` is the Python front door; the CLI is a thin layer over these methods.
"""

from __future__ import annotations

import getpass
import logging
import os
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
    AlreadyExists,
    AuditKeyExists,
    AuditKeyMissing,
    AuditLogDamaged,
    CheckpointNotFound,
    EdocError,
    EmptyField,
    EnvironmentFailure,
    EventNotFound,
    HomeNotInitialised,
    InvalidField,
    InvalidState,
    PassphraseRequired,
    PermissionDenied,
    WitnessRefused,
    WrongPassphrase,
)
from edoc.pki.keys import KeyRing, NoPassphrases, Passphrases, StaticPassphrases, seal_private_key
from edoc.settings import SETTINGS_FILE, Settings, default_home, load_settings
from edoc.storage import audit as audit_store
from edoc.storage import directory as dir_store
from edoc.storage import documents as doc_store
from edoc.storage.blobs import sha256_hex
from edoc.storage.database import Database
from edoc.storage.documents import INITIAL_ROLES, SIGNER_ROLES
from edoc.storage.session import Session
from edoc.storage.tables import AccountRow, DocumentRow

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

    # -- signing (issue 5) ----------------------------------------------------------------------

    # -- verification (issue 6) -----------------------------------------------------------------

    # -- registers, numbering, search, records (issue 7) ----------------------------------------

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
        """The ``sign`` argument of :meth:`_record` for an act with legal weight by ``username``:
        signs the event with the user's own key (unlocked through the key ring) and keeps the
        user's certificate with the log. Raises when the user has no usable certificate."""
        identity_of = getattr(self, "signing_identity", None)
        if identity_of is None:
            raise EnvironmentFailure("certificates are not available in this edoc yet (issue 4): cannot sign the event")
        return signer_from_identity(identity_of(username))

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
        if not isinstance(self.keyring.passphrases, StaticPassphrases):
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
            head = audit_store.read_head(session)
            if not 0 <= seq < head.size:
                raise EventNotFound(seq, head.size)
            cp: Checkpoint | None
            if size is not None:
                if not seq < size <= head.size:
                    raise InvalidField("size", f"must be above {seq} and at most the log's size {head.size}")
                cp = audit_store.checkpoint(session, size)
                target = size
            else:
                cp = audit_store.covering_checkpoint(session, seq)
                target = cp.size if cp is not None else head.size
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
        else the office's), every witness, every actor signature (chains to ``trust`` roots if
        given), the checkpoints brought from ``outside``, and that the directory tables agree
        with the log. The report names the first bad event.
        """

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
                roots=trust,
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
        if isinstance(self.keyring.passphrases, StaticPassphrases):
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
