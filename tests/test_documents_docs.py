"""docs/documents/: a page per kind whose fields tables match what ``edoc doc new`` checks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from edoc.documents import validate
from edoc.documents.fields import SCHEMAS
from edoc.documents.kinds import FORMS, DocumentKind

DOCS = Path(__file__).resolve().parents[1] / "docs" / "documents"


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_field_of_every_form_is_on_its_page(kind: DocumentKind) -> None:
    text = (DOCS / f"{kind.value}.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.M)
    for form in FORMS[kind] or (None,):
        section = next(s for s in sections if form is None or s.startswith(f"`{form.value}`"))
        listed = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)
        assert listed == [spec.name for spec in SCHEMAS[(kind, form)]], (kind, form)


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_the_example_file_is_valid_and_its_picture_is_there(kind: DocumentKind) -> None:
    text = (DOCS / f"{kind.value}.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", text, flags=re.S)
    assert example is not None
    content = validate(kind, tomllib.loads(example.group(1)))
    assert content.kind is kind
    picture = re.search(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert picture is not None
    assert (DOCS / picture.group(1)).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_index_links_every_kind() -> None:
    text = (DOCS / "README.md").read_text(encoding="utf-8")
    assert set(re.findall(r"\]\(([a-z]+)\.md\)", text)) == {k.value for k in DocumentKind}
