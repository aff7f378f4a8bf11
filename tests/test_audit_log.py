"""The audit log through the office, on SQLite and PostgreSQL: appending, the audit key,
checkpoints (made on demand and automatically), proofs, actor signatures, witnesses, the
whole-log check, the offline bundle, and views over the log."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from edoc.audit import check
from edoc.audit.bundle import load_outside, verify_bundle
from edoc.audit.checkpoint import Checkpoint, load_public_key
from edoc.audit.events import Event, body_text, canonical_json, format_time, leaf_bytes, leaf_text
from edoc.audit.verify import ProblemKind
from edoc.errors import (
    AlreadyExists,
    AuditKeyExists,
    AuditKeyMissing,
    CheckpointNotFound,
    DocumentNotFound,
    EventNotFound,
    InvalidField,
    PassphraseRequired,
    PermissionDenied,
    WitnessRefused,
    WrongPassphrase,
)
from edoc.office import Office, init_office, open_office
from edoc.pki.keys import StaticPassphrases
from tests.fixtures_audit import AUDIT_PASSPHRASE, TestCA
from tests.test_audit_merkle import ref_mth


def write_settings(home: Path, **audit: int) -> None:
    lines = ["[office]", 'name = "audit test"', "[pki]", "kdf_rounds = 10000", "[audit]"]
    lines += [f"{k} = {v}" for k, v in audit.items()]
    (home / "edoc.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_office(home: Path, db_url: str | None, *, passphrase: str | None = AUDIT_PASSPHRASE, **audit: int) -> Office:
    init_office(home, db_url, name="audit test")
    write_settings(home, **audit)
    phrases = StaticPassphrases({"audit": passphrase}) if passphrase is not None else None
    return open_office(home, db_url, passphrases=phrases)


@pytest.fixture
def aoffice(home: Path, db_url: str | None) -> Iterator[Office]:
    """An office on SQLite and PostgreSQL that can unlock its audit key without asking."""
    with make_office(home, db_url, checkpoint_every=1_000_000, checkpoint_seconds=10_000_000) as office:
        yield office


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA()


def populate(office: Office) -> None:
    office.add_agency("PAKCHONG", name="เทศบาลเมืองปากช่อง", letter_code="นม 52101")
    office.add_agency("PROVINCE", name="ศาลากลางจังหวัดนครราชสีมา", letter_code="นม 0017")
    office.add_unit("PAKCHONG", "OFFICE", name="สำนักปลัด")
    office.add_user("pc.mayor", agency="PAKCHONG", full_name="นายใจดี มีสุข", position="นายกเทศมนตรี", role="executive")
    office.add_user(
        "pc.clerk", agency="PAKCHONG", full_name="นางสาวสมใจ รักงาน", position="เจ้าพนักงานธุรการ", role="clerk"
    )


def legal_act(office: Office, act: str, actor: str, signer: Any, document_id: int = 7, **payload: Any) -> None:
    """An act with legal weight, recorded the way the signing/registers/routing acts do."""
    office._run(
        lambda s: office._record(
            s,
            act,
            actor=actor,
            agency="PAKCHONG",
            document_id=document_id,
            payload={"pdf_sha256": "ab" * 32, **payload},
            sign=signer,
        )
    )


# --- appending -----------------------------------------------------------------------------------


def test_leaves_and_tree_follow_the_canonical_events(aoffice: Office) -> None:
    populate(aoffice)
    events = aoffice.audit_events()
    leaves = [e.leaf() for e in events]  # the reference encoding (canonical_json of a dict)
    with aoffice.db.engine.connect() as conn:
        stored = [bytes(r[0]) for r in conn.execute(text("SELECT leaf_hash FROM audit_event ORDER BY seq"))]
        head = conn.execute(text("SELECT size, frontier FROM audit_head")).one()
    assert stored == [check.hash_leaf(leaf) for leaf in leaves]
    assert head.size == len(events)
    frontier = [bytes.fromhex(h) for h in json.loads(head.frontier)]
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = check.hash_children(left, root)
    assert root == ref_mth(leaves)


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(min_value=0, max_value=2**40),
    actor=st.text(max_size=20),
    agency=st.text(max_size=10),
    act=st.text(min_size=1, max_size=20),
    document_id=st.none() | st.integers(min_value=0, max_value=2**40),
    payload=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
            max_leaves=8,
        ),
        max_size=5,
    ),
    signature=st.none() | st.binary(min_size=1, max_size=80),
    micro=st.integers(min_value=0, max_value=999_999),
)
def test_fast_leaf_equals_canonical_json(
    seq: int,
    actor: str,
    agency: str,
    act: str,
    document_id: int | None,
    payload: dict[str, Any],
    signature: bytes | None,
    micro: int,
) -> None:
    """The append path builds leaves by string formatting; it must equal the canonical JSON."""
    try:
        payload_json = canonical_json(payload).decode()
        for s in (actor, agency, act):
            s.encode()
    except UnicodeEncodeError:
        return  # lone surrogates are refused before an event is queued
    at = datetime(2026, 11, 22, 3, 4, 5, micro, tzinfo=UTC)
    serial = None if signature is None else "1a2b"
    event = Event(seq, at, actor, agency, act, document_id, payload, signature, serial)
    body = body_text(seq, format_time(at), actor, agency, act, document_id, payload_json)
    assert body.encode() == event.signed_bytes()
    assert leaf_text(body, signature, serial).encode() == event.leaf()
    stored = leaf_bytes(seq, format_time(at), actor, agency, act, document_id, payload_json.encode(), signature, serial)
    assert stored == event.leaf()  # as verification builds it from the stored row


def test_payload_with_floats_or_bad_times_is_refused_at_once(aoffice: Office) -> None:
    with pytest.raises(TypeError):
        aoffice._run(lambda s: aoffice._record(s, "x.y", payload={"amount": 1.5}))
    assert [e.act for e in aoffice.audit_events()] == ["office.init"]


# --- the audit key and checkpoints ------------------------------------------------------------------


def test_audit_key_is_sealed_in_the_database_and_signs_checkpoints(aoffice: Office, tmp_path: Path) -> None:
    with pytest.raises(AuditKeyMissing):
        aoffice.audit_checkpoint()
    info = aoffice.create_audit_key("p256")
    with pytest.raises(AuditKeyExists):
        aoffice.create_audit_key()
    with aoffice.db.engine.connect() as conn:
        sealed = bytes(conn.execute(text("SELECT sealed FROM audit_key")).scalar_one())
    # sealed with the audit passphrase: openssl opens it with that passphrase and nothing else
    (tmp_path / "k.p12").write_bytes(sealed)
    opened = subprocess.run(
        [
            "openssl",
            "pkcs12",
            "-in",
            str(tmp_path / "k.p12"),
            "-nocerts",
            "-nodes",
            "-passin",
            f"pass:{AUDIT_PASSPHRASE}",
        ],
        capture_output=True,
        text=True,
    )
    assert opened.returncode == 0 and "PRIVATE KEY" in opened.stdout, opened.stderr
    wrong = subprocess.run(
        ["openssl", "pkcs12", "-in", str(tmp_path / "k.p12"), "-nocerts", "-nodes", "-passin", "pass:wrong-one"],
        capture_output=True,
    )
    assert wrong.returncode != 0
    acts = [e.act for e in aoffice.audit_events()]
    assert acts == ["office.init", "audit.key.create"]
    assert aoffice.audit_events()[1].payload["public_key"] == info.public_pem
    cps = aoffice.audit_checkpoints()
    assert [c.size for c in cps] == [2]
    again, created = aoffice.audit_checkpoint()
    assert not created and again == cps[0]
    populate(aoffice)
    cp, created = aoffice.audit_checkpoint()
    assert created and cp.size == len(aoffice.audit_events())
    assert cp.root == ref_mth([e.leaf() for e in aoffice.audit_events()])
    # an independent tool checks the checkpoint signature: openssl
    (tmp_path / "pub.pem").write_text(info.public_pem)
    (tmp_path / "cp.txt").write_bytes(cp.text())
    (tmp_path / "cp.sig").write_bytes(cp.signature)
    r = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(tmp_path / "pub.pem"),
            "-signature",
            str(tmp_path / "cp.sig"),
            str(tmp_path / "cp.txt"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and "Verified OK" in r.stdout, r.stdout + r.stderr
    (tmp_path / "cp.txt").write_bytes(cp.text().replace(b"\n", b"\n ", 1))
    r = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(tmp_path / "pub.pem"),
            "-signature",
            str(tmp_path / "cp.sig"),
            str(tmp_path / "cp.txt"),
        ],
        capture_output=True,
    )
    assert r.returncode != 0


def test_ed25519_checkpoint_checks_with_openssl(sqlite_office: Office, tmp_path: Path) -> None:
    office = sqlite_office
    info = office.create_audit_key("ed25519", passphrase=AUDIT_PASSPHRASE.encode())
    cp = office.audit_checkpoints()[-1]
    (tmp_path / "pub.pem").write_text(info.public_pem)
    (tmp_path / "cp.txt").write_bytes(cp.text())
    (tmp_path / "cp.sig").write_bytes(cp.signature)
    r = subprocess.run(
        [
            "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
            "-in", str(tmp_path / "cp.txt"), "-sigfile", str(tmp_path / "cp.sig"),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert r.returncode == 0 and "Verified Successfully" in r.stdout, r.stdout + r.stderr
    # the office opened without a passphrase cannot make a checkpoint, and says why
    with pytest.raises(PassphraseRequired):
        office.audit_checkpoint()
    with pytest.raises(InvalidField):
        office.create_audit_key("rsa")


def test_checkpoints_are_made_automatically_when_due(home: Path, db_url: str | None) -> None:
    with make_office(home, db_url, checkpoint_every=4, checkpoint_seconds=10_000_000) as office:
        office.create_audit_key()
        assert [c.size for c in office.audit_checkpoints()] == [2]
        for i in range(9):
            office.add_agency(f"A{i}", name=f"หน่วยงาน {i}", letter_code=f"นม {i}")
        sizes = [c.size for c in office.audit_checkpoints()]
        assert sizes == [2, 6, 10]
    # an office that cannot open the key still works; checkpoints wait for someone who can
    with open_office(home, db_url) as locked:
        for i in range(5):
            locked.add_agency(f"B{i}", name=f"หน่วย {i}", letter_code=f"นม 1{i}")
        assert [c.size for c in locked.audit_checkpoints()] == [2, 6, 10]
    class Prompt(StaticPassphrases):
        interactive = True  # like the CLI's prompt: background work must never ask it

        def get(self, owner: str) -> bytes:
            raise AssertionError(f"asked for {owner}")

    with open_office(home, db_url, passphrases=Prompt()) as prompting:
        prompting.add_agency("P1", name="หน่วย พี", letter_code="นม 97")
    with open_office(home, db_url, passphrases=StaticPassphrases({"audit": "not the passphrase"})) as wrong:
        wrong.add_agency("C1", name="หน่วย ซี", letter_code="นม 99")
        with pytest.raises(WrongPassphrase):
            wrong.audit_checkpoint()
    # by time: the newest checkpoint is old, so the next act makes one
    with make_office(home, db_url, checkpoint_every=1000, checkpoint_seconds=60) as office:
        office.now = lambda: datetime.now(UTC) + timedelta(minutes=5)  # type: ignore[method-assign]
        office.add_agency("D1", name="หน่วย ดี", letter_code="นม 98")
        assert office.audit_checkpoints()[-1].size == len(office.audit_events())


# --- proofs ---------------------------------------------------------------------------------------


def test_inclusion_and_consistency_proofs(aoffice: Office) -> None:
    aoffice.create_audit_key()
    populate(aoffice)
    first, _ = aoffice.audit_checkpoint()
    aoffice.add_unit("PAKCHONG", "FINANCE", name="กองคลัง")
    aoffice.add_unit("PAKCHONG", "WORKS", name="กองช่าง")
    key = load_public_key(aoffice.audit_key().public_pem)
    uncovered = aoffice.audit_proof(first.size)  # not yet under a checkpoint: against the head
    assert uncovered.checkpoint is None and uncovered.check() is None
    assert uncovered.check(key) == "no signed checkpoint covers this event yet"
    second, _ = aoffice.audit_checkpoint()
    events = aoffice.audit_events()
    for e in events:
        proof = aoffice.audit_proof(e.seq)
        assert proof.leaf == e.leaf()
        assert proof.checkpoint is not None and proof.size == second.size
        assert len(proof.path) <= (proof.size - 1).bit_length()
        assert proof.check(key) is None
        assert check.verify_inclusion(check.hash_leaf(e.leaf()), e.seq, second.size, list(proof.path), second.root)
    old = aoffice.audit_proof(0, size=first.size)
    assert old.checkpoint == first and old.check(key) is None
    from edoc.audit.proofs import InclusionProof

    assert InclusionProof.from_json(json.loads(json.dumps(old.to_json()))) == old
    with pytest.raises(EventNotFound):
        aoffice.audit_proof(len(events))
    with pytest.raises(InvalidField):
        aoffice.audit_proof(first.size, size=first.size)
    c = aoffice.audit_consistency(first.size, second.size)
    assert c.old_checkpoint == first and c.new_checkpoint == second and c.check(key) is None
    assert check.verify_consistency(first.size, second.size, first.root, second.root, list(c.path))
    with pytest.raises(InvalidField):
        aoffice.audit_consistency(second.size + 1)


# --- verification, signatures, witnesses ------------------------------------------------------------


def test_a_clean_log_verifies_with_signatures_and_witnesses(aoffice: Office, ca: TestCA, tmp_path: Path) -> None:
    aoffice.create_audit_key()
    populate(aoffice)
    mayor = ca.issue("นายใจดี มีสุข")
    clerk = ca.issue("นางสาวสมใจ รักงาน", key_type="rsa2048")
    legal_act(aoffice, "doc.sign", "pc.mayor", mayor.signer(), field="signer", level="B-LT")
    legal_act(aoffice, "doc.send", "pc.clerk", clerk.signer(), to=["PROVINCE"])
    aoffice._run(lambda s: aoffice._record(s, "doc.render", actor="pc.clerk", agency="PAKCHONG", document_id=7))
    cp, _ = aoffice.audit_checkpoint()
    seal = ca.issue("ตราจังหวัดนครราชสีมา")
    cosig = aoffice.witness_checkpoint("PROVINCE", signer=seal.signer())
    assert cosig.size == cp.size
    with pytest.raises(AlreadyExists):
        aoffice.witness_checkpoint("PROVINCE", signer=seal.signer())
    aoffice.audit_checkpoint()  # covers the witness event
    aoffice.witness_checkpoint("PROVINCE", signer=seal.signer())  # the second witnessing checks consistency
    report = aoffice.verify_audit_log(trust=[ca.root])
    assert report.ok, [p.message() for p in report.problems]
    assert report.signatures == report.signatures_ok == 2
    assert report.witnesses == report.witnesses_ok == 2
    assert report.checkpoints == report.checkpoints_ok == 3
    assert report.first_bad_event is None and report.events == len(aoffice.audit_events())
    signed = [e for e in aoffice.audit_events() if e.signature]
    assert [e.act for e in signed] == ["doc.sign", "doc.send"]
    assert signed[0].signer_cert == f"{mayor.certificate.serial_number:x}"
    # a certificate from another CA does not chain to the trusted root
    other = TestCA()
    report = aoffice.verify_audit_log(trust=[other.root])
    assert not report.ok and report.counts[ProblemKind.ACTOR_CERTIFICATE] == 2
    assert report.counts[ProblemKind.WITNESS] == 2
    # export, then check offline against the key the auditor was given
    pem = tmp_path / "audit.pem"
    pem.write_text(aoffice.audit_key().public_pem)
    summary = aoffice.export_audit_log(tmp_path / "bundle")
    assert summary.events == report.events  # the export's own event comes after the bundle
    assert aoffice.audit_events()[-1].act == "audit.export"
    offline = verify_bundle(tmp_path / "bundle", pem, trust=[ca.root])
    assert offline.ok, [p.message() for p in offline.problems]
    assert offline.signatures_ok == 2 and offline.witnesses_ok == 2 and offline.uncovered == 0
    with pytest.raises(Exception, match="not an empty directory"):
        aoffice.export_audit_log(tmp_path / "bundle")


def test_witness_refuses_a_rewritten_history(home: Path, ca: TestCA, tmp_path: Path) -> None:
    office = make_office(home, None, checkpoint_every=1_000_000, checkpoint_seconds=10_000_000)
    office.create_audit_key()
    populate(office)
    seal = ca.issue("ตราจังหวัด")
    office.audit_checkpoint()
    office.witness_checkpoint("PROVINCE", signer=seal.signer())
    saved = tmp_path / "province-copy.json"
    first = office.audit_checkpoints()[-1]
    saved.write_text(json.dumps({"checkpoint": first.to_json()}))
    # the administrator, who knows the audit passphrase, rewrites an event and re-signs everything
    with office.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET payload = replace(payload, 'ใจดี', 'ร้ายกาจ') WHERE act = 'user.add'"))
        conn.execute(text("DELETE FROM audit_witness"))
        conn.execute(text("DELETE FROM audit_checkpoint"))
    _rehash(office)
    office.audit_checkpoint()
    office.add_unit("PAKCHONG", "WORKS", name="กองช่าง")
    office.audit_checkpoint()
    # the witness's own copy shows the rewrite
    with pytest.raises(WitnessRefused, match="does not extend"):
        office.witness_checkpoint("PROVINCE", signer=seal.signer(), previous=load_outside(saved)[0].checkpoint)
    report = office.verify_audit_log(outside=load_outside(saved))
    assert not report.ok and ProblemKind.EXTERNAL in report.counts
    office.close()


def _rehash(office: Office) -> None:
    """What an insider with database access does to hide a change: recompute every hash,
    every node and the head from the (changed) events."""
    from edoc.audit.merkle import Frontier
    from edoc.storage import audit as audit_store

    with office.db.engine.begin() as conn:
        frontier = Frontier.empty()
        nodes: list[tuple[int, bytes]] = []
        for rec in list(audit_store.records(conn)):
            digest = check.hash_leaf(rec[1])
            conn.execute(text("UPDATE audit_event SET leaf_hash = :h WHERE seq = :s"), {"h": digest, "s": rec[0]})
            frontier.append(digest, nodes)
        conn.execute(text("DELETE FROM audit_node"))
        for p, h in nodes:
            conn.execute(text("INSERT INTO audit_node (position, hash) VALUES (:p, :h)"), {"p": p, "h": h})
        conn.execute(
            text("UPDATE audit_head SET size = :n, frontier = :f, checkpoint_size = 0"),
            {"n": frontier.size, "f": json.dumps([h.hex() for h in frontier.hashes])},
        )


def test_unsigned_or_badly_signed_legal_acts_fail(aoffice: Office, ca: TestCA) -> None:
    populate(aoffice)
    mayor = ca.issue("นายใจดี มีสุข")
    legal_act(aoffice, "doc.sign", "pc.mayor", None)
    legal_act(aoffice, "doc.route.endorse", "pc.mayor", mayor.signer())
    expired = ca.issue("หมดอายุ", not_before=datetime.now(UTC) - timedelta(days=800), days=30)
    legal_act(aoffice, "records.destroy", "pc.mayor", expired.signer())
    report = aoffice.verify_audit_log()
    assert not report.ok
    kinds = {(p.kind, p.seq) for p in report.problems}
    seqs = {e.act: e.seq for e in aoffice.audit_events()}
    assert (ProblemKind.UNSIGNED, seqs["doc.sign"]) in kinds
    assert (ProblemKind.ACTOR_CERTIFICATE, seqs["records.destroy"]) in kinds
    assert report.first_bad_event == seqs["doc.sign"]
    assert "was not valid" in next(p for p in report.problems if p.kind is ProblemKind.ACTOR_CERTIFICATE).message()
    assert report.signatures == 2


def test_witness_needs_a_signed_checkpoint(aoffice: Office, ca: TestCA) -> None:
    populate(aoffice)
    with pytest.raises(CheckpointNotFound):
        aoffice.witness_checkpoint("PROVINCE", signer=ca.issue("ตรา").signer())


# --- views over the log -------------------------------------------------------------------------------


def test_directory_tables_must_agree_with_the_log(aoffice: Office) -> None:
    populate(aoffice)
    assert aoffice.verify_audit_log().ok
    with aoffice.db.engine.begin() as conn:
        conn.execute(text("UPDATE account SET role = 'admin' WHERE username = 'pc.clerk'"))
        conn.execute(text("UPDATE agency SET name = 'ปลอม' WHERE code = 'PROVINCE'"))
    report = aoffice.verify_audit_log()
    assert not report.ok and report.counts[ProblemKind.VIEW] == 2
    messages = " | ".join(p.message() for p in report.problems)
    assert "pc.clerk: role is 'admin' in the table but 'clerk' in the log" in messages
    assert "PROVINCE: name is 'ปลอม'" in messages
    th = next(p for p in report.problems if p.kind is ProblemKind.VIEW).message("th")
    assert "ตารางไม่ตรงกับบันทึกตรวจสอบ" in th


def test_document_history_comes_from_the_log(aoffice: Office, ca: TestCA, tmp_path: Path) -> None:
    from tests.fixtures_documents import MINIMAL, pilot

    office = pilot(aoffice)
    doc = office.new_document("external", MINIMAL[("external", None)], as_user="pc.officer")
    other = office.new_document("external", MINIMAL[("external", None)], as_user="pc.officer")
    legal_act(office, "doc.sign", "pc.mayor", ca.issue("นายก").signer(), document_id=doc)
    office._run(lambda s: office._record(s, "doc.render", actor="pc.officer", agency="PAKCHONG", document_id=other))
    history = office.document_history(doc, as_user="pc.officer")
    assert [(h.act, h.actor) for h in history] == [("document.new", "pc.officer"), ("doc.sign", "pc.mayor")]
    assert history[1].signed_by is not None and history[0].signed_by is None
    # reading it is permission-checked like the document itself
    with pytest.raises(PermissionDenied):
        office.document_history(doc, as_user="prov.clerk")
    with pytest.raises(DocumentNotFound):
        office.document_history(999, as_user="pc.officer")
    # the same history from an exported bundle alone
    office.export_audit_log(tmp_path / "bundle")
    from edoc.audit.bundle import bundle_history

    assert bundle_history(tmp_path / "bundle", doc) == history


def test_checkpoint_json_round_trip(aoffice: Office) -> None:
    aoffice.create_audit_key()
    cp = aoffice.audit_checkpoints()[-1]
    assert Checkpoint.from_json(json.loads(json.dumps(cp.to_json()))) == cp
    bad = cp.to_json()
    bad["size"] = cp.size + 1
    with pytest.raises(ValueError, match="text does not match"):
        Checkpoint.from_json(bad)
    sig = base64.b64decode(str(cp.to_json()["signature"]))
    assert sig == cp.signature


def test_actor_signatures_checked_in_worker_processes(
    aoffice: Office, ca: TestCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many signatures are checked in batches by worker processes; a bad one is still named."""
    import edoc.audit.verify as verify_module

    monkeypatch.setattr(verify_module, "SIGNATURE_BATCH", 5)
    populate(aoffice)
    signer = ca.issue("นายใจดี มีสุข").signer()
    aoffice._run(
        lambda s: [
            aoffice._record(s, "doc.sign", actor="pc.mayor", agency="PAKCHONG", document_id=i, payload={}, sign=signer)
            for i in range(40)
        ]
    )
    report = aoffice.verify_audit_log(trust=[ca.root], workers=2)
    assert report.ok and report.signatures == report.signatures_ok == 40
    bad = aoffice.audit_events()[-3]
    with aoffice.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET document_id = 999 WHERE seq = :s"), {"s": bad.seq})
    report = aoffice.verify_audit_log(trust=[ca.root], workers=2)
    assert report.signatures == 40 and report.signatures_ok == 39
    assert (ProblemKind.ACTOR_SIGNATURE, bad.seq) in {(p.kind, p.seq) for p in report.problems}
    assert report.first_bad_event == bad.seq


def test_concurrent_appends_keep_one_consistent_tree(home: Path, db_url: str | None) -> None:
    """Writers in parallel (each with its own engine, as separate processes would be): the
    sequence stays gapless and the tree, nodes and head stay consistent."""
    import threading

    make_office(home, db_url, checkpoint_every=7, checkpoint_seconds=10_000_000).close()
    first = open_office(home, db_url, passphrases=StaticPassphrases({"audit": AUDIT_PASSPHRASE}))
    first.create_audit_key()
    first.close()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with open_office(home, db_url, passphrases=StaticPassphrases({"audit": AUDIT_PASSPHRASE})) as office:
                for i in range(15):
                    office.add_agency(f"W{n}X{i}", name=f"หน่วย {n} {i}", letter_code=f"นม {n}{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with open_office(home, db_url) as office:
        events = office.audit_events()
        assert [e.seq for e in events] == list(range(62))
        report = office.verify_audit_log()
        assert report.ok, [p.message() for p in report.problems]
        # How many checkpoints depends on the interleaving: a checkpoint covers the head as it is
        # when made, so writers that append in between push the next one further (62 events at
        # every 7 gave 7 to 9 here); what matters is that every one made concurrently is valid.
        assert report.checkpoints >= 2 and report.checkpoints == report.checkpoints_ok
