"""Write docs/documents/: one page per kind with its fields and a picture of the result.

    PYTHONPATH=. python docs/documents/regenerate.py

The fields tables come from ``edoc.documents.fields.SCHEMAS`` (what ``edoc doc new`` checks), the
sample document files from the demo (``edoc.pilot.documents.SAMPLES``), and the pictures from
rendering those samples in a throw-away demo home and rasterising page 1 with poppler's
``pdftoppm``. ``tests/test_documents_docs.py`` fails when a field is missing from its page.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import tomli_w

from edoc.documents.fields import SCHEMAS, FieldSpec
from edoc.documents.kinds import FORMS, DocumentKind
from edoc.office import init_office, open_office
from edoc.pilot import DemoOptions
from edoc.pilot.directory import build_directory
from edoc.pilot.documents import DRAFTER, SAMPLES

HERE = Path(__file__).resolve().parent

PURPOSE: dict[DocumentKind, str] = {
    DocumentKind.EXTERNAL: "A formal letter between agencies, or from an agency to people and firms outside.",
    DocumentKind.INTERNAL: "A memo (บันทึกข้อความ) inside one agency, or between agencies of one ministry or province.",
    DocumentKind.STAMPED: (
        "For minor matters: sent under the agency's stamp (ตราชื่อส่วนราชการ) with the initials of the "
        "official in charge instead of a signature."
    ),
    DocumentKind.DIRECTIVE: "What an agency lays down: orders (คำสั่ง), regulations (ระเบียบ) and bylaws (ข้อบังคับ).",
    DocumentKind.PUBLICITY: "What an agency makes known: announcements (ประกาศ), statements (แถลงการณ์) and news (ข่าว).",
    DocumentKind.RECORD: (
        "Documents officials make or receive as evidence: certificates (หนังสือรับรอง), minutes of "
        "meetings (รายงานการประชุม), notes (บันทึก) and other records (หนังสืออื่น)."
    ),
}

LAYOUT: dict[DocumentKind, str] = {
    DocumentKind.EXTERNAL: (
        "A4, left margin 3 cm, right 2 cm, Sarabun 16 pt. Urgency (if any) in red, 32 pt, top left; "
        "the agency's emblem 3 cm high, top centre "
        "(its image from `<home>/assets/`, or a neutral placeholder seal: edoc never ships the Garuda); "
        "the number (ที่ …) top left and "
        "the agency's name and address top right; the date from the centre, in the Buddhist Era with "
        "the Thai month; then เรื่อง, the salutation and addressee, อ้างถึง, สิ่งที่ส่งมาด้วย, the body "
        "paragraphs with a first-line indent, the closing from the centre, the signature box, the full "
        "name in parentheses and the position; the originating unit and its contact at the bottom left, "
        "then สำเนาส่ง. The top right of page 1 stays free for the recipient's received stamp."
    ),
    DocumentKind.INTERNAL: (
        "บันทึกข้อความ: the emblem 1.5 cm high top left beside the heading in large bold type, then ส่วนราชการ "
        "(the originating unit and its phone), ที่ and วันที่ on one line, เรื่อง, the salutation, the body "
        "and the signature block."
    ),
    DocumentKind.STAMPED: (
        "Like an external letter without a salutation, closing or signature: the number and the "
        "agency's address, ถึง, the body; then, under the space kept for the agency's stamp, the "
        "agency's name and the date; the originating unit at the bottom left."
    ),
    DocumentKind.DIRECTIVE: (
        "The emblem centred, the heading (คำสั่ง / ระเบียบ / ข้อบังคับ + the agency), the number "
        "(orders: ที่ n/พ.ศ.), เรื่อง, the body; regulations and bylaws in numbered clauses (ข้อ ๑ …); "
        "สั่ง ณ วันที่ / ประกาศ ณ วันที่ and the signature block."
    ),
    DocumentKind.PUBLICITY: (
        "The emblem centred, the heading (ประกาศ / แถลงการณ์ / ข่าว + the agency), statements and news "
        "with their running number (ฉบับที่), เรื่อง, the body, ประกาศ ณ วันที่ and the signature block "
        "(statements and news end with the agency's name and the date, without a name block)."
    ),
    DocumentKind.RECORD: (
        "Certificates (หนังสือรับรอง) with the emblem, the number and ให้ไว้ ณ วันที่; minutes (รายงานการประชุม) headed by "
        "the meeting, session, date and place, with the members present and absent, the time it began "
        "and ended, the agenda items and the name of who took the minutes; notes (บันทึก) and other "
        "records with the date and the writer."
    ),
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(spec: FieldSpec) -> str:
    if spec.required:
        return "**required**"
    if spec.default in (None, (), ""):
        return ""
    return f"`{spec.default}`"


def fields_table(specs: tuple[FieldSpec, ...]) -> str:
    lines = ["| field | Thai | what | type | default |", "|---|---|---|---|---|"]
    for s in specs:
        lines.append(f"| `{s.name}` | {_cell(s.thai)} | {_cell(s.help)} | {s.type.value} | {_default(s)} |")
    return "\n".join(lines)


def page(kind: DocumentKind, sample: dict[str, Any], picture: str) -> str:
    forms = FORMS[kind]
    out = [
        f"# {kind.thai} (`{kind.value}`)",
        "",
        PURPOSE[kind],
        "",
        f"`edoc doc new {kind.value} --from FILE --as USER` (JSON or TOML; see docs/en/guide.md). "
        "Unknown fields are an error; urgency and secrecy take the four words or their Thai names.",
        "",
        "## Layout",
        "",
        LAYOUT[kind],
        "",
    ]
    if forms:
        out += [
            "## Forms",
            "",
            'The file names its form with `form = "..."`'
            + (" (it may be left out for the first one)." if kind is not DocumentKind.RECORD else " (required)."),
            "",
        ]
        for form in forms:
            out += [f"### `{form.value}`: {form.thai}", "", fields_table(SCHEMAS[(kind, form)]), ""]
    else:
        out += ["## Fields", "", fields_table(SCHEMAS[(kind, None)]), ""]
    out += [
        "## An example file",
        "",
        "What the demo (`edoc demo`) drafts for Pak Chong; the signer and the drafter are users of the "
        "demo's directory.",
        "",
        "```toml",
        tomli_w.dumps(sample).rstrip(),
        "```",
        "",
        "## The result",
        "",
        f"![page 1 of the example, rendered by edoc]({picture})",
        "",
        "Rendered by `edoc doc render` (page 1, 60 dpi). The PDF is PDF/A-2b with the fonts embedded "
        "and subset; its text copies and searches as typed.",
        "",
    ]
    return "\n".join(out)


def index() -> str:
    rows = ["| kind | Thai | forms |", "|---|---|---|"]
    for kind in DocumentKind:
        forms = ", ".join(f"`{f.value}` ({f.thai})" for f in FORMS[kind]) or "one form"
        rows.append(f"| [`{kind.value}`]({kind.value}.md) | {kind.thai} | {forms} |")
    common = SCHEMAS[(DocumentKind.EXTERNAL, None)][:7]
    return "\n".join(
        [
            "# The six kinds of official document",
            "",
            "The Correspondence Regulation B.E. 2526 knows six kinds of official document; edoc drafts, "
            "renders and signs all of them. Each page below gives the kind's layout, the fields of its "
            "document file and a picture of the result. These pages are generated by "
            "`docs/documents/regenerate.py` from the field definitions edoc checks, so they cannot drift.",
            "",
            "\n".join(rows),
            "",
            "## Fields every kind has",
            "",
            fields_table(common),
            "",
            "Attachments are embedded in the PDF as file attachments (PDF/A-3b) and listed on the last "
            "page with their SHA-256. Paths are relative to the document file.",
            "",
            "## Rendering",
            "",
            "A4, left margin 3 cm, right 2 cm, Sarabun 16 pt (fontpkg-sarabun), embedded and subset. "
            "Thai words are shaped by HarfBuzz and lines break only between words found by dictionary "
            "segmentation (pythainlp's newmm), never inside a word or between a consonant and its marks; "
            "lines are justified the Thai way (extra space spread between character clusters, the last "
            "line of a paragraph left as it is), and no text crosses the right margin. Dates are in the Buddhist "
            "Era with Thai month names; Thai digits are an agency setting. Urgency is printed in red at "
            "least 32 pt at the top, secrecy in red at the top and bottom centre of every page, and page "
            'numbers as "- ๒ -" from page 2, with the first word of the next page at the bottom right.',
            "",
        ]
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        init_office(home, name="docs", demo=True)
        with open_office(home) as office:
            build_directory(office, DemoOptions(), lambda *_: None)
            for kind_name, fields in SAMPLES:
                kind = DocumentKind(kind_name)
                doc_id = office.new_document(kind, fields, as_user=DRAFTER)
                pdf = Path(tmp) / f"{kind.value}.pdf"
                pdf.write_bytes(office.render_document(doc_id, as_user=DRAFTER))
                subprocess.run(
                    [
                        "pdftoppm",
                        "-r",
                        "60",
                        "-f",
                        "1",
                        "-l",
                        "1",
                        "-png",
                        "-singlefile",
                        str(pdf),
                        str(HERE / kind.value),
                    ],
                    check=True,
                )
                (HERE / f"{kind.value}.md").write_text(page(kind, fields, f"{kind.value}.png"), encoding="utf-8")
    (HERE / "README.md").write_text(index(), encoding="utf-8")


if __name__ == "__main__":
    main()
