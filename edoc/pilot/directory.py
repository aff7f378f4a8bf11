"""Demo step: the pilot's directory, from six agencies up to a whole province."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from edoc.directory import Agency, Role, Unit, User
from edoc.office import Office
from edoc.pilot import names

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

TAMBONS: tuple[str, ...] = (
    "หนองบัว",
    "โคกสูง",
    "ดอนแขวน",
    "บ้านใหม่",
    "หนองน้ำใส",
    "ท่าช้าง",
    "มะค่า",
    "สารภี",
    "โพธิ์กลาง",
    "จอหอ",
    "หัวทะเล",
    "หนองไผ่ล้อม",
    "บ้านเกาะ",
    "พลกรัง",
    "หนองจะบก",
    "มะเริง",
    "หนองกระทุ่ม",
    "ไชยมงคล",
    "พะเนา",
    "บ้านโพธิ์",
    "หมื่นไวย",
    "ปรุใหญ่",
    "จันทึก",
    "กลางดง",
    "หมูสี",
    "ขนงพระ",
    "โป่งตาลอง",
    "คลองม่วง",
    "วังกะทะ",
    "พญาเย็น",
    "วังไทร",
    "หนองน้ำแดง",
    "ลาดบัวขาว",
    "ตะคุ",
)
KINDS: tuple[tuple[str, str], ...] = (
    ("องค์การบริหารส่วนตำบล", "SAO"),
    ("เทศบาลตำบล", "MUN"),
    ("โรงเรียนบ้าน", "SCH"),
    ("โรงพยาบาลส่งเสริมสุขภาพตำบล", "HPH"),
)
UNITS: tuple[tuple[str, str], ...] = (("OFFICE", "สำนักปลัด"), ("FINANCE", "กองคลัง"))


def province_agencies(total: int) -> list[tuple[Agency, tuple[tuple[str, str], ...]]]:
    """The pilot's agencies, then generated ones up to ``total``: districts first, then local
    agencies spread over the districts. Deterministic."""
    out: list[tuple[Agency, tuple[tuple[str, str], ...]]] = [
        (Agency(a.code, a.name, a.letter_code, a.address, a.parent), a.units) for a in names.PILOT_AGENCIES
    ]
    if total <= len(out):
        return out[: max(total, 1)] if total < len(out) else out
    districts = [names.DISTRICT]
    n = 0
    for i, district in enumerate(names.DISTRICTS):
        if len(out) >= total:
            break
        if district == "ปากช่อง":
            continue
        code = f"NMA-D{i + 1:02d}"
        out.append(
            (
                Agency(
                    code,
                    f"อำเภอ{district}",
                    f"นม {318 + i + 1:04d}",
                    f"ที่ว่าการอำเภอ{district} จังหวัดนครราชสีมา",
                    names.PROVINCE,
                ),
                (("ADMIN", "ฝ่ายบริหารงานปกครอง"),),
            )
        )
        districts.append(code)
    district_names = dict(zip(districts, ["ปากช่อง", *[d for d in names.DISTRICTS if d != "ปากช่อง"]], strict=False))
    while len(out) < total:
        district = districts[n % len(districts)]
        kind_name, kind_code = KINDS[n % len(KINDS)]
        tambon = TAMBONS[(n // len(KINDS)) % len(TAMBONS)]
        dname = district_names.get(district, "")
        code = f"NMA-{kind_code}{n + 1:04d}"
        out.append(
            (
                Agency(
                    code,
                    f"{kind_name}{tambon} อำเภอ{dname}",
                    f"นม {72000 + n + 1}",
                    f"ตำบล{tambon} อำเภอ{dname} จังหวัดนครราชสีมา",
                    district,
                ),
                UNITS,
            )
        )
        n += 1
    return out


def province_users(agencies: list[tuple[Agency, tuple[tuple[str, str], ...]]], total: int) -> list[User]:
    """The pilot's named users, then generated ones up to ``total``: every generated agency
    first gets an executive, a clerk and a head, then officers. Deterministic."""
    codes = {a.code for a, _ in agencies}
    users = [
        User(u.username, u.agency, u.name, u.position, Role(u.role), u.unit)
        for u in names.PILOT_USERS
        if u.agency in codes
    ][:total]
    generated = [(a, units) for a, units in agencies if a.code not in {p.code for p in names.PILOT_AGENCIES}]
    if not generated:
        generated = agencies
    cycle = ("executive", "clerk", "head", "officer", "officer", "clerk", "officer", "auditor")
    i = 0
    while len(users) < total:
        agency, units = generated[i % len(generated)]
        round_ = i // len(generated)
        role = cycle[round_ % len(cycle)] if round_ < len(cycle) else "officer"
        first = names.FIRST_NAMES[(i * 7) % len(names.FIRST_NAMES)]
        last = names.LAST_NAMES[(i * 11 + round_) % len(names.LAST_NAMES)]
        title = "นาย" if (i % 3) else "นางสาว"
        positions = names.POSITIONS[role]
        position = positions[i % len(positions)]
        if role == "executive":
            position = f"หัวหน้า{agency.name}"
        unit = units[round_ % len(units)][0] if units and role in ("clerk", "head", "officer") else None
        users.append(
            User(
                username=f"{agency.code.lower()}.u{round_ + 1:04d}",
                agency=agency.code,
                full_name=f"{title}{first} {last}",
                position=position,
                role=Role(role),
                unit=unit,
            )
        )
        i += 1
    return users


def build_directory(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    from edoc.pilot import StepResult

    agencies = province_agencies(options.agencies)
    users = province_users(agencies, options.users)
    batch = 200
    total_agencies = len(agencies)
    for start in range(0, total_agencies, batch):
        office.add_agencies([a for a, _ in agencies[start : start + batch]])
        progress("agencies", min(start + batch, total_agencies), total_agencies)
    all_units = [Unit(a.code, code, name) for a, units in agencies for code, name in units]
    for start in range(0, len(all_units), 500):
        office.add_units(all_units[start : start + 500])
    unit_count = len(all_units)
    progress("units", unit_count, unit_count)
    for start in range(0, len(users), 1000):
        office.add_users(users[start : start + 1000])
        progress("users", min(start + 1000, len(users)), len(users))
    return StepResult(
        "directory",
        f"{total_agencies} agencies, {unit_count} units, {len(users)} users",
        details={
            "agencies": total_agencies,
            "units": unit_count,
            "users": len(users),
            "pilot": [a.code for a, _ in agencies[: len(names.PILOT_AGENCIES)]],
        },
    )
