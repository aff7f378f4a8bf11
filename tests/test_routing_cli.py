"""The routing commands as a user runs them: JSON shapes of the contract, tables, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import invoke, run_cli
from tests.fixtures_pki import PASSPHRASE, pem
from tests.fixtures_send import DIST, PROV, make_home, open_home, signed_letter


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, int, list[str]]:
    home = tmp_path / "home"
    make_home(home, None)
    with open_home(home, None) as office:
        doc = signed_letter(office, urgency="urgent")
        (tmp_path / "root.pem").write_bytes(pem(office.export_root()))
    pp = tmp_path / "pp.toml"
    pp.write_text(f'[passphrases]\ndefault = "{PASSPHRASE}"\n', encoding="utf-8")
    return home, doc, ["--passphrase-file", str(pp)]


def test_send_status_inbox_route_and_evidence(world: tuple[Path, int, list[str]], tmp_path: Path) -> None:
    home, doc, pp = world
    r = invoke(*pp, "--json", "doc", "send", str(doc), "--to", f"{DIST},{PROV}", "--as", "pc.clerk", home=home)
    assert r.code == 0, r.stderr
    sent = r.json()
    assert [x["agency"] for x in sent["recipients"]] == [DIST, PROV]
    copy = sent["recipients"][0]["id"]

    # a real process, --json after the command: the contract's inbox shape
    p = run_cli(*pp, "inbox", "--as", "d.clerk", "--json", home=home)
    assert p.returncode == 0, p.stderr
    import json

    items = json.loads(p.stdout)["items"]
    assert [i["id"] for i in items] == [copy]
    assert {"id", "number", "subject", "from", "urgency", "secrecy", "state", "due"} <= set(items[0])
    assert items[0]["urgency"] == "urgent" and items[0]["state"] == "delivered"

    assert invoke(*pp, "doc", "receive", str(copy), "--as", "d.clerk", home=home).code == 0
    assert invoke(*pp, "doc", "route", str(copy), "propose", "--to", "d.chief", "--as", "d.clerk", home=home).code == 0
    endorse = invoke(*pp, "doc", "route", str(copy), "endorse", "--note", "ทราบ", "--as", "d.chief", home=home)
    assert endorse.code == 0, endorse.stderr
    assign = invoke(
        *pp, "--json", "doc", "route", str(copy), "assign", "--to", "d.officer", "--as", "d.chief", home=home
    )
    assert assign.code == 0 and assign.json()["holder"] == "d.officer" and assign.json()["due"]

    status = invoke("--json", "doc", "status", str(doc), "--as", "pc.clerk", home=home)
    assert status.code == 0
    body = status.json()
    assert body["id"] == doc
    assert [(x["agency"], x["state"]) for x in body["recipients"]] == [(DIST, "registered"), (PROV, "delivered")]
    assert all(isinstance(x["evidence"], list) and x["evidence"] for x in body["recipients"])
    table = invoke("--lang", "en", "doc", "status", str(doc), "--as", "pc.clerk", home=home)
    assert table.code == 0 and "registered" in table.stdout
    thai = invoke("--lang", "th", "doc", "status", str(doc), "--as", "pc.clerk", home=home)
    assert "ลงรับแล้ว" in thai.stdout

    out = tmp_path / "ev"
    assert invoke("doc", "evidence", str(doc), "--out", str(out), "--as", "pc.clerk", home=home).code == 0
    ok = invoke("--json", "evidence", "verify", str(out), "--trust", str(tmp_path / "root.pem"))
    assert ok.code == 0 and ok.json()["ok"] is True
    assert invoke("doc", "evidence", str(doc), "--out", str(out), "--as", "pc.clerk", home=home).code == 2  # not empty
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    victim = next(bad.glob("*/0-submission-accepted.json"))
    victim.write_bytes(victim.read_bytes().replace(b"\"sender\":\"PAKCHONG\"", b"\"sender\":\"PAKCHONX\""))
    assert invoke("evidence", "verify", str(bad), "--trust", str(tmp_path / "root.pem")).code == 1


def test_exit_codes(world: tuple[Path, int, list[str]]) -> None:
    home, doc, pp = world
    send = ["doc", "send", str(doc), "--as", "pc.clerk"]
    assert invoke(*pp, *send, home=home).code == 2  # no recipients
    unknown = invoke(*pp, *send, "--to", "NOWHERE", home=home)
    assert unknown.code == 4 and "NOWHERE" in unknown.stderr and "[unknown-recipient]" in unknown.stderr
    assert invoke(*pp, "doc", "send", str(doc), "--to", DIST, "--as", "pc.mayor", home=home).code == 3
    assert invoke(*pp, *send, "--to", DIST, home=home).code == 0
    assert invoke(*pp, *send, "--to", DIST, home=home).code == 5  # duplicate
    assert invoke(*pp, "doc", "status", "999", "--as", "pc.clerk", home=home).code == 4
    assert invoke(*pp, "doc", "route", str(doc), "fly", "--as", "pc.clerk", home=home).code == 2
    assert invoke("inbox", home=home).code == 2  # who acts?
