"""Moderation costs on the real store: what a moderator waits for, and what a change costs readers.

- ``fact add`` / ``fact edit`` / ``undo`` through the moderation service (input checks, one
  transaction, the change log, the engine told to forget), with ``synchronous=FULL`` as shipped
  and with ``NORMAL`` side by side in the same run, interleaved, so the price of the power-cut
  guarantee is measured rather than guessed;
- ``ingest`` of the test wire article (sentences, names, dates, queueing) and approving one
  candidate;
- ``status`` in a server with names of its own (its own resolver) against the shared one;
- export of a server's data as JSON and CSV.

Run: ``.venv/bin/python -m benchmarks.bench_moderation [--iterations 300]``. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks.common import ROOT, Table, machine, percentile
from bot.runtime import open_at
from bot.store.stores import build_store

GUILD = 4242
ARTICLE = ROOT / "tests" / "fixtures" / "articles" / "wire_test_article.txt"


async def timed(fn: Callable[[int], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        await fn(i)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def row(table: Table, what: str, samples: list[float], extra: str = "") -> None:
    table.add("moderation", what, p50=f"{percentile(samples, 50):.2f} ms",
              p99=f"{percentile(samples, 99):.2f} ms", extra=f"n={len(samples)} {extra}".strip())


async def run(iterations: int) -> Table:
    table = Table()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sitrep.db"
        await build_store(db, ROOT / "seeds", ROOT / "data")
        engine_rt = await open_at(db)
        engine = engine_rt.engine
        mod = engine_rt.moderation
        try:
            src = (await mod.add_source(GUILD, 1, title="Bench", outlet="Bench Wire",
                                        published="2 March 2020")).key

            async def add(i: int) -> object:
                return await mod.add_fact(GUILD, 1, place=("Mosul", "Ramadi")[i % 2],
                                          date_text="1 March 2020", source=src,
                                          summary=f"Benchmark fact {i}.")

            full: list[float] = []
            normal: list[float] = []
            for i in range(iterations):  # interleaved: drift hits both alike
                for mode, bucket in (("FULL", full), ("NORMAL", normal)):
                    await mod.writer.conn.execute(f"PRAGMA synchronous = {mode}")
                    t0 = time.perf_counter()
                    await add(i)
                    bucket.append((time.perf_counter() - t0) * 1000)
            await mod.writer.conn.execute("PRAGMA synchronous = FULL")
            row(table, "fact add, synchronous=FULL (shipped)", full)
            row(table, "fact add, synchronous=NORMAL (for comparison)", normal)
            ids = [c.key for c in await mod.recent(GUILD, 50) if c.kind == "fact"]
            row(table, "fact edit", await timed(
                lambda i: mod.edit_fact(GUILD, 1, ids[i % len(ids)], summary=f"Edited {i}."),
                iterations))
            row(table, "undo", await timed(lambda i: mod.undo(GUILD, 1), min(iterations, 40)))
            text = ARTICLE.read_text(encoding="utf-8")
            ingest = await timed(lambda i: mod.ingest(
                GUILD, 1, text=text, title=f"Wire {i}", outlet="Wire", published="17 October 2016",
                genre="wire"), 20)
            row(table, "ingest (1.5k-char wire article, 6k names)", ingest)
            pending = await mod.pending(GUILD)
            row(table, "approve a candidate", await timed(
                lambda i: mod.approve(GUILD, 1, pending[i].id), min(len(pending), 20)))
            await mod.add_alias(GUILD, 1, "Mosul", "Bench City")
            shared = await timed(lambda i: engine.status(("Mosul", "Ramadi")[i % 2], 0), iterations)
            own = await timed(lambda i: engine.status(("Mosul", "Ramadi")[i % 2], GUILD), iterations)
            row(table, "status, shared resolver (engine, no answer cache)", shared)
            row(table, "status, server with its own names", own)
            own_facts = len((await mod.export_document(GUILD))["facts"])
            row(table, "export JSON", await timed(
                lambda i: mod.export_document(GUILD), 20), f"({own_facts} own facts)")
            row(table, "export CSV (every visible fact)", await timed(
                lambda i: mod.export_csv(GUILD), 20))
        finally:
            await engine_rt.close()
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args(argv)
    table = asyncio.run(run(args.iterations))
    print(" · ".join(f"{k}: {v}" for k, v in machine().items()))
    print(table.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
