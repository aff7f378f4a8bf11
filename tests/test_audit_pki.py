"""The audit log with the pilot's own PKI: events signed through ``Office._event_signer``,
witnesses signing with agency seals, certificates that belong to someone else, revocation."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from edoc.audit.bundle import verify_bundle
from edoc.audit.verify import ProblemKind
from edoc.errors import CertificateRevoked
from edoc.office import Office
from tests.fixtures_pki import pki_office
from tests.test_audit_log import legal_act

__all__ = ["pki_office"]  # fixture used by name


def test_events_and_witnesses_signed_with_the_pilots_certificates(pki_office: Office, tmp_path: Path) -> None:
    office = pki_office
    office.issue_certificate("pc.mayor")
    office.issue_certificate("pc.clerk")
    office.issue_certificate(agency="NMA-PROV")
    office.create_audit_key()
    legal_act(office, "doc.sign", "pc.mayor", office._event_signer("pc.mayor"))
    # a bare signing function (the PKI's identity.signer()) works too: the certificate comes
    # from the office's certificate register
    legal_act(office, "doc.send", "pc.clerk", office.signing_identity("pc.clerk").signer())
    office.audit_checkpoint()
    cosig = office.witness_checkpoint("NMA-PROV")
    office.audit_checkpoint()
    report = office.verify_audit_log()  # trust: the office's own trust list (the pilot root)
    assert report.ok, [p.message() for p in report.problems]
    assert (report.signatures_ok, report.witnesses_ok) == (2, 1)
    assert cosig.agency == "NMA-PROV"
    root = tmp_path / "root.pem"
    root.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in office.trust_roots()))
    key = tmp_path / "audit.pem"
    key.write_text(office.audit_key().public_pem)
    office.export_audit_log(tmp_path / "bundle")
    from edoc.audit.bundle import load_roots

    offline = verify_bundle(tmp_path / "bundle", key, trust=load_roots([root]))
    assert offline.ok, [p.message() for p in offline.problems]
    assert offline.signatures_ok == 2 and offline.witnesses_ok == 1

    # the clerk's own valid key, signing an event that claims the mayor acted
    legal_act(office, "doc.sign", "pc.mayor", office._event_signer("pc.clerk"))
    report = office.verify_audit_log()
    assert not report.ok
    bad = next(p for p in report.problems if p.kind is ProblemKind.ACTOR_CERTIFICATE)
    assert "belongs to pc.clerk, not to the actor pc.mayor" in bad.message()
    assert report.first_bad_event == bad.seq

    # a revoked certificate cannot sign an event any more
    office.revoke("pc.clerk", "keyCompromise")
    with pytest.raises(CertificateRevoked):
        office._event_signer("pc.clerk")
