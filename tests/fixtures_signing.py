"""A real test PKI for the signing tests: certomancer behind a real HTTP server on loopback.

The PKI (a root, an issuing CA, an OCSP responder, a TSA, heads, a mayor, two agency seals, a
revoked, an expired and a not-yet-valid user, an RSA user) is generated at session start with
validity around *now*, so CRLs, OCSP responses and time-stamps are real and current. The
services (CRL, OCSP, RFC 3161) answer over HTTP from a werkzeug server in a thread; pyHanko
fetches from the URLs in the certificates, and so does poppler's ``pdfsig`` (through NSS).

Independent checks: :func:`pyhanko_status` runs pyHanko's validator (difference analysis
included) and :func:`pdfsig` runs poppler's ``pdfsig`` against an NSS database holding only our
root.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ARCH = "edoc-test"

USERS = {
    "head1": ("นายสมชาย ใจดี", "p256"),
    "head2": ("นางสาวเกศินี แก้วมณี", "p256"),
    "mayor": ("นายปกครอง เมืองดี", "p256"),
    "seal-a": ("เทศบาลเมืองปากช่อง", "p256"),
    "seal-b": ("อำเภอปากช่อง", "p256"),
    "revoked": ("นายถูก เพิกถอน", "p256"),
    "expired": ("นายหมด อายุ", "p256"),
    "notyet": ("นายยัง ไม่ถึง", "p256"),
    "rsa-user": ("Mr RSA User", "rsa2048"),
}


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _config(prefix: str, now: datetime) -> str:
    day = timedelta(days=1)
    ca_from, ca_to = _ts(now - 400 * day), _ts(now + 3650 * day)
    user_from, user_to = _ts(now - 30 * day), _ts(now + 700 * day)
    lines = [
        f'external-url-prefix: "{prefix}"',
        "keysets:",
        "  test:",
        "    keys:",
    ]
    for label in ("root", "interm", "ocsp", "tsa", *USERS):
        lines += [f"      {label}:", f"        path: {label}.key.pem"]
    lines += [
        "pki-architectures:",
        f"  {ARCH}:",
        "    keyset: test",
        "    entity-defaults:",
        "      country-name: TH",
        "      organization-name: edoc test pilot",
        "    entities:",
        "      root: {common-name: edoc test root CA}",
        "      interm: {common-name: edoc test issuing CA}",
        "      ocsp: {common-name: edoc test OCSP responder}",
        "      tsa: {common-name: edoc test TSA}",
    ]
    for label, (name, _) in USERS.items():
        lines.append(f'      {label}: {{common-name: "{name}"}}')
    lines += [
        "    certs:",
        "      root:",
        "        subject: root",
        "        issuer: root",
        "        subject-key: root",
        "        authority-key: root",
        f'        validity: {{valid-from: "{ca_from}", valid-to: "{ca_to}"}}',
        "        extensions:",
        "          - {id: basic_constraints, critical: true, value: {ca: true}}",
        "          - id: key_usage",
        "            critical: true",
        "            smart-value: {schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}",
        "      interm:",
        "        issuer: root",
        f'        validity: {{valid-from: "{ca_from}", valid-to: "{ca_to}"}}',
        "        extensions:",
        "          - {id: basic_constraints, critical: true, value: {ca: true, path-len-constraint: 0}}",
        "          - id: key_usage",
        "            critical: true",
        "            smart-value: {schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}",
        "          - id: crl_distribution_points",
        "            smart-value: {schema: crl-dist-url, params: {crl-repo-names: [root]}}",
        "      ocsp:",
        "        issuer: interm",
        f'        validity: {{valid-from: "{ca_from}", valid-to: "{ca_to}"}}',
        "        extensions:",
        "          - id: key_usage",
        "            critical: true",
        "            smart-value: {schema: key-usage, params: [digital_signature]}",
        "          - {id: extended_key_usage, critical: true, value: [ocsp_signing]}",
        "          - {id: ocsp_no_check}",
        "      tsa:",
        "        issuer: root",
        f'        validity: {{valid-from: "{ca_from}", valid-to: "{ca_to}"}}',
        "        extensions:",
        "          - id: key_usage",
        "            critical: true",
        "            smart-value: {schema: key-usage, params: [digital_signature]}",
        "          - {id: extended_key_usage, critical: true, value: [time_stamping]}",
        "          - id: crl_distribution_points",
        "            smart-value: {schema: crl-dist-url, params: {crl-repo-names: [root]}}",
    ]
    for label in USERS:
        valid_from, valid_to = user_from, user_to
        if label == "expired":
            valid_from, valid_to = _ts(now - 800 * day), _ts(now - 10 * day)
        elif label == "notyet":
            valid_from, valid_to = _ts(now + 10 * day), _ts(now + 700 * day)
        lines += [
            f"      {label}:",
            "        issuer: interm",
            f'        validity: {{valid-from: "{valid_from}", valid-to: "{valid_to}"}}',
            "        extensions:",
            "          - id: key_usage",
            "            critical: true",
            "            smart-value: {schema: key-usage, params: [digital_signature, non_repudiation]}",
            # emailProtection + id-kp-documentSigning (RFC 9336): NSS (pdfsig) signs off a
            # document signer only with an EKU that allows e-mail protection
            '          - {id: extended_key_usage, value: [email_protection, "1.3.6.1.5.5.7.3.36"]}',
            "          - id: crl_distribution_points",
            "            smart-value: {schema: crl-dist-url, params: {crl-repo-names: [interm]}}",
            "          - id: authority_information_access",
            "            smart-value:",
            "              schema: aia-urls",
            "              params:",
            "                ocsp-responder-names: [interm]",
        ]
        if label == "revoked":
            lines += [
                "        revocation:",
                f'          revoked-since: "{_ts(now - day)}"',
                "          reason: key_compromise",
            ]
    lines += [
        "    services:",
        "      ocsp:",
        "        interm: {for-issuer: interm, responder-cert: ocsp, signing-key: ocsp}",
        "      crl-repo:",
        '        root: {for-issuer: root, signing-key: root, simulated-update-schedule: "P1D"}',
        '        interm: {for-issuer: interm, signing-key: interm, simulated-update-schedule: "P1D"}',
        "      cert-repo:",
        "        root: {for-issuer: root, publish-issued-certs: yes}",
        "      time-stamping:",
        "        tsa: {signing-key: tsa, signing-cert: tsa}",
    ]
    return "\n".join(lines) + "\n"


def _write_keys(directory: Path) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    keys: dict[str, Any] = {}
    for label in ("root", "interm", "ocsp", "tsa", *USERS):
        kind = USERS.get(label, ("", "p256"))[1]
        key = rsa.generate_private_key(65537, 2048) if kind == "rsa2048" else ec.generate_private_key(ec.SECP256R1())
        keys[label] = key
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (directory / f"{label}.key.pem").write_bytes(pem)
    return keys


class _LazyApp:
    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class PilotPki:
    """The session's PKI and the server that answers for it."""

    directory: Path
    url: str
    arch: Any
    keys: dict[str, Any]
    nssdb: Path
    root_pem: Path

    def cert(self, label: str) -> Any:
        from cryptography import x509

        return x509.load_der_x509_certificate(self.arch.get_cert(label).dump())

    @property
    def root(self) -> Any:
        return self.cert("root")

    def credentials(self, label: str) -> Any:
        from edoc.signing import Credentials

        return Credentials(
            certificate=self.cert(label),
            chain=(self.cert("interm"), self.root),
            key=self.keys[label],
            owner=label,
        )

    def signing_key(self, label: str) -> Any:
        from edoc.signing import SigningKey

        return SigningKey(self.credentials(label))

    @property
    def tsa_url(self) -> str:
        return f"{self.url}/{ARCH}/tsa/tsa"

    def services(self, **changes: Any) -> Any:
        from edoc.signing import Services

        base = Services(trust_roots=(self.root,), tsa_url=self.tsa_url)
        return dataclasses.replace(base, **changes) if changes else base


def start_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PilotPki]:
    """Make the PKI and serve it until the generator is closed (use it in a session fixture)."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig
    from werkzeug.serving import make_server

    directory = tmp_path_factory.mktemp("pki")
    keys = _write_keys(directory)
    lazy = _LazyApp()
    server = make_server("127.0.0.1", 0, lazy, threaded=True)
    url = f"http://127.0.0.1:{server.port}"
    now = datetime.now(UTC).replace(microsecond=0)
    config = CertomancerConfig.from_yaml(_config(url, now), key_search_dir=str(directory))
    arch = config.get_pki_arch(ARCH)
    lazy.app = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
    thread = threading.Thread(target=server.serve_forever, name="test-pki", daemon=True)
    thread.start()
    root_pem = directory / "root.pem"
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import load_der_x509_certificate

    root_pem.write_bytes(load_der_x509_certificate(arch.get_cert("root").dump()).public_bytes(Encoding.PEM))
    nssdb = directory / "nssdb"
    nssdb.mkdir()
    if shutil.which("certutil"):
        subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True, capture_output=True)
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nssdb}", "-n", "edoc-test-root", "-t", "CT,C,C", "-i", str(root_pem)],
            check=True,
            capture_output=True,
        )
    try:
        yield PilotPki(directory, url, arch, keys, nssdb, root_pem)
    finally:
        server.shutdown()
        thread.join(timeout=10)


# -- documents to sign -----------------------------------------------------------------------------

A4 = (595.28, 841.89)
SIGNATURE_BOX = (330.0, 150.0, 530.0, 215.0)
STAMP_ZONE = (A4[0] - 56.7 - 198.4, A4[1] - 28.3 - 127.6, A4[0] - 56.7, A4[1] - 28.3)


def letter_pdf(pages: int = 1, text: str = "ขอแสดงความนับถือ") -> bytes:
    """A one-page (or longer) Thai letter made with fpdf2 and Sarabun (shaped by HarfBuzz)."""
    import fontpkg_sarabun
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.add_font("Sarabun", fname=str(Path(fontpkg_sarabun.ROOT) / "files" / "Sarabun-Regular.ttf"))
    pdf.set_text_shaping(True)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("Sarabun", size=16)
        pdf.set_xy(85, 200)
        pdf.cell(0, 20, f"เรื่อง ทดสอบการลงนามอิเล็กทรอนิกส์ หน้า {page + 1}")
        pdf.set_xy(85, 240)
        pdf.multi_cell(430, 22, "เรียน นายอำเภอปากช่อง\n" + "ด้วยเทศบาลเมืองปากช่องขอส่งหนังสือฉบับนี้มาเพื่อทราบ " * 3)
        pdf.set_xy(330, 440)
        pdf.cell(0, 20, text)
    return bytes(pdf.output())


def letter_boxes(initials: int = 2) -> dict[str, tuple[int, tuple[float, float, float, float]]]:
    """Where the renderer would put the signature and initial fields (last page, bottom)."""
    boxes: dict[str, tuple[int, tuple[float, float, float, float]]] = {"signature": (-1, SIGNATURE_BOX)}
    for k in range(1, initials + 1):
        x0 = 85.0 + (k - 1) * 70.0
        boxes[f"initial-{k}"] = (-1, (x0, 60.0, x0 + 64.0, 92.0))
    return boxes


def stamp_zone() -> Any:
    from edoc.signing import FieldBox, Rect

    return FieldBox(0, Rect(*STAMP_ZONE))


# -- independent verifiers -----------------------------------------------------------------------


@dataclass(frozen=True)
class SigCheck:
    """One signature as pyHanko's validator judged it."""

    field: str
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str | None
    docmdp_ok: bool | None
    bottom_line: bool
    coverage: str
    timestamp: bool
    kind: str


def pyhanko_status(pdf: bytes, pki: PilotPki, *, fetch: bool = False, ltv: bool = False) -> list[SigCheck]:
    """pyHanko's verdict on every signature and document time-stamp.

    ``ltv``: validate with nothing but the DSS (fetching disabled, revocation required) as an
    archive validator would, long after signing.
    """
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf))
    root = asn1_x509.Certificate.load(pki.arch.get_cert("root").dump())
    out = []
    for sig in reader.embedded_signatures:
        if ltv:
            settings = {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "require"}
            try:
                dss = DocumentSecurityStore.read_dss(reader)
            except NoDSSFoundError:
                vc = ValidationContext(**settings, crls=[], ocsps=[])
                ts_vc = ValidationContext(**settings, crls=[], ocsps=[])
            else:
                vc, ts_vc = dss.as_validation_context(settings), dss.as_validation_context(settings)
        else:
            vc = ValidationContext(trust_roots=[root], allow_fetching=fetch)
            ts_vc = ValidationContext(trust_roots=[root], allow_fetching=fetch)
        if sig.sig_object_type == "/DocTimeStamp":
            status: Any = validate_pdf_timestamp(sig, validation_context=vc)
            kind = "timestamp"
        else:
            status = validate_pdf_signature(sig, vc, ts_validation_context=ts_vc)
            kind = "signature"
        level = getattr(status, "modification_level", None)
        out.append(
            SigCheck(
                field=sig.field_name,
                intact=status.intact,
                valid=status.valid,
                trusted=status.trusted,
                modification_level=level.name if level is not None else None,
                docmdp_ok=getattr(status, "docmdp_ok", None),
                bottom_line=bool(getattr(status, "bottom_line", status.intact and status.valid and status.trusted)),
                coverage=status.coverage.name,
                timestamp=getattr(status, "timestamp_validity", None) is not None,
                kind=kind,
            )
        )
    return out


ALLOWED_LEVELS = {"NONE", "LTA_UPDATES", "FORM_FILLING"}


def assert_all_valid(pdf: bytes, pki: PilotPki, *, ltv: bool = False) -> list[SigCheck]:
    """Every signature intact, valid, trusted, and changed after at most by form filling."""
    checks = pyhanko_status(pdf, pki, ltv=ltv)
    assert checks, "no signatures found"
    for c in checks:
        assert c.intact and c.valid, c
        assert c.trusted, c
        if c.kind == "signature":
            assert c.modification_level in ALLOWED_LEVELS, c
            assert c.docmdp_ok is not False, c
            assert c.bottom_line, c
    return checks


def pdfsig(pdf: bytes, pki: PilotPki, tmp_path: Path, *, ocsp: bool = True) -> list[dict[str, str]]:
    """poppler's pdfsig over ``pdf`` with an NSS database holding only our root."""
    if not shutil.which("pdfsig"):
        pytest.fail("pdfsig (poppler-utils) is not installed")
    if not shutil.which("certutil"):
        pytest.fail("certutil (libnss3-tools) is not installed")
    path = tmp_path / f"pdfsig-{abs(hash(pdf))}.pdf"
    path.write_bytes(pdf)
    argv = ["pdfsig", "-nssdir", f"sql:{pki.nssdb}"]
    if not ocsp:
        argv.append("-no-ocsp")
    r = subprocess.run([*argv, str(path)], capture_output=True, text=True, timeout=120)
    sigs: list[dict[str, str]] = []
    for line in r.stdout.splitlines():
        if line.startswith("Signature #"):
            sigs.append({"header": line.strip()})
        elif sigs and ":" in line:
            key, _, value = line.strip().lstrip("- ").partition(":")
            sigs[-1][key.strip()] = value.strip()
        elif sigs and line.strip():
            sigs[-1].setdefault("notes", "")
            sigs[-1]["notes"] += line.strip() + "\n"
    return sigs


def assert_pdfsig_valid(pdf: bytes, pki: PilotPki, tmp_path: Path, *, expect: int, ocsp: bool = True) -> None:
    """Every CMS signature "Signature is Valid." and "Certificate is Trusted.".

    pdfsig 22.12 (Debian 12) does not know document time-stamps (ETSI.RFC3161): it lists them
    as type "unknown", "not yet verified"; those are checked by pyHanko only. Its OCSP check
    cannot read certomancer's OCSP responses, so tests against the certomancer PKI pass
    ``ocsp=False`` (the chain is then checked against the root without revocation)."""
    sigs = pdfsig(pdf, pki, tmp_path, ocsp=ocsp)
    signed = [s for s in sigs if s.get("Signature Type") in ("ETSI.CAdES.detached", "adbe.pkcs7.detached")]
    assert len(signed) == expect, sigs
    trusted: set[str] = set()
    for s in signed:
        assert s["Signature Validation"] == "Signature is Valid.", s
        who = s["Signer full Distinguished Name"]
        if s["Certificate Validation"] == "Certificate is Trusted.":
            trusted.add(who)
            continue
        # poppler 22.12 reads NSS's last error even when CERT_PKIXVerifyCert succeeded; when a
        # certificate was already checked earlier in the same run, NSS leaves
        # SEC_ERROR_REUSED_ISSUER_AND_SERIAL behind and pdfsig prints "Unknown issue" although
        # the chain verified. Accept that only for a certificate pdfsig already trusted here.
        assert who in trusted and s["Certificate Validation"].startswith("Unknown issue"), s
    for s in sigs:
        if s.get("Signature Type") == "unknown":
            assert s["Signature Field Name"].startswith("timestamp-"), s
