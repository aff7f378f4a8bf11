"""Fixtures for the documents tests: an office with the pilot's directory, minimal fields of
every kind, and a small real PDF made with fpdf2."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edoc.office import Office

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "documents"


def pilot(office: Office) -> Office:
    """Add the six pilot agencies and their 23 users to ``office``."""
    from edoc.pilot import DemoOptions
    from edoc.pilot.directory import build_directory

    build_directory(office, DemoOptions(), lambda *_: None)
    return office


def with_keys(office: Office, people: list[str], agency: str = "PAKCHONG") -> Office:
    """A CA, ``agency``'s seal and certificates for ``people`` in ``office``: what confidential
    and secret documents need (they are stored only encrypted, for the seal and the route)."""
    import dataclasses

    from edoc.pki.keys import StaticPassphrases
    from edoc.pki.model import CertificateRequest, agency_owner
    from tests.fixtures_pki import PASSPHRASE

    office.settings = dataclasses.replace(
        office.settings, pki=dataclasses.replace(office.settings.pki, kdf_rounds=10_000)
    )
    office.use_passphrases(StaticPassphrases(default=PASSPHRASE))
    office.pki_init("p384")
    office.issue_certificates([CertificateRequest(o) for o in [agency_owner(agency), *people]])
    return office


@pytest.fixture
def pilot_office(office: Office) -> Iterator[Office]:
    """The ``office`` fixture (SQLite and PostgreSQL) with the pilot's directory."""
    yield pilot(office)


@pytest.fixture
def pilot_sqlite(sqlite_office: Office) -> Iterator[Office]:
    """A SQLite office with the pilot's directory (for tests whose subject is not the database)."""
    yield pilot(sqlite_office)


MINIMAL: dict[tuple[str, str | None], dict[str, Any]] = {
    ("external", None): {"subject": "ขอความอนุเคราะห์", "to": "นายอำเภอปากช่อง", "body": ["ข้อความ"], "signer": "pc.mayor"},
    ("internal", None): {"subject": "รายงานผล", "to": "ปลัดเทศบาล", "body": ["ข้อความ"], "signer": "pc.head.office"},
    ("stamped", None): {"subject": "ส่งเอกสาร", "to": "อำเภอปากช่อง", "body": ["ข้อความ"], "signer": "pc.head.office"},
    ("directive", "order"): {"subject": "แต่งตั้งคณะกรรมการ", "body": ["ข้อความ"], "signer": "pc.mayor"},
    ("directive", "regulation"): {
        "form": "regulation",
        "subject": "ว่าด้วยการใช้ห้องประชุม",
        "body": ["โดยที่เป็นการสมควร"],
        "clauses": ["ระเบียบนี้เรียกว่า"],
        "signer": "pc.mayor",
    },
    ("directive", "bylaw"): {"form": "bylaw", "subject": "ว่าด้วยการประชุม", "body": ["ข้อความ"], "signer": "pc.mayor"},
    ("publicity", "announcement"): {"subject": "รับสมัครพนักงาน", "body": ["ข้อความ"], "signer": "pc.mayor"},
    ("publicity", "statement"): {"form": "statement", "subject": "น้ำท่วม", "body": ["ข้อความ"], "signer": "pc.mayor"},
    ("publicity", "news"): {"form": "news", "subject": "กิจกรรม", "body": ["ข้อความ"], "signer": "pc.mayor"},
    ("record", "certificate"): {"form": "certificate", "subject": "รับรอง", "body": ["ข้อความ"], "signer": "pc.mayor"},
    ("record", "minutes"): {
        "form": "minutes",
        "subject": "ประชุมคณะกรรมการ",
        "meeting": "คณะกรรมการพัฒนาเทศบาล",
        "held_on": "2026-11-20",
        "place": "ห้องประชุมเทศบาล",
        "present": ["นายสมศักดิ์ ประเสริฐวงศ์"],
        "body": ["ระเบียบวาระที่ ๑"],
        "signer": "pc.officer",
    },
    ("record", "note"): {"form": "note", "subject": "บันทึก", "body": ["ข้อความ"], "signer": "pc.officer"},
    ("record", "other"): {"form": "other", "subject": "แผนที่", "body": ["ข้อความ"], "signer": "pc.officer"},
}
"""The smallest valid fields of every kind and form."""


def small_pdf(text: str = "Hello from outside", *, title: str = "") -> bytes:
    """A real one-page PDF made with fpdf2 (an 'incoming letter' from outside the system)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    if title:
        pdf.set_title(title)
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()
