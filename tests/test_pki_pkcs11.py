"""Keys on a PKCS#11 token (SoftHSM2 in a temporary directory, driven by python-pkcs11)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from edoc.errors import Pkcs11Unavailable, TokenNotFound, WrongPassphrase
from edoc.office import Office, open_office
from edoc.pki.keys import StaticPassphrases
from edoc.pki.model import KeyStorage
from tests.conftest import invoke
from tests.fixtures_pki import PASSPHRASE, make_pki_home, openssl, pem, write_settings

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
LABEL = "pc-tokens"
PIN = "11223344"


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str


def _unload() -> None:
    """Forget the loaded module, so the next use re-reads SOFTHSM2_CONF (C_Initialize)."""
    import pkcs11

    pkcs11.unload(MODULE)


@pytest.fixture
def token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Token]:
    if not Path(MODULE).exists() or not shutil.which("softhsm2-util"):
        pytest.fail("softhsm2 is not installed (it is in .ci/run's Debian list)")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--so-pin", "99887766", "--pin", PIN],
        check=True,
        capture_output=True,
    )
    _unload()
    try:
        yield Token(MODULE, LABEL, PIN)
    finally:
        _unload()


@pytest.fixture
def hsm_office(home: Path, token: Token) -> Iterator[Office]:
    make_pki_home(home, None)
    write_settings(home, pkcs11_module=token.module)
    passphrases = StaticPassphrases({f"pkcs11:{token.label}": token.pin}, default=PASSPHRASE)
    with open_office(home, passphrases=passphrases) as office:
        yield office


def _token_objects(token: Token) -> list[dict[str, object]]:
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    out = []
    with pkcs11.lib(token.module).get_token(token_label=token.label).open(user_pin=token.pin) as session:
        for obj in session.get_objects():
            cls = obj[Attribute.CLASS]
            item: dict[str, object] = {"class": cls, "id": bytes(obj[Attribute.ID]), "label": obj[Attribute.LABEL]}
            if cls == ObjectClass.PRIVATE_KEY:
                item["sensitive"] = obj[Attribute.SENSITIVE]
                item["extractable"] = obj[Attribute.EXTRACTABLE]
                try:
                    obj[Attribute.VALUE]
                    item["value_readable"] = True
                except pkcs11.exceptions.PKCS11Error:
                    item["value_readable"] = False
            if cls == ObjectClass.CERTIFICATE:
                item["value"] = bytes(obj[Attribute.VALUE])
            out.append(item)
    return out


def test_key_made_on_the_token_certified_and_used(hsm_office: Office, token: Token, tmp_path: Path) -> None:
    from pkcs11 import ObjectClass

    office = hsm_office
    mayor = office.issue_certificate("pc.mayor", pkcs11_token=token.label)
    head = office.issue_certificate("pc.head", pkcs11_token=token.label, key="rsa2048")
    assert mayor.key_storage is KeyStorage.PKCS11 and mayor.pkcs11_token == token.label
    with office.db.tx.session(write=False) as s:
        from sqlmodel import select

        from edoc.storage.tables import CertificateRow

        rows = s.exec(select(CertificateRow).where(CertificateRow.key_storage == "pkcs11")).all()
    assert {r.owner for r in rows} == {"pc.mayor", "pc.head"} and all(r.key_data is None for r in rows)

    objects = _token_objects(token)
    keys = [o for o in objects if o["class"] == ObjectClass.PRIVATE_KEY]
    certs = [o for o in objects if o["class"] == ObjectClass.CERTIFICATE]
    assert {k["label"] for k in keys} == {"pc.mayor", "pc.head"}
    assert all(k["sensitive"] and not k["extractable"] and not k["value_readable"] for k in keys)
    assert {c["id"] for c in certs} == {k["id"] for k in keys}  # each certificate sits next to its key
    assert office.export_chain("pc.mayor")[0].public_bytes(Encoding.DER) in {c["value"] for c in certs}

    identity = office.signing_identity("pc.mayor")
    assert identity.private_key is None and identity.pkcs11 is not None
    assert identity.pkcs11.token_label == token.label and identity.pkcs11.module == token.module
    public = identity.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(identity.sign(b"audit event"), b"audit event", ec.ECDSA(hashes.SHA256()))
    rsa_identity = office.signing_identity("pc.head")
    rsa_public = rsa_identity.certificate.public_key()
    assert isinstance(rsa_public, rsa.RSAPublicKey)
    rsa_public.verify(rsa_identity.sign(b"x"), b"x", padding.PKCS1v15(), hashes.SHA256())

    cert, issuing, root = office.export_chain("pc.mayor")
    for name, c in (("cert", cert), ("issuing", issuing), ("root", root)):
        (tmp_path / f"{name}.pem").write_bytes(pem(c))
    r = openssl(
        "verify", "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "issuing.pem"),
        str(tmp_path / "cert.pem"),
    )  # fmt: skip
    assert r.stdout.strip().endswith("OK")
    assert head.key_type.value == "rsa2048"


def test_wrong_pin_unknown_token_no_module(hsm_office: Office, token: Token, home: Path) -> None:
    hsm_office.issue_certificate("pc.mayor", pkcs11_token=token.label)
    wrong = StaticPassphrases({f"pkcs11:{token.label}": "00000000"}, default=PASSPHRASE)
    with open_office(home, passphrases=wrong) as office:
        with pytest.raises(WrongPassphrase, match=f"pkcs11:{token.label}"):
            office.signing_identity("pc.mayor")
        with pytest.raises(WrongPassphrase):
            office.issue_certificate("pc.head", pkcs11_token=token.label)
    with pytest.raises(TokenNotFound) as info:
        hsm_office.issue_certificate("pc.head", pkcs11_token="no-such-token")
    assert info.value.exit_code == 4
    assert hsm_office.certificates("pc.head") == []
    write_settings(home, pkcs11_module="")
    with open_office(home, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        with pytest.raises(Pkcs11Unavailable, match="pkcs11_module"):
            office.issue_certificate("pc.head", pkcs11_token=token.label)
        with pytest.raises(Pkcs11Unavailable):
            office.signing_identity("pc.mayor")


def test_revoked_token_key_can_no_longer_sign(hsm_office: Office, token: Token) -> None:
    from edoc.errors import CertificateRevoked

    hsm_office.issue_certificate("pc.mayor", pkcs11_token=token.label)
    hsm_office.revoke("pc.mayor", "key-compromise")
    with pytest.raises(CertificateRevoked):
        hsm_office.signing_identity("pc.mayor")


def test_cli_issue_on_a_token(hsm_office: Office, token: Token, home: Path, tmp_path: Path) -> None:
    passphrases = tmp_path / "passphrases.toml"
    passphrases.write_text(f'[passphrases]\n"pkcs11:{token.label}" = "{token.pin}"\ndefault = "{PASSPHRASE}"\n')
    r = invoke(
        "pki", "issue", "pc.clerk", "--pkcs11-token", token.label, "--passphrase-file", str(passphrases), "--json",
        home=home,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    data = r.json()
    assert data["key_storage"] == "pkcs11" and data["pkcs11_token"] == token.label
    r = invoke("pki", "list", "--owner", "pc.clerk", home=home)
    assert f"({token.label})" in r.stdout


def test_keys_on_the_token_open_sealed_documents(hsm_office: Office, token: Token, home: Path) -> None:
    """A secret letter sealed for people whose keys are on the token: the token agrees the ECDH
    secret (CKM_ECDH1_DERIVE, P-256) or decrypts the wrapped key (RSA-OAEP), so they read it and
    sign it; the private keys never leave the token."""
    from edoc.errors import ContentSealed
    from edoc.routing import envelope

    office = hsm_office
    office.issue_certificate(agency="PAKCHONG")
    office.issue_certificate("pc.clerk")
    office.issue_certificate("pc.mayor", pkcs11_token=token.label)  # P-256 on the token
    office.issue_certificate("pc.head", pkcs11_token=token.label, key="rsa2048")
    letter = {
        "subject": "รายงานลับเรื่องการตรวจสอบพัสดุประจำปี",
        "to": "นายอำเภอปากช่อง",
        "body": ["รายละเอียดลับเฉพาะผู้เกี่ยวข้อง"],
        "signer": "pc.mayor",
        "initials": ["pc.head"],
        "secrecy": "secret",
    }
    doc = office.new_document("external", letter, as_user="pc.clerk")
    # sealed for the token keys' certificates too
    serials = {serial for _i, serial in envelope.recipients(_fields_envelope(office, doc))}
    assert {office.export_chain(u)[0].serial_number for u in ("pc.mayor", "pc.head")} <= serials
    # the mayor opens it through the token: ECDH on the token for the EC key
    assert office.show_document(doc, as_user="pc.mayor").subject == letter["subject"]
    # RSA: edoc wraps with RSA-OAEP-SHA256, which SoftHSM2 does not decrypt (SHA-1 only): said so
    with pytest.raises(Pkcs11Unavailable, match="RSA_PKCS_OAEP with SHA-256"):
        office.show_document(doc, as_user="pc.head")
    # signing a sealed letter opens it with the signer's token key, signs on the token, seals again
    doc = office.new_document("external", {**letter, "initials": []}, as_user="pc.clerk")
    office.sign_document(doc, as_user="pc.mayor", level="B-B")
    pdf = office.export_document(doc, as_user="pc.mayor")
    assert pdf.startswith(b"%PDF-") and office.show_document(doc, as_user="pc.mayor").state == "signed"
    # a wrong PIN is told as such, not as a key that does not open it (once the signing session,
    # logged in for the whole process, is closed: a token's login belongs to the application)
    office.close_signing_keys()
    wrong = StaticPassphrases({f"pkcs11:{token.label}": "00000000"}, default=PASSPHRASE)
    with open_office(home, passphrases=wrong) as other, pytest.raises(WrongPassphrase):
        other.show_document(doc, as_user="pc.mayor")
    # a token key that is not a recipient does not open it: the clerk, with a token key only now
    office.issue_certificate("pc.clerk", pkcs11_token=token.label, replace=True)  # the old one superseded
    office._run(lambda s: _forget_software_keys(s, "pc.clerk"))
    with pytest.raises(ContentSealed, match=r"no key of pc\.clerk"):
        office.show_document(doc, as_user="pc.clerk")
    assert ContentSealed.exit_code == 3


def test_the_token_decrypts_rsa_key_transport(token: Token, tmp_path: Path) -> None:
    """An RSA key on the token opens an envelope OpenSSL made for its certificate (RSA PKCS#1
    v1.5 key transport, OpenSSL's default): the token decrypts the content key."""
    import datetime

    import pkcs11
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from pkcs11 import Attribute
    from pkcs11 import KeyType as P11KeyType
    from pkcs11.util.rsa import encode_rsa_public_key

    from edoc.pki.model import Pkcs11KeyRef
    from edoc.pki.pkcs11 import token_key
    from edoc.routing import envelope

    with pkcs11.lib(token.module).get_token(token_label=token.label).open(rw=True, user_pin=token.pin) as s:
        public, _private = s.generate_keypair(
            P11KeyType.RSA, 2048, store=True, id=b"\x07", label="rsa", private_template={Attribute.SENSITIVE: True}
        )
        spki = encode_rsa_public_key(public)
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token rsa")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(load_der_public_key(spki))  # type: ignore[arg-type]
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(issuer_key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(pem(cert))
    (tmp_path / "in.txt").write_bytes(b"content for the token's key")
    openssl(
        "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", str(tmp_path / "in.txt"),
        "-out", str(tmp_path / "env.der"), str(tmp_path / "cert.pem"),
    )  # fmt: skip
    ref = Pkcs11KeyRef(token.module, token.label, b"\x07", "rsa", token.pin.encode())
    key = token_key(ref, cert.public_key())
    data = (tmp_path / "env.der").read_bytes()
    assert envelope.open_sealed(data, cert, key) == b"content for the token's key"


def _forget_software_keys(session: object, owner: str) -> None:
    """The clerk's software key is gone (only the token key is left)."""
    from sqlmodel import select

    from edoc.storage.tables import CertificateRow

    for row in session.exec(select(CertificateRow).where(CertificateRow.owner == owner)):  # type: ignore[attr-defined]
        row.key_data = None
        session.add(row)  # type: ignore[attr-defined]


def _fields_envelope(office: Office, doc: int) -> bytes:
    import json

    from edoc.storage.tables import BlobRow

    def read(session: object) -> bytes:
        row = office._document_row(session, doc)  # type: ignore[arg-type]
        digest = json.loads(row.fields_json)["sealed"]
        blob = session.get(BlobRow, digest)  # type: ignore[attr-defined]
        return office.db.blobs.get(session, blob.envelope_sha256)  # type: ignore[arg-type]

    return office._read(read)  # type: ignore[arg-type]

