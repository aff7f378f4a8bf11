"""Verify a signed PDF with only the file and the root certificate: no office, no database.

    python examples/verify_file.py FILE.pdf ROOT.pem

What an auditor does (``edoc.verify_pdf``): prints the file's ETSI indication and, for each
signature, the signer, when, the level, whether the signed bytes are intact, whether the chain
reaches the root, and the reasons. Exits 0 only for TOTAL-PASSED, 1 otherwise (like
``edoc verify``). Run by tests/test_examples.py on the letter examples/sign_letter.py makes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import edoc


def main(pdf: Path, root: Path) -> int:
    report = edoc.verify_pdf(pdf, trust=[root])
    data = report.to_json()  # the contract's JSON: what `edoc verify --json` prints
    print(f"{pdf.name}: {data['indication']}")
    for sig in data["signatures"]:
        signer = sig["signer"]
        print(
            f"  {sig['field']}: {signer['name']} ({signer['organisation']}), serial {signer['serial']}, "
            f"signed {sig['signing_time']}, level {sig['level']}, intact {sig['intact']}, trusted {sig['trusted']}, "
            f"revocation {sig['revocation']}: {sig['indication']}"
        )
        for reason in sig["reasons"]:
            print(f"    - {reason}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
