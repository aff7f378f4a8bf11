"""``edoc doc new|import|show|render`` as a clerk meets them: exit codes, JSON, two languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke, run_cli
from tests.fixtures_documents import MINIMAL, small_pdf


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the pilot's directory (built once for this module)."""
    from edoc.office import init_office, open_office
    from tests.fixtures_documents import pilot

    home = tmp_path_factory.mktemp("doc-cli") / "home"
    init_office(home, None, name="doc cli")
    with open_office(home, None) as office:
        pilot(office)
    return home


def _file(tmp_path: Path, data: dict[str, object], name: str = "letter.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_new_then_show_in_real_processes(demo_home: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, MINIMAL[("external", None)])
    r = run_cli("doc", "new", "external", "--as", "pc.officer", "--from", str(path), home=demo_home)
    assert r.returncode == 0, r.stderr
    doc_id = int(r.stdout.strip())
    r = run_cli("--json", "doc", "new", "external", "--as", "pc.officer", "--from", str(path), home=demo_home)
    assert r.returncode == 0 and json.loads(r.stdout) == {"id": doc_id + 1}
    r = run_cli("doc", "show", str(doc_id), "--json", home=demo_home, env={"EDOC_USER": "pc.officer"})
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert (shown["id"], shown["kind"], shown["state"], shown["to"]) == (doc_id, "external", "draft", "นายอำเภอปากช่อง")
    r = run_cli("doc", "show", str(doc_id), "--as", "pc.officer", "--lang", "th", home=demo_home)
    assert r.returncode == 0 and "หนังสือภายนอก" in r.stdout and "ร่าง" in r.stdout


def test_toml_file_and_every_kind(demo_home: Path, tmp_path: Path) -> None:
    import tomli_w

    for (kind, _form), data in MINIMAL.items():
        path = tmp_path / f"{kind}.toml"
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        r = invoke("--json", "doc", "new", kind, "--as", "pc.officer", "--from", str(path), home=demo_home)
        assert r.code == 0, r.stderr
        assert isinstance(r.json()["id"], int)


@pytest.mark.parametrize(
    ("kind", "changes", "as_user", "code", "needle"),
    [
        ("external", {"subject": None}, "pc.officer", 2, "'subject' is required"),
        ("external", {"body": []}, "pc.officer", 2, "'body' must not be empty"),
        ("external", {"urgency": "fast"}, "pc.officer", 2, "urgency"),
        ("external", {"secrecy": "hush"}, "pc.officer", 2, "secrecy"),
        ("external", {"colour": "red"}, "pc.officer", 2, "unknown field 'colour'"),
        ("letter", {}, "pc.officer", 2, "kind"),
        ("external", {}, "pc.auditor", 3, "permission denied"),
        ("external", {"signer": "ghost.user"}, "pc.officer", 4, "ghost.user"),
        ("external", {}, "ghost.user", 4, "ghost.user"),
    ],
)
def test_new_errors_have_contract_exit_codes(
    demo_home: Path, tmp_path: Path, kind: str, changes: dict[str, object], as_user: str, code: int, needle: str
) -> None:
    data = {k: v for k, v in {**MINIMAL[("external", None)], **changes}.items() if v is not None}
    r = invoke("doc", "new", kind, "--as", as_user, "--from", str(_file(tmp_path, data)), home=demo_home)
    assert r.code == code, r.stderr
    assert needle in r.stderr and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1


def test_thai_messages(demo_home: Path, tmp_path: Path) -> None:
    data = {**MINIMAL[("external", None)], "urgency": "เร็ว"}
    r = invoke(
        "--lang",
        "th",
        "doc",
        "new",
        "external",
        "--as",
        "pc.officer",
        "--from",
        str(_file(tmp_path, data)),
        home=demo_home,
    )
    assert r.code == 2 and "ช่อง 'urgency'" in r.stderr


def test_bad_document_files(demo_home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    for path, needle in ((broken, "bad JSON"), (tmp_path / "missing.toml", "No such file")):
        r = invoke("doc", "new", "external", "--as", "pc.officer", "--from", str(path), home=demo_home)
        assert r.code == 2 and needle in r.stderr


def test_import_and_its_errors(demo_home: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "จากจังหวัด.pdf"
    pdf.write_bytes(small_pdf("incoming"))
    r = invoke(
        "--json",
        "doc",
        "import",
        str(pdf),
        "--as",
        "pc.clerk",
        "--from-agency",
        "จังหวัดนครราชสีมา",
        "--number",
        "นม 0017/1234",
        "--date",
        "2026-11-20",
        home=demo_home,
    )
    assert r.code == 0, r.stderr
    doc_id = r.json()["id"]
    shown = invoke("--json", "doc", "show", str(doc_id), "--as", "pc.clerk", home=demo_home).json()
    assert shown["subject"] == "จากจังหวัด"  # no title in the PDF: the file name
    assert (shown["origin"], shown["state"], shown["document_date"]) == ("imported", "received", "2026-11-20")
    text = tmp_path / "note.pdf"
    text.write_text("not a pdf")
    for args, code, needle in (
        ([str(text), "--as", "pc.clerk"], 2, "not a PDF"),
        ([str(tmp_path / "none.pdf"), "--as", "pc.clerk"], 2, "No such file"),
        ([str(pdf), "--as", "pc.officer"], 3, "permission denied"),
        ([str(pdf), "--as", "pc.clerk", "--date", "20/11/2569"], 2, "date"),
        ([str(pdf), "--as", "pc.clerk", "--urgency", "now"], 2, "urgency"),
    ):
        r = invoke("doc", "import", *args, home=demo_home)
        assert r.code == code and needle in r.stderr, (args, r.stderr)


def test_show_needs_who_asks(demo_home: Path) -> None:
    r = run_cli("doc", "show", "1", home=demo_home)
    assert r.returncode == 2 and "--as" in r.stderr and "EDOC_USER" in r.stderr
    r = run_cli("doc", "show", "1", home=demo_home, env={"EDOC_LANG": "th"})
    assert r.returncode == 2 and "ต้องระบุผู้ใช้งาน" in r.stderr
    assert invoke("doc", "show", "abc", "--as", "pc.clerk", home=demo_home).code == 2
    assert invoke("doc", "show", "0", "--as", "pc.clerk", home=demo_home).code == 2
    r = invoke("doc", "show", "99999", "--as", "pc.clerk", home=demo_home)
    assert r.code == 4 and "99999" in r.stderr


def test_render_writes_the_pdf(demo_home: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, MINIMAL[("directive", "order")])
    doc_id = invoke("--json", "doc", "new", "directive", "--as", "pc.officer", "--from", str(path), home=demo_home)
    assert doc_id.code == 0, doc_id.stderr
    out = tmp_path / "order.pdf"
    r = run_cli(
        "doc", "render", str(doc_id.json()["id"]), "--out", str(out), "--as", "pc.officer", "--json", home=demo_home
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert out.read_bytes()[:8] == b"%PDF-1.7" and data["pages"] == 1 and data["pdfa"] == "PDF/A-2b"
    assert data["signature_boxes"]["signature"]["page"] == 0 and len(data["stamp_zone"]["rect"]) == 4
    import hashlib

    assert data["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    r = invoke("doc", "render", str(doc_id.json()["id"]), "--out", str(tmp_path), "--as", "pc.officer", home=demo_home)
    assert r.code == 2 and "folder" in r.stderr
    r = invoke("doc", "render", "4242", "--out", str(out), "--as", "pc.officer", home=demo_home)
    assert r.code == 4
