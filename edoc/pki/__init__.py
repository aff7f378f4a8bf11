"""The pilot's PKI: CA, certificates, revocation, time-stamps, and keys at rest."""

from edoc.pki.keys import (
    KeyRing,
    NoPassphrases,
    Passphrases,
    PrivateKey,
    StaticPassphrases,
    open_private_key,
    passphrases_from_file,
    seal_private_key,
)

__all__ = [
    "KeyRing",
    "NoPassphrases",
    "Passphrases",
    "PrivateKey",
    "StaticPassphrases",
    "open_private_key",
    "passphrases_from_file",
    "seal_private_key",
]
