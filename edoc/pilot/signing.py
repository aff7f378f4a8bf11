"""Demo step (issue 5): a letter drafted, initialled on the way up, signed by the mayor (B-LT),
exported, and each of its signatures described as a verifier sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edoc.office import Office

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

LETTER = {
    "subject": "ขอเชิญประชุมคณะกรรมการพัฒนาเทศบาลเมืองปากช่อง",
    "to": "นายอำเภอปากช่อง",
    "body": [
        "ด้วยเทศบาลเมืองปากช่องกำหนดประชุมคณะกรรมการพัฒนาเทศบาล ครั้งที่ ๔/๒๕๖๙ เพื่อพิจารณาแผนพัฒนาท้องถิ่น",
        "จึงเรียนมาเพื่อโปรดเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว",
    ],
    "signer": "pc.mayor",
    "initials": ["pc.head.office", "pc.head.fin"],
}
"""The demo's letter: drafted by pc.officer, initialled by two heads, signed by the mayor."""

STEPS = (("pc.officer", "B-LT"), ("pc.head.office", "B-LT"), ("pc.head.fin", "B-LT"), ("pc.mayor", "B-LT"))
"""Who signs, in order, and at which level."""


def sign_letter(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    from edoc.pilot import StepResult
    from edoc.signing.verify import verify_pdf

    present = {u.username for u in office.list_users("PAKCHONG")}
    needed = {user for user, _ in STEPS} | {"pc.clerk"}
    if not needed <= present:
        missing = ", ".join(sorted(needed - present))
        return StepResult("signing", f"skipped: the directory has no {missing}", details={"skipped": True})
    doc = office.new_document("external", dict(LETTER), as_user="pc.officer")
    signed: list[Any] = []
    with office.pki_server():  # the TSA, OCSP and CRLs the levels need
        for i, (user, level) in enumerate(STEPS):
            signed.append(office.sign_document(doc, as_user=user, level=level))
            progress("signatures", i + 1, len(STEPS))
    pdf = office.export_document(doc, as_user="pc.clerk")
    folder = office.home / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"signed-letter-{doc}.pdf"
    out.write_bytes(pdf)
    # what a verifier sees, offline, with only the file and the root
    report = verify_pdf(pdf, trust=office.trust_roots())
    by_field = {s.field: s for s in signed}
    described = []
    for sig in report.signatures:
        s = by_field.get(sig.field)
        if s is None:
            continue
        described.append(
            {
                "field": sig.field,
                "signer": sig.signer.name,
                "as": s.role.value,
                "level": sig.level.value,
                "timestamp": sig.timestamp.isoformat() if sig.timestamp else None,
                "trusted": sig.trusted,
                "modifications_after": sig.modifications_after.value,
                "indication": sig.indication.value,
            }
        )
    lines = "; ".join(f"{d['field']} ({d['as']}) {d['signer']} {d['level']} {d['indication']}" for d in described)
    summary = (
        f"letter {doc} ({signed[0].number}) drafted by pc.officer, initialled by pc.head.office and "
        f"pc.head.fin, signed by pc.mayor; {out} ({len(pdf):,} B) verified offline: "
        f"{report.indication.value}: {lines}"
    )
    return StepResult(
        "signing",
        summary,
        details={
            "id": doc,
            "number": signed[0].number,
            "file": str(out),
            "bytes": len(pdf),
            "indication": report.indication.value,
            "signatures": described,
        },
    )
