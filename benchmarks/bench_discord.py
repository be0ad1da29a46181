"""Discord front-end latency: from the gateway event to the reply's HTTP request.

The real discord.py client runs sitrep's bot against the fake Discord server of the tests
(tests/fakediscord) on 127.0.0.1, in one event loop. For each request the clock starts just before
the server dispatches MESSAGE_CREATE and stops when the bot's ``POST /channels/{id}/messages``
arrives at the server, so it covers the gateway frame (zlib-stream), discord.py's parsing and
dispatch, the command, the engine's queries, rendering and the HTTP request. ``!ping`` goes through
exactly the same path with no engine work, so the difference is what sitrep itself costs; the
three commands are interleaved round-robin so that any drift of the machine hits all alike.

Run: ``.venv/bin/python -m benchmarks.bench_discord [--facts 1000000]``. Prints a table.
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
from pathlib import Path

from benchmarks import synth
from benchmarks.common import ROOT, percentile

sys.path.insert(0, str(ROOT / "tests"))

from fakediscord import FakeDiscord, fake_discord, running_bot

from bot.config import load_settings
from bot.discord.app import create_bot
from bot.runtime import open_at
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


async def run_case(label: str, db: Path, places: list[str], rounds: int,
                   burst_size: int) -> list[str]:
    rows = []
    async with fake_discord() as server:
        users = [server.add_user(f"user{i}", guild_id=server.guild_id).id for i in range(250)]
        guild = server.world.guilds[server.guild_id]
        channels = [server.world.add_channel(guild, f"room-{i}").id for i in range(50)]
        engine_rt = await open_at(db)
        settings = load_settings(discord_token="bench.token", database=db, user_rate=100_000,
                                 same_answer_seconds=0, log_level="WARNING")
        bot = create_bot(settings, engine_rt)
        try:
            async with running_bot(server, bot, "bench.token"):
                times = await interleaved(server, places, rounds)
                ping = statistics.median(times["ping"])
                for kind in ("ping", "status", "timeline"):
                    t = times[kind]
                    p50, p99 = statistics.median(t), percentile(t, 99)
                    verdict = "" if kind == "ping" else (
                        "PASS" if p50 <= 1.5 * ping and p99 <= 10 else "FAIL")
                    rows.append(f"| {label} | `!{kind}` gateway event → reply request | "
                                f"{p50:.2f} ms | {p99:.2f} ms | n={len(t)}, max {max(t):.2f} ms, "
                                f"{p50 / ping:.2f}× ping | "
                                f"{'' if kind == 'ping' else 'p50 <= 1.5× ping, p99 <= 10 ms'} "
                                f"| {verdict} |")
                answered, seconds, p99 = await burst(server, users, channels, places, burst_size)
                rows.append(f"| {label} | burst of {burst_size} commands from {len(users)} users "
                            f"in {len(channels)} channels "
                            f"| {answered} answered in {seconds:.2f} s | {p99:.0f} ms (last "
                            f"reply, p99) | {burst_size / seconds:.0f} commands/s | nothing lost "
                            f"| {'PASS' if answered == burst_size else 'FAIL'} |")
        finally:
            await engine_rt.close()
    return rows


async def main_async(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sitrep-bench-discord-"))
    try:
        real = tmp / "real.db"
        await build_store(real, ROOT / "seeds", ROOT / "data")
        rows = await run_case("real store", real, REAL_PLACES, args.rounds, args.burst)
        if args.facts:
            syn = synth.make_synthetic()
            big = tmp / "big.db"
            conn = await synth.create_store(big, syn)
            await synth.load_facts_bulk(conn, big, synth.fact_rows(syn, args.facts))
            counts = await synth.fact_counts(conn)
            await conn.close()
            names = [name for _, name, n in counts[1000:] if n < 50][:2000]
            rows += await run_case(f"{args.facts // 1000}k facts, 200k names", big, names,
                                   args.rounds, args.burst)
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
    started = time.perf_counter()
    asyncio.run(main_async(parser.parse_args(argv)))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
