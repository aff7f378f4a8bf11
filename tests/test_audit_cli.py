"""``edoc audit …`` and ``edoc doc history`` as real processes: exit codes, one JSON document on
stdout, Thai and English, and the offline check on a machine with no office at all."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import invoke, run_cli


@pytest.fixture
def audited(tmp_path: Path) -> tuple[Path, Path]:
    """An office with an audit key, a few acts and a checkpoint; and the audit passphrase file."""
    home = tmp_path / "home"
    pw = tmp_path / "audit.pw"
    pw.write_text("audit passphrase for the CLI tests\n")
    assert invoke("init", home=home).code == 0
    (home / "edoc.toml").write_text(
        (home / "edoc.toml").read_text() + "\n[pki]\nkdf_rounds = 10000\n", encoding="utf-8"
    )
    r = invoke("--passphrase-file", str(pw), "audit", "key", "create", "--algorithm", "p256", "--json", home=home)
    assert r.code == 0, r.stderr
    assert r.json()["algorithm"] == "p256"
    for code, name in (("PAKCHONG", "เทศบาลเมืองปากช่อง"), ("PROVINCE", "จังหวัดนครราชสีมา")):
        assert invoke("agency", "add", code, "--name", name, "--letter-code", "นม 1", home=home).code == 0
    r = invoke("--passphrase-file", str(pw), "audit", "checkpoint", "--json", home=home)
    assert r.code == 0 and r.json()["size"] == 4 and r.json()["created"], r.stderr
    return home, pw


def test_verify_export_and_check_offline(audited: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = audited
    r = run_cli("audit", "verify", "--json", home=home)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] and report["events"] == 4 and report["latest_checkpoint"]["size"] == 4
    assert report["first_bad_event"] is None
    key = tmp_path / "audit.pem"
    assert run_cli("audit", "key", "export", "--out", str(key), home=home).returncode == 0
    r = run_cli("audit", "export", "--out", str(tmp_path / "bundle"), "--json", home=home)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["events"] == 4
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == [
        "README.txt",
        "certs",
        "checkpoints.jsonl",
        "events.jsonl",
        "keys",
        "manifest.json",
        "views",
    ]
    # the auditor's machine: no home, no database, nothing but the bundle and the key
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    r = run_cli(
        "audit", "verify", "--bundle", str(tmp_path / "bundle"), "--key", str(key), "--json",
        env={"EDOC_HOME": str(elsewhere / "no-such-home")},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"]
    assert list(elsewhere.iterdir()) == []
    # Thai, human output
    r = run_cli("--lang", "th", "audit", "verify", "--bundle", str(tmp_path / "bundle"), "--key", str(key))
    assert r.returncode == 0 and "ผ่าน: บันทึกครบถ้วนไม่ถูกแก้ไข" in r.stdout, r.stderr
    # one changed byte in the bundle
    lines = (tmp_path / "bundle" / "events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace("เทศบาลเมืองปากช่อง", "เทศบาลเมืองปากช่องปลอม")
    (tmp_path / "bundle" / "events.jsonl").write_text("".join(lines), encoding="utf-8")
    r = run_cli("audit", "verify", "--bundle", str(tmp_path / "bundle"), "--key", str(key), "--json")
    assert r.returncode == 1
    bad = json.loads(r.stdout)
    assert not bad["ok"] and bad["first_bad_event"] == 2  # named by the checkpoint range it broke
    r = run_cli("audit", "verify", "--bundle", str(tmp_path / "bundle"), "--key", str(key))
    assert r.returncode == 1 and "FAILED" in r.stdout and "checkpoint 4" in r.stdout


def test_tampered_database_exits_1_naming_the_event(audited: tuple[Path, Path]) -> None:
    home, _ = audited
    with sqlite3.connect(home / "edoc.db") as conn:
        conn.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3")
    r = run_cli("audit", "verify", home=home)
    assert r.returncode == 1
    assert "event 3 was changed after it was recorded" in r.stdout
    r = run_cli("audit", "verify", "--json", home=home)
    data = json.loads(r.stdout)
    assert r.returncode == 1 and data["first_bad_event"] == 3
    assert data["problems"][0]["kind"] == "event-changed" and data["problems"][0]["seq"] == 3
    r = run_cli("--lang", "th", "audit", "verify", home=home)
    assert r.returncode == 1 and "เหตุการณ์ 3 ถูกแก้ไขหลังบันทึก" in r.stdout


def test_proofs_on_the_command_line(audited: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = audited
    key = tmp_path / "audit.pem"
    assert invoke("audit", "key", "export", "--out", str(key), home=home).code == 0
    r = invoke("audit", "proof", "2", "--json", "--out", str(tmp_path / "p.json"), home=home)
    assert r.code == 0, r.stderr
    proof = r.json()
    assert proof["seq"] == 2 and proof["size"] == 4 and len(proof["path"]) == 2
    assert json.loads(proof["leaf"])["act"] == "agency.add"
    r = run_cli("audit", "check-proof", str(tmp_path / "p.json"), "--key", str(key))
    assert r.returncode == 0 and "OK: event 2" in r.stdout, r.stderr
    proof["leaf"] = proof["leaf"].replace("PAKCHONG", "PAKCHONX")
    (tmp_path / "p.json").write_text(json.dumps(proof))
    r = run_cli("audit", "check-proof", str(tmp_path / "p.json"), "--key", str(key))
    assert r.returncode == 1 and "does not lead from the event to the root" in r.stdout
    r = invoke("audit", "consistency", "2", "4", "--json", home=home)
    assert r.code == 0 and r.json()["old_size"] == 2 and r.json()["new_size"] == 4
    r = invoke("audit", "checkpoints", "--json", home=home)
    assert [c["size"] for c in r.json()["checkpoints"]] == [2, 4]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["audit", "proof", "99"], 4, "no audit event 99"),
        (["audit", "proof", "x1"], 2, "EVENT_ID"),
        (["audit", "proof", "1", "--size", "9"], 2, "size"),
        (["audit", "consistency", "3", "2"], 2, "size"),
        (["audit", "verify", "--bundle", "nowhere"], 2, "--key"),
        (["audit", "verify", "--bundle", "nowhere", "--key", "nokey.pem"], 2, "nokey.pem"),
        (["audit", "checkpoint"], 2, "passphrase"),
        (["audit", "witness", "--agency", "NOPE"], 4, "NOPE"),
        (["audit", "key", "create"], 2, "passphrase"),
    ],
)
def test_bad_requests(audited: tuple[Path, Path], args: list[str], code: int, needle: str) -> None:
    home, _ = audited
    r = invoke(*args, home=home)
    assert r.code == code, (r.stdout, r.stderr)
    assert needle in r.stderr
    assert r.stdout == ""


def test_key_create_twice_is_a_conflict(audited: tuple[Path, Path]) -> None:
    home, pw = audited
    r = invoke("--passphrase-file", str(pw), "audit", "key", "create", home=home)
    assert r.code == 5 and "already has an audit key" in r.stderr


def test_wrong_audit_passphrase(audited: tuple[Path, Path], tmp_path: Path) -> None:
    home, _ = audited
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not the audit passphrase\n")
    r = invoke("--passphrase-file", str(wrong), "audit", "checkpoint", home=home)
    assert r.code == 3 and "does not unlock the key of audit" in r.stderr


def test_doc_history_on_the_command_line(tmp_path: Path) -> None:
    from edoc.office import open_office
    from tests.fixtures_documents import MINIMAL

    home = tmp_path / "demo"
    r = invoke("--json", "demo", home=home)
    assert r.code == 0, r.stderr
    last = r.json()["steps"][-1]  # the demo ends by verifying the log and showing its checkpoint
    assert last["step"] == "audit" and "log intact" in last["summary"]
    assert last["details"]["checkpoint"]["size"] == last["details"]["events"]
    assert last["details"]["witnesses"] == 1  # the province's seal countersigned
    with open_office(home) as demo:
        doc = demo.new_document("external", MINIMAL[("external", None)], as_user="pc.officer")
    r = invoke("doc", "history", str(doc), "--as", "pc.officer", "--json", home=home)
    assert r.code == 0, r.stderr
    assert r.json()["id"] == doc
    assert "document.new" in [e["act"] for e in r.json()["events"]]
    r = invoke("doc", "history", str(doc), "--as", "prov.clerk", home=home)
    assert r.code == 3, r.stderr
    r = invoke("--lang", "th", "doc", "history", str(doc), "--as", "pc.officer", home=home)
    assert r.code == 0 and "ประวัติของหนังสือ" in r.stdout and "document.new" in r.stdout
    r = invoke("doc", "history", "abc", "--as", "pc.officer", home=home)
    assert r.code == 2
