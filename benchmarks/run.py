"""Run every benchmark in ``benchmarks/`` and print one table (and, with ``--json FILE``, the same as JSON).

Every module of this package except the shared ones (``common``, ``run``, ``__main__``) is a
benchmark. It is discovered, not listed here, so a module added later is run without touching
this file. A module takes part in one of two ways:

- it defines ``suite(size, db_url)`` returning a list of :class:`benchmarks.common.Result`,
  where ``size`` is ``"tiny"`` (the test that keeps this runner from rotting), ``"quick"``
  (CI-sized, a few minutes for everything) or ``"full"`` (the figures worth reporting), and
  ``db_url`` is ``None`` for SQLite in a temporary home or a PostgreSQL URL of a fresh, empty
  database. A module whose figures depend on the database sets ``DATABASE = True`` and is run
  once on SQLite and once on PostgreSQL (when a server is given);
- or, failing that, it defines ``run(...)``: the runner calls it with its own defaults (a
  ``db_url`` or ``db`` parameter gets the database), scaling integer parameters down for
  ``quick`` (/10) and ``tiny`` (/100). A required parameter the runner cannot fill makes the
  module an error row, never a silent skip.

A module that fails is reported (in the table and in ``errors`` of the JSON) and the others
still run; the exit code is then 1.

    python -m benchmarks [--quick] [--only audit,signing] [--pg URL | --no-pg] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import os
import pkgutil
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

import benchmarks
from benchmarks.common import Result, machine

SHARED = frozenset({"common", "run", "__main__"})
"""Modules of the package that are not benchmarks."""

SIZES = ("tiny", "quick", "full")
SCALE = {"tiny": 100, "quick": 10, "full": 1}
"""How much a module without ``suite`` has its integer parameters divided by."""


@dataclass
class Row:
    """One figure of one module on one database."""

    module: str
    """The benchmark module (``audit``, ``signing``, …)."""
    database: str
    """``sqlite``, ``postgresql``, or ``-`` for figures that do not touch a database."""
    result: Result
    """The figure and its peer."""


@dataclass
class Report:
    """Everything one run measured."""

    size: str
    """``tiny``, ``quick`` or ``full``."""
    rows: list[Row] = field(default_factory=list)
    """The figures, in the order measured."""
    errors: list[dict[str, str]] = field(default_factory=list)
    """Modules that failed: ``{"module", "database", "error"}``."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time per ``module/database``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": machine(),
            "size": self.size,
            "results": [
                {"module": r.module, "database": r.database, **asdict(r.result), "ratio": r.result.ratio}
                for r in self.rows
            ],
            "errors": self.errors,
            "seconds": self.seconds,
        }


def discover() -> list[str]:
    """Names of the benchmark modules, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name not in SHARED)


def uses_database(module: ModuleType) -> bool:
    if hasattr(module, "suite"):
        return bool(getattr(module, "DATABASE", False))
    run = getattr(module, "run", None)
    return run is not None and any(p in inspect.signature(run).parameters for p in ("db_url", "db"))


def call(module: ModuleType, size: str, db_url: str | None) -> list[Result]:
    """The module's figures at ``size`` on ``db_url`` (see the module docstring)."""
    suite = getattr(module, "suite", None)
    if suite is not None:
        return list(suite(size, db_url))
    run = getattr(module, "run", None)
    if run is None:
        raise TypeError(f"benchmarks.{module.__name__.rsplit('.', 1)[-1]} has neither suite(size, db_url) nor run()")
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(run).parameters.items():
        if name in ("db_url", "db"):
            kwargs[name] = db_url
        elif param.default is inspect.Parameter.empty:
            raise TypeError(f"run() needs {name!r}, which the runner cannot guess: define suite(size, db_url)")
        elif isinstance(param.default, int) and not isinstance(param.default, bool):
            kwargs[name] = max(1, param.default // SCALE[size])
    return list(run(**kwargs))


@contextmanager
def pg_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the server for one module; dropped afterwards."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"edoc_bench_{uuid.uuid4().hex[:12]}"
    connect = {
        "host": base.host or "127.0.0.1",
        "port": base.port or 5432,
        "user": base.username or "postgres",
        "password": base.password,
        "dbname": base.database or "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**connect) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**connect) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_all(size: str, only: list[str] | None, pg_url: str | None, say: Any = None) -> Report:
    """Run the modules (all, or ``only``) at ``size``; PostgreSQL too when ``pg_url`` is given."""
    say = say or (lambda text: print(text, file=sys.stderr))
    report = Report(size)
    names = discover()
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(unknown)} (there are: {', '.join(names)})")
    for name in names:
        if only and name not in only:
            continue
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except Exception as exc:  # a broken module is a row in the report, not the end of the run
            report.errors.append({"module": name, "database": "-", "error": f"import failed: {exc!r}"})
            continue
        databases: list[str | None] = [None]
        if uses_database(module):
            databases = ["sqlite"] + (["postgresql"] if pg_url else [])
        for database in databases:
            label = database or "-"
            say(f"== {name} ({label}, {size})")
            started = time.perf_counter()
            try:
                if database == "postgresql":
                    assert pg_url is not None
                    with pg_database(pg_url) as url:
                        results = call(module, size, url)
                else:
                    results = call(module, size, None)
            except (Exception, SystemExit) as exc:
                say(traceback.format_exc())
                report.errors.append({"module": name, "database": label, "error": repr(exc)})
                results = []
            report.seconds[f"{name}/{label}"] = round(time.perf_counter() - started, 3)
            report.rows += [Row(name, label, r) for r in results]
    return report


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
    return f"{value:,.{digits}f} {unit}"


def print_report(report: Report, file: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    info = machine()
    table = Table(
        title=f"edoc benchmarks ({report.size}): {info['cores']} cores, Python {info['python']}, {info['machine']}"
    )
    for column in ("module", "db", "figure", "edoc", "peer", "peer value", "ratio", "target", "note"):
        table.add_column(column, overflow="fold")
    for row in report.rows:
        r = row.result
        table.add_row(
            row.module,
            row.database,
            r.name,
            _value(r.value, r.unit),
            r.peer,
            _value(r.peer_value, r.unit),
            "" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target,
            r.note,
        )
    for error in report.errors:
        table.add_row(error["module"], error["database"], "FAILED", "", "", "", "", "", error["error"][:200])
    Console(file=file, width=200).print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", const="quick", dest="size", help="CI-sized (a few minutes)")
    group.add_argument("--tiny", action="store_const", const="tiny", dest="size", help="smoke test only")
    parser.set_defaults(size="full")
    parser.add_argument("--only", default="", help="comma-separated module names (default: all)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("EDOC_BENCH_PG_URL") or os.environ.get("EDOC_TEST_PG_URL") or None,
        help="PostgreSQL server URL where databases may be created "
        "(default: $EDOC_BENCH_PG_URL, else $EDOC_TEST_PG_URL)",
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the results as JSON ('-': stdout)")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name in discover():
            print(name)
        return 0
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    only = [n.strip() for n in args.only.split(",") if n.strip()] or None
    report = run_all(args.size, only, None if args.no_pg else args.pg)
    text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
    if args.json == "-":
        print(text)
        print_report(report, file=sys.stderr)
    else:
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                out.write(text + "\n")
        print_report(report)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
