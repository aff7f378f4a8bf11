"""Draft an external letter through the Python API and render it as a Thai PDF.

    python examples/render_letter.py [HOME] [OUT.pdf]

Builds the directory of examples/build_directory.py in HOME (a temporary folder if not given),
then the clerk drafts a letter from the mayor to the district office (``Office.new_document``:
one audited act; the fields are those of a document file, see docs/documents.md) and renders the
preview (``Office.render_document_result``). Writes the PDF to OUT.pdf (default: letter.pdf in
HOME) and prints its id, state, pages and size. Run by tests/test_examples.py.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import edoc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_directory import main as build_directory

LETTER = {
    "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาเทศบาลเมืองปากช่อง",
    "to": "นายอำเภอปากช่อง",
    "urgency": "urgent",
    "enclosures": ["ระเบียบวาระการประชุม จำนวน 1 ฉบับ"],
    "body": [
        "ด้วยเทศบาลเมืองปากช่องจะจัดประชุมคณะกรรมการพัฒนาเทศบาลเมืองปากช่อง ครั้งที่ 3/2569 "
        "ในวันพุธที่ 25 พฤศจิกายน 2569 เวลา 09.30 น. ณ ห้องประชุมสำนักงานเทศบาลเมืองปากช่อง",
        "จึงเรียนมาเพื่อโปรดพิจารณาเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว",
    ],
    "contact": {"unit": "สำนักปลัดเทศบาล", "phone": "0 4431 1234"},
    "signer": "pc.mayor",
}


def main(home: Path, out: Path) -> None:
    build_directory(home)  # prints the directory first
    with edoc.open_office(home) as office:
        doc_id = office.new_document("external", LETTER, as_user="pc.clerk")
        view = office.show_document(doc_id, as_user="pc.clerk")
        result = office.render_document_result(doc_id, as_user="pc.clerk")
    out.write_bytes(result.pdf)
    print(f"document {doc_id}: {view.kind} '{view.subject}' ({view.state})")
    print(f"{out}: {result.pages} page(s), {len(result.pdf)} bytes, PDF/A-{result.pdfa_part}b")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        target = Path(sys.argv[1])
        main(target, Path(sys.argv[2]) if len(sys.argv) > 2 else target / "letter.pdf")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp) / "home", Path(tmp) / "letter.pdf")
