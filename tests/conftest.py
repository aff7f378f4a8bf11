"""Shared fixtures: real SQLite files, real PostgreSQL databases, real CLI processes.

PostgreSQL tests use ``EDOC_TEST_PG_URL`` (``.ci/run`` sets it). Each test that asks for a
PostgreSQL database gets a fresh one, created from that server and dropped afterwards. When the
variable is not set, those tests are skipped and the summary says so in capitals.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PG_URL = os.environ.get("EDOC_TEST_PG_URL", "")
_pg_skips: list[str] = []


def _pg_admin_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server() -> str:
    if not PG_URL:
        pytest.skip("EDOC_TEST_PG_URL is not set: PostgreSQL tests did not run")
    return _pg_admin_url()


def new_pg_database(server_url: str) -> tuple[str, str]:
    """Create an empty database on the server; return (url, name)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"edoc_t_{uuid.uuid4().hex[:12]}"
    base = make_url(server_url)
    with psycopg.connect(
        host=base.host or "127.0.0.1",
        port=base.port or 5432,
        user=base.username or "postgres",
        password=base.password,
        dbname=base.database or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), name


def drop_pg_database(server_url: str, name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    with psycopg.connect(
        host=base.host or "127.0.0.1",
        port=base.port or 5432,
        user=base.username or "postgres",
        password=base.password,
        dbname=base.database or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (the home's SQLite default) or a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        yield None
        return
    if not PG_URL:
        _pg_skips.append(request.node.nodeid)
        pytest.skip("EDOC_TEST_PG_URL is not set: PostgreSQL tests did not run")
    server = _pg_admin_url()
    url, name = new_pg_database(server)
    try:
        yield url
    finally:
        drop_pg_database(server, name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def office(home: Path, db_url: str | None) -> Iterator[object]:
    """An initialised office on SQLite and on PostgreSQL."""
    from edoc.office import init_office, open_office

    init_office(home, db_url, name="test office")
    with open_office(home, db_url) as off:
        yield off


@pytest.fixture
def sqlite_office(home: Path) -> Iterator[object]:
    """An initialised office on SQLite only (for tests whose subject is not the database)."""
    from edoc.office import init_office, open_office

    init_office(home, None, name="test office")
    with open_office(home, None) as off:
        yield off


def run_cli(
    *args: str,
    home: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``edoc`` as a real process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDOC_")}
    full_env.update({"EDOC_LANG": "en", **(env or {})})
    argv = [sys.executable, "-m", "edoc", *args]
    if home is not None:
        argv[3:3] = ["--home", str(home)]
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, input=input, timeout=timeout)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def invoke(*args: str, home: Path | None = None) -> CliResult:
    """Run the CLI in this process (fast); use :func:`run_cli` when a real process matters."""
    from edoc.cli.runner import run

    argv = [*(["--home", str(home)] if home is not None else []), *args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return CliResult(code, out.getvalue(), err.getvalue())


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: object) -> None:
    if not PG_URL:
        tr = terminalreporter
        tr.write_sep("!", "POSTGRESQL TESTS DID NOT RUN", red=True, bold=True)  # type: ignore[attr-defined]
        tr.write_line(  # type: ignore[attr-defined]
            "EDOC_TEST_PG_URL is not set, so every PostgreSQL variant was skipped "
            f"({len(_pg_skips)} or more tests). Set it (as .ci/run does) to test PostgreSQL.",
            red=True,
            bold=True,
        )


def pytest_configure(config: pytest.Config) -> None:
    # pki (issue 4): cryptography warns on Thai CNs over 64 UTF-8 bytes (X.520 counts 64
    # characters); edoc silences that one message (edoc/pki/__init__.py), pytest resets filters.
    config.addinivalue_line("filterwarnings", "ignore:Attribute's length must be >= 1 and <= 64:UserWarning")
