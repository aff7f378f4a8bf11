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
    "serial": ("Serial", "หมายเลข"),
    "owner": ("Owner", "เจ้าของ"),
    "key": ("Key", "กุญแจ"),
    "valid_until": ("Valid until", "ใช้ได้ถึง"),
    "status": ("Status", "สถานะ"),
    "label": ("Label", "ชื่อเรียก"),
    "source": ("Source", "ที่มา"),
    "certificates": ("Certificates", "ใบรับรอง"),
    "issued": ("Issued", "ออกใบรับรองแล้ว"),
    "issuing": ("Issuing certificates", "กำลังออกใบรับรอง"),
    "revoked": ("revoked", "ถูกเพิกถอน"),
    "revoked_title": ("Revoked", "เพิกถอนแล้ว"),
    "next_update": ("next update", "ฉบับถัดไป"),
    "crl_later": (
        "The CA keys are not here: the CRL lists this after the next 'edoc pki crl' on the CA's host "
        "(OCSP already does).",
        "ไม่มีกุญแจของผู้ออกใบรับรองที่นี่: CRL จะแสดงรายการนี้เมื่อเรียก 'edoc pki crl' ที่เครื่องของผู้ออกใบรับรอง (OCSP แสดงแล้ว)",
    ),
    "pki_ready": ("CA ready (keys in {path})", "ผู้ออกใบรับรองพร้อมใช้งาน (กุญแจอยู่ที่ {path})"),
    "pki_status": ("The office's CA, published at {url}", "ผู้ออกใบรับรองของสำนักงาน เผยแพร่ที่ {url}"),
    "serving": (
        "serving CRL, OCSP and time-stamps at {url} (Ctrl-C to stop)",
        "ให้บริการ CRL, OCSP และการประทับเวลาที่ {url} (กด Ctrl-C เพื่อหยุด)",
    ),
    "trust_list": ("Trusted roots", "รายการผู้ออกใบรับรองหลักที่เชื่อถือ"),

    # signing (issue 5)

    # verification (issue 6)
    "verify_TOTAL-PASSED": ("valid", "ถูกต้อง"),
    "verify_TOTAL-FAILED": ("not valid", "ไม่ถูกต้อง"),
    "verify_INDETERMINATE": ("cannot be confirmed", "ยังยืนยันไม่ได้"),
    "verify_no": ("#", "ลำดับ"),
    "verify_field": ("Field", "ช่องลายมือชื่อ"),
    "verify_signer": ("Signer", "ผู้ลงนาม"),
    "verify_time": ("Time", "เวลา"),
    "verify_level": ("Level", "ระดับ"),
    "verify_checks": ("Checks", "ผลการตรวจ"),
    "verify_verdict": ("Verdict", "ผลสรุป"),
    "verify_doc_timestamp": ("document time-stamp", "การประทับเวลาเอกสาร"),
    "verify_timestamped": ("time-stamped", "ประทับเวลาแล้ว"),
    "verify_claimed": ("claimed by signer", "ตามที่ผู้ลงนามระบุ"),
    "verify_intact": ("content intact", "เนื้อหาครบถ้วน"),
    "verify_trusted": ("chain to trusted root", "ต่อถึงใบรับรองหลักที่เชื่อถือ"),
    "verify_revocation": ("revocation", "การเพิกถอน"),
    "verify_changes": ("changes after", "การแก้ไขภายหลัง"),
    "verify_visual": ("looks as signed", "หน้าตาเหมือนขณะลงนาม"),
    "verify_summary": ("{files} files in {seconds} s:", "{files} ไฟล์ ใช้เวลา {seconds} วินาที:"),
    "verify_report_written": ("report written to {path}", "บันทึกรายงานไว้ที่ {path}"),

    # registers (issue 7)

    # routing (issue 8)

    # audit (issue 9)
    "audit_title": ("Audit log", "บันทึกตรวจสอบ"),
    "audit_ok": ("OK: the log is intact", "ผ่าน: บันทึกครบถ้วนไม่ถูกแก้ไข"),
    "audit_failed": ("FAILED: the log was changed", "ไม่ผ่าน: บันทึกถูกแก้ไข"),
    "audit_verdict": ("Verdict", "ผลการตรวจ"),
    "audit_source": ("Checked", "แหล่งที่ตรวจ"),
    "audit_events": ("Events", "จำนวนเหตุการณ์"),
    "audit_root": ("Root hash", "ค่าแฮชราก"),
    "audit_checkpoints": ("Checkpoints (good/all)", "จุดตรวจ (ถูกต้อง/ทั้งหมด)"),
    "audit_latest": ("Newest good checkpoint", "จุดตรวจล่าสุดที่ถูกต้อง"),
    "audit_signatures": ("Actors' signatures (good/all)", "ลายมือชื่อผู้กระทำ (ถูกต้อง/ทั้งหมด)"),
    "audit_witnesses": ("Witnesses (good/all)", "พยานรับรอง (ถูกต้อง/ทั้งหมด)"),
    "audit_timestamps": ("Time-stamps (good/all)", "ตราประทับเวลา (ถูกต้อง/ทั้งหมด)"),
    "audit_tsa_time": ("Time-stamped", "ประทับเวลาเมื่อ"),
    "audit_timestamped": (
        "Checkpoint {size} time-stamped by {tsa} at {time}",
        "จุดตรวจ {size} ประทับเวลาโดย {tsa} เมื่อ {time}",
    ),
    "audit_timestamp_kept": ("it was stamped before", "ประทับเวลาไว้ก่อนแล้ว"),
    "audit_outside": ("Checkpoints from outside", "จุดตรวจจากภายนอก"),
    "audit_uncovered": ("Events not yet under a checkpoint", "เหตุการณ์ที่ยังไม่มีจุดตรวจครอบคลุม"),
    "audit_first_bad": ("First bad event", "เหตุการณ์แรกที่ผิดปกติ"),
    "audit_problems": ("Problems", "ความผิดปกติ"),
    "audit_kind": ("Kind", "ประเภท"),
    "audit_event": ("Event", "เหตุการณ์"),
    "audit_message": ("What is wrong", "รายละเอียด"),
    "audit_more_problems": (
        "... and {n} more problems (see --json for counts)",
        "... และอีก {n} รายการ (ดูจำนวนด้วย --json)",
    ),
    "audit_exported": (
        "Exported {n} events to {out} (newest checkpoint covers {cp})",
        "ส่งออก {n} เหตุการณ์ไปที่ {out} (จุดตรวจล่าสุดครอบคลุม {cp})",
    ),
    "audit_export_uncovered": (
        "{n} events after the newest checkpoint are not signed for: run 'edoc audit checkpoint' first",
        "{n} เหตุการณ์หลังจุดตรวจล่าสุดยังไม่ได้ลงนาม: ให้เรียก 'edoc audit checkpoint' ก่อน",
    ),
    "audit_leaf_hash": ("Leaf hash", "ค่าแฮชของเหตุการณ์"),
    "audit_tree_size": ("Tree size", "ขนาดต้นไม้"),
    "audit_checkpoint": ("Checkpoint", "จุดตรวจ"),
    "audit_unsigned": (
        "none yet: proved against the current, unsigned head",
        "ยังไม่มี: พิสูจน์กับส่วนหัวปัจจุบันที่ยังไม่ลงนาม",
    ),
    "audit_path_length": ("Hashes in the proof", "จำนวนค่าแฮชในการพิสูจน์"),
    "audit_proof_title": ("Inclusion proof", "การพิสูจน์ว่าเหตุการณ์อยู่ในบันทึก"),
    "audit_consistency_title": ("Consistency proof", "การพิสูจน์ความต่อเนื่องของบันทึก"),
    "audit_old": ("Older tree", "ต้นไม้เดิม"),
    "audit_new": ("Newer tree", "ต้นไม้ใหม่"),
    "audit_key": ("Audit key", "กุญแจตรวจสอบ"),
    "audit_unchanged": ("no new events since", "ไม่มีเหตุการณ์ใหม่"),
    "audit_witnessed": ("{agency} countersigned checkpoint {size}", "{agency} ลงนามรับรองจุดตรวจ {size} แล้ว"),
    "audit_proof_ok": (
        "OK: event {seq} is in the log of {size} events signed by the audit key",
        "ผ่าน: เหตุการณ์ {seq} อยู่ในบันทึก {size} เหตุการณ์ที่ลงนามด้วยกุญแจตรวจสอบ",
    ),
    "audit_proof_bad": ("FAILED: {why}", "ไม่ผ่าน: {why}"),
    "audit_key_created": (
        "Audit key {key_id} made; the log is named {origin}. Give auditors 'edoc audit key export'.",
        "สร้างกุญแจตรวจสอบ {key_id} แล้ว ชื่อบันทึกคือ {origin} ให้ผู้ตรวจสอบใช้ 'edoc audit key export'",
    ),
    "audit_history": ("History of document", "ประวัติของหนังสือ"),
    "audit_actor": ("Who", "ผู้กระทำ"),
    "audit_act": ("Act", "การกระทำ"),
    "audit_details": ("Details", "รายละเอียด"),
    "audit_signed_by": ("Signed (certificate)", "ลงนาม (ใบรับรอง)"),
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
