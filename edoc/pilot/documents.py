"""Demo step: one official document of each of the six kinds, drafted in Pak Chong and rendered.

The clerk drafts each document through the facade (``Office.new_document``, one act each,
audited) and renders it (``Office.render_document_result``); the PDFs are written into
``<home>/documents/`` so whoever runs the demo can open them. The step's details list each
document's id, kind, pages and size.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edoc.office import Office

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

DRAFTER = "pc.clerk"
"""Who drafts the demo's documents (the clerk of the mayor's office)."""

DOCUMENTS_DIR = "documents"
"""Folder, in the home, that receives the rendered PDFs."""

CONTACT = {
    "unit": "สำนักปลัดเทศบาล งานธุรการ",
    "phone": "0 4431 1234",
    "fax": "0 4431 1235",
    "email": "saraban@pakchong.go.th",
}

SAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "external",
        {
            "subject": "ขอใช้สถานที่จัดงานวันเด็กแห่งชาติ ประจำปี 2569",
            "to": "นายอำเภอปากช่อง",
            "urgency": "urgent",
            "reference": "หนังสืออำเภอปากช่อง ที่ นม 0318/1234 ลงวันที่ 1 พ.ย. 2569",
            "enclosures": ["กำหนดการและแผนผังการจัดงาน จำนวน 1 ชุด"],
            "body": [
                "ตามที่ อำเภอปากช่องได้แจ้งให้องค์กรปกครองส่วนท้องถิ่นในเขตอำเภอร่วมจัดกิจกรรมวันเด็กแห่งชาติ ประจำปี 2569 นั้น",
                "เทศบาลเมืองปากช่องพิจารณาแล้ว เห็นควรจัดงานวันเด็กแห่งชาติ ในวันเสาร์ที่ 9 มกราคม 2570 "
                "ณ หอประชุมอำเภอปากช่อง รายละเอียดตามสิ่งที่ส่งมาด้วย",
                "จึงเรียนมาเพื่อโปรดพิจารณาให้ความอนุเคราะห์ด้วย จะขอบคุณยิ่ง",
            ],
            "contact": CONTACT,
            "signer": "pc.mayor",
        },
    ),
    (
        "internal",
        {
            "subject": "รายงานผลการจัดซื้อวัสดุสำนักงาน ประจำเดือนตุลาคม 2569",
            "to": "นายกเทศมนตรีเมืองปากช่อง",
            "body": [
                "ด้วยสำนักปลัดเทศบาลได้ดำเนินการจัดซื้อวัสดุสำนักงานตามแผนการจัดซื้อจัดจ้าง ประจำปีงบประมาณ 2570 "
                "เป็นเงินทั้งสิ้น 48,500 บาท (สี่หมื่นแปดพันห้าร้อยบาทถ้วน) เสร็จเรียบร้อยแล้ว",
                "จึงเรียนมาเพื่อโปรดทราบ",
            ],
            "signer": "pc.head.office",
        },
    ),
    (
        "stamped",
        {
            "subject": "ส่งสำเนาประกาศผลการคัดเลือกพนักงานจ้าง",
            "to": "อำเภอปากช่อง",
            "body": [
                "เทศบาลเมืองปากช่องขอส่งสำเนาประกาศผลการคัดเลือกพนักงานจ้างทั่วไป มาเพื่อโปรดทราบและประชาสัมพันธ์ให้ผู้เกี่ยวข้องทราบต่อไป"
            ],
            "signer": "pc.head.office",
        },
    ),
    (
        "directive",
        {
            "form": "order",
            "subject": "แต่งตั้งคณะกรรมการจัดงานวันเด็กแห่งชาติ ประจำปี 2569",
            "body": [
                "เพื่อให้การจัดงานวันเด็กแห่งชาติ ประจำปี 2569 เป็นไปด้วยความเรียบร้อยและบรรลุวัตถุประสงค์ "
                "อาศัยอำนาจตามมาตรา 48 เตรส แห่งพระราชบัญญัติเทศบาล พ.ศ. 2496 จึงแต่งตั้งคณะกรรมการดังต่อไปนี้",
                "1. ปลัดเทศบาล เป็นประธานกรรมการ 2. หัวหน้าสำนักปลัดเทศบาล เป็นกรรมการ "
                "3. ผู้อำนวยการกองช่าง เป็นกรรมการ 4. นักจัดการงานทั่วไปชำนาญการ เป็นกรรมการและเลขานุการ",
            ],
            "effective": "ตั้งแต่บัดนี้เป็นต้นไป",
            "signer": "pc.mayor",
        },
    ),
    (
        "publicity",
        {
            "form": "announcement",
            "subject": "รับสมัครบุคคลเพื่อสรรหาและเลือกสรรเป็นพนักงานจ้างทั่วไป",
            "body": [
                "ด้วยเทศบาลเมืองปากช่องมีความประสงค์จะรับสมัครบุคคลเพื่อสรรหาและเลือกสรรเป็นพนักงานจ้างทั่วไป "
                "ตำแหน่งคนงาน จำนวน 2 อัตรา ผู้สนใจสมัครได้ที่สำนักปลัดเทศบาล ตั้งแต่วันที่ 1 ถึง 15 ธันวาคม 2569 "
                "ในวันและเวลาราชการ",
            ],
            "signer": "pc.mayor",
        },
    ),
    (
        "record",
        {
            "form": "minutes",
            "subject": "การเตรียมการจัดงานวันเด็กแห่งชาติ",
            "meeting": "คณะกรรมการจัดงานวันเด็กแห่งชาติ ประจำปี 2569",
            "session_no": "1/2569",
            "held_on": "2026-11-20",
            "place": "ห้องประชุมสำนักงานเทศบาลเมืองปากช่อง",
            "present": [
                {"name": "นายวิชัย มั่นคง", "position": "หัวหน้าสำนักปลัดเทศบาล"},
                {"name": "นายธนพล แก้วมณี", "position": "ผู้อำนวยการกองช่าง"},
            ],
            "absent": [{"name": "นางกมลวรรณ ทองดี", "position": "ผู้อำนวยการกองคลัง", "remark": "ไปราชการ"}],
            "started_at": "09:30",
            "ended_at": "11:00",
            "body": [
                "ระเบียบวาระที่ 1 เรื่องที่ประธานแจ้งให้ที่ประชุมทราบ ประธานแจ้งกำหนดการจัดงานและงบประมาณที่ได้รับอนุมัติ",
                "ระเบียบวาระที่ 2 การแบ่งหน้าที่รับผิดชอบ ที่ประชุมมีมติมอบหมายกองช่างจัดเตรียมสถานที่ และสำนักปลัดเทศบาลจัดเตรียมของรางวัล",
            ],
            "signer": "pc.officer",
        },
    ),
)
"""One realistic document of each of the six kinds, as a clerk would write its file."""


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsynced, then renamed into place."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def create_documents(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    """Draft and render one document of each kind; write the PDFs into ``<home>/documents``."""
    from edoc.pilot import StepResult

    folder = office.home / DOCUMENTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for i, (kind, fields) in enumerate(SAMPLES):
        doc_id = office.new_document(kind, fields, as_user=DRAFTER)
        result = office.render_document_result(doc_id, as_user=DRAFTER)
        form = fields.get("form")
        name = f"{doc_id:04d}-{kind}{'-' + form if form else ''}.pdf"
        _write(folder / name, result.pdf)
        rows.append(
            {"id": doc_id, "kind": kind, "form": form, "pages": result.pages, "bytes": len(result.pdf), "file": name}
        )
        progress("documents", i + 1, len(SAMPLES))
    listing = ", ".join(f"#{r['id']} {r['kind']} {r['pages']} p {r['bytes'] // 1024} KiB" for r in rows)
    return StepResult(
        "documents",
        f"{len(rows)} documents drafted by {DRAFTER} and rendered into {folder}: {listing}",
        details={"folder": str(folder), "documents": rows},
    )
