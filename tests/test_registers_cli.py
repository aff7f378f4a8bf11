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
