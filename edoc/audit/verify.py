"""Checking the whole audit log in one pass: what ``edoc audit verify`` does, online or offline.

The same engine checks the office's database (``Office.verify_audit_log``) and an exported
bundle on a machine with no database (:func:`edoc.audit.bundle.verify_bundle`). It is given the
events as *records* in sequence order, and it:

1. checks that sequence numbers run 0, 1, 2, … without a gap or a repeat;
2. recomputes every leaf hash and the whole Merkle tree with the independent checker
   (:mod:`edoc.audit.check`), comparing each leaf hash and each stored tree node with what the
   database kept (so a changed event or a changed node is named);
3. checks every checkpoint's signature with a trusted audit key, and that the root it signed is
   the root of the events as they are now (a checkpoint that covers more events than exist
   means events were deleted at the end);
4. checks witnesses' countersignatures, and checkpoints brought from outside (a witness's copy,
   an earlier export): an office cannot show one history to one auditor and another to another;
5. checks each actor's signature against their certificate, and that every act with legal
   weight is signed.

Everything wrong becomes a :class:`Problem` naming what and, when it can, which event; the
first bad event is the smallest one named. Problems are listed up to a cap per kind and
counted in full.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import Any

from cryptography import x509

from edoc.audit.check import TreeChecker, hash_children
from edoc.audit.checkpoint import AuditPublicKey, Checkpoint, Cosignature, checkpoint_signature_ok, witness_text
from edoc.audit.events import body_of_leaf, has_legal_weight
from edoc.audit.signers import (
    certificate_problem,
    load_certificate,
    owner_problem,
    serial_hex,
    verify_with_certificate,
)
from edoc.audit.timestamp import token_problem

Record = tuple[int, bytes, bytes | None, str, str, bytes | None, str | None]
"""One event as the engine reads it: ``(seq, leaf, stored leaf hash or None, act, time text,
signature or None, signer certificate serial or None)``."""

PROBLEMS_PER_KIND = 20
"""How many problems of one kind are listed (all are counted)."""

RECORD_BATCH = 4096
"""Events hashed and compared with the stored tree per batch."""

SIGNATURE_BATCH = 2000
"""Actor signatures checked per batch (in worker processes when there are many)."""


class ProblemKind(StrEnum):
    """What can be wrong with an audit log."""

    MALFORMED = "malformed-event"
    GAP = "sequence-gap"
    ORDER = "sequence-order"
    CHANGED = "event-changed"
    NODE = "node-changed"
    HEAD = "head-mismatch"
    MISSING_AT_END = "events-missing-at-end"
    CHECKPOINT_ROOT = "checkpoint-mismatch"
    CHECKPOINT_SIGNATURE = "checkpoint-signature"
    CHECKPOINT_KEY = "checkpoint-unknown-key"
    NO_TRUSTED_CHECKPOINT = "no-trusted-checkpoint"
    EXTERNAL = "outside-checkpoint-mismatch"
    ACTOR_SIGNATURE = "actor-signature"
    ACTOR_CERTIFICATE = "actor-certificate"
    UNSIGNED = "unsigned-legal-act"
    WITNESS = "witness"
    TIMESTAMP = "checkpoint-timestamp"
    VIEW = "view-mismatch"


_TEMPLATES: dict[ProblemKind, tuple[str, str]] = {
    ProblemKind.MALFORMED: (
        "event {seq}: not a well-formed audit event ({why})",
        "เหตุการณ์ {seq}: รูปแบบไม่ถูกต้อง ({why})",
    ),
    ProblemKind.GAP: (
        "events {seq} to {last} are missing (the next stored event is {next})",
        "เหตุการณ์ {seq} ถึง {last} หายไป (เหตุการณ์ถัดไปที่เก็บไว้คือ {next})",
    ),
    ProblemKind.ORDER: (
        "event {seq} is out of order or repeated (expected {expected})",
        "เหตุการณ์ {seq} ลำดับผิดหรือซ้ำ (ควรเป็น {expected})",
    ),
    ProblemKind.CHANGED: (
        "event {seq} was changed after it was recorded: its content no longer has the hash recorded with it",
        "เหตุการณ์ {seq} ถูกแก้ไขหลังบันทึก: เนื้อหาไม่ตรงกับค่าแฮชที่บันทึกไว้",
    ),
    ProblemKind.NODE: (
        "tree node {position} (level {level}, completed by event {seq}) differs from the events",
        "โหนด {position} ของต้นไม้ (ระดับ {level} เหตุการณ์ {seq}) ไม่ตรงกับเหตุการณ์",
    ),
    ProblemKind.HEAD: (
        "the log's head says {head_size} events{root_note}, but {size} are stored: {why}",
        "ส่วนหัวของบันทึกระบุ {head_size} เหตุการณ์{root_note} แต่มีจัดเก็บ {size}: {why}",
    ),
    ProblemKind.MISSING_AT_END: (
        "{source} covers {covered} events but only {size} are stored: events {seq} to {last} were deleted",
        "{source} ครอบคลุม {covered} เหตุการณ์ แต่มีจัดเก็บเพียง {size}: เหตุการณ์ {seq} ถึง {last} ถูกลบ",
    ),
    ProblemKind.CHECKPOINT_ROOT: (
        "checkpoint {size} signed on {time} no longer matches the log: an event from {seq} to {last} "
        "was changed, removed or inserted",
        "จุดตรวจ {size} ที่ลงนามเมื่อ {time} ไม่ตรงกับบันทึก: มีเหตุการณ์ระหว่าง {seq} ถึง {last} ถูกแก้ไข ลบ หรือแทรก",
    ),
    ProblemKind.CHECKPOINT_SIGNATURE: (
        "checkpoint {size}: the audit key's signature is not valid (the checkpoint was forged or altered)",
        "จุดตรวจ {size}: ลายมือชื่อของกุญแจตรวจสอบไม่ถูกต้อง (จุดตรวจถูกปลอมหรือแก้ไข)",
    ),
    ProblemKind.CHECKPOINT_KEY: (
        "checkpoint {size} is signed by key {key_id}, which is not a trusted audit key",
        "จุดตรวจ {size} ลงนามด้วยกุญแจ {key_id} ซึ่งไม่ใช่กุญแจตรวจสอบที่เชื่อถือ",
    ),
    ProblemKind.NO_TRUSTED_CHECKPOINT: (
        "no checkpoint is signed by the trusted audit key: nothing vouches for these events",
        "ไม่มีจุดตรวจที่ลงนามด้วยกุญแจตรวจสอบที่เชื่อถือ: ไม่มีสิ่งใดรับรองเหตุการณ์เหล่านี้",
    ),
    ProblemKind.EXTERNAL: (
        "{source} (size {size}) does not match this log: the office showed a different history; "
        "first difference in events {seq} to {last}",
        "{source} (ขนาด {size}) ไม่ตรงกับบันทึกนี้: สำนักงานแสดงประวัติที่ต่างกัน ความต่างแรกอยู่ในเหตุการณ์ {seq} ถึง {last}",
    ),
    ProblemKind.ACTOR_SIGNATURE: (
        "event {seq} ({act}): the actor's signature does not verify with certificate {serial}",
        "เหตุการณ์ {seq} ({act}): ลายมือชื่อของผู้กระทำตรวจสอบกับใบรับรอง {serial} ไม่ผ่าน",
    ),
    ProblemKind.ACTOR_CERTIFICATE: (
        "event {seq} ({act}): {why}",
        "เหตุการณ์ {seq} ({act}): ใบรับรองใช้ไม่ได้: {why}",
    ),
    ProblemKind.UNSIGNED: (
        "event {seq} ({act}) has legal weight but carries no signature of its actor {actor}",
        "เหตุการณ์ {seq} ({act}) มีผลทางกฎหมายแต่ไม่มีลายมือชื่อของผู้กระทำ {actor}",
    ),
    ProblemKind.WITNESS: (
        "witness {agency} on checkpoint {size}: {why}",
        "พยาน {agency} ของจุดตรวจ {size}: {why}",
    ),
    ProblemKind.TIMESTAMP: (
        "checkpoint {size}: its RFC 3161 time-stamp {why}",
        "จุดตรวจ {size}: ตราประทับเวลา RFC 3161 ใช้ไม่ได้: {why}",
    ),
    ProblemKind.VIEW: (
        "{what}: the tables disagree with the log: {why}",
        "{what}: ตารางไม่ตรงกับบันทึกตรวจสอบ: {why}",
    ),
}


_RANGE_KINDS = frozenset({ProblemKind.CHECKPOINT_ROOT, ProblemKind.EXTERNAL})
"""Problems that name a range of events (a checkpoint's), not one event: ``seq`` is its start."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the log."""

    kind: ProblemKind
    """What is wrong."""
    seq: int | None = None
    """The first event concerned, when one can be named."""
    fields: dict[str, Any] = field(default_factory=dict)
    """The facts the message is made of."""

    def message(self, lang: str = "en") -> str:
        en, th = _TEMPLATES[self.kind]
        values = {"seq": self.seq, **self.fields}
        try:
            return (th if lang == "th" else en).format(**values)
        except (KeyError, IndexError):  # pragma: no cover - a template bug must not hide the problem
            return f"{self.kind}: {values}"

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {"kind": self.kind.value, "seq": self.seq, "message": self.message(lang), **_jsonable(self.fields)}


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.hex() if isinstance(v, bytes) else v) for k, v in fields.items()}


@dataclass(frozen=True)
class AuditReport:
    """The verdict on a whole log."""

    ok: bool
    """True when nothing is wrong."""
    events: int
    """Events read."""
    root: bytes
    """Root of the tree of the events as read."""
    checkpoints: int
    """Checkpoints checked (the office's own)."""
    checkpoints_ok: int
    """... of which signed by a trusted key and matching the events."""
    latest: Checkpoint | None
    """The newest good checkpoint."""
    signatures: int
    """Actor signatures checked."""
    signatures_ok: int
    """... of which valid."""
    witnesses: int
    """Witness countersignatures checked."""
    witnesses_ok: int
    """... of which valid."""
    outside: int
    """Checkpoints brought from outside (witness copies, earlier exports) checked."""
    uncovered: int
    """Events after the newest good checkpoint: consistent, but not yet signed for."""
    first_bad_event: int | None
    """The smallest event named by a problem (None when no event can be named)."""
    problems: tuple[Problem, ...]
    """What is wrong (up to :data:`PROBLEMS_PER_KIND` of each kind)."""
    counts: dict[str, int]
    """How many problems of each kind, in full."""
    notes: tuple[str, ...] = ()
    """Remarks that are not failures (no checkpoint yet, events not yet covered)."""
    timestamps: int = 0
    """Checkpoints' RFC 3161 time-stamp tokens checked."""
    timestamps_ok: int = 0
    """... of which valid (imprint, TSA signature and certificate, time)."""

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "root": self.root.hex(),
            "checkpoints": {"checked": self.checkpoints, "ok": self.checkpoints_ok},
            "latest_checkpoint": self.latest.to_json() if self.latest else None,
            "actor_signatures": {"checked": self.signatures, "ok": self.signatures_ok},
            "witnesses": {"checked": self.witnesses, "ok": self.witnesses_ok},
            "timestamps": {"checked": self.timestamps, "ok": self.timestamps_ok},
            "outside_checkpoints": self.outside,
            "uncovered_events": self.uncovered,
            "first_bad_event": self.first_bad_event,
            "problem_counts": self.counts,
            "problems": [p.to_json(lang) for p in self.problems],
            "notes": list(self.notes),
        }


class _Problems:
    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.counts: dict[str, int] = {}

    def add(self, problem: Problem) -> None:
        n = self.counts.get(problem.kind.value, 0)
        self.counts[problem.kind.value] = n + 1
        if n < PROBLEMS_PER_KIND:
            self.listed.append(problem)

    def first_seq(self) -> int | None:
        """The first bad event: the first one a problem names exactly, unless a checkpoint shows
        that something earlier changed (then the start of the range it vouched for)."""
        exact = [p.seq for p in self.listed if p.seq is not None and p.kind not in _RANGE_KINDS]
        ranges = [(p.seq, p.fields.get("size", 0)) for p in self.listed if p.seq is not None and p.kind in _RANGE_KINDS]
        first_exact = min(exact) if exact else None
        if not ranges:
            return first_exact
        start, stop = min(ranges)
        if first_exact is not None and first_exact < stop:
            return first_exact
        return start


@dataclass(frozen=True)
class Head:
    """What the database's head row says."""

    size: int
    """Events the head counts."""
    frontier: tuple[bytes, ...]
    """Right edge of the tree, biggest subtree first."""


@dataclass(frozen=True)
class Outside:
    """A checkpoint brought from outside the log (a witness's copy, an earlier export)."""

    checkpoint: Checkpoint
    """The checkpoint."""
    source: str
    """Where it came from, for messages (a file name)."""


def check_log(
    records: Iterable[Record],
    *,
    checkpoints: Sequence[Checkpoint] = (),
    keys: Mapping[str, AuditPublicKey] = {},
    cosignatures: Sequence[Cosignature] = (),
    certificates: Mapping[str, bytes] = {},
    roots: Sequence[x509.Certificate] = (),
    nodes: Iterable[tuple[int, bytes]] | None = None,
    head: Head | None = None,
    outside: Sequence[Outside] = (),
    extra: Iterable[Problem] = (),
    require_checkpoint: bool = False,
    workers: int | None = None,
    check_signatures: bool = True,
    timestamps: Mapping[int, bytes] = {},
) -> AuditReport:
    """Check a whole log (see the module's description).

    ``keys`` are the trusted audit keys by key id; ``certificates`` maps serials to DER
    certificates (actors', witnesses' and their issuers'); ``roots``, when given, are the trust
    anchors every such certificate must chain to. ``nodes`` are the stored tree nodes of level
    1 and up as ``(position, hash)`` in position order; ``head`` is the stored head. With
    ``require_checkpoint``, a log with no checkpoint signed by a trusted key fails. Without
    ``check_signatures``, actors' signatures are not checked (a partial check). ``extra``
    problems (from the reader, from the table views) are taken after the records are consumed.
    ``timestamps`` are the checkpoints' RFC 3161 tokens by size, each checked against its
    checkpoint and, when ``roots`` are given, the TSA's certificate path.
    """
    problems = _Problems()
    sizes = sorted({c.size for c in checkpoints} | {o.checkpoint.size for o in outside})
    wanted = set(sizes)
    roots_at: dict[int, bytes] = {}
    tree = TreeChecker()
    if 0 in wanted:
        roots_at[0] = tree.root()
    node_iter: Iterator[tuple[int, bytes]] | None = iter(nodes) if nodes is not None else None
    pending_node = next(node_iter, None) if node_iter is not None else None
    signatures = _SignatureChecker(certificates, roots, workers, problems)
    stops = iter(s for s in sizes if s > 0)
    next_stop = next(stops, None)

    expected = 0
    count = 0
    legal: dict[str, bool] = {}
    stamp_events: list[tuple[int, bytes]] = []
    sha256 = hashlib.sha256
    stream = iter(records)
    while True:
        # a batch ends at every size whose root is wanted, so the root is taken there
        n = RECORD_BATCH if next_stop is None else min(RECORD_BATCH, next_stop - count)
        batch = list(islice(stream, n))
        if not batch:
            break
        digests = [sha256(b"\x00" + r[1]).digest() for r in batch]
        for (seq, leaf, stored, act, at_text, signature, signer), digest in zip(batch, digests, strict=True):
            if seq != expected:
                if seq > expected:
                    problems.add(Problem(ProblemKind.GAP, expected, {"last": seq - 1, "next": seq}))
                else:
                    problems.add(Problem(ProblemKind.ORDER, seq, {"expected": expected}))
                expected = seq
            expected += 1
            if stored is not None and stored != digest:
                problems.add(Problem(ProblemKind.CHANGED, seq))
            if signature is not None:
                if check_signatures:
                    signatures.add(seq, act, at_text, body_of_leaf(leaf), signature, signer or "")
            elif legal.get(act) if act in legal else legal.setdefault(act, has_legal_weight(act)):
                problems.add(Problem(ProblemKind.UNSIGNED, seq, {"act": act, "actor": _actor_of(leaf)}))
            if act == TIMESTAMP_ACT:
                stamp_events.append((seq, leaf))
        first_index = count
        leaves, levels, hashes = tree.extend(digests)
        count += len(batch)
        if node_iter is not None:
            # stored nodes are keyed by the position at which appending creates them: the
            # nodes these leaves complete are exactly those before leaf ``count``'s position
            end = 2 * count - count.bit_count()
            chunk: list[tuple[int, bytes]] = []
            while pending_node is not None and pending_node[0] < end:
                chunk.append(pending_node)
                pending_node = next(node_iter, None)
            positions = [2 * i - i.bit_count() + level for i, level in zip(leaves, levels, strict=True)]
            if [c[0] for c in chunk] != positions or [c[1] for c in chunk] != hashes:
                seqs = [batch[i - first_index][0] for i in leaves]
                _node_problems(chunk, positions, levels, hashes, seqs, problems)
        if count == next_stop:
            roots_at[count] = tree.root()
            next_stop = next(stops, None)
    if node_iter is not None:
        while pending_node is not None:
            problems.add(Problem(ProblemKind.NODE, None, {"position": pending_node[0], "level": "?"}))
            pending_node = next(node_iter, None)
    signatures.finish()
    root = tree.root()
    for p in extra:  # read after the stream: a reader may add problems while it is consumed
        problems.add(p)

    if head is not None:
        _check_head(head, count, root, problems)

    # checkpoints: newest good one, and ranges for messages
    good_sizes = [0]
    checked = ok_count = 0
    latest: Checkpoint | None = None
    tagged = [(cp, "") for cp in checkpoints] + [(o.checkpoint, o.source) for o in outside]
    for cp, source in sorted(tagged, key=lambda item: (item[0].size, item[1])):
        good = _checkpoint_ok(
            cp, keys, roots_at, count, problems, source or "checkpoint", good_sizes, outside=bool(source)
        )
        if good:
            good_sizes.append(cp.size)
        if not source:
            checked += 1
            if good:
                ok_count += 1
                latest = cp
    if require_checkpoint and latest is None:
        problems.add(Problem(ProblemKind.NO_TRUSTED_CHECKPOINT))
    by_size = {c.size: c for c in checkpoints}
    witnesses_ok = 0
    for cs in cosignatures:
        why = _cosignature_problem(cs, by_size, certificates, roots)
        if why is None:
            witnesses_ok += 1
        else:
            problems.add(Problem(ProblemKind.WITNESS, None, {"agency": cs.agency, "size": cs.size, "why": why}))

    stamped = [(cp, timestamps[cp.size]) for cp in checkpoints if cp.size in timestamps]
    stamps_ok = 0
    pool = list(certificates.values())
    for cp, token in stamped:
        why = token_problem(token, cp, roots=roots, certificates=pool)
        if why is None:
            stamps_ok += 1
        else:
            problems.add(Problem(ProblemKind.TIMESTAMP, None, {"size": cp.size, "why": why}))
    for seq, leaf in stamp_events:
        size, why = _recorded_stamp_problem(leaf, timestamps)
        if why is not None:
            problems.add(Problem(ProblemKind.TIMESTAMP, None, {"size": size, "why": f"{why} (event {seq})"}))

    notes: list[str] = []
    if stamped and not roots:
        notes.append("time-stamps were checked without a trust anchor: give --trust ROOT.pem to check the TSA's chain")
    if latest is None and not checkpoints:
        notes.append("no checkpoint has been made yet: the log is consistent but nothing signed vouches for it")
    uncovered = count - (latest.size if latest else 0)
    if latest is not None and uncovered > 0:
        notes.append(f"{uncovered} events after the newest checkpoint (size {latest.size}) are not yet signed for")
    first = problems.first_seq()
    return AuditReport(
        ok=not problems.counts,
        events=count,
        root=root,
        checkpoints=checked,
        checkpoints_ok=ok_count,
        latest=latest,
        signatures=signatures.checked,
        signatures_ok=signatures.checked - signatures.bad,
        witnesses=len(cosignatures),
        witnesses_ok=witnesses_ok,
        outside=len(outside),
        uncovered=max(uncovered, 0),
        first_bad_event=first,
        problems=tuple(sorted(problems.listed, key=_order)),
        counts=dict(problems.counts),
        notes=tuple(notes),
        timestamps=len(stamped),
        timestamps_ok=stamps_ok,
    )


def _node_problems(
    stored: list[tuple[int, bytes]],
    positions: list[int],
    levels: list[int],
    hashes: list[bytes],
    seqs: list[int],
    problems: _Problems,
) -> None:
    """Name every difference between the stored nodes of one batch and the recomputed ones
    (both in position order): a stored node missing or different is named with the event that
    completes it, a stored node at a position no event completes is named alone."""
    j = 0
    for position, level, h, seq in zip(positions, levels, hashes, seqs, strict=True):
        while j < len(stored) and stored[j][0] < position:
            problems.add(Problem(ProblemKind.NODE, None, {"position": stored[j][0], "level": "?"}))
            j += 1
        if j >= len(stored) or stored[j][0] != position or stored[j][1] != h:
            problems.add(Problem(ProblemKind.NODE, seq, {"position": position, "level": level}))
        if j < len(stored) and stored[j][0] == position:
            j += 1
    for position, _ in stored[j:]:
        problems.add(Problem(ProblemKind.NODE, None, {"position": position, "level": "?"}))


TIMESTAMP_ACT = "audit.timestamp"
"""The event ``edoc audit timestamp`` records, with the SHA-256 of the token it kept."""


def _recorded_stamp_problem(leaf: bytes, timestamps: Mapping[int, bytes]) -> tuple[object, str | None]:
    """Whether the token an ``audit.timestamp`` event recorded is still the checkpoint's."""
    try:
        payload = json.loads(leaf)["payload"]
        size, digest = int(payload["size"]), str(payload["token_sha256"])
    except (ValueError, KeyError, TypeError):
        return "?", "the log's record of this time-stamp is malformed"
    token = timestamps.get(size)
    if token is None:
        return size, "was removed: the log records that it was time-stamped"
    if hashlib.sha256(token).hexdigest() != digest:
        return size, "was replaced: it is not the token the log recorded"
    return size, None


def _order(p: Problem) -> tuple[int, int]:
    """Problems by the event they name; a checkpoint's range sorts at its end, after the exact
    problems inside it."""
    if p.seq is None:
        return (1 << 62, list(ProblemKind).index(p.kind))
    at = int(p.fields.get("last", p.seq)) if p.kind in _RANGE_KINDS else p.seq
    return (at, list(ProblemKind).index(p.kind))


def _actor_of(leaf: bytes) -> str:
    try:
        return str(json.loads(leaf).get("actor", "?"))
    except ValueError:
        return "?"


def _check_head(head: Head, count: int, root: bytes, problems: _Problems) -> None:
    if head.size != count:
        why = (
            f"events {count} to {head.size - 1} were deleted at the end"
            if head.size > count
            else f"events {head.size} to {count - 1} were added behind the log's back"
        )
        problems.add(
            Problem(
                ProblemKind.HEAD,
                min(count, head.size),
                {"head_size": head.size, "size": count, "root_note": "", "why": why},
            )
        )
        return
    if len(head.frontier) != head.size.bit_count():
        why = f"its tree edge holds {len(head.frontier)} hashes where {head.size.bit_count()} belong"
        problems.add(
            Problem(ProblemKind.HEAD, None, {"head_size": head.size, "size": count, "root_note": "", "why": why})
        )
        return
    head_root = fold_right(head.frontier) if head.frontier else hashlib.sha256(b"").digest()
    if head_root != root:
        problems.add(
            Problem(
                ProblemKind.HEAD,
                None,
                {
                    "head_size": head.size,
                    "size": count,
                    "root_note": f" with root {head_root.hex()[:16]}…",
                    "why": f"the events hash to {root.hex()[:16]}…, so the events or the head were changed",
                },
            )
        )


def _checkpoint_ok(
    cp: Checkpoint,
    keys: Mapping[str, AuditPublicKey],
    roots_at: Mapping[int, bytes],
    count: int,
    problems: _Problems,
    source: str,
    good_sizes: list[int],
    *,
    outside: bool = False,
) -> bool:
    key = keys.get(cp.key_id)
    if key is None:
        problems.add(Problem(ProblemKind.CHECKPOINT_KEY, None, {"size": cp.size, "key_id": cp.key_id[:16]}))
        return False
    if not checkpoint_signature_ok(cp, key):
        problems.add(Problem(ProblemKind.CHECKPOINT_SIGNATURE, None, {"size": cp.size}))
        return False
    if cp.size > count:
        src = source if outside else f"checkpoint {cp.size}"
        problems.add(
            Problem(
                ProblemKind.MISSING_AT_END,
                count,
                {"source": src, "covered": cp.size, "size": count, "last": cp.size - 1},
            )
        )
        return False
    if roots_at.get(cp.size) != cp.root:
        before = max((s for s in good_sizes if s < cp.size), default=0)
        fields = {"size": cp.size, "time": f"{cp.at:%Y-%m-%d %H:%M:%S} UTC", "last": cp.size - 1, "source": source}
        kind = ProblemKind.EXTERNAL if outside else ProblemKind.CHECKPOINT_ROOT
        problems.add(Problem(kind, before, fields))
        return False
    return True


def _cosignature_problem(
    cs: Cosignature,
    by_size: Mapping[int, Checkpoint],
    certificates: Mapping[str, bytes],
    roots: Sequence[x509.Certificate],
) -> str | None:
    cp = by_size.get(cs.size)
    if cp is None:
        return "the checkpoint it countersigned is not in the log"
    try:
        cert = load_certificate(cs.certificate)
    except ValueError:
        return "its certificate cannot be read"
    if not verify_with_certificate(cert, witness_text(cs.agency, cs.at, cp), cs.signature):
        return "the countersignature does not verify: it was made on a different checkpoint or altered"
    issuers = [load_certificate(d) for s, d in certificates.items() if s != serial_hex(cert)]
    return certificate_problem(cert, cs.at, roots=roots, intermediates=issuers) or owner_problem(
        cert, (f"agency:{cs.agency}",), f"agency {cs.agency}"
    )


# --- actor signatures ---------------------------------------------------------------------------

_Item = tuple[int, str, str, bytes, bytes, str]
"""(seq, act, time text, signed body, signature, serial)."""


def _check_batch(
    certificates: Mapping[str, bytes], roots_der: Sequence[bytes], items: Sequence[_Item]
) -> list[tuple[int, str, str, str]]:
    """Check a batch of actor signatures; return (seq, act, kind, why) for each bad one."""
    cache = _batch_cache(certificates, roots_der)
    bad: list[tuple[int, str, str, str]] = []
    for seq, act, at_text, body, signature, serial in items:
        cert = cache.cert(serial)
        if cert is None:
            bad.append((seq, act, ProblemKind.ACTOR_CERTIFICATE.value, f"certificate {serial} is not in the log"))
            continue
        if not verify_with_certificate(cert, body, signature):
            bad.append((seq, act, ProblemKind.ACTOR_SIGNATURE.value, serial))
            continue
        why = cache.problem(serial, cert, datetime.fromisoformat(at_text))
        if why is None:
            event = json.loads(body)
            actor, agency = str(event.get("actor")), str(event.get("agency"))
            why = owner_problem(cert, (actor, f"agency:{agency}"), f"the actor {actor}")
        if why is not None:
            bad.append((seq, act, ProblemKind.ACTOR_CERTIFICATE.value, why))
    return bad


class _CertCache:
    def __init__(self, certificates: Mapping[str, bytes], roots: Sequence[x509.Certificate]) -> None:
        self.der = certificates
        self.roots = roots
        self.certs: dict[str, x509.Certificate | None] = {}
        self.chains: dict[str, str | None] = {}
        self._issuers: list[x509.Certificate] | None = None

    def cert(self, serial: str) -> x509.Certificate | None:
        if serial not in self.certs:
            der = self.der.get(serial)
            try:
                self.certs[serial] = load_certificate(der) if der else None
            except ValueError:
                self.certs[serial] = None
        return self.certs[serial]

    def problem(self, serial: str, cert: x509.Certificate, at: datetime) -> str | None:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return certificate_problem(cert, at)
        if serial not in self.chains:
            if self._issuers is None:
                self._issuers = [c for c in (self.cert(s) for s in self.der) if c is not None]
            self.chains[serial] = certificate_problem(
                cert, at, roots=self.roots, intermediates=[c for c in self._issuers if c != cert]
            )
        return self.chains[serial]


_CACHES: dict[int, _CertCache] = {}


def _batch_cache(certificates: Mapping[str, bytes], roots_der: Sequence[bytes]) -> _CertCache:
    key = hash((tuple(sorted(certificates.items())), tuple(roots_der)))
    cache = _CACHES.get(key)
    if cache is None:
        _CACHES.clear()
        cache = _CACHES[key] = _CertCache(certificates, [load_certificate(r) for r in roots_der])
    return cache


class _SignatureChecker:
    """Collects actor signatures and checks them in batches, in worker processes when many."""

    def __init__(
        self,
        certificates: Mapping[str, bytes],
        roots: Sequence[x509.Certificate],
        workers: int | None,
        problems: _Problems,
    ) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding

        self.certificates = dict(certificates)
        self.roots_der = [r.public_bytes(Encoding.DER) for r in roots]
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.problems = problems
        self.batch: list[_Item] = []
        self.futures: list[Future[list[tuple[int, str, str, str]]]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.checked = 0
        self.bad = 0

    def add(self, seq: int, act: str, at_text: str, body: bytes, signature: bytes, serial: str) -> None:
        self.batch.append((seq, act, at_text, body, signature, serial))
        if len(self.batch) >= SIGNATURE_BATCH:
            self._flush()

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        self.checked += len(batch)
        if self.workers > 1 and (self.pool is not None or self.checked > SIGNATURE_BATCH) and _can_fork():
            if self.pool is None:
                self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
            self.futures.append(self.pool.submit(_check_batch, self.certificates, self.roots_der, batch))
        else:
            self._report(_check_batch(self.certificates, self.roots_der, batch))

    def finish(self) -> None:
        self._flush()
        try:
            for future in self.futures:
                self._report(future.result())
        finally:
            if self.pool is not None:
                self.pool.shutdown()

    def _report(self, bad: list[tuple[int, str, str, str]]) -> None:
        for seq, act, kind, why in bad:
            self.bad += 1
            if kind == ProblemKind.ACTOR_SIGNATURE.value:
                self.problems.add(Problem(ProblemKind.ACTOR_SIGNATURE, seq, {"act": act, "serial": why}))
            else:
                self.problems.add(Problem(ProblemKind.ACTOR_CERTIFICATE, seq, {"act": act, "why": why}))


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


# --- helpers for readers ------------------------------------------------------------------------


def decode_signature(text: object) -> bytes | None:
    """A leaf's ``signature`` member (base64 or null) as bytes."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("signature is not a string")
    return base64.b64decode(text, validate=True)


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Right fold of subtree roots (biggest first), as the checker does it."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = hash_children(left, h)
    return h


def progress_every(n: int, callback: Callable[[int], None] | None, records: Iterable[Record]) -> Iterator[Record]:
    """Pass records through, calling ``callback(count)`` every ``n`` of them."""
    if callback is None:
        yield from records
        return
    count = 0
    for r in records:
        yield r
        count += 1
        if count % n == 0:
            callback(count)
    callback(count)
