"""Sharding: a burst of commands over 10,000 servers, answered by 4 shards in two processes or in
one, on one PostgreSQL store of a million facts.

    .venv/bin/python -m benchmarks.bench_shards [--facts 1000000] [--guilds 10000]
                                                [--commands 5000] [--quick]

Writes ``benchmarks/results-shards.md`` and prints it. What runs:

* **The fake Discord** (``tests/fakediscord``) in this process, with ``--guilds`` servers dealt
  round-robin to 4 shards and ``max_concurrency`` 1 (a small bot: one IDENTIFY per 5 s, which
  sitrep spaces 5.5 s apart, so the fourth shard cannot identify before 16.5 s).
* **The store**: the synthetic store of ``benchmarks/synth.py`` (cached in ``var/bench-cache``),
  copied into a throwaway PostgreSQL server by ``benchmarks/pg.py``.
* **The bots**: real ``sitrep run`` subprocesses (``tests/fakediscord/process.py``), with the
  per-user rate limit and the same-answer suppression off (``SITREP_USER_RATE`` 100000,
  ``SITREP_SAME_ANSWER_SECONDS`` 0) so that neither is what is measured.

Cases, in this order on the same store and fake server, each with fresh processes:

1. **one process** holding shards 0-3, the whole burst (``--commands``);
2. **two processes** started together, holding shards 0-1 and 2-3, the same burst;
3. **one process, half**: shards 0-3 again, the first half of the burst, with half as many
   commands in flight: the load per process of case 2.

"Load" is made equal by keeping a fixed number of commands *in flight* (a closed loop): the fake
dispatches a new command as soon as an earlier one is answered, ``--in-flight`` per process
(25 by default: 50 for cases 1 and 2, 25 for case 3). So each process of case 2 and the process of
case 3 have the same number of unanswered commands at any time, and see the same queue; an
open burst (``--in-flight 0``: everything dispatched at once) is available too, but there the
latency of the last commands is just the time to drain the backlog.

Every command goes to the #general channel of a different server (drawn uniformly, fixed seed),
from the member user; it is ``!status`` or ``!timeline`` (half each) of a place name of the
synthetic store (one in ten misspelled). sitrep's replies carry no message reference, so the
distinct channels are how a reply is told to answer its command: a command is answered once when
its channel got exactly one bot message with a random nonce (watch and mod-log posts carry the
nonce ``sitrep<id>``), from the process that holds its server's shard. Latency runs from just
before the fake dispatches MESSAGE_CREATE to the reply's ``POST /channels/{id}/messages``
arriving at the fake, as in ``bench_discord``. Before each burst, a warm-up of ``--warmup``
commands in servers the burst does not use (not timed).

Start-up: from spawning the process(es) to every held shard's session being READY with all its
GUILD_CREATEs sent by the fake, and to a ``!ping`` in a server of every held shard being answered
(when the process can actually answer there).

The machine has 2 cores shared by the PostgreSQL server, this process (the fake Discord and the
driver) and the bot processes: every row carries the 1-minute load average and how busy the
whole machine was, and the CPU each party spent per command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import pg, synth
from benchmarks.bench_discord import synthetic_places
from benchmarks.bench_engines import _proc_stat, machine_busy, page_cache_note, server_cpu
from benchmarks.common import ROOT, machine, percentile

sys.path.insert(0, str(ROOT / "tests"))

from fakediscord import BotProcess, FakeDiscord, bot_process

RESULTS = Path(__file__).resolve().parent / "results-shards.md"
TOKEN = "bench.token"
SHARDS = 4
TARGET_P99_RATIO = 1.5
MESSAGES = re.compile(r"/channels/(\d+)/messages")
STARTUP_TIMEOUT = 300.0
STALL_SECONDS = 60.0
"""A burst gives up (and counts the rest as lost) when no reply came for this long."""
SETTLE_SECONDS = 1.5
"""After the last expected reply, how long to wait for a duplicate one."""


def load1() -> float:
    return os.getloadavg()[0]


# ------------------------------------------------------------------------------ the plan
@dataclass(frozen=True, slots=True)
class Command:
    guild: int
    channel: int
    shard: int
    text: str


@dataclass(frozen=True, slots=True)
class Holder:
    """One bot process of a case: its client tag and the shards it holds."""

    tag: str
    shards: tuple[int, ...]

    @property
    def shard_ids(self) -> str:
        return ",".join(str(s) for s in self.shards)


ONE = (Holder("one", (0, 1, 2, 3)),)
TWO = (Holder("p01", (0, 1)), Holder("p23", (2, 3)))


def plan_commands(server: FakeDiscord, places: Sequence[str], total: int, spare: int,
                  seed: int = 5) -> tuple[list[Command], list[Command]]:
    """``total`` burst commands and ``spare`` warm-up ones, each in a different server's #general
    (servers drawn uniformly without replacement, so each channel's replies belong to exactly one
    command)."""
    rng = random.Random(seed)
    guilds = list(server.world.guilds)
    if total + spare > len(guilds):
        raise SystemExit(f"{total} commands and {spare} warm-up ones need as many servers; "
                         f"there are {len(guilds)}")
    chosen = rng.sample(guilds, total + spare)
    commands = []
    for guild in chosen:
        place = rng.choice(places)
        if rng.random() < 0.1:
            place = synth.misspell(place, rng)
        kind = rng.choice(("status", "timeline"))
        commands.append(Command(guild, server.world.guilds[guild].channel_named("general").id,
                                server.shard_of_guild(guild), f"!{kind} {place}"))
    return commands[:total], commands[total:]


# ------------------------------------------------------------------------------ replies
def is_post(payload: Any) -> bool:
    """A watch or mod-log post: sitrep gives those the nonce ``sitrep<outbox id>``; replies to
    commands get a random one (see ``tests/test_sharded_processes.py``)."""
    return isinstance(payload, dict) and str(payload.get("nonce", "")).startswith("sitrep")


@dataclass(slots=True)
class Reply:
    at: float
    tag: str | None


class Replies:
    """The bot replies the fake has recorded since a mark, by channel, read incrementally: the
    request list only grows, so each check reads just what is new (a scan of everything on every
    reply would cost the driver, which shares the fake's event loop, quadratic time)."""

    def __init__(self, server: FakeDiscord, since: int) -> None:
        self.server = server
        self.cursor = since
        self.by_channel: dict[int, list[Reply]] = defaultdict(list)

    def advance(self) -> list[tuple[int, Reply]]:
        """The replies recorded since the last call, as (channel, reply); stops at the first
        request still being handled (its status is not known yet)."""
        new = []
        requests = self.server.requests
        while self.cursor < len(requests) and requests[self.cursor].status is not None:
            r = requests[self.cursor]
            self.cursor += 1
            if r.method != "POST" or r.status != 200 or is_post(r.json):
                continue
            match = MESSAGES.fullmatch(r.path)
            if match is None:
                continue
            reply = Reply(r.at, r.client_tag)
            channel = int(match.group(1))
            self.by_channel[channel].append(reply)
            new.append((channel, reply))
        return new


# ------------------------------------------------------------------------------ CPU
@dataclass(slots=True)
class Cpu:
    """CPU seconds used so far by each party, to tell who the cores went to."""

    bots: dict[str, float]
    postgres: float
    fake: float
    busy: float
    total: float
    at: float

    @property
    def ours(self) -> float:
        return sum(self.bots.values()) + self.postgres + self.fake

    @classmethod
    def now(cls, procs: dict[str, BotProcess], postmaster: int) -> Cpu:
        bots = {}
        for tag, proc in procs.items():
            stat = _proc_stat(proc.pid)
            bots[tag] = stat[1] if stat is not None else 0.0
        busy, total = machine_busy()
        return cls(bots, server_cpu(postmaster), time.process_time(), busy, total,
                   time.monotonic())


# ------------------------------------------------------------------------------ a burst
@dataclass(slots=True)
class Burst:
    """What one burst measured."""

    case: str
    round: int
    holders: tuple[Holder, ...]
    commands: int
    in_flight: int
    latencies: list[float]
    """Milliseconds, of commands answered once by the right process."""
    once: int
    lost: int
    duplicated: int
    """Commands answered more than once."""
    wrong: int
    """Commands answered (also) by a process that does not hold their shard."""
    strays: int
    """Replies in channels the burst sent nothing to."""
    wall: float
    by_process: Counter[str]
    cpu_bots: dict[str, float]
    cpu_postgres: float
    cpu_fake: float
    busy_cores: float
    """How busy the whole machine was, in cores."""
    other_cores: float
    """The part of that not spent by the bots, PostgreSQL or this process: neighbours."""
    load: tuple[float, float]

    @property
    def throughput(self) -> float:
        return self.commands / self.wall if self.wall > 0 else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)

    @property
    def clean(self) -> bool:
        return self.once == self.commands and not (self.lost or self.duplicated or self.wrong
                                                    or self.strays)


async def drive(server: FakeDiscord, commands: Sequence[Command],
                in_flight: int) -> tuple[dict[int, float], Replies, float]:
    """Send ``commands``, keeping at most ``in_flight`` unanswered (0: all at once); returns each
    command's dispatch time by channel, the replies, and when the first was dispatched."""
    loop = asyncio.get_running_loop()
    replies = Replies(server, server.mark())
    window = in_flight or len(commands)
    sent: dict[int, float] = {}
    waiting: set[int] = set()
    started = loop.time()
    last_progress = started
    nxt = 0
    while nxt < len(commands) or waiting:
        while nxt < len(commands) and len(waiting) < window:
            c = commands[nxt]
            nxt += 1
            waiting.add(c.channel)
            sent[c.channel] = loop.time()
            await server.send_message(c.channel, server.member_id, c.text)
        if not waiting:
            break

        def answered() -> bool:
            got = False
            for channel, _ in replies.advance():
                if channel in waiting:
                    waiting.discard(channel)
                    got = True
            return got

        try:
            await server.signal.wait_for(answered, 1.0, "a reply", poll=0.005)
            last_progress = loop.time()
        except TimeoutError:
            if loop.time() - last_progress > STALL_SECONDS:
                print(f"    no reply for {STALL_SECONDS:.0f} s; {len(waiting)} unanswered",
                      file=sys.stderr, flush=True)
                break
    return sent, replies, started


async def burst(server: FakeDiscord, case: str, round_: int, holders: tuple[Holder, ...],
                procs: dict[str, BotProcess], commands: Sequence[Command], in_flight: int,
                postmaster: int) -> Burst:
    """One timed burst, judged: every command answered exactly once, by its shard's process."""
    owner = {s: h.tag for h in holders for s in h.shards}
    loads = [load1()]
    before = Cpu.now(procs, postmaster)
    sent, replies, started = await drive(server, commands, in_flight)
    after = Cpu.now(procs, postmaster)
    await asyncio.sleep(SETTLE_SECONDS)
    replies.advance()
    loads.append(load1())
    latencies, by_process = [], Counter[str]()
    once = lost = duplicated = wrong = 0
    last = started
    for c in commands:
        got = replies.by_channel.get(c.channel, [])
        if not got:
            lost += 1
            continue
        last = max(last, got[0].at)
        by_process.update(r.tag or "?" for r in got)
        if len(got) > 1:
            duplicated += 1
        if any(r.tag != owner[c.shard] for r in got):
            wrong += 1
        if len(got) == 1 and got[0].tag == owner[c.shard]:
            once += 1
            latencies.append((got[0].at - sent[c.channel]) * 1000)
    channels = {c.channel for c in commands}
    strays = sum(len(v) for ch, v in replies.by_channel.items() if ch not in channels)
    cores = os.cpu_count() or 1
    busy = (after.busy - before.busy) / max(after.total - before.total, 1e-9) * cores
    ours = (after.ours - before.ours) / max(after.at - before.at, 1e-9)
    return Burst(case, round_, holders, len(commands), in_flight,
                 latencies, once, lost, duplicated, wrong, strays, last - started, by_process,
                 {t: after.bots[t] - before.bots[t] for t in before.bots},
                 after.postgres - before.postgres, after.fake - before.fake,
                 busy, max(busy - ours, 0.0), (loads[0], loads[1]))


# ------------------------------------------------------------------------------ start-up
@dataclass(slots=True)
class Started:
    """One process's start-up, in seconds after the spawn."""

    holder: Holder
    identifies: list[tuple[int, float]]
    """(shard, seconds after spawn) of each IDENTIFY the fake accepted from it."""
    sessions: float
    """Every held shard's session READY, all its GUILD_CREATEs sent."""
    answering: float
    """A ``!ping`` in a server of every held shard answered."""


@dataclass(slots=True)
class Startup:
    case: str
    max_concurrency: int
    processes: list[Started]
    load: float

    @property
    def all_answering(self) -> float:
        return max(p.answering for p in self.processes)


@contextlib.asynccontextmanager
async def running(server: FakeDiscord, case: str, holders: tuple[Holder, ...], url: str,
                  home: Path) -> AsyncIterator[tuple[dict[str, BotProcess], Startup]]:
    """Spawn one ``sitrep run`` per holder, all at once, and time their start-up; every process
    is stopped on exit (``bot_process``: SIGTERM, then SIGKILL)."""
    loop = asyncio.get_running_loop()
    load = load1()
    async with contextlib.AsyncExitStack() as stack:
        def env(h: Holder) -> dict[str, str]:
            return server.launch_env(
                TOKEN, database_url=url, shard_count=str(SHARDS), shard_ids=h.shard_ids,
                user_rate="100000", same_answer_seconds="0", log_level=os.environ.get("BENCH_LOG", "WARNING"),
                heartbeat_file=home / f"beat-{h.tag}")

        spawned = loop.time()
        first_identify = len(server.identify_times)
        procs = await asyncio.gather(*(
            stack.enter_async_context(bot_process(server, "run", env=env(h), tag=h.tag,
                                                  shards=None, cwd=home))
            for h in holders))

        async def ready(h: Holder, proc: BotProcess) -> Started:
            await proc.wait_ready(server, h.shards, STARTUP_TIMEOUT)
            sessions = loop.time() - spawned
            for shard in h.shards:
                channel = server.world.guilds[server.guilds_of_shard(shard)[0]] \
                    .channel_named("general").id
                mark = server.mark()
                await server.send_message(channel, server.member_id, "!ping")
                await server.wait_for_request(
                    "POST", rf"/channels/{channel}/messages", STARTUP_TIMEOUT, since=mark,
                    predicate=lambda r: r.status == 200 and not is_post(r.json))
            answering = loop.time() - spawned
            ids = [(r.shard[0], r.at - spawned) for r in server.identify_times[first_identify:]
                   if r.client_tag == h.tag]
            return Started(h, ids, sessions, answering)

        try:
            started = await asyncio.gather(*(ready(h, p) for h, p in zip(holders, procs,
                                                                            strict=True)))
        except BaseException as exc:
            for p in procs:
                exc.add_note(f"--- output of {p.tag} ---\n{p.output()[-4000:]}")
            raise
        startup = Startup(case, server.max_concurrency, list(started), load)
        print(f"  {case}: started, all answering after {startup.all_answering:.1f} s",
              file=sys.stderr, flush=True)
        yield {p.tag: p for p in procs}, startup


# ------------------------------------------------------------------------------ the run
@dataclass(slots=True)
class Results:
    bursts: list[Burst] = field(default_factory=list)
    startups: list[Startup] = field(default_factory=list)
    store: str = ""
    notes: list[str] = field(default_factory=list)


async def case(server: FakeDiscord, results: Results, name: str, round_: int,
               holders: tuple[Holder, ...], url: str, tmp: Path, postmaster: int,
               commands: Sequence[Command] | None, warmup: Sequence[Command],
               in_flight: int) -> None:
    """Start ``holders``, warm them up, run the burst (None: start-up only) with ``in_flight``
    commands unanswered at a time in all (0: all at once), stop them."""
    home = Path(tempfile.mkdtemp(prefix="case-", dir=tmp))
    async with running(server, name, holders, url, home) as (procs, startup):
        results.startups.append(startup)
        if commands is None:
            return
        await drive(server, warmup, in_flight)
        await asyncio.sleep(SETTLE_SECONDS)
        result = await burst(server, name, round_, holders, procs, commands, in_flight,
                             postmaster)
        results.bursts.append(result)
        print(f"  {name} (round {round_}): {result.commands} commands, p50 {result.p50:.0f} ms, "
              f"p99 {result.p99:.0f} ms, {result.throughput:.0f}/s, once {result.once}, "
              f"lost {result.lost}, dup {result.duplicated}, wrong {result.wrong}, "
              f"others {result.other_cores:.2f} cores", file=sys.stderr, flush=True)
        for proc in procs.values():
            if proc.returncode is not None:
                raise RuntimeError(f"{proc.tag} exited with {proc.returncode}:\n{proc.output()}")


WHOLE, TWO_WHOLE, HALF = ("one process, whole burst", "two processes, whole burst",
                          "one process, half the burst")
CASES = (WHOLE, TWO_WHOLE, HALF)


async def measure(args: argparse.Namespace, url: str, postmaster: int, tmp: Path,
                  results: Results) -> None:
    t0 = time.perf_counter()
    db, _, reused = await synth.cached_store(args.facts)
    t1 = time.perf_counter()
    copied = await pg.copy_sqlite(db, url)
    await pg.mark_built(url)  # or `sitrep run` would rebuild it from the shipped curation
    results.store = (
        f"{copied.rows['facts']} facts over {copied.rows['places']} places "
        f"({'cached SQLite file' if reused else f'SQLite built in {t1 - t0:.0f} s'}, "
        f"copied into PostgreSQL in {copied.copy_s + copied.indexes_s + copied.vacuum_s:.0f} s; "
        f"{copied.db_bytes / 2**20:.0f} MiB)")
    places = await synthetic_places(db)
    await asyncio.to_thread(os.sync)  # the copy's dirty pages written before anything is timed
    async with FakeDiscord(guilds=args.guilds, shard_count=SHARDS,
                           max_concurrency=args.max_concurrency) as server:
        commands, spare = plan_commands(server, places, args.commands, args.warmup)
        n = args.in_flight  # per process of the two-process case: the load per process
        plans = {WHOLE: (ONE, commands, 2 * n), TWO_WHOLE: (TWO, commands, 2 * n),
                 HALF: (ONE, commands[: len(commands) // 2], n)}
        for r in range(1, args.rounds + 1):
            # ABBA: a store or page cache warming up over the run favours no case
            for name in (CASES if r % 2 else CASES[::-1]):
                holders, cmds, in_flight = plans[name]
                await case(server, results, name, r, holders, url, tmp, postmaster, cmds,
                           spare, in_flight)
        if args.max_concurrency == 1 and not args.no_mc4:
            server.max_concurrency = 4  # as Discord grants large bots: 4 IDENTIFYs per 5 s
            await case(server, results, "two processes, max_concurrency 4", 0, TWO, url, tmp,
                       postmaster, None, spare, n)
            await case(server, results, "one process, max_concurrency 4", 0, ONE, url, tmp,
                       postmaster, None, spare, n)
            server.max_concurrency = args.max_concurrency
        facts = await pg.fact_count(url)
        if facts != copied.rows["facts"]:
            raise RuntimeError(f"the store has {facts} facts after the run, not "
                               f"{copied.rows['facts']}: the bots did not serve the copy")
        if server.errors:
            raise RuntimeError("the fake Discord failed:\n" + "\n".join(server.errors))
        results.notes.append(
            f"IDENTIFY pacing: {len(server.identify_violations)} IDENTIFY(s) came faster than "
            "the fake's 5 s per bucket." if server.identify_violations else
            "IDENTIFY pacing: no IDENTIFY came faster than 5 s per bucket "
            f"({len(server.identify_times)} in all).")


# ------------------------------------------------------------------------------ the report
def fmt_ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


@dataclass(slots=True)
class Summary:
    """One case over all its rounds: latencies pooled, counts summed, rates per round."""

    case: str
    bursts: list[Burst]

    @property
    def latencies(self) -> list[float]:
        return [x for b in self.bursts for x in b.latencies]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)

    @property
    def throughput(self) -> float:
        """Median of the rounds' commands per second."""
        return statistics.median(b.throughput for b in self.bursts)

    def per_process(self, tag: str) -> float:
        return statistics.median(b.by_process[tag] / b.wall for b in self.bursts)

    def total(self, name: str) -> int:
        return sum(int(getattr(b, name)) for b in self.bursts)

    def cpu_ms(self, party: str) -> float:
        """CPU per command, in ms, over all rounds: ``bots``, ``postgres`` or ``fake``."""
        n = sum(b.commands for b in self.bursts)
        spent = {"bots": lambda b: sum(b.cpu_bots.values()), "postgres": lambda b: b.cpu_postgres,
                 "fake": lambda b: b.cpu_fake}[party]
        return sum(spent(b) for b in self.bursts) * 1000 / n

    def busy(self) -> float:
        return statistics.median(b.busy_cores for b in self.bursts)

    def others(self) -> float:
        return statistics.median(b.other_cores for b in self.bursts)


def summaries(results: Results) -> dict[str, Summary]:
    out: dict[str, Summary] = {}
    for b in results.bursts:
        out.setdefault(b.case, Summary(b.case, [])).bursts.append(b)
    return out


BURST_HEAD = ["| case | round | processes (shards) | commands, in flight | p50 | p99 | max | "
              "throughput | answered once / lost / duplicated / wrong process | CPU per "
              "command: bots + PostgreSQL + fake | machine busy (neighbours) | load |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]


def burst_rows(results: Results) -> list[str]:
    lines = list(BURST_HEAD)
    for b in results.bursts:
        who = ", ".join(f"{h.tag} ({h.shard_ids})" for h in b.holders)
        per = " + ".join(f"{b.by_process[h.tag] / b.wall:.0f}" for h in b.holders) \
            if len(b.holders) > 1 else ""
        bots = sum(b.cpu_bots.values()) * 1000 / b.commands
        lines.append(
            f"| {b.case} | {b.round} | {who} | {b.commands}, {b.in_flight or 'all at once'} | "
            f"{fmt_ms(b.p50)} | {fmt_ms(b.p99)} | {fmt_ms(max(b.latencies, default=0))} | "
            f"{b.throughput:.0f} commands/s{f' ({per})' if per else ''} in {b.wall:.1f} s | "
            f"{b.once} / {b.lost} / {b.duplicated} / {b.wrong}"
            f"{f' ({b.strays} stray replies)' if b.strays else ''} | "
            f"{bots:.1f} + {b.cpu_postgres * 1000 / b.commands:.1f} + "
            f"{b.cpu_fake * 1000 / b.commands:.1f} ms | {b.busy_cores:.2f} of "
            f"{os.cpu_count()} cores ({b.other_cores:.2f}) | "
            f"{b.load[0]:.2f}–{b.load[1]:.2f} |")
    return lines


def summary_rows(results: Results) -> list[str]:
    lines = ["| case | rounds | commands answered once / lost / duplicated / wrong process | "
             "p50 | p99 | max | throughput (median of rounds) | load |",
             "|---|---|---|---|---|---|---|---|"]
    for s in summaries(results).values():
        holders = s.bursts[0].holders
        per = " + ".join(f"{s.per_process(h.tag):.0f}" for h in holders) \
            if len(holders) > 1 else ""
        loads = [x for b in s.bursts for x in b.load]
        lines.append(
            f"| {s.case} | {len(s.bursts)} | {s.total('once')} / {s.total('lost')} / "
            f"{s.total('duplicated')} / {s.total('wrong')} | {fmt_ms(s.p50)} | "
            f"{fmt_ms(s.p99)} | {fmt_ms(max(s.latencies, default=0))} | "
            f"{s.throughput:.0f} commands/s{f' ({per})' if per else ''} | "
            f"{min(loads):.2f}–{max(loads):.2f} |")
    return lines


def startup_rows(results: Results) -> list[str]:
    lines = ["| case | max_concurrency | process (shards) | IDENTIFYs (shard at s after spawn) "
             "| sessions ready (READY + every GUILD_CREATE sent) | every shard answering "
             "(`!ping`) | load |", "|---|---|---|---|---|---|---|"]
    for s in results.startups:
        for p in s.processes:
            ids = ", ".join(f"{shard} at {t:.1f}" for shard, t in sorted(p.identifies,
                                                                          key=lambda x: x[1]))
            lines.append(f"| {s.case} | {s.max_concurrency} | {p.holder.tag} "
                         f"({p.holder.shard_ids}) | {ids} | {p.sessions:.1f} s | "
                         f"{p.answering:.1f} s | {s.load:.2f} |")
        if len(s.processes) > 1:
            lines.append(f"| {s.case} | {s.max_concurrency} | both ready | | "
                         f"{max(p.sessions for p in s.processes):.1f} s | "
                         f"{s.all_answering:.1f} s | {s.load:.2f} |")
    return lines


def verdicts(results: Results) -> tuple[list[str], list[str]]:
    """(targets met, targets missed), each a sentence."""
    met, missed = [], []
    for b in results.bursts:
        (met if b.clean else missed).append(
            f"{b.case}, round {b.round}: all {b.commands} answered exactly once, each by its "
            "shard's process" if b.clean else
            f"{b.case}, round {b.round}: {b.lost} lost, {b.duplicated} duplicated, {b.wrong} "
            f"by the wrong process, {b.strays} stray")
    got = summaries(results)
    if TWO_WHOLE in got and HALF in got:
        two, half = got[TWO_WHOLE], got[HALF]
        ratio = two.p99 / half.p99
        sentence = (f"two-process p99 {fmt_ms(two.p99)} = {ratio:.2f}× the one-process p99 at "
                    f"the same load per process ({fmt_ms(half.p99)}), all rounds pooled; "
                    f"target ≤ {TARGET_P99_RATIO:g}×")
        (met if ratio <= TARGET_P99_RATIO else missed).append(sentence)
    return met, missed


def why(results: Results) -> list[str]:
    """The figures that explain the p99 comparison: where the cores went in each case."""
    got = summaries(results)
    if not all(c in got for c in CASES):
        return []
    two, half, whole = got[TWO_WHOLE], got[HALF], got[WHOLE]
    cores = os.cpu_count() or 1
    per = [two.per_process(h.tag) for h in two.bursts[0].holders]
    return [
        f"Where the time went (medians and sums over the rounds): the machine has {cores} cores "
        f"for everything. With two bot processes it was {two.busy():.2f} cores busy "
        f"({two.others():.2f} of them neighbours: processes other than the bots, PostgreSQL and "
        f"this one), against {half.busy():.2f} ({half.others():.2f}) for one process at the "
        f"same load per process and {whole.busy():.2f} ({whole.others():.2f}) for one process "
        f"with the whole burst. Per command, the bots spent {two.cpu_ms('bots'):.1f} ms of CPU "
        f"with two processes and {half.cpu_ms('bots'):.1f} ms with one; PostgreSQL "
        f"{two.cpu_ms('postgres'):.1f} / {half.cpu_ms('postgres'):.1f} ms; the fake Discord "
        f"and the driver (this process) {two.cpu_ms('fake'):.1f} / {half.cpu_ms('fake'):.1f} ms. "
        "Each of the two processes answered " + " and ".join(f"{v:.0f}" for v in per)
        + f" commands/s, against {half.throughput:.0f}/s for the lone process at the same "
        "load. With a fixed number of commands in flight a command's latency is about that "
        "number divided by its process's rate (Little's law), so the p99 ratio follows the "
        "per-process throughput, which follows how much of the cores each process got. "
        f"Two processes together answered {two.throughput:.0f} commands/s against "
        f"{whole.throughput:.0f}/s for one with the same burst "
        f"({two.throughput / whole.throughput:.2f}×): on {cores} cores shared with PostgreSQL "
        "and the fake, a second process finds little idle CPU to add. On a machine with a core "
        "for each bot process, PostgreSQL and the fake, the comparison would be one of "
        "sharding itself; here it is mostly one of the machine."]


def render(results: Results, info: dict[str, str], started: datetime, seconds: float,
           argv: Sequence[str]) -> str:
    met, missed = verdicts(results)
    command = " ".join([".venv/bin/python -m benchmarks.bench_shards", *argv])
    lines = [
        "# sitrep: four shards in two processes or one",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by `{command}`. "
        "Bots are real `sitrep run` processes against the fake Discord server of the tests "
        "(in the benchmark's process) on one PostgreSQL store; latency is from the fake "
        "dispatching MESSAGE_CREATE to the reply's `POST /channels/{id}/messages` arriving. "
        "`load` is the 1-minute load average at the start and end of the row (2 cores: above 2 "
        "means something was waiting for a core).",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        f"Store: {results.store}.",
        "",
        f"Targets: nothing lost or duplicated in any burst; two-process p99 ≤ "
        f"{TARGET_P99_RATIO:g}× the one-process p99 at the same load per process. "
        f"**Met: {len(met)} of {len(met) + len(missed)}.**",
        "",
        *[f"- met: {m}" for m in met],
        *[f"- **missed**: {m}" for m in missed],
        "",
        "## Bursts",
        "",
        "Each case over all its rounds (latencies pooled):",
        "",
        *summary_rows(results),
        "",
        "Each burst (neighbours: the cores the machine spent outside the bots, PostgreSQL and "
        "this process):",
        "",
        *burst_rows(results),
        "",
        "## Start-up",
        "",
        *startup_rows(results),
        "",
        "## Notes",
        "",
        "Load per process: a closed loop keeps a fixed number of commands in flight (a new one "
        "is dispatched as soon as one is answered): 25 per process unless `--in-flight` says "
        "otherwise, so 50 for the whole burst on one or two processes and 25 for the half burst "
        "on one process, which is what each of the two processes gets. Every command goes to a "
        "different server's #general (drawn uniformly, fixed seed), `!status` or `!timeline` "
        "half each, of a place name of the store (one in ten misspelled); each case starts "
        "fresh processes (so no answer is in a process's cache), warmed up with commands in "
        "servers the burst does not use.",
        "",
        "Start-up with max_concurrency 1: Discord lets one shard identify per 5 s and sitrep "
        "spaces them 5.5 s (its IdentifyGate, turns taken from the store), so the fourth shard "
        "identifies at least 16.5 s after the first, whether one process holds the four or two "
        "processes share them; and both processes build the name resolver over the store's "
        "names before the first IDENTIFY, on the same 2 cores.",
    ]
    for note in [*why(results), *results.notes]:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    info = machine()
    load_start = os.getloadavg()
    results = Results()
    tmp = Path(tempfile.mkdtemp(prefix="sitrep-bench-shards-"))
    try:
        with pg.throwaway_server() as pgserver:
            url = pgserver.create_database("shards")
            facts = asyncio.run(pg.server_facts(url))
            info["postgresql"] = (f"{facts['version']} (throwaway server on 127.0.0.1, default "
                                  f"settings: shared_buffers {facts['shared_buffers']})")
            if (note := page_cache_note()) is not None:
                info["page cache"] = note
            asyncio.run(measure(args, url, pgserver.process.pid, tmp, results))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info["load average (1, 5, 15 min) at start"] = ", ".join(f"{x:.2f}" for x in load_start)
    info["at end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    text = render(results, info, started, time.perf_counter() - t0, argv)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_shards",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--guilds", type=int, default=10_000)
    parser.add_argument("--commands", type=int, default=5_000, help="commands in the burst")
    parser.add_argument("--warmup", type=int, default=300,
                        help="untimed commands before each burst, in servers it does not use")
    parser.add_argument("--in-flight", type=int, default=25,
                        help="unanswered commands per process (0: the whole burst at once)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times each case runs (the order reversed every other round)")
    parser.add_argument("--max-concurrency", type=int, default=1,
                        help="the fake's session_start_limit.max_concurrency")
    parser.add_argument("--no-mc4", action="store_true",
                        help="skip the start-up runs with max_concurrency 4")
    parser.add_argument("--quick", action="store_true",
                        help="100k facts, 1,000 servers, 500 commands: to try the harness")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    args = parser.parse_args(argv)
    if args.quick:
        args.facts, args.guilds, args.commands, args.warmup = 100_000, 1_000, 500, 100
    return run(args, argv)


if __name__ == "__main__":
    raise SystemExit(main())
