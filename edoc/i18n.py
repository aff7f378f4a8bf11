"""Thai and English words for what edoc shows people: column headings, labels, short phrases.

Error messages live with their error classes (:mod:`edoc.errors`); this module holds the rest.
``t("agency", "th")`` gives ``"หน่วยงาน"``; an unknown key is returned as is, so a missing
translation shows English-ish text rather than failing.
"""

from __future__ import annotations

import os

LANGS = ("th", "en")

_WORDS: dict[str, tuple[str, str]] = {
    # key: (english, thai)
    "agency": ("Agency", "หน่วยงาน"),
    "agencies": ("Agencies", "หน่วยงาน"),
    "code": ("Code", "รหัส"),
    "name": ("Name", "ชื่อ"),
    "letter_code": ("Letter code", "รหัสหนังสือ"),
    "parent": ("Parent", "หน่วยงานต้นสังกัด"),
    "address": ("Address", "ที่อยู่"),
    "unit": ("Unit", "หน่วยย่อย"),
    "units": ("Units", "หน่วยย่อย"),
    "user": ("User", "ผู้ใช้"),
    "users": ("Users", "ผู้ใช้"),
    "username": ("Username", "ชื่อผู้ใช้"),
    "full_name": ("Full name", "ชื่อ-นามสกุล"),
    "position": ("Position", "ตำแหน่ง"),
    "role": ("Role", "บทบาท"),
    "id": ("ID", "รหัส"),
    "kind": ("Kind", "ชนิด"),
    "state": ("State", "สถานะ"),
    "subject": ("Subject", "เรื่อง"),
    "number": ("Number", "ที่"),
    "date": ("Date", "วันที่"),
    "from": ("From", "จาก"),
    "to": ("To", "ถึง"),
    "urgency": ("Urgency", "ชั้นความเร็ว"),
    "secrecy": ("Secrecy", "ชั้นความลับ"),
    "due": ("Due", "กำหนดเสร็จ"),
    "created": ("Created", "สร้างแล้ว"),
    "initialised": (
        "Office ready at {home} (database {db}, schema {rev})",
        "สำนักงานพร้อมใช้งานที่ {home} (ฐานข้อมูล {db} รุ่นโครงสร้าง {rev})",
    ),
    "demo_title": ("Pak Chong pilot (demo)", "โครงการนำร่องเทศบาลเมืองปากช่อง (สาธิต)"),
    "count": ("Count", "จำนวน"),
    "seconds": ("Seconds", "วินาที"),
    "step": ("Step", "ขั้นตอน"),
    "result": ("Result", "ผลลัพธ์"),
    # documents (issue 3)
    "document": ("Document", "หนังสือ"),
    "form": ("Form", "แบบ"),
    "origin": ("Origin", "ที่มา"),
    "drafter": ("Drafter", "ผู้ร่าง"),
    "signer": ("Signer", "ผู้ลงนาม"),
    "initials": ("Initials", "ผู้ลงชื่อย่อ"),
    "holder": ("Holder", "ผู้ถือเรื่อง"),
    "attachments": ("Attachments", "ไฟล์แนบ"),
    "body": ("Body", "ข้อความ"),
    "field": ("Field", "ช่อง"),
    "value": ("Value", "ค่า"),
    "pages": ("Pages", "จำนวนหน้า"),
    "stored_pdf": ("Stored PDF (SHA-256)", "PDF ที่จัดเก็บ (SHA-256)"),
    "rendered": ("Wrote {path}: {pages} page(s), {size} bytes", "บันทึก {path} แล้ว: {pages} หน้า {size} ไบต์"),
    "origin_drafted": ("drafted here", "ร่างในหน่วยงาน"),
    "origin_imported": ("imported from outside", "นำเข้าจากภายนอก"),
    "origin_delivered": ("delivered by another agency", "รับจากหน่วยงานอื่น"),

    # pki (issue 4)

    # signing (issue 5)

    # verification (issue 6)

    # registers (issue 7)

    # routing (issue 8)

    # audit (issue 9)
}

ROLE_NAMES: dict[str, tuple[str, str]] = {
    "clerk": ("clerk", "เจ้าหน้าที่สารบรรณ"),
    "officer": ("officer", "เจ้าหน้าที่ผู้ปฏิบัติ"),
    "head": ("head", "หัวหน้าส่วนราชการย่อย"),
    "executive": ("executive", "ผู้บริหาร"),
    "auditor": ("auditor", "ผู้ตรวจสอบ"),
    "admin": ("admin", "ผู้ดูแลระบบ"),
}


def default_lang() -> str:
    """``EDOC_LANG`` if set, else Thai when ``LANG`` starts with ``th``, else English."""
    explicit = os.environ.get("EDOC_LANG", "").strip().lower()
    if explicit in LANGS:
        return explicit
    return "th" if os.environ.get("LANG", "").lower().startswith("th") else "en"


def t(key: str, lang: str, **fields: object) -> str:
    """The word or phrase ``key`` in ``lang``, formatted with ``fields``."""
    pair = _WORDS.get(key)
    text = key if pair is None else pair[1] if lang == "th" else pair[0]
    return text.format(**fields) if fields else text
