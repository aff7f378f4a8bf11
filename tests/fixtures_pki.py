"""Fixtures for tests that need the pilot's CA: a small directory, a real CA, real keys.

Other issues' tests can use them too (``from tests.fixtures_pki import pki_office`` in a test
module, plus ``home``/``db_url`` from conftest)::

    def test_something(pki_office: Office) -> None:
        identity = pki_office.signing_identity("pc.mayor")
        with pki_office.pki_server() as server:   # CRL, OCSP and TSA at pki_office.settings.pki.base_url
            ...

Every key is sealed under :data:`PASSPHRASE` with the minimum KDF rounds (tests must be fast;
the rounds are a setting). The CA is P-384 (RSA-3072 key generation is slow; one test covers
it). ``pki.base_url`` points at a free port, so ``pki_server()`` serves exactly the URLs the
certificates name.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edoc.office import Office, init_office, open_office
from edoc.pki.keys import StaticPassphrases

PASSPHRASE = "correct horse battery staple"
"""The passphrase of every key in these fixtures."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_settings(home: Path, *, demo: bool = False, **pki: Any) -> None:
    """Append ``[pki]`` settings (and ``office.demo``) to the home's edoc.toml."""
    import tomllib

    import tomli_w

    path = home / "edoc.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("pki", {}).update(pki)
    if demo:
        data.setdefault("office", {})["demo"] = True
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


def build_pilot(office: Office) -> None:
    """Two agencies, units, and one person per role (pc.mayor has an e-mail address)."""
    office.add_agency("NMA-PROV", name="จังหวัดนครราชสีมา", letter_code="นม 0017")
    office.add_agency("PAKCHONG", name="เทศบาลเมืองปากช่อง", letter_code="นม 52101", parent="NMA-PROV")
    office.add_unit("PAKCHONG", "OFFICE", name="สำนักปลัดเทศบาล")
    office.add_user(
        "pc.mayor",
        agency="PAKCHONG",
        full_name="นายสมศักดิ์ ประเสริฐวงศ์",
        position="นายกเทศมนตรีเมืองปากช่อง",
        role="executive",
        email="mayor@pakchong.go.th",
    )
    office.add_user(
        "pc.head",
        agency="PAKCHONG",
        full_name="นายวิชัย มั่นคง",
        position="หัวหน้าสำนักปลัดเทศบาล",
        role="head",
        unit="OFFICE",
    )
    office.add_user(
        "pc.clerk",
        agency="PAKCHONG",
        full_name="นางสุภาพร บุญมา",
        position="เจ้าพนักงานธุรการชำนาญงาน",
        role="clerk",
        unit="OFFICE",
    )
    office.add_user(
        "pc.admin", agency="PAKCHONG", full_name="นายณัฐวุฒิ คอมพิวเตอร์", position="นักวิชาการคอมพิวเตอร์", role="admin"
    )
    office.add_user(
        "prov.clerk", agency="NMA-PROV", full_name="นางสาวจิราพร สุขใจ", position="เจ้าพนักงานธุรการ", role="clerk"
    )


def make_pki_home(home: Path, db_url: str | None, *, key: str = "p384", demo: bool = False) -> None:
    """An initialised home with the pilot directory and its CA (closed again)."""
    init_office(home, db_url, name="เทศบาลเมืองปากช่อง")
    write_settings(home, demo=demo, kdf_rounds=10_000, base_url=f"http://127.0.0.1:{free_port()}")
    with open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        build_pilot(office)
        office.pki_init(key)


@pytest.fixture
def pki_office(home: Path, db_url: str | None) -> Iterator[Office]:
    """An office on SQLite and on PostgreSQL with the pilot directory and its CA."""
    make_pki_home(home, db_url)
    with open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        yield office


@pytest.fixture
def pki_sqlite_office(home: Path) -> Iterator[Office]:
    """The same on SQLite only (for tests whose subject is not the database)."""
    make_pki_home(home, None)
    with open_office(home, None, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        yield office


def openssl(*args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``openssl`` (the independent tool); text output, UTF-8."""
    r = subprocess.run(["openssl", *args], capture_output=True, input=input.decode() if input else None, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def pem(*certs: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)
