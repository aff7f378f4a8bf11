"""The audit bundle: the whole log in plain files, checked on a machine with no database.

``edoc audit export --out DIR`` writes::

    DIR/manifest.json       what is in the bundle: format, origin, event count, root, SHA-256 of each file
    DIR/events.jsonl        one event per line, in sequence order; each line is *exactly* the
                            leaf the Merkle tree hashed (canonical JSON, UTF-8)
    DIR/checkpoints.jsonl   one signed checkpoint per line, with its witnesses' countersignatures
                            and its RFC 3161 time-stamp token (base64 DER) when it has one
    DIR/keys/<key id>.pem   the office's audit public key(s)
    DIR/certs/<serial>.pem  every certificate that signed an event or a checkpoint, and their issuers
                            (the TSA's too)
    DIR/views/*.jsonl       the office's tables as they stood at the export (registers, deliveries,
                            document numbers, the directory): one ``{"key", "row"}`` per line
    DIR/README.txt          how to check it (English and Thai)

:func:`verify_bundle` checks it with the same engine as the office's own check
(:func:`edoc.audit.verify.check_log`), trusting only the audit key the auditor was given
separately (``--key AUDIT_KEY.pem``) and, optionally, the pilot's root certificate for actors'
and witnesses' certificates. It imports nothing from the database layer.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from edoc.audit.checkpoint import AuditPublicKey, Checkpoint, Cosignature, key_id, load_public_key
from edoc.audit.events import Event, format_time
from edoc.audit.signers import load_certificate
from edoc.audit.verify import AuditReport, Outside, Problem, ProblemKind, Record, check_log, decode_signature
from edoc.audit.views import HistoryEntry
from edoc.errors import BundleInvalid

FORMAT = "edoc-audit-bundle/v1"
WITNESS_COPY = "edoc-audit-witness-copy/v1"
_LEAF_KEYS = ("act", "actor", "agency", "at", "document_id", "payload", "seq", "signature", "signer_cert")

README = """edoc audit bundle
=================

This directory is a complete copy of an edoc office's audit log. Check it, on any machine,
with the office's audit public key obtained separately (not from this directory):

    edoc audit verify --bundle DIR --key AUDIT_KEY.pem [--trust ROOT.pem] [--checkpoint SAVED.json]

events.jsonl holds one event per line; each line is exactly the leaf of the Merkle tree
(RFC 9162: leaf hash = SHA-256(0x00 || line), node = SHA-256(0x01 || left || right)).
checkpoints.jsonl holds the signed checkpoints (tree size, root, time), signed by the audit
key over the text in their "text" member, and the countersignatures of witnessing agencies.
A checkpoint's "timestamp_token" (base64 DER), when present, is an RFC 3161 time-stamp over
SHA-256 of that text; OpenSSL alone can check it:

    openssl ts -verify -data TEXT_FILE -in TOKEN.der -token_in -CAfile ROOT.pem

ชุดข้อมูลตรวจสอบของ edoc
=========================

ไดเรกทอรีนี้คือสำเนาครบถ้วนของบันทึกตรวจสอบของสำนักงาน ตรวจสอบได้บนเครื่องใดก็ได้
โดยใช้กุญแจสาธารณะสำหรับตรวจสอบของสำนักงานที่ได้รับแยกต่างหาก (ไม่ใช่จากไดเรกทอรีนี้):

    edoc audit verify --bundle DIR --key AUDIT_KEY.pem [--trust ROOT.pem] [--checkpoint SAVED.json]

ช่อง "timestamp_token" ของจุดตรวจ (ถ้ามี) คือตราประทับเวลา RFC 3161 ของ SHA-256 ของข้อความใน "text"
ซึ่งตรวจด้วย OpenSSL ได้เช่นกัน (คำสั่งด้านบน)
"""


@dataclass(frozen=True)
class BundleSummary:
    """What :func:`write_bundle` wrote."""

    path: Path
    """The bundle directory."""
    events: int
    """Events written."""
    root: str
    """Root of the tree of those events, hex."""
    checkpoints: int
    """Checkpoints written."""
    latest_checkpoint: int | None
    """Size of the newest checkpoint."""
    certificates: int
    """Certificates written."""


def write_bundle(
    out: Path,
    *,
    leaves: Iterable[bytes],
    checkpoints: Sequence[Checkpoint],
    cosignatures: Sequence[Cosignature],
    tokens: Mapping[int, bytes],
    keys: Sequence[str],
    certificates: Mapping[str, bytes],
    origin: str,
    office: str,
    exported_at: datetime,
    views: Mapping[str, Iterable[tuple[Any, Any]]] | None = None,
) -> BundleSummary:
    """Write a bundle to ``out`` (a new or empty directory), atomically: into a sibling
    temporary directory first, renamed into place when complete."""
    from edoc.audit.check import TreeChecker, hash_leaf

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleInvalid(str(out), "exists and is not an empty directory; give a new --out")
    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "keys").mkdir(parents=True)
    (tmp / "certs").mkdir()
    try:
        digests: dict[str, str] = {}
        tree = TreeChecker()
        h = hashlib.sha256()
        with open(tmp / "events.jsonl", "wb") as fh:
            for leaf in leaves:
                line = leaf + b"\n"
                fh.write(line)
                h.update(line)
                tree.add(hash_leaf(leaf))
            _sync(fh)
        digests["events.jsonl"] = h.hexdigest()
        by_size: dict[int, list[dict[str, object]]] = {}
        for cs in cosignatures:
            by_size.setdefault(cs.size, []).append(cs.to_json())
        lines = []
        for cp in checkpoints:
            token = tokens.get(cp.size)
            item = {
                **cp.to_json(),
                "witnesses": by_size.get(cp.size, []),
                "timestamp_token": None if token is None else _b64(token),
            }
            lines.append(json.dumps(item, ensure_ascii=False, sort_keys=True))
        digests["checkpoints.jsonl"] = _write(tmp / "checkpoints.jsonl", "".join(f"{x}\n" for x in lines).encode())
        for pem in keys:
            kid = key_id(load_public_key(pem))
            digests[f"keys/{kid}.pem"] = _write(tmp / "keys" / f"{kid}.pem", pem.encode())
        for serial, der in sorted(certificates.items()):
            pem_bytes = load_certificate(der).public_bytes(serialization.Encoding.PEM)
            digests[f"certs/{serial}.pem"] = _write(tmp / "certs" / f"{serial}.pem", pem_bytes)
        for name, rows in (views or {}).items():
            (tmp / "views").mkdir(exist_ok=True)
            file = f"views/{view_file(name)}"
            digests[file] = _write_lines(tmp / file, (_view_line(k, v) for k, v in rows))
        digests["README.txt"] = _write(tmp / "README.txt", README.encode())
        manifest = {
            "format": FORMAT,
            "office": office,
            "origin": origin,
            "exported_at": format_time(exported_at),
            "events": tree.size,
            "root": tree.root().hex(),
            "checkpoints": len(checkpoints),
            "files": digests,
        }
        _write(
            tmp / "manifest.json", (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
        )
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BundleSummary(
        out,
        tree.size,
        tree.root().hex(),
        len(checkpoints),
        checkpoints[-1].size if checkpoints else None,
        len(certificates),
    )


def view_file(name: str) -> str:
    """The file of a view in a bundle's ``views/`` (``registers.jsonl``, ``document-numbers.jsonl``)."""
    return name.replace(" ", "-") + ".jsonl"


def _plain_json(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain_json(v) for v in value]
    return value


def _view_line(key: Any, row: Any) -> bytes:
    item = {"key": _plain_json(key), "row": _plain_json(row) if not isinstance(row, dict) else row}
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _write_lines(path: Path, lines: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    with open(path, "wb") as fh:
        for line in lines:
            fh.write(line)
            h.update(line)
        _sync(fh)
    return h.hexdigest()


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def read_view(path: Path) -> Iterator[tuple[Any, Any]]:
    """The rows of a view file: ``(key, row)``, lists read back as tuples (keys, evidence) except
    a positional row itself, which stays a list."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
                key, row = item["key"], item["row"]
            except (ValueError, KeyError, TypeError) as exc:
                raise BundleInvalid(str(path), f"line {number}: {exc}") from None
            yield _tupled(key), ([_tupled(v) for v in row] if isinstance(row, list) else row)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _sync(fh: Any) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _write(path: Path, data: bytes) -> str:
    with open(path, "wb") as fh:
        fh.write(data)
        _sync(fh)
    return hashlib.sha256(data).hexdigest()


# --- reading ------------------------------------------------------------------------------------


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer")


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def read_leaves(path: Path, problems: list[Problem], digest: Any = None) -> Iterator[Record]:
    """Records from an ``events.jsonl``; malformed lines become problems (and are still hashed,
    so the tree check fails too)."""
    loads = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_constant).decode
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh):
            if digest is not None:
                digest.update(raw)
            leaf = raw[:-1] if raw.endswith(b"\n") else raw
            try:
                obj = loads(leaf.decode("utf-8"))
                if not isinstance(obj, dict) or tuple(sorted(obj)) != _LEAF_KEYS:
                    raise ValueError("it does not have exactly the members of an event")
                if _canonical(obj) != leaf:
                    raise ValueError("it is not in canonical form")
                seq = obj["seq"]
                act = obj["act"]
                at = obj["at"]
                serial = obj["signer_cert"]
                if not isinstance(seq, int) or not isinstance(act, str) or not isinstance(at, str):
                    raise ValueError("seq, act or at has the wrong type")
                if serial is not None and not isinstance(serial, str):
                    raise ValueError("signer_cert is not a string")
                signature = decode_signature(obj["signature"])
                datetime.fromisoformat(at)
            except (UnicodeDecodeError, ValueError) as exc:
                problems.append(Problem(ProblemKind.MALFORMED, number, {"why": f"line {number + 1}: {exc}"}))
                yield number, leaf, None, "", "", None, None
                continue
            yield seq, leaf, None, act, at, signature, serial


@dataclass(frozen=True)
class BundleContents:
    """Everything in a bundle but the events (which are streamed)."""

    path: Path
    manifest: dict[str, Any]
    checkpoints: list[Checkpoint]
    cosignatures: list[Cosignature]
    keys: dict[str, AuditPublicKey]
    certificates: dict[str, bytes]
    tokens: dict[int, bytes]
    """Checkpoints' RFC 3161 time-stamp tokens (DER) by checkpoint size."""


def open_bundle(path: Path | str) -> BundleContents:
    """Read a bundle's small files (BundleInvalid naming what is missing or unreadable)."""
    root = Path(path)
    if not root.is_dir():
        raise BundleInvalid(str(root), "not a directory")
    for name in ("manifest.json", "events.jsonl", "checkpoints.jsonl"):
        if not (root / name).is_file():
            raise BundleInvalid(str(root), f"{name} is missing")
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleInvalid(str(root), f"manifest.json: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleInvalid(str(root), f"manifest.json is not {FORMAT}")
    checkpoints, cosignatures = read_checkpoints(root / "checkpoints.jsonl")
    tokens = read_timestamp_tokens(root / "checkpoints.jsonl")
    keys: dict[str, AuditPublicKey] = {}
    for pem in sorted((root / "keys").glob("*.pem")) if (root / "keys").is_dir() else []:
        try:
            key = load_public_key(pem.read_bytes())
        except ValueError as exc:
            raise BundleInvalid(str(pem), str(exc)) from None
        keys[key_id(key)] = key
    certs: dict[str, bytes] = {}
    for pem in sorted((root / "certs").glob("*.pem")) if (root / "certs").is_dir() else []:
        try:
            cert = load_certificate(pem.read_bytes())
        except ValueError as exc:
            raise BundleInvalid(str(pem), f"not a certificate: {exc}") from None
        certs[pem.stem] = cert.public_bytes(serialization.Encoding.DER)
    return BundleContents(root, manifest, checkpoints, cosignatures, keys, certs, tokens)


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[Cosignature]]:
    """Checkpoints and countersignatures from a ``checkpoints.jsonl``."""
    checkpoints: list[Checkpoint] = []
    cosignatures: list[Cosignature] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleInvalid(str(path), str(exc)) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            checkpoints.append(Checkpoint.from_json(item))
            cosignatures.extend(Cosignature.from_json(w) for w in item.get("witnesses", []))
        except (ValueError, AttributeError, TypeError) as exc:
            raise BundleInvalid(str(path), f"line {number}: {exc}") from None
    return checkpoints, cosignatures


def read_timestamp_tokens(path: Path) -> dict[int, bytes]:
    """The RFC 3161 tokens in a ``checkpoints.jsonl`` (member ``timestamp_token``, base64 DER)."""
    import base64
    import binascii

    tokens: dict[int, bytes] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        token = item.get("timestamp_token") if isinstance(item, dict) else None
        if token is None:
            continue
        try:
            if not isinstance(token, str):
                raise ValueError("it is not a base64 string")
            tokens[int(item["size"])] = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BundleInvalid(str(path), f"line {number}: timestamp_token: {exc}") from None
    return tokens


def load_outside(path: Path | str) -> list[Outside]:
    """Checkpoints kept outside the office: a saved checkpoint or witness copy (JSON), a
    ``checkpoints.jsonl``, or a whole earlier bundle directory."""
    p = Path(path)
    if p.is_dir():
        if not (p / "checkpoints.jsonl").is_file():
            raise BundleInvalid(str(p), "a directory given as a checkpoint must be an audit bundle")
        return [Outside(cp, f"{p.name}: checkpoint {cp.size}") for cp in read_checkpoints(p / "checkpoints.jsonl")[0]]
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleInvalid(str(p), str(exc)) from None
    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else [data]
    except ValueError:
        try:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise BundleInvalid(str(p), f"not JSON: {exc}") from None
    out = []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise ValueError("not an object")
            if "checkpoint" in item and isinstance(item["checkpoint"], dict):
                item = item["checkpoint"]
            cp = Checkpoint.from_json(item)
        except ValueError as exc:
            raise BundleInvalid(str(p), str(exc)) from None
        out.append(Outside(cp, f"{p.name} (size {cp.size})"))
    if not out:
        raise BundleInvalid(str(p), "holds no checkpoint")
    return out


def load_roots(paths: Iterable[Path | str]) -> list[x509.Certificate]:
    """Trust anchors from PEM or DER files (a PEM file may hold several)."""
    roots: list[x509.Certificate] = []
    for path in paths:
        data = Path(path).read_bytes() if Path(path).is_file() else None
        if data is None:
            raise BundleInvalid(str(path), "no such file")
        try:
            if b"-----BEGIN" in data:
                roots.extend(x509.load_pem_x509_certificates(data))
            else:
                roots.append(x509.load_der_x509_certificate(data))
        except ValueError as exc:
            raise BundleInvalid(str(path), f"not a certificate: {exc}") from None
    return roots


def load_key(path: Path | str) -> AuditPublicKey:
    try:
        return load_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise BundleInvalid(str(path), exc.strerror or str(exc)) from None
    except ValueError as exc:
        raise BundleInvalid(str(path), str(exc)) from None


def verify_bundle(
    path: Path | str,
    key: AuditPublicKey | Path | str,
    *,
    trust: Sequence[x509.Certificate] = (),
    outside: Sequence[Outside] = (),
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Check a bundle against the audit key the auditor trusts (no database, no office).

    Fails (``ok`` False) unless at least one checkpoint is signed by ``key`` and every check of
    :func:`edoc.audit.verify.check_log` passes.
    """
    from itertools import chain

    from edoc.audit.verify import progress_every
    from edoc.audit.views import LogViews

    public = key if not isinstance(key, Path | str) else load_key(key)
    contents = open_bundle(path)
    problems: list[Problem] = []
    digest = hashlib.sha256()
    views = LogViews()
    records = views.tap(read_leaves(contents.path / "events.jsonl", problems, digest))
    report = check_log(
        progress_every(50_000, progress, records),
        checkpoints=contents.checkpoints,
        keys={key_id(public): public},
        cosignatures=contents.cosignatures,
        certificates=contents.certificates,
        roots=trust,
        outside=outside,
        extra=chain(problems, _bundle_view_problems(contents.path, views)),  # after the events
        require_checkpoint=True,
        workers=workers,
        timestamps=contents.tokens,
    )
    from dataclasses import replace

    report = replace(report, notes=(*report.notes, _bundle_views_note(contents.path, views)))
    files = contents.manifest.get("files", {})
    if isinstance(files, dict) and files.get("events.jsonl") not in (None, digest.hexdigest()):
        note = "events.jsonl differs from the manifest's hash (the manifest is not signed; the checks above decide)"
        return replace(report, notes=(*report.notes, note))
    return report


def _bundle_view_problems(root: Path, views: Any) -> Iterator[Problem]:
    """The bundle's tables (``views/``) against the views folded from its events."""
    from edoc.audit.views import DIRECTORY_VIEWS, FIELDS

    tables: dict[str, Any] = {}
    for view in DIRECTORY_VIEWS:
        file = root / "views" / view_file(view.name)
        if file.is_file():
            tables[view.name] = dict(read_view(file))
    for name in FIELDS:
        file = root / "views" / view_file(name)
        if file.is_file():
            tables[name] = read_view(file)
    yield from views.problems(tables)


def _bundle_views_note(root: Path, views: Any) -> str:
    if not (root / "views").is_dir():
        return "the bundle carries no tables (views/): only the log itself was checked"
    n = views.counts()
    return "the bundle's tables compared with its log: " + ", ".join(
        f"{count} {name}" for name, count in n.items() if (root / "views" / view_file(name)).is_file()
    )


def bundle_history(path: Path | str, document_id: int) -> list[HistoryEntry]:
    """A document's history read from a bundle alone: its events and those of the copies
    delivered from it (``doc.deliver`` events naming it as ``parent``), in log order.

    The bundle is not verified here: run :func:`verify_bundle` first.
    """
    from edoc.audit.checkpoint import parse_time
    from edoc.audit.views import document_history

    root = Path(path)
    if not (root / "events.jsonl").is_file():
        raise BundleInvalid(str(root), "events.jsonl is missing")

    def events() -> Iterator[Event]:
        with open(root / "events.jsonl", "rb") as fh:
            for raw in fh:
                if b'"document_id":' not in raw:
                    continue
                obj = json.loads(raw)
                if obj.get("document_id") is None:
                    continue
                yield Event(
                    obj["seq"],
                    parse_time(obj["at"]),
                    obj["actor"],
                    obj["agency"],
                    obj["act"],
                    obj["document_id"],
                    obj.get("payload") or {},
                    decode_signature(obj.get("signature")),
                    obj.get("signer_cert"),
                )

    return document_history(events(), document_id)
