"""``edoc doc send|status|route|evidence|reseal|seal-stored``, ``edoc inbox``, ``edoc evidence verify`` and
``edoc agency group``: routing between and inside agencies (registered in ``cli/app.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from edoc.cli.identity import AS_HELP, acting_user, document_id
from edoc.cli.output import emit, table
from edoc.cli.state import state

ACTIONS = "propose | endorse | assign | acknowledge | return | close | file"


def _tr(lang: str, en: str, th: str) -> str:
    return th if lang == "th" else en


def send(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The signed document's id.")],
    to: Annotated[
        list[str] | None, typer.Option("--to", help="Recipient agency codes, comma-separated (repeatable).")
    ] = None,
    to_group: Annotated[str | None, typer.Option("--to-group", help="Every agency of a named group.")] = None,
    to_all_under: Annotated[
        str | None, typer.Option("--to-all-under", help="Every agency below this one (a circular).")
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Send a signed document to other agencies: one consignment each, with sealed evidence."""
    from edoc.i18n import t

    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    with st.office() as office:
        result = office.send_document(doc_id, as_user=user, to=to or (), group=to_group, under=to_all_under)
    lang = st.lang

    def human(console: Any) -> None:
        rows = [
            (r.agency, r.consignment, r.state.thai if lang == "th" else r.state.value, r.copy_id or "")
            for r in result.recipients
        ]
        title = _tr(lang, f"Document {doc_id} sent", f"ส่งหนังสือรหัส {doc_id} แล้ว")
        if result.resumed:
            title += _tr(lang, " (an interrupted send, completed)", " (ส่งต่อจากครั้งที่ค้างไว้)")
        console.print(
            table(
                title,
                [
                    t("agency", lang),
                    _tr(lang, "Consignment", "รหัสการส่ง"),
                    t("state", lang),
                    _tr(lang, "Their id", "รหัสหนังสือปลายทาง"),
                ],
                rows,
            )
        )

    emit(st, result.to_json(), human)


def status(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The document's id.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Where a document stands: each recipient's latest evidence, and its route here."""
    from edoc.i18n import t
    from edoc.routing.flow import FlowState

    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    with st.office() as office:
        result = office.document_status(doc_id, as_user=user)
        tz = office.settings.office.timezone
    lang = st.lang

    def local(at: Any) -> str:
        from zoneinfo import ZoneInfo

        return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")

    def flow_word(value: str | None) -> str:
        if not value:
            return ""
        return FlowState(value).thai if lang == "th" else value

    def human(console: Any) -> None:
        head = f"{result.number or ''} {result.subject}".strip()
        console.print(f"{_tr(lang, 'Document', 'หนังสือ')} {result.id}: {head}")
        if result.recipients:
            rows = [
                (
                    f"{r.agency_name} ({r.agency})",
                    r.state.thai if lang == "th" else r.state.value,
                    local(r.latest.evidence.at),
                    r.receive_number or "",
                    flow_word(r.route_state),
                    r.reason or "",
                    r.consignment,
                )
                for r in result.recipients
            ]
            console.print(
                table(
                    _tr(lang, "Recipients", "ผู้รับ"),
                    [
                        t("agency", lang),
                        t("state", lang),
                        _tr(lang, "Since", "เมื่อ"),
                        _tr(lang, "Receive no.", "เลขรับ"),
                        _tr(lang, "Their route", "สถานะที่ปลายทาง"),
                        _tr(lang, "Reason", "เหตุผล"),
                        _tr(lang, "Consignment", "รหัสการส่ง"),
                    ],
                    rows,
                )
            )
        if result.steps:
            rows2 = [
                (
                    s.seq,
                    local(s.at),
                    s.action,
                    s.actor,
                    s.to or s.to_unit or "",
                    s.note,
                    s.due or "",
                    "✓" if s.signed else "",
                )
                for s in result.steps
            ]
            console.print(
                table(
                    _tr(
                        lang,
                        f"Route here: {flow_word(result.route_state)}",
                        f"เส้นทางในหน่วยงาน: {flow_word(result.route_state)}",
                    ),
                    [
                        "#",
                        _tr(lang, "When", "เมื่อ"),
                        _tr(lang, "Action", "การดำเนินการ"),
                        _tr(lang, "Who", "ผู้ดำเนินการ"),
                        _tr(lang, "To", "ถึง"),
                        _tr(lang, "Note", "ข้อความ"),
                        _tr(lang, "Due", "กำหนด"),
                        _tr(lang, "Signed", "ลงนาม"),
                    ],
                    rows2,
                )
            )
        if not result.recipients and not result.steps:
            console.print(_tr(lang, "Not sent, and no route here yet.", "ยังไม่ได้ส่ง และยังไม่มีการดำเนินการในหน่วยงาน"))

    emit(st, result.to_json(), human)


def route(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The document's id (your agency's copy).")],
    action: Annotated[str, typer.Argument(metavar="ACTION", help=ACTIONS)],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    to: Annotated[str | None, typer.Option("--to", help="USER (propose, assign) or UNIT (assign).")] = None,
    note: Annotated[str, typer.Option("--note", help="Endorsement, order, or the reason of a return.")] = "",
    due: Annotated[str | None, typer.Option("--due", help="Due date YYYY-MM-DD (assign; default by urgency).")] = None,
    retention: Annotated[str | None, typer.Option("--retention", help="Retention class (file).")] = None,
) -> None:
    """One step on the document's route in your agency."""
    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    with st.office() as office:
        result = office.route_document(doc_id, action, as_user=user, to=to, note=note, due=due, retention=retention)
    where = result.holder or (f"unit {result.unit}" if result.unit else "registry")
    line = f"{result.id}\t{result.action}\t{result.state}\t{where}\t{result.due or ''}"
    emit(st, result.to_json(), lambda c: c.print(line))


def evidence(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="The sent document's id.")],
    out: Annotated[Path, typer.Option("--out", help="An empty or new folder.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Export the delivery evidence (signed records, seals' certificates) for an offline check."""
    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    with st.office() as office:
        manifest = office.export_evidence(doc_id, out, as_user=user)
    n = sum(len(c["files"]) for c in manifest["consignments"])
    message = _tr(st.lang, f"{n} evidence records written to {out}", f"บันทึกหลักฐาน {n} รายการไว้ที่ {out}")
    emit(st, {"out": str(out), **manifest}, lambda c: c.print(message))


def reseal(
    ctx: typer.Context,
    id_: Annotated[str, typer.Argument(metavar="ID", help="A confidential or secret document's id.")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Encrypt a confidential or secret document again, with fresh keys, for who may open it now."""
    st = state(ctx)
    user = acting_user(as_user)
    doc_id = document_id(id_)
    with st.office() as office:
        result = office.reseal_document(doc_id, as_user=user)
    n = len(result["content"])
    message = _tr(
        st.lang,
        f"{n} sealed item(s) of document {doc_id} re-encrypted",
        f"เข้ารหัสเนื้อหาของหนังสือรหัส {doc_id} ใหม่ {n} รายการ",
    )
    emit(st, result, lambda c: c.print(message))


def seal_stored(
    ctx: typer.Context,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """Seal every confidential or secret document of your agency still stored in the clear."""
    st = state(ctx)
    user = acting_user(as_user)
    with st.office() as office:
        result = office.seal_stored(as_user=user)
    n, checked = len(result["sealed"]), result["checked"]
    message = _tr(
        st.lang,
        f"{n} of {checked} restricted document(s) of {result['agency']} sealed (the others were already)",
        f"เข้ารหัสหนังสือลับของ {result['agency']} ที่ยังไม่ได้เข้ารหัส {n} จาก {checked} เรื่อง",
    )
    emit(st, result, lambda c: c.print(message))


evidence_app = typer.Typer(help="Delivery evidence: check an exported folder offline.", no_args_is_help=True)


@evidence_app.command("verify")
def evidence_verify(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A folder written by 'edoc doc evidence'.")],
    trust: Annotated[list[Path], typer.Option("--trust", help="Trusted root certificate (PEM); repeatable.")],
) -> None:
    """Check every evidence record's seal, chain and order, with only the root certificate(s)."""
    from edoc.errors import EvidenceInvalid, InvalidField
    from edoc.routing.evidence import check_folder, load_pem_certificates

    st = state(ctx)
    if not folder.is_dir():
        raise InvalidField("folder", f"{folder} is not a folder")
    roots = []
    for path in trust:
        try:
            roots.extend(load_pem_certificates(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise InvalidField("trust", f"{path}: {exc}") from None
    result = check_folder(folder, roots)
    lang = st.lang

    def human(console: Any) -> None:
        rows = [(r.file, r.kind, r.agency, "OK" if r.ok else "; ".join(r.problems)) for r in result.records]
        console.print(table(_tr(lang, "Evidence", "หลักฐานการส่ง"), ["file", "kind", "agency", "result"], rows))
        for p in result.problems:
            console.print(p)
        console.print(_tr(lang, "OK" if result.ok else "FAILED", "ผ่าน" if result.ok else "ไม่ผ่าน"))

    emit(st, result.to_json(), human)
    if not result.ok:
        bad = next((r for r in result.records if not r.ok), None)
        raise EvidenceInvalid(
            str(folder), bad.problems[0] if bad and bad.problems else (result.problems[0] if result.problems else "")
        )


def inbox(
    ctx: typer.Context,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
) -> None:
    """What waits for you: overdue first, then the most urgent."""
    from edoc.documents import Secrecy, Urgency
    from edoc.i18n import t

    st = state(ctx)
    user = acting_user(as_user)
    with st.office() as office:
        items = office.inbox(as_user=user)
    lang = st.lang

    def human(console: Any) -> None:
        thai = lang == "th"
        rows = [
            (
                i.id,
                i.number or "",
                i.subject,
                i.sender,
                Urgency(i.urgency).thai if thai else i.urgency,
                Secrecy(i.secrecy).thai if thai else i.secrecy,
                i.state,
                f"{i.due or ''}{' !' if i.overdue else ''}",
                i.waiting,
            )
            for i in items
        ]
        console.print(
            table(
                _tr(lang, f"Inbox of {user}", f"หนังสือรอดำเนินการของ {user}"),
                [
                    t("id", lang),
                    t("number", lang),
                    t("subject", lang),
                    t("from", lang),
                    t("urgency", lang),
                    t("secrecy", lang),
                    t("state", lang),
                    _tr(lang, "Due", "กำหนด"),
                    _tr(lang, "Why", "เหตุที่รอ"),
                ],
                rows,
            )
        )

    emit(st, {"items": [i.to_json() for i in items]}, human)


group_app = typer.Typer(help="Named groups of agencies that circulars go to.", no_args_is_help=True)


@group_app.command("add")
def group_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Short ASCII name (schools).")],
    members: Annotated[str, typer.Option("--members", help="Agency codes, comma-separated.")],
    title: Annotated[str, typer.Option("--title", help="Thai title.")] = "",
) -> None:
    """Create a named group of agencies."""
    st = state(ctx)
    with st.office() as office:
        group = office.add_agency_group(name, title=title, members=members.split(","))
    emit(st, group.to_json(), lambda c: c.print(f"{group.name}\t{len(group.members)}"))


@group_app.command("list")
def group_list(ctx: typer.Context) -> None:
    """List the agency groups."""
    st = state(ctx)
    with st.office() as office:
        groups = office.agency_groups()
    rows = [(g.name, g.title, len(g.members), ", ".join(g.members)) for g in groups]
    emit(
        st,
        {"groups": [g.to_json() for g in groups]},
        lambda c: c.print(table(None, ["name", "title", "n", "members"], rows)),
    )
