"""``edoc verify`` as an auditor runs it: real processes, exit codes, the contract's JSON, the
printable report looked at in a real headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import fixtures_verify as fx
from tests.conftest import run_cli
from tests.fixtures_verify import Pki, append_update

pki = fx.pki
signing = fx.signing
signed_letter = fx.signed_letter

SIGNATURE_KEYS = {
    "field",
    "kind",
    "signer",
    "signing_time",
    "timestamp",
    "level",
    "intact",
    "trusted",
    "revocation",
    "coverage",
    "modifications_after",
    "visual_change_after",
    "indication",
    "subindication",
    "reasons",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, signed_letter: bytes, pki: Pki) -> dict[str, Path]:
    from pyhanko.pdf_utils import generic

    def cover(w: object) -> None:
        page_ref = w.find_page_for_modification(0)[0]  # type: ignore[attr-defined]
        page = page_ref.get_object()
        extra = generic.StreamObject(stream_data=b"q 1 1 1 rg 80 500 300 40 re f Q")
        page[generic.NameObject("/Contents")] = generic.ArrayObject([page.raw_get("/Contents"), w.add_object(extra)])  # type: ignore[attr-defined]
        w.update_container(page)  # type: ignore[attr-defined]

    base = tmp_path_factory.mktemp("verify-cli")
    good = base / "good.pdf"
    good.write_bytes(signed_letter)
    bad = base / "tampered.pdf"
    bad.write_bytes(append_update(signed_letter, cover))
    root = base / "root.pem"
    root.write_bytes(pki.pem("root").read_bytes())
    return {"good": good, "bad": bad, "root": root, "dir": base}


def test_valid_letter_exits_0_with_the_contract_json(files: dict[str, Path]) -> None:
    r = run_cli("verify", str(files["good"]), "--trust", str(files["root"]), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"file", "indication", "signatures", "reasons"}
    assert doc["file"] == str(files["good"]) and doc["indication"] == "TOTAL-PASSED"
    (sig,) = doc["signatures"]
    assert set(sig) == SIGNATURE_KEYS
    assert set(sig["signer"]) == {"name", "organisation", "serial", "issuer"}
    assert sig["level"] in ("B-B", "B-T", "B-LT", "B-LTA", "none")
    assert sig["revocation"] == "good" and sig["coverage"] in ("entire-file", "entire-revision")
    assert sig["subindication"] is None and sig["reasons"]
    assert r.stderr == ""  # nothing else was printed


def test_several_files_exit_1_when_one_fails(files: dict[str, Path]) -> None:
    r = run_cli("--json", "verify", str(files["good"]), str(files["bad"]), "--trust", str(files["root"]))
    assert r.returncode == 1, r.stderr
    docs = json.loads(r.stdout)
    assert [d["indication"] for d in docs] == ["TOTAL-PASSED", "TOTAL-FAILED"]
    bad = docs[1]["signatures"][0]
    assert bad["visual_change_after"] is True and bad["subindication"] == "FORMAT_FAILURE"


def test_without_the_root_it_cannot_be_confirmed(files: dict[str, Path]) -> None:
    r = run_cli("verify", str(files["good"]), "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["indication"] == "INDETERMINATE"


def test_human_report_in_thai(files: dict[str, Path]) -> None:
    r = run_cli("--lang", "th", "verify", str(files["bad"]), "--trust", str(files["root"]))
    assert r.returncode == 1
    assert "TOTAL-FAILED" in r.stdout and "ไม่ถูกต้อง" in r.stdout
    assert "หน้า 1 มีลักษณะต่างจากขณะลงนาม" in r.stdout
    assert "นายสมชาย ใจดี" in r.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["verify"], 2, "Missing argument"),
        (["verify", "no-such.pdf"], 4, "no-such.pdf"),
        (["verify", "{good}", "--trust", "no-root.pem"], 2, "trust"),
        (["verify", "{good}", "--trust", "{good}"], 2, "trust"),
        (["verify", "{good}", "--at", "yesterday"], 2, "at"),
        (["verify", "{good}", "--at", "2026-01-01T00:00:00"], 2, "time zone"),
        (["verify", "{good}", "--timeout", "0"], 2, "timeout"),
    ],
)
def test_bad_usage(files: dict[str, Path], args: list[str], code: int, needle: str) -> None:
    argv = [a.format(good=files["good"]) for a in args]
    r = run_cli(*argv)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert needle in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_html_report_in_chromium(files: dict[str, Path], tmp_path: Path) -> None:
    """The printable report, opened in a real headless Chromium: it renders the Thai text, the
    verdicts and the before/after images of the altered page."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (Debian package 'chromium'; .ci/run installs it)")
    report = tmp_path / "report.html"
    r = run_cli(
        "--lang",
        "th",
        "verify",
        str(files["good"]),
        str(files["bad"]),
        "--trust",
        str(files["root"]),
        "--report",
        str(report),
    )
    assert r.returncode == 1, r.stderr
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="th">' in html
    assert "รายงานการตรวจสอบลายมือชื่ออิเล็กทรอนิกส์" in html
    assert html.count("data:image/png;base64,") == 2  # before and after of the altered page
    assert "http://" not in html and "https://" not in html and "<script" not in html  # self-contained

    shot = tmp_path / "report.png"
    pdf = tmp_path / "report.pdf"
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1000,3000", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    subprocess.run([*base, f"--print-to-pdf={pdf}", report.as_uri()], capture_output=True, timeout=120, check=True)

    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 3000)
    colours = image.getcolors(maxcolors=1 << 20) or []
    # the green TOTAL-PASSED and red TOTAL-FAILED badges are drawn
    assert any(c == (0x1B, 0x7F, 0x3A) for _n, c in colours)
    assert any(c == (0xB3, 0x14, 0x1C) for _n, c in colours)
    # a page image was drawn: many distinct grey levels from the rendered letter
    assert len(colours) > 200
    # printed, the Thai text is real text in the PDF (read back with poppler's pdftotext)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
    assert "ไม่ถูกต้อง" in text and "นายสมชาย" in text
