"""A real PKI (certomancer) and real signed PDFs (pyHanko) for the verification tests.

The pilot's hierarchy in miniature: a root CA, an issuing CA, signers with Thai names, a
time-stamping authority, CRLs from both CAs; plus a revoked signer, an expired one, a
certificate without signing key usage, and an unrelated root. Keys are generated once per test
session (RSA 2048) and the certificates are issued by certomancer from them.

``Signing`` signs PDFs the way a PAdES signer does (pyHanko's ``PdfSigner``): B-B, B-T (a
signature time-stamp), B-LT (CRLs in the DSS) and B-LTA (a document time-stamp over them),
visible or invisible, certifying or approval. Nothing here imports edoc: the verifier is
checked against files made by an independent signer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

FONT = Path(__import__("fontpkg_sarabun").ROOT) / "files" / "Sarabun-Regular.ttf"

NOW = datetime.now(UTC)
SIGNED_AT = NOW - timedelta(days=2)
"""When the test signatures are time-stamped: before the CRLs embedded with them were issued
(CRLs are issued daily), so the revocation data is fresh for the signing time (ETSI EN 319 102-1)."""
VALID_FROM = "2020-01-01T00:00:00+0000"
VALID_TO = "2100-01-01T00:00:00+0000"

_LABELS = ("root", "interm", "signer", "clerk", "revoked", "expired", "nousage", "tsa", "other-root", "stranger")


def _generate_keys(keydir: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    keydir.mkdir(parents=True, exist_ok=True)
    for label in _LABELS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (keydir / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def _ee(issuer: str, valid_from: str, valid_to: str, usage: list[str], **extra: Any) -> dict[str, Any]:
    cert: dict[str, Any] = {
        "issuer": issuer,
        "validity": {"valid-from": valid_from, "valid-to": valid_to},
        "extensions": [
            {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": usage}},
            {
                "id": "crl_distribution_points",
                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [issuer]}},
            },
        ],
    }
    cert.update(extra)
    return cert


def _config(keydir: Path) -> dict[str, Any]:
    ca_ext = [
        {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
        {
            "id": "key_usage",
            "critical": True,
            "smart-value": {"schema": "key-usage", "params": ["digital_signature", "key_cert_sign", "crl_sign"]},
        },
    ]
    return {
        "external-url-prefix": "http://edoc-test.invalid",
        "keysets": {"pilot": {"path-prefix": str(keydir), "keys": {k: {"path": f"{k}.key.pem"} for k in _LABELS}}},
        "pki-architectures": {
            "pilot": {
                "keyset": "pilot",
                "entity-defaults": {"country-name": "TH", "organization-name": "เทศบาลเมืองปากช่อง"},
                "entities": {
                    "root": {"common-name": "Pak Chong Pilot Root CA"},
                    "interm": {"common-name": "Pak Chong Pilot Issuing CA"},
                    "signer": {"common-name": "นายสมชาย ใจดี"},
                    "clerk": {"common-name": "นางสาวสมศรี รักงาน"},
                    "revoked": {"common-name": "นายเพิกถอน แล้ว"},
                    "expired": {"common-name": "นายหมดอายุ แล้ว"},
                    "nousage": {"common-name": "เครื่องแม่ข่าย"},
                    "tsa": {"common-name": "Pak Chong Pilot TSA"},
                    "other-root": {"common-name": "Some Other Root", "organization-name": "Elsewhere"},
                    "stranger": {"common-name": "Mallory", "organization-name": "Elsewhere"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": {"valid-from": "2000-01-01T00:00:00+0000", "valid-to": VALID_TO},
                        "extensions": ca_ext,
                    },
                    "interm": {
                        "subject": "interm",
                        "issuer": "root",
                        "validity": {"valid-from": "2000-01-01T00:00:00+0000", "valid-to": VALID_TO},
                        "extensions": [
                            *ca_ext,
                            {
                                "id": "crl_distribution_points",
                                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["root"]}},
                            },
                        ],
                    },
                    "signer": _ee("interm", VALID_FROM, VALID_TO, ["digital_signature", "non_repudiation"]),
                    "clerk": _ee("interm", VALID_FROM, VALID_TO, ["digital_signature", "non_repudiation"]),
                    "revoked": _ee(
                        "interm",
                        VALID_FROM,
                        VALID_TO,
                        ["digital_signature", "non_repudiation"],
                        revocation={"revoked-since": "2021-01-01T00:00:00+0000", "reason": "key_compromise"},
                    ),
                    "expired": _ee(
                        "interm",
                        "2020-01-01T00:00:00+0000",
                        "2021-01-01T00:00:00+0000",
                        ["digital_signature", "non_repudiation"],
                    ),
                    "nousage": _ee("interm", VALID_FROM, VALID_TO, ["key_encipherment"]),
                    "tsa": {
                        "issuer": "interm",
                        "validity": {"valid-from": VALID_FROM, "valid-to": VALID_TO},
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                            },
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            {
                                "id": "crl_distribution_points",
                                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["interm"]}},
                            },
                        ],
                    },
                    "other-root": {
                        "subject": "other-root",
                        "issuer": "other-root",
                        "validity": {"valid-from": "2000-01-01T00:00:00+0000", "valid-to": VALID_TO},
                        "extensions": ca_ext,
                    },
                    "stranger": {
                        "issuer": "other-root",
                        "validity": {"valid-from": VALID_FROM, "valid-to": VALID_TO},
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                            }
                        ],
                    },
                },
                "services": {
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P1D"},
                        "interm": {"for-issuer": "interm", "signing-key": "interm", "simulated-update-schedule": "P1D"},
                    },
                },
            }
        },
    }


@dataclass
class Pki:
    """The test PKI: certificates, keys and CRLs by label."""

    arch: Any
    dir: Path

    def cert(self, label: str) -> Any:
        from certomancer.registry import CertLabel

        return self.arch.get_cert(CertLabel(label))

    def key(self, label: str) -> Any:
        from certomancer.registry import KeyLabel

        return self.arch.key_set.get_private_key(KeyLabel(label))

    def crl(self, issuer: str, at: datetime | None = None) -> Any:
        from certomancer.registry import ServiceLabel

        return self.arch.service_registry.get_crl(ServiceLabel(issuer), at_time=at or NOW)

    def pem(self, label: str) -> Path:
        """The certificate as a PEM file (what an auditor is given)."""
        from asn1crypto import pem

        path = self.dir / f"{label}.crt.pem"
        if not path.exists():
            path.write_bytes(pem.armor("CERTIFICATE", self.cert(label).dump()))
        return path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    from certomancer.registry import ArchLabel, CertomancerConfig

    base = tmp_path_factory.mktemp("pki")
    _generate_keys(base / "keys")
    config = CertomancerConfig(_config(base / "keys"), key_search_dir=str(base / "keys"))
    return Pki(config.get_pki_arch(ArchLabel("pilot")), base)


# --- documents ---------------------------------------------------------------------------------


def letter_pdf(pages: int = 1, fields: bool = False) -> bytes:
    """An official-looking letter in Thai (fpdf2, Sarabun embedded), optionally with a text field."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("Sarabun", fname=str(FONT))
    pdf.set_font("Sarabun", size=16)
    for n in range(pages):
        pdf.add_page()
        pdf.set_xy(30, 30)
        pdf.cell(0, 10, "ที่ นม 52101/123")
        pdf.set_xy(30, 45)
        pdf.cell(0, 10, "เรื่อง ขอความอนุเคราะห์ใช้สถานที่")
        pdf.set_xy(30, 60)
        pdf.multi_cell(150, 9, "เรียน นายอำเภอปากช่อง\nด้วยเทศบาลเมืองปากช่องจะจัดงานวันเด็ก จึงขอความอนุเคราะห์ใช้สถานที่")
        pdf.set_xy(30, 110)
        pdf.cell(0, 10, f"จำนวนเงิน 1,000 บาท   หน้า {n + 1}")
    data = bytes(pdf.output())
    if fields:
        data = _add_text_field(data)
    return data


def _add_text_field(data: bytes) -> bytes:
    """Add a text field 'amount' (with an appearance) on page 1, as a form would have."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(data))
    page_ref = w.find_page_for_modification(0)[0]
    ap = generic.StreamObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/XObject"),
            generic.NameObject("/Subtype"): generic.NameObject("/Form"),
            generic.NameObject("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 200, 24)]),
            generic.NameObject("/Resources"): generic.DictionaryObject(),
        },
        stream_data=b"",
    )
    field = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Widget"),
            generic.NameObject("/FT"): generic.NameObject("/Tx"),
            generic.NameObject("/T"): generic.TextStringObject("amount"),
            generic.NameObject("/F"): generic.NumberObject(4),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (300, 500, 500, 524)]),
            generic.NameObject("/P"): page_ref,
            generic.NameObject("/AP"): generic.DictionaryObject({generic.NameObject("/N"): w.add_object(ap)}),
        }
    )
    field_ref = w.add_object(field)
    page = page_ref.get_object()
    page[generic.NameObject("/Annots")] = generic.ArrayObject([field_ref])
    w.update_container(page)
    root = w.root
    root[generic.NameObject("/AcroForm")] = generic.DictionaryObject(
        {generic.NameObject("/Fields"): generic.ArrayObject([field_ref])}
    )
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@dataclass
class Signing:
    """Signs PDFs with the test PKI, as an independent PAdES signer would."""

    pki: Pki

    def signer(self, label: str = "signer") -> Any:
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        return signers.SimpleSigner(
            signing_cert=self.pki.cert(label),
            signing_key=self.pki.key(label),
            cert_registry=SimpleCertificateStore.from_certs(
                [self.pki.cert("interm"), self.pki.cert("root")]
                if label != "stranger"
                else [self.pki.cert("other-root")]
            ),
        )

    def timestamper(self, at: datetime | None = None) -> Any:
        from pyhanko.sign.timestamps import DummyTimeStamper
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        return DummyTimeStamper(
            tsa_cert=self.pki.cert("tsa"),
            tsa_key=self.pki.key("tsa"),
            certs_to_embed=SimpleCertificateStore.from_certs([self.pki.cert("interm"), self.pki.cert("root")]),
            fixed_dt=at,
        )

    def validation_context(self, at: datetime | None = None) -> Any:
        from pyhanko_certvalidator import ValidationContext

        moment = at or NOW
        return ValidationContext(
            trust_roots=[self.pki.cert("root")],
            crls=[self.pki.crl("interm", moment), self.pki.crl("root", moment)],
            allow_fetching=False,
            moment=moment,
            revocation_mode="hard-fail",
        )

    def sign(
        self,
        data: bytes,
        field: str = "Signature1",
        *,
        label: str = "signer",
        level: str = "B-B",
        box: tuple[float, float, float, float] | None = (380, 60, 560, 130),
        page: int = 0,
        certify: bool = False,
        at: datetime | None = None,
        stamp_text: str = "%(signer)s\n%(ts)s",
    ) -> bytes:
        """Sign ``data`` into a new field; ``level`` is B-B, B-T, B-LT or B-LTA."""
        from pyhanko import stamp
        from pyhanko.pdf_utils import text
        from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko.sign.fields import MDPPerm

        meta = signers.PdfSignatureMetadata(
            field_name=field,
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=certify,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            embed_validation_info=level in ("B-LT", "B-LTA"),
            use_pades_lta=level == "B-LTA",
            validation_context=self.validation_context(at) if level in ("B-LT", "B-LTA") else None,
        )
        style = stamp.TextStampStyle(
            stamp_text=stamp_text,
            text_box_style=text.TextBoxStyle(font=GlyphAccumulatorFactory(str(FONT)), font_size=9),
            border_width=1,
        )
        pdf_signer = signers.PdfSigner(
            meta,
            signer=self.signer(label),
            timestamper=self.timestamper(at or SIGNED_AT) if level != "B-B" else None,
            stamp_style=style,
            new_field_spec=fields.SigFieldSpec(field, box=box, on_page=page) if box else fields.SigFieldSpec(field),
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        out = pdf_signer.sign_pdf(writer)
        return bytes(out.getvalue())

    def add_dss(self, data: bytes, at: datetime | None = None) -> bytes:
        """Append the chain and today's CRLs as a DSS (works for a revoked signer too, which
        pyHanko's signer refuses to validate)."""
        from pyhanko.sign.validation.dss import DocumentSecurityStore

        buf = io.BytesIO(data)
        DocumentSecurityStore.add_dss(
            buf,
            None,
            certs=[self.pki.cert("interm"), self.pki.cert("root")],
            crls=[self.pki.crl("interm", at), self.pki.crl("root", at)],
        )
        return buf.getvalue()


@pytest.fixture(scope="session")
def signing(pki: Pki) -> Signing:
    return Signing(pki)


@pytest.fixture(scope="session")
def signed_letter(signing: Signing) -> bytes:
    """A one-page letter signed B-LT by the signer, with a visible signature."""
    return signing.sign(letter_pdf(), "Signature1", level="B-LT")


def append_update(data: bytes, mutate: Any) -> bytes:
    """Apply ``mutate(writer)`` as an incremental update (what an attacker with pyHanko does)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    mutate(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def later(days: int) -> datetime:
    return NOW + timedelta(days=days)
