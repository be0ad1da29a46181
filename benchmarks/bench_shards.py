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

Cases, on the same store and fake server, each with fresh processes (so no process has an
answer cached), ``--rounds`` times in ABBA order (1-2-3, 3-2-1, ...) so that a store warming
up over the run favours none:

1. **one process** holding shards 0-3, the whole burst (``--commands``);
2. **two processes** started together, holding shards 0-1 and 2-3, the same burst;
3. **one process, half**: shards 0-3 again, the first half of the burst, with half as many
   commands in flight: the load per process of case 2.

Then start-up alone of cases 2 and 1 with ``max_concurrency`` 4 (``--no-mc4`` skips it).

"The same load per process" is made two ways, each a burst of its own in every case:

* **closed loop**: a fixed number of commands in flight for each process: the fake dispatches
  a new command for a process's servers as soon as one of its earlier ones is answered,
  ``--in-flight`` per process (25: 50 for case 1, 25 for each process of case 2 and for case
  3). This saturates the processes, so latency is mostly queueing (Little's law) and the ratio
  follows the per-process throughput. ``--in-flight 0`` dispatches the whole burst at once.
* **paced**: commands dispatched on a clock whatever the replies, as users would, ``--rate``
  per process (60/s: 120/s for cases 1 and 2, 60/s for case 3), below what a process can
  answer, so latency is the work of a command plus the wait for a core.

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
import gc
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
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


@dataclass(frozen=True, slots=True)
class Plan:
    """The commands of a run: one burst for each way of offering load, and the warm-up."""

    closed: list[Command]
    paced: list[Command]
    """The same servers as ``closed``, each asked about another place: a process that has run
    the closed-loop burst has none of these answers cached (the cache is per server and
    question)."""
    warmup: list[Command]


def plan_commands(server: FakeDiscord, places: Sequence[str], total: int, spare: int,
                  seed: int = 5) -> Plan:
    """``total`` burst commands (twice: see :class:`Plan`) and ``spare`` warm-up ones, each in a
    different server's #general (servers drawn uniformly without replacement, so a channel's
    replies belong to exactly one command of a burst)."""
    rng = random.Random(seed)
    guilds = list(server.world.guilds)
    if total + spare > len(guilds):
        raise SystemExit(f"{total} commands and {spare} warm-up ones need as many servers; "
                         f"there are {len(guilds)}")

    def question(avoid: str | None = None) -> str:
        place = rng.choice(places)
        while place == avoid:
            place = rng.choice(places)
        if rng.random() < 0.1:
            place = synth.misspell(place, rng)
        return f"!{rng.choice(('status', 'timeline'))} {place}"

    def command(guild: int, text: str) -> Command:
        return Command(guild, server.world.guilds[guild].channel_named("general").id,
                       server.shard_of_guild(guild), text)

    chosen = rng.sample(guilds, total + spare)
    first = [command(g, question()) for g in chosen]
    again = [command(c.guild, question(avoid=c.text.split(" ", 1)[1])) for c in first[:total]]
    return Plan(first[:total], again, first[total:])


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
    mode: str
    round: int
    holders: tuple[Holder, ...]
    commands: int
    offered: str
    dispatch_rate: float
    """Commands the fake dispatched per second, first to last."""
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


@dataclass(frozen=True, slots=True)
class Load:
    """How a burst is offered. ``closed``: ``amount`` commands in flight for each process that
    holds shards (a new one dispatched as soon as one of that process's is answered; 0: the
    whole burst at once). ``paced``: ``amount`` commands a second in all, dispatched on a clock
    whatever the replies, as users would."""

    kind: str
    amount: float

    @property
    def mode(self) -> str:
        return "closed loop" if self.kind == "closed" else "paced"

    def describe(self, processes: int) -> str:
        if self.kind == "paced":
            return f"{self.amount:g}/s"
        if not self.amount:
            return "all at once"
        return f"{self.amount:g} in flight" + (" per process" if processes > 1 else "")


async def drive(server: FakeDiscord, commands: Sequence[Command], load: Load,
                owner: dict[int, str]) -> tuple[dict[int, float], Replies, float]:
    """Send ``commands`` as ``load`` says (``owner``: the process tag of each shard); returns
    each command's dispatch time by channel, the replies, and when the first was dispatched.
    Stops waiting when no reply came for ``STALL_SECONDS`` (the rest are then lost)."""
    loop = asyncio.get_running_loop()
    replies = Replies(server, server.mark())
    queues: dict[str, deque[Command]] = defaultdict(deque)
    for c in commands:
        queues[owner[c.shard]].append(c)
    window = int(load.amount) or len(commands)
    sent: dict[int, float] = {}
    waiting: dict[int, str] = {}
    in_flight: Counter[str] = Counter()
    started = loop.time()
    last_progress = started
    nxt = 0

    async def send(c: Command) -> None:
        tag = owner[c.shard]
        waiting[c.channel] = tag
        in_flight[tag] += 1
        sent[c.channel] = loop.time()
        await server.send_message(c.channel, server.member_id, c.text)

    def answered() -> bool:
        got = False
        for channel, _ in replies.advance():
            tag = waiting.pop(channel, None)
            if tag is not None:
                in_flight[tag] -= 1
                got = True
        return got

    while nxt < len(commands) or waiting:
        timeout = 1.0
        if load.kind == "closed":
            more = True
            while more:  # round robin over the processes, so neither waits for the other's turn
                more = False
                for tag, queue in queues.items():
                    if queue and in_flight[tag] < window:
                        await send(queue.popleft())
                        nxt += 1
                        more = True
        else:
            while nxt < len(commands) and loop.time() >= started + nxt / load.amount:
                await send(commands[nxt])
                nxt += 1
            if nxt < len(commands):
                timeout = max(0.0, started + nxt / load.amount - loop.time())
        if not waiting and nxt >= len(commands):
            break
        try:
            await server.signal.wait_for(answered, timeout, "a reply", poll=0.002)
            last_progress = loop.time()
        except TimeoutError:
            if loop.time() - last_progress > STALL_SECONDS:
                print(f"    no reply for {STALL_SECONDS:.0f} s; {len(waiting)} unanswered",
                      file=sys.stderr, flush=True)
                break
    return sent, replies, started


async def burst(server: FakeDiscord, case: str, round_: int, holders: tuple[Holder, ...],
                procs: dict[str, BotProcess], commands: Sequence[Command], load: Load,
                postmaster: int) -> Burst:
    """One timed burst, judged: every command answered exactly once, by its shard's process."""
    owner = {s: h.tag for h in holders for s in h.shards}
    loads = [load1()]
    # The fake keeps every request, message and dispatch: a full collection in this process
    # walks all of them and holds the event loop for tens of milliseconds, during which the
    # fake neither dispatches nor records replies, so it would be counted against the bots.
    gc.collect()
    gc.disable()
    try:
        before = Cpu.now(procs, postmaster)
        sent, replies, started = await drive(server, commands, load, owner)
        after = Cpu.now(procs, postmaster)
    finally:
        gc.enable()
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
    dispatched = sorted(sent.values())
    rate = (len(dispatched) - 1) / (dispatched[-1] - dispatched[0]) if len(dispatched) > 1 \
        else 0.0
    return Burst(case, load.mode, round_, holders, len(commands), load.describe(len(holders)),
                 rate,
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
                user_rate="100000", same_answer_seconds="0", log_level="WARNING",
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
               bursts: Sequence[tuple[Sequence[Command], Load]],
               warmup: Sequence[Command]) -> None:
    """Start ``holders``, warm them up, run each of ``bursts`` (none: start-up only), stop
    them."""
    home = Path(tempfile.mkdtemp(prefix="case-", dir=tmp))
    owner = {s: h.tag for h in holders for s in h.shards}
    async with running(server, name, holders, url, home) as (procs, startup):
        results.startups.append(startup)
        if not bursts:
            return
        await drive(server, warmup, Load("closed", 25), owner)
        for commands, load in bursts:
            await asyncio.sleep(SETTLE_SECONDS)
            result = await burst(server, name, round_, holders, procs, commands, load,
                                 postmaster)
            results.bursts.append(result)
            print(f"  {name}, {result.mode} {result.offered} (round {round_}): "
                  f"{result.commands} commands, p50 {result.p50:.0f} ms, p99 {result.p99:.0f} "
                  f"ms, {result.throughput:.0f}/s, once {result.once}, lost {result.lost}, "
                  f"dup {result.duplicated}, wrong {result.wrong}, neighbours "
                  f"{result.other_cores:.2f} cores", file=sys.stderr, flush=True)
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
        plan = plan_commands(server, places, args.commands, args.warmup)
        half = len(plan.closed) // 2
        # the load per process of the two-process case is n in flight or r a second; one
        # process with the whole burst gets twice that, with half the burst the same
        n, r = args.in_flight, args.rate
        plans: dict[str, tuple[tuple[Holder, ...], list[tuple[list[Command], Load]]]] = {
            WHOLE: (ONE, [(plan.closed, Load("closed", 2 * n)),
                          (plan.paced, Load("paced", 2 * r))]),
            TWO_WHOLE: (TWO, [(plan.closed, Load("closed", n)),
                              (plan.paced, Load("paced", 2 * r))]),
            HALF: (ONE, [(plan.closed[:half], Load("closed", n)),
                         (plan.paced[:half], Load("paced", r))]),
        }
        for i in range(args.rounds):
            # ABBA, cases and loads: a store or cache warming up over the run favours none
            for name in (CASES if i % 2 == 0 else CASES[::-1]):
                holders, bursts = plans[name]
                bursts = [b for b in bursts if b[1].kind != "paced" or r > 0]
                await case(server, results, name, i + 1, holders, url, tmp, postmaster,
                           bursts if i % 2 == 0 else bursts[::-1], plan.warmup)
        if args.max_concurrency == 1 and not args.no_mc4:
            server.max_concurrency = 4  # as Discord grants large bots: 4 IDENTIFYs per 5 s
            await case(server, results, "two processes, max_concurrency 4", 0, TWO, url, tmp,
                       postmaster, [], plan.warmup)
            await case(server, results, "one process, max_concurrency 4", 0, ONE, url, tmp,
                       postmaster, [], plan.warmup)
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
    """One case under one way of offering load, over all its rounds: latencies pooled, counts
    summed, rates per round."""

    case: str
    mode: str
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


def summaries(results: Results) -> dict[tuple[str, str], Summary]:
    """By (mode, case), in the order first measured."""
    out: dict[tuple[str, str], Summary] = {}
    for b in sorted(results.bursts, key=lambda b: (b.mode, CASES.index(b.case))):
        out.setdefault((b.mode, b.case), Summary(b.case, b.mode, [])).bursts.append(b)
    return out


def _per_process(b: Burst) -> str:
    if len(b.holders) < 2:
        return ""
    return " (" + " + ".join(f"{b.by_process[h.tag] / b.wall:.0f}" for h in b.holders) + ")"


def burst_rows(results: Results) -> list[str]:
    lines = ["| load | case | round | processes (shards) | commands, offered (dispatched) | "
             "p50 | p99 | max | throughput | answered once / lost / duplicated / wrong "
             "process | CPU per command: bots + PostgreSQL + fake | machine busy "
             "(neighbours) | load avg |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for b in results.bursts:
        who = ", ".join(f"{h.tag} ({h.shard_ids})" for h in b.holders)
        bots = sum(b.cpu_bots.values()) * 1000 / b.commands
        lines.append(
            f"| {b.mode} | {b.case} | {b.round} | {who} | {b.commands}, {b.offered} "
            f"({b.dispatch_rate:.0f}/s) | {fmt_ms(b.p50)} | {fmt_ms(b.p99)} | "
            f"{fmt_ms(max(b.latencies, default=0))} | {b.throughput:.0f} commands/s"
            f"{_per_process(b)} in {b.wall:.1f} s | {b.once} / {b.lost} / {b.duplicated} / "
            f"{b.wrong}{f' ({b.strays} stray replies)' if b.strays else ''} | "
            f"{bots:.1f} + {b.cpu_postgres * 1000 / b.commands:.1f} + "
            f"{b.cpu_fake * 1000 / b.commands:.1f} ms | {b.busy_cores:.2f} of "
            f"{os.cpu_count()} cores ({b.other_cores:.2f}) | "
            f"{b.load[0]:.2f}–{b.load[1]:.2f} |")
    return lines


def summary_rows(results: Results) -> list[str]:
    lines = ["| load | case | offered | rounds | answered once / lost / duplicated / wrong "
             "process | p50 | p99 | max | throughput (median of rounds) | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in summaries(results).values():
        holders = s.bursts[0].holders
        per = " (" + " + ".join(f"{s.per_process(h.tag):.0f}" for h in holders) + ")" \
            if len(holders) > 1 else ""
        loads = [x for b in s.bursts for x in b.load]
        lines.append(
            f"| {s.mode} | {s.case} | {s.bursts[0].offered} | {len(s.bursts)} | "
            f"{s.total('once')} / {s.total('lost')} / {s.total('duplicated')} / "
            f"{s.total('wrong')} | {fmt_ms(s.p50)} | {fmt_ms(s.p99)} | "
            f"{fmt_ms(max(s.latencies, default=0))} | {s.throughput:.0f} commands/s{per} | "
            f"{min(loads):.2f}–{max(loads):.2f} |")
    return lines


def startup_rows(results: Results) -> list[str]:
    lines = ["| case | max_concurrency | process (shards) | IDENTIFYs (shard at s after spawn) "
             "| sessions ready (READY + every GUILD_CREATE sent) | every shard answering "
             "(`!ping`) | load avg |", "|---|---|---|---|---|---|---|"]
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


def startup_summary(results: Results) -> list[str]:
    """Median start-up (spawn to every held shard answering) of each case and concurrency."""
    by: dict[tuple[str, int], list[float]] = defaultdict(list)
    for s in results.startups:
        kind = "two processes started together" if len(s.processes) > 1 else \
            "one process holding all 4 shards"
        by[(kind, s.max_concurrency)].append(s.all_answering)
    return [f"- {kind}, max_concurrency {mc}: every shard answering {statistics.median(v):.1f} s "
            f"after the spawn (median of {len(v)}: " + ", ".join(f"{x:.1f}" for x in v) + ")"
            for (kind, mc), v in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def verdicts(results: Results) -> tuple[list[str], list[str]]:
    """(targets met, targets missed), each a sentence."""
    met, missed = [], []
    lost = [b for b in results.bursts if not b.clean]
    n = sum(b.commands for b in results.bursts)
    if not lost:
        met.append(f"nothing lost or duplicated: all {n} commands of the {len(results.bursts)} "
                   "bursts answered exactly once, each by the process holding its shard")
    for b in lost:
        missed.append(f"{b.mode}, {b.case}, round {b.round}: {b.lost} lost, {b.duplicated} "
                      f"duplicated, {b.wrong} by the wrong process, {b.strays} stray")
    got = summaries(results)
    for mode in sorted({m for m, _ in got}):
        if (mode, TWO_WHOLE) in got and (mode, HALF) in got:
            two, half = got[(mode, TWO_WHOLE)], got[(mode, HALF)]
            ratio = two.p99 / half.p99
            sentence = (f"{mode} ({half.bursts[0].offered} per process): two-process p99 "
                        f"{fmt_ms(two.p99)} = {ratio:.2f}× the one-process p99 at the same load "
                        f"per process ({fmt_ms(half.p99)}), rounds pooled; target ≤ "
                        f"{TARGET_P99_RATIO:g}×")
            (met if ratio <= TARGET_P99_RATIO else missed).append(sentence)
    return met, missed


def why(results: Results) -> list[str]:
    """The figures that explain each p99 comparison: where the cores went in each case."""
    got = summaries(results)
    cores = os.cpu_count() or 1
    out = []
    for mode in sorted({m for m, _ in got}):
        if not all((mode, c) in got for c in CASES):
            continue
        two, half, whole = got[(mode, TWO_WHOLE)], got[(mode, HALF)], got[(mode, WHOLE)]
        per = [two.per_process(h.tag) for h in two.bursts[0].holders]
        text = (
            f"Where the time went, {mode} (medians and sums over the rounds): the machine has "
            f"{cores} cores for everything. With two bot processes it was {two.busy():.2f} cores "
            f"busy ({two.others():.2f} of them neighbours: processes other than the bots, "
            f"PostgreSQL and this one), against {half.busy():.2f} ({half.others():.2f}) for one "
            f"process at the same load per process and {whole.busy():.2f} "
            f"({whole.others():.2f}) for one process with the whole burst. Per command the bots "
            f"spent {two.cpu_ms('bots'):.1f} ms of CPU with two processes and "
            f"{half.cpu_ms('bots'):.1f} ms with one; PostgreSQL {two.cpu_ms('postgres'):.1f} / "
            f"{half.cpu_ms('postgres'):.1f} ms; the fake Discord and the driver (this process) "
            f"{two.cpu_ms('fake'):.1f} / {half.cpu_ms('fake'):.1f} ms. Each of the two processes "
            "answered " + " and ".join(f"{v:.0f}" for v in per)
            + f" commands/s, the lone one at the same load {half.throughput:.0f}/s; two "
            f"together {two.throughput:.0f}/s against {whole.throughput:.0f}/s for one process "
            f"with the same burst ({two.throughput / whole.throughput:.2f}×).")
        if mode == "closed loop":
            text += (" With a fixed number of commands in flight a command's latency is about "
                     "that number divided by its process's rate (Little's law), so this p99 "
                     "ratio follows the per-process throughput, i.e. how much of the 2 cores "
                     "each process got.")
        else:
            text += (" At a paced rate below what the processes can answer, a latency is the "
                     "work of one command plus the wait for the cores; the two processes, "
                     "PostgreSQL and the fake then compete for the 2 cores at the same moments.")
        out.append(text)
    if out:
        out.append(
            "So on this machine the comparison is mostly one of the machine: one process, "
            "which is single-threaded, leaves part of the second core idle, and two processes "
            "take it, at the price of waiting for each other, PostgreSQL and the fake. On a "
            "machine with a core for each bot process, PostgreSQL and the fake, the two "
            "processes would not compete, and only there would the ratio measure sharding "
            "itself.")
    return out


def render(results: Results, info: dict[str, str], started: datetime, seconds: float,
           argv: Sequence[str], args: argparse.Namespace) -> str:
    met, missed = verdicts(results)
    command = " ".join([".venv/bin/python -m benchmarks.bench_shards", *argv])
    lines = [
        "# sitrep: four shards in two processes or one",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by `{command}`. "
        f"{args.guilds} fake servers over 4 shards; bots are real `sitrep run` processes against "
        "the fake Discord server of the tests (in the benchmark's process) on one PostgreSQL "
        "store; latency is from the fake dispatching MESSAGE_CREATE to the reply's "
        "`POST /channels/{id}/messages` arriving. `load avg` is the 1-minute load average at "
        "the start and end of the row (2 cores: above 2 means something was waiting for a "
        "core); `neighbours` is the CPU the machine spent outside this benchmark's processes.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        f"Store: {results.store}.",
        "",
        f"Targets: nothing lost or duplicated in any burst; two-process p99 ≤ "
        f"{TARGET_P99_RATIO:g}× the one-process p99 at the same load per process (for each way "
        f"of offering load). **Met: {len(met)} of {len(met) + len(missed)}.**",
        "",
        *[f"- met: {m}" for m in met],
        *[f"- **missed**: {m}" for m in missed],
        "",
        "Start-up (spawn to a `!ping` answered on every held shard):",
        "",
        *startup_summary(results),
        "",
        "## Bursts",
        "",
        "Each case and load over all its rounds (latencies pooled):",
        "",
        *summary_rows(results),
        "",
        "Each burst:",
        "",
        *burst_rows(results),
        "",
        "## Start-up, each",
        "",
        *startup_rows(results),
        "",
        "## Notes",
        "",
        f"Load per process, two ways. **Closed loop**: a fixed number of commands in flight "
        f"for each process (a new one for its servers dispatched as soon as one of its is "
        f"answered): {args.in_flight} per process, so {2 * args.in_flight} for one process with "
        f"the whole burst and {args.in_flight} for one process with half of it, as each of the "
        f"two processes has. **Paced**: commands dispatched on a clock whatever the replies, "
        f"{2 * args.rate:g}/s for the whole burst on one or two processes and {args.rate:g}/s for "
        "half of it on one process: what each of the two processes gets. Every command goes to "
        "a different server's #general (drawn uniformly, fixed seed), `!status` or `!timeline` "
        "half each, of a place name of the store (one in ten misspelled); the paced burst asks "
        "the same servers about other places. Each case starts fresh processes (no answer "
        "cached), warmed up with commands in servers the bursts do not use; each round runs "
        "the cases, and the two loads within a case, in the reverse order of the round before.",
        "",
        "Start-up with max_concurrency 1: Discord lets one shard identify per 5 s and sitrep "
        "spaces them 5.5 s (its IdentifyGate, turns taken from the store), so the fourth shard "
        "identifies at least 16.5 s after the first, whether one process holds the four or two "
        "processes share them: the 16.5 s are the cost of a small bot's start-up limit, and a "
        "second process does not shorten them. Before its first IDENTIFY each process opens "
        "the store and builds the name resolver over its names (on the same 2 cores when two "
        "start together). With max_concurrency 4 the four shards identify at once.",
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
    text = render(results, info, started, time.perf_counter() - t0, argv, args)
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
                        help="closed loop: unanswered commands per process (0: all at once)")
    parser.add_argument("--rate", type=float, default=60.0,
                        help="paced: commands a second per process (0 skips the paced bursts)")
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
