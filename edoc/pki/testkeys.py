"""The example keys published in the repository's ``certs/`` directory, and the rule that keeps
them out of real offices.

Those keys are public knowledge (their passphrase is in ``certs/README.md``), so a signature
made with one proves nothing. edoc recognises them by the SHA-256 of their public key
(SubjectPublicKeyInfo, DER) and refuses to use them in any home that is not a test or demo home
(``office.demo = true`` in ``edoc.toml``): not as a CA, not to sign.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from edoc.errors import TestKeyRefused

EXAMPLE_KEYS: dict[str, str] = {
    "c31201956f8bd17d5fc685e7ae9fa898fa3f4a5156fb83319bdb01b8ada8fcf1": "EXAMPLE-KEY-pc.mayor.p12",
}
"""SPKI SHA-256 (hex) -> file name in ``certs/``, of every published example key."""


def spki_sha256(public_key: object) -> str:
    """SHA-256 (hex) of a public key's SubjectPublicKeyInfo DER."""
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined]
    return hashlib.sha256(der).hexdigest()


def is_example_key(public_key: object) -> bool:
    return spki_sha256(public_key) in EXAMPLE_KEYS


def refuse_example_key(public_key: object, *, demo: bool, what: str) -> None:
    """Raise :class:`TestKeyRefused` when ``public_key`` is a published example key and the
    home is not a test or demo home."""
    if not demo and is_example_key(public_key):
        raise TestKeyRefused(f"{what} ({EXAMPLE_KEYS[spki_sha256(public_key)]})")
