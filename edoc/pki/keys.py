"""Private keys at rest, and the passphrases that unlock them.

Every private key edoc stores is a PKCS#12 structure holding the key alone, encrypted with
AES-256-CBC under a key derived from the owner's passphrase by PBKDF2-HMAC-SHA256 (the
iteration count is the setting ``pki.kdf_rounds``), with an HMAC-SHA256 integrity check. This is
what ``cryptography`` writes natively and what ``openssl pkcs12`` reads; the key is never
serialised unencrypted, not even to a temporary file.

*Owners* name whose passphrase unlocks a key: a username (``pc.mayor``), ``agency:CODE`` for an
agency's seal, ``ca`` for the CA keys, ``audit`` for the office's audit key, ``tsa`` and
``ocsp`` for the service keys. A :class:`Passphrases` source answers "what is the passphrase of
this owner?"; the CLI builds one from ``--passphrase-file`` / ``EDOC_PASSPHRASE_FILE`` or asks
at a hidden prompt. A :class:`KeyRing` keeps keys unlocked for the life of the process so a
batch of signatures unlocks once.
"""

from __future__ import annotations

import threading
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar, TypeAlias

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

from edoc.errors import InvalidField, PassphraseRequired, WrongPassphrase

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
"""The private key types edoc stores."""

DEFAULT_KDF_ROUNDS = 200_000
"""PBKDF2-HMAC-SHA256 iterations for new keys (about 45 ms per unlock on the pilot's machines)."""


def seal_private_key(key: PrivateKey, passphrase: bytes, *, name: str = "", rounds: int = DEFAULT_KDF_ROUNDS) -> bytes:
    """The key encrypted under ``passphrase`` as DER PKCS#12 (key only)."""
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise TypeError(f"unsupported private key type {type(key).__name__}")
    if not isinstance(passphrase, bytes):
        raise TypeError("passphrase must be bytes")
    if len(passphrase) < 8:
        raise InvalidField("passphrase", "must be at least 8 characters")
    if rounds < 10_000:
        raise ValueError("rounds must be at least 10000")
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(rounds)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )
    return pkcs12.serialize_key_and_certificates(name.encode() or None, key, None, None, encryption)


def open_private_key(data: bytes, passphrase: bytes, *, owner: str) -> PrivateKey:
    """Decrypt a key written by :func:`seal_private_key`; :class:`WrongPassphrase` otherwise."""
    if not isinstance(data, bytes):
        raise TypeError("key data must be bytes")
    try:
        key, _cert, _extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        raise WrongPassphrase(owner) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise WrongPassphrase(owner)
    return key


class Passphrases(ABC):
    """Where passphrases come from."""

    interactive: ClassVar[bool] = False
    """True for a source that asks a person (a prompt): background work such as the audit log's
    automatic checkpoints never asks one."""

    @abstractmethod
    def get(self, owner: str) -> bytes:
        """The passphrase of ``owner``; :class:`PassphraseRequired` if there is none."""


class StaticPassphrases(Passphrases):
    """Passphrases given up front: per owner, with an optional default for everyone."""

    def __init__(self, by_owner: Mapping[str, bytes | str] | None = None, default: bytes | str | None = None):
        self._by_owner = {k: _bytes(v) for k, v in (by_owner or {}).items()}
        self._default = None if default is None else _bytes(default)

    def get(self, owner: str) -> bytes:
        if owner in self._by_owner:
            return self._by_owner[owner]
        if self._default is not None:
            return self._default
        raise PassphraseRequired(owner)


class NoPassphrases(Passphrases):
    """For offices opened without a way to unlock keys: every request is refused clearly."""

    def get(self, owner: str) -> bytes:
        raise PassphraseRequired(owner)


def passphrases_from_file(path: str | Path) -> StaticPassphrases:
    """Read a passphrase file.

    Two forms: a file whose first line is the passphrase (used for every key the command
    needs), or a TOML file with a ``[passphrases]`` table mapping owners to passphrases::

        [passphrases]
        "pc.clerk" = "…"
        "agency:PAKCHONG" = "…"
        default = "…"          # optional, for any other owner
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InvalidField("passphrase-file", f"cannot read {file}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidField("passphrase-file", f"{file} is not UTF-8 text") from None
    if "[passphrases]" in text:
        try:
            table = tomllib.loads(text).get("passphrases", {})
        except tomllib.TOMLDecodeError as exc:
            raise InvalidField("passphrase-file", f"{file}: {exc}") from None
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise InvalidField("passphrase-file", f"{file}: [passphrases] must map names to strings")
        default = table.pop("default", None)
        return StaticPassphrases(table, default)
    first = text.splitlines()[0] if text.splitlines() else ""
    if not first:
        raise InvalidField("passphrase-file", f"{file} is empty")
    return StaticPassphrases(default=first)


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


class KeyRing:
    """Keys unlocked once per process, by owner and key id (thread-safe)."""

    def __init__(self, passphrases: Passphrases) -> None:
        self.passphrases = passphrases
        self._keys: dict[tuple[str, str], PrivateKey] = {}
        self._lock = threading.Lock()

    def unlock(self, owner: str, key_id: str, load: Callable[[], bytes]) -> PrivateKey:
        """The key ``key_id`` of ``owner``: cached, or ``load()``-ed and decrypted now."""
        with self._lock:
            cached = self._keys.get((owner, key_id))
        if cached is not None:
            return cached
        key = open_private_key(load(), self.passphrases.get(owner), owner=owner)
        with self._lock:
            self._keys[(owner, key_id)] = key
        return key

    def cached(self, owner: str, key_id: str) -> PrivateKey | None:
        """The key ``key_id`` of ``owner`` if it is unlocked in this process, else None."""
        with self._lock:
            return self._keys.get((owner, key_id))

    def forget(self) -> None:
        with self._lock:
            self._keys.clear()
