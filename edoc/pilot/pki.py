"""Demo step: the pilot's CA, and certificates for its signers, clerks and agency seals.

Demo passphrases: a demo home gets ``<home>/demo-passphrases.toml`` (``[passphrases]`` with one
``default``), written here, mode 0600. Every demo key (CA, TSA, OCSP, users, seals) is sealed
under it. In a demo home only (``office.demo = true``), the CLI uses that file when no
``--passphrase-file``/``EDOC_PASSPHRASE_FILE`` is given, and says so on stderr. It is *not* a
secret: demo homes are for showing edoc, never for real letters.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from edoc.directory import Role
from edoc.errors import Conflict
from edoc.office import Office
from edoc.pilot import names
from edoc.pki.keys import passphrases_from_file
from edoc.pki.model import CertificateRequest, agency_owner

if TYPE_CHECKING:
    from edoc.pilot import DemoOptions, StepResult

DEMO_PASSPHRASES = "demo-passphrases.toml"
"""File name, in the demo home, of the demo's passphrases."""
DEMO_PASSPHRASE = "demo-only-not-secret"
"""The passphrase of every key in a demo home (printed in the demo's output on purpose)."""

SIGNING_ROLES = (Role.EXECUTIVE, Role.HEAD, Role.CLERK)
"""Who gets a certificate in every agency: signers (executives sign, heads initial) and clerks
(receipts, registers). Officers of the pilot agencies get one too, to initial their drafts."""


def write_demo_passphrases(office: Office) -> str:
    """Write ``<home>/demo-passphrases.toml`` (demo homes only) and use it; return its path."""
    if not office.settings.office.demo:
        raise Conflict(f"{office.home} is not a demo home: demo passphrases are refused")
    path = office.home / DEMO_PASSPHRASES
    text = (
        "# edoc demo home: the passphrase of every key here. NOT A SECRET: demo homes only.\n"
        "# The CLI uses this file in a demo home when no --passphrase-file is given.\n"
        "[passphrases]\n"
        f'default = "{DEMO_PASSPHRASE}"\n'
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    office.use_passphrases(passphrases_from_file(path))
    return str(path)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for the demo's ``pki serve``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_pki(office: Office, options: DemoOptions, progress: Callable[[str, int, int], None]) -> StepResult:
    from edoc.pilot import StepResult

    passphrase_file = write_demo_passphrases(office)
    ca = office.pki_init(organisation="เทศบาลเมืองปากช่อง", base_url=f"http://127.0.0.1:{free_port()}")
    pilot_codes = {a.code for a in names.PILOT_AGENCIES}
    users = [
        u
        for u in office.list_users()
        if u.active and (u.role in SIGNING_ROLES or (u.role is Role.OFFICER and u.agency in pilot_codes))
    ]
    requests = [CertificateRequest(u.username) for u in users]
    requests += [CertificateRequest(agency_owner(a.code)) for a in office.list_agencies()]
    issued = office.issue_certificates(requests, progress=lambda done, total: progress("certificates", done, total))
    signer = next((u.username for u in users if u.username == "pc.mayor"), users[0].username if users else None)
    chain_names: list[str] = []
    if signer is not None:
        chain = office.export_chain(signer)
        chain_names = [c.subject.rfc4514_string() for c in chain]
    seals = sum(1 for c in issued if c.owner.startswith("agency:"))
    summary = (
        f"root CA and issuing CA ({ca.root.key_type}), TSA and OCSP; {len(issued) - seals} user and {seals} seal "
        f"certificates; chain of {signer}: " + " ← ".join(chain_names) + f"; demo passphrases (not secret) in "
        f"{passphrase_file}"
    )
    return StepResult(
        "certificates",
        summary,
        details={
            "root": {"subject": ca.root.subject, "serial": ca.root.serial, "fingerprint": ca.root.fingerprint},
            "issuing": {"subject": ca.issuing.subject, "serial": ca.issuing.serial},
            "base_url": ca.base_url,
            "users": len(issued) - seals,
            "seals": seals,
            "chain": chain_names,
            "passphrases": passphrase_file,
        },
    )
