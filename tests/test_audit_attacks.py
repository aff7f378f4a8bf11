"""Attacks on the audit log with direct SQL, on SQLite and PostgreSQL: each is detected, and
the report names what was done and the first bad event.

The attacker here is whoever can write to the database (a database administrator, a stolen
backup restored with edits). Checkpoints are signed with the audit key, which the attacker
does not have unless stated; witnesses' seals are never theirs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from edoc.audit import check
from edoc.audit.bundle import load_outside, verify_bundle
from edoc.audit.events import body_text, leaf_text
from edoc.audit.merkle import Frontier
from edoc.audit.verify import AuditReport, ProblemKind
from edoc.office import Office
from edoc.storage import audit as audit_store
from tests.fixtures_audit import TestCA
from tests.test_audit_log import legal_act, make_office, populate


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA()


@pytest.fixture
def log(home: Path, db_url: str | None, ca: TestCA) -> Iterator[Office]:
    """A working office: directory, signed acts, three checkpoints, a witness."""
    office = make_office(home, db_url, checkpoint_every=1_000_000, checkpoint_seconds=10_000_000)
    office.create_audit_key()
    populate(office)  # events 2..6
    office.audit_checkpoint()  # size 7
    mayor = ca.issue("นายใจดี มีสุข")
    for i in range(4):
        legal_act(office, "doc.sign", "pc.mayor", mayor.signer(), document_id=10 + i)  # 7..10
    office.add_unit("PAKCHONG", "FINANCE", name="กองคลัง")  # 11
    office.audit_checkpoint()  # size 12
    office.witness_checkpoint("PROVINCE", signer=ca.issue("ตราจังหวัด").signer())  # 12
    for i in range(3):
        office.add_agency(f"T{i}", name=f"ตำบล {i}", letter_code=f"นม 7{i}")  # 13..15
    office.audit_checkpoint()  # size 16
    report = office.verify_audit_log(trust=[ca.root])
    assert report.ok and report.events == 16, [p.message() for p in report.problems]
    yield office
    office.close()


INSERT_EVENT = (
    "INSERT INTO audit_event (seq, at, actor, agency, act, document_id, payload, signature, signer_cert, leaf_hash) "
)


def sql(office: Office, statement: str, **params: object) -> None:
    with office.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def verdict(office: Office, ca: TestCA, **kwargs: object) -> AuditReport:
    report = office.verify_audit_log(trust=[ca.root], **kwargs)  # type: ignore[arg-type]
    assert not report.ok
    return report


def named(report: AuditReport) -> set[tuple[ProblemKind, int | None]]:
    return {(p.kind, p.seq) for p in report.problems}


def rehash(office: Office, *, keep_checkpoints: bool = True) -> None:
    """Cover one's tracks: recompute every leaf hash, node and the head from the events."""
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
            text("UPDATE audit_head SET size = :n, frontier = :f"),
            {"n": frontier.size, "f": json.dumps([h.hex() for h in frontier.hashes])},
        )
        if not keep_checkpoints:
            conn.execute(text("DELETE FROM audit_witness"))
            conn.execute(text("DELETE FROM audit_checkpoint"))
            conn.execute(text("UPDATE audit_head SET checkpoint_size = 0, checkpoint_at = NULL"))


def test_change_one_field_of_one_event(log: Office, ca: TestCA) -> None:
    sql(log, "UPDATE audit_event SET actor = 'pc.clerk' WHERE seq = 8")
    report = verdict(log, ca)
    assert report.first_bad_event == 8
    assert (ProblemKind.CHANGED, 8) in named(report)
    assert report.counts[ProblemKind.CHECKPOINT_ROOT] == 2  # sizes 12 and 16 no longer match
    assert "event 8 was changed" in report.problems[0].message()
    assert "เหตุการณ์ 8 ถูกแก้ไข" in report.problems[0].message("th")
    # the change also breaks the actor's signature over the event
    assert (ProblemKind.ACTOR_SIGNATURE, 8) in named(report)


def test_change_a_payload_and_its_stored_hash(log: Office, ca: TestCA) -> None:
    sql(log, "UPDATE audit_event SET payload = replace(payload, 'กองคลัง', 'กองคลังปลอม') WHERE seq = 11")
    with log.db.engine.connect() as conn:
        leaf = next(r[1] for r in audit_store.records(conn) if r[0] == 11)
    sql(log, "UPDATE audit_event SET leaf_hash = :h WHERE seq = 11", h=check.hash_leaf(leaf))
    report = verdict(log, ca)
    # the stored nodes above it no longer match, nor do the checkpoints covering it
    assert report.first_bad_event == 11
    assert (ProblemKind.NODE, 11) in named(report)
    assert ProblemKind.CHECKPOINT_ROOT in report.counts
    assert ProblemKind.VIEW in report.counts  # and the unit's table row disagrees with the log


def test_delete_the_last_event(log: Office, ca: TestCA) -> None:
    sql(log, "DELETE FROM audit_event WHERE seq = 15")
    report = verdict(log, ca)
    assert report.first_bad_event == 15
    assert (ProblemKind.HEAD, 15) in named(report)
    assert (ProblemKind.MISSING_AT_END, 15) in named(report)
    assert "events 15 to 15 were deleted" in " ".join(p.message() for p in report.problems)


def test_delete_the_last_event_and_fix_the_head(log: Office, ca: TestCA) -> None:
    sql(log, "DELETE FROM audit_event WHERE seq = 15")
    rehash(log)
    report = verdict(log, ca)
    assert report.first_bad_event == 15
    assert named(report) >= {(ProblemKind.MISSING_AT_END, 15)}
    assert ProblemKind.VIEW in report.counts  # agency T2 is in the table, not in the log


def test_delete_a_middle_event(log: Office, ca: TestCA) -> None:
    sql(log, "DELETE FROM audit_event WHERE seq = 9")
    report = verdict(log, ca)
    assert report.first_bad_event == 9
    assert (ProblemKind.GAP, 9) in named(report)
    assert "events 9 to 9 are missing" in report.problems[0].message()


def test_delete_a_middle_event_and_renumber(log: Office, ca: TestCA) -> None:
    sql(log, "DELETE FROM audit_event WHERE seq = 9")
    for seq in range(10, 16):
        sql(log, "UPDATE audit_event SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    report = verdict(log, ca)
    assert report.first_bad_event == 9
    assert (ProblemKind.CHANGED, 9) in named(report)


def test_swap_two_events(log: Office, ca: TestCA) -> None:
    sql(log, "UPDATE audit_event SET seq = -1 WHERE seq = 3")
    sql(log, "UPDATE audit_event SET seq = 3 WHERE seq = 4")
    sql(log, "UPDATE audit_event SET seq = 4 WHERE seq = -1")
    report = verdict(log, ca)
    assert report.first_bad_event == 3
    assert {(ProblemKind.CHANGED, 3), (ProblemKind.CHANGED, 4)} <= named(report)


def test_swap_the_contents_of_two_events(log: Office, ca: TestCA) -> None:
    columns = "at, actor, agency, act, document_id, payload, signature, signer_cert, leaf_hash"
    with log.db.engine.begin() as conn:
        a = conn.execute(text(f"SELECT {columns} FROM audit_event WHERE seq = 13")).one()
        b = conn.execute(text(f"SELECT {columns} FROM audit_event WHERE seq = 14")).one()
        for seq, row in ((13, b), (14, a)):
            sets = ", ".join(f"{c} = :{c}" for c in columns.split(", "))
            conn.execute(text(f"UPDATE audit_event SET {sets} WHERE seq = :seq"), {**row._mapping, "seq": seq})
    report = verdict(log, ca)
    assert report.first_bad_event == 13
    assert {(ProblemKind.CHANGED, 13), (ProblemKind.CHANGED, 14)} <= named(report)


def _forged_time() -> datetime:
    """A time after the real events and inside the test certificates' validity (they are issued
    today): a fixed date here made the tests fail once the calendar passed it."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(minutes=5)


def _forge(office: Office, seq: int, act: str, payload: str, *, signature: bytes | None = None) -> bytes:
    when = _forged_time()
    at = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = body_text(seq, at, "pc.mayor", "PAKCHONG", act, 99, payload)
    serial = None if signature is None else "abc123"
    leaf = leaf_text(body, signature, serial).encode()
    sql(
        office,
        INSERT_EVENT + "VALUES (:seq, :at, 'pc.mayor', 'PAKCHONG', :act, 99, :payload, :sig, :serial, :h)",
        seq=seq,
        at=when,
        act=act,
        payload=payload,
        sig=signature,
        serial=serial,
        h=check.hash_leaf(leaf),
    )
    return leaf


def test_insert_a_forged_event_at_the_end(log: Office, ca: TestCA) -> None:
    _forge(log, 16, "doc.render", "{}")
    report = verdict(log, ca)
    assert report.first_bad_event == 16
    assert (ProblemKind.HEAD, 16) in named(report)
    assert "added behind the log's back" in report.problems[0].message()


def test_insert_a_forged_event_in_the_middle(log: Office, ca: TestCA) -> None:
    for seq in range(15, 8, -1):
        sql(log, "UPDATE audit_event SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    _forge(log, 9, "doc.render", "{}")
    report = verdict(log, ca)
    assert report.first_bad_event == 9
    assert (ProblemKind.CHANGED, 10) in named(report)  # the real event 9, renumbered, no longer matches


def test_append_a_forged_event_consistently(log: Office, ca: TestCA) -> None:
    """A forged act appended with every hash, node and the head recomputed: the tree is
    consistent, but the act has legal weight and its actor never signed it."""
    _forge(log, 16, "doc.sign", '{"pdf_sha256":"' + "00" * 32 + '"}')
    rehash(log)
    report = verdict(log, ca)
    assert report.first_bad_event == 16
    assert named(report) == {(ProblemKind.UNSIGNED, 16)}
    assert "carries no signature of its actor pc.mayor" in report.problems[0].message()


def test_append_a_forged_event_signed_by_a_key_of_ones_own(log: Office, ca: TestCA) -> None:
    other = TestCA().issue("นายใจดี มีสุข")  # same name, another CA
    when = _forged_time()
    at = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = body_text(16, at, "pc.mayor", "PAKCHONG", "doc.sign", 99, "{}")
    signature, serial = other.signer()(body.encode())
    sql(
        log,
        INSERT_EVENT + "VALUES (16, :at, 'pc.mayor', 'PAKCHONG', 'doc.sign', 99, '{}', :sig, :serial, :h)",
        at=when,
        sig=signature,
        serial=serial,
        h=check.hash_leaf(leaf_text(body, signature, serial).encode()),
    )
    sql(
        log,
        "INSERT INTO audit_cert (serial, der) VALUES (:s, :d)",
        s=serial,
        d=other.signer().certificate,
    )
    rehash(log)
    report = verdict(log, ca)
    assert report.first_bad_event == 16
    assert (ProblemKind.ACTOR_CERTIFICATE, 16) in named(report)
    assert "does not chain to a trusted root" in report.problems[0].message()


def test_rewrite_the_whole_tail_consistently(log: Office, ca: TestCA) -> None:
    """Every hash recomputed after a change: the signed checkpoints no longer match."""
    sql(log, "UPDATE audit_event SET payload = replace(payload, 'ตำบล 1', 'ตำบลปลอม') WHERE seq = 14")
    sql(log, "UPDATE agency SET name = 'ตำบลปลอม' WHERE code = 'T1'")
    rehash(log)
    report = verdict(log, ca)
    assert named(report) == {(ProblemKind.CHECKPOINT_ROOT, 12)}
    assert report.first_bad_event == 12
    assert "checkpoint 16 signed on" in report.problems[0].message()
    assert "from 12 to 15" in report.problems[0].message()


def test_rewrite_the_tail_and_drop_checkpoints_is_caught_by_an_earlier_export(
    log: Office, ca: TestCA, tmp_path: Path
) -> None:
    pem = tmp_path / "audit.pem"
    pem.write_text(log.audit_key().public_pem)
    log.export_audit_log(tmp_path / "before")  # what an auditor took home earlier
    sql(log, "UPDATE audit_event SET payload = replace(payload, 'สำนักปลัด', 'สำนักปลัดปลอม') WHERE seq = 4")
    sql(log, "UPDATE unit SET name = 'สำนักปลัดปลอม' WHERE code = 'OFFICE'")
    rehash(log, keep_checkpoints=False)
    # inside, without outside help, the office now looks clean but unsigned
    inside = log.verify_audit_log(trust=[ca.root])
    assert inside.ok and inside.checkpoints == 0
    # the insider knows the audit passphrase and re-signs: the export taken earlier disagrees
    log.audit_checkpoint()
    report = verdict(log, ca, outside=load_outside(tmp_path / "before"))
    assert (ProblemKind.EXTERNAL, 2) in named(report)
    assert "showed a different history" in report.problems[0].message()
    # and offline: the new bundle, checked against the old checkpoints
    log.export_audit_log(tmp_path / "after")
    offline = verify_bundle(tmp_path / "after", pem, trust=[ca.root], outside=load_outside(tmp_path / "before"))
    assert not offline.ok and ProblemKind.EXTERNAL in offline.counts


def test_rewrite_with_the_audit_key_is_caught_by_the_witness(log: Office, ca: TestCA) -> None:
    sql(log, "UPDATE audit_event SET payload = replace(payload, 'สำนักปลัด', 'สำนักปลัดปลอม') WHERE seq = 4")
    sql(log, "UPDATE unit SET name = 'สำนักปลัดปลอม' WHERE code = 'OFFICE'")
    rehash(log)
    with log.db.engine.begin() as conn:  # re-sign the checkpoints the witness does not cover
        conn.execute(text("DELETE FROM audit_checkpoint WHERE size <> 12"))
        conn.execute(text("UPDATE audit_head SET checkpoint_size = 0"))
    from edoc.audit.checkpoint import sign_checkpoint
    from edoc.audit.merkle import range_nodes, root_of

    key, _ = log._audit_private_key()
    with log.db.tx.session(write=True) as s:
        head = audit_store.read_head(s)
        needed = audit_store.perfect_nodes(s, set(range_nodes(0, 12)))
        origin = log.audit_key().origin
        cp = sign_checkpoint(key, origin, 12, root_of(12, needed.__getitem__), log.now())
        s.connection().execute(
            text("UPDATE audit_checkpoint SET root = :r, at = :at, signature = :sig WHERE size = 12"),
            {"r": cp.root, "at": cp.at, "sig": cp.signature},
        )
        audit_store.add_checkpoint(s, sign_checkpoint(key, origin, head.size, head.frontier.root(), log.now()))
    report = verdict(log, ca)
    assert named(report) == {(ProblemKind.WITNESS, None)}
    assert "made on a different checkpoint" in report.problems[0].message()


def test_forge_a_checkpoint_without_the_key(log: Office, ca: TestCA) -> None:
    sql(log, "UPDATE audit_checkpoint SET root = :r WHERE size = 16", r=b"\x00" * 32)
    report = verdict(log, ca)
    assert named(report) == {(ProblemKind.CHECKPOINT_SIGNATURE, None)}


def test_replace_the_audit_key_is_caught_by_the_pinned_key(log: Office, ca: TestCA, tmp_path: Path) -> None:
    """Whoever swaps the audit key row (and re-signs with their own key) fools the office's own
    check but not an auditor who pins the key given to them."""
    from edoc.audit.checkpoint import key_id, load_public_key, new_audit_key, public_key_pem, sign_checkpoint

    pinned = load_public_key(log.audit_key().public_pem)
    theirs = new_audit_key()
    with log.db.tx.session(write=True) as s:
        conn = s.connection()
        head = audit_store.read_head(s)
        conn.execute(text("DELETE FROM audit_witness"))
        conn.execute(text("DELETE FROM audit_checkpoint"))
        conn.execute(text("DELETE FROM audit_key"))
        kid = key_id(theirs)
        audit_store.add_key(
            s,
            audit_store.StoredKey(
                kid, "ed25519", "edoc.audit/x", public_key_pem(theirs), b"x", datetime.now(UTC), None
            ),
        )
        audit_store.add_checkpoint(
            s, sign_checkpoint(theirs, "edoc.audit/x", head.size, head.frontier.root(), log.now())
        )
    report = log.verify_audit_log(keys=[pinned])
    assert not report.ok
    assert named(report) >= {(ProblemKind.CHECKPOINT_KEY, None), (ProblemKind.NO_TRUSTED_CHECKPOINT, None)}


def test_tamper_with_a_stored_node(log: Office, ca: TestCA) -> None:
    sql(log, "UPDATE audit_node SET hash = :h WHERE position = (SELECT MIN(position) FROM audit_node)", h=b"\x01" * 32)
    report = verdict(log, ca)
    assert (ProblemKind.NODE, 1) in named(report)


def test_tamper_with_the_head(log: Office, ca: TestCA) -> None:
    sql(log, "UPDATE audit_head SET frontier = :f", f=json.dumps(["00" * 32]))
    report = verdict(log, ca)
    assert ProblemKind.HEAD in report.counts


@pytest.mark.parametrize("batch", [1, 3, 4, 5])
def test_stored_nodes_are_checked_across_batches(
    log: Office, ca: TestCA, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole-log check compares stored nodes batch by batch: a changed node, a missing one
    and one added where no event completes a node are each named, wherever the batches end."""
    import edoc.audit.verify as verify_module

    monkeypatch.setattr(verify_module, "RECORD_BATCH", batch)
    assert log.verify_audit_log(trust=[ca.root]).ok
    # event 7 completes the nodes at positions 12 (level 1), 13 (level 2) and 14 (level 3);
    # position 22 is where leaf 12 sits (never a stored node)
    sql(log, "UPDATE audit_node SET hash = :h WHERE position = 12", h=b"\x02" * 32)
    sql(log, "DELETE FROM audit_node WHERE position = 13")
    sql(log, "INSERT INTO audit_node (position, hash) VALUES (22, :h)", h=b"\x03" * 32)
    report = verdict(log, ca)
    nodes = {(p.seq, p.fields["position"]) for p in report.problems if p.kind is ProblemKind.NODE}
    assert nodes == {(7, 12), (7, 13), (None, 22)}
    assert report.counts == {ProblemKind.NODE.value: 3}
    assert report.first_bad_event == 7


def test_a_proof_over_a_damaged_tree_is_refused(log: Office, ca: TestCA) -> None:
    """Proofs read stored nodes (through the driver, outside a Session): a changed node makes
    the proof fail its own check, a missing one is named; neither is handed out."""
    from edoc.audit.merkle import node_position
    from edoc.errors import AuditLogDamaged

    assert log.audit_proof(0).check() is None
    position = node_position(1, 1)  # leaves 2 and 3: on event 0's path in the 16-event tree
    sql(log, "UPDATE audit_node SET hash = :h WHERE position = :p", h=b"\x04" * 32, p=position)
    with pytest.raises(AuditLogDamaged, match="does not hold"):
        log.audit_proof(0)
    sql(log, "DELETE FROM audit_node WHERE position = :p", p=position)
    with pytest.raises(AuditLogDamaged, match="is missing"):
        log.audit_proof(0)
    assert log.audit_proof(8).check() is None  # the right half does not need that node
    assert (ProblemKind.NODE, 3) in named(verdict(log, ca))
