"""``edoc verify FILE… [--trust ROOT.pem]… [--json] [--report FILE.html]``: verdicts for auditors.

Needs no office: the files and the root certificates are enough. Exit 0 only if every file is
TOTAL-PASSED, 1 otherwise, 2 for bad usage, 4 for a file that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from edoc.cli.state import state

if TYPE_CHECKING:
    from rich.console import Console

    from edoc.signing.verify import SignatureReport, VerificationReport


def verify(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="PDF files to verify.", show_default=False)],
    trust: Annotated[
        list[Path] | None,
        typer.Option(
            "--trust",
            help="Root certificate (PEM or DER) to trust; repeat for several. The system store is never used.",
            show_default=False,
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write a printable HTML report (Thai or English, --lang).")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Judge validity as of this ISO 8601 time, e.g. 2026-11-22T10:00+07:00.")
    ] = None,
    fetch: Annotated[
        bool, typer.Option("--fetch", help="Fetch CRLs and OCSP responses online when a file lacks them.")
    ] = False,
    no_visual: Annotated[bool, typer.Option("--no-visual", help="Skip rendering and comparing the pages.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", min=1, help="Files verified at once (default: cores).")] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Seconds one file may take before it is stopped.")
    ] = 60.0,
) -> None:
    """Verify signed PDFs: a verdict (ETSI EN 319 102-1) per file and per signature, with reasons."""
    import time
    from datetime import datetime

    from edoc.cli.output import err, out, write_json
    from edoc.errors import InvalidField
    from edoc.signing.verify import verify_files

    st = state(ctx)
    moment = None
    if at is not None:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError as exc:
            raise InvalidField("at", f"{at!r} is not an ISO 8601 time") from exc
    if report is not None and report.is_dir():
        raise InvalidField("report", f"{report} is a directory")
    started = time.perf_counter()
    results: list[VerificationReport | None] = [None] * len(files)
    progress = _progress(st.json or len(files) < 3, len(files), err())
    with progress:
        task = progress.add_task("verify", total=len(files))
        for index, result in verify_files(
            files,
            trust=trust or (),
            at=moment,
            allow_fetching=fetch,
            visual=not no_visual,
            timeout=timeout,
            workers=jobs,
            keep_images=report is not None,
        ):
            results[index] = result
            progress.advance(task)
    done = [r for r in results if r is not None]
    if report is not None:
        from edoc.signing.verify.html import render_html

        report.write_text(render_html(done, st.lang), encoding="utf-8")
    if st.json:
        docs = [r.to_json(st.lang) for r in done]
        write_json(docs[0] if len(docs) == 1 else docs)
    else:
        console = out()
        for r in done:
            _print_report(console, r, st.lang)
        if len(done) > 1:
            _print_summary(console, done, st.lang, time.perf_counter() - started)
        if report is not None:
            from edoc.i18n import t

            err().print(t("verify_report_written", st.lang, path=report))
    if not all(r.passed for r in done):
        raise typer.Exit(1)


def _progress(disable: bool, total: int, console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=disable,
    )


_STYLE = {"TOTAL-PASSED": "bold green", "TOTAL-FAILED": "bold red", "INDETERMINATE": "bold yellow"}


def _indication_text(value: str, lang: str) -> str:
    from edoc.i18n import t

    return f"[{_STYLE.get(value, 'bold')}]{value}[/] ({t('verify_' + value, lang)})"


def _print_report(console: Console, r: VerificationReport, lang: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from edoc.i18n import t

    console.print(f"[bold]{escape(r.file)}[/bold]: {_indication_text(r.indication.value, lang)}")
    for reason in r.reasons:
        console.print(f"  - {escape(reason.text(lang))}")
    if not r.signatures:
        console.print()
        return
    table = Table(show_lines=True, header_style="bold")
    for key in (
        "verify_no",
        "verify_field",
        "verify_signer",
        "verify_time",
        "verify_level",
        "verify_checks",
        "verify_verdict",
    ):
        table.add_column(t(key, lang), overflow="fold")
    for i, s in enumerate(r.signatures, 1):
        table.add_row(
            str(i),
            escape(s.field) + ("" if s.kind.value == "signature" else f"\n({t('verify_doc_timestamp', lang)})"),
            escape(_signer_text(s)),
            _time_text(s, lang),
            s.level.value,
            _checks_text(s, lang),
            _indication_text(s.indication.value, lang) + (f"\n{s.subindication}" if s.subindication else ""),
        )
    console.print(table)
    for i, s in enumerate(r.signatures, 1):
        console.print(f"[bold]{i}. {escape(s.field)}[/bold]")
        for reason in s.reasons:
            console.print(f"   - {escape(reason.text(lang))}")
    console.print()


def _signer_text(s: SignatureReport) -> str:
    parts = [p for p in (s.signer.name, s.signer.organisation) if p]
    text = "\n".join(parts) or "?"
    if s.signer.serial:
        text += f"\n#{s.signer.serial}"
    return text


def _time_text(s: SignatureReport, lang: str) -> str:
    from edoc.i18n import t

    if s.timestamp is not None:
        return f"{s.timestamp.isoformat(timespec='seconds')}\n({t('verify_timestamped', lang)})"
    if s.signing_time is not None:
        return f"{s.signing_time.isoformat(timespec='seconds')}\n({t('verify_claimed', lang)})"
    return "-"


def _checks_text(s: SignatureReport, lang: str) -> str:
    from edoc.i18n import t

    def mark(ok: bool) -> str:
        return "[green]✓[/]" if ok else "[red]✗[/]"

    return "\n".join(
        [
            f"{mark(s.intact)} {t('verify_intact', lang)}",
            f"{mark(s.trusted)} {t('verify_trusted', lang)}",
            f"{mark(s.revocation.value == 'good')} {t('verify_revocation', lang)}: {s.revocation.value}",
            f"{mark(s.modifications_after.value in ('none', 'signatures'))} {t('verify_changes', lang)}: "
            f"{s.modifications_after.value}",
            f"{mark(not s.visual_change_after)} {t('verify_visual', lang)}",
        ]
    )


def _print_summary(console: Console, reports: list[VerificationReport], lang: str, seconds: float) -> None:
    from collections import Counter

    from edoc.i18n import t

    counts = Counter(r.indication.value for r in reports)
    parts = [f"{_indication_text(k, lang)}: {counts[k]}" for k in ("TOTAL-PASSED", "INDETERMINATE", "TOTAL-FAILED")]
    console.print(t("verify_summary", lang, files=len(reports), seconds=f"{seconds:.1f}") + "  " + "  ".join(parts))
