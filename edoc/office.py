"""The facade: one object per office, one method per act, one transaction per act.

Every act follows the same shape: check the input (eagerly, before touching anything), open one
transaction, check permissions against the stored facts, change the state, append the audit
event, commit. Either all of it is stored or none of it. Files (blobs) are written and fsynced
before the rows that point at them, inside the same act.

``open_office`` is the Python front door; the CLI is a thin layer over these methods.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

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
    next_state,
    parse_kind,
    validate,
)
from edoc.documents.fields import read_attachment
from edoc.documents.lifecycle import INITIAL_STATE, TransitionRefused
from edoc.documents.thai import one_line
from edoc.errors import (
    EmptyField,
    HomeNotInitialised,
    InvalidField,
    InvalidState,
    PermissionDenied,
)
from edoc.pki.keys import KeyRing, NoPassphrases, Passphrases
from edoc.settings import SETTINGS_FILE, Settings, default_home, load_settings
from edoc.storage import audit as audit_store
from edoc.storage import directory as dir_store
from edoc.storage import documents as doc_store
from edoc.storage.blobs import sha256_hex
from edoc.storage.database import Database
from edoc.storage.documents import INITIAL_ROLES, SIGNER_ROLES
from edoc.storage.session import Session
from edoc.storage.tables import AccountRow, DocumentRow

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
        no act without its events, no event without its act.
        """

        def act(session: Session) -> T:
            result = fn(session)
            audit_store.flush_pending(session)
            return result

        return self.db.tx.run(act, write=write)

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
        return DocumentFacts(
            agency=agency.code,
            agency_path=dir_store.agency_path(session, agency),
            unit=unit,
            secrecy=row.secrecy,
            parties=frozenset(parties),
            units=frozenset({unit}) if unit else frozenset(),
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

    # -- audit (issue 9) ------------------------------------------------------------------------

    def audit_events(self, start: int = 0, stop: int | None = None) -> list[Any]:
        return self._read(lambda s: audit_store.events(s, start, stop))

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
