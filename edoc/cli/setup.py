"""``edoc init`` and ``edoc demo``."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Annotated

import typer

from edoc.cli.output import emit, err, out, table
from edoc.cli.state import state


def init(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="Name of this office.")] = None,
) -> None:
    """Create the home, database and schema; safe to re-run; migrates an older schema."""
    from edoc.i18n import t
    from edoc.office import init_office

    st = state(ctx)
    result = init_office(st.home, st.db, name=name)
    data = {
        "home": str(result.home),
        "database": result.database,
        "revision": result.revision,
        "created": result.created,
    }
    message = t("initialised", st.lang, home=result.home, db=result.database, rev=result.revision)
    emit(st, data, lambda c: c.print(message))


def demo(
    ctx: typer.Context,
    agencies: Annotated[int, typer.Option("--agencies", min=1, help="Agencies in the province.")] = 6,
    users: Annotated[int, typer.Option("--users", min=1, help="User accounts.")] = 23,
    documents: Annotated[int, typer.Option("--documents", min=0, help="Documents in the fast-forward year.")] = 0,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Processes for the year (0: two from 1,000 documents).")
    ] = 0,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete an earlier demo home first (SQLite demo homes only).")
    ] = False,
) -> None:
    """Build the Pak Chong pilot in the home and run the whole flow, printing what it did."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from edoc.errors import Conflict
    from edoc.i18n import t
    from edoc.office import init_office, open_office
    from edoc.pilot import DemoOptions, run_demo
    from edoc.settings import SETTINGS_FILE, load_settings

    st = state(ctx)
    if (st.home / SETTINGS_FILE).exists():
        settings = load_settings(st.home)
        if reset and settings.office.demo and st.db is None:
            shutil.rmtree(st.home)
        elif reset:
            raise Conflict(f"{st.home} is not a SQLite demo home; --reset only deletes those")
    started = time.perf_counter()
    init_office(st.home, st.db, name="Pak Chong pilot (demo)", demo=True)
    with open_office(st.home, st.db) as office:
        if not office.settings.office.demo:
            raise Conflict(f"{st.home} is not a demo home; give a new --home for the demo")
        if office.directory_counts()["agencies"]:
            raise Conflict(f"the demo already ran in {st.home}; use a new --home, or --reset")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err(),
            transient=True,
            disable=st.json,
        ) as bar:
            tasks: dict[str, TaskID] = {}
            # stderr is not a terminal (a log file): no bars, a line per task every 30 s instead
            lines = not st.json and not bar.console.is_terminal
            printed: dict[str, float] = {}

            def progress(task: str, done: int, total: int) -> None:
                if task not in tasks:
                    tasks[task] = bar.add_task(task, total=total)
                bar.update(tasks[task], completed=done, total=total)
                now = time.perf_counter()
                if lines and (done >= total or now - printed.get(task, 0.0) >= 30):
                    if printed.get(task) != -1.0:
                        print(f"{task}: {done:,}/{total:,} at {now - started:.0f} s", file=sys.stderr, flush=True)
                    printed[task] = -1.0 if done >= total else now

            results = run_demo(office, DemoOptions(agencies, users, documents, workers), progress)
        agencies_list = office.list_agencies() if agencies <= 50 else []
        users_list = office.list_users() if users <= 100 else []
    elapsed = time.perf_counter() - started
    data = {
        "home": str(st.home),
        "seconds": round(elapsed, 3),
        "steps": [
            {"step": r.step, "summary": r.summary, "seconds": round(r.seconds, 3), "details": r.details}
            for r in results
        ],
    }
    if st.json:
        emit(st, data)
        return
    lang = st.lang
    console = out()
    console.print(f"[bold]{t('demo_title', lang)}[/bold]  home: {st.home}")
    if agencies_list:
        from rich.tree import Tree

        by_parent: dict[str | None, list[object]] = {}
        for a in agencies_list:
            by_parent.setdefault(a.parent, []).append(a)
        tree = Tree(t("agencies", lang))

        def add(node: Tree, parent: str | None) -> None:
            for a in by_parent.get(parent, []):
                child = node.add(f"{a.name} [dim]({a.code}, {a.letter_code})[/dim]")  # type: ignore[attr-defined]
                add(child, a.code)  # type: ignore[attr-defined]

        add(tree, None)
        console.print(tree)
    if users_list:
        console.print(
            table(
                t("users", lang),
                [t("username", lang), t("full_name", lang), t("position", lang), t("role", lang), t("agency", lang)],
                [(u.username, u.full_name, u.position, u.role.value, u.agency) for u in users_list],
            )
        )
    console.print(
        table(
            None,
            [t("step", lang), t("result", lang), t("seconds", lang)],
            [(r.step, r.summary, f"{r.seconds:.2f}") for r in results],
        )
    )
    console.print(f"{t('seconds', lang)}: {elapsed:.2f}")
