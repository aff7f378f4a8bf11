"""Verify signed PDFs for auditors: a verdict on any file, with reasons, that crafted files cannot fool.

``verify_pdf(data_or_path, trust=[root.pem])`` needs no office, no database and no network: the
file and the root certificate(s) the auditor trusts are enough. It returns a
:class:`VerificationReport` with ETSI EN 319 102-1 indications for the file and for each
signature, and plain reasons in Thai and English.

The verification itself (:mod:`.engine`) parses hostile input, so by default it runs in a
worker process with a deadline and a memory limit (:mod:`.sandbox`); ``isolate=False`` runs it
in this process (faster for a single trusted file, but a hostile one could hang it).

This module imports nothing heavy: pyHanko and PDFium load in the worker.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from edoc.errors import InvalidField
from edoc.signing.verify.report import (
    ChangeKind,
    Coverage,
    Indication,
    Level,
    Modifications,
    PageChange,
    Reason,
    Revocation,
    SignatureKind,
    SignatureReport,
    Signer,
    VerificationReport,
)

__all__ = [
    "ChangeKind",
    "Coverage",
    "Indication",
    "Level",
    "Modifications",
    "PageChange",
    "Reason",
    "Revocation",
    "SignatureKind",
    "SignatureReport",
    "Signer",
    "VerificationReport",
    "load_trust",
    "verify_files",
    "verify_pdf",
]

MAX_FILE_SIZE = 2 * 1024**3
"""Files larger than this (2 GiB) are refused with a verdict rather than read."""

TrustItem = str | os.PathLike[str] | bytes | Any
"""A trust anchor: a path to a PEM or DER certificate file, the certificate's bytes, or a
certificate object (``asn1crypto.x509.Certificate`` or ``cryptography.x509.Certificate``)."""


def load_trust(trust: Iterable[TrustItem]) -> tuple[bytes, ...]:
    """The trust anchors as DER bytes; a file may hold several PEM certificates.

    Raises :class:`~edoc.errors.InvalidField` (``trust``) naming the anchor that is not a
    certificate. The operating system's trust store is never consulted.
    """
    from asn1crypto import pem, x509

    if isinstance(trust, (str, bytes, os.PathLike)):
        trust = [trust]
    out: list[bytes] = []
    for item in trust:
        label = str(item) if isinstance(item, (str, os.PathLike)) else type(item).__name__
        if isinstance(item, (str, os.PathLike)):
            try:
                raw = Path(item).read_bytes()
            except OSError as exc:
                raise InvalidField("trust", f"cannot read {item}: {exc.strerror or exc}") from exc
        elif isinstance(item, (bytes, bytearray, memoryview)):
            raw = bytes(item)
        elif hasattr(item, "dump") and callable(item.dump):  # asn1crypto
            raw = item.dump()
        elif hasattr(item, "public_bytes"):  # cryptography
            from cryptography.hazmat.primitives.serialization import Encoding

            raw = item.public_bytes(Encoding.DER)
        else:
            raise TypeError(f"a trust anchor must be a path, bytes or a certificate, not {type(item).__name__}")
        ders = [der for _t, _h, der in pem.unarmor(raw, multiple=True)] if pem.detect(raw) else [raw]
        if not ders:
            raise InvalidField("trust", f"{label} holds no certificate")
        for der in ders:
            try:
                cert = x509.Certificate.load(der)
                cert.native  # noqa: B018 - force a full parse now, not in the worker
            except Exception as exc:
                raise InvalidField("trust", f"{label} is not an X.509 certificate ({exc})") from exc
            out.append(cert.dump())
    return tuple(out)


def _options(
    trust: Iterable[TrustItem],
    at: datetime | None,
    allow_fetching: bool,
    visual: bool,
    keep_images: bool,
) -> Any:
    from edoc.signing.verify.options import Options

    if at is not None:
        if not isinstance(at, datetime):
            raise TypeError(f"at must be a datetime, not {type(at).__name__}")
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidField("at", "give a time with its time zone, e.g. 2026-11-22T10:00:00+07:00")
    return Options(
        trust=load_trust(trust),
        at=at,
        allow_fetching=bool(allow_fetching),
        visual=bool(visual),
        keep_images=bool(keep_images),
    )


def _source(data_or_path: Any) -> tuple[str | bytes, str, int]:
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        data = bytes(data_or_path)
        return data, "<bytes>", len(data)
    if isinstance(data_or_path, (str, os.PathLike)):
        path = Path(data_or_path)
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            from edoc.errors import VerifyFileNotFound

            raise VerifyFileNotFound(str(path)) from exc
        except OSError as exc:
            raise InvalidField("file", f"cannot read {path}: {exc.strerror or exc}") from exc
        if path.is_dir():
            raise InvalidField("file", f"{path} is a directory, not a PDF file")
        return str(path), str(data_or_path), size
    raise TypeError(f"expected a path or the file's bytes, not {type(data_or_path).__name__}")


_pool_lock = threading.Lock()
_pools: dict[tuple[int, float, int], Any] = {}


def _pool(workers: int, timeout: float, memory_mb: int) -> Any:
    from edoc.signing.verify.sandbox import WorkerPool

    key = (workers, float(timeout), memory_mb)
    with _pool_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = WorkerPool(workers, timeout=timeout, memory_mb=memory_mb)
        return pool


@atexit.register
def _close_pools() -> None:
    import contextlib

    for pool in list(_pools.values()):
        with contextlib.suppress(Exception):
            pool.close()
    _pools.clear()


def verify_pdf(
    data_or_path: str | os.PathLike[str] | bytes,
    trust: Iterable[TrustItem] = (),
    at: datetime | None = None,
    *,
    allow_fetching: bool = False,
    visual: bool = True,
    timeout: float | None = None,
    memory_mb: int | None = None,
    isolate: bool = True,
    keep_images: bool = False,
) -> VerificationReport:
    """Verify one PDF (a path or its bytes) against the trust anchors given.

    :param trust: root certificates to trust (paths to PEM/DER files, bytes or certificate
        objects). Without any, no signer can be confirmed and the verdict is at best
        INDETERMINATE. The operating system's store is never used.
    :param at: judge validity as of this (aware) time instead of now.
    :param allow_fetching: fetch CRLs and OCSP responses online when the file lacks them.
    :param visual: render the pages as signed and as they are now and compare them.
    :param timeout: seconds the verification may take (default 60); then INDETERMINATE.
    :param memory_mb: address space the worker may use (default 3072).
    :param isolate: run in a worker process that can be stopped (default); False runs here.
    :param keep_images: keep before/after images of changed pages (for the HTML report).
    """
    from edoc.signing.verify import sandbox

    options = _options(trust, at, allow_fetching, visual, keep_images)
    source, name, size = _source(data_or_path)
    if size > MAX_FILE_SIZE:
        return _too_large(name, size, options)
    if not isolate:
        from edoc.signing.verify.engine import analyse

        return analyse(source, name, options)
    pool = _pool(1, timeout or sandbox.DEFAULT_TIMEOUT, memory_mb or sandbox.DEFAULT_MEMORY_MB)
    for _index, report in pool.run([sandbox.Job(source, name, options)]):
        return report
    raise AssertionError("the worker pool returned no report")  # pragma: no cover


def verify_files(
    paths: Sequence[str | os.PathLike[str]],
    trust: Iterable[TrustItem] = (),
    at: datetime | None = None,
    *,
    allow_fetching: bool = False,
    visual: bool = True,
    timeout: float | None = None,
    memory_mb: int | None = None,
    workers: int | None = None,
    keep_images: bool = False,
) -> Iterator[tuple[int, VerificationReport]]:
    """Verify many files on all cores; yield ``(index, report)`` as each one finishes.

    Every path is checked to exist before any work starts (a missing one raises
    :class:`~edoc.errors.VerifyFileNotFound`).
    """
    from edoc.signing.verify import sandbox

    options = _options(trust, at, allow_fetching, visual, keep_images)
    sources = [_source(p) for p in paths]
    jobs = []
    early: list[tuple[int, VerificationReport]] = []
    for index, (source, name, size) in enumerate(sources):
        if size > MAX_FILE_SIZE:
            early.append((index, _too_large(name, size, options)))
        jobs.append(sandbox.Job(source, name, options))
    yield from early
    skip = {i for i, _r in early}
    count = workers or min(len(jobs), os.cpu_count() or 1) or 1
    pool = _pool(max(1, count), timeout or sandbox.DEFAULT_TIMEOUT, memory_mb or sandbox.DEFAULT_MEMORY_MB)
    todo = [(i, j) for i, j in enumerate(jobs) if i not in skip]
    for position, report in pool.run([j for _i, j in todo]):
        yield todo[position][0], report


def _too_large(name: str, size: int, options: Any) -> VerificationReport:
    from datetime import UTC

    return VerificationReport(
        file=name,
        indication=Indication.INDETERMINATE,
        signatures=(),
        reasons=(Reason.of("too_large", size=size, limit=MAX_FILE_SIZE),),
        size=size,
        checked_at=(options.at or datetime.now(UTC)).astimezone(UTC),
    )
