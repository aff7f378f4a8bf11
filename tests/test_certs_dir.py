"""``certs/``: the example pilot's public certificates, checked with openssl, and the one
published example key, which edoc refuses outside a test or demo home."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from edoc.errors import TestKeyRefused
from edoc.office import Office, open_office
from edoc.pki import testkeys
from edoc.pki.keys import StaticPassphrases
from tests.fixtures_pki import PASSPHRASE, make_pki_home, openssl, pki_sqlite_office  # noqa: F401

CERTS = Path(__file__).resolve().parents[1] / "certs"
README = (CERTS / "README.md").read_text(encoding="utf-8")
EXAMPLE_PASSPHRASE = re.search(r"passphrase \*\*`([^`]+)`\*\*", README).group(1)  # type: ignore[union-attr]
END_ENTITIES = [
    "pc.mayor.pem",
    "pc.head.office.pem",
    "pc.clerk.pem",
    "seal-PAKCHONG.pem",
    "tsa.pem",
    "ocsp-responder.pem",
]


def _cert(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((CERTS / name).read_bytes())


def test_readme_names_every_file_and_no_file_is_a_plain_key() -> None:
    on_disk = {p.name for p in CERTS.iterdir()} - {"README.md", "__pycache__"}
    named = set(re.findall(r"^\| `([^`]+)` \|", README, flags=re.M))
    assert on_disk == named
    for path in CERTS.iterdir():
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path.name
    keys = {p.name for p in CERTS.glob("*.p12")}
    assert keys and all(name.startswith("EXAMPLE-KEY-") for name in keys)


@pytest.mark.parametrize("name", END_ENTITIES)
def test_every_certificate_verifies_with_openssl(name: str) -> None:
    cert = _cert(name)
    at = int((cert.not_valid_before_utc + timedelta(days=1)).timestamp())  # these files outlive their certificates
    r = openssl(
        "verify", "-attime", str(at), "-CAfile", str(CERTS / "root.pem"), "-untrusted", str(CERTS / "issuing-ca.pem"),
        str(CERTS / name),
    )  # fmt: skip
    assert r.stdout.strip().endswith(": OK")


def test_subjects_are_thai_utf8strings_and_signers_sign_documents() -> None:
    from asn1crypto import x509 as asn1  # type: ignore[import-untyped]

    for name in ["root.pem", "issuing-ca.pem", *END_ENTITIES]:
        der = _cert(name).public_bytes(Encoding.DER)
        subject = asn1.Certificate.load(der).subject
        for rdn in subject.chosen:
            for attr in rdn:
                if attr["type"].native in ("organization_name", "common_name"):
                    assert attr["value"].name == "utf8_string", (name, attr["type"].native)
        assert "เทศบาลเมืองปากช่อง" in _cert(name).subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value
    mayor = _cert("pc.mayor.pem")
    eku = mayor.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36") in eku  # id-kp-documentSigning, RFC 9336
    assert mayor.serial_number.bit_length() <= 159


def test_the_example_key_needs_its_published_passphrase() -> None:
    path = CERTS / "EXAMPLE-KEY-pc.mayor.p12"
    data = path.read_bytes()
    with pytest.raises((ValueError, TypeError)):
        pkcs12.load_pkcs12(data, None)
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(data, b"wrong passphrase")
    bundle = pkcs12.load_pkcs12(data, EXAMPLE_PASSPHRASE.encode())
    assert bundle.key is not None and bundle.cert is not None
    assert bundle.cert.certificate == _cert("pc.mayor.pem")
    assert openssl("pkcs12", "-in", str(path), "-noout", "-passin", "pass:wrong", check=False).returncode != 0
    openssl("pkcs12", "-in", str(path), "-noout", "-passin", f"pass:{EXAMPLE_PASSPHRASE}")


def test_every_committed_key_is_known_as_an_example_key() -> None:
    found = {}
    for path in CERTS.glob("*.p12"):
        key = pkcs12.load_pkcs12(path.read_bytes(), EXAMPLE_PASSPHRASE.encode()).key
        assert key is not None
        found[testkeys.spki_sha256(key.public_key())] = path.name
    assert found == testkeys.EXAMPLE_KEYS
    key = pkcs12.load_pkcs12((CERTS / "EXAMPLE-KEY-pc.mayor.p12").read_bytes(), EXAMPLE_PASSPHRASE.encode()).key
    assert testkeys.is_example_key(key.public_key())  # type: ignore[union-attr]
    with pytest.raises(TestKeyRefused) as refused:
        testkeys.refuse_example_key(key.public_key(), demo=False, what="the key")  # type: ignore[union-attr]
    assert refused.value.exit_code == 3 and "EXAMPLE-KEY-pc.mayor.p12" in refused.value.message("en")
    testkeys.refuse_example_key(key.public_key(), demo=True, what="the key")  # type: ignore[union-attr]


def _mark_as_example(monkeypatch: pytest.MonkeyPatch, public_key: object) -> None:
    monkeypatch.setitem(testkeys.EXAMPLE_KEYS, testkeys.spki_sha256(public_key), "EXAMPLE-KEY-test.p12")


def test_an_office_refuses_example_keys_to_sign_and_to_issue(
    pki_sqlite_office: Office,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The office's own keys, listed as example keys: refused in a real home, at use."""
    office = pki_sqlite_office
    office.issue_certificate("pc.mayor")
    mayor = office.signing_identity("pc.mayor")
    _mark_as_example(monkeypatch, mayor.certificate.public_key())
    with pytest.raises(TestKeyRefused, match=r"pc\.mayor"):
        office.signing_identity("pc.mayor")
    issuing = office.pki_status().issuing.certificate
    _mark_as_example(monkeypatch, issuing.public_key())
    with pytest.raises(TestKeyRefused, match="issuing CA"):
        office.issue_certificate("pc.clerk")


def test_a_demo_home_may_use_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "demo"
    make_pki_home(home, None, demo=True)
    with open_office(home, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        office.issue_certificate("pc.mayor")
        identity = office.signing_identity("pc.mayor")
        _mark_as_example(monkeypatch, identity.certificate.public_key())
        _mark_as_example(monkeypatch, office.pki_status().issuing.certificate.public_key())
        assert office.signing_identity("pc.mayor").serial == identity.serial
        office.issue_certificate("pc.clerk")
