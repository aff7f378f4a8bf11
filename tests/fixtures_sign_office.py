"""Fixtures for the office's signing acts (issue 5): the pilot directory and CA of
:mod:`tests.fixtures_pki` plus a second head, an officer, a third agency and their seals, the
office's own PKI server (TSA, OCSP, CRL) running, and two independent verifiers of the files the
office stores: pyHanko's validator and poppler's ``pdfsig`` with an NSS database holding only the
office's root.

Other issues' tests can use them (``from tests.fixtures_sign_office import sign_office, ...``).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edoc.office import Office, open_office
from edoc.pki.keys import StaticPassphrases
from tests.fixtures_pki import PASSPHRASE, make_pki_home, pem

LETTER = {
    "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาเทศบาล",
    "to": "นายอำเภอปากช่อง",
    "body": ["ด้วยเทศบาลเมืองปากช่องจะจัดประชุมคณะกรรมการพัฒนาเทศบาล จึงขอเรียนเชิญท่านเข้าร่วมประชุม"],
    "signer": "pc.mayor",
    "initials": ["pc.head", "pc.head2"],
}
"""An external letter drafted by pc.officer, initialled by two heads, signed by the mayor."""


def add_signers(office: Office) -> None:
    """Who the signing tests need beyond :func:`tests.fixtures_pki.build_pilot`, with certificates."""
    office.add_agency("PC-DIST", name="อำเภอปากช่อง", letter_code="นม 0518", parent="NMA-PROV")
    office.add_user(
        "pc.head2",
        agency="PAKCHONG",
        full_name="นางสาวเกศินี แก้วมณี",
        position="ผู้อำนวยการกองคลัง",
        role="head",
        unit="OFFICE",
    )
    office.add_user(
        "pc.officer",
        agency="PAKCHONG",
        full_name="นายสมหมาย ทำงานดี",
        position="นักจัดการงานทั่วไป",
        role="officer",
        unit="OFFICE",
    )
    office.add_user("dist.clerk", agency="PC-DIST", full_name="นางมาลี ใจงาม", position="เจ้าพนักงานธุรการ", role="clerk")
    for user in ("pc.mayor", "pc.head", "pc.head2", "pc.officer", "pc.clerk", "prov.clerk", "dist.clerk"):
        office.issue_certificate(user)
    for agency in ("PAKCHONG", "NMA-PROV", "PC-DIST"):
        office.issue_certificate(agency=agency)


def make_sign_home(home: Path, db_url: str | None) -> None:
    make_pki_home(home, db_url)
    with open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        add_signers(office)


@pytest.fixture
def sign_office(home: Path, db_url: str | None) -> Iterator[Office]:
    """An office (SQLite and PostgreSQL) ready to sign, its PKI server running."""
    make_sign_home(home, db_url)
    passphrases = StaticPassphrases(default=PASSPHRASE)
    with open_office(home, db_url, passphrases=passphrases) as office, office.pki_server():
        yield office


@pytest.fixture
def sign_sqlite(home: Path) -> Iterator[Office]:
    """The same on SQLite only."""
    make_sign_home(home, None)
    with open_office(home, None, passphrases=StaticPassphrases(default=PASSPHRASE)) as office, office.pki_server():
        yield office


def new_letter(office: Office, **changes: Any) -> int:
    return office.new_document("external", {**LETTER, **changes}, as_user="pc.officer")


# -- independent verifiers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One signature or document time-stamp as pyHanko's validator judged it."""

    field: str
    kind: str
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str | None
    docmdp_ok: bool | None
    timestamped: bool


def pyhanko_checks(pdf: bytes, roots: list[Any], *, ltv: bool = False) -> list[Check]:
    """pyHanko's verdict on every signature; ``ltv``: from the DSS alone, fetching disabled and
    revocation information required (as an archive would, years later)."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError
    from pyhanko_certvalidator import ValidationContext

    anchors = [asn1_x509.Certificate.load(r.public_bytes(Encoding.DER)) for r in roots]
    reader = PdfFileReader(io.BytesIO(pdf))
    out = []
    for sig in reader.embedded_signatures:
        if ltv:
            settings = {"trust_roots": anchors, "allow_fetching": False, "revocation_mode": "require"}
            try:
                dss = DocumentSecurityStore.read_dss(reader)
                vc, ts_vc = dss.as_validation_context(settings), dss.as_validation_context(settings)
            except NoDSSFoundError:
                vc = ValidationContext(**settings, crls=[], ocsps=[])
                ts_vc = ValidationContext(**settings, crls=[], ocsps=[])
        else:
            vc = ValidationContext(trust_roots=anchors, allow_fetching=True)
            ts_vc = ValidationContext(trust_roots=anchors, allow_fetching=True)
        if sig.sig_object_type == "/DocTimeStamp":
            status: Any = validate_pdf_timestamp(sig, validation_context=vc)
            kind = "timestamp"
        else:
            status = validate_pdf_signature(sig, vc, ts_validation_context=ts_vc)
            kind = "signature"
        level = getattr(status, "modification_level", None)
        out.append(
            Check(
                field=sig.field_name,
                kind=kind,
                intact=status.intact,
                valid=status.valid,
                trusted=status.trusted,
                modification_level=level.name if level is not None else None,
                docmdp_ok=getattr(status, "docmdp_ok", None),
                timestamped=getattr(status, "timestamp_validity", None) is not None,
            )
        )
    return out


ALLOWED = {"NONE", "LTA_UPDATES", "FORM_FILLING"}


def assert_pyhanko_valid(pdf: bytes, roots: list[Any], *, ltv: bool = False) -> list[Check]:
    """Every signature intact, valid, trusted, changed after at most by form filling."""
    checks = pyhanko_checks(pdf, roots, ltv=ltv)
    assert checks, "no signatures"
    for c in checks:
        assert c.intact and c.valid and c.trusted, c
        if c.kind == "signature":
            assert c.modification_level in ALLOWED, c
            assert c.docmdp_ok is not False, c
    return checks


def nss_db(directory: Path, roots: list[Any]) -> Path:
    """An NSS database holding only ``roots`` (for pdfsig)."""
    if not shutil.which("certutil") or not shutil.which("pdfsig"):
        pytest.fail("pdfsig (poppler-utils) and certutil (libnss3-tools) are needed")
    db = directory / "nssdb"
    if db.exists():
        return db
    db.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    for i, root in enumerate(roots):
        path = directory / f"root{i}.pem"
        path.write_bytes(pem(root))
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{db}", "-n", f"root{i}", "-t", "CT,C,C", "-i", str(path)],
            check=True,
            capture_output=True,
        )
    return db


def pdfsig(pdf: bytes, db: Path, tmp: Path) -> list[dict[str, str]]:
    path = tmp / f"pdfsig-{abs(hash(pdf))}.pdf"
    path.write_bytes(pdf)
    r = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True, errors="replace", timeout=120
    )
    sigs: list[dict[str, str]] = []
    for line in r.stdout.splitlines():
        if line.startswith("Signature #"):
            sigs.append({"header": line.strip()})
        elif sigs and ":" in line:
            key, _, value = line.strip().lstrip("- ").partition(":")
            sigs[-1][key.strip()] = value.strip()
    return sigs


def assert_pdfsig_valid(pdf: bytes, db: Path, tmp: Path, *, expect: int) -> list[dict[str, str]]:
    """Every CMS signature "Signature is Valid." and its certificate trusted (see
    docs/signing-design.md for poppler 22.12's "Unknown issue" on a certificate it already
    trusted in the same run, and for document time-stamps it does not know)."""
    sigs = pdfsig(pdf, db, tmp)
    signed = [s for s in sigs if s.get("Signature Type") in ("ETSI.CAdES.detached", "adbe.pkcs7.detached")]
    assert len(signed) == expect, sigs
    trusted: set[str] = set()
    for s in signed:
        assert s["Signature Validation"] == "Signature is Valid.", s
        who = s["Signer full Distinguished Name"]
        if s["Certificate Validation"] == "Certificate is Trusted.":
            trusted.add(who)
            continue
        assert who in trusted and s["Certificate Validation"].startswith("Unknown issue"), s
    for s in sigs:
        if s.get("Signature Type") == "unknown":
            assert s["Signature Field Name"].startswith("timestamp-"), s
    return signed
