"""Print the example pilot's certificate chain from certs/ and check each link.

    python examples/show_example_chain.py

Reads only public files (``certs/*.pem``), no office needed: for the mayor's signing
certificate, the issuing CA and the root, prints the subject, the serial, the validity and the
SHA-256 fingerprint, and checks that each certificate was signed by the next one
(``verify_directly_issued_by``). Exits 1 if a link does not hold. Run by tests/test_examples.py.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

CERTS = Path(__file__).resolve().parents[1] / "certs"

# cryptography counts X.520's 64-character bound on a common name in UTF-8 bytes and warns about
# Thai names longer than 21 characters; the bound is in characters, and these names are within it.
warnings.filterwarnings("ignore", message="Attribute's length must be")


def load(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((CERTS / name).read_bytes())


def main() -> int:
    chain = [load("pc.mayor.pem"), load("issuing-ca.pem"), load("root.pem")]
    ok = True
    for i, cert in enumerate(chain):
        issuer = chain[min(i + 1, len(chain) - 1)]
        try:
            cert.verify_directly_issued_by(issuer)
            link = "signed by " + ("itself (root)" if issuer is cert else issuer.subject.rfc4514_string())
        except Exception as exc:  # InvalidSignature, or a key of the wrong type
            ok = False
            link = f"NOT signed by the next certificate: {exc!r}"
        print(cert.subject.rfc4514_string())
        print(f"  serial      {cert.serial_number:x}")
        print(f"  valid       {cert.not_valid_before_utc:%Y-%m-%d} .. {cert.not_valid_after_utc:%Y-%m-%d}")
        print(f"  sha-256     {cert.fingerprint(hashes.SHA256()).hex()}")
        print(f"  {link}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
