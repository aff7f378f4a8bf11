"""Running the verification where it can be stopped: worker processes with limits.

A hostile PDF can make a parser loop, recurse, allocate without bound or crash in native
code. So the parse runs in a worker process that the caller can kill:

* every job has a deadline; a worker that overruns it is killed (``SIGKILL``) and the file
  gets an INDETERMINATE verdict saying so, then a fresh worker takes its place;
* every worker runs under an address-space limit (``RLIMIT_AS``), so an allocation bomb
  ends in ``MemoryError`` (a verdict) or the worker's death (a verdict), never in the
  machine swapping;
* a worker that dies (a segfault in PDFium, the out-of-memory killer) gives an INDETERMINATE
  verdict naming the signal.

Workers are forked from a parent that has already imported the verifier, so a job costs a
pipe round trip, not an interpreter start. Several workers verify several files at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import connection, get_context
from multiprocessing.connection import Connection
from typing import Any

from edoc.signing.verify.report import Indication, Reason, VerificationReport

DEFAULT_TIMEOUT = 60.0
"""Seconds one file may take (the DSS corpus's worst file takes about 5 s)."""
DEFAULT_MEMORY_MB = 3072
"""Address space per worker, in MiB (PDFium and pyHanko together reserve about 1 GiB)."""
JOBS_PER_WORKER = 500
"""A worker is replaced after this many files, so slow leaks cannot accumulate."""


@dataclass(frozen=True)
class Job:
    """One file to verify."""

    source: str | bytes
    """A path, or the file's bytes."""
    name: str
    """How the report names the file."""
    options: Any
    """:class:`edoc.signing.verify.engine.Options`."""


def _worker_main(conn: Connection, memory_mb: int) -> None:
    """The worker: limit itself, then verify jobs until the pipe closes."""
    import logging

    logging.disable(logging.CRITICAL)  # pyHanko warns freely about hostile files; the verdict says it
    with contextlib.suppress(Exception):
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    from edoc.signing.verify.engine import analyse

    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            report = analyse(job.source, job.name, job.options)
        except MemoryError:
            report = _failure(job, Reason.of("memory", megabytes=memory_mb))
        except BaseException as exc:  # pragma: no cover - analyse catches everything it can
            report = _failure(job, Reason.of("internal_error", detail=f"{type(exc).__name__}: {exc}"[:200]))
        try:
            conn.send(report)
        except MemoryError:
            conn.send(_failure(job, Reason.of("memory", megabytes=memory_mb)))


def _failure(job: Job, reason: Reason) -> VerificationReport:
    at = getattr(job.options, "at", None)
    return VerificationReport(
        file=job.name,
        indication=Indication.INDETERMINATE,
        signatures=(),
        reasons=(reason,),
        checked_at=(at or datetime.now(UTC)).astimezone(UTC),
    )


class _Worker:
    def __init__(self, ctx: Any, memory_mb: int) -> None:
        parent, child = ctx.Pipe(duplex=True)
        self.conn: Connection = parent
        self.process = ctx.Process(target=_worker_main, args=(child, memory_mb), daemon=True)
        self.process.start()
        child.close()
        self.jobs_done = 0
        self.current: tuple[int, Job, float] | None = None

    def send(self, index: int, job: Job, deadline: float) -> None:
        self.current = (index, job, deadline)
        self.conn.send(job)

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        with contextlib.suppress(Exception):
            self.process.join(2)
        if self.process.is_alive():
            self.kill()
        with contextlib.suppress(Exception):
            self.conn.close()


def _context() -> Any:
    # fork is cheapest and inherits the imported verifier; it is only safe while this process
    # has a single thread, otherwise a fork server starts clean workers
    if threading.active_count() == 1 and hasattr(os, "fork"):
        return get_context("fork")
    ctx = get_context("forkserver")
    with contextlib.suppress(Exception):
        ctx.set_forkserver_preload(["edoc.signing.verify.engine"])
    return ctx


class WorkerPool:
    """Worker processes that verify files with a deadline and a memory limit each."""

    def __init__(self, workers: int = 1, timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        import edoc.signing.verify.engine  # noqa: F401 - loaded once here, inherited by forked workers

        self.size = workers
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._ctx = _context()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._lock = threading.Lock()

    def _spawn(self) -> _Worker:
        return _Worker(self._ctx, self.memory_mb)

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[int, VerificationReport]]:
        """Verify ``jobs``; yield ``(index, report)`` as each finishes (not in order)."""
        with self._lock:
            yield from self._run(list(jobs))

    def _run(self, jobs: list[Job]) -> Iterator[tuple[int, VerificationReport]]:
        pending = deque(enumerate(jobs))
        busy = self._busy
        try:
            while pending or busy:
                while pending and len(busy) < self.size:
                    worker = self._idle.pop() if self._idle else self._spawn()
                    index, job = pending.popleft()
                    try:
                        worker.send(index, job, time.monotonic() + self.timeout)
                    except (OSError, ValueError):
                        worker.kill()
                        pending.appendleft((index, job))
                        continue
                    busy.append(worker)
                now = time.monotonic()
                next_deadline = min(w.current[2] for w in busy if w.current is not None)
                ready = connection.wait([w.conn for w in busy], timeout=max(0.0, next_deadline - now))
                for worker in list(busy):
                    assert worker.current is not None
                    index, job, deadline = worker.current
                    if worker.conn in ready:
                        try:
                            report = worker.conn.recv()
                        except (EOFError, OSError):
                            worker.process.join(1)
                            report = _failure(job, Reason.of("crashed", detail=_death(worker.process.exitcode)))
                            worker.kill()
                            busy.remove(worker)
                            yield index, report
                            continue
                        busy.remove(worker)
                        worker.current = None
                        worker.jobs_done += 1
                        if worker.jobs_done >= JOBS_PER_WORKER:
                            worker.stop()
                        else:
                            self._idle.append(worker)
                        yield index, report
                    elif time.monotonic() >= deadline:
                        worker.kill()
                        busy.remove(worker)
                        yield index, _failure(job, Reason.of("timeout", seconds=f"{self.timeout:g}"))
        finally:
            for worker in busy:
                worker.kill()
            busy.clear()

    def worker_pids(self) -> list[int]:
        """Process ids of the workers now running (busy or idle)."""
        return [w.process.pid for w in (*self._busy, *self._idle) if w.process.pid is not None]

    def close(self) -> None:
        """Stop every idle worker."""
        with self._lock:
            for worker in self._idle:
                worker.stop()
            self._idle.clear()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "the worker stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the worker was ended by {name}"
    return f"the worker exited with status {exitcode}"
