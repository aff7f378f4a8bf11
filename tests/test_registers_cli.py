"""The registers' commands through the real command line."""

from __future__ import annotations

from pathlib import Path

from edoc.office import init_office, open_office
from tests.conftest import invoke, run_cli
from tests.fixtures_registers import PAKCHONG, build_directory, new_drafts


def _home(home: Path, *, thai_digits: bool = False) -> list[int]:
    init_office(home)
    with open_office(home) as office:
        build_directory(office)
        if thai_digits:
            office.add_agency("THAI", name="เทศบาลตำบลเลขไทย", letter_code="นม 72001", thai_digits=True)
            office.add_user("tclerk", agency="THAI", full_name="นายไทย เลข", position="ธุรการ", role="clerk")
            office.add_user("texec", agency="THAI", full_name="นายก ไทย", position="นายก", role="executive")
            return new_drafts(office, "texec", 2, signer="texec")
        return new_drafts(office, "officer", 3)


def test_doc_number(home: Path) -> None:
    a, b, c = _home(home)
    r = invoke("--json", "doc", "number", str(a), "--as", "clerk", home=home)
    assert r.code == 0, r.stderr
    assert r.json() == {
        "id": a,
        "number": "นม 52101/1",
        "display": "นม 52101/1",
        "agency": PAKCHONG,
        "series": "out",
        "year": r.json()["year"],
        "seq": 1,
    }
    r = invoke("doc", "number", str(b), "--as", "clerk", "--circular", home=home)
    assert r.code == 0 and r.stdout.strip() == "นม 52101/ว 1"
    again = invoke("doc", "number", str(a), "--as", "clerk", home=home)
    assert again.code == 5 and "already has the number นม 52101/1" in again.stderr
    assert invoke("doc", "number", "9999", "--as", "clerk", home=home).code == 4
    assert invoke("doc", "number", str(c), "--as", "dclerk", home=home).code == 3
    assert invoke("doc", "number", str(c), "--as", "nobody", home=home).code == 4
    assert invoke("doc", "number", "x", "--as", "clerk", home=home).code == 2
    assert invoke("doc", "number", str(c), home=home).code == 2  # --as is required


def test_doc_cancel_keeps_the_number(home: Path) -> None:
    a, b, _ = _home(home)
    assert invoke("doc", "number", str(a), "--as", "clerk", home=home).code == 0
    r = invoke("--json", "doc", "cancel", str(a), "--as", "clerk", "--reason", "ส่งซ้ำ", home=home)
    assert r.code == 0 and r.json() == {"id": a, "state": "cancelled"}
    assert invoke("doc", "cancel", str(a), "--as", "clerk", "--reason", "x", home=home).code == 5
    assert invoke("doc", "cancel", str(b), "--as", "clerk", "--reason", " ", home=home).code == 2
    r = invoke("--json", "doc", "number", str(b), "--as", "clerk", home=home)
    assert r.json()["seq"] == 2


def test_thai_digits_in_a_real_process(home: Path) -> None:
    a, _ = _home(home, thai_digits=True)
    r = run_cli("doc", "number", str(a), "--as", "tclerk", home=home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "นม ๗๒๐๐๑/๑"
    r = run_cli("doc", "number", str(a), "--as", "tclerk", "--json", home=home)
    assert r.returncode == 5 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def _pki_home(home: Path, tmp_path: Path) -> tuple[list[int], dict[str, str]]:
    """A home with the pilot's CA, certificates for the clerk, heads and the seal, and two letters
    imported from outside; the environment that unlocks the keys."""
    from edoc.pki.keys import StaticPassphrases
    from tests.fixtures_pki import PASSPHRASE, make_pki_home
    from tests.fixtures_registers import tiny_pdf

    make_pki_home(home, None)
    with open_office(home, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        for name in ("pc.clerk", "pc.mayor", "pc.head"):
            office.issue_certificate(name)
        office.issue_certificate(agency="PAKCHONG")
        ids = [
            office.import_document(tiny_pdf(), as_user="pc.clerk", subject=s, from_agency="จังหวัดนครราชสีมา", number=n)
            for s, n in (("ขอเชิญประชุมคณะกรรมการจังหวัด", "นม 0017/11"), ("แจ้งกำหนดการฉีดวัคซีน", "นม 0033/7"))
        ]
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE, encoding="utf-8")
    return ids, {"EDOC_PASSPHRASE_FILE": str(secret)}


def test_receive_register_search_through_the_command_line(home: Path, tmp_path: Path) -> None:
    import csv
    import json
    import subprocess

    (a, b), env = _pki_home(home, tmp_path)
    r = run_cli("--json", "doc", "receive", str(a), "--as", "pc.clerk", "--level", "B-B", home=home, env=env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["number"] == "1" and got["stamp_field"] == "received-1" and got["id"] == a
    again = run_cli("doc", "receive", str(a), "--as", "pc.clerk", home=home, env=env)
    assert again.returncode == 5 and "already registered as received with number 1" in again.stderr
    assert "Traceback" not in again.stderr
    assert run_cli("doc", "receive", str(b), "--as", "pc.mayor", home=home, env=env).returncode == 3
    assert run_cli("doc", "receive", "999", "--as", "pc.clerk", home=home, env=env).returncode == 4
    assert (
        run_cli(
            "doc", "receive", str(b), "--as", "pc.clerk", "--remark", "ด่วน", "--level", "B-B", home=home, env=env
        ).returncode
        == 0
    )

    # the register: the contract's JSON, CSV with the same columns, and an A4 landscape PDF
    csv_path, pdf_path = tmp_path / "received.csv", tmp_path / "received.pdf"
    r = invoke(
        "--json", "register", "received", "--agency", "PAKCHONG", "--as", "pc.clerk",
        "--csv", str(csv_path), "--pdf", str(pdf_path), home=home,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    rows = r.json()["rows"]
    assert [sorted(x) for x in rows] == [sorted(COLUMNS)] * 2
    assert rows[0]["register_number"] == "1" and rows[0]["document_number"] == "นม 0017/11"
    assert rows[1]["remark"] == "ด่วน" and rows[0]["from"] == "จังหวัดนครราชสีมา"
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == list(COLUMNS) and [t["subject"] for t in table] == [x["subject"] for x in rows]
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True).stdout
    assert "ทะเบียนหนังสือรับ" in text and "เทศบาลเมืองปากช่อง" in text and "หน้า 1/1" in text
    assert "นม 0017/11" in text and "เลขทะ" in text
    info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True).stdout
    assert "841.89 x 595.28" in info  # A4 landscape
    assert invoke("register", "sent", "--agency", "PAKCHONG", "--as", "prov.clerk", home=home).code == 3
    assert invoke("register", "sent", "--agency", "NOPE", home=home).code == 4
    assert invoke("register", "sent", "--agency", "PAKCHONG", "--year", "26", home=home).code == 2

    # search: Thai without spaces, JSON, only what the user may see
    r = invoke("--json", "search", "ประชุมคณะ", "--as", "pc.clerk", home=home)
    assert r.code == 0 and [h["id"] for h in r.json()["items"]] == [a]
    assert r.json()["items"][0]["register_number"] == "1"
    r = invoke("--json", "search", "ประชุมคณะ", "--as", "prov.clerk", home=home)
    assert r.code == 0 and r.json()["items"] == []
    assert invoke("search", " ", "--as", "pc.clerk", home=home).code == 2


COLUMNS = (
    "register_number", "date", "document_number", "document_date", "from", "to", "subject", "action", "remark",
)  # fmt: skip


def test_records_through_the_command_line(home: Path, tmp_path: Path) -> None:
    (a, b), _ = _pki_home(home, tmp_path)
    r = invoke("--json", "records", "file", str(a), "--as", "pc.clerk", "--class", "1y", home=home)
    assert r.code == 0 and r.json()["retention_class"] == "1y"
    assert invoke("records", "file", str(b), "--as", "pc.clerk", "--class", "2y", home=home).code == 2
    r = invoke("--json", "records", "hold", str(a), "--as", "pc.clerk", "--reason", "คดี", home=home)
    assert r.code == 0 and r.json()["legal_hold"] == "คดี"
    assert invoke("records", "hold", str(a), "--as", "pc.clerk", "--reason", "x", home=home).code == 5
    assert invoke("records", "release", str(a), "--as", "pc.clerk", "--reason", "จบคดี", home=home).code == 0
    assert invoke("records", "release", str(a), "--as", "pc.clerk", "--reason", "x", home=home).code == 5
    r = invoke("--json", "records", "due", "--as", "pc.clerk", home=home)
    assert r.code == 0 and r.json() == {"due": [], "held": []}  # a 1y document falls due next year
    assert invoke("records", "propose", "--as", "pc.clerk", home=home).code == 2
    assert invoke("records", "destroy", "1", "--as", "pc.clerk", home=home).code == 4
    assert invoke("records", "approve", "1", "--as", "pc.head", "--role", "boss", home=home).code == 2
    r = invoke("--json", "records", "transfer", "--as", "pc.clerk", home=home)
    assert r.code == 0 and r.json() == {"items": []}
