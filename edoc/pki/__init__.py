"""The pilot's PKI: CA, certificates, revocation, time-stamps, and keys at rest.

Thai common names: X.520 bounds a CN at 64 *characters*, but ``cryptography`` checks 64 UTF-8
*bytes* (21 Thai characters) and warns whenever it parses a longer one. edoc's certificates
carry full Thai names (see :func:`edoc.pki.profiles._common_name_attr`), so that one warning
is silenced here, for that message only.
"""

import warnings

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

warnings.filterwarnings("ignore", message="Attribute's length must be >= 1 and <= 64", category=UserWarning)

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
