"""The command line as a user meets it: real processes, exit codes, JSON, two languages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    r = run_cli("init", "--name", "ทดสอบ", home=home)
    assert r.returncode == 0, r.stderr
    r = run_cli("agency", "add", "PAKCHONG", "--name", "เทศบาลเมืองปากช่อง", "--letter-code", "นม 52101", home=home)
    assert r.returncode == 0, r.stderr
    return home


def test_help_lists_commands() -> None:
    r = run_cli("--help")
    assert r.returncode == 0
    for command in ("init", "demo", "agency", "unit", "user"):
        assert command in r.stdout


def test_global_options_before_and_after(cli_home: Path) -> None:
    before = run_cli("--home", str(cli_home), "--json", "agency", "list")
    after = run_cli("agency", "list", "--json", "--home", str(cli_home))
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)["agencies"][0]["letter_code"] == "นม 52101"


def test_json_is_the_only_thing_on_stdout(cli_home: Path) -> None:
    r = run_cli(
        "user",
        "add",
        "somchai",
        "--agency",
        "PAKCHONG",
        "--name",
        "นายสมชาย ใจดี",
        "--position",
        "นักจัดการงานทั่วไป",
        "--role",
        "officer",
        "--json",
        home=cli_home,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["username"] == "somchai"
    r = run_cli("user", "list", "--agency", "PAKCHONG", "--json", home=cli_home)
    assert [u["name"] for u in json.loads(r.stdout)["users"]] == ["นายสมชาย ใจดี"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["agency", "add", "X", "--name", "x", "--letter-code", "abc 12"], 2, "letter-code"),
        (["agency", "add", "X", "--name", "x", "--letter-code", "นม"], 2, "letter-code"),
        (["agency", "add", "X", "--name", "x", "--letter-code", "นม 1", "--parent", "NOPE"], 4, "NOPE"),
        (["agency", "add", "PAKCHONG", "--name", "x", "--letter-code", "นม 1"], 5, "PAKCHONG"),
        (["agency", "add", "bad code!", "--name", "x", "--letter-code", "นม 1"], 2, "code"),
        (["unit", "add", "NOPE", "U1", "--name", "x"], 4, "NOPE"),
        (["user", "add", "a.b", "--agency", "NOPE", "--name", "x", "--position", "p", "--role", "clerk"], 4, "NOPE"),
        (["user", "add", "a.b", "--agency", "PAKCHONG", "--name", "x", "--position", "p", "--role", "boss"], 2, "role"),
        (
            ["user", "add", "Bad Name", "--agency", "PAKCHONG", "--name", "x", "--position", "p", "--role", "clerk"],
            2,
            "username",
        ),
        (
            [
                "user",
                "add",
                "a.b",
                "--agency",
                "PAKCHONG",
                "--name",
                "x",
                "--position",
                "p",
                "--role",
                "clerk",
                "--unit",
                "NOPE",
            ],
            4,
            "NOPE",
        ),
        (["user", "list", "--agency", "NOPE"], 4, "NOPE"),
        (["agency", "add"], 2, "Missing"),
        (["no-such-command"], 2, "No such command"),
        (["--db", "mysql://x@y/z", "agency", "list"], 2, "mysql"),
        (["--db", "not a url", "agency", "list"], 2, "not a SQLAlchemy URL"),
        (["--lang", "fr", "agency", "list"], 2, "--lang"),
    ],
)
def test_bad_input_exit_codes(cli_home: Path, args: list[str], code: int, needle: str) -> None:
    before = run_cli("--json", "agency", "list", home=cli_home).stdout
    r = run_cli(*args, home=cli_home)
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 6  # a short message, not a dump
    assert run_cli("--json", "agency", "list", home=cli_home).stdout == before  # nothing written


def test_duplicate_username_is_a_conflict_and_writes_nothing(cli_home: Path) -> None:
    add = [
        "user",
        "add",
        "somchai",
        "--agency",
        "PAKCHONG",
        "--name",
        "นายสมชาย ใจดี",
        "--position",
        "ตำแหน่ง",
        "--role",
        "clerk",
    ]
    assert run_cli(*add, home=cli_home).returncode == 0
    r = run_cli(*add[:5], "--name", "นายอื่น", *add[7:], home=cli_home)
    assert r.returncode == 5
    assert "somchai" in r.stderr
    users = json.loads(run_cli("--json", "user", "list", home=cli_home).stdout)["users"]
    assert [u["name"] for u in users] == ["นายสมชาย ใจดี"]


def test_messages_in_thai(cli_home: Path) -> None:
    r = run_cli("--lang", "th", "user", "list", "--agency", "NOPE", home=cli_home)
    assert r.returncode == 4
    assert "ไม่พบหน่วยงาน" in r.stderr
    r = run_cli("user", "list", "--agency", "NOPE", home=cli_home, env={"EDOC_LANG": "th"})
    assert "ไม่พบหน่วยงาน" in r.stderr


def test_uninitialised_home(tmp_path: Path) -> None:
    r = run_cli("agency", "list", home=tmp_path / "nothing")
    assert r.returncode != 0
    assert "edoc init" in r.stderr
    assert not (tmp_path / "nothing").exists()


def test_debug_shows_traceback(cli_home: Path) -> None:
    r = run_cli("--debug", "user", "list", "--agency", "NOPE", home=cli_home)
    assert r.returncode == 4
    assert "Traceback" in r.stderr


def test_two_processes_write_at_once(cli_home: Path) -> None:
    """Two CLI processes adding users to the same SQLite home at the same moment both succeed."""
    procs = []
    for i in range(2):
        script = (
            "from edoc.cli import main\n"
            "import sys\n"
            f"for n in range(15):\n"
            f"    try:\n"
            f"        main(['--home', {str(cli_home)!r}, 'user', 'add', f'p{i}.u{{n}}', '--agency', 'PAKCHONG',"
            f" '--name', 'นาย ทดสอบ', '--position', 'ทดสอบ', '--role', 'clerk'])\n"
            f"    except SystemExit as e:\n"
            f"        if e.code: sys.exit(e.code)\n"
        )
        procs.append(
            subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    users = json.loads(run_cli("--json", "user", "list", home=cli_home).stdout)["users"]
    assert len(users) == 30
    from edoc.office import open_office

    with open_office(cli_home) as office:
        seqs = [e.seq for e in office.audit_events()]
    assert seqs == list(range(len(seqs)))


def test_env_database_url(tmp_path: Path, pg_server: str) -> None:
    from tests.conftest import drop_pg_database, new_pg_database

    url, name = new_pg_database(pg_server)
    try:
        env = {"EDOC_DATABASE_URL": url}
        home = tmp_path / "h"
        assert run_cli("init", home=home, env=env).returncode == 0
        r = run_cli("agency", "add", "A", "--name", "ก", "--letter-code", "นม 1", home=home, env=env)
        assert r.returncode == 0, r.stderr
        r = run_cli("--json", "agency", "list", home=home, env=env)
        assert json.loads(r.stdout)["agencies"][0]["code"] == "A"
        assert not (home / "edoc.db").exists()
    finally:
        drop_pg_database(pg_server, name)
