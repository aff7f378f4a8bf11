"""What every benchmark shares: a result row with its peer, and one way to print them."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Result:
    """One measured figure and the plain peer measured in the same run."""

    name: str
    value: float
    unit: str
    peer: str = ""
    peer_value: float | None = None
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer_value in (None, 0):
            return None
        return self.value / self.peer_value  # type: ignore[operator]


def timeit(fn: Callable[[], object], *, repeat: int = 10, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def p95_ms(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def machine() -> dict[str, object]:
    return {"cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}


def print_table(title: str, results: list[Result]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title}  ({machine()['cores']} cores, Python {machine()['python']})")
    for column in ("benchmark", "edoc", "peer", "peer value", "ratio", "target", "note"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.name,
            f"{r.value:.1f} {r.unit}",
            r.peer,
            "" if r.peer_value is None else f"{r.peer_value:.1f} {r.unit}",
            "" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target,
            r.note,
        )
    Console().print(table)


def to_json(results: list[Result]) -> str:
    return json.dumps(
        {"machine": machine(), "results": [{**asdict(r), "ratio": r.ratio} for r in results]},
        ensure_ascii=False,
        indent=2,
    )
