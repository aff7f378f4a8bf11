"""The demo's documents step: one document of each kind, drafted through the facade, rendered,
written into the home, and read back by poppler."""

from __future__ import annotations

from pathlib import Path

from edoc.documents import DocumentKind
from edoc.office import Office
from edoc.pilot import DemoOptions
from edoc.pilot.documents import DOCUMENTS_DIR, SAMPLES, create_documents
from tests import pdftools
from tests.fixtures_documents import pilot_sqlite  # noqa: F401


def test_one_document_of_each_kind_is_written_into_the_home(pilot_sqlite: Office) -> None:  # noqa: F811
    seen: list[tuple[int, int]] = []
    result = create_documents(pilot_sqlite, DemoOptions(), lambda task, done, total: seen.append((done, total)))
    rows = result.details["documents"]
    assert sorted(r["kind"] for r in rows) == sorted(k.value for k in DocumentKind)
    assert seen[-1] == (6, 6)
    folder = pilot_sqlite.home / DOCUMENTS_DIR
    assert Path(result.details["folder"]) == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(r["file"] for r in rows)
    for row, (kind, fields) in zip(rows, SAMPLES, strict=True):
        pdf = (folder / row["file"]).read_bytes()
        assert row["bytes"] == len(pdf) and row["kind"] == kind
        assert int(pdftools.info(pdf)["Pages"]) == row["pages"] == 1  # every sample fits on one page
        text = pdftools.body_text(pdf)
        for paragraph in fields["body"]:
            assert pdftools.squeeze(paragraph) in text, (kind, paragraph)
        heading = fields.get("meeting", fields["subject"])  # minutes are headed by the meeting's name
        assert pdftools.squeeze(heading) in text
        assert all(f["emb"] == "yes" for f in pdftools.fonts(pdf))
        view = pilot_sqlite.show_document(row["id"], as_user="pc.clerk")
        assert view.kind == kind and view.state == "draft"
    assert f"#{rows[0]['id']} external 1 p" in result.summary
