"""The pilot's certificate issuance, CRL and OCSP: edoc beside bare ``cryptography`` in the same run.

    python benchmarks/pki.py [--count 1775] [--rsa-count 1775] [--db-url URL] [--json]

The pilot asked for 1,775 certificates. In a fresh home (343 agencies, ``count`` users, a
root and issuing CA at the default RSA-3072, PKCS#12 key sealing at the default
``pki.kdf_rounds``), edoc issues a certificate to every user in one act
(``Office.issue_certificates``: keys made and sealed in worker processes, one per core, then
every certificate signed, stored and audited in one transaction). Its peers, in this process:

- **bare cryptography**: ``generate_private_key`` and ``CertificateBuilder().sign()`` with the same
  extensions, subject and CA key type, nothing else (the key is not protected, not stored);
- **bare cryptography + PKCS#12**: the same and the key serialised as PKCS#12 (AES-256, PBKDF2
  with the same rounds), which edoc must do (no private key is ever kept in plain): one process.

P-256 keys and RSA-2048 keys are measured separately (RSA key generation dominates the latter).
Then ``revoked`` of the certificates are revoked and edoc signs a CRL (``publish_crl``: one act,
stored and audited) beside a bare ``CertificateRevocationListBuilder`` listing the same serials,
and ``edoc pki serve`` answers OCSP requests over HTTP on loopback (median round trip of a
request made with ``cryptography``'s ``OCSPRequestBuilder``) beside a bare ``OCSPResponseBuilder``
response signed in this process (no HTTP, no database). The CRL fetch over HTTP is the last row.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import Result, median_ms, print_table, timeit, to_json

PASSPHRASE = "benchmark passphrase, not secret"
AGENCIES = 343


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _office(home: Path, db_url: str | None, users: int, kdf_rounds: int | None = None) -> Any:
    """A home with the province's directory (``users`` people) and the CA made; open."""
    import tomllib

    import tomli_w

    from edoc.office import init_office, open_office
    from edoc.pilot import DemoOptions
    from edoc.pilot.directory import build_directory
    from edoc.pki.keys import StaticPassphrases

    init_office(home, db_url, name="จังหวัดนครราชสีมา")
    path = home / "edoc.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("pki", {})["base_url"] = f"http://127.0.0.1:{_free_port()}"
    if kdf_rounds is not None:
        data["pki"]["kdf_rounds"] = kdf_rounds
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    office = open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE))
    build_directory(office, DemoOptions(agencies=AGENCIES, users=users), lambda *_: None)
    office.pki_init(organisation="จังหวัดนครราชสีมา")
    return office


class Bare:
    """Plain ``cryptography``: a CA of the same key type and a signer-certificate builder."""

    def __init__(self, ca_key_type: str = "rsa3072") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.x509.oid import NameOID

        self.x509, self.hashes = x509, hashes
        self.ca_key: Any = (
            rsa.generate_private_key(65537, 3072)
            if ca_key_type == "rsa3072"
            else ec.generate_private_key(ec.SECP384R1())
        )
        self.ca_name = x509.Name(
            [x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"), x509.NameAttribute(NameOID.COMMON_NAME, "Bare CA")]
        )
        now = datetime.now(UTC)
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(self.ca_name)
            .issuer_name(self.ca_name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.ca_key, hashes.SHA256())
        )

    def key(self, key_type: str) -> Any:
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        return ec.generate_private_key(ec.SECP256R1()) if key_type == "p256" else rsa.generate_private_key(65537, 2048)

    def certificate(self, key: Any, i: int) -> Any:
        """A document-signing certificate with edoc's extensions and a Thai UTF8String subject."""
        from cryptography.x509.oid import NameOID

        x509 = self.x509
        now = datetime.now(UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "เทศบาลเมืองปากช่อง"),
                x509.NameAttribute(NameOID.TITLE, "เจ้าพนักงานธุรการ"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"นายทดสอบ คนที่ {i}"),
                x509.NameAttribute(NameOID.USER_ID, f"user{i}"),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=730))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier("http://127.0.0.1/crl/issuing.crl")], None, None, None
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            x509.oid.AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier("http://127.0.0.1/ocsp"),
                        )
                    ]
                ),
                critical=False,
            )
            .sign(self.ca_key, self.hashes.SHA256())
        )

    def issue(self, key_type: str, count: int, *, seal_rounds: int | None) -> float:
        """Seconds to make ``count`` keys and certificates (and PKCS#12 files with ``seal_rounds``)."""
        from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

        started = time.perf_counter()
        for i in range(count):
            key = self.key(key_type)
            cert = self.certificate(key, i)
            if seal_rounds is not None:
                encryption = (
                    PrivateFormat.PKCS12.encryption_builder()
                    .kdf_rounds(seal_rounds)
                    .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
                    .hmac_hash(self.hashes.SHA256())
                    .build(PASSPHRASE.encode())
                )
                pkcs12.serialize_key_and_certificates(f"user{i}".encode(), key, None, None, encryption)
            del cert
        return time.perf_counter() - started

    def crl(self, serials: list[int]) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        x509 = self.x509
        now = datetime.now(UTC)
        builder = x509.CertificateRevocationListBuilder().issuer_name(self.ca_name)
        builder = builder.last_update(now).next_update(now + timedelta(hours=24))
        for serial in serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
            )
        return builder.sign(self.ca_key, self.hashes.SHA256()).public_bytes(Encoding.DER)

    def ocsp(self, cert: Any) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509 import ocsp

        now = datetime.now(UTC)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert, self.ca, self.hashes.SHA1(), ocsp.OCSPCertStatus.GOOD, now, now + timedelta(hours=1), None, None
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca)
        )
        return builder.sign(self.ca_key, self.hashes.SHA256()).public_bytes(Encoding.DER)


def _ocsp_request(cert: Any, issuer: Any) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp

    return ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build().public_bytes(Encoding.DER)


def _post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/ocsp-request"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def run(
    count: int = 1775,
    rsa_count: int = 1775,
    revoked: int = 100,
    requests: int = 200,
    db_url: str | None = None,
    kdf_rounds: int | None = None,
) -> list[Result]:
    """The figures (see the module's docstring). ``kdf_rounds``: ``pki.kdf_rounds`` for the run
    (default: edoc's default, 200,000), to see what the key sealing costs against the rest."""
    from cryptography import x509
    from cryptography.x509 import ocsp

    from edoc.pki.model import CertificateRequest

    results: list[Result] = []
    bare = Bare()
    with tempfile.TemporaryDirectory() as tmp:
        office = _office(Path(tmp) / "home", db_url, max(count, rsa_count), kdf_rounds)
        try:
            rounds = office.settings.pki.kdf_rounds
            users = [u.username for u in office.list_users()]
            issued: list[Any] = []
            for key_type, n, label in (("p256", count, "P-256"), ("rsa2048", rsa_count, "RSA-2048")):
                if n <= 0:
                    continue
                requests_ = [CertificateRequest(u, key=key_type) for u in users[:n]]
                started = time.perf_counter()
                issued = office.issue_certificates(requests_, replace=key_type != "p256")
                edoc_s = time.perf_counter() - started
                bare_s = bare.issue(key_type, n, seal_rounds=None)
                sealed_s = bare.issue(key_type, n, seal_rounds=rounds)
                results.append(
                    Result(
                        f"issue {n} certificates, {label} keys (one act, worker processes)",
                        edoc_s,
                        "s",
                        "bare cryptography keygen + CertificateBuilder, 1 process",
                        bare_s,
                        "1,775 P-256 under 60 s" if key_type == "p256" else "",
                        f"{edoc_s / n * 1000:.1f} vs {bare_s / n * 1000:.1f} ms per certificate",
                    )
                )
                results.append(
                    Result(
                        f"issue {n} certificates, {label} keys, beside sealed peer",
                        edoc_s,
                        "s",
                        f"bare cryptography + PKCS#12 AES-256 at {rounds:,} PBKDF2 rounds, 1 process",
                        sealed_s,
                        "",
                        f"{sealed_s / n * 1000:.1f} ms per sealed certificate in the peer",
                    )
                )
            # revocation: revoke some, then a CRL
            for c in issued[:revoked]:
                office.revoke(c.serial, "superseded")
            crl_edoc = timeit(office.publish_crl, repeat=5, warmup=1)
            published = office.latest_crl()
            assert published is not None
            listed = published.revoked  # the revoked ones and the P-256 ones the RSA certificates replaced
            serials = [entry.serial_number for entry in published.crl]
            crl_bare = timeit(lambda: bare.crl(serials), repeat=5, warmup=1)
            results.append(
                Result(
                    f"sign a CRL listing {listed} revocations (one act)",
                    median_ms(crl_edoc),
                    "ms",
                    f"bare CertificateRevocationListBuilder, {len(serials)} entries",
                    median_ms(crl_bare),
                    "",
                    "edoc: RSA-3072 issuing CA key, stored and audited",
                )
            )
            issuing = office.pki_status().issuing.certificate
            good = [x509.load_pem_x509_certificate(c.pem) for c in issued[revoked : revoked + requests]]
            if not good:
                good = [x509.load_pem_x509_certificate(issued[0].pem)]
            bodies = [_ocsp_request(c, issuing) for c in good]
            with office.pki_server() as server:
                url = f"{server.url}/ocsp"
                answer = ocsp.load_der_ocsp_response(_post(url, bodies[0]))
                assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
                times: list[float] = []
                for i in range(requests):
                    body = bodies[i % len(bodies)]
                    started = time.perf_counter()
                    _post(url, body)
                    times.append(time.perf_counter() - started)
                bare_cert = bare.certificate(bare.key("p256"), 0)
                bare_times = timeit(lambda: bare.ocsp(bare_cert), repeat=requests, warmup=1)
                results.append(
                    Result(
                        "OCSP answer over HTTP on loopback",
                        median_ms(times),
                        "ms",
                        "bare OCSPResponseBuilder sign, in process",
                        median_ms(bare_times),
                        "",
                        f"median of {requests}; p95 {sorted(times)[int(0.95 * (len(times) - 1))] * 1000:.1f} ms; "
                        "edoc: P-256 responder, status from the register",
                    )
                )
                crl_get: list[float] = []
                for _ in range(max(5, requests // 10)):
                    started = time.perf_counter()
                    with urllib.request.urlopen(f"{server.url}/crl/issuing.crl", timeout=30) as response:
                        response.read()
                    crl_get.append(time.perf_counter() - started)
                results.append(
                    Result(
                        "CRL fetched over HTTP on loopback",
                        statistics.median(crl_get) * 1000,
                        "ms",
                        "",
                        None,
                        "",
                        f"median of {len(crl_get)}; {listed} entries",
                    )
                )
        finally:
            office.close()
    return results


DATABASE = True
"""Issuance, revocation and OCSP status all go through the database: run on SQLite and PostgreSQL."""

SUITE_SIZES = {"tiny": (8, 4, 2, 5), "quick": (177, 40, 20, 50), "full": (1775, 1775, 100, 200)}
"""(count, rsa_count, revoked, requests) per size of ``python -m benchmarks``."""


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    return run(*SUITE_SIZES[size], db_url=db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1775, help="P-256 certificates")
    parser.add_argument("--rsa-count", type=int, default=1775, help="RSA-2048 certificates")
    parser.add_argument("--revoked", type=int, default=100)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--kdf-rounds", type=int, default=None, help="pki.kdf_rounds (default: edoc's, 200,000)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(
        args.count, args.rsa_count, args.revoked, args.requests, db_url=args.db_url, kdf_rounds=args.kdf_rounds
    )
    if args.json:
        print(to_json(results))
    else:
        print_table("PKI", results)


if __name__ == "__main__":
    main()
