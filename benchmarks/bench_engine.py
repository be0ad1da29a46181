"""Engine latency and event-loop stalls, measured through ``Engine`` exactly as the front ends call it.

Every figure is the wall time of ``await engine.status(name)`` (or ``timeline``/``search``) on a
running event loop: resolution, the aiosqlite round trips to its worker thread, building the
``FactView`` models and the ``Answer``. Queries are sequential for latency (one at a time, as a
quiet bot sees them) and 50 at a time for the stall test (as a busy one does).
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bot.engine.engine as answers_module
from benchmarks.common import NS_PER_MS, LoopTicker, Stats, Table, ms, percentile, time_async
from benchmarks.synth import misspell
from bot.engine import Engine
from bot.resolve import Resolver
from bot.runtime import Runtime, open_at

TARGET_STATUS_EXACT_MS = 2.0
TARGET_STATUS_TYPO_MS = 5.0
TARGET_TIMELINE_MS = 5.0
TARGET_STALL_MS = 10.0


@dataclass(slots=True)
class QuerySet:
    """What to ask a store: exact names of places with facts, misspellings of them, the busiest
    places' names, and search words."""

    exact: list[str]
    typos: list[str]
    hot: list[tuple[str, int]] = field(default_factory=list)  # (name, number of facts)
    words_common: list[str] = field(default_factory=list)
    words_rare: list[str] = field(default_factory=list)


def make_queries(names: Sequence[str], n: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """``n`` exact names drawn (seeded) from ``names``, and ``n`` misspellings of such names
    (Latin names of five letters or more, so that a slip leaves something to match)."""
    rng = random.Random(seed)
    exact = [rng.choice(names) for _ in range(n)]
    long_latin = [x for x in names if x.isascii() and len(x) >= 5] or list(names)
    typos = [misspell(rng.choice(long_latin), rng) for _ in range(n)]
    return exact, typos


async def resolution_kinds(engine: Engine, qs: Sequence[str]) -> str:
    """How the resolver classified ``qs`` (exact, fuzzy, ambiguous, none ...), so a latency figure
    says which code path it measured."""
    resolver = await engine.resolver(0)
    counts = Counter(resolver.resolve(q).kind for q in qs)
    return ", ".join(f"{k} {v * 100 / len(qs):.0f}%" for k, v in counts.most_common())


async def statements_per_request(engine: Engine, fn: Callable[[str], Awaitable[object]],
                                 qs: Sequence[str], sample: int = 200) -> float:
    """Mean number of SQL statements one request runs (``set_trace_callback`` on each of the
    store's read connections, which statements take in turn): each is a hop to an aiosqlite
    worker thread and back, and under load every hop waits for a free connection, so the count
    matters more than the statement's own microseconds."""
    count = 0

    def trace(_: str) -> None:
        nonlocal count
        count += 1

    # every read connection of the pool: consecutive statements take turns on them
    conns = [reader.conn for reader in engine.store.pool.readers]
    for conn in conns:
        await conn.set_trace_callback(trace)
    try:
        for q in qs[:sample]:
            await fn(q)
    finally:
        for conn in conns:
            await conn.set_trace_callback(None)  # type: ignore[arg-type]
    return count / min(sample, len(qs))


async def latency(engine: Engine, table: Table, label: str, qs: QuerySet, *,
                  judged: bool) -> None:
    """Status (exact, misspelled) and timeline (exact) p50/p99; against the targets when
    ``judged`` (the 1M-fact store is what the targets are about)."""

    def verdict(p99: float, target: float) -> tuple[str, bool | None]:
        return (f"p99 <= {target:g} ms", p99 <= target) if judged else ("", None)

    cases: list[tuple[str, Callable[[str], Awaitable[object]], list[str], float]] = [
        ("status, exact name", engine.status, qs.exact, TARGET_STATUS_EXACT_MS),
        ("status, misspelled name", engine.status, qs.typos, TARGET_STATUS_TYPO_MS),
        ("timeline, exact name", engine.timeline, qs.exact, TARGET_TIMELINE_MS),
    ]
    for what, fn, queries, limit in cases:
        s = await time_async(fn, queries)
        target, ok = verdict(s.p99, limit)
        sql = await statements_per_request(engine, fn, queries)
        extra = f"n={s.n}, max {ms(s.max)}; {sql:.1f} SQL statements a request"
        if queries is qs.typos:
            extra += f"; resolved: {await resolution_kinds(engine, queries)}"
        table.add(label, what, p50=ms(s.p50), p99=ms(s.p99), extra=extra, target=target, ok=ok)


async def hot_latency(engine: Engine, table: Table, label: str, qs: QuerySet,
                      rounds: int = 100) -> None:
    """The worst places: status and timeline of the busiest places (not judged: the targets are
    about a typical query, but these are the ones that stall the loop)."""
    if not qs.hot:
        return
    names = [n for n, _ in qs.hot]
    counts = [c for _, c in qs.hot]
    cycle = [names[i % len(names)] for i in range(rounds)]
    facts = f"{len(names)} busiest places, {min(counts)}-{max(counts)} facts each"
    s = await time_async(engine.status, cycle, warmup=len(names))
    table.add(label, "status, busiest places", p50=ms(s.p50), p99=ms(s.p99),
              extra=f"n={s.n}, max {ms(s.max)}; {facts}")
    s = await time_async(engine.timeline, cycle, warmup=len(names))
    answer = await engine.timeline(names[0])
    table.add(label, "timeline, busiest places", p50=ms(s.p50), p99=ms(s.p99),
              extra=f"n={s.n}, max {ms(s.max)}; {len(answer.facts)} facts returned per answer")
    async with LoopTicker() as tick:
        for name in names:
            await engine.timeline(name)
    table.add(label, "  event-loop stall of one such timeline (sequential, nothing else running)",
              p50=ms(percentile(tick.gaps_ns, 50) / NS_PER_MS), p99=ms(tick.p99_ms),
              extra=f"max gap {ms(tick.max_ms)}; {tick.gc_summary()}",
              target=f"max <= {TARGET_STALL_MS:g} ms", ok=tick.max_ms <= TARGET_STALL_MS)


async def search_latency(engine: Engine, table: Table, label: str, qs: QuerySet) -> None:
    """Full-text search for a word most facts contain and for a rare one: bm25 ranks every match
    before the top 200 are kept, so a common word costs in proportion to its postings."""
    for kind, words, rounds in (("common word", qs.words_common, 5),
                                ("rare word", qs.words_rare, 500)):
        if not words:
            continue
        cycle = [words[i % len(words)] for i in range(rounds)]
        s = await time_async(engine.search, cycle, warmup=1 if rounds < 50 else 20)
        table.add(label, f"search, {kind}", p50=ms(s.p50), p99=ms(s.p99),
                  extra=f"n={s.n}, max {ms(s.max)}; e.g. “{words[0]}”")


async def stall_stream(engine: Engine, table: Table, label: str, qs: QuerySet, *,
                       title: str, common_share: float, freeze: bool = False, judged: bool = False,
                       requests: int = 2000, concurrency: int = 50, seed: int = 11) -> None:
    """The longest event-loop stall while serving a mixed stream, ``concurrency`` requests in
    flight: 45% status (exact), 10% status (misspelled), 30% timeline, 15% search. One request in
    twenty is about one of the busiest places; ``common_share`` of the searches are for a word
    most facts contain. ``freeze`` calls ``gc.freeze()`` first (undone after): a diagnostic of
    what the suggested fix for GC pauses would buy, without touching bot/."""
    rng = random.Random(seed)
    plan: list[tuple[str, str]] = []
    hot = [n for n, _ in qs.hot] or qs.exact
    for _ in range(requests):
        r = rng.random()
        place = rng.choice(hot) if rng.random() < 0.05 else rng.choice(qs.exact)
        if r < 0.45:
            plan.append(("status", place))
        elif r < 0.55:
            plan.append(("status typo", rng.choice(qs.typos)))
        elif r < 0.85:
            plan.append(("timeline", place))
        else:
            common = qs.words_common and rng.random() < common_share
            plan.append(("search", rng.choice(qs.words_common if common else
                                              qs.words_rare or qs.words_common)))
    calls: dict[str, Callable[[str], Awaitable[object]]] = {
        "status": engine.status, "status typo": engine.status, "timeline": engine.timeline,
        "search": engine.search}
    for kind, arg in plan[:100]:  # warm-up, sequential
        await calls[kind](arg)
    lat: dict[str, list[int]] = {k: [] for k in calls}
    work = iter(plan)

    async def worker() -> None:
        for kind, arg in work:
            t0 = time.perf_counter_ns()
            await calls[kind](arg)
            lat[kind].append(time.perf_counter_ns() - t0)

    if freeze:
        gc.collect()
        gc.freeze()
    try:
        t0 = time.perf_counter()
        async with LoopTicker() as tick:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    finally:
        if freeze:
            gc.unfreeze()
    n_common = sum(1 for k, a in plan if k == "search" and a in qs.words_common)
    table.add(label, f"{title} ({requests} requests, {concurrency} at a time, "
                     f"{n_common} common-word searches)",
              p50=ms(percentile(tick.gaps_ns, 50) / NS_PER_MS), p99=ms(tick.p99_ms),
              extra=f"max gap {ms(tick.max_ms)}; {tick.gc_summary()}; "
                    f"{requests / wall:.0f} requests/s",
              target=f"max <= {TARGET_STALL_MS:g} ms" if judged else "",
              ok=tick.max_ms <= TARGET_STALL_MS if judged else None)
    if freeze:
        return
    for kind, samples in lat.items():
        if samples:
            s = Stats.of_ns(samples)
            table.add(label, f"  latency under that load: {kind}", p50=ms(s.p50), p99=ms(s.p99),
                      extra=f"n={s.n}, max {ms(s.max)}")


async def open_stall(db: Path, table: Table, label: str) -> Runtime:
    """Engine.open on a big store with the ticker running, and whether the resolver really was
    built off the event loop's thread (a probe subclass records the thread that constructs it).
    Then two diagnostics that separate the garbage collector's share from the code's: the length
    of one full collection with the store's resolver in memory (and after ``gc.freeze()``), and
    the stall of a second open with the cyclic GC disabled for its duration."""
    built_on_main: list[bool] = []

    class Probe(Resolver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built_on_main.append(threading.current_thread() is threading.main_thread())
            super().__init__(*args, **kwargs)

    patched = getattr(answers_module, "Resolver", None) is Resolver
    if patched:
        setattr(answers_module, "Resolver", Probe)  # noqa: B010 - a test double, undone below
    try:
        t0 = time.perf_counter()
        async with LoopTicker() as tick:
            engine_rt = await open_at(db)
        took = time.perf_counter() - t0
    finally:
        if patched:
            setattr(answers_module, "Resolver", Resolver)  # noqa: B010
    where = ("off the loop (worker thread)" if built_on_main == [False] else
             "ON THE LOOP THREAD" if built_on_main else "not observed")
    table.add(label, "Engine.open (names + resolver build): event-loop stall",
              p50=ms(percentile(tick.gaps_ns, 50) / NS_PER_MS), p99=ms(tick.p99_ms),
              extra=f"max gap {ms(tick.max_ms)}; {tick.gc_summary()}; open took {took:.2f} s; "
                    f"resolver built {where}",
              target=f"max <= {TARGET_STALL_MS:g} ms", ok=tick.max_ms <= TARGET_STALL_MS)

    full = []
    for _ in range(3):
        t0 = time.perf_counter_ns()
        gc.collect()
        full.append(time.perf_counter_ns() - t0)
    gc.freeze()
    t0 = time.perf_counter_ns()
    gc.collect()
    frozen = time.perf_counter_ns() - t0
    gc.unfreeze()
    table.add(label, "  diagnostic: one full GC with the engine open (the pause any full GC costs)",
              p50=ms(statistics.median(full) / NS_PER_MS),
              extra=f"{len(gc.get_objects())} tracked objects; after gc.freeze(): "
                    f"{ms(frozen / NS_PER_MS)}")

    gc.disable()
    try:
        async with LoopTicker() as tick:
            second_rt = await open_at(db)
    finally:
        gc.enable()
    await second_rt.close()
    table.add(label, "  diagnostic: the same open with the cyclic GC disabled",
              p50=ms(percentile(tick.gaps_ns, 50) / NS_PER_MS), p99=ms(tick.p99_ms),
              extra=f"max gap {ms(tick.max_ms)}: the stall that is not the GC's")
    return engine_rt
