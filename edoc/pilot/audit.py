"""Demo step, the last one: make the office's audit key, sign a checkpoint of everything the
demo did, verify the whole log, and show the checkpoint an auditor would be given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edoc.errors import Conflict
from edoc.office import Office

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, Progress, StepResult

DEMO_AUDIT_PASSPHRASE = b"edoc-demo-audit-key"
"""The demo home's audit passphrase (published on purpose: a demo home protects nothing)."""


def verify_audit_log(office: Office, options: DemoOptions, progress: Progress) -> StepResult:
    from edoc.pilot import StepResult

    if not office.settings.office.demo:
        raise Conflict("the demo's audit key is only made in a demo home")
    progress("audit", 0, 3)
    key = office.create_audit_key("ed25519", passphrase=DEMO_AUDIT_PASSPHRASE)  # signs the first checkpoint
    progress("audit", 1, 3)
    report = office.verify_audit_log()
    progress("audit", 2, 3)
    cp = report.latest
    if not report.ok or cp is None:
        problems = "; ".join(p.message() for p in report.problems[:3]) or "no checkpoint"
        raise Conflict(f"the demo's audit log does not verify: {problems}")
    progress("audit", 3, 3)
    summary = (
        f"log intact: {report.events} events, {report.signatures} actor signatures; "
        f"checkpoint {cp.size} at {cp.at:%Y-%m-%d %H:%M:%S} UTC, root {cp.root.hex()}, key {key.key_id[:16]}"
    )
    return StepResult(
        "audit",
        summary,
        details={
            "events": report.events,
            "actor_signatures": report.signatures,
            "checkpoint": cp.to_json(),
            "audit_key": key.public_pem,
            "audit_passphrase": DEMO_AUDIT_PASSPHRASE.decode(),
        },
    )
