"""Every script in examples/ runs and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> str:
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_build_directory(tmp_path: Path) -> None:
    out = run_example("build_directory.py", str(tmp_path / "home"))
    assert "เทศบาลเมืองปากช่อง" in out and "pc.mayor" in out
    assert out == run_example("build_directory.py", str(tmp_path / "home"))  # re-run is safe


def test_show_example_chain() -> None:
    out = run_example("show_example_chain.py")
    assert out.count("signed by") == 3 and "NOT signed" not in out
    assert "เทศบาลเมืองปากช่อง Root CA" in out and "UID=pc.mayor" in out


def test_render_letter(tmp_path: Path) -> None:
    from tests import pdftools

    out = run_example("render_letter.py", str(tmp_path / "home"), str(tmp_path / "letter.pdf"))
    assert "external 'ขอเชิญประชุมคณะกรรมการพัฒนาเทศบาลเมืองปากช่อง' (draft)" in out
    assert "1 page(s)" in out and "PDF/A-2b" in out
    pdf = (tmp_path / "letter.pdf").read_bytes()
    text = pdftools.body_text(pdf)
    assert pdftools.squeeze("จึงเรียนมาเพื่อโปรดพิจารณาเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว") in text
    assert all(f["emb"] == "yes" for f in pdftools.fonts(pdf))


def test_sign_a_letter_verify_it_and_walk_the_audit_log(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    signed = run_example("sign_letter.py", str(home), str(out))
    assert "number นม 52101/1" in signed and "letter-signed.pdf" in signed
    pdf, root = out / "letter-signed.pdf", out / "root.pem"
    assert pdf.read_bytes().startswith(b"%PDF-")

    verified = run_example("verify_file.py", str(pdf), str(root))  # exit 0: TOTAL-PASSED
    assert "letter-signed.pdf: TOTAL-PASSED" in verified and "level B-LT" in verified
    assert "revocation good" in verified and "นายสมศักดิ์ ประเสริฐวงศ์" in verified

    data = bytearray(pdf.read_bytes())  # one changed byte in the signed content
    at = data.index(b"stream", len(data) // 4) + 20
    data[at] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "verify_file.py"), str(tampered), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert r.returncode == 1 and "TOTAL-PASSED" not in r.stdout.splitlines()[0], r.stdout + r.stderr

    walked = run_example("walk_audit_log.py", str(home))
    assert "document.new doc 1" in walked and "doc.number doc 1" in walked and "pki.init" in walked
    assert ": intact" in walked and "checked independently: True" in walked
