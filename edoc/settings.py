"""The office's settings: ``edoc.toml`` in the home, read into frozen dataclasses.

Every setting has a default, so an empty or missing file is a valid configuration. Unknown
sections or keys are an error (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edoc.errors import InvalidField

SETTINGS_FILE = "edoc.toml"


@dataclass(frozen=True)
class OfficeSettings:
    name: str = "edoc office"
    """Display name of this installation (``edoc init --name``)."""
    demo: bool = False
    """True only for homes built by ``edoc demo`` or tests: unlocks the committed test keys."""
    timezone: str = "Asia/Bangkok"
    """Time zone for dates shown to people and printed on documents."""


@dataclass(frozen=True)
class StorageSettings:
    blob_dir: str = ""
    """Directory for the blob store. Empty: ``<home>/blobs`` on SQLite, in the database on
    PostgreSQL."""
    busy_timeout_ms: int = 30000
    """How long a SQLite writer waits for the lock before giving up."""


@dataclass(frozen=True)
class PkiSettings:
    base_url: str = "http://127.0.0.1:8080"
    """Base URL of ``edoc pki serve``, written into certificates (CRL DP, OCSP, AIA)."""
    ca_key: str = "rsa3072"
    """Key type of the root and issuing CA: ``rsa3072`` or ``p384``."""
    user_key: str = "p256"
    """Default key type of end-entity certificates: ``rsa2048`` or ``p256``."""
    validity_days: int = 730
    """Validity of end-entity certificates."""
    crl_next_update_hours: int = 24
    """nextUpdate of CRLs, in hours after thisUpdate."""
    kdf_rounds: int = 200_000
    """PBKDF2-HMAC-SHA256 iterations protecting private keys at rest (PKCS#12, AES-256)."""
    root_validity_days: int = 7305
    """Validity of the root CA made by ``pki init`` (20 years)."""
    ca_validity_days: int = 3652
    """Validity of the issuing CA made by ``pki init`` (10 years)."""
    tsa_validity_days: int = 1826
    """Validity of the time-stamping certificate (5 years)."""
    ocsp_validity_days: int = 365
    """Validity of the OCSP responder certificate (short: it carries ocsp-nocheck)."""
    ocsp_next_update_minutes: int = 60
    """nextUpdate of OCSP responses, in minutes after thisUpdate."""
    pkcs11_module: str = ""
    """Path of the PKCS#11 module for keys on tokens (e.g. ``/usr/lib/softhsm/libsofthsm2.so``)."""


@dataclass(frozen=True)
class NumberingSettings:
    year: str = "calendar"
    """``calendar`` (January) or ``fiscal`` (October to September) numbering years."""
    series: str = "agency"
    """``agency``: one outgoing series per agency; ``unit``: one per unit."""
    unit_letter_codes: dict[str, str] = field(default_factory=dict)
    """With ``series = "unit"``: the letter code each unit prints, ``"AGENCY/UNIT" = "นม 52101.3"``."""


@dataclass(frozen=True)
class SigningSettings:
    default_level: str = "B-LT"
    """PAdES level used when ``--level`` is not given."""
    tsa_url: str = ""
    """RFC 3161 time-stamping URL; empty: ``<pki.base_url>/tsa``."""


@dataclass(frozen=True)
class RoutingSettings:
    due_days: dict[str, int] = field(
        default_factory=lambda: {"most-urgent": 0, "very-urgent": 1, "urgent": 3, "normal": 7}
    )
    """Default due date, in working days after receipt, per urgency."""
    holidays: list[str] = field(default_factory=list)
    """Public holidays (ISO dates, ``"2026-12-07"``) skipped when counting working days."""
    deliveries_per_transaction: int = 100
    """A send delivers its copies this many to a transaction (each recipient is still whole:
    a transaction either delivers all of its recipients or none); 1 commits each alone."""


@dataclass(frozen=True)
class RetentionSettings:
    default_class: str = "10y"
    """Class given on filing when none is named."""
    classes: dict[str, int] = field(default_factory=lambda: {"permanent": 0, "10y": 10, "5y": 5, "1y": 1})
    """Retention classes: name -> years (0 means permanent)."""
    by_agency: dict[str, dict[str, int]] = field(default_factory=dict)
    """An agency's own classes over the office's: ``[retention.by_agency.PAKCHONG] finance = 10``."""
    default_by_agency: dict[str, str] = field(default_factory=dict)
    """An agency's own default class: ``[retention.default_by_agency] PAKCHONG = "5y"``."""


@dataclass(frozen=True)
class AuditSettings:
    checkpoint_every: int = 1000
    """Make a signed checkpoint after this many events."""
    checkpoint_seconds: int = 3600
    """... or when the last checkpoint is older than this."""
    timestamp: bool = False
    """Have every new checkpoint time-stamped (RFC 3161) by the office's TSA
    (``signing.tsa_url`` or ``edoc pki serve``'s ``/tsa``)."""


@dataclass(frozen=True)
class Settings:
    """All settings of one office."""

    office: OfficeSettings = field(default_factory=OfficeSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    pki: PkiSettings = field(default_factory=PkiSettings)
    numbering: NumberingSettings = field(default_factory=NumberingSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Settings:
        """Build settings from parsed TOML, refusing unknown sections, keys and wrong types."""
        sections: dict[str, Any] = {}
        known = {f.name: f for f in dataclasses.fields(cls)}
        for name, value in data.items():
            if name not in known:
                raise InvalidField(name, f"unknown settings section in {SETTINGS_FILE}")
            if not isinstance(value, dict):
                raise InvalidField(name, "must be a table")
            section_type = type(getattr(cls(), name))
            sections[name] = _build_section(name, section_type, value)
        return cls(**sections)

    def to_mapping(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build_section(name: str, section_type: type, values: dict[str, Any]) -> Any:
    defaults = section_type()
    kwargs: dict[str, Any] = {}
    fields = {f.name for f in dataclasses.fields(section_type)}
    for key, value in values.items():
        if key not in fields:
            raise InvalidField(f"{name}.{key}", f"unknown setting in {SETTINGS_FILE}")
        default = getattr(defaults, key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise InvalidField(f"{name}.{key}", "must be true or false")
        if (
            isinstance(default, int)
            and not isinstance(default, bool)
            and (not isinstance(value, int) or isinstance(value, bool))
        ):
            raise InvalidField(f"{name}.{key}", "must be an integer")
        if isinstance(default, str) and not isinstance(value, str):
            raise InvalidField(f"{name}.{key}", "must be a string")
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise InvalidField(f"{name}.{key}", "must be a table")
            value = {**default, **value}
        kwargs[key] = value
    return section_type(**kwargs)


def load_settings(home: Path) -> Settings:
    """Read ``<home>/edoc.toml``; defaults when the file does not exist."""
    path = home / SETTINGS_FILE
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidField(str(path), f"not valid TOML: {exc}") from exc
    return Settings.from_mapping(data)


def default_home() -> Path:
    """``EDOC_HOME`` or ``./edoc-home``."""
    return Path(os.environ.get("EDOC_HOME") or "edoc-home")
