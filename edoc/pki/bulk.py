"""New keys, sealed at birth, for many owners at once.

The cost of a certificate is dominated by the key's encryption at rest (PBKDF2 rounds, run
twice by PKCS#12: once for the AES key, once for the MAC key) and, for RSA, by key generation.
Both are CPU-bound, independent per key, and hold Python's GIL, so a big batch is spread over
worker *processes*, one per core.

The workers are plain ``python -c`` child processes started with :mod:`subprocess`, not
:mod:`multiprocessing`: ``spawn`` would re-run the caller's ``__main__`` (``python -m edoc``
would run the command again in every worker) and ``fork`` is unsafe in a process with threads
(the in-process ``pki serve``, database pools). Jobs go to a worker on its stdin and sealed keys
come back on its stdout, as pickles between our own processes. Each worker generates a key,
seals it under its owner's passphrase and returns only the sealed PKCS#12 and the public key:
the plain private key never leaves the worker's memory and never touches the disk, and the
passphrases travel only through the pipes.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from edoc.pki.keys import seal_private_key
from edoc.pki.model import KeyType

PARALLEL_FROM = 64
"""Batches smaller than this are done in-process (a worker costs about 0.2 s to start: it pays
off for big batches only)."""


@dataclass(frozen=True)
class KeyJob:
    """One key to make."""

    key_type: KeyType
    """Its algorithm."""
    passphrase: bytes
    """The owner's passphrase, to seal it under."""
    name: str
    """Friendly name stored in the PKCS#12 (the owner)."""


@dataclass(frozen=True)
class SealedKey:
    """A new key: encrypted private part, and the public part to certify."""

    key_data: bytes
    """PKCS#12 (AES-256-CBC, PBKDF2-HMAC-SHA256), the only form the private key leaves in."""
    public_der: bytes
    """SubjectPublicKeyInfo, DER."""


def make_sealed_key(job: KeyJob, rounds: int) -> SealedKey:
    """Generate one key and seal it."""
    from edoc.pki.profiles import generate_key

    key = generate_key(job.key_type)
    sealed = seal_private_key(key, job.passphrase, name=job.name, rounds=rounds)
    public = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return SealedKey(sealed, public)


def default_workers() -> int:
    """One worker per core this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - platforms without affinity


def make_sealed_keys(
    jobs: Sequence[KeyJob],
    rounds: int,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SealedKey]:
    """Sealed keys for ``jobs``, in order; in parallel worker processes for big batches."""
    total = len(jobs)
    workers = default_workers() if workers is None else max(1, workers)
    workers = min(workers, max(1, total))
    if total < PARALLEL_FROM or workers == 1:
        out: list[SealedKey] = []
        for job in jobs:
            out.append(make_sealed_key(job, rounds))
            if progress is not None:
                progress(len(out), total)
        return out
    return _in_workers(list(jobs), rounds, workers, progress)


# --- worker processes -------------------------------------------------------------------------

_FRAME = struct.Struct(">I")


def _write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_FRAME.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def worker_main() -> None:
    """Entry point of a worker: read ``(rounds, jobs)`` from stdin, write one sealed key (or
    an error) per job to stdout."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    request = _read_frame(stdin)
    if request is None:
        return
    rounds, jobs = pickle.loads(request)
    for job in jobs:
        try:
            result: object = make_sealed_key(job, rounds)
        except Exception as exc:  # reported to the parent, which raises it there
            result = exc
        _write_frame(stdout, pickle.dumps(result))


def _in_workers(
    jobs: list[KeyJob], rounds: int, workers: int, progress: Callable[[int, int], None] | None
) -> list[SealedKey]:
    total = len(jobs)
    bounds = [(i * total // workers, (i + 1) * total // workers) for i in range(workers)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # the same edoc as ours
    results: list[SealedKey | None] = [None] * total
    done: queue.Queue[tuple[int, object]] = queue.Queue()
    procs: list[subprocess.Popen[bytes]] = []

    def read(proc: subprocess.Popen[bytes], start: int, stop: int) -> None:
        assert proc.stdout is not None
        for index in range(start, stop):
            frame = _read_frame(proc.stdout)  # type: ignore[arg-type]
            if frame is None:
                done.put((index, RuntimeError(f"a key worker stopped early (exit {proc.wait()})")))
                return
            done.put((index, pickle.loads(frame)))

    readers = []
    try:
        for start, stop in bounds:
            proc = subprocess.Popen(
                [sys.executable, "-c", "from edoc.pki.bulk import worker_main; worker_main()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
            procs.append(proc)
            assert proc.stdin is not None
            _write_frame(proc.stdin, pickle.dumps((rounds, jobs[start:stop])))  # type: ignore[arg-type]
            proc.stdin.close()
            reader = threading.Thread(target=read, args=(proc, start, stop), daemon=True)
            reader.start()
            readers.append(reader)
        for finished in range(1, total + 1):
            index, item = done.get()
            if isinstance(item, BaseException):
                raise item
            if not isinstance(item, SealedKey):  # pragma: no cover - only our workers write here
                raise RuntimeError("a key worker sent something unexpected")
            results[index] = item
            if progress is not None and (finished % 25 == 0 or finished == total):
                progress(finished, total)
    finally:
        for proc in procs:
            if proc.poll() is None and any(r is None for r in results):
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    return [r for r in results if r is not None]
