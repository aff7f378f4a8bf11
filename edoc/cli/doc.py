"""``edoc doc …``: the document commands.

This module owns the ``doc`` group; commands of other issues live in their own modules
(``cli/sign.py``, ``cli/send.py`` …) and are registered on :data:`app` in ``cli/app.py``.

Every command here takes ``--as USER`` (default ``$EDOC_USER``): reading a document is an act
the permission policy decides, so edoc must know who reads (see :mod:`edoc.cli.identity`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from edoc.cli.identity import AS_HELP, acting_user, document_id
from edoc.cli.output import emit, table
from edoc.cli.state import state

app = typer.Typer(
    help="Official documents: create, render, show, number, sign, send, receive, route.", no_args_is_help=True
)

KINDS = "external | internal | stamped | directive | publicity | record"


@app.command("new")
def new(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=KINDS)],
    from_file: Annotated[Path, typer.Option("--from", help="The document file: JSON or TOML with the fields.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Create a draft from a document file; print its id."""
    from edoc.documents import load

    st = state(ctx)
    user = acting_user(as_user)
    content = load(kind, from_file)  # bad input fails before the office is opened
    with st.office() as office:
        doc_id = office.new_document(kind, content, as_user=user)
    emit(st, {"id": doc_id}, lambda c: c.print(str(doc_id)))


@app.command("import")
def import_(
    ctx: typer.Context,
    pdf: Annotated[Path, typer.Argument(help="The incoming PDF; stored unchanged.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="เรื่อง (default: the PDF's title, else its file name).")
    ] = None,
    from_agency: Annotated[str | None, typer.Option("--from-agency", help="จาก: the sender's name.")] = None,
    number: Annotated[str | None, typer.Option("--number", help="ที่: the sender's document number.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="ลงวันที่: the date it bears, YYYY-MM-DD.")] = None,
    urgency: Annotated[str, typer.Option("--urgency", help="normal | urgent | very-urgent | most-urgent")] = "normal",
    secrecy: Annotated[str, typer.Option("--secrecy", help="normal | confidential | secret | top-secret")] = "normal",
) -> None:
    """Store an incoming PDF from outside the system, unchanged; print its id."""
    import datetime as dt

    from edoc.documents.incoming import inspect_pdf
    from edoc.errors import DocumentFileInvalid, InvalidField

    st = state(ctx)
    user = acting_user(as_user)
    try:
        data = pdf.read_bytes()
    except OSError as exc:
        raise DocumentFileInvalid(str(pdf), exc.strerror or str(exc)) from None
    bears = None
    if date is not None:
        try:
            bears = dt.date.fromisoformat(date.strip())
        except ValueError:
            raise InvalidField("date", f"{date!r} is not a date like 2026-11-22") from None
    if subject is None:
        subject = inspect_pdf(data, what=str(pdf)).title or pdf.stem
    with st.office() as office:
        doc_id = office.import_document(
            data,
            as_user=user,
            subject=subject,
            from_agency=from_agency,
            number=number,
            document_date=bears,
            urgency=urgency,
            secrecy=secrecy,
        )
    emit(st, {"id": doc_id}, lambda c: c.print(str(doc_id)))


@app.command("show")
def show(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The document's id.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Show a document's metadata, fields and attachments."""
    from edoc.i18n import t

    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    with st.office() as office:
        view = office.show_document(doc_id, as_user=user)
    data = view.to_json()
    lang = st.lang

    def human(console: Any) -> None:
        thai = lang == "th"
        kind = view.kind.thai if thai else view.kind.value
        if view.form is not None:
            kind += f" / {view.form.thai if thai else view.form.value}"
        rows: list[tuple[str, Any]] = [
            (t("id", lang), view.id),
            (t("kind", lang), kind),
            (t("state", lang), view.state.thai if thai else view.state.value),
            (t("origin", lang), t(f"origin_{view.origin}", lang)),
            (t("subject", lang), view.subject),
            (t("number", lang), view.number or ""),
            (t("date", lang), view.document_date.isoformat() if view.document_date else ""),
            (t("urgency", lang), view.urgency.thai if thai else view.urgency.value),
            (t("secrecy", lang), view.secrecy.thai if thai else view.secrecy.value),
            (t("agency", lang), f"{view.agency_name} ({view.agency})"),
            (t("unit", lang), view.unit or ""),
            (t("from", lang), view.from_name),
            (t("to", lang), view.to_name),
            (t("drafter", lang), view.drafter or ""),
            (t("signer", lang), view.signer or ""),
            (t("initials", lang), ", ".join(view.initials)),
            (t("holder", lang), view.holder or ""),
        ]
        if view.pdf_sha256:
            rows.append((t("stored_pdf", lang), view.pdf_sha256))
        for a in view.attachments:
            rows.append((t("attachments", lang), f"{a.name}  {a.size} B  sha256 {a.sha256}"))
        console.print(table(f"{t('document', lang)} {view.id}", [t("field", lang), t("value", lang)], rows))
        body = view.fields.get("body") or ()
        for paragraph in body:
            console.print(paragraph, soft_wrap=True)

    emit(st, data, human)


@app.command("render")
def render(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The document's id.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Write a PDF preview of the document as it stands."""
    import hashlib

    from edoc.errors import InvalidField
    from edoc.i18n import t

    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    if out.is_dir():
        raise InvalidField("out", f"{out} is a folder; give a file name")
    with st.office() as office:
        result = office.render_document_result(doc_id, as_user=user)
    from edoc.cli.output import write_out

    write_out(out, result.pdf)
    data = {
        "id": doc_id,
        "out": str(out),
        "pages": result.pages,
        "bytes": len(result.pdf),
        "sha256": hashlib.sha256(result.pdf).hexdigest(),
        "pdfa": f"PDF/A-{result.pdfa_part}b" if result.signature_boxes else None,
        "signature_boxes": {
            name: {"page": box.page, "rect": [round(v, 2) for v in box.rect]}
            for name, box in result.signature_boxes.items()
        },
        "stamp_zone": {"page": result.stamp_zone.page, "rect": [round(v, 2) for v in result.stamp_zone.rect]},
    }
    message = t("rendered", st.lang, path=out, pages=result.pages, size=len(result.pdf))
    emit(st, data, lambda c: c.print(message))
