"""``edoc doc number|cancel|receive``, ``edoc register``, ``edoc search``, ``edoc records``: the
registers (issue 7), registered in ``cli/app.py`` under this issue's anchor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from edoc.cli.output import emit, err, table
from edoc.cli.state import state

AS_HELP = "Username of who acts."


def number(
    ctx: typer.Context,
    doc_id: Annotated[int, typer.Argument(help="The document's id.", metavar="ID")],
    as_user: Annotated[str, typer.Option("--as", help=AS_HELP)],
    circular: Annotated[
        bool, typer.Option("--circular", help="Number it in the circular series (<letter code>/ว <n>).")
    ] = False,
) -> None:
    """Issue the outgoing number (also done by the first signature if missing)."""
    st = state(ctx)
    with st.office() as office:
        issued = office.number_document(doc_id, as_user=as_user, circular=True if circular else None)
        thai = office.get_agency(issued.agency).thai_digits
    data = {
        "id": doc_id,
        "number": issued.text,
        "display": issued.display(thai),
        "agency": issued.agency,
        "series": issued.series.key,
        "year": issued.year,
        "seq": issued.seq,
    }
    emit(st, data, lambda c: c.print(issued.display(thai)))


def cancel(
    ctx: typer.Context,
    doc_id: Annotated[int, typer.Argument(help="The document's id.", metavar="ID")],
    as_user: Annotated[str, typer.Option("--as", help=AS_HELP)],
    reason: Annotated[str, typer.Option("--reason", help="Why it is cancelled (written in the register).")],
) -> None:
    """Cancel a document before it is sent; its number stays in the register, marked cancelled."""
    st = state(ctx)
    with st.office() as office:
        office.cancel_document(doc_id, as_user=as_user, reason=reason)
    emit(st, {"id": doc_id, "state": "cancelled"}, lambda c: c.print(f"{doc_id}\tcancelled"))


# -- receive ---------------------------------------------------------------------------------


def receive(
    ctx: typer.Context,
    doc_id: Annotated[
        str, typer.Argument(help="The incoming document's id (from the inbox or doc import).", metavar="ID")
    ],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    remark: Annotated[str, typer.Option("--remark", help="หมายเหตุ written in the register.")] = "",
    level: Annotated[
        str | None, typer.Option("--level", help="PAdES level of the stamp: B-B|B-T|B-LT|B-LTA (default: settings).")
    ] = None,
) -> None:
    """Register an incoming document: receive number (เลขรับ) and the signed received stamp."""
    from edoc.cli.identity import acting_user, document_id

    st = state(ctx)
    user = acting_user(as_user)
    ident = document_id(doc_id)
    with st.office() as office:
        got = office.receive_document(ident, as_user=user, remark=remark, level=level)
        thai = office.get_agency(got.number.agency).thai_digits
        local = office._local(got.registered_at)
    data = {
        "id": got.document_id,
        "number": got.number.text,
        "display": got.number.display(thai),
        "agency": got.number.agency,
        "year": got.number.year,
        "seq": got.number.seq,
        "registered_at": local.isoformat(),
        "sha256": got.pdf_sha256,
        "previous_sha256": got.previous_sha256,
        "stamp_field": got.stamp_field,
        "seal_serial": got.seal_serial,
    }
    emit(st, data, lambda c: c.print(f"{got.document_id}\tเลขรับ {got.number.display(thai)}\t{local:%Y-%m-%d %H:%M}"))


# -- registers -------------------------------------------------------------------------------

register_app = typer.Typer(
    help="The registers of sent and received documents (ทะเบียนหนังสือส่ง / ทะเบียนหนังสือรับ).",
    no_args_is_help=True,
)

_EN_HEADINGS = ("No.", "Date", "Ref.", "Dated", "From", "To", "Subject", "Action", "Remark")


def _register(
    ctx: typer.Context,
    book: str,
    agency: str,
    year: int | None,
    as_user: str | None,
    csv_out: Path | None,
    pdf_out: Path | None,
) -> None:
    import os

    from edoc.registers.views import REGISTER_COLUMNS, REGISTER_HEADINGS_TH

    st = state(ctx)
    user = (as_user or os.environ.get("EDOC_USER") or "").strip() or None
    with st.office() as office:
        page = office.register(agency, book, year=year, as_user=user)
        report = office.register_report(page) if pdf_out is not None else None
    rows = [r.as_dict() for r in page.rows]
    if csv_out is not None:
        _write(csv_out, register_csv(rows))
    if pdf_out is not None and report is not None:
        _write(pdf_out, report)
    data = {"agency": page.agency, "book": page.book.value, "year": page.year, "rows": rows}
    headings = REGISTER_HEADINGS_TH if st.lang == "th" else _EN_HEADINGS
    title = f"{'ทะเบียนหนังสือส่ง' if book == 'sent' else 'ทะเบียนหนังสือรับ'} {page.agency_name} {page.year}"

    def human(c: Any) -> None:
        c.print(table(title, headings, [[r.get(k) or "" for k in REGISTER_COLUMNS] for r in rows]))
        for path in (csv_out, pdf_out):
            if path is not None:
                err().print(f"wrote {path}")

    emit(st, data, human)


def register_csv(rows: list[dict[str, Any]]) -> bytes:
    """The register as CSV: the contract's columns, UTF-8 with a BOM (spreadsheets read Thai)."""
    import csv
    import io

    from edoc.registers.views import REGISTER_COLUMNS

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(REGISTER_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in REGISTER_COLUMNS})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


AGENCY_HELP = "The agency's code."
YEAR_HELP = "Buddhist Era year (default: this year)."
CSV_HELP = "Also write the register as CSV (UTF-8 with BOM, the JSON's columns)."
PDF_HELP = "Also write the register as an A4 landscape Thai PDF report."
REG_AS_HELP = "Who reads (default $EDOC_USER; none: the office's operator)."


@register_app.command("sent")
def register_sent(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option("--agency", help=AGENCY_HELP)],
    year: Annotated[int | None, typer.Option("--year", help=YEAR_HELP)] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=REG_AS_HELP)] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help=CSV_HELP)] = None,
    pdf_out: Annotated[Path | None, typer.Option("--pdf", help=PDF_HELP)] = None,
) -> None:
    """The register of sent documents (ทะเบียนหนังสือส่ง)."""
    _register(ctx, "sent", agency, year, as_user, csv_out, pdf_out)


@register_app.command("received")
def register_received(
    ctx: typer.Context,
    agency: Annotated[str, typer.Option("--agency", help=AGENCY_HELP)],
    year: Annotated[int | None, typer.Option("--year", help=YEAR_HELP)] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=REG_AS_HELP)] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help=CSV_HELP)] = None,
    pdf_out: Annotated[Path | None, typer.Option("--pdf", help=PDF_HELP)] = None,
) -> None:
    """The register of received documents (ทะเบียนหนังสือรับ)."""
    _register(ctx, "received", agency, year, as_user, csv_out, pdf_out)


# -- search ----------------------------------------------------------------------------------


def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find (Thai needs no spaces); all must match.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many results.")] = 20,
) -> None:
    """Find documents by subject, body, numbers, sender or recipient: only what you may see."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    with st.office() as office:
        hits = office.search(text, as_user=user, limit=limit)
    data = {"query": text, "items": [h.as_dict() for h in hits]}
    th = st.lang == "th"
    cols = (
        ("รหัส", "เลขทะเบียน", "วันที่", "ที่", "เรื่อง", "จาก", "ถึง", "สถานะ")
        if th
        else ("ID", "Reg. no.", "Date", "Ref.", "Subject", "From", "To", "State")
    )

    def human(c: Any) -> None:
        c.print(
            table(
                None,
                cols,
                [
                    [
                        h.document_id,
                        h.register_number,
                        h.registered,
                        h.document_number,
                        h.subject,
                        h.from_,
                        h.to,
                        h.state,
                    ]
                    for h in hits
                ],
            )
        )

    emit(st, data, human)


# -- records ---------------------------------------------------------------------------------

records_app = typer.Typer(
    help="Retention, legal holds, approved destruction and transfer (ข้อ 52 onwards).", no_args_is_help=True
)

_REC_COLS = ("ID", "Ref.", "Subject", "Class", "Filed", "Due (BE)", "Hold")


def _records_table(c: Any, title: str | None, items: Any) -> None:
    c.print(
        table(
            title,
            _REC_COLS,
            [
                [
                    r.document_id,
                    r.document_number,
                    r.subject,
                    r.retention_class,
                    r.filed_at.date() if r.filed_at else "",
                    r.due_year,
                    r.legal_hold,
                ]
                for r in items
            ],
        )
    )


@records_app.command("file")
def records_file(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(help="The document's id.", metavar="ID")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    retention_class: Annotated[
        str | None, typer.Option("--class", help="Retention class: 10y (default), permanent, 5y, 1y, or the agency's.")
    ] = None,
) -> None:
    """File a finished document (เก็บ) under a retention class."""
    from edoc.cli.identity import acting_user, document_id

    st = state(ctx)
    user = acting_user(as_user)
    ident = document_id(doc_id)
    with st.office() as office:
        rec = office.file_document(ident, as_user=user, retention_class=retention_class)
    emit(st, rec.as_dict(), lambda c: _records_table(c, None, [rec]))


@records_app.command("due")
def records_due(
    ctx: typer.Context,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="The agency (default: your own).")] = None,
    year: Annotated[int | None, typer.Option("--year", help=YEAR_HELP)] = None,
) -> None:
    """What falls due for destruction by the end of the year (the list for destruction)."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    with st.office() as office:
        due, held = office.records_due(as_user=user, agency=agency, year=year)
    data = {"due": [r.as_dict() for r in due], "held": [r.as_dict() for r in held]}

    def human(c: Any) -> None:
        _records_table(c, "บัญชีหนังสือขอทำลาย / due for destruction", due)
        if held:
            _records_table(c, "ระงับการทำลาย / due but held", held)

    emit(st, data, human)


@records_app.command("transfer")
def records_transfer(
    ctx: typer.Context,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="The agency (default: your own).")] = None,
    year: Annotated[int | None, typer.Option("--year", help=YEAR_HELP)] = None,
) -> None:
    """Documents over 20 years old: the list for the National Archives."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    with st.office() as office:
        items = office.records_transfer(as_user=user, agency=agency, year=year)
    emit(
        st,
        {"items": [r.as_dict() for r in items]},
        lambda c: _records_table(c, "บัญชีส่งมอบหนังสือครบ 20 ปี / for the National Archives", items),
    )


def _hold(ctx: typer.Context, doc_id: str, as_user: str | None, reason: str, hold: bool) -> None:
    from edoc.cli.identity import acting_user, document_id

    st = state(ctx)
    user = acting_user(as_user)
    ident = document_id(doc_id)
    with st.office() as office:
        if hold:
            rec = office.hold_document(ident, as_user=user, reason=reason)
        else:
            rec = office.release_document(ident, as_user=user, reason=reason)
    emit(st, rec.as_dict(), lambda c: _records_table(c, None, [rec]))


@records_app.command("hold")
def records_hold(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(help="The document's id.", metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why (a case, an inquiry).")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Put a legal hold on a document: it is never destroyed while held."""
    _hold(ctx, doc_id, as_user, reason, True)


@records_app.command("release")
def records_release(
    ctx: typer.Context,
    doc_id: Annotated[str, typer.Argument(help="The document's id.", metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="Why the hold ends.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Lift a legal hold."""
    _hold(ctx, doc_id, as_user, reason, False)


def _list_out(st: Any, listed: Any) -> None:
    def human(c: Any) -> None:
        c.print(
            f"list {listed.id}\t{listed.agency}\t{listed.year}\t{listed.state}\t{len(listed.documents)} document(s)"
        )
        for u, r in listed.approvals:
            c.print(f"  approved by {u} ({r})")
        if listed.archives_reference:
            c.print(f"  National Archives: {listed.archives_reference}")
        for m in listed.missing:
            c.print(f"  missing: {m}")

    emit(st, listed.as_dict(), human)


def _list_id(value: str) -> int:
    from edoc.errors import InvalidField

    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise InvalidField("list", f"{value!r} is not a list id (a positive whole number)")
    return int(text)


@records_app.command("propose")
def records_propose(
    ctx: typer.Context,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="The agency (default: your own).")] = None,
    year: Annotated[int | None, typer.Option("--year", help=YEAR_HELP)] = None,
) -> None:
    """Make the destruction list from what is due (held and permanent documents left out)."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    with st.office() as office:
        listed = office.propose_destruction(as_user=user, agency=agency, year=year)
    _list_out(st, listed)


@records_app.command("approve")
def records_approve(
    ctx: typer.Context,
    list_id: Annotated[str, typer.Argument(help="The destruction list's id.", metavar="LIST")],
    role: Annotated[str, typer.Option("--role", help="chair | member (of the destruction committee).")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Approve a destruction list as a committee member, with your key."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    ident = _list_id(list_id)
    with st.office() as office:
        listed = office.approve_destruction(ident, as_user=user, role=role)
    _list_out(st, listed)


@records_app.command("archives")
def records_archives(
    ctx: typer.Context,
    list_id: Annotated[str, typer.Argument(help="The destruction list's id.", metavar="LIST")],
    reference: Annotated[str, typer.Option("--reference", help="The National Archives' no-objection letter.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Record the National Archives' no-objection to a destruction list."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    ident = _list_id(list_id)
    with st.office() as office:
        listed = office.record_archives_reply(ident, as_user=user, reference=reference)
    _list_out(st, listed)


@records_app.command("show")
def records_show(
    ctx: typer.Context,
    list_id: Annotated[str, typer.Argument(help="The destruction list's id.", metavar="LIST")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """A destruction list and what it still lacks."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    ident = _list_id(list_id)
    with st.office() as office:
        listed = office.destruction_list(ident, as_user=user)
    _list_out(st, listed)


@records_app.command("destroy")
def records_destroy(
    ctx: typer.Context,
    list_id: Annotated[str, typer.Argument(help="The approved destruction list's id.", metavar="LIST")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Carry out an approved destruction list: erase the content, keep register rows, hashes and audit trail."""
    from edoc.cli.identity import acting_user

    st = state(ctx)
    user = acting_user(as_user)
    ident = _list_id(list_id)
    with st.office() as office:
        listed = office.destroy_records(ident, as_user=user)
    _list_out(st, listed)
