"""Keys on PKCS#11 tokens (smart cards, USB tokens, HSMs; tested with SoftHSM2).

``edoc pki issue USER --pkcs11-token LABEL`` creates the key pair *on* the token (sensitive,
not extractable), certifies the public key, and writes the certificate next to the key on the
token (same CKA_ID), so other PKCS#11 software sees a complete identity. The office stores only
a reference: token label and key id. Signing opens a session, logs in with the token's PIN and
asks the token to sign.

The PIN is a passphrase like any other: owner ``pkcs11:<token label>`` (one PIN per token, as
PKCS#11 has it). The module path is the setting ``pki.pkcs11_module``.

``python-pkcs11`` is imported only here, and only when a token is used (it is an optional
dependency: ``pip install edoc[pkcs11]``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from edoc.errors import Pkcs11Unavailable, TokenNotFound, WrongPassphrase
from edoc.pki.model import KeyType, Pkcs11KeyRef, pin_owner

_LOCK = threading.Lock()


def _lib(module: str) -> Any:
    if not module:
        raise Pkcs11Unavailable("no PKCS#11 module: set pki.pkcs11_module in edoc.toml")
    if not os.path.isfile(module):
        raise Pkcs11Unavailable(f"the PKCS#11 module {module} does not exist")
    try:
        import pkcs11
    except ImportError:  # pragma: no cover - depends on the installation
        raise Pkcs11Unavailable("python-pkcs11 is not installed: pip install 'edoc[pkcs11]'") from None
    try:
        return pkcs11.lib(module)
    except Exception as exc:
        raise Pkcs11Unavailable(f"cannot load {module}: {exc}") from None


@contextmanager
def session(module: str, token_label: str, pin: bytes, *, rw: bool = False) -> Iterator[Any]:
    """A logged-in session on the token labelled ``token_label``."""
    import pkcs11
    from pkcs11 import exceptions as p11

    with _LOCK:
        lib = _lib(module)
        try:
            token = lib.get_token(token_label=token_label)
        except p11.NoSuchToken:
            raise TokenNotFound(f"no token labelled {token_label!r} in {module}") from None
        except p11.MultipleTokensReturned:
            raise TokenNotFound(f"several tokens are labelled {token_label!r}") from None
    try:
        try:
            opened = token.open(rw=rw, user_pin=pin.decode("utf-8"))
        except p11.UserAlreadyLoggedIn:  # another session of this process is logged in (the
            opened = token.open(rw=rw)  # login is the application's): share it, log nobody out
    except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
        raise WrongPassphrase(pin_owner(token_label)) from None
    except p11.PinLocked:
        raise Pkcs11Unavailable(f"the PIN of token {token_label!r} is locked") from None
    except pkcs11.PKCS11Error as exc:
        raise Pkcs11Unavailable(f"cannot open token {token_label!r}: {type(exc).__name__}") from None
    try:
        yield opened
    finally:
        opened.close()


def generate_key_on_token(
    module: str, token_label: str, pin: bytes, key_type: KeyType, *, key_id: bytes, label: str
) -> bytes:
    """Create a sensitive, non-extractable key pair on the token; return the public key
    (SubjectPublicKeyInfo, DER)."""
    import pkcs11
    from pkcs11 import Attribute, Mechanism
    from pkcs11 import KeyType as P11KeyType
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
    from pkcs11.util.rsa import encode_rsa_public_key

    private_template = {
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.SIGN: True,
        Attribute.PRIVATE: True,
    }
    with session(module, token_label, pin, rw=True) as s:
        try:
            if key_type is KeyType.P256:
                params = s.create_domain_parameters(
                    P11KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
                )
                public, _private = params.generate_keypair(
                    store=True,
                    id=key_id,
                    label=label,
                    mechanism=Mechanism.EC_KEY_PAIR_GEN,
                    private_template=private_template,
                )
                spki = encode_ec_public_key(public)
            elif key_type is KeyType.RSA2048:
                public, _private = s.generate_keypair(
                    P11KeyType.RSA, 2048, store=True, id=key_id, label=label, private_template=private_template
                )
                spki = encode_rsa_public_key(public)
            else:
                raise Pkcs11Unavailable(f"edoc creates p256 or rsa2048 keys on tokens, not {key_type}")
        except pkcs11.PKCS11Error as exc:
            raise Pkcs11Unavailable(f"the token {token_label!r} could not create a key: {type(exc).__name__}") from None
    key = load_der_public_key(spki)
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def store_certificate(module: str, token_label: str, pin: bytes, cert_der: bytes, *, key_id: bytes, label: str) -> None:
    """Write the certificate onto the token, next to its key (same CKA_ID and label)."""
    import pkcs11
    from pkcs11 import Attribute
    from pkcs11.util.x509 import decode_x509_certificate

    attrs = decode_x509_certificate(cert_der)
    attrs[Attribute.ID] = key_id
    attrs[Attribute.LABEL] = label
    attrs[Attribute.TOKEN] = True
    with session(module, token_label, pin, rw=True) as s:
        try:
            s.create_object(attrs)
        except pkcs11.PKCS11Error as exc:
            raise Pkcs11Unavailable(f"cannot store the certificate on {token_label!r}: {type(exc).__name__}") from None


def sign_with_token(ref: Pkcs11KeyRef, key_type: KeyType, data: bytes) -> bytes:
    """Sign ``data`` on the token: ECDSA over its SHA-256 (returned DER-encoded, as X.509 wants)
    or RSA PKCS#1 v1.5 with SHA-256."""
    import pkcs11
    from pkcs11 import Mechanism, ObjectClass
    from pkcs11.util.ec import encode_ecdsa_signature

    with session(ref.module, ref.token_label, ref.pin) as s:
        try:
            key = s.get_key(object_class=ObjectClass.PRIVATE_KEY, id=ref.key_id)
        except pkcs11.NoSuchKey:
            raise TokenNotFound(f"no key {ref.key_id.hex()} on token {ref.token_label!r}") from None
        try:
            if key_type is KeyType.P256:  # hashed here: many tokens (SoftHSM too) do raw ECDSA only
                digest = hashlib.sha256(data).digest()
                return bytes(encode_ecdsa_signature(key.sign(digest, mechanism=Mechanism.ECDSA)))
            return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
        except pkcs11.PKCS11Error as exc:
            raise Pkcs11Unavailable(f"the token {ref.token_label!r} could not sign: {type(exc).__name__}") from None


def key_exists(ref: Pkcs11KeyRef) -> bool:
    """Is the referenced private key on the token?"""
    import pkcs11
    from pkcs11 import ObjectClass

    with session(ref.module, ref.token_label, ref.pin) as s:
        try:
            s.get_key(object_class=ObjectClass.PRIVATE_KEY, id=ref.key_id)
        except pkcs11.NoSuchKey:
            return False
        return True


class TokenEcKey:
    """An EC private key on a token, for opening CMS envelopes (RFC 5753): ``exchange`` runs
    ``CKM_ECDH1_DERIVE`` (no KDF) on the token and returns the shared secret ``Z``; the X9.63
    KDF and the key unwrap happen in the caller, as for a software key. The private key never
    leaves the token; ``Z`` opens only the one envelope whose ephemeral key it was agreed with.
    The key needs ``CKA_DERIVE`` (keys edoc makes on tokens have it: python-pkcs11's default for
    EC keys)."""

    def __init__(self, ref: Pkcs11KeyRef, curve: ec.EllipticCurve) -> None:
        self.ref = ref
        self._curve = curve

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._curve

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        import pkcs11
        from pkcs11 import KDF, Attribute, Mechanism
        from pkcs11 import KeyType as P11KeyType

        if not isinstance(algorithm, ec.ECDH):
            raise TypeError("only ECDH is supported")
        point = peer_public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        size = (self._curve.key_size + 7) // 8
        with session(self.ref.module, self.ref.token_label, self.ref.pin) as s:
            key = _private_key(s, self.ref)
            try:
                secret = key.derive_key(
                    P11KeyType.GENERIC_SECRET,
                    size * 8,
                    mechanism=Mechanism.ECDH1_DERIVE,
                    mechanism_param=(KDF.NULL, None, point),
                    template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True, Attribute.TOKEN: False},
                )
                try:
                    return bytes(secret[Attribute.VALUE])
                finally:
                    secret.destroy()
            except pkcs11.PKCS11Error as exc:
                raise Pkcs11Unavailable(
                    f"the token {self.ref.token_label!r} could not agree a key (ECDH): {type(exc).__name__}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover - the session context returns or raises


class TokenRsaKey:
    """An RSA private key on a token, for opening CMS envelopes with key transport: the token
    decrypts the wrapped content key (RSA-OAEP with SHA-256, or PKCS#1 v1.5)."""

    def __init__(self, ref: Pkcs11KeyRef) -> None:
        self.ref = ref

    def decrypt(self, ciphertext: bytes, padding: asym_padding.AsymmetricPadding) -> bytes:
        import pkcs11
        from pkcs11 import MGF, Mechanism

        if isinstance(padding, asym_padding.OAEP):
            if not (isinstance(padding.algorithm, hashes.SHA256) and isinstance(padding.mgf, asym_padding.MGF1)):
                raise ValueError("the token decrypts RSA-OAEP with SHA-256 only")
            mechanism, param = Mechanism.RSA_PKCS_OAEP, (Mechanism.SHA256, MGF.SHA256, None)
        elif isinstance(padding, asym_padding.PKCS1v15):
            mechanism, param = Mechanism.RSA_PKCS, None
        else:
            raise ValueError(f"unsupported padding {padding.name}")
        with session(self.ref.module, self.ref.token_label, self.ref.pin) as s:
            key = _private_key(s, self.ref)
            try:
                return bytes(key.decrypt(ciphertext, mechanism=mechanism, mechanism_param=param))
            except (pkcs11.ArgumentsBad, pkcs11.MechanismInvalid, pkcs11.MechanismParamInvalid):
                # SoftHSM2 does RSA-OAEP with SHA-1 only: say so rather than "not a recipient"
                raise Pkcs11Unavailable(
                    f"the token {self.ref.token_label!r} does not decrypt {mechanism.name}"
                    + (" with SHA-256" if param else "")
                ) from None
            except pkcs11.PKCS11Error:
                raise ValueError("the token's key does not decrypt it") from None


def token_key(ref: Pkcs11KeyRef, public_key: Any) -> TokenEcKey | TokenRsaKey:
    """The token's private key for ``public_key`` (its certificate's), as an envelope opener."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return TokenEcKey(ref, public_key.curve)
    if isinstance(public_key, rsa.RSAPublicKey):
        return TokenRsaKey(ref)
    raise TypeError(f"no envelope opener for a {type(public_key).__name__} key on a token")


def _private_key(s: Any, ref: Pkcs11KeyRef) -> Any:
    import pkcs11
    from pkcs11 import ObjectClass

    try:
        return s.get_key(object_class=ObjectClass.PRIVATE_KEY, id=ref.key_id)
    except pkcs11.NoSuchKey:
        raise TokenNotFound(f"no key {ref.key_id.hex()} on token {ref.token_label!r}") from None
