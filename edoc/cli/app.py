"""The typer application: global options and the command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edoc.cli import directory, doc, fastparams, registers, setup
from edoc.cli.state import State, env_home, set_state

fastparams.install()

app = typer.Typer(
    name="edoc",
    help="edoc: electronic official correspondence (สารบรรณอิเล็กทรอนิกส์) for Thai agencies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option("--home", help="The office's home (default $EDOC_HOME or ./edoc-home).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default $EDOC_DATABASE_URL or sqlite:///<home>/edoc.db)."),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="th or en (default $EDOC_LANG, then $LANG).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--passphrase-file",
            help="File with the passphrase(s) that unlock private keys (default $EDOC_PASSPHRASE_FILE, "
            "else a hidden prompt).",
        ),
    ] = None,
) -> None:
    from edoc.i18n import LANGS, default_lang

    if lang is not None and lang not in LANGS:
        raise typer.BadParameter(f"{lang!r} is not one of th, en", param_hint="--lang")
    st = State(
        home=home if home is not None else env_home(),
        db=db,
        json=json_,
        lang=lang or default_lang(),
        debug=debug,
        passphrase_file=passphrase_file,
    )
    set_state(st)
    ctx.obj = st


app.command("init", help=setup.init.__doc__)(setup.init)
app.command("demo", help=setup.demo.__doc__)(setup.demo)
app.add_typer(directory.agency_app, name="agency")
app.add_typer(directory.unit_app, name="unit")
app.add_typer(directory.user_app, name="user")
app.add_typer(doc.app, name="doc")
# documents (issue 3)

# pki (issue 4)
from edoc.cli import pki as pki_cli  # noqa: E402

app.add_typer(pki_cli.app, name="pki")

# signing (issue 5)
from edoc.cli import sign as sign_cli  # noqa: E402

doc.app.command("sign", help=sign_cli.sign.__doc__)(sign_cli.sign)
doc.app.command("ltv", help=sign_cli.ltv.__doc__)(sign_cli.ltv)
doc.app.command("export", help=sign_cli.export.__doc__)(sign_cli.export)

# verification (issue 6)
from edoc.cli import verify as verify_cli  # noqa: E402

app.command("verify", help=verify_cli.verify.__doc__)(verify_cli.verify)

# registers, search, records (issue 7)
doc.app.command("number", help=registers.number.__doc__)(registers.number)
doc.app.command("cancel", help=registers.cancel.__doc__)(registers.cancel)
doc.app.command("receive", help=registers.receive.__doc__)(registers.receive)
app.add_typer(registers.register_app, name="register")
app.command("search", help=registers.search.__doc__)(registers.search)
app.add_typer(registers.records_app, name="records")

# routing, inbox (issue 8)
from edoc.cli import routing as routing_cli  # noqa: E402 - registered here, under this issue's anchor

doc.app.command("send", help=routing_cli.send.__doc__)(routing_cli.send)
doc.app.command("status", help=routing_cli.status.__doc__)(routing_cli.status)
doc.app.command("route", help=routing_cli.route.__doc__)(routing_cli.route)
doc.app.command("evidence", help=routing_cli.evidence.__doc__)(routing_cli.evidence)
doc.app.command("reseal", help=routing_cli.reseal.__doc__)(routing_cli.reseal)
doc.app.command("seal-stored", help=routing_cli.seal_stored.__doc__)(routing_cli.seal_stored)
app.command("inbox", help=routing_cli.inbox.__doc__)(routing_cli.inbox)
app.add_typer(routing_cli.evidence_app, name="evidence")
directory.agency_app.add_typer(routing_cli.group_app, name="group")

# audit (issue 9)
from edoc.cli import audit as audit_cli  # noqa: E402 - registered here, under this issue's anchor

app.add_typer(audit_cli.app, name="audit")
doc.app.command("history", help=audit_cli.history.__doc__)(audit_cli.history)
