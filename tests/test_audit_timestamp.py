"""RFC 3161 time-stamps of audit checkpoints (issue 9, item 2): real tokens from edoc's TSA
(in process, and over HTTP from ``edoc pki serve``), checked offline by edoc and by OpenSSL;
tokens that were tampered with, made over another checkpoint, signed by a TSA under another
root or by a certificate that is not a TSA's, or dated before or long after their checkpoint."""

from __future__ import annotations

import base64
import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tomli_w
from asn1crypto import cms, tsp
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from edoc.audit.bundle import load_roots, verify_bundle
from edoc.audit.checkpoint import Checkpoint, new_audit_key, sign_checkpoint
from edoc.audit.timestamp import MAX_DELAY, imprint, read_token, token_certificates, token_problem
from edoc.audit.verify import ProblemKind
from edoc.errors import SigningServiceUnavailable, TimestampInvalid
from edoc.office import Office, open_office
from edoc.pki.keys import StaticPassphrases
from edoc.pki.tsa import TimeStamper, make_request, read_response
from tests.conftest import invoke
from tests.fixtures_audit import Identity, TestCA
from tests.fixtures_pki import PASSPHRASE, make_pki_home, openssl
from tests.test_audit_log import legal_act

ORIGIN = "edoc.audit/0123456789abcdef"


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA()


@pytest.fixture(scope="module")
def tsa(ca: TestCA) -> Identity:
    return ca.issue_tsa()


def checkpoint(size: int = 5, at: datetime | None = None) -> Checkpoint:
    return sign_checkpoint(new_audit_key(), ORIGIN, size, bytes([size]) * 32, at or datetime.now(UTC))


def stamp(identity: Identity, cp: Checkpoint, at: datetime | None = None) -> bytes:
    """A token from edoc's own TSA code over ``cp``, at time ``at`` (default: the checkpoint's)."""
    stamper = TimeStamper(identity.certificate, identity.key, list(identity.chain))
    answer = read_response(stamper.respond(make_request(imprint(cp), nonce=7), at or cp.at))
    assert answer.status == "granted" and answer.token is not None
    return answer.token


# --- the checker, offline ------------------------------------------------------------------------


def test_good_token_checks_here_and_with_openssl(ca: TestCA, tsa: Identity, tmp_path: Path) -> None:
    cp = checkpoint()
    token = stamp(tsa, cp)
    assert token_problem(token, cp, roots=[ca.root]) is None
    info = read_token(token)
    assert info.imprint == imprint(cp) and info.hash_algorithm == "sha256"
    assert "edoc test TSA" in info.tsa and abs(info.gen_time - cp.at) <= timedelta(seconds=1)
    assert set(token_certificates(token)) == {f"{c.serial_number:x}" for c in (tsa.certificate, ca.issuing)}
    # the same token, checked by OpenSSL from the checkpoint's text alone
    (tmp_path / "cp.txt").write_bytes(cp.text())
    (tmp_path / "token.der").write_bytes(token)
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    # (the token carries the TSA's certificate and its issuer)
    r = openssl(
        "ts", "-verify", "-data", str(tmp_path / "cp.txt"), "-in", str(tmp_path / "token.der"), "-token_in",
        "-CAfile", str(tmp_path / "root.pem"),
    )  # fmt: skip
    assert "Verification: OK" in r.stdout + r.stderr


def test_tampered_tokens_are_refused(ca: TestCA, tsa: Identity) -> None:
    cp = checkpoint()
    token = stamp(tsa, cp)
    # the TSTInfo re-dated by an hour (its digest no longer matches what the TSA signed)
    info = cms.ContentInfo.load(token)
    tst = tsp.TSTInfo.load(bytes(info["content"]["encap_content_info"]["content"]))
    tst["gen_time"] = tst["gen_time"].native + timedelta(hours=1)
    info["content"]["encap_content_info"]["content"] = cms.ParsableOctetString(tst.dump(force=True))
    redated = info.dump(force=True)
    assert read_token(redated).gen_time == read_token(token).gen_time + timedelta(hours=1)
    assert "was altered" in (token_problem(redated, cp, roots=[ca.root]) or "")
    # one byte of the signature changed
    info = cms.ContentInfo.load(token)
    signer = info["content"]["signer_infos"][0]
    signature = bytearray(signer["signature"].native)
    signature[-5] ^= 0x01
    signer["signature"] = bytes(signature)
    why = token_problem(info.dump(force=True), cp, roots=[ca.root])
    assert why is not None and ("signature does not verify" in why or "malformed signature" in why)
    # not a token at all
    assert "is not a time-stamp token" in (token_problem(b"\x30\x03\x02\x01\x01", cp) or "")


def test_token_over_another_checkpoint_is_refused(ca: TestCA, tsa: Identity) -> None:
    first, second = checkpoint(5), checkpoint(6)
    why = token_problem(stamp(tsa, first), second, roots=[ca.root])
    assert why == "was made over other data: its message imprint is not the hash of this checkpoint"


def test_tsa_under_another_root_or_without_the_tsa_usage_is_refused(ca: TestCA, tsa: Identity) -> None:
    cp = checkpoint()
    token = stamp(tsa, cp)
    other = TestCA()
    why = token_problem(token, cp, roots=[other.root])
    assert why is not None and "does not chain to a trusted root" in why
    # a TSA of the other CA is fine for that CA's root, not for ours
    assert token_problem(stamp(other.issue_tsa(), cp), cp, roots=[other.root]) is None
    assert "does not chain" in (token_problem(stamp(other.issue_tsa(), cp), cp, roots=[ca.root]) or "")
    # a certificate for other purposes, or with the usage not critical
    for identity in (
        ca.issue_tsa("not a TSA", usage=ExtendedKeyUsageOID.EMAIL_PROTECTION),
        ca.issue_tsa("lax TSA", critical=False),
        ca.issue("a person's certificate"),
    ):
        why = token_problem(stamp(identity, cp), cp, roots=[ca.root])
        assert why is not None and "is not a time-stamping certificate" in why, why


def test_token_dated_before_or_long_after_its_checkpoint_is_refused(ca: TestCA, tsa: Identity) -> None:
    cp = checkpoint()
    early = token_problem(stamp(tsa, cp, cp.at - timedelta(minutes=10)), cp, roots=[ca.root])
    assert early is not None and "before the checkpoint's own time" in early
    late = token_problem(stamp(tsa, cp, cp.at + MAX_DELAY + timedelta(hours=2)), cp, roots=[ca.root])
    assert late is not None and "does not confirm the checkpoint's time" in late
    assert token_problem(stamp(tsa, cp, cp.at + MAX_DELAY - timedelta(hours=1)), cp, roots=[ca.root]) is None


# --- through the office, with the pilot's TSA over HTTP --------------------------------------------


def _enable_timestamps(home: Path) -> None:
    path = home / "edoc.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("audit", {})["timestamp"] = True
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


@pytest.fixture
def stamped_office(home: Path, db_url: str | None) -> Iterator[Office]:
    """The pilot's office and CA, with ``[audit] timestamp = true``."""
    make_pki_home(home, db_url)
    _enable_timestamps(home)
    with open_office(home, db_url, passphrases=StaticPassphrases(default=PASSPHRASE)) as office:
        yield office


def test_checkpoints_are_stamped_verified_exported_and_checked_offline(
    stamped_office: Office, home: Path, db_url: str | None, tmp_path: Path
) -> None:
    office = stamped_office
    office.issue_certificate("pc.mayor")
    # the TSA is not running: the key and its first checkpoint are made all the same ...
    office.create_audit_key()
    first = office.audit_checkpoints()[-1]
    assert office.audit_timestamp_tokens() == {}
    # ... and asking for a checkpoint says the TSA did not answer (the checkpoint stands)
    legal_act(office, "doc.sign", "pc.mayor", office._event_signer("pc.mayor"))
    with pytest.raises(SigningServiceUnavailable, match="time-stamping authority"):
        office.audit_checkpoint()
    second = office.audit_checkpoints()[-1]
    assert second.size == first.size + 1

    with office.pki_server():
        # both stamped on demand: the newest by default, then the first by size; kept once
        cp, token, created = office.audit_timestamp()
        assert (cp, created) == (second, True)
        assert office.audit_timestamp()[1:] == (token, False)
        db = ["--db", db_url] if db_url else []
        r = invoke(*db, "--passphrase-file", _pw(tmp_path), "audit", "timestamp", str(first.size), "--json", home=home)
        assert r.code == 0, r.stderr
        assert r.json()["size"] == first.size and r.json()["created"]
        # a new checkpoint is stamped as it is made
        legal_act(office, "doc.send", "pc.mayor", office._event_signer("pc.mayor"))
        third, created = office.audit_checkpoint()
        assert created
    tokens = office.audit_timestamp_tokens()
    assert set(tokens) == {first.size, second.size, third.size}
    acts = [e.act for e in office.audit_events()]
    assert acts.count("audit.timestamp") == 2  # the two stamps asked for, each an act in the log
    report = office.verify_audit_log()
    assert report.ok, [p.message() for p in report.problems]
    assert (report.timestamps, report.timestamps_ok) == (3, 3)

    # exported: the tokens with their checkpoints, the TSA's certificate among the certificates
    bundle = tmp_path / "bundle"
    office.export_audit_log(bundle)
    lines = [json.loads(x) for x in (bundle / "checkpoints.jsonl").read_text().splitlines()]
    stamped = {x["size"]: x["timestamp_token"] for x in lines if x["timestamp_token"]}
    assert {s: base64.b64decode(t) for s, t in stamped.items()} == tokens
    tsa_serials = set(token_certificates(tokens[third.size]))
    assert tsa_serials <= {p.stem for p in (bundle / "certs").glob("*.pem")}
    key = tmp_path / "audit.pem"
    key.write_text(office.audit_key().public_pem)
    root = tmp_path / "root.pem"
    root.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in office.trust_roots()))
    offline = verify_bundle(bundle, key, trust=load_roots([root]))
    assert offline.ok and offline.timestamps_ok == 3, [p.message() for p in offline.problems]
    r = invoke("audit", "verify", "--bundle", str(bundle), "--key", str(key), "--trust", str(root), "--json")
    assert r.code == 0 and r.json()["timestamps"] == {"checked": 3, "ok": 3}, r.stdout

    # the bundle's token of the third checkpoint replaced by the second's: named, exit 1
    for x in lines:
        if x["size"] == third.size:
            x["timestamp_token"] = stamped[second.size]
    (bundle / "checkpoints.jsonl").write_text("".join(json.dumps(x, sort_keys=True) + "\n" for x in lines))
    r = invoke("audit", "verify", "--bundle", str(bundle), "--key", str(key), "--trust", str(root), "--json")
    assert r.code == 1
    bad = [p for p in r.json()["problems"] if p["kind"] == ProblemKind.TIMESTAMP.value]
    assert len(bad) == 1 and bad[0]["size"] == third.size
    assert bad[0]["message"].startswith(f"checkpoint {third.size}: its RFC 3161 time-stamp was made over other data")
    r = invoke("audit", "verify", "--bundle", str(bundle), "--key", str(key), "--trust", str(root))
    assert r.code == 1 and f"checkpoint {third.size}: its RFC 3161 time-stamp" in r.stdout
    # an auditor trusting another root: every token's TSA is refused
    other = tmp_path / "other.pem"
    other.write_bytes(TestCA().root.public_bytes(Encoding.PEM))
    offline = verify_bundle(bundle, key, trust=load_roots([other]))
    assert offline.counts.get(ProblemKind.TIMESTAMP.value) == 3

    # one byte of a stored token changed behind the office's back
    changed = bytearray(tokens[first.size])
    changed[-3] ^= 0x01
    office._run(lambda s: _set_token(s, first.size, bytes(changed)))
    report = office.verify_audit_log()
    assert not report.ok and report.timestamps_ok == 2
    bad = [p.message() for p in report.problems if p.kind is ProblemKind.TIMESTAMP]
    assert [p.fields["size"] for p in report.problems if p.kind is ProblemKind.TIMESTAMP] == [first.size] * 2
    assert any("was altered" in m for m in bad)
    assert any("was replaced: it is not the token the log recorded" in m for m in bad)  # the audit.timestamp event
    # a token stamped on demand removed: the log's audit.timestamp event names it
    office._run(lambda s: _set_token(s, first.size, tokens[first.size]))
    assert office.verify_audit_log().ok
    office._run(lambda s: _set_token(s, first.size, None))
    report = office.verify_audit_log()
    assert not report.ok and report.timestamps == 2
    bad = [p.message() for p in report.problems if p.kind is ProblemKind.TIMESTAMP]
    assert len(bad) == 1 and bad[0].startswith(f"checkpoint {first.size}: its RFC 3161 time-stamp was removed")


def test_a_stale_checkpoint_is_not_stamped(stamped_office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    office = stamped_office
    office.create_audit_key()  # no TSA running: the first checkpoint has no token
    later = datetime.now(UTC) + MAX_DELAY + timedelta(days=1)
    monkeypatch.setattr(office, "now", lambda: later)
    with pytest.raises(TimestampInvalid, match="does not confirm its time"):
        office.audit_timestamp()


def _pw(tmp_path: Path) -> str:
    path = tmp_path / "pass.txt"
    path.write_text(PASSPHRASE + "\n")
    return str(path)


def _set_token(session: object, size: int, token: bytes | None) -> None:
    from edoc.storage.tables import AuditCheckpointRow

    row = session.get(AuditCheckpointRow, size)  # type: ignore[attr-defined]
    row.timestamp_token = token
    session.add(row)  # type: ignore[attr-defined]
