"""Shared helpers: percentiles, the machine description, an event-loop stall ticker and the table.

Kept free of sitrep imports so that the subprocess benchmarks (RSS, start-up) can use it without
paying for, or being polluted by, anything they do not measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The checkout: seeds/, data/ and .venv/ live here."""

NS_PER_MS = 1_000_000


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0-100) of ``samples``: a value that was really measured,
    never an interpolation between two, so a p99 is the time some request actually took."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Stats:
    """Summary of one set of timings, in milliseconds."""

    n: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of_ns(cls, samples_ns: Sequence[int]) -> Stats:
        ms = [s / NS_PER_MS for s in samples_ns]
        return cls(len(ms), statistics.median(ms), percentile(ms, 99), max(ms))


async def time_async(fn: Callable[[str], Awaitable[object]], queries: Sequence[str],
                     warmup: int = 200) -> Stats:
    """Await ``fn(q)`` for every query in turn, after ``warmup`` untimed calls (caches, the
    aiosqlite thread, SQLite's page cache), and summarise the wall time of each call."""
    for q in queries[:warmup]:
        await fn(q)
    samples: list[int] = []
    for q in queries:
        t0 = time.perf_counter_ns()
        await fn(q)
        samples.append(time.perf_counter_ns() - t0)
    return Stats.of_ns(samples)


class LoopTicker:
    """Measures how long the event loop goes without running a task.

    A task sleeps 1 ms in a loop and records the real interval between wake-ups: anything that
    holds the loop (Python work in a coroutine, a C call holding the GIL in another thread) shows
    up as a long interval. Intervals include the intended 1 ms sleep, so they overstate a stall by
    about 1 ms: conservative against a 10 ms budget.

    It also times every garbage collection in the window (``gc.callbacks``): a full collection
    walks every tracked object, holds the GIL throughout and so stalls the loop whichever thread
    triggered it; knowing its length tells a GC pause from slow code."""

    def __init__(self, period: float = 0.001) -> None:
        self.period = period
        self.gaps_ns: list[int] = []
        self.gc_ns: dict[int, list[int]] = {0: [], 1: [], 2: []}
        self._gc_start = 0
        self._task: asyncio.Task[None] | None = None
        self._stop = False

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter_ns()
        else:
            self.gc_ns[info["generation"]].append(time.perf_counter_ns() - self._gc_start)

    async def _run(self) -> None:
        last = time.perf_counter_ns()
        while not self._stop:
            await asyncio.sleep(self.period)
            now = time.perf_counter_ns()
            self.gaps_ns.append(now - last)
            last = now

    async def __aenter__(self) -> LoopTicker:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)  # let the ticker take its first timestamp
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop = True
        assert self._task is not None
        await self._task
        gc.callbacks.remove(self._on_gc)

    @property
    def max_ms(self) -> float:
        return max(self.gaps_ns, default=0) / NS_PER_MS

    @property
    def p99_ms(self) -> float:
        return percentile(self.gaps_ns, 99) / NS_PER_MS if self.gaps_ns else math.nan

    def gc_summary(self) -> str:
        """"full GC 4x, longest 190 ms": the collections of generation 2 (the slow kind) in the
        window, or the longest of any generation if none was full."""
        full = self.gc_ns[2]
        if full:
            return f"full GC {len(full)}x, longest {max(full) / NS_PER_MS:.0f} ms"
        young = self.gc_ns[0] + self.gc_ns[1]
        return f"no full GC; longest young GC {max(young, default=0) / NS_PER_MS:.1f} ms"


def read_status_kb(field_name: str, path: str = "/proc/self/status") -> int:
    """A ``/proc/<pid>/status`` field in kB (VmRSS, VmHWM): what the kernel charges the process,
    including memory Python's allocator keeps after freeing it."""
    with open(path, encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise KeyError(field_name)


def machine() -> dict[str, str]:
    """CPU model, cores, Python and SQLite versions: the context every figure needs."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    with contextlib.suppress(OSError, KeyError):
        mem = f"{read_status_kb('MemTotal', '/proc/meminfo') / 2**20:.1f} GiB"
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "sqlite": sqlite3.sqlite_version,
        "os": f"{platform.system()} {platform.release()}",
    }


@dataclass(slots=True)
class Row:
    """One line of the results table."""

    section: str
    what: str
    p50: str = ""
    p99: str = ""
    extra: str = ""
    target: str = ""
    verdict: str = ""


@dataclass(slots=True)
class Table:
    """The results, in the order measured; rendered as one markdown table."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, section: str, what: str, *, p50: str = "", p99: str = "", extra: str = "",
            target: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("PASS" if ok else "**FAIL**")
        self.rows.append(Row(section, what, p50, p99, extra, target, verdict))
        # Progress on stderr so a long run shows where it is; the table itself goes to stdout.
        print(f"  {section} | {what} | {p50} | {p99} | {extra} | {target} {verdict}",
              file=sys.stderr, flush=True)

    def markdown(self) -> str:
        head = "| area | measurement | p50 / median | p99 | other | target | result |"
        lines = [head, "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            cells = [r.section, r.what, r.p50, r.p99, r.extra, r.target, r.verdict]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)


def ms(value: float) -> str:
    """Milliseconds with precision that suits the magnitude (µs below 1 ms)."""
    if math.isnan(value):
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} µs"
    if value < 100:
        return f"{value:.2f} ms"
    return f"{value:.0f} ms"
