"""Secrecy at rest: sealing and opening a signed letter's PDF as CMS EnvelopedData.

edoc's envelopes (``edoc.routing.envelope``: AES-256-CBC content, ECDH key agreement per
recipient, RFC 5753) for the recipients a secret letter has in the pilot: the agency's seal and
four people on the route, P-384 keys. Peer, measured in the same run: ``cryptography``'s own
``PKCS7EnvelopeBuilder`` / ``pkcs7_decrypt_der`` (OpenSSL underneath; RSA key transport, the
only kind it takes) with as many RSA-2048 recipients. Adding a reader to a stored envelope
(a route step) is compared with sealing it all again. No target: the figures show the cost a
signature, a stamp or a route step pays on a restricted letter.

    python -m benchmarks.secrecy [--kib 300] [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from benchmarks.common import Result, median_ms, print_table, timeit
from edoc.routing import envelope

READERS = 5
"""The seal and four people on the route."""


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


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    kib, runs = {"tiny": (16, 2), "quick": (300, 5), "full": (300, 20)}[size]
    return run(kib, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kib", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print_table("secrecy at rest (median wall time)", run(args.kib, args.runs))


if __name__ == "__main__":
    main()
