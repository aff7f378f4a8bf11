"""``edoc doc sign``, ``edoc doc ltv``, ``edoc doc export``: signing (issue 5), registered on the
``doc`` group in ``cli/app.py``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from edoc.cli.identity import AS_HELP, acting_user, document_id
from edoc.cli.output import emit, err, table
from edoc.cli.state import state

LEVEL_HELP = "B-B | B-T | B-LT | B-LTA (default: the setting signing.default_level, B-LT)."


def _role_text(role: str, lang: str) -> str:
    words = {
        "drafter": ("drafter (approval)", "ผู้ร่าง (รับรองร่าง)"),
        "initial": ("initial", "ลงชื่อย่อ"),
        "signer": ("signature", "ลงนาม"),
        "seal": ("seal", "ตราหน่วยงาน"),
    }
    en, th = words.get(role, (role, role))
    return th if lang == "th" else en


def sign(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID...", help="The documents' ids.")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    level: Annotated[str | None, typer.Option("--level", help=LEVEL_HELP)] = None,
    all_awaiting: Annotated[
        bool, typer.Option("--all-awaiting", help="Sign every document waiting for this user's signature or initial.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Processes for a batch (default: one per core).")
    ] = None,
) -> None:
    """Sign documents: initial on the way up, or sign as the signer (the first signature issues the
    number and renders the final PDF). Many ids (or --all-awaiting) sign with one unlock."""
    from edoc.errors import InvalidField
    from edoc.signing import Level

    st = state(ctx)
    user = acting_user(as_user)
    doc_ids = [document_id(i) for i in ids or []]
    if all_awaiting and doc_ids:
        raise InvalidField("ID", "give document ids or --all-awaiting, not both")
    if not all_awaiting and not doc_ids:
        raise InvalidField("ID", "give at least one document id (or --all-awaiting)")
    if level is not None:
        Level.parse(level)  # bad input fails before the office is opened
    lang = st.lang
    with st.office() as office:
        if all_awaiting:
            doc_ids = office.awaiting_signature(as_user=user)
        if len(doc_ids) == 1 and not all_awaiting:
            signed = office.sign_document(doc_ids[0], as_user=user, level=level)
            data = signed.to_json()

            def human(console: Any) -> None:
                number = f"  {signed.number}" if signed.number else ""
                console.print(
                    f"{signed.doc_id}\t{signed.field}\t{_role_text(signed.role.value, lang)}\t"
                    f"{signed.level.value}\t{signed.state}{number}"
                )

            emit(st, data, human)
            return
        items = _batch(office, doc_ids, user, level, workers)
    failed = [i for i in items if not i.ok]
    data = {
        "items": [i.to_json() for i in items],
        "signed": len(items) - len(failed),
        "failed": len(failed),
    }

    def human_batch(console: Any) -> None:
        rows = []
        for item in items:
            if item.signed is not None:
                s = item.signed
                rows.append((s.doc_id, "ok", s.field, s.level.value, s.state, s.number or ""))
            else:
                rows.append((item.doc_id, "ลงนามไม่ได้" if lang == "th" else "FAILED", "", "", "", ""))
        heads = ["ID", "ผล" if lang == "th" else "result", "field", "level", "state", "number"]
        console.print(table(None, heads, rows))
        for item in failed:
            text = item.error_th if lang == "th" else item.error
            print(f"edoc: {item.doc_id}: {text}", file=sys.stderr)
        if lang == "th":
            console.print(f"ลงนามแล้ว {data['signed']} ฉบับ, ไม่สำเร็จ {data['failed']} ฉบับ")
        else:
            console.print(f"signed {data['signed']}, failed {data['failed']}")

    emit(st, data, human_batch)
    if failed:
        raise typer.Exit(failed[0].exit_code or 1)


def _batch(office: Any, doc_ids: list[int], user: str, level: str | None, workers: int | None) -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]}"),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    task = bar.add_task("sign", total=len(doc_ids), failed="")
    failures = 0

    def advance(item: Any) -> None:
        nonlocal failures
        if not item.ok:
            failures += 1
        bar.update(task, advance=1, failed=f"failed {failures}" if failures else "")

    with bar:
        return list(office.sign_documents(doc_ids, as_user=user, level=level, workers=workers, progress=advance))


def ltv(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The document's id.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Renew long-term validity: add the validation data of every signature and a new archive
    time-stamp (B-LTA). Run it before the last time-stamp's certificate expires."""
    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    with st.office() as office:
        data = office.refresh_document_ltv(doc_id, as_user=user)
    emit(st, data, lambda c: c.print(f"{doc_id}\t{data['archive_timestamp']}\t{data['sha256']}"))


def export(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The document's id.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Write the signed PDF exactly as stored (reading it is recorded in the audit log)."""
    import hashlib

    from edoc.errors import InvalidField

    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    if out.is_dir():
        raise InvalidField("out", f"{out} is a folder; give a file name")
    if not out.parent.is_dir():
        raise InvalidField("out", f"the folder {out.parent} does not exist")
    with st.office() as office:
        pdf = office.export_document(doc_id, as_user=user)
    from edoc.cli.output import write_out

    write_out(out, pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    data = {"id": doc_id, "out": str(out), "bytes": len(pdf), "sha256": digest}
    emit(st, data, lambda c: c.print(f"{out}\t{len(pdf)} B\tsha256 {digest}"))
