"""Secrecy at rest: sealing and opening a signed letter's PDF as CMS EnvelopedData.

edoc's envelopes (``edoc.routing.envelope``: AES-256-CBC content, ECDH key agreement per
recipient, RFC 5753) for the recipients a secret letter has in the pilot: the agency's seal and
four people on the route, P-384 keys. Peer, measured in the same run: ``cryptography``'s own
``PKCS7EnvelopeBuilder`` / ``pkcs7_decrypt_der`` (OpenSSL underneath; RSA key transport, the
only kind it takes) with as many RSA-2048 recipients. Adding a reader to a stored envelope
(a route step) is compared with sealing it all again. No target: the figures show the cost a
signature, a stamp or a route step pays on a restricted letter.

Also: sealing a route note (the cost a route step with a note pays on a restricted letter), and
opening with a key on a PKCS#11 token (SoftHSM2; ECDH on the token) beside a software key.

    python -m benchmarks.secrecy [--kib 300] [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from benchmarks.common import Result, median_ms, print_table, timeit
from edoc.routing import envelope

READERS = 5
"""The seal and four people on the route."""
INIT_PINS = ("--so-pin", "99887766", "--pin", "1234")
"""The benchmark's throw-away SoftHSM2 token."""


def _certificate(key: object, name: str) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    return builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]


def run(kib: int = 300, runs: int = 20) -> list[Result]:
    data = b"%PDF-1.7\n" + os.urandom(max(1, kib) * 1024)
    ec_keys = [ec.generate_private_key(ec.SECP384R1()) for _ in range(READERS + 1)]
    ec_certs = [_certificate(k, f"reader {i}") for i, k in enumerate(ec_keys)]
    rsa_keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(READERS)]
    rsa_certs = [_certificate(k, f"rsa reader {i}") for i, k in enumerate(rsa_keys)]
    readers, newcomer = ec_certs[:READERS], ec_certs[READERS]

    def peer_seal() -> bytes:
        builder = pkcs7.PKCS7EnvelopeBuilder().set_data(data)
        for cert in rsa_certs:
            builder = builder.add_recipient(cert)
        return builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])

    sealed = envelope.seal(data, readers)
    peer_sealed = peer_seal()
    assert envelope.open_sealed(sealed, readers[-1], ec_keys[READERS - 1]) == data
    assert pkcs7.pkcs7_decrypt_der(peer_sealed, rsa_certs[-1], rsa_keys[-1], []) == data

    seal_ms = median_ms(timeit(lambda: envelope.seal(data, readers), repeat=runs))
    peer_seal_ms = median_ms(timeit(peer_seal, repeat=runs))
    open_ms = median_ms(timeit(lambda: envelope.open_sealed(sealed, readers[-1], ec_keys[READERS - 1]), repeat=runs))
    peer_open_ms = median_ms(
        timeit(
            lambda: pkcs7.pkcs7_decrypt_der(peer_sealed, rsa_certs[-1], rsa_keys[-1], []),
            repeat=runs,
        )
    )
    add_ms = median_ms(timeit(lambda: envelope.add_recipients(sealed, readers[0], ec_keys[0], [newcomer]), repeat=runs))
    reseal_ms = median_ms(timeit(lambda: envelope.seal(data, [*readers, newcomer]), repeat=runs))
    size = f"{kib} KiB, {READERS} readers"
    peer = f"cryptography PKCS7 (RSA-2048, {READERS} readers)"
    return [
        Result(f"seal a PDF ({size}, P-384 ECDH)", seal_ms, "ms", peer, peer_seal_ms),
        Result(f"open it with one reader's key ({kib} KiB)", open_ms, "ms", peer, peer_open_ms),
        Result(f"add a reader (route step, {kib} KiB)", add_ms, "ms", "seal again for all", reseal_ms),
        Result(
            f"envelope size ({kib} KiB content)",
            len(sealed) / 1024,
            "KiB",
            "cryptography PKCS7 envelope",
            len(peer_sealed) / 1024,
        ),
    ]


def note_run(runs: int = 20) -> list[Result]:
    """A route note of a restricted letter: a salted ~200-byte JSON sealed for the readers."""
    note = ("มอบปลัดอำเภอสอบข้อเท็จจริงแล้วรายงานภายในสามวัน " * 2).encode("utf-8")
    ec_keys = [ec.generate_private_key(ec.SECP384R1()) for _ in range(READERS)]
    readers = [_certificate(k, f"reader {i}") for i, k in enumerate(ec_keys)]
    rsa_keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(READERS)]
    rsa_certs = [_certificate(k, f"rsa reader {i}") for i, k in enumerate(rsa_keys)]

    def peer_seal() -> bytes:
        builder = pkcs7.PKCS7EnvelopeBuilder().set_data(note)
        for cert in rsa_certs:
            builder = builder.add_recipient(cert)
        return builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])

    ms = median_ms(timeit(lambda: envelope.seal(note, readers), repeat=runs))
    peer_ms = median_ms(timeit(peer_seal, repeat=runs))
    cpu, peer_cpu = cpu_ms(lambda: envelope.seal(note, readers), runs), cpu_ms(peer_seal, runs)
    peer = f"cryptography PKCS7 (RSA-2048, {READERS} readers)"
    return [
        Result(f"seal a route note ({len(note)} B, {READERS} readers, P-384)", ms, "ms", peer, peer_ms),
        Result("  the same, CPU time per note", cpu, "ms", peer, peer_cpu),
    ]


def cpu_ms(fn: Callable[[], object], runs: int) -> float:
    """Mean CPU milliseconds of ``fn`` in this process (load-independent, unlike wall time)."""
    fn()
    start = time.process_time()
    for _ in range(runs):
        fn()
    return (time.process_time() - start) * 1000 / runs


def token_run(runs: int = 20) -> list[Result]:
    """Opening an envelope with a P-256 key on a PKCS#11 token (SoftHSM2 in a temporary
    directory: ECDH on the token, ``CKM_ECDH1_DERIVE``) beside the same envelope opened with a
    software P-256 key. [] when SoftHSM2 or python-pkcs11 is missing."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    module = "/usr/lib/softhsm/libsofthsm2.so"
    if not Path(module).exists() or not shutil.which("softhsm2-util"):
        return []
    try:
        import pkcs11
        from pkcs11 import Attribute, Mechanism
        from pkcs11 import KeyType as P11KeyType
        from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
    except ImportError:
        return []
    from edoc.pki.model import Pkcs11KeyRef
    from edoc.pki.pkcs11 import token_key

    data = b"%PDF-1.7\n" + os.urandom(16 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tokens").mkdir()
        conf = Path(tmp) / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tmp}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        old = os.environ.get("SOFTHSM2_CONF")
        os.environ["SOFTHSM2_CONF"] = str(conf)
        try:
            subprocess.run(
                [*("softhsm2-util", "--init-token", "--free", "--label", "bench"), *INIT_PINS],
                check=True,
                capture_output=True,
            )
            pkcs11.unload(module)
            with pkcs11.lib(module).get_token(token_label="bench").open(rw=True, user_pin="1234") as s:
                params = s.create_domain_parameters(
                    P11KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
                )
                public, _private = params.generate_keypair(
                    store=True, id=b"\x01", label="bench", mechanism=Mechanism.EC_KEY_PAIR_GEN
                )
                spki = encode_ec_public_key(public)
            token_public = serialization.load_der_public_key(spki)

            class _Public:  # a certificate builder wants a key object with public_key()
                def public_key(self) -> object:
                    return token_public

            issuer = ec.generate_private_key(ec.SECP256R1())
            soft = ec.generate_private_key(ec.SECP256R1())
            token_cert = _signed(issuer, _Public(), "token reader")
            soft_cert = _signed(issuer, soft, "software reader")
            sealed = envelope.seal(data, [token_cert, soft_cert])
            key = token_key(Pkcs11KeyRef(module, "bench", b"\x01", "bench", b"1234"), token_cert.public_key())
            assert envelope.open_sealed(sealed, token_cert, key) == data
            token_ms = median_ms(timeit(lambda: envelope.open_sealed(sealed, token_cert, key), repeat=runs))
            soft_ms = median_ms(timeit(lambda: envelope.open_sealed(sealed, soft_cert, soft), repeat=runs))
            token_cpu = cpu_ms(lambda: envelope.open_sealed(sealed, token_cert, key), runs)
            soft_cpu = cpu_ms(lambda: envelope.open_sealed(sealed, soft_cert, soft), runs)
        finally:
            pkcs11.unload(module)
            if old is None:
                os.environ.pop("SOFTHSM2_CONF", None)
            else:
                os.environ["SOFTHSM2_CONF"] = old
    peer = "software P-256 key, same envelope"
    return [
        Result("open with a token key (SoftHSM2, P-256 ECDH, 16 KiB)", token_ms, "ms", peer, soft_ms),
        Result("  the same, CPU time per open", token_cpu, "ms", peer, soft_cpu),
    ]


def _signed(issuer: ec.EllipticCurvePrivateKey, subject_key: object, name: str) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench issuer")]))
        .public_key(subject_key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(issuer, hashes.SHA256())
    )


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    kib, runs = {"tiny": (16, 2), "quick": (300, 5), "full": (300, 20)}[size]
    return [*run(kib, runs), *note_run(runs), *token_run(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kib", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    results = [*run(args.kib, args.runs), *note_run(args.runs), *token_run(args.runs)]
    print_table("secrecy at rest (median wall time; CPU time where said)", results)


if __name__ == "__main__":
    main()
