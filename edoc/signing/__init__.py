"""PAdES signing and verification: the only part of edoc that uses pyHanko.

Signing side (issue 5): :func:`prepare_fields` creates the empty signature fields the renderer
reserved; :func:`sign_pdf` signs into one of them (initials, the signer's block) or into a new
field; :func:`stamp_received` adds a receiving agency's received stamp as a seal signature;
:func:`sign_receipt` an invisible acknowledgement; :func:`refresh_ltv` renews long-term
validity; :mod:`edoc.signing.batch` signs many documents over several processes. Keys are
opened once as a :class:`SigningKey` (a loaded ``cryptography`` key or a PKCS#11 token).

The names below are imported lazily: ``import edoc.signing`` stays cheap, and pyHanko is
loaded the first time one of them is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from edoc.signing.fields import default_stamp_zone, inspect_fields, plan_locks, prepare_fields, stamp_slot
    from edoc.signing.keys import Credentials, Pkcs11Key, SigningKey
    from edoc.signing.model import (
        BatchItem,
        BatchOutcome,
        DocumentSigned,
        FieldBox,
        FieldInfo,
        FieldKind,
        InitialMark,
        Level,
        ReceivedStamp,
        Rect,
        SealApplied,
        SignatureBlock,
        Signed,
        SignerRole,
    )
    from edoc.signing.services import Services
    from edoc.signing.sign import refresh_ltv, sign_pdf, sign_receipt, stamp_received

_LAZY = {
    "prepare_fields": "edoc.signing.fields",
    "inspect_fields": "edoc.signing.fields",
    "plan_locks": "edoc.signing.fields",
    "stamp_slot": "edoc.signing.fields",
    "Credentials": "edoc.signing.keys",
    "Pkcs11Key": "edoc.signing.keys",
    "SigningKey": "edoc.signing.keys",
    "BatchItem": "edoc.signing.model",
    "BatchOutcome": "edoc.signing.model",
    "DocumentSigned": "edoc.signing.model",
    "SealApplied": "edoc.signing.model",
    "SignerRole": "edoc.signing.model",
    "default_stamp_zone": "edoc.signing.fields",
    "FieldBox": "edoc.signing.model",
    "FieldInfo": "edoc.signing.model",
    "FieldKind": "edoc.signing.model",
    "InitialMark": "edoc.signing.model",
    "Level": "edoc.signing.model",
    "ReceivedStamp": "edoc.signing.model",
    "Rect": "edoc.signing.model",
    "SignatureBlock": "edoc.signing.model",
    "Signed": "edoc.signing.model",
    "Services": "edoc.signing.services",
    "refresh_ltv": "edoc.signing.sign",
    "sign_pdf": "edoc.signing.sign",
    "sign_receipt": "edoc.signing.sign",
    "stamp_received": "edoc.signing.sign",
}

__all__ = [
    "BatchItem",
    "BatchOutcome",
    "Credentials",
    "DocumentSigned",
    "FieldBox",
    "FieldInfo",
    "FieldKind",
    "InitialMark",
    "Level",
    "Pkcs11Key",
    "ReceivedStamp",
    "Rect",
    "SealApplied",
    "Services",
    "SignatureBlock",
    "Signed",
    "SignerRole",
    "SigningKey",
    "default_stamp_zone",
    "inspect_fields",
    "plan_locks",
    "prepare_fields",
    "refresh_ltv",
    "sign_pdf",
    "sign_receipt",
    "stamp_received",
    "stamp_slot",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'edoc.signing' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
