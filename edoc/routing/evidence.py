"""Delivery evidence on disk, and its offline check with nothing but the agencies' certificates.

``edoc doc evidence ID --out DIR`` writes::

    DIR/manifest.json                      document id, number, subject, consignments and files
    DIR/<consignment>/<seq>-<kind>.json    the exact bytes the seal signed (canonical JSON)
    DIR/<consignment>/<seq>-<kind>.p7s     the seal's detached CMS SignedData (DER)
    DIR/certs/<serial>.pem                 the seals' certificates and their issuing chains

:func:`check_folder` checks every record against trusted root certificates: the CMS signature
and the chain (:func:`edoc.routing.seals.check_signature`), that the seal belongs to the agency
the record names (its certificate's ``UID=agency:<CODE>``), and that each consignment's records
form an unbroken chain in a legal order (:func:`edoc.routing.delivery.check_chain`). Any CMS tool
does the signature part alone::

    openssl cms -verify -binary -inform DER -in 0-submission-accepted.p7s \\
        -content 0-submission-accepted.json -CAfile root.pem -purpose any
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from edoc.errors import InvalidField
from edoc.routing.delivery import Evidence, check_chain
from edoc.routing.model import DocumentStatus
from edoc.routing.seals import check_signature

MANIFEST = "manifest.json"


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_folder(out: Path, status: DocumentStatus, certificates: Sequence[bytes]) -> dict[str, Any]:
    """Write the evidence of ``status`` to ``out`` (created; must be empty if it exists)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidField("out", f"{out} exists and is not an empty folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "certs").mkdir(exist_ok=True)
        consignments = []
        for r in status.recipients:
            folder = out / r.consignment
            folder.mkdir(exist_ok=True)
            files = []
            for rec in r.evidence:
                stem = f"{rec.evidence.seq}-{rec.evidence.kind.value}"
                _write(folder / f"{stem}.json", rec.evidence.encode())
                _write(folder / f"{stem}.p7s", rec.signature)
                files.append({"record": f"{r.consignment}/{stem}.json", "signature": f"{r.consignment}/{stem}.p7s"})
            consignments.append(
                {"agency": r.agency, "consignment": r.consignment, "state": r.state.value, "files": files}
            )
        seen: set[bytes] = set()
        for der in certificates:
            if der in seen:
                continue
            seen.add(der)
            cert = x509.load_der_x509_certificate(der)
            _write(out / "certs" / f"{cert.serial_number:x}.pem", cert.public_bytes(serialization.Encoding.PEM))
        manifest = {
            "type": "edoc-delivery-evidence-folder/1",
            "document": {"id": status.id, "number": status.number, "state": status.state},
            "consignments": consignments,
            "certificates": len(seen),
        }
        _write(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    except OSError as exc:
        raise InvalidField("out", f"cannot write {out}: {exc.strerror or exc}") from None
    return manifest


@dataclass(frozen=True)
class RecordCheck:
    """The offline check of one evidence record."""

    file: str
    """The record's file, relative to the folder."""
    consignment: str
    """Its consignment."""
    kind: str
    """What it attests."""
    agency: str
    """The agency that should have sealed it."""
    signer: str
    """Subject of the certificate that did."""
    ok: bool
    """True when every check passed."""
    problems: tuple[str, ...] = ()
    """What failed, in plain sentences."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "consignment": self.consignment,
            "kind": self.kind,
            "agency": self.agency,
            "signer": self.signer,
            "ok": self.ok,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class FolderCheck:
    """The offline check of an evidence folder."""

    records: tuple[RecordCheck, ...]
    """One per record."""
    problems: tuple[str, ...] = field(default=())
    """Problems of the folder or of a consignment's chain as a whole."""

    @property
    def ok(self) -> bool:
        return bool(self.records) and not self.problems and all(r.ok for r in self.records)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": [r.to_json() for r in self.records],
            "problems": list(self.problems),
        }


def seal_agency(cert: x509.Certificate) -> str | None:
    """The agency code a seal certificate names (``UID=agency:<CODE>``), or None."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.USER_ID):
        value = attr.value if isinstance(attr.value, str) else attr.value.decode()
        if value.startswith("agency:"):
            return value[len("agency:") :]
    return None


def load_pem_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        return [x509.load_der_x509_certificate(data)]


def check_folder(folder: Path, trusted: Sequence[x509.Certificate]) -> FolderCheck:
    """Check every evidence record in ``folder`` against the ``trusted`` root certificates."""
    problems: list[str] = []
    extra: list[x509.Certificate] = []
    certs = folder / "certs"
    if certs.is_dir():
        for path in sorted(certs.glob("*.pem")):
            extra.extend(load_pem_certificates(path.read_bytes()))
    checks: list[RecordCheck] = []
    folders = sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "certs") if folder.is_dir() else []
    if not folders:
        problems.append(f"{folder} holds no consignments")
    manifest_path = folder / MANIFEST
    listed: set[str] = set()
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            for c in manifest.get("consignments", []):
                listed.update(f["record"] for f in c.get("files", []))
        except (ValueError, AttributeError, TypeError) as exc:
            problems.append(f"{MANIFEST} cannot be read: {exc}")
    for sub in folders:
        records: list[Evidence] = []
        for path in sorted(sub.glob("*.json"), key=lambda p: _seq(p.name)):
            rel = f"{sub.name}/{path.name}"
            listed.discard(rel)
            data = path.read_bytes()
            sig_path = path.with_suffix(".p7s")
            try:
                record = Evidence.decode(data)
            except ValueError as exc:
                checks.append(RecordCheck(rel, sub.name, "?", "?", "", False, (f"not an evidence record: {exc}",)))
                continue
            mine: list[str] = []
            if record.consignment != sub.name:
                mine.append(f"the record is of consignment {record.consignment}, filed under {sub.name}")
            if not sig_path.is_file():
                checks.append(
                    RecordCheck(
                        rel, record.consignment, record.kind.value, record.agency, "", False, ("no signature file",)
                    )
                )
                records.append(record)
                continue
            result = check_signature(data, sig_path.read_bytes(), trusted, extra_certificates=extra)
            mine.extend(result.problems)
            if result.certificate is not None:
                owner = seal_agency(result.certificate)
                if owner != record.agency:
                    mine.append(f"sealed by {owner or result.signer}, not by the seal of agency {record.agency}")
            if result.signing_time is not None and abs((result.signing_time - record.at).total_seconds()) > 1:
                mine.append("the signing time differs from the time in the record")
            checks.append(
                RecordCheck(
                    rel, record.consignment, record.kind.value, record.agency, result.signer, not mine, tuple(mine)
                )
            )
            records.append(record)
        problems.extend(check_chain(records))
    for missing in sorted(listed):
        problems.append(f"{missing} is listed in the manifest but missing")
    return FolderCheck(tuple(checks), tuple(problems))


def _seq(name: str) -> int:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else 1 << 30
