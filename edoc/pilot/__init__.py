"""The Pak Chong pilot, built through the office facade: what ``edoc demo`` runs.

The demo is a list of steps; each issue adds its acts as a step, so the demo always shows the
whole flow that exists. Steps report what they did as :class:`StepResult` rows; the CLI prints
them. Progress goes through a callback so this module stays free of terminal code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edoc.office import Office
from edoc.pilot.audit import verify_audit_log
from edoc.pilot.directory import build_directory
from edoc.pilot.documents import create_documents
from edoc.pilot.pki import build_pki
from edoc.pilot.registers import register_letters
from edoc.pilot.routing import route_letter
from edoc.pilot.signing import sign_letter
from edoc.pilot.year import fast_forward_year

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: called as a step advances."""


@dataclass
class StepResult:
    """What one step of the demo did."""

    step: str
    """Short name of the step."""
    summary: str
    """One line: what was done."""
    seconds: float = 0.0
    """Wall time of the step."""
    details: dict[str, Any] = field(default_factory=dict)
    """Figures and ids for ``--json`` and for the printed tables."""


@dataclass
class DemoOptions:
    agencies: int = 6
    users: int = 23
    documents: int = 0
    workers: int = 0
    """Processes for the year (0: two from 1,000 documents on a machine with two cores, else one)."""


def _noop(task: str, done: int, total: int) -> None:
    return None


def run_demo(office: Office, options: DemoOptions, progress: Progress | None = None) -> list[StepResult]:
    """Run every step of the demo in order and return what each did."""
    progress = progress or _noop
    results: list[StepResult] = []
    steps: list[Callable[[Office, DemoOptions, Progress], StepResult]] = [
        build_directory,
        # issue 3: documents of every kind
        create_documents,

        # issue 4: certificates
        build_pki,

        # issue 5: signing
        sign_letter,

        # issue 7: registers
        register_letters,

        # issue 8: routing
        route_letter,

        # issue 10: a year in fast forward (the last step before the audit)
        fast_forward_year,
        # issue 9: audit
        verify_audit_log,
    ]
    for step in steps:
        started = time.perf_counter()
        result = step(office, options, progress)
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results
