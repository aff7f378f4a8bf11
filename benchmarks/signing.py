"""Signing speed: edoc's B-B signature beside bare pyHanko, and batch signing on 1 and 2 cores.

Peers, measured in the same run on the same one-page Thai letter with its signature field
already in place:

- bare pyHanko: ``PdfSigner.sign_pdf`` with pyHanko's ``SimpleSigner`` (key in memory), a
  fixed ``bytes_reserved`` and its default appearance in the same field;
- for RSA-2048, the same, to show what re-loading the key for every signature costs.

edoc's figures include everything edoc adds: the field checks (is it there, empty, not locked),
the Thai signature block shaped with HarfBuzz and embedded in Sarabun; the office-level figures
(:func:`run_office`) add the permission and order checks, reading the stored PDF, the blob
written and fsynced, the state change and the signed audit event in one SQLite transaction.

    python -m benchmarks.signing [--runs N] [--batch N] [--office-batch N] [--skip-library] [--json]
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from benchmarks.common import Result, median_ms, print_table, timeit, to_json


def _pki() -> dict[str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    root_key = ec.generate_private_key(ec.SECP384R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(name("bench root"))
        .issuer_name(name("bench root"))
        .public_key(root_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA384())
    )
    out: dict[str, Any] = {"root": root}
    for label, key in (("ec", ec.generate_private_key(ec.SECP256R1())), ("rsa", rsa.generate_private_key(65537, 2048))):
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(f"นายกเทศมนตรี {label}"))
            .issuer_name(root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(root_key, hashes.SHA384())
        )
        out[label] = (key, cert)
    return out


def _letter() -> bytes:
    from pathlib import Path

    import fontpkg_sarabun
    from fpdf import FPDF

    from edoc.signing import prepare_fields

    pdf = FPDF(unit="pt", format="A4")
    pdf.add_font("Sarabun", fname=str(Path(fontpkg_sarabun.ROOT) / "files" / "Sarabun-Regular.ttf"))
    pdf.set_text_shaping(True)
    pdf.add_page()
    pdf.set_font("Sarabun", size=16)
    pdf.set_xy(85, 120)
    pdf.multi_cell(430, 22, "เรื่อง ขอความอนุเคราะห์\nเรียน นายอำเภอปากช่อง\n" + "ด้วยเทศบาลเมืองปากช่องขอส่งหนังสือฉบับนี้ " * 8)
    return prepare_fields(bytes(pdf.output()), {"signature": (0, (330.0, 150.0, 530.0, 215.0))})


def _bare_signer(key: Any, cert: Any, root: Any) -> Any:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from pyhanko.sign.signers.pdf_cms import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return SimpleSigner(
        asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())),
        SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(root.public_bytes(Encoding.DER))]),
    )


def _bare_sign(letter: bytes, signer: Any, reserved: int) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(letter))
    meta = signers.PdfSignatureMetadata(
        field_name="signature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    return signers.PdfSigner(meta, signer).sign_pdf(writer, bytes_reserved=reserved).getvalue()


def run(runs: int = 30, batch: int = 1000) -> list[Result]:
    from edoc.signing import Credentials, SignatureBlock, SigningKey, sign_pdf
    from edoc.signing.batch import Job, sign_batch

    pki = _pki()
    letter = _letter()
    results: list[Result] = []
    for label in ("ec", "rsa"):
        key, cert = pki[label]
        creds = Credentials(certificate=cert, chain=(pki["root"],), key=key, owner="bench")
        edoc_key = SigningKey(creds)
        block = SignatureBlock("นายปกครอง เมืองดี", "นายกเทศมนตรีเมืองปากช่อง", datetime.now(UTC))

        def edoc_sign(edoc_key: Any = edoc_key, block: Any = block) -> bytes:
            return sign_pdf(letter, edoc_key, field="signature", appearance=block).pdf

        edoc_sign()
        reserved = next(iter(edoc_key.reserved.values()))
        bare = _bare_signer(key, cert, pki["root"])

        def bare_sign(bare: Any = bare, reserved: int = reserved) -> bytes:
            return _bare_sign(letter, bare, reserved)

        # alternate the two so drift on a busy machine hits both alike
        edoc_times: list[float] = []
        bare_times: list[float] = []
        for _ in range(runs):
            edoc_times += timeit(edoc_sign, repeat=1, warmup=0)
            bare_times += timeit(bare_sign, repeat=1, warmup=0)
        name = "P-256" if label == "ec" else "RSA-2048"
        results.append(
            Result(
                f"B-B signature, {name} (library, Thai block)",
                median_ms(edoc_times),
                "ms",
                "bare pyHanko (SimpleSigner, fixed reserve)",
                median_ms(bare_times),
                "",
                "edoc draws the Thai signature block; pyHanko its default stamp",
            )
        )

    key, cert = pki["ec"]
    creds = Credentials(certificate=cert, chain=(pki["root"],), key=key, owner="bench")
    block = SignatureBlock("นายปกครอง เมืองดี", "นายกเทศมนตรีเมืองปากช่อง", datetime.now(UTC))
    jobs = [Job(key=i, pdf=letter, field="signature", appearance=block) for i in range(batch)]
    times = {}
    for workers in (1, 2):
        started = time.perf_counter()
        outcomes = list(sign_batch(jobs, creds, workers=workers))
        times[workers] = time.perf_counter() - started
        failed = [o for o in outcomes if not o.ok]
        if failed:
            raise SystemExit(f"batch failed: {failed[0].error}")
    results.append(
        Result(
            f"batch of {batch} letters, 2 worker processes",
            times[2],
            "s",
            "the same batch in 1 process",
            times[1],
            "ratio <= 0.59 (1.7x faster)",
            f"{batch / times[2]:.0f} vs {batch / times[1]:.0f} letters/s; speed-up {times[1] / times[2]:.2f}x",
        )
    )
    return results


# -- the office: database write and audit event included ------------------------------------------

BENCH_PASSPHRASE = "benchmark only"


def _office_home(root: Any) -> Any:
    """A SQLite office with an agency, a drafter, a mayor with P-256 certificates and its CA."""
    import tomllib

    import tomli_w

    from edoc.office import init_office, open_office
    from edoc.pki.keys import StaticPassphrases

    home = root / "home"
    init_office(home, None, name="benchmark")
    path = home / "edoc.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("pki", {}).update({"kdf_rounds": 10_000, "base_url": "http://127.0.0.1:9"})
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    office = open_office(home, None, passphrases=StaticPassphrases(default=BENCH_PASSPHRASE))
    office.add_agency("PAKCHONG", name="เทศบาลเมืองปากช่อง", letter_code="นม 52101")
    office.add_user(
        "pc.mayor",
        agency="PAKCHONG",
        full_name="นายสมศักดิ์ ประเสริฐวงศ์",
        position="นายกเทศมนตรีเมืองปากช่อง",
        role="executive",
    )
    office.add_user(
        "pc.officer", agency="PAKCHONG", full_name="นางสาวอรุณี ใจงาม", position="นักจัดการงานทั่วไป", role="officer"
    )
    office.pki_init("p384")
    office.issue_certificate("pc.mayor", key="p256")
    office.issue_certificate("pc.officer", key="p256")
    return office


def _drafts(office: Any, count: int, progress: str = "") -> list[int]:
    """``count`` letters, each already carrying its drafter's approval (so it is rendered and
    numbered): what waits on the mayor's desk."""
    letter = {
        "subject": "ขอความอนุเคราะห์ข้อมูล",
        "to": "นายอำเภอปากช่อง",
        "body": ["ด้วยเทศบาลเมืองปากช่องขอส่งหนังสือฉบับนี้มาเพื่อโปรดพิจารณา " * 4],
        "signer": "pc.mayor",
    }
    ids = [office.new_document("external", letter, as_user="pc.officer") for _ in range(count)]
    for d in ids:
        office.sign_document(d, as_user="pc.officer", level="B-B")
    return ids


def run_office(runs: int = 30, batch: int = 100) -> list[Result]:
    """The mayor's B-B signature through the office (checks, stored PDF read, Thai block,
    signature, blob written and fsynced, state, audit event signed, commit) beside bare pyHanko
    signing the same stored PDF in the same field; then a batch through the office on 1 and 2
    worker processes."""
    import logging
    import tempfile
    from pathlib import Path

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="edoc-bench-") as tmp:
        office = _office_home(Path(tmp))
        try:
            ids = _drafts(office, runs + 1)
            office.sign_document(ids[0], as_user="pc.mayor", level="B-B")  # warm: key, fonts, reserve
            key, identity = office._signing_key("pc.mayor")
            reserved = next(iter(key.reserved.values()))
            stored = office._read(lambda s: office.db.blobs.get(s, office._document_row(s, ids[1]).pdf_sha256))
            bare = _bare_signer(identity.private_key, identity.certificate, identity.chain[-1])
            edoc_times: list[float] = []
            bare_times: list[float] = []
            for d in ids[1:]:
                edoc_times += timeit(
                    partial(office.sign_document, d, as_user="pc.mayor", level="B-B"), repeat=1, warmup=0
                )
                bare_times += timeit(partial(_bare_sign, stored, bare, reserved), repeat=1, warmup=0)
            results.append(
                Result(
                    "B-B signature through the office, P-256 (SQLite, blob fsync, signed audit event)",
                    median_ms(edoc_times),
                    "ms",
                    "bare pyHanko on the same stored PDF",
                    median_ms(bare_times),
                    "ratio <= 1.3",
                    f"{runs} signatures each; edoc draws the Thai block and commits the act",
                )
            )
            times = {}
            for workers in (1, 2):
                pending = _drafts(office, batch)
                started = time.perf_counter()
                items = office.sign_documents(pending, as_user="pc.mayor", level="B-B", workers=workers)
                times[workers] = time.perf_counter() - started
                bad = [i for i in items if not i.ok]
                if bad:
                    raise SystemExit(f"office batch failed: {bad[0].error}")
            results.append(
                Result(
                    f"office batch of {batch} letters, 2 worker processes",
                    times[2],
                    "s",
                    "the same through the office in 1 process",
                    times[1],
                    "ratio <= 0.59 (1.7x faster)",
                    f"{batch / times[2]:.0f} vs {batch / times[1]:.0f} letters/s; speed-up {times[1] / times[2]:.2f}x",
                )
            )
        finally:
            office.close()
    return results


SUITE_SIZES = {"tiny": (2, 4), "quick": (10, 100), "full": (30, 1000)}
"""(runs, batch) per size of ``python -m benchmarks``."""


def suite(size: str, db_url: str | None) -> list[Result]:
    """``python -m benchmarks``'s entry: the figures at ``size`` (see :mod:`benchmarks.run`)."""
    runs, batch = SUITE_SIZES[size]
    return run(runs, batch) + run_office(runs, max(4, batch // 10))


def main() -> None:
    import logging

    logging.getLogger("pyhanko").setLevel(logging.ERROR)  # pyHanko's default stamp warns about margins
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--office-batch", type=int, default=100, help="letters in the office-level batch")
    parser.add_argument("--skip-library", action="store_true", help="only the office-level figures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [] if args.skip_library else run(args.runs, args.batch)
    results += run_office(args.runs, args.office_batch)
    if args.json:
        print(to_json(results))
    else:
        print_table("signing (median wall time)", results)


if __name__ == "__main__":
    main()
