"""``edoc agency``, ``edoc unit`` and ``edoc user``: the directory."""

from __future__ import annotations

from typing import Annotated

import typer

from edoc.cli.output import emit, table
from edoc.cli.state import state

agency_app = typer.Typer(help="Agencies (ส่วนราชการ): add and list.", no_args_is_help=True)
unit_app = typer.Typer(help="Units inside an agency (กอง/ฝ่าย).", no_args_is_help=True)
user_app = typer.Typer(help="User accounts: add and list.", no_args_is_help=True)

ROLES = "clerk | officer | head | executive | auditor | admin"


@agency_app.command("add")
def agency_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Short ASCII code, e.g. PAKCHONG.")],
    name: Annotated[str, typer.Option("--name", help="Thai name, e.g. เทศบาลเมืองปากช่อง.")],
    letter_code: Annotated[str, typer.Option("--letter-code", help="e.g. 'นม 52101'.")],
    parent: Annotated[str | None, typer.Option("--parent", help="Code of the parent agency.")] = None,
    address: Annotated[str, typer.Option("--address", help="Postal address.")] = "",
    thai_digits: Annotated[bool, typer.Option("--thai-digits", help="Print numbers with Thai digits.")] = False,
) -> None:
    """Add an agency."""
    st = state(ctx)
    with st.office() as office:
        agency = office.add_agency(
            code,
            name=name,
            letter_code=letter_code,
            parent=parent,
            address=address,
            thai_digits=thai_digits,
        )
    emit(st, _agency_json(agency), lambda c: c.print(f"{agency.code}\t{agency.name}\t{agency.letter_code}"))


def _agency_json(a: object) -> dict[str, object]:
    from edoc.directory import Agency

    assert isinstance(a, Agency)
    return {
        "code": a.code,
        "name": a.name,
        "letter_code": a.letter_code,
        "parent": a.parent,
        "address": a.address,
        "thai_digits": a.thai_digits,
    }


@agency_app.command("list")
def agency_list(ctx: typer.Context) -> None:
    """List agencies."""
    from edoc.i18n import t

    st = state(ctx)
    from edoc.cli.quick import list_agencies

    agencies = list_agencies(st)
    rows = [_agency_json(a) for a in agencies]
    lang = st.lang
    emit(
        st,
        {"agencies": rows},
        lambda c: c.print(
            table(
                t("agencies", lang),
                [t("code", lang), t("name", lang), t("letter_code", lang), t("parent", lang)],
                [(r["code"], r["name"], r["letter_code"], r["parent"] or "") for r in rows],
            )
        ),
    )


@unit_app.command("add")
def unit_add(
    ctx: typer.Context,
    agency: Annotated[str, typer.Argument(help="Code of the agency.")],
    code: Annotated[str, typer.Argument(help="Code of the unit, unique in the agency.")],
    name: Annotated[str, typer.Option("--name", help="Thai name, e.g. กองช่าง.")],
) -> None:
    """Add a unit to an agency."""
    st = state(ctx)
    with st.office() as office:
        unit = office.add_unit(agency, code, name=name)
    data = {"agency": unit.agency, "code": unit.code, "name": unit.name}
    emit(st, data, lambda c: c.print(f"{unit.agency}/{unit.code}\t{unit.name}"))


@unit_app.command("list")
def unit_list(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency.")] = None,
) -> None:
    """List units."""
    from edoc.i18n import t

    st = state(ctx)
    with st.office() as office:
        units = office.list_units(agency)
    rows = [{"agency": u.agency, "code": u.code, "name": u.name} for u in units]
    lang = st.lang
    emit(
        st,
        {"units": rows},
        lambda c: c.print(
            table(
                t("units", lang),
                [t("agency", lang), t("code", lang), t("name", lang)],
                [(r["agency"], r["code"], r["name"]) for r in rows],
            )
        ),
    )


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name: lower-case ASCII.")],
    agency: Annotated[str, typer.Option("--agency", help="Code of the user's agency.")],
    name: Annotated[str, typer.Option("--name", help="Thai full name, e.g. 'นายสมชาย ใจดี'.")],
    position: Annotated[str, typer.Option("--position", help="Position printed under signatures.")],
    role: Annotated[str, typer.Option("--role", help=ROLES)],
    unit: Annotated[str | None, typer.Option("--unit", help="Code of the user's unit.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
) -> None:
    """Add a user account."""
    st = state(ctx)
    with st.office() as office:
        user = office.add_user(
            username,
            agency=agency,
            full_name=name,
            position=position,
            role=role,
            unit=unit,
            email=email,
        )
    emit(st, _user_json(user), lambda c: c.print(f"{user.username}\t{user.full_name}\t{user.role}"))


def _user_json(u: object) -> dict[str, object]:
    from edoc.directory import User

    assert isinstance(u, User)
    return {
        "username": u.username,
        "agency": u.agency,
        "name": u.full_name,
        "position": u.position,
        "role": u.role.value,
        "unit": u.unit,
        "email": u.email,
        "active": u.active,
    }


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency.")] = None,
) -> None:
    """List users."""
    from edoc.i18n import ROLE_NAMES, t

    st = state(ctx)
    from edoc.cli.quick import list_users

    users = list_users(st, agency)
    rows = [_user_json(u) for u in users]
    lang = st.lang

    def role(r: object) -> str:
        pair = ROLE_NAMES.get(str(r))
        return (pair[1] if lang == "th" else pair[0]) if pair else str(r)

    emit(
        st,
        {"users": rows},
        lambda c: c.print(
            table(
                t("users", lang),
                [
                    t("username", lang),
                    t("full_name", lang),
                    t("position", lang),
                    t("role", lang),
                    t("agency", lang),
                    t("unit", lang),
                ],
                [
                    (r["username"], r["name"], r["position"], role(r["role"]), r["agency"], r["unit"] or "")
                    for r in rows
                ],
            )
        ),
    )
