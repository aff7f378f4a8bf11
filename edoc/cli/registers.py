"""``edoc doc number``, ``edoc doc cancel``: numbering (registered on the ``doc`` group in
``cli/app.py``)."""

from __future__ import annotations

from typing import Annotated

import typer

from edoc.cli.output import emit
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
