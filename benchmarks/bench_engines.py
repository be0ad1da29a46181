"""SQLite and PostgreSQL side by side in one run: the same stores, the same questions, the two
engines interleaved so that a busy machine slows both alike.

    .venv/bin/python -m benchmarks.bench_engines [--facts 1000000] [--quick] [--no-discord]

Writes ``benchmarks/results-engines.md`` and prints it. In order:

1. **Stores.** The real store (the shipped curation) is built on each engine with
   ``build_store``. The synthetic store (``--facts`` facts over 200k one-name places,
   ``benchmarks/synth.py``) is built on SQLite once and cached in ``var/bench-cache/``, then
   copied into PostgreSQL (``benchmarks/pg.py``: binary COPY per table, identity sequences moved
   on, ``VACUUM (ANALYZE)``). PostgreSQL is a throwaway server for this run only
   (``tests/pgserver.py``), with PostgreSQL's default settings.
2. **Latency**, through ``Engine.status`` / ``timeline`` / ``search`` (which never use the
   answer cache: only ``Engine.run``/``ask`` do): each query is asked of both engines in turn,
   the first engine alternating, so drift hits both. A sample of answers is compared between the
   engines, and the SQL each answer runs on the big store is timed on its own (EXPLAIN ANALYZE on
   PostgreSQL), so a slow answer can be told from a slow query.
3. **Concurrency.** A stream of 2,000 status/timeline requests, 50 in flight, served by one
   fresh engine process, then by two processes started together on the same store (1,000
   requests and 25 in flight each, so the offered load is the same); rounds alternate the engines
   and the process counts. Then, in this process, status and timeline answers asked one after
   another while a common-word search runs in a loop beside them, against the same answers
   without it.
4. **Discord**: ``bench_discord.run_case`` (``!ping``/``!status``/``!timeline`` through the
   real discord.py client and the fake Discord server) on every store and engine.

Every row carries the 1-minute load average when it was measured: the machine is shared, and a
busy neighbour shows up there before it shows up as a puzzling p99.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Stats, machine, ms, percentile

RESULTS = Path(__file__).resolve().parent / "results-engines.md"
ENGINES = ("SQLite", "PostgreSQL")
TARGET_PG_STATUS_MS = 5.0
TARGET_PG_TIMELINE_MS = 8.0
TARGET_BESIDE_SEARCH_MS = 10.0
TARGET_TWO_PROCESSES = 1.5
STREAM_REQUESTS = 2000
STREAM_CONCURRENCY = 50


def page_cache_note() -> str | None:
    """This machine's kernel may page out file pages that have been idle for a while (a DAMON
    ``pageout`` scheme): then a store's pages come from disk again unless read recently."""
    root = Path("/sys/kernel/mm/damon/admin/kdamonds")
    for kdamond in root.glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError):
            if (kdamond / "state").read_text().strip() != "on":
                continue
            for scheme in kdamond.glob("contexts/[0-9]*/schemes/[0-9]*"):
                if (scheme / "action").read_text().strip() != "pageout":
                    continue
                ctx = scheme.parent.parent
                aggr = int((ctx / "monitoring_attrs/intervals/aggr_us").read_text()) / 1e6
                age = int((scheme / "access_pattern/age/min").read_text())
                return (f"the kernel pages out memory idle for {aggr * age:.0f} s or more (DAMON "
                        "pageout scheme), file cache included")
    return None


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


# ------------------------------------------------------------------------------ the report
@dataclass(slots=True)
class Row:
    store: str
    what: str
    sqlite: str
    pg: str
    other: str = ""
    target: str = ""
    result: str = ""
    load: str = ""


@dataclass(slots=True)
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    plan_notes: list[str] = field(default_factory=list)
    headline: dict[str, tuple[str, str]] = field(default_factory=dict)
    verdicts: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, store: str, what: str, sqlite: str, pg: str, *, other: str = "",
            target: str = "", result: str = "", at_load: str | None = None) -> None:
        row = Row(store, what, sqlite, pg, other, target, result, at_load or load())
        self.rows.append(row)
        print(f"  {store} | {what} | {sqlite} | {pg} | {other} | {target} {result} "
              f"(load {row.load})", file=sys.stderr, flush=True)

    def judge(self, name: str, ok: bool) -> str:
        self.verdicts.append((name, ok))
        return "PASS" if ok else "**FAIL**"

    def markdown(self) -> str:
        lines = ["| store | measurement | SQLite | PostgreSQL | other | load | target | result |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            cells = [r.store, r.what, r.sqlite, r.pg, r.other, r.load, r.target, r.result]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)


def pair(s: Stats) -> str:
    return f"{ms(s.p50)} / {ms(s.p99)}"


# ------------------------------------------------------------------------------ the stores
@dataclass(slots=True)
class StoreSpec:
    """One store on both engines, and what to ask it."""

    label: str
    sqlite: Path
    url: str
    synthetic: bool
    exact: list[str]
    typos: list[str]
    busiest: tuple[str, int]
    words_common: list[str]
    words_rare: list[str]
    discord_places: list[str]
    fixed: dict[str, str] = field(default_factory=dict)
    words_middle: list[tuple[str, int]] = field(default_factory=list)
    """Words in more facts than the ranking cap but far from all: (word, facts)."""

    def where(self, engine: str) -> Path | str:
        return self.sqlite if engine == "SQLite" else self.url


def _words(db: Path) -> tuple[list[str], list[str]]:
    """The store's most common words and some that occur in one fact only (plain ASCII letters,
    so both engines' tokenisers see the same word)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        docs = Counter[str]()
        for summary, quote, attribution in conn.execute(
                "SELECT summary, quote, coalesce(attribution, '') FROM facts"):
            docs.update(set(re.findall(r"[a-z]+", f"{summary} {quote} {attribution}".lower())))
    finally:
        conn.close()
    common = [w for w, _ in docs.most_common(4)]
    rare = sorted(w for w, n in docs.items() if n == 1 and len(w) >= 6)
    return common, random.Random(5).sample(rare, min(40, len(rare)))


def _places_with_facts(db: Path) -> list[tuple[str, int]]:
    """(name, facts) of every place with facts, busiest first; every name of such places."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT p.name, c.n FROM (SELECT place_id, count(*) AS n FROM facts "
            "GROUP BY place_id) c JOIN places p ON p.id = c.place_id "
            "ORDER BY c.n DESC, p.id").fetchall()
    finally:
        conn.close()
    return [(str(a), int(b)) for a, b in rows]


def _middle_words(db: Path, vocab: Sequence[str], n_facts: int) -> list[tuple[str, int]]:
    """Up to four words each in between twice the ranking cap and 5% of the facts: past the
    cap, so answered unranked, yet rare enough that finding 5,000 of them means reading far."""
    from bot.store.queries import RANK_AT_MOST

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    found = []
    try:
        for word in vocab:
            n = int(conn.execute("SELECT count(*) FROM facts_fts WHERE facts_fts MATCH ?",
                                 (f'"{word}"',)).fetchone()[0])
            if 2 * RANK_AT_MOST <= n <= 0.05 * n_facts:
                found.append((word, n))
                if len(found) == 4:
                    break
    finally:
        conn.close()
    return found


def _queries(names: Sequence[str], n: int) -> tuple[list[str], list[str]]:
    from benchmarks.bench_engine import make_queries

    return make_queries(names, n)


async def build_stores(server: Any, tmp: Path, n_facts: int, n_places: int, iterations: int,
                       report: Report) -> list[StoreSpec]:
    from benchmarks import bench_discord, pg, synth
    from bot.store.stores import build_store

    specs = []
    # the real store, built on each engine by build_store
    real = tmp / "real.db"
    t0 = time.perf_counter()
    built = await build_store(real, ROOT / "seeds", ROOT / "data")
    t1 = time.perf_counter()
    real_url = server.create_database("real")
    await build_store(pg.location(real_url), ROOT / "seeds", ROOT / "data")
    t2 = time.perf_counter()
    label = "real store"
    report.add(label, "build_store (validate + compile the shipped curation)",
               f"{t1 - t0:.2f} s", f"{t2 - t1:.2f} s",
               other=f"{built.sources} sources, {built.places} curated places "
                     f"(+{built.gazetteer_places} GeoNames), {built.facts} facts")
    counts = _places_with_facts(real)
    exact, typos = _queries([n for n, _ in counts], iterations)
    common, rare = _words(real)
    specs.append(StoreSpec(label, real, real_url, False, exact, typos, counts[0], common, rare,
                           bench_discord.REAL_PLACES,
                           fixed={"status": "Mosul", "typo": "Mosel", "timeline": "Ramadi"}))

    # the synthetic store: cached on SQLite, copied into PostgreSQL
    t0 = time.perf_counter()
    db, syn, reused = await synth.cached_store(n_facts, n_places)
    t1 = time.perf_counter()
    syn_url = server.create_database("synthetic")
    copied = await pg.copy_sqlite(db, syn_url)
    label = f"{n_facts // 1000}k facts, {n_places // 1000}k names"
    size = db.stat().st_size
    report.add(label, "store: SQLite from synth.py, copied into PostgreSQL",
               f"{'cached file' if reused else f'built in {t1 - t0:.1f} s'}; {size / 2**20:.0f} MiB",
               f"COPY {copied.copy_s:.1f} s + indexes {copied.indexes_s:.1f} s + VACUUM ANALYZE, "
               f"CHECKPOINT {copied.vacuum_s:.1f} s; {copied.db_bytes / 2**20:.0f} MiB",
               other=f"{copied.rows['facts']} facts, {copied.rows['places']} places, "
                     f"{copied.rows['place_names']} names; row counts equal on both")
    counts = _places_with_facts(db)
    exact, typos = _queries([n for n, _ in counts], iterations)
    ordinary = [name for name, n in counts[1000:] if n < 50][:2000]
    await asyncio.to_thread(os.sync)  # the loads' dirty pages on disk before anything is timed
    middle = _middle_words(db, [w for w in syn.vocab[len(synth._NEWS_WORDS):][:600]
                                if w.isalpha()], n_facts)
    specs.append(StoreSpec(label, db, syn_url, True, exact, typos, counts[0], syn.vocab[:4],
                           syn.vocab[-200::4], ordinary, words_middle=middle))
    report.notes.append(
        f"Synthetic store: {n_places} places with one pseudo-name each (1,000 curated “hot” ones, "
        f"the rest gazetteer), {n_facts} facts, 80% on uniformly random places and 20% on the hot "
        f"places with Zipf weights (seed 42); its busiest place, “{counts[0][0]}”, has "
        f"{counts[0][1]} facts. Typical queries are names of places with facts drawn uniformly; "
        "misspellings drop or swap one letter (never the first).")
    return specs


# ------------------------------------------------------------------------------ latency
Ask = Callable[[str], Awaitable[Any]]


def answer_key(answer: Any) -> tuple[Any, ...]:
    """What must be the same whichever engine answered: the kind of answer, its error, its place
    and its facts (for a search: how many hits, since bm25 and ts_rank order them differently)."""
    hits = getattr(answer, "hits", None)
    facts = getattr(answer, "facts", None) if hits is None else None
    place = getattr(answer, "place", None)
    return (type(answer).__name__, getattr(answer, "error", None),
            place.id if place is not None else None,
            tuple(f.id for f in facts) if facts is not None else None,
            len(hits) if hits is not None else None)


@dataclass(slots=True)
class Paired:
    samples: dict[str, list[int]]
    agree: int
    compared: int
    answers: dict[str, Counter[str]]

    def stats(self, engine: str) -> Stats:
        return Stats.of_ns(self.samples[engine])


async def paired(asks: dict[str, Ask], queries: Sequence[str], *, warmup: int | None = None,
                 compare: int = 50, max_seconds: float | None = None) -> Paired:
    """Each query asked of every engine in turn (the first engine alternating); wall time of
    each answer in ns. Stops early after ``max_seconds`` (slow cases). Before timing, every
    distinct query is asked once of each engine (or the first ``warmup`` of them), so that the
    pages they read are in memory on both: see ``page_cache_note``."""
    distinct = list(dict.fromkeys(queries))
    for q in distinct[:warmup] if warmup is not None else distinct:
        for ask in asks.values():
            await ask(q)
    order = list(asks)
    samples: dict[str, list[int]] = {e: [] for e in order}
    outcome: dict[str, Counter[str]] = {e: Counter() for e in order}
    agree = compared = 0
    started = time.perf_counter()
    for i, q in enumerate(queries):
        keys = {}
        for engine in (order if i % 2 == 0 else order[::-1]):
            t0 = time.perf_counter_ns()
            answer = await asks[engine](q)
            samples[engine].append(time.perf_counter_ns() - t0)
            outcome[engine][str(getattr(answer, "error", None) or type(answer).__name__)] += 1
            if i < compare:
                keys[engine] = answer_key(answer)
        if keys:
            compared += 1
            agree += len(set(keys.values())) == 1
        if max_seconds is not None and time.perf_counter() - started > max_seconds and i >= 9:
            break
    return Paired(samples, agree, compared, outcome)


@contextlib.contextmanager
def recording(db: Any) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the store runs on ``db`` (the store's ``Database``) while inside."""
    calls: list[tuple[str, Any]] = []
    fetch, fetchrow = db.fetch, db.fetchrow
    depth = 0

    async def rec(fn: Callable[..., Awaitable[Any]], sql: str, params: Any = ()) -> Any:
        nonlocal depth
        if depth == 0:
            calls.append((sql, params))
        depth += 1
        try:
            return await fn(sql, params)
        finally:
            depth -= 1

    db.fetch = lambda sql, params=(): rec(fetch, sql, params)
    db.fetchrow = lambda sql, params=(): rec(fetchrow, sql, params)
    try:
        yield calls
    finally:
        del db.fetch, db.fetchrow


@contextlib.asynccontextmanager
async def both(spec: StoreSpec, report: Report) -> AsyncIterator[dict[str, Any]]:
    """A runtime on each engine over ``spec``'s store (and how long opening took)."""
    from bot.runtime import open_at

    opened: dict[str, Any] = {}
    took: dict[str, float] = {}
    try:
        for engine in ENGINES:
            t0 = time.perf_counter()
            opened[engine] = await open_at(spec.where(engine))
            took[engine] = time.perf_counter() - t0
        report.add(spec.label, "open_at: open the store, build the resolver over its names",
                   f"{took['SQLite']:.2f} s", f"{took['PostgreSQL']:.2f} s")
        yield opened
    finally:
        for rt in opened.values():
            await rt.close()


async def latency(spec: StoreSpec, rts: dict[str, Any], report: Report, iterations: int,
                  judged: bool) -> None:
    engines = {e: rt.engine for e, rt in rts.items()}
    n_slow = max(200, iterations // 5)
    busiest, busiest_n = spec.busiest
    cases: list[tuple[str, str, list[str], float | None, float | None]] = []
    if spec.fixed:
        cases += [
            (f"status, exact name (“{spec.fixed['status']}”)", "status",
             [spec.fixed["status"]] * iterations, None, None),
            (f"status, misspelled (“{spec.fixed['typo']}”)", "status",
             [spec.fixed["typo"]] * iterations, None, None),
            (f"timeline (“{spec.fixed['timeline']}”)", "timeline",
             [spec.fixed["timeline"]] * iterations, None, None)]
    cases += [
        ("status, exact name (typical place, drawn uniformly)", "status", spec.exact,
         TARGET_PG_STATUS_MS, None),
        ("status, misspelled name (typical place)", "status", spec.typos,
         TARGET_PG_STATUS_MS, None),
        ("timeline, exact name (typical place)", "timeline", spec.exact,
         TARGET_PG_TIMELINE_MS, None),
        (f"status, busiest place ({busiest_n} facts)", "status", [busiest] * n_slow,
         TARGET_PG_STATUS_MS, None),
        (f"timeline, busiest place ({busiest_n} facts; the oldest 1,000 returned)", "timeline",
         [busiest] * n_slow, TARGET_PG_TIMELINE_MS, 120.0),
        ("search, rare word", "search",
         [spec.words_rare[i % len(spec.words_rare)] for i in range(max(200, iterations // 2))],
         None, None),
        ("search, common word", "search",
         [spec.words_common[i % len(spec.words_common)] for i in range(200)], None, 90.0),
    ]
    if spec.words_middle:
        lo, hi = min(n for _, n in spec.words_middle), max(n for _, n in spec.words_middle)
        cases.append((f"search, word in {lo}–{hi} facts (past the ranking cap, far from all)",
                      "search", [spec.words_middle[i % len(spec.words_middle)][0]
                                 for i in range(200)], None, 90.0))
    disagreements = []
    for what, command, queries, target, cap in cases:
        asks = {e: getattr(engine, command) for e, engine in engines.items()}
        at_load = load()
        got = await paired(asks, queries, max_seconds=cap, warmup=5 if cap else None)
        s = {e: got.stats(e) for e in ENGINES}
        statements = {}
        for e, rt in rts.items():
            with recording(rt.store.db) as calls:
                await asks[e](queries[0])
            statements[e] = len(calls)
        other = (f"n={s['SQLite'].n}/{s['PostgreSQL'].n}, max {ms(s['SQLite'].max)} / "
                 f"{ms(s['PostgreSQL'].max)}; SQL statements {statements['SQLite']} / "
                 f"{statements['PostgreSQL']}")
        if command == "search":
            out = {e: ", ".join(f"{k} {v}" for k, v in got.answers[e].most_common())
                   for e in ENGINES}
            other += f"; answers {out['SQLite']} / {out['PostgreSQL']}; e.g. “{queries[0]}”"
        if got.agree != got.compared:
            disagreements.append(f"{what}: {got.compared - got.agree} of {got.compared}")
        tgt, result = "", ""
        if judged and target is not None:
            tgt = f"PostgreSQL p99 ≤ {target:g} ms"
            result = report.judge(f"{spec.label}: {what} (PostgreSQL)",
                                  s["PostgreSQL"].p99 <= target)
        report.add(spec.label, what, pair(s["SQLite"]), pair(s["PostgreSQL"]), other=other,
                   target=tgt, result=result, at_load=at_load)
        if judged:
            report.headline[what] = (pair(s["SQLite"]), pair(s["PostgreSQL"]))
    compared = "status, timeline and search"
    report.notes.append(
        f"{spec.label}: the first 50 answers of every case were compared between the engines "
        f"({compared}: same kind of answer, error, place and facts; for a search the number of "
        "hits, since bm25 and ts_rank rank differently): "
        + ("all the same." if not disagreements else "they differ in " + "; ".join(disagreements)))


# ------------------------------------------------------------------------------ SQL alone
def _plan_summary(lines: list[str]) -> str:
    """The top node, the scans and the execution time of an EXPLAIN ANALYZE."""
    scans = [ln.strip().removeprefix("->  ") for ln in lines
             if "Scan" in ln and "actual" in ln][:4]
    times = [ln.strip() for ln in lines if ln.strip().startswith(("Planning Time",
                                                                    "Execution Time"))]
    short = [re.sub(r"\s*\(cost=[^)]*\)", "", x) for x in scans]
    return "; ".join(short + times)


async def sql_alone(spec: StoreSpec, rts: dict[str, Any], report: Report) -> None:
    """The statements behind each kind of answer, timed on their own: EXPLAIN (ANALYZE, BUFFERS)
    on PostgreSQL (server-side execution time), the statement run through sqlite3 on SQLite
    (median of 5). What the answer costs beyond that is Python: resolving, building the
    models, the round trips."""
    from benchmarks import pg
    from bot.store import postgres
    from bot.store.sql import positional

    typical = spec.exact[0]
    busiest = spec.busiest[0]
    asks = [("status, typical place", "status", typical),
            ("status, busiest place", "status", busiest),
            ("timeline, typical place", "timeline", typical),
            ("timeline, busiest place", "timeline", busiest),
            ("search, rare word", "search", spec.words_rare[0]),
            ("search, common word", "search", spec.words_common[0])]
    if spec.words_middle:
        asks.append(("search, word past the cap", "search", spec.words_middle[0][0]))
    conn = await postgres.connect(pg.location(spec.url))
    lite = sqlite3.connect(f"file:{spec.sqlite}?mode=ro", uri=True)
    try:
        for what, command, arg in asks:
            recorded = {}
            for e, rt in rts.items():
                with recording(rt.store.db) as calls:
                    await getattr(rt.engine, command)(arg)
                recorded[e] = calls
            pg_ms, lite_ms, summaries = [], [], []
            for n, (sql, params) in enumerate(recorded["PostgreSQL"], 1):
                text, args = positional(sql, params)
                plan = [str(r[0]) for r in await conn.fetch(
                    f"EXPLAIN (ANALYZE, BUFFERS) {text}", *args)]
                exe = next((ln for ln in plan if ln.startswith("Execution Time")), "")
                pg_ms.append(float(re.findall(r"[\d.]+", exe)[0]) if exe else float("nan"))
                summaries.append(f"{n}. {_plan_summary(plan)}")
                report.plans.append(f"### {spec.label}: {what}, statement {n}\n\n```sql\n"
                                    f"{' '.join(text.split())}\n```\n\nparameters {args}\n\n"
                                    "```\n" + "\n".join(plan) + "\n```")
            if spec.synthetic and what == "status, busiest place" \
                    and len(recorded["PostgreSQL"]) == 3:
                await covering_index(spec, report, conn, *recorded["PostgreSQL"][-1])
            for sql, params in recorded["SQLite"]:
                times = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    lite.execute(sql, params).fetchall()
                    times.append((time.perf_counter() - t0) * 1000)
                lite_ms.append(statistics.median(times))
            report.add(spec.label, f"  SQL alone: {what} (“{arg}”)",
                       " + ".join(ms(x) for x in lite_ms), " + ".join(ms(x) for x in pg_ms),
                       other="each statement the answer runs, in order (SQLite: sqlite3, "
                             "median of 5; PostgreSQL: EXPLAIN ANALYZE execution time)")
            report.plan_notes.append(f"{spec.label}, {what} (“{arg}”): " + " ".join(summaries))
    finally:
        lite.close()
        await conn.close()


COVERING = ("CREATE INDEX bench_facts_visible ON facts (place_id) "
            "INCLUDE (id, guild_id, retired, rank)")


async def covering_index(spec: StoreSpec, report: Report, conn: Any, sql: str,
                         params: Any) -> None:
    """Diagnostic for the count of a busy place's facts: the same statement with an index that
    covers the columns the visibility filter reads (so PostgreSQL can count from the index
    alone), built inside a transaction that is rolled back: the store is left as it was."""
    from bot.store.sql import positional

    text, args = positional(sql, params)
    tx = conn.transaction()
    await tx.start()
    try:
        t0 = time.perf_counter()
        await conn.execute(COVERING)
        built = time.perf_counter() - t0
        plan = [str(r[0]) for r in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {text}", *args)]
    finally:
        await tx.rollback()
    report.plan_notes.append(f"{spec.label}, diagnostic: the busiest place's count with "
                             f"`{COVERING}` (built in {built:.1f} s, then rolled back): "
                             f"{_plan_summary(plan)}")
    report.plans.append(f"### {spec.label}: diagnostic, the count with `{COVERING}`\n\n"
                        "```\n" + "\n".join(plan) + "\n```")


# ------------------------------------------------------------------------------ beside a search
async def beside_search(spec: StoreSpec, rts: dict[str, Any], report: Report, rounds: int,
                        per_round: int, judged: bool) -> None:
    """Status and timeline answers one after another, with and without a common-word search
    running in a loop beside them on the same engine; rounds alternate engines and conditions."""
    rng = random.Random(3)
    kinds = ("status", "status, misspelled", "timeline")
    lat: dict[tuple[str, bool], dict[str, list[int]]] = {
        (e, loaded): {k: [] for k in kinds} for e in ENGINES for loaded in (False, True)}
    searches: dict[str, list[int]] = {e: [] for e in ENGINES}
    outcomes: dict[str, Counter[str]] = {e: Counter() for e in ENGINES}
    at_load = load()

    async def loop(engine: Any, e: str, stop: asyncio.Event) -> None:
        i = 0
        while not stop.is_set():
            t0 = time.perf_counter_ns()
            answer = await engine.search(spec.words_common[i % len(spec.words_common)])
            searches[e].append(time.perf_counter_ns() - t0)
            outcomes[e][str(getattr(answer, "error", None) or "hits")] += 1
            i += 1

    for r in range(rounds):
        for e in (ENGINES if r % 2 == 0 else ENGINES[::-1]):
            engine = rts[e].engine
            for loaded in ((True, False) if r % 2 == 0 else (False, True)):
                stop = asyncio.Event()
                task = asyncio.create_task(loop(engine, e, stop)) if loaded else None
                await asyncio.sleep(0.005)  # let the search start
                for j in range(per_round):
                    kind = kinds[j % len(kinds)]
                    arg = rng.choice(spec.typos if kind == "status, misspelled" else spec.exact)
                    ask = engine.timeline if kind == "timeline" else engine.status
                    t0 = time.perf_counter_ns()
                    await ask(arg)
                    lat[(e, loaded)][kind].append(time.perf_counter_ns() - t0)
                stop.set()
                if task is not None:
                    await task
    for kind in kinds:
        alone = {e: Stats.of_ns(lat[(e, False)][kind]) for e in ENGINES}
        beside = {e: Stats.of_ns(lat[(e, True)][kind]) for e in ENGINES}
        report.add(spec.label, f"{kind}, alone (same rounds)", pair(alone["SQLite"]),
                   pair(alone["PostgreSQL"]), other=f"n={alone['SQLite'].n} each",
                   at_load=at_load)
        tgt, result = "", ""
        if judged:
            tgt = f"p99 ≤ {TARGET_BESIDE_SEARCH_MS:g} ms on both"
            ok = {e: beside[e].p99 <= TARGET_BESIDE_SEARCH_MS for e in ENGINES}
            for e in ENGINES:
                report.verdicts.append((f"{spec.label}: {kind} beside a search ({e})", ok[e]))
            result = " · ".join(f"{e} {'PASS' if ok[e] else '**FAIL**'}" for e in ENGINES)
            report.headline[f"{kind}, beside a common-word search loop"] = (
                pair(beside["SQLite"]), pair(beside["PostgreSQL"]))
        report.add(spec.label, f"{kind}, beside a common-word search loop",
                   pair(beside["SQLite"]), pair(beside["PostgreSQL"]),
                   other=f"n={beside['SQLite'].n} each; max {ms(beside['SQLite'].max)} / "
                         f"{ms(beside['PostgreSQL'].max)}", target=tgt, result=result,
                   at_load=at_load)
    s = {e: Stats.of_ns(searches[e]) for e in ENGINES}
    out = {e: ", ".join(f"{k} {v}" for k, v in outcomes[e].most_common()) for e in ENGINES}
    report.add(spec.label, "  the search loop itself (“" + "”, “".join(spec.words_common) + "”)",
               pair(s["SQLite"]), pair(s["PostgreSQL"]),
               other=f"{s['SQLite'].n} / {s['PostgreSQL'].n} searches; answers {out['SQLite']} "
                     f"/ {out['PostgreSQL']}", at_load=at_load)


# ------------------------------------------------------------------------------ streams
def stream_plan(spec: StoreSpec, n: int, seed: int) -> list[tuple[str, str]]:
    """60% status (exact), 10% status (misspelled), 30% timeline, typical places."""
    rng = random.Random(seed)
    plan = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            plan.append(("status", rng.choice(spec.exact)))
        elif r < 0.7:
            plan.append(("status", rng.choice(spec.typos)))
        else:
            plan.append(("timeline", rng.choice(spec.exact)))
    return plan


async def worker(plan: dict[str, Any]) -> None:
    """One engine process of a stream: open, warm up (its own share, once, one at a time), say
    "ready", wait for "go", serve its
    share ``concurrency`` at a time, print its latencies, its CPU time and its start and end
    (``time.monotonic``, the same clock in every process), and close when told "bye" (so the
    server's connections are still there when the parent reads their CPU time)."""
    from bot.runtime import open_at

    where = Path(plan["where"]) if plan["sqlite"] else plan["where"]
    rt = await open_at(where)
    engine = rt.engine
    calls = {"status": engine.status, "timeline": engine.timeline}
    lat: dict[str, list[int]] = {k: [] for k in calls}
    try:
        for kind, arg in plan["warmup"]:
            await calls[kind](arg)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        sem = asyncio.Semaphore(plan["concurrency"])

        async def one(kind: str, arg: str) -> None:
            async with sem:
                t0 = time.perf_counter_ns()
                await calls[kind](arg)
                lat[kind].append(time.perf_counter_ns() - t0)

        cpu0, start = time.process_time(), time.monotonic()
        await asyncio.gather(*(one(k, a) for k, a in plan["requests"]))
        end, cpu = time.monotonic(), time.process_time() - cpu0
        print(json.dumps({"start": start, "end": end, "cpu": cpu, "latencies": lat}), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
    finally:
        await rt.close()


TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a process, from ``/proc/PID/stat``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def server_cpu(postmaster: int) -> float:
    """CPU seconds used so far by the PostgreSQL server: the postmaster and its live children
    (the backends serving the pools, the checkpointer, the WAL writer ...)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            got = _proc_stat(int(entry.name))
            if got is not None and (got[0] == postmaster or int(entry.name) == postmaster):
                total += got[1]
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (``/proc/stat``)."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


@dataclass(slots=True)
class StreamRun:
    wall: float
    by_kind: dict[str, list[int]]
    engine_cpu: float
    server_cpu: float
    machine_busy: float


def run_stream(spec: StoreSpec, engine: str, processes: int, tmp: Path,
               postmaster: int) -> StreamRun:
    plan = stream_plan(spec, STREAM_REQUESTS, seed=21)
    children = []
    for i in range(processes):
        part = {"sqlite": engine == "SQLite", "where": str(spec.where(engine)),
                "requests": plan[i::processes], "warmup": plan[i::processes],
                "concurrency": STREAM_CONCURRENCY // processes}
        file = tmp / f"plan-{i}.json"
        file.write_text(json.dumps(part), encoding="utf-8")
        children.append(subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_engines", "--worker", str(file)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"stream worker did not start: {line!r}")
        pg0, (busy0, total0) = server_cpu(postmaster), machine_busy()
        go = time.monotonic()
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = []
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if not line.startswith("{"):
                raise RuntimeError(f"stream worker failed: {line!r}")
            results.append(json.loads(line))
        pg1, (busy1, total1) = server_cpu(postmaster), machine_busy()
        for child in children:
            child.communicate("bye\n", timeout=120)
            if child.returncode != 0:
                raise RuntimeError(f"stream worker failed with status {child.returncode}")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    by_kind: dict[str, list[int]] = {}
    for res in results:
        for kind, samples in res["latencies"].items():
            by_kind.setdefault(kind, []).extend(samples)
    wall = max(r["end"] for r in results) - go
    cores = os.cpu_count() or 1
    return StreamRun(wall, by_kind, sum(r["cpu"] for r in results), pg1 - pg0,
                     (busy1 - busy0) / (total1 - total0) * cores)


def streams(spec: StoreSpec, report: Report, rounds: int, tmp: Path, postmaster: int,
            judged: bool) -> None:
    """2,000 requests by one process and by two, each configuration ``rounds`` times, in an
    order that alternates engines and process counts (ABBA)."""
    configs = [(e, p) for p in (1, 2) for e in ENGINES]
    runs: dict[tuple[str, int], list[StreamRun]] = {c: [] for c in configs}
    loads: list[float] = []
    for r in range(rounds):
        for config in (configs if r % 2 == 0 else configs[::-1]):
            loads.append(os.getloadavg()[0])
            runs[config].append(run_stream(spec, *config, tmp, postmaster))
            print(f"    stream {config}: {STREAM_REQUESTS / runs[config][-1].wall:.0f}/s",
                  file=sys.stderr, flush=True)
    at_load = f"{min(loads):.2f}–{max(loads):.2f}"
    rate = {c: [STREAM_REQUESTS / run.wall for run in runs[c]] for c in configs}
    med = {c: statistics.median(rate[c]) for c in configs}
    for p in (1, 2):
        cells = {e: f"{med[(e, p)]:.0f} answers/s" for e in ENGINES}
        each = "; ".join(f"{e} " + ", ".join(f"{x:.0f}" for x in rate[(e, p)]) for e in ENGINES)
        who = "one engine process" if p == 1 else \
            "two engine processes started together, 1,000 each"
        report.add(spec.label, f"stream of {STREAM_REQUESTS} status/timeline requests, "
                   f"{STREAM_CONCURRENCY} in flight: {who}", cells["SQLite"], cells["PostgreSQL"],
                   other=f"median of {rounds} rounds ({each}); wall time from “go” to the last "
                         "answer", at_load=at_load)
        if judged:
            report.headline[f"stream throughput, {who}"] = (cells["SQLite"], cells["PostgreSQL"])
        for kind in ("status", "timeline"):
            s = {e: Stats.of_ns([x for run in runs[(e, p)] for x in run.by_kind[kind]])
                 for e in ENGINES}
            report.add(spec.label, f"  latency in that stream: {kind}", pair(s["SQLite"]),
                       pair(s["PostgreSQL"]), other=f"n={s['SQLite'].n} each, all rounds",
                       at_load=at_load)
        cpu = {e: (sum(r.engine_cpu for r in runs[(e, p)]) * 1000 / (STREAM_REQUESTS * rounds),
                   sum(r.server_cpu for r in runs[(e, p)]) * 1000 / (STREAM_REQUESTS * rounds))
               for e in ENGINES}
        busy = {e: statistics.median(r.machine_busy for r in runs[(e, p)]) for e in ENGINES}
        report.add(spec.label, "  CPU per answer: engine process(es) + PostgreSQL server",
                   *(f"{ms(cpu[e][0])} + {ms(cpu[e][1])}" for e in ENGINES),
                   other=f"whole machine busy during the stream: {busy['SQLite']:.1f} / "
                         f"{busy['PostgreSQL']:.1f} of {os.cpu_count()} cores (everything "
                         "running, this benchmark's neighbours included)", at_load=at_load)
    speed = {e: med[(e, 2)] / med[(e, 1)] for e in ENGINES}
    tgt, result = "", ""
    if judged:
        tgt = f"PostgreSQL ≥ {TARGET_TWO_PROCESSES:g}×"
        result = report.judge(f"{spec.label}: two processes on PostgreSQL",
                              speed["PostgreSQL"] >= TARGET_TWO_PROCESSES)
        report.headline["two processes / one"] = (f"{speed['SQLite']:.2f}×",
                                                  f"{speed['PostgreSQL']:.2f}×")
    report.add(spec.label, "  two processes / one (throughput)", f"{speed['SQLite']:.2f}×",
               f"{speed['PostgreSQL']:.2f}×", target=tgt, result=result, at_load=at_load)


# ------------------------------------------------------------------------------ Discord
async def discord(specs: list[StoreSpec], report: Report, rounds: int, burst: int) -> None:
    from benchmarks import bench_discord

    for i, spec in enumerate(specs):
        cases = {}
        loads = []
        for engine in (ENGINES if i % 2 == 0 else ENGINES[::-1]):
            loads.append(os.getloadavg()[0])
            cases[engine] = await bench_discord.run_case(spec.where(engine),
                                                         spec.discord_places, rounds, burst)
        at_load = f"{min(loads):.2f}–{max(loads):.2f}"
        ping = {e: statistics.median(c.times["ping"]) for e, c in cases.items()}
        for kind in ("ping", "status", "timeline"):
            cells = {}
            for e, c in cases.items():
                t = c.times[kind]
                cells[e] = f"{ms(statistics.median(t))} / {ms(percentile(t, 99))}"
                if kind != "ping":
                    cells[e] += f" ({statistics.median(t) / ping[e]:.2f}× ping)"
            report.add(spec.label, f"Discord: `!{kind}`, gateway event → reply request",
                       cells["SQLite"], cells["PostgreSQL"],
                       other=f"n={len(cases['SQLite'].times[kind])} each", at_load=at_load)
            if spec.synthetic:
                report.headline[f"Discord `!{kind}`"] = (cells["SQLite"], cells["PostgreSQL"])
        cells = {e: f"{c.answered} answered in {c.seconds:.2f} s" for e, c in cases.items()}
        c0 = cases["SQLite"]
        report.add(spec.label, f"Discord: burst of {c0.burst_size} commands, {c0.users} users, "
                   f"{c0.channels} channels", cells["SQLite"], cells["PostgreSQL"],
                   other=f"last reply (p99) {cases['SQLite'].burst_p99:.0f} / "
                         f"{cases['PostgreSQL'].burst_p99:.0f} ms", at_load=at_load)


# ------------------------------------------------------------------------------ the run
async def measure(specs: list[StoreSpec], report: Report, args: argparse.Namespace) -> None:
    for spec in specs:
        async with both(spec, report) as rts:
            await latency(spec, rts, report, args.iterations, judged=spec.synthetic)
            await sql_alone(spec, rts, report)
            await beside_search(spec, rts, report, rounds=args.beside_rounds,
                                per_round=60, judged=spec.synthetic)


def render(report: Report, info: dict[str, str], started: datetime, seconds: float,
           args: argparse.Namespace) -> str:
    missed = [name for name, ok in report.verdicts if not ok]
    met = [name for name, ok in report.verdicts if ok]
    lines = [
        "# sitrep: SQLite and PostgreSQL side by side",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by "
        f"`.venv/bin/python -m benchmarks.bench_engines --facts {args.facts}`. Each cell is "
        "p50 / p99 in wall time through `Engine` as the front ends call it (no answer cache), "
        "unless it says otherwise; the two engines were measured in the same run, interleaved. "
        "`load` is the 1-minute load average when the row was measured (2 cores: above 2 means "
        "something else was competing for them).",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        f"Targets (judged on the {args.facts // 1000}k-fact store): PostgreSQL status p99 ≤ "
        f"{TARGET_PG_STATUS_MS:g} ms and timeline p99 ≤ {TARGET_PG_TIMELINE_MS:g} ms; beside a "
        f"common-word search, no other answer's p99 above {TARGET_BESIDE_SEARCH_MS:g} ms on either "
        f"engine; two PostgreSQL processes ≥ {TARGET_TWO_PROCESSES:g}× the answers/s of one. "
        f"**Met: {len(met)} of {len(report.verdicts)}.**"
        + (" Missed: " + "; ".join(missed) + "." if missed else ""),
        "",
        report.markdown(),
    ]
    if report.notes:
        lines += ["", "## Notes"]
        for note in report.notes:
            lines += ["", note]
    if report.plans:
        lines += ["", "## PostgreSQL query plans (EXPLAIN ANALYZE, BUFFERS)", "",
                  "The statements each answer ran, as recorded from the engine. "
                  "In brief (scans and execution time of each statement):", ""]
        lines += [f"- {note}" for note in report.plan_notes]
        lines += ["", "In full:", "", "<details><summary>plans</summary>", ""]
        lines += ["\n\n".join(report.plans), "", "</details>"]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from benchmarks import pg
    from bot.config import load_settings

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    info = machine()
    load_start = os.getloadavg()
    report = Report()
    tmp = Path(tempfile.mkdtemp(prefix="sitrep-bench-engines-"))
    try:
        with pg.throwaway_server() as server:
            print(f"PostgreSQL: {server.version} on port {server.port}", file=sys.stderr)
            specs = asyncio.run(build_stores(server, tmp, args.facts, args.places,
                                             args.iterations, report))
            pg_facts = asyncio.run(pg.server_facts(specs[0].url))
            info["postgresql"] = (f"{pg_facts['version']} (throwaway server on 127.0.0.1, "
                                  f"default settings: shared_buffers {pg_facts['shared_buffers']}, "
                                  f"work_mem {pg_facts['work_mem']}; jit {pg_facts['jit']} on "
                                  "sitrep's connections)")
            if (note := page_cache_note()) is not None:
                info["page cache"] = note
                report.notes.append(
                    f"Page cache: on this machine {note}. A store's pages that no query read "
                    "in that time are read from disk again, on either engine (not those in "
                    "PostgreSQL's shared_buffers: shared memory is not paged out without "
                    "swap). So every latency case first asks each of its distinct queries once "
                    "of both engines, untimed, and each stream process serves its share once "
                    "before the timed pass; without that, first reads of cold pages cost tens "
                    "to hundreds of milliseconds.")
            info["store pools"] = ("SQLite 4 WAL read connections; PostgreSQL asyncpg pool of 8; "
                                   f"query budget {load_settings().query_budget:g} s")
            asyncio.run(measure(specs, report, args))
            for spec in specs:
                streams(spec, report, args.stream_rounds, tmp, server.process.pid,
                        judged=spec.synthetic)
            if not args.no_discord:
                asyncio.run(discord(specs, report, args.discord_rounds, args.burst))
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    info["load average (1, 5, 15 min) at start"] = ", ".join(f"{x:.2f}" for x in load_start)
    info["at end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    text = render(report, info, started, time.perf_counter() - t0, args)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_engines",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--facts", type=int, help="facts in the synthetic store (1,000,000)")
    parser.add_argument("--places", type=int, default=200_000)
    parser.add_argument("--iterations", type=int, default=1000,
                        help="queries per fast latency case (slow ones: a fifth, at least 200)")
    parser.add_argument("--beside-rounds", type=int, default=10,
                        help="rounds of 60 answers per engine and condition beside the search")
    parser.add_argument("--stream-rounds", type=int, default=2)
    parser.add_argument("--discord-rounds", type=int, default=500)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--no-discord", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the harness")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        plan = json.loads(args.worker.read_text(encoding="utf-8"))
        asyncio.run(worker(plan))
        return 0
    if args.quick:
        args.facts = args.facts or 50_000
        args.iterations, args.beside_rounds = 200, 4
        args.stream_rounds, args.discord_rounds, args.burst = 1, 100, 200
    args.facts = args.facts or 1_000_000
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
