"""Create a letter and sign it with the pilot's CA, through the Python API.

    python examples/sign_letter.py [HOME] [OUT_DIR]

Builds the directory of examples/build_directory.py in HOME (a temporary folder if not given),
makes the office's CA (``Office.pki_init``) and the mayor's certificate, then: the clerk drafts
an external letter for the mayor (``new_document``), numbers it (``number_document``), the office
renders it with its signature field's place (``render_document_result``), and the mayor's key
(``signing_identity``: the certificate checked current, the key unlocked with its passphrase)
signs it as a PAdES B-LT signature with the Thai signature block (``edoc.signing.sign_pdf``).
Writes ``letter-signed.pdf`` and the CA's ``root.pem`` into OUT_DIR (default: HOME) and prints
the number, the signer and the file. ``examples/verify_file.py`` checks the result with only
the file and the root. Run by tests/test_examples.py.

The passphrases here are examples, given in the script so that it runs unattended; a real
office reads them from a file (``--passphrase-file``) or asks.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import edoc
from edoc.pki.keys import StaticPassphrases

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_directory import main as build_directory

EXAMPLE_PASSPHRASE = "example only, not secret"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LETTER = {
    "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาเทศบาลเมืองปากช่อง",
    "to": "นายอำเภอปากช่อง",
    "body": [
        "ด้วยเทศบาลเมืองปากช่องจะจัดประชุมคณะกรรมการพัฒนาเทศบาลเมืองปากช่อง ครั้งที่ 3/2569",
        "จึงเรียนมาเพื่อโปรดพิจารณาเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว",
    ],
    "signer": "pc.mayor",
}


def main(home: Path, out: Path) -> Path:
    from cryptography.hazmat.primitives.serialization import Encoding

    from edoc.signing import Credentials, SignatureBlock, SigningKey, prepare_fields, sign_pdf
    from edoc.signing.services import Services

    build_directory(home)
    settings = home / "edoc.toml"
    if "kdf_rounds" not in settings.read_text(encoding="utf-8"):  # example keys: fast to unlock
        settings.write_text(settings.read_text(encoding="utf-8") + "\n[pki]\nkdf_rounds = 10000\n", encoding="utf-8")
    with edoc.open_office(home, passphrases=StaticPassphrases(default=EXAMPLE_PASSPHRASE)) as office:
        if not office.certificates():
            office.pki_init("p384", organisation="เทศบาลเมืองปากช่อง", base_url=f"http://127.0.0.1:{free_port()}")
            office.issue_certificate("pc.mayor")
        doc_id = office.new_document("external", LETTER, as_user="pc.clerk")
        number = office.number_document(doc_id, as_user="pc.clerk")
        rendered = office.render_document_result(doc_id, as_user="pc.clerk")
        box = rendered.signature_boxes["signature"]
        pdf = prepare_fields(rendered.pdf, {"signature": (box.page, box.rect)})

        identity = office.signing_identity("pc.mayor")
        mayor = office.get_user("pc.mayor")
        creds = Credentials(identity.certificate, identity.chain, key=identity.private_key, owner="pc.mayor")
        block = SignatureBlock(mayor.full_name, mayor.position, office.now())
        root = office.export_root()
        # B-LT: a time-stamp from the office's TSA, and the OCSP/CRL answers embedded, so the file
        # verifies years later with nothing but the root. `pki_server()` serves them on 127.0.0.1
        # for the length of the signature (`edoc pki serve` does the same for a whole office).
        with office.pki_server():
            services = Services(trust_roots=(root,), tsa_url=office.tsa_url())
            signed = sign_pdf(
                pdf, SigningKey(creds), field="signature", appearance=block, level="B-LT", services=services
            ).pdf

        out.mkdir(parents=True, exist_ok=True)
        target = out / "letter-signed.pdf"
        target.write_bytes(signed)
        (out / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
        print(f"document {doc_id}: number {number.text}")
        print(f"signed by {mayor.full_name} ({mayor.position}), certificate {identity.serial}")
        print(f"wrote {target} ({len(signed):,} bytes) and {out / 'root.pem'}")
    return target


if __name__ == "__main__":
    home = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "home"
    main(home, Path(sys.argv[2]) if len(sys.argv) > 2 else home)
