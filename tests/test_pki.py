"""The pilot's CA through the Python API, checked with an independent tool (openssl).

SQLite and PostgreSQL where the database matters (``pki_office``); SQLite alone otherwise.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from edoc.errors import (
    AgencyNotFound,
    AlreadyCertified,
    AlreadyExists,
    AlreadyRevoked,
    CaKeysMissing,
    CaNotUsable,
    CertificateExpired,
    CertificateNotFound,
    CertificateNotYetValid,
    CertificateRevoked,
    Conflict,
    InvalidField,
    NoCertificate,
    PassphraseRequired,
    PermissionDenied,
    PkiAlreadyInitialised,
    PkiNotInitialised,
    UserNotFound,
    WrongPassphrase,
)
from edoc.office import Office, init_office, open_office
from edoc.pki.cafiles import ISSUING_KEY, ROOT_KEY
from edoc.pki.keys import NoPassphrases, StaticPassphrases, open_private_key
from edoc.pki.model import CertificateRequest, CertKind, CertStatus, KeyStorage, KeyType
from edoc.storage.tables import CertificateRow
from tests import fixtures_pki
from tests.fixtures_pki import PASSPHRASE, build_pilot, openssl, pem, write_settings

pki_office = fixtures_pki.pki_office
pki_sqlite_office = fixtures_pki.pki_sqlite_office


def _write_chain(tmp: Path, office: Office, owner: str) -> tuple[Path, Path, Path]:
    """cert.pem, chain.pem (issuing CA), root.pem for ``owner``."""
    cert, issuing, root = office.export_chain(owner)
    (tmp / "cert.pem").write_bytes(pem(cert))
    (tmp / "chain.pem").write_bytes(pem(issuing))
    (tmp / "root.pem").write_bytes(pem(root))
    return tmp / "cert.pem", tmp / "chain.pem", tmp / "root.pem"


def _text(path: Path) -> str:
    return openssl("x509", "-in", str(path), "-noout", "-text", "-nameopt", "utf8,sep_multiline").stdout


# --- pki init ------------------------------------------------------------------------------------


def test_init_makes_root_issuing_services_crls_and_trust(pki_office: Office, home: Path) -> None:
    ca = pki_office.pki_status()
    assert ca.root.kind is CertKind.ROOT and ca.issuing.kind is CertKind.ISSUING
    assert ca.root.key_type is KeyType.P384 and ca.issuing.key_type is KeyType.P384
    assert ca.tsa is not None and ca.ocsp is not None and ca.keys_here
    assert "O=เทศบาลเมืองปากช่อง" in ca.root.subject
    for name in ("root.pem", "issuing.pem", ROOT_KEY, ISSUING_KEY):
        assert (home / "pki" / name).is_file()
    for name in (ROOT_KEY, ISSUING_KEY):
        assert (home / "pki" / name).stat().st_mode & 0o777 == 0o600
    assert (home / "pki").stat().st_mode & 0o777 == 0o700
    assert [a.fingerprint for a in pki_office.trust_anchors()] == [ca.root.fingerprint]
    crl = pki_office.latest_crl()
    root_crl = pki_office.latest_crl("root")
    assert crl is not None and crl.number == 1 and crl.revoked == 0
    assert root_crl is not None and root_crl.crl.issuer == ca.root.certificate.subject
    acts = [e.act for e in pki_office.audit_events()]
    assert acts[-6:] == ["pki.init", "pki.issue", "pki.issue", "pki.crl", "pki.crl", "pki.trust.add"]
    with pytest.raises(PkiAlreadyInitialised):
        pki_office.pki_init("p384")


def test_default_ca_is_rsa3072_and_base_url_is_saved(tmp_path: Path) -> None:
    home = tmp_path / "h"
    init_office(home, name="เทศบาลเมืองปากช่อง")
    write_settings(home, kdf_rounds=10_000)
    with open_office(home, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        ca = office.pki_init(base_url="http://pki.pakchong.go.th/")
        assert ca.root.key_type is KeyType.RSA3072 and ca.base_url == "http://pki.pakchong.go.th"
    with open_office(home) as office:
        assert office.settings.pki.base_url == "http://pki.pakchong.go.th"
    text = _text(home / "pki" / "root.pem")
    assert "Public-Key: (3072 bit)" in text and "sha256WithRSAEncryption" in text
    issuing = _text(home / "pki" / "issuing.pem")
    assert "URI:http://pki.pakchong.go.th/crl/root.crl" in issuing


def test_init_refuses_bad_input_before_touching_anything(tmp_path: Path) -> None:
    home = tmp_path / "h"
    init_office(home)
    with open_office(home, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        with pytest.raises(InvalidField, match="key"):
            office.pki_init("rsa1024")
        with pytest.raises(InvalidField, match="key"):
            office.pki_init("p256")  # an end-entity key type, not a CA one
        with pytest.raises(InvalidField, match="base_url"):
            office.pki_init("p384", base_url="ftp://x")
        with pytest.raises(PkiNotInitialised):
            office.pki_status()
    with open_office(home) as office, pytest.raises(PassphraseRequired):
        office.pki_init("p384")
    assert not (home / "pki" / ROOT_KEY).exists()


def test_orphaned_ca_files_are_set_aside_not_lost(tmp_path: Path) -> None:
    home = tmp_path / "h"
    init_office(home)
    write_settings(home, kdf_rounds=10_000)
    (home / "pki").mkdir()
    (home / "pki" / ROOT_KEY).write_bytes(b"left by a failed init")
    with open_office(home, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        office.pki_init("p384")
    aside = list((home / "pki").glob("orphaned-*/" + ROOT_KEY))
    assert len(aside) == 1 and aside[0].read_bytes() == b"left by a failed init"


# --- certificates, checked by openssl ------------------------------------------------------------------


def test_every_certificate_verifies_with_openssl(pki_sqlite_office: Office, tmp_path: Path) -> None:
    office = pki_sqlite_office
    office.issue_certificate("pc.mayor")
    office.issue_certificate("pc.clerk", key="rsa2048")
    office.issue_certificate(agency="PAKCHONG")
    for owner in ("pc.mayor", "pc.clerk", "agency:PAKCHONG", "tsa", "ocsp"):
        cert, chain, root = _write_chain(tmp_path, office, owner)
        r = openssl("verify", "-CAfile", str(root), "-untrusted", str(chain), str(cert))
        assert r.stdout.strip() == f"{cert}: OK"
    ca = office.pki_status()
    (tmp_path / "issuing.pem").write_bytes(ca.issuing.pem)
    assert openssl("verify", "-CAfile", str(tmp_path / "root.pem"), str(tmp_path / "issuing.pem")).returncode == 0
    # the chain is not enough without the root: openssl must refuse
    r = openssl("verify", "-CAfile", str(tmp_path / "chain.pem"), str(tmp_path / "cert.pem"), check=False)
    assert r.returncode != 0


def test_extensions_as_openssl_reads_them(pki_sqlite_office: Office, tmp_path: Path) -> None:
    office = pki_sqlite_office
    office.issue_certificate("pc.mayor")  # has an e-mail address
    office.issue_certificate("pc.head", key="rsa2048")  # has none
    office.issue_certificate(agency="PAKCHONG")
    texts = {}
    for owner in ("pc.mayor", "pc.head", "agency:PAKCHONG", "tsa", "ocsp"):
        cert, _chain, _root = _write_chain(tmp_path, office, owner)
        texts[owner] = _text(cert)
    root_text = _text(tmp_path / "root.pem")
    (tmp_path / "issuing.pem").write_bytes(office.pki_status().issuing.pem)
    issuing_text = _text(tmp_path / "issuing.pem")
    base = office.settings.pki.base_url

    assert re.search(r"Basic Constraints: critical\s+CA:TRUE, pathlen:1", root_text)
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", root_text)
    assert "Subject Key Identifier" in root_text
    assert re.search(r"Basic Constraints: critical\s+CA:TRUE, pathlen:0", issuing_text)
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", issuing_text)
    assert "Authority Key Identifier" in issuing_text and f"URI:{base}/crl/root.crl" in issuing_text
    assert f"CA Issuers - URI:{base}/ca/root.crt" in issuing_text

    mayor = texts["pc.mayor"]
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", mayor)
    assert re.search(r"Key Usage: critical\s+Digital Signature, Non Repudiation", mayor)
    assert re.search(r"Extended Key Usage: \s+1\.3\.6\.1\.5\.5\.7\.3\.36, E-mail Protection", mayor)
    assert "email:mayor@pakchong.go.th" in mayor
    assert f"URI:{base}/crl/issuing.crl" in mayor
    assert f"OCSP - URI:{base}/ocsp" in mayor and f"CA Issuers - URI:{base}/ca/issuing.crt" in mayor
    for line in ("O=เทศบาลเมืองปากช่อง", "title=นายกเทศมนตรีเมืองปากช่อง", "CN=นายสมศักดิ์ ประเสริฐวงศ์", "UID=pc.mayor"):
        assert line in mayor
    assert "Public-Key: (256 bit)" in mayor

    head = texts["pc.head"]
    # emailProtection is there even without an address: NSS (so pdfsig) refuses a document
    # signer without it (docs/signing-design.md); the address itself is only there when set.
    assert re.search(r"Extended Key Usage: \s+1\.3\.6\.1\.5\.5\.7\.3\.36, E-mail Protection\n", head)
    assert "Subject Alternative Name" not in head and "email:" not in head
    assert "OU=สำนักปลัดเทศบาล" in head and "Public-Key: (2048 bit)" in head

    seal = texts["agency:PAKCHONG"]
    assert "CN=เทศบาลเมืองปากช่อง" in seal and "UID=agency:PAKCHONG" in seal
    assert re.search(r"Key Usage: critical\s+Digital Signature, Non Repudiation", seal)

    assert re.search(r"Extended Key Usage: critical\s+Time Stamping\n", texts["tsa"])
    assert re.search(r"Extended Key Usage: \s+OCSP Signing", texts["ocsp"])
    assert "OCSP No Check" in texts["ocsp"]
    assert "signature-with-sha384" in root_text.lower() or "ecdsa-with-SHA384" in root_text


def test_thai_names_are_utf8string(pki_sqlite_office: Office, tmp_path: Path) -> None:
    pki_sqlite_office.issue_certificate("pc.mayor")
    cert, _chain, _root = _write_chain(tmp_path, pki_sqlite_office, "pc.mayor")
    der = tmp_path / "cert.der"
    openssl("x509", "-in", str(cert), "-outform", "DER", "-out", str(der))
    parsed = openssl("asn1parse", "-inform", "DER", "-in", str(der)).stdout
    # organisation, title and common name of subject and issuer are UTF8String, the country PrintableString
    assert len(re.findall(r"UTF8STRING", parsed)) >= 6
    assert re.search(r"PRINTABLESTRING\s+:TH", parsed)


def test_serials_are_random_159_bits_and_distinct(pki_sqlite_office: Office) -> None:
    issued = pki_sqlite_office.issue_certificates(
        [CertificateRequest(o) for o in ("pc.mayor", "pc.head", "pc.clerk", "agency:PAKCHONG", "agency:NMA-PROV")]
    )
    serials = [int(c.serial, 16) for c in issued]
    assert len(set(serials)) == len(serials)
    assert all(0 < s < 2**159 for s in serials)
    assert max(s.bit_length() for s in serials) > 140  # random, not counting up


def test_validity_is_the_setting_and_within_the_ca(pki_sqlite_office: Office) -> None:
    cert = pki_sqlite_office.issue_certificate("pc.mayor")
    assert timedelta(days=729) < cert.not_after - cert.not_before < timedelta(days=731)
    assert cert.not_after <= pki_sqlite_office.pki_status().issuing.not_after


# --- issuance errors -------------------------------------------------------------------------------------


def test_issue_errors_are_specific(pki_office: Office) -> None:
    with pytest.raises(UserNotFound):
        pki_office.issue_certificate("nobody")
    with pytest.raises(AgencyNotFound):
        pki_office.issue_certificate(agency="NOPE")
    with pytest.raises(InvalidField, match="key"):
        pki_office.issue_certificate("pc.mayor", key="rsa1024")
    with pytest.raises(InvalidField, match="owner"):
        pki_office.issue_certificate("pc.mayor", agency="PAKCHONG")
    with pytest.raises(InvalidField, match="owner"):
        pki_office.issue_certificates([CertificateRequest("pc.mayor"), CertificateRequest("pc.mayor")])
    with pytest.raises(InvalidField, match="pki init"):
        pki_office.issue_certificates([CertificateRequest("tsa")])
    first = pki_office.issue_certificate("pc.mayor")
    with pytest.raises(AlreadyCertified) as info:
        pki_office.issue_certificate("pc.mayor")
    assert info.value.exit_code == 5 and first.serial in info.value.message()
    assert [c.serial for c in pki_office.certificates("pc.mayor")] == [first.serial]


def test_replace_supersedes_the_old_certificate(pki_office: Office) -> None:
    old = pki_office.issue_certificate("pc.mayor")
    new = pki_office.issue_certificate("pc.mayor", replace=True)
    assert pki_office.certificate(old.serial).revocation_reason is not None
    assert pki_office.certificate(old.serial).revocation_reason.value == "superseded"  # type: ignore[union-attr]
    assert pki_office.signing_identity("pc.mayor").serial == new.serial
    assert [e.act for e in pki_office.audit_events()][-2:] == ["pki.revoke", "pki.issue"]


def test_bulk_issuance_is_all_or_nothing(pki_office: Office) -> None:
    before = len(pki_office.certificates())
    events = len(pki_office.audit_events())
    with pytest.raises(UserNotFound):
        pki_office.issue_certificates([CertificateRequest("pc.mayor"), CertificateRequest("ghost")])
    assert len(pki_office.certificates()) == before and len(pki_office.audit_events()) == events
    done = pki_office.issue_certificates(
        [CertificateRequest("pc.mayor"), CertificateRequest("agency:PAKCHONG", key="rsa2048")]
    )
    assert [c.kind for c in done] == [CertKind.USER, CertKind.SEAL]
    assert done[1].key_type is KeyType.RSA2048


def test_bulk_issuance_in_worker_processes(pki_sqlite_office: Office) -> None:
    """A batch big enough for the worker processes: every key sealed under its owner's passphrase."""
    from edoc.directory import Role, User
    from edoc.pki import bulk

    office = pki_sqlite_office
    users = [
        User(f"bulk.u{i:03d}", "PAKCHONG", f"นายทดสอบ คนที่{i}", "เจ้าหน้าที่", Role.OFFICER)
        for i in range(bulk.PARALLEL_FROM)
    ]
    office.add_users(users)
    office.use_passphrases(StaticPassphrases({"bulk.u007": "passphrase of seven"}, default=PASSPHRASE))
    progress: list[tuple[int, int]] = []
    done = office.issue_certificates(
        [CertificateRequest(u.username) for u in users], workers=2, progress=lambda d, n: progress.append((d, n))
    )
    assert len({c.serial for c in done}) == len(users) and progress[-1] == (len(users), len(users))
    assert office.signing_identity("bulk.u007").certificate.serial_number == int(done[7].serial, 16)
    with (
        open_office(office.home, passphrases=StaticPassphrases(default=PASSPHRASE)) as other,
        pytest.raises(WrongPassphrase),
    ):
        other.signing_identity("bulk.u007")


def test_permission_is_checked_when_an_actor_is_named(pki_sqlite_office: Office) -> None:
    with pytest.raises(PermissionDenied):
        pki_sqlite_office.issue_certificate("pc.mayor", actor="pc.clerk")
    assert pki_sqlite_office.issue_certificate("pc.mayor", actor="pc.admin").owner == "pc.mayor"
    with pytest.raises(PermissionDenied):
        pki_sqlite_office.revoke("pc.mayor", "key-compromise", actor="pc.head")


# --- keys at rest -------------------------------------------------------------------------------------


def test_keys_are_never_readable_without_their_passphrase(pki_sqlite_office: Office, home: Path) -> None:
    office = pki_sqlite_office
    office.issue_certificate("pc.mayor")
    with office.db.tx.session(write=False) as s:
        row = s.exec(__import__("sqlmodel").select(CertificateRow).where(CertificateRow.owner == "pc.mayor")).one()
    assert row.key_storage == "database" and row.key_data is not None
    blobs = {"user": row.key_data, "issuing": (home / "pki" / ISSUING_KEY).read_bytes()}
    for what, blob in blobs.items():
        key = open_private_key(blob, PASSPHRASE.encode(), owner=what)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        secret = key.private_numbers().private_value.to_bytes((key.curve.key_size + 7) // 8, "big")
        assert secret not in blob, f"the {what} key is stored in the clear"
        assert b"PRIVATE KEY" not in blob
        with pytest.raises(WrongPassphrase):
            open_private_key(blob, b"not the passphrase", owner=what)
        path = home / f"{what}.p12"
        path.write_bytes(blob)
        wrong = openssl("pkcs12", "-in", str(path), "-nocerts", "-nodes", "-passin", "pass:wrong", check=False)
        assert wrong.returncode != 0 and "BEGIN PRIVATE KEY" not in wrong.stdout
        right = openssl("pkcs12", "-in", str(path), "-nocerts", "-nodes", "-passin", f"pass:{PASSPHRASE}")
        assert "BEGIN PRIVATE KEY" in right.stdout
        info = openssl("pkcs12", "-in", str(path), "-info", "-noout", "-passin", f"pass:{PASSPHRASE}")
        assert "AES-256-CBC" in info.stdout + info.stderr and "PBKDF2" in info.stdout + info.stderr


def test_wrong_or_missing_passphrase(pki_office: Office, home: Path, db_url: str | None) -> None:
    pki_office.issue_certificate("pc.mayor")
    with open_office(home, db_url, passphrases=StaticPassphrases(default="wrong passphrase")) as office:
        with pytest.raises(WrongPassphrase) as info:
            office.signing_identity("pc.mayor")
        assert info.value.exit_code == 3
        with pytest.raises(WrongPassphrase, match="ca"):
            office.issue_certificate("pc.clerk")
        assert office.certificates("pc.clerk") == []
    with open_office(home, db_url, passphrases=NoPassphrases()) as office, pytest.raises(PassphraseRequired):
        office.signing_identity("pc.mayor")


# --- signing identity ------------------------------------------------------------------------------------


def test_signing_identity_signs_with_the_certified_key(pki_sqlite_office: Office) -> None:
    pki_sqlite_office.issue_certificate("pc.mayor")
    pki_sqlite_office.issue_certificate(agency="PAKCHONG", key="rsa2048")
    mayor = pki_sqlite_office.signing_identity("pc.mayor")
    ca = pki_sqlite_office.pki_status()
    assert mayor.owner == "pc.mayor" and mayor.pkcs11 is None and mayor.private_key is not None
    assert [c.subject for c in mayor.chain] == [ca.issuing.certificate.subject, ca.root.certificate.subject]
    public = mayor.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(mayor.sign(b"event"), b"event", ec.ECDSA(hashes.SHA256()))
    seal = pki_sqlite_office.signing_identity("agency:PAKCHONG")
    seal_public = seal.certificate.public_key()
    assert isinstance(seal_public, rsa.RSAPublicKey)
    signature, serial = seal.signer()(b"receipt")
    seal_public.verify(signature, b"receipt", padding.PKCS1v15(), hashes.SHA256())
    assert serial == seal.serial
    assert "private_key" not in repr(mayor)


def test_no_certificate_unknown_owner_disabled_account(pki_sqlite_office: Office) -> None:
    with pytest.raises(NoCertificate) as info:
        pki_sqlite_office.signing_identity("pc.mayor")
    assert info.value.exit_code == 4 and "pki issue pc.mayor" in info.value.message()
    with pytest.raises(UserNotFound):
        pki_sqlite_office.signing_identity("ghost")
    with pytest.raises(AgencyNotFound):
        pki_sqlite_office.signing_identity("agency:GHOST")
    with pytest.raises(InvalidField):
        pki_sqlite_office.signing_identity("Not A Name")
    pki_sqlite_office.issue_certificate("pc.clerk")
    with pki_sqlite_office.db.tx.session(write=True) as s:
        from edoc.storage.directory import account_row

        row = account_row(s, "pc.clerk")
        row.active = False
        s.add(row)
    with pytest.raises(PermissionDenied, match="disabled"):
        pki_sqlite_office.signing_identity("pc.clerk")


def test_revoked_user_can_no_longer_sign(pki_office: Office) -> None:
    cert = pki_office.issue_certificate("pc.mayor")
    pki_office.signing_identity("pc.mayor")  # fine before
    revoked = pki_office.revoke("pc.mayor", "keyCompromise")
    assert [r.serial for r in revoked] == [cert.serial]
    with pytest.raises(CertificateRevoked) as info:
        pki_office.signing_identity("pc.mayor")
    assert info.value.exit_code == 3 and "key-compromise" in info.value.message()
    assert "ถูกเพิกถอน" in info.value.message("th")
    assert pki_office.certificate_status(cert.serial) is CertStatus.REVOKED
    with pytest.raises(AlreadyRevoked):
        pki_office.revoke(cert.serial, "superseded")
    with pytest.raises(AlreadyRevoked):
        pki_office.revoke("pc.mayor")
    # a new certificate may be issued after revocation, and signs again
    pki_office.issue_certificate("pc.mayor")
    assert pki_office.signing_identity("pc.mayor").serial != cert.serial


def test_expired_and_not_yet_valid_certificates_refuse_to_sign(pki_sqlite_office: Office) -> None:
    cert = pki_sqlite_office.issue_certificate("pc.mayor")
    with pytest.raises(CertificateExpired):
        pki_sqlite_office.signing_identity("pc.mayor", at=cert.not_after + timedelta(seconds=1))
    with pytest.raises(CertificateNotYetValid):
        pki_sqlite_office.signing_identity("pc.mayor", at=cert.not_before - timedelta(seconds=1))


def test_expired_ca_cannot_issue_nor_sign(pki_sqlite_office: Office) -> None:
    pki_sqlite_office.issue_certificate("pc.mayor")
    ca = pki_sqlite_office.pki_status()
    later = ca.issuing.not_after + timedelta(days=1)
    pki_sqlite_office.now = lambda: later  # type: ignore[method-assign]
    with pytest.raises(CaNotUsable, match="expired") as info:
        pki_sqlite_office.issue_certificate("pc.clerk")
    assert info.value.exit_code == 5
    with pytest.raises(CaNotUsable, match="expired"):
        pki_sqlite_office.publish_crl()
    with pytest.raises(CertificateExpired):
        pki_sqlite_office.signing_identity("pc.mayor")  # the end entity expired long before its CA


def test_ca_keys_missing_on_a_signing_host(pki_sqlite_office: Office, home: Path) -> None:
    pki_sqlite_office.issue_certificate("pc.mayor")
    (home / "pki" / ISSUING_KEY).rename(home / "elsewhere.p12")
    with pytest.raises(CaKeysMissing):
        pki_sqlite_office.issue_certificate("pc.clerk")
    assert pki_sqlite_office.signing_identity("pc.mayor").owner == "pc.mayor"  # signing needs only the database
    assert pki_sqlite_office.pki_status().keys_here is False


def test_tampered_ca_file_is_refused(pki_sqlite_office: Office, home: Path) -> None:
    other = tmp_ca_cert()
    (home / "pki" / "issuing.pem").write_bytes(pem(other))
    with pytest.raises(CaNotUsable, match="issuing CA"):
        pki_sqlite_office.issue_certificate("pc.mayor")


def tmp_ca_cert() -> x509.Certificate:
    """A self-signed CA certificate that has nothing to do with the office."""
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Thailand National Root Certificate Authority G3")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


# --- revocation and CRLs ----------------------------------------------------------------------------------


def test_crl_lists_revocations_with_reasons(pki_office: Office, tmp_path: Path) -> None:
    mayor = pki_office.issue_certificate("pc.mayor")
    clerk = pki_office.issue_certificate("pc.clerk")
    head = pki_office.issue_certificate("pc.head")
    pki_office.revoke(mayor.serial, "key-compromise")
    pki_office.revoke("pc.clerk", "affiliation-changed")
    pki_office.revoke(head.serial)  # unspecified: no reason code on the entry (RFC 5280)
    crl = pki_office.publish_crl()
    assert crl.number == 2 and crl.revoked == 3
    assert pki_office.latest_crl() == crl
    path = tmp_path / "issuing.crl"
    path.write_bytes(crl.der)
    (tmp_path / "issuing.pem").write_bytes(pki_office.pki_status().issuing.pem)
    text = openssl("crl", "-inform", "DER", "-in", str(path), "-noout", "-text").stdout
    assert re.search(r"CRL Number: \s+2", text)
    entries = {
        int(chunk.split()[0], 16): chunk.split("Signature Algorithm")[0] for chunk in text.split("Serial Number: ")[1:]
    }
    assert set(entries) == {int(c.serial, 16) for c in (mayor, clerk, head)}
    assert "Key Compromise" in entries[int(mayor.serial, 16)]
    assert "Affiliation Changed" in entries[int(clerk.serial, 16)]
    assert "Reason" not in entries[int(head.serial, 16)]
    r = openssl("crl", "-inform", "DER", "-in", str(path), "-noout", "-CAfile", str(tmp_path / "issuing.pem"))
    assert "verify OK" in r.stdout + r.stderr
    # openssl verify with CRL checking: the revoked certificate fails, a good one passes
    good = pki_office.issue_certificate(agency="PAKCHONG")
    crl_pem = tmp_path / "crl.pem"
    crl_pem.write_bytes(pki_office.publish_crl().pem + pki_office.latest_crl("root").pem)  # type: ignore[union-attr]
    for owner, ok in ((good.owner, True), (mayor.serial, False)):
        cert, chain, root = _write_chain(tmp_path, pki_office, owner)
        r = openssl(
            "verify", "-crl_check_all", "-CRLfile", str(crl_pem), "-CAfile", str(root), "-untrusted", str(chain),
            str(cert), check=False,
        )  # fmt: skip
        assert (r.returncode == 0) is ok, r.stdout + r.stderr
        if not ok:
            assert "certificate revoked" in r.stdout + r.stderr


def test_revoke_errors(pki_sqlite_office: Office) -> None:
    with pytest.raises(CertificateNotFound):
        pki_sqlite_office.revoke("ab" * 20)
    with pytest.raises(NoCertificate):
        pki_sqlite_office.revoke("pc.mayor")
    with pytest.raises(UserNotFound):
        pki_sqlite_office.revoke("ghost")
    with pytest.raises(InvalidField, match="reason"):
        pki_sqlite_office.revoke("pc.mayor", "because")
    with pytest.raises(InvalidField, match="holds"):
        pki_sqlite_office.revoke("pc.mayor", "certificateHold")
    root = pki_sqlite_office.pki_status().root
    with pytest.raises(InvalidField, match="CA certificate"):
        pki_sqlite_office.revoke(root.serial)


def test_revoking_an_agency_seal(pki_sqlite_office: Office) -> None:
    seal = pki_sqlite_office.issue_certificate(agency="PAKCHONG")
    assert [c.serial for c in pki_sqlite_office.revoke("agency:PAKCHONG", "cessation-of-operation")] == [seal.serial]
    with pytest.raises(CertificateRevoked):
        pki_sqlite_office.signing_identity("agency:PAKCHONG")
    event = pki_sqlite_office.audit_events()[-1]
    assert event.act == "pki.revoke" and event.agency == "PAKCHONG"


# --- trust list ----------------------------------------------------------------------------------------


def test_trust_list(pki_office: Office) -> None:
    nrca = tmp_ca_cert()
    added = pki_office.add_trust_root(pem(nrca))
    assert added[0].label == "Thailand National Root Certificate Authority G3" and added[0].source == "added"
    roots = pki_office.trust_roots()
    assert [r.subject for r in roots] == [pki_office.export_root().subject, nrca.subject]
    with pytest.raises(AlreadyExists):
        pki_office.add_trust_root(nrca.public_bytes(Encoding.DER))
    pki_office.issue_certificate("pc.mayor")
    leaf = pki_office.export_chain("pc.mayor")[0]
    with pytest.raises(InvalidField, match="not a CA"):
        pki_office.add_trust_root(pem(leaf))
    with pytest.raises(InvalidField, match="PEM or DER"):
        pki_office.add_trust_root(b"garbage")
    with pytest.raises(Conflict):
        pki_office.remove_trust_root(pki_office.pki_status().root.fingerprint)
    removed = pki_office.remove_trust_root(added[0].fingerprint[:16])
    assert removed.fingerprint == added[0].fingerprint
    assert len(pki_office.trust_roots()) == 1
    acts = [e.act for e in pki_office.audit_events()]
    assert "pki.trust.add" in acts and acts[-1] == "pki.trust.remove"


# --- the register --------------------------------------------------------------------------------------


def test_register_queries(pki_office: Office) -> None:
    pki_office.issue_certificate("pc.mayor")
    pki_office.issue_certificate("prov.clerk")
    pki_office.issue_certificate(agency="PAKCHONG")
    assert {c.owner for c in pki_office.certificates(agency="PAKCHONG")} == {"pc.mayor", "agency:PAKCHONG"}
    assert [c.owner for c in pki_office.certificates(kind="seal")] == ["agency:PAKCHONG"]
    assert {c.kind for c in pki_office.certificates()} == set(CertKind)
    info = pki_office.certificates("pc.mayor")[0]
    assert info.key_storage is KeyStorage.DATABASE and info.status(pki_office.now()) == "valid"
    assert pki_office.certificate(info.serial.upper()) == info
    assert pki_office.certificate_status(info.serial) is CertStatus.GOOD
    assert pki_office.certificate_status("1234") is CertStatus.UNKNOWN
    chain = pki_office.export_chain(info.serial)
    assert chain[0].serial_number == int(info.serial, 16) and len(chain) == 3
    with pytest.raises(NoCertificate):
        pki_office.export_chain("pc.head")


def test_before_init_every_pki_act_says_so(sqlite_office: Office) -> None:
    build_pilot(sqlite_office)
    sqlite_office.use_passphrases(StaticPassphrases(default=PASSPHRASE))
    for call in (
        lambda: sqlite_office.issue_certificate("pc.mayor"),
        lambda: sqlite_office.publish_crl(),
        lambda: sqlite_office.export_root(),
        lambda: sqlite_office.latest_crl(),
        lambda: sqlite_office.pki_server(),
    ):
        with pytest.raises(PkiNotInitialised) as info:
            call()
        assert info.value.exit_code == 4 and "pki init" in info.value.message()
    with pytest.raises(NoCertificate):
        sqlite_office.signing_identity("pc.mayor")
    assert sqlite_office.trust_roots() == []


def test_openssl_reads_the_pkcs12_key_file_the_ca_wrote(pki_sqlite_office: Office, home: Path) -> None:
    """The CA's key file matches the CA certificate (checked by openssl, not by edoc)."""
    key = openssl(
        "pkcs12", "-in", str(home / "pki" / ISSUING_KEY), "-nocerts", "-nodes", "-passin", f"pass:{PASSPHRASE}"
    ).stdout
    from_key = subprocess.run(
        ["openssl", "pkey", "-pubout"], input=key, capture_output=True, text=True, check=True
    ).stdout
    from_cert = openssl("x509", "-in", str(home / "pki" / "issuing.pem"), "-noout", "-pubkey").stdout
    assert from_key == from_cert
    spki = (
        pki_sqlite_office.pki_status()
        .issuing.certificate.public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert from_cert.encode() == spki
