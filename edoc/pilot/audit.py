"""Demo step, the last one: make the office's audit key, have the province countersign a
checkpoint as a witness, sign a checkpoint of everything the demo did, verify the whole log,
and show the checkpoint an auditor would be given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edoc.errors import Conflict, EdocError, PassphraseRequired
from edoc.office import Office
from edoc.pilot import names

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, Progress, StepResult

DEMO_AUDIT_PASSPHRASE = b"demo-only-not-secret"
"""Used when the demo's passphrase file (written by the certificates step) is not in use."""


def verify_audit_log(office: Office, options: DemoOptions, progress: Progress) -> StepResult:
    from edoc.pilot import StepResult

    if not office.settings.office.demo:
        raise Conflict("the demo's audit key is only made in a demo home")
    progress("audit", 0, 4)
    try:
        office.keyring.passphrases.get("audit")
        passphrase = None  # the demo's passphrase file answers for the audit key too
    except PassphraseRequired:
        passphrase = DEMO_AUDIT_PASSPHRASE
    key = office.create_audit_key("ed25519", passphrase=passphrase)  # signs the first checkpoint
    progress("audit", 1, 4)
    witness = ""
    agencies = {a.code for a in office.list_agencies()}
    if names.PROVINCE in agencies:
        try:
            cs = office.witness_checkpoint(names.PROVINCE)
            witness = f"; {cs.agency} countersigned checkpoint {cs.size} with its seal"
        except EdocError as exc:  # no seal certificate (certificates step left out): say so
            witness = f"; no witness ({exc.message('en')})"
    progress("audit", 2, 4)
    if passphrase is None:
        office.audit_checkpoint()  # covers the witness's own event
    report = office.verify_audit_log()
    progress("audit", 3, 4)
    cp = report.latest
    if not report.ok or cp is None:
        problems = "; ".join(p.message() for p in report.problems[:3]) or "no checkpoint"
        raise Conflict(f"the demo's audit log does not verify: {problems}")
    progress("audit", 4, 4)
    summary = (
        f"log intact: {report.events} events, {report.signatures} actor signatures, "
        f"{report.witnesses} witness countersignatures{witness}; newest checkpoint {cp.size} at "
        f"{cp.at:%Y-%m-%d %H:%M:%S} UTC, root {cp.root.hex()}, audit key {key.key_id[:16]}"
    )
    return StepResult(
        "audit",
        summary,
        details={
            "events": report.events,
            "actor_signatures": report.signatures,
            "witnesses": report.witnesses,
            "uncovered_events": report.uncovered,
            "checkpoint": cp.to_json(),
            "audit_key": key.public_pem,
        },
    )
