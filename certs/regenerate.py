"""Make the example pilot's certificates in this folder again (rarely needed: see README.md).

    PYTHONPATH=. python certs/regenerate.py

Builds a throw-away *demo* home with the Pak Chong pilot's directory, runs the pilot's CA
(``pki init``, RSA-3072 as in production) and issues certificates to a few signers through the
office facade, exactly as ``edoc pki`` does; then writes their public certificates here, and one
passphrase-protected PKCS#12 example key (``EXAMPLE-KEY-pc.mayor.p12``) with its certificate and
chain. The demo home, and with it every other private key, is deleted at the end.

After running it, paste the printed line into ``EXAMPLE_KEYS`` in ``edoc/pki/testkeys.py`` (the
tests fail until the two agree), and update the serials and dates in README.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

from edoc.office import init_office, open_office
from edoc.pilot import DemoOptions
from edoc.pilot.directory import build_directory
from edoc.pki.keys import StaticPassphrases
from edoc.pki.testkeys import spki_sha256

HERE = Path(__file__).resolve().parent
EXAMPLE_PASSPHRASE = "example-only-not-secret"
"""The passphrase of the committed example key (printed in README.md on purpose)."""
BASE_URL = "http://127.0.0.1:8080"
SIGNERS = ("pc.mayor", "pc.head.office", "pc.clerk")
SEAL = "PAKCHONG"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        init_office(home, name="Pak Chong pilot (example certificates)", demo=True)
        with open_office(home, passphrases=StaticPassphrases(default=EXAMPLE_PASSPHRASE)) as office:
            build_directory(office, DemoOptions(), lambda *_: None)
            ca = office.pki_init(organisation="เทศบาลเมืองปากช่อง", base_url=BASE_URL)
            files = {"root.pem": ca.root.pem, "issuing-ca.pem": ca.issuing.pem}
            assert ca.tsa is not None and ca.ocsp is not None
            files["tsa.pem"], files["ocsp-responder.pem"] = ca.tsa.pem, ca.ocsp.pem
            for username in SIGNERS:
                files[f"{username}.pem"] = office.issue_certificate(username, key="p256").pem
            files[f"seal-{SEAL}.pem"] = office.issue_certificate(agency=SEAL, key="p256").pem
            for name, pem in files.items():
                (HERE / name).write_bytes(pem)
            identity = office.signing_identity("pc.mayor")
            assert identity.private_key is not None
            encryption = (
                PrivateFormat.PKCS12.encryption_builder()
                .kdf_rounds(200_000)
                .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
                .hmac_hash(hashes.SHA256())
                .build(EXAMPLE_PASSPHRASE.encode())
            )
            p12 = pkcs12.serialize_key_and_certificates(
                b"EXAMPLE KEY pc.mayor (not secret)",
                identity.private_key,  # type: ignore[arg-type]
                identity.certificate,
                list(identity.chain),
                encryption,
            )
            (HERE / "EXAMPLE-KEY-pc.mayor.p12").write_bytes(p12)
            print(f'    "{spki_sha256(identity.private_key.public_key())}": "EXAMPLE-KEY-pc.mayor.p12",')
            for name in files:
                print(name)


if __name__ == "__main__":
    main()
