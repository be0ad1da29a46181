"""Run every benchmark and print one markdown table (also written to ``benchmarks/results.md``).

    .venv/bin/python -m benchmarks [--facts 100000,1000000] [--iterations 2000] [--quick] [--keep]

Order, and why: the real store first (small, fast, and the one ``sitrep ask`` is timed on); then
the synthetic stores, the largest built once through the store's insert path (that build is itself
the build-time benchmark) and reused for latency, stalls and memory; the resolver and start-up
benchmarks last, in their own processes. Temporary stores live in one temp directory that is
removed at the end (``--keep`` leaves it for inspection).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import bench_engine, bench_startup, synth
from benchmarks.bench_engine import QuerySet, make_queries
from benchmarks.common import ROOT, Table, machine, ms
from bot.curation.load import load_curated
from bot.runtime import open_at
from bot.store.build import unchanged
from bot.store.db import connect
from bot.store.stores import build_marks, build_store, write_build

RESULTS = Path(__file__).resolve().parent / "results.md"
TARGET_RSS_MB = 100.0
TARGET_STARTUP_S = 1.0
TARGET_BUILD_S = 10.0
TARGET_RESOLVE_EXACT_MS = 1.0
TARGET_RESOLVE_TYPO_MS = 3.0


def real_data_dir(tmp: Path, table: Table) -> Path:
    """The shipped ``data/`` when it validates; otherwise (curation still in progress) the test
    fixture curation with the shipped gazetteer, and a note saying so, so the real-store figures
    are never silently about something else."""
    _, problems = load_curated(ROOT / "seeds", ROOT / "data")
    if not problems:
        return ROOT / "data"
    data = tmp / "real-data"
    data.mkdir()
    for name in ("places.yaml", "facts.yaml"):
        shutil.copy(ROOT / "tests" / "fixtures" / "data" / name, data / name)
    shutil.copytree(ROOT / "data" / "gazetteer", data / "gazetteer")
    table.notes.append(
        f"The shipped `data/` does not validate yet ({len(problems)} problem(s), e.g. "
        f"“{problems[0]}”), so the “real store” is the shipped seeds and gazetteer with the test "
        "fixture curation (`tests/fixtures/data`).")
    return data


async def real_store(tmp: Path, table: Table, iterations: int) -> tuple[Path, Path]:
    """Build the store from the shipped files and time status/timeline on its own names."""
    data = real_data_dir(tmp, table)
    db = tmp / "real" / "sitrep.db"
    t0 = time.perf_counter()
    report = await build_store(db, ROOT / "seeds", data)
    built = time.perf_counter() - t0
    label = "real store"
    engine_rt = await open_at(db)
    engine = engine_rt.engine
    try:
        rows = await engine.store.conn.execute_fetchall(
            "SELECT n.name FROM place_names n WHERE n.place_id IN (SELECT place_id FROM facts) "
            "ORDER BY n.name")
        names = [str(r[0]) for r in rows]
        table.add(label, "build_store (validate + compile)", p50=f"{built:.2f} s",
                  extra=f"{report.sources} sources, {report.places} curated places "
                        f"(+{report.gazetteer_places} GeoNames), {report.facts} facts; "
                        f"{len(names)} names of places with facts queried")
        exact, typos = make_queries(names, iterations)
        await bench_engine.latency(engine, table, label, QuerySet(exact, typos), judged=False)
    finally:
        await engine_rt.close()
    return db, data


def synthetic_queries(db_conn_counts: list[tuple[str, str, int]], syn: synth.Synthetic,
                            iterations: int) -> QuerySet:
    """Exact names of places that have facts (uniformly, seeded), misspellings of them, the ten
    busiest places, and search words: the most common words and rare ones from the vocabulary."""
    names = [name for _, name, _ in db_conn_counts]
    exact, typos = make_queries(names, iterations)
    hot = [(name, n) for _, name, n in db_conn_counts[:10]]
    return QuerySet(exact, typos, hot, words_common=syn.vocab[:4],
                    words_rare=syn.vocab[-200::4])


async def synthetic_store(tmp: Path, syn: synth.Synthetic, n_facts: int, table: Table,
                          iterations: int, *, is_big: bool) -> Path:
    """Build a store of ``n_facts`` facts through ``sitrep build``'s own path (``write_build``:
    the large load at these sizes); for the biggest one that is the build-time benchmark, with
    its phases, and a rebuild with nothing to do is timed after it."""
    label = f"{n_facts // 1000}k facts, {len(syn.names) // 1000}k names"
    t0 = time.perf_counter()
    rows = synth.build_rows(syn, n_facts)
    gen = time.perf_counter() - t0
    quotes = [str(r[synth.I_QUOTE]) for r in itertools.islice(rows.facts, 10_000)]
    summaries = [str(r[synth.I_SUMMARY]) for r in itertools.islice(rows.facts, 10_000)]
    db = tmp / f"synthetic-{n_facts}" / "sitrep.db"
    db.parent.mkdir(parents=True)
    report = await write_build(db, rows)
    del rows
    t1 = time.perf_counter()
    again = unchanged(await build_marks(db), f"synthetic-{n_facts}-{len(syn.names)}", t1)
    conn = await connect(db)
    try:
        counts = await synth.fact_counts(conn)
    finally:
        await conn.close()
    size = db.stat().st_size
    phases = " + ".join(f"{name} {s:.1f} s" for name, s in report.phases)
    table.add(label, "build: `sitrep build`'s large load (fresh file, indexes after, renamed in)",
              p50=f"{report.seconds:.1f} s",
              extra=f"{phases}; {size / 2**20:.0f} MiB on disk; {len(counts)} places with facts, "
                    f"busiest {counts[0][2]}; mean quote {statistics.mean(map(len, quotes)):.0f} "
                    f"chars, summary {statistics.mean(map(len, summaries)):.0f}; rows generated "
                    f"in {gen:.1f} s (not counted)",
              target=f"<= {TARGET_BUILD_S:g} s" if is_big else "",
              ok=report.seconds <= TARGET_BUILD_S if is_big else None)
    if is_big:
        assert again is not None, "the store's marks do not match the build just made"
        table.add(label, "rebuild with nothing to do (the store's marks; hashing the files "
                         "not counted)", p50=ms(again.seconds * 1000))

    qs = synthetic_queries(counts, syn, iterations)
    engine_rt = await (bench_engine.open_stall(db, table, label) if is_big else open_at(db))
    engine = engine_rt.engine
    try:
        await bench_engine.latency(engine, table, label, qs, judged=is_big)
        if is_big:
            await bench_engine.hot_latency(engine, table, label, qs)
            await bench_engine.search_latency(engine, table, label, qs)
            await bench_engine.stall_stream(engine, table, label, qs, judged=True,
                                            title="event-loop stall, mixed stream",
                                            common_share=0.02)
            await bench_engine.stall_stream(engine, table, label, qs, common_share=0.0,
                                            title="  diagnostic: the same stream, no common-word "
                                                  "search")
            await bench_engine.stall_stream(engine, table, label, qs, common_share=0.0,
                                            freeze=True,
                                            title="  diagnostic: no common-word search, "
                                                  "gc.freeze() after open")
    finally:
        await engine_rt.close()
    if is_big:
        rss(db, qs, tmp, table, label)
    return db


def rss(db: Path, qs: QuerySet, tmp: Path, table: Table, label: str) -> None:
    """Serve 2,000 status + timeline requests (and typos, busy places, searches) in a fresh
    interpreter and read its VmRSS / VmHWM."""
    plan = tmp / "rss-plan.json"
    plan.write_text(json.dumps({"exact": qs.exact[:2000], "typos": qs.typos[:500],
                                "hot": [n for n, _ in qs.hot], "words": qs.words_rare[:40]
                                + qs.words_common}), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_rss", str(db), str(plan)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        table.add(label, "RSS (fresh process)", extra=f"failed: {proc.stderr[-300:]}", ok=False)
        return
    mem = json.loads(proc.stdout.strip().splitlines()[-1])
    table.add(label, "RSS after open + serving (fresh process, discord.py imported)",
              p50=f"{mem['rss_served']:.0f} MiB",
              extra=f"VmHWM {mem['hwm']:.0f} MiB; after imports {mem['rss_imports']:.0f} MiB, "
                    f"after Engine.open {mem['rss_open']:.0f} MiB",
              target=f"<= {TARGET_RSS_MB:g} MB", ok=mem["rss_served"] * 1.048576 <= TARGET_RSS_MB)
    table.add(label, "peak RSS (VmHWM) of that process", p50=f"{mem['hwm']:.0f} MiB",
              target=f"<= {TARGET_RSS_MB:g} MB", ok=mem["hwm"] * 1.048576 <= TARGET_RSS_MB)


_RESOLVE_LINE = re.compile(r"^(?P<label>\S.*?)\s{2,}(?P<p50>[\d.]+)\s+(?P<p99>[\d.]+)\s+"
                           r"(?P<max>[\d.]+)(?:\s+(?P<rest>.*))?$")


def resolver(table: Table, names: int, queries: int) -> None:
    """Run ``benchmarks/bench_resolve.py`` (another module's benchmark of the resolver, at 200k
    synthetic names plus the real gazetteer) in its own process and take its rows."""
    script = Path(__file__).resolve().parent / "bench_resolve.py"
    label = f"resolver, {names // 1000}k names"
    if not script.exists():
        table.add(label, "bench_resolve.py", extra="missing: skipped")
        return
    proc = subprocess.run([sys.executable, str(script), "--names", str(names), "--queries",
                           str(queries)], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        table.add(label, "bench_resolve.py", extra=f"failed: {proc.stderr[-300:]}", ok=False)
        return
    for line in proc.stdout.splitlines():
        if line.startswith("build:"):
            table.add(label, "Resolver build (bench_resolve.py)", p50=line.split(":", 1)[1].strip())
        m = _RESOLVE_LINE.match(line)
        if not m or m["label"] == "queries":
            continue
        p50, p99, worst = float(m["p50"]) / 1000, float(m["p99"]) / 1000, float(m["max"]) / 1000
        target, ok = "", None
        if m["label"] in ("exact", "several words") or m["label"].startswith("arabic"):
            target, ok = f"p99 < {TARGET_RESOLVE_EXACT_MS:g} ms", p99 < TARGET_RESOLVE_EXACT_MS
        elif m["label"].startswith("typo"):
            target, ok = f"p99 <= {TARGET_RESOLVE_TYPO_MS:g} ms", p99 <= TARGET_RESOLVE_TYPO_MS
        table.add(label, f"resolve: {m['label']}", p50=ms(p50), p99=ms(p99),
                  extra=f"max {ms(worst)}" + (f"; {m['rest']}" if m["rest"] else ""),
                  target=target, ok=ok)
    table.notes.append("Resolver rows come from `benchmarks/bench_resolve.py` (run as a subprocess); "
                       "its own output:\n\n```\n" + proc.stdout.strip() + "\n```")


def startup(db: Path, data: Path, table: Table) -> None:
    label = "start-up"
    took, first = bench_startup.sitrep_ask(db, data, ROOT / "seeds")
    table.add(label, "`sitrep ask '!status Mosul'`, fresh process, built real store",
              p50=f"{took:.2f} s", extra=f"median of 5; answered “{first[:60]}”",
              target=f"<= {TARGET_STARTUP_S:g} s", ok=took <= TARGET_STARTUP_S)
    imp, bare, top = bench_startup.import_time()
    table.add(label, "`python -c 'import bot.engine.engine'`", p50=f"{imp:.2f} s",
              extra=f"interpreter alone {bare:.2f} s; heaviest: {', '.join(top)}")


def render(table: Table, info: dict[str, str], started: datetime, seconds: float) -> str:
    """The results file: date, machine, the table and the notes."""
    lines = [
        "# sitrep benchmarks",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC in {seconds:.0f} s by `make bench` "
        "(`.venv/bin/python -m benchmarks`). Medians and p99 in wall time, through `Engine` as the "
        "front ends call it; targets are judged at 1M facts and 200k names.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        table.markdown(),
    ]
    if table.notes:
        lines += ["", "## Notes"]
        for note in table.notes:
            lines += ["", note]
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace, tmp: Path, table: Table) -> tuple[Path, Path]:
    db_real, data = await real_store(tmp, table, args.iterations)
    t0 = time.perf_counter()
    syn = synth.make_synthetic(n_places=args.places)
    table.notes.append(
        f"Synthetic stores: {args.places} places (1,000 curated “hot” ones, the rest gazetteer), "
        "one pseudo-name each, 24 sources; facts 80% on uniformly random places and 20% on the "
        f"hot places with Zipf weights (generated in {time.perf_counter() - t0:.1f} s, seed 42). "
        "Queries are names of places that have facts, drawn uniformly; misspellings drop or swap "
        "one letter (never the first).")
    sizes = sorted(args.facts)
    for n in sizes:
        path = await synthetic_store(tmp, syn, n, table, args.iterations, is_big=n == sizes[-1])
        if n != sizes[-1]:
            shutil.rmtree(path.parent)
    return db_real, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=lambda s: [int(x) for x in s.split(",")],
                        default=[100_000, 1_000_000], help="synthetic store sizes (the largest is judged)")
    parser.add_argument("--places", type=int, default=synth.N_PLACES)
    parser.add_argument("--iterations", type=int, default=2000, help="queries per latency case")
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying the harness")
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores")
    parser.add_argument("--no-write", action="store_true", help=f"do not overwrite {RESULTS.name}")
    args = parser.parse_args(argv)
    if args.quick:
        args.facts, args.iterations = [20_000, 100_000], 300

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    info = machine()
    load_start = os.getloadavg()[0]
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), file=sys.stderr)
    table = Table()
    tmp = Path(tempfile.mkdtemp(prefix="sitrep-bench-"))
    try:
        db_real, data = asyncio.run(run(args, tmp, table))
        resolver(table, args.places, args.iterations)
        startup(db_real, data, table)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    # Other work on a shared machine inflates tails: say how busy it was.
    info["load average (1 min) at start / end"] = f"{load_start:.2f} / {os.getloadavg()[0]:.2f}"
    text = render(table, info, started, time.perf_counter() - t0)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    return 0
