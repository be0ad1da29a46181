"""Discord front-end latency: from the gateway event to the reply's HTTP request.

The real discord.py client runs sitrep's bot against the fake Discord server of the tests
(tests/fakediscord) on 127.0.0.1, in one event loop. For each request the clock starts just before
the server dispatches MESSAGE_CREATE and stops when the bot's ``POST /channels/{id}/messages``
arrives at the server, so it covers the gateway frame (zlib-stream), discord.py's parsing and
dispatch, the command, the engine's queries, rendering and the HTTP request. ``!ping`` goes through
exactly the same path with no engine work, so the difference is what sitrep itself costs; the
three commands are interleaved round-robin so that any drift of the machine hits all alike.

Run: ``.venv/bin/python -m benchmarks.bench_discord [--facts 1000000] [--postgres]``. Prints a
table. ``--postgres`` runs every case on SQLite and on a PostgreSQL copy of the same store (a
throwaway server, ``benchmarks/pg.py``), the engines alternating; ``bench_engines`` calls
:func:`run_case` with the stores it has built.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import pg, synth
from benchmarks.common import ROOT, percentile

sys.path.insert(0, str(ROOT / "tests"))

from fakediscord import FakeDiscord, fake_discord, running_bot

from bot.config import load_settings
from bot.discord.app import create_bot
from bot.runtime import open_at
from bot.store.db import connect
from bot.store.stores import build_store

MESSAGES = r"/channels/\d+/messages"
REAL_PLACES = ["Mosul", "Ramadi", "Fallujah", "Hit", "Raqqa", "Deir Ezzor", "Palmyra", "Haditha",
               "Tal Afar", "Baiji", "Rutba", "Aleppo", "Samarra", "Kubasya"]


async def one(server: FakeDiscord, user: int, text: str) -> float:
    """Milliseconds from dispatching ``text`` to the bot's reply request arriving."""
    loop = asyncio.get_running_loop()
    mark = server.mark()
    started = loop.time()
    await server.send_message(server.channel_id, user, text)
    req = await server.wait_for_request("POST", MESSAGES, since=mark, timeout=30,
                                        predicate=lambda r: r.status == 200)
    return (req.at - started) * 1000


async def interleaved(server: FakeDiscord, places: list[str], rounds: int,
                      warmup: int = 50) -> dict[str, list[float]]:
    rng = random.Random(7)
    out: dict[str, list[float]] = {"ping": [], "status": [], "timeline": []}
    for i in range(warmup + rounds):
        place = rng.choice(places)
        for kind, text in (("ping", "!ping"), ("status", f"!status {place}"),
                           ("timeline", f"!timeline {place}")):
            took = await one(server, server.member_id, text)
            if i >= warmup:
                out[kind].append(took)
    return out


async def burst(server: FakeDiscord, users: list[int], channels: list[int], places: list[str],
                total: int) -> tuple[int, float, float]:
    """``total`` commands from many users in many channels at once; returns (answered, seconds,
    p99 ms). Spread over channels as on a busy server: discord.py paces sends to each channel's
    rate-limit bucket (the fake declares 50 a second, Discord itself fewer), so a burst into one
    channel would measure that pacing rather than the bot."""
    loop = asyncio.get_running_loop()
    mark = server.mark()
    started = loop.time()
    rng = random.Random(11)
    for i in range(total):
        command = rng.choice(["status", "timeline"])
        await server.send_message(channels[i % len(channels)], users[i % len(users)],
                                  f"!{command} {rng.choice(places)}")
    deadline = loop.time() + 300
    while loop.time() < deadline:
        answered = [r for r in server.requests[mark:]
                    if r.matches("POST", MESSAGES) and r.status == 200]
        if len(answered) >= total:
            break
        await asyncio.sleep(0.05)
    answered = [r for r in server.requests[mark:] if r.matches("POST", MESSAGES)
                and r.status == 200]
    seconds = (max((r.at for r in answered), default=started) - started)
    return len(answered), seconds, percentile([(r.at - started) * 1000 for r in answered], 99)


@dataclass(slots=True)
class Case:
    """What one store answered through the fake Discord: per-command latencies (ms) and the
    burst's outcome."""

    times: dict[str, list[float]]
    burst_size: int
    answered: int
    seconds: float
    burst_p99: float
    users: int
    channels: int


async def run_case(where: Path | str, places: list[str], rounds: int, burst_size: int) -> Case:
    """The interleaved rounds and the burst on the store at ``where`` (an SQLite file or a
    PostgreSQL URL)."""
    async with fake_discord() as server:
        users = [server.add_user(f"user{i}", guild_id=server.guild_id).id for i in range(250)]
        guild = server.world.guilds[server.guild_id]
        channels = [server.world.add_channel(guild, f"room-{i}").id for i in range(50)]
        engine_rt = await open_at(where)
        store = {"database_url": where} if isinstance(where, str) else {"database": where}
        settings = load_settings(discord_token="bench.token", **store, user_rate=100_000,
                                 same_answer_seconds=0, log_level="WARNING")
        bot = create_bot(settings, engine_rt)
        try:
            async with running_bot(server, bot, "bench.token"):
                times = await interleaved(server, places, rounds)
                answered, seconds, p99 = await burst(server, users, channels, places, burst_size)
        finally:
            await engine_rt.close()
    return Case(times, burst_size, answered, seconds, p99, len(users), len(channels))


def markdown_rows(label: str, case: Case) -> list[str]:
    rows = []
    ping = statistics.median(case.times["ping"])
    for kind in ("ping", "status", "timeline"):
        t = case.times[kind]
        p50, p99 = statistics.median(t), percentile(t, 99)
        verdict = "" if kind == "ping" else (
            "PASS" if p50 <= 1.5 * ping and p99 <= 10 else "FAIL")
        rows.append(f"| {label} | `!{kind}` gateway event → reply request | "
                    f"{p50:.2f} ms | {p99:.2f} ms | n={len(t)}, max {max(t):.2f} ms, "
                    f"{p50 / ping:.2f}× ping | "
                    f"{'' if kind == 'ping' else 'p50 <= 1.5× ping, p99 <= 10 ms'} "
                    f"| {verdict} |")
    rows.append(f"| {label} | burst of {case.burst_size} commands from {case.users} users "
                f"in {case.channels} channels "
                f"| {case.answered} answered in {case.seconds:.2f} s | {case.burst_p99:.0f} ms "
                f"(last reply, p99) | {case.burst_size / case.seconds:.0f} commands/s | "
                f"nothing lost | {'PASS' if case.answered == case.burst_size else 'FAIL'} |")
    return rows


async def synthetic_places(db: Path) -> list[str]:
    """Names of ordinary places of the synthetic store (not the hot ones, under 50 facts)."""
    conn = await connect(db, readonly=True)
    try:
        counts = await synth.fact_counts(conn)
    finally:
        await conn.close()
    return [name for _, name, n in counts[1000:] if n < 50][:2000]


async def main_async(args: argparse.Namespace, server: object | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sitrep-bench-discord-"))
    rows: list[str] = []
    try:
        real = tmp / "real.db"
        await build_store(real, ROOT / "seeds", ROOT / "data")
        cases: list[tuple[str, Path, list[str]]] = [("real store", real, REAL_PLACES)]
        if args.facts:
            big, _, _ = await synth.cached_store(args.facts)
            cases.append((f"{args.facts // 1000}k facts, 200k names", big,
                          await synthetic_places(big)))
        for i, (label, db, places) in enumerate(cases):
            where: list[tuple[str, Path | str]] = [("SQLite", db)]
            if server is not None:
                url = server.create_database(f"discord_{i}")  # type: ignore[attr-defined]
                if db == real:
                    await build_store(pg.location(url), ROOT / "seeds", ROOT / "data")
                else:
                    await pg.copy_sqlite(db, url)
                where.append(("PostgreSQL", url))
                if i % 2:
                    where.reverse()  # alternate which engine goes first
            for engine, at in where:
                case = await run_case(at, places, args.rounds, args.burst)
                rows += markdown_rows(f"{label}, {engine}", case)
        print("| store | measurement | p50 | p99 | other | target | result |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500, help="timed rounds of each command")
    parser.add_argument("--burst", type=int, default=1000, help="commands in the burst")
    parser.add_argument("--facts", type=int, default=1_000_000,
                        help="facts in the synthetic store (0 skips it)")
    parser.add_argument("--postgres", action="store_true",
                        help="also run every case on a PostgreSQL copy of the store")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.postgres:
        with pg.throwaway_server() as server:
            asyncio.run(main_async(args, server))
    else:
        asyncio.run(main_async(args, None))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
