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
