"""Signing many documents at once, on every core, with one unlock.

:func:`sign_batch` takes jobs (a PDF and what to sign in it) and one signer's credentials and
yields one :class:`~edoc.signing.model.BatchOutcome` per job as each finishes: the signed
result, or the reason it failed. A bad document (not a PDF, a field already signed ...) fails
alone; the others go on.

Workers are processes (signing is CPU-bound Python: threads would share one core). With a key
in memory the workers are *forked* after the key was unlocked, so they inherit the unlocked key
object: it is unlocked once, never serialised, never written anywhere. A PKCS#11 token cannot
be shared across a fork, so each worker opens its own session and logs in once (the PIN travels
to it over the pool's pipe, never on a command line or in a file).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any

from edoc.errors import EdocError
from edoc.signing.keys import Credentials, Pkcs11Key, SigningKey
from edoc.signing.model import Appearance, BatchOutcome, FieldBox, Level
from edoc.signing.services import Services


@dataclass(frozen=True)
class Job:
    """One document to sign in a batch."""

    key: Any
    """The caller's key for this job (a document id); returned in its outcome."""
    pdf: bytes = dc_field(repr=False)
    """The PDF to sign."""
    field: str
    """The field to sign (existing, or new with ``create``)."""
    level: Level = Level.B_B
    """The PAdES level."""
    appearance: Appearance | None = None
    """What the visible signature shows."""
    create: bool = False
    """Make a new field (visible at ``place``, else invisible)."""
    place: FieldBox | None = None
    """Where a new visible field goes."""
    lock: tuple[str, ...] | None = None
    """What a new field's signature locks (see :func:`~edoc.signing.sign_pdf`; ``()``: itself only)."""
    reason: str | None = None
    """The signature's /Reason."""
    location: str | None = None
    """The signature's /Location."""
    when: datetime | None = None
    """Signing time (default: when the worker signs)."""
    tz: str = "Asia/Bangkok"
    """Time zone of the date shown in a visible signature."""
    extra: dict[str, Any] = dc_field(default_factory=dict)
    """Anything the caller wants back in the outcome."""


# What forked workers inherit: set just before the pool is made, read by the initializer.
_SHARED: dict[str, Any] = {}
_WORKER: dict[str, Any] = {}


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def sign_batch(
    jobs: Iterable[Job],
    credentials: Credentials | SigningKey,
    *,
    services: Services | None = None,
    workers: int | None = None,
    on_done: Callable[[BatchOutcome], None] | None = None,
) -> Iterator[BatchOutcome]:
    """Sign every job with one signer; yield each outcome as it completes (not in job order).

    ``workers``: processes to use (default: one per core; 1 signs in this process). A
    :class:`SigningKey` given here is used as is in this process (its key is forked into the
    workers); :class:`Credentials` are opened once per process.
    """
    job_list = list(jobs)
    if not job_list:
        return
    count = workers if workers is not None else default_workers()
    count = max(1, min(count, len(job_list)))
    if count == 1 or not _can_fork():
        key = credentials if isinstance(credentials, SigningKey) else SigningKey(credentials)
        try:
            for job in job_list:
                outcome = _do(job, key, services)
                if on_done is not None:
                    on_done(outcome)
                yield outcome
        finally:
            if not isinstance(credentials, SigningKey):
                key.close()
        return
    creds = credentials.credentials if isinstance(credentials, SigningKey) else credentials
    yield from _pooled(job_list, creds, services, count, on_done)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _pooled(
    jobs: list[Job],
    creds: Credentials,
    services: Services | None,
    count: int,
    on_done: Callable[[BatchOutcome], None] | None,
) -> Iterator[BatchOutcome]:
    ctx: Any
    if creds.pkcs11 is not None:
        ctx = multiprocessing.get_context("spawn")
        initargs: tuple[Any, ...] = (_portable(creds), services)
        initializer: Callable[..., None] = _init_spawned
    else:
        ctx = multiprocessing.get_context("fork")
        _SHARED.update(credentials=creds, services=services)
        initargs = ()
        initializer = _init_forked
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=ctx, initializer=initializer, initargs=initargs) as pool:
            pending: dict[Future[BatchOutcome], Job] = {}
            queue = iter(jobs)
            window = count * 4  # keep every worker busy without holding all PDFs in flight

            def submit_next() -> bool:
                job = next(queue, None)
                if job is None:
                    return False
                pending[pool.submit(_work, job)] = job
                return True

            for _ in range(window):
                if not submit_next():
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    try:
                        outcome = future.result()
                    except BaseException as exc:  # a worker died: report it for this job
                        outcome = _failed(job, exc, 0.0)
                    if on_done is not None:
                        on_done(outcome)
                    yield outcome
                    submit_next()
    finally:
        _SHARED.clear()


def _portable(creds: Credentials) -> tuple[bytes, tuple[bytes, ...], Pkcs11Key | None, str]:
    from cryptography.hazmat.primitives.serialization import Encoding

    return (
        creds.certificate.public_bytes(Encoding.DER),
        tuple(c.public_bytes(Encoding.DER) for c in creds.chain),
        creds.pkcs11,
        creds.owner,
    )


def _init_forked() -> None:
    creds = _SHARED["credentials"]
    _WORKER["key"] = SigningKey(creds)
    _WORKER["services"] = _SHARED.get("services")
    _warm()


def _init_spawned(portable: tuple[bytes, tuple[bytes, ...], Pkcs11Key | None, str], services: Services | None) -> None:
    from cryptography import x509

    cert, chain, pkcs11, owner = portable
    creds = Credentials(
        certificate=x509.load_der_x509_certificate(cert),
        chain=tuple(x509.load_der_x509_certificate(c) for c in chain),
        pkcs11=pkcs11,
        owner=owner,
    )
    _WORKER["key"] = SigningKey(creds)
    _WORKER["services"] = services
    _warm()


def _warm() -> None:
    from edoc.signing.appearance import warm_up

    warm_up()


def _work(job: Job) -> BatchOutcome:
    return _do(job, _WORKER["key"], _WORKER["services"])


def _do(job: Job, key: SigningKey, services: Services | None) -> BatchOutcome:
    from edoc.signing.sign import sign_pdf

    started = time.perf_counter()
    try:
        signed = sign_pdf(
            job.pdf,
            key,
            field=job.field,
            level=job.level,
            appearance=job.appearance,
            create=job.create,
            place=job.place,
            lock=job.lock,
            services=services,
            reason=job.reason,
            location=job.location,
            when=job.when,
            tz=job.tz,
        )
    except Exception as exc:
        return _failed(job, exc, time.perf_counter() - started)
    return BatchOutcome(job.key, signed, seconds=time.perf_counter() - started, extra=dict(job.extra))


def _failed(job: Job, exc: BaseException, seconds: float) -> BatchOutcome:
    if isinstance(exc, EdocError):
        message, message_th, code = exc.message("en"), exc.message("th"), exc.exit_code
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        message = f"internal error ({type(exc).__name__}): {first}"
        message_th = f"เกิดข้อผิดพลาดภายใน ({type(exc).__name__}): {first}"
        code = 6
    return BatchOutcome(
        job.key,
        None,
        error=message,
        error_th=message_th,
        error_type=type(exc).__name__,
        exit_code=code,
        seconds=seconds,
        extra=dict(job.extra),
    )
