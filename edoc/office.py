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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from edoc.directory import (
    Act,
    Actor,
    Agency,
    Role,
    Unit,
    User,
    require,
    validate_agency_code,
    validate_letter_code,
    validate_username,
)
from edoc.directory.model import validate_text
from edoc.errors import HomeNotInitialised, InvalidField, PermissionDenied
from edoc.pki.keys import KeyRing, NoPassphrases, Passphrases
from edoc.settings import SETTINGS_FILE, Settings, default_home, load_settings
from edoc.storage import audit as audit_store
from edoc.storage import directory as dir_store
from edoc.storage.database import Database
from edoc.storage.session import Session
from edoc.storage.tables import AccountRow

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
