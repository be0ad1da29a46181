"""The shards this process holds, as ``sitrep health`` and ``sitrep shards`` see them.

``ShardBoard`` outlives the bot objects of one process (a new one is made after each lost
connection): the Discord front end marks each shard up or down and measures it, the heartbeat writes
the board's JSON to the heartbeat file (``sitrep health`` reads it: a held shard disconnected past
``DOWN_GRACE`` makes the process unhealthy) and publishes each shard's report to the store, where
``sitrep shards`` reads every process's. Nothing here imports discord.py, so the health check stays
cheap.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain.shards import Shards

DOWN_GRACE = 120.0
"""Seconds a held shard may stay disconnected before ``sitrep health`` calls the process
unhealthy: a reconnection normally takes a few seconds, an outage of Discord's can take minutes."""


def process_name() -> str:
    """How a process is named to the others (``sitrep shards``, the outbox's ``claimed_by``):
    host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class ShardState:
    up: bool = False
    since: float = field(default_factory=time.time)
    """When ``up`` last changed (wall clock: other processes read it)."""
    latency_ms: float | None = None
    guilds: int = 0


@dataclass(slots=True)
class ShardBoard:
    """What this process knows of each shard it holds."""

    shards: Shards | None = None
    """None until the count is known (``SITREP_SHARD_COUNT=auto`` asks Discord)."""
    states: dict[int, ShardState] = field(default_factory=dict)
    process: str = field(default_factory=process_name)
    refresh: Callable[[], None] = lambda: None
    """Measures latency and servers of each shard (set by the bot connected now)."""
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a shard connects or drops, so the heartbeat reports it at once."""

    def held(self, shards: Shards) -> None:
        self.shards = shards
        for shard in shards.ids:
            self.states.setdefault(shard, ShardState())

    def mark(self, shard: int, up: bool) -> None:
        state = self.states.setdefault(shard, ShardState())
        if state.up != up:
            state.up, state.since = up, time.time()
            self.changed.set()

    def measure(self, shard: int, latency: float, guilds: int) -> None:
        state = self.states.setdefault(shard, ShardState())
        state.latency_ms = latency * 1000 if math.isfinite(latency) else None
        state.guilds = guilds

    def report(self, shard: int) -> dict[str, Any]:
        state = self.states[shard]
        return {"process": self.process, "count": self.shards.count if self.shards else None,
                "up": state.up, "since": round(state.since, 3), "guilds": state.guilds,
                "latency_ms": None if state.latency_ms is None else round(state.latency_ms, 1),
                "at": round(time.time(), 3)}

    def to_json(self) -> str:
        """The heartbeat file: when, and each held shard's report."""
        return json.dumps({"at": round(time.time(), 3),
                           "shards": {str(s): self.report(s) for s in sorted(self.states)}})


def heartbeat_reports(heartbeat: str) -> dict[int, dict[str, Any]]:
    """Each shard's report in a heartbeat file's text, by shard; none from a heartbeat that
    predates shard reports (a bare timestamp)."""
    try:
        shards = json.loads(heartbeat).get("shards", {})
    except (ValueError, AttributeError):
        return {}
    return {int(shard): report for shard, report in shards.items()}


def shard_lines(heartbeat: str, now: float) -> list[str]:
    """``sitrep health``'s report of each shard the process holds, from its heartbeat file."""
    return [f"shard {shard}: {describe(report, now)}"
            for shard, report in sorted(heartbeat_reports(heartbeat).items())]


def describe(report: dict[str, Any], now: float) -> str:
    """A shard's state in words: connected with its servers and latency, or for how long not."""
    if not report["up"]:
        return f"DISCONNECTED for {now - float(report['since']):.0f} s"
    latency = "" if report.get("latency_ms") is None else f", {report['latency_ms']} ms"
    return f"connected, {report['guilds']} server(s){latency}"


def down_too_long(heartbeat: str, now: float, grace: float = DOWN_GRACE) -> str | None:
    """From a heartbeat file's text, why the process is unhealthy: a held shard disconnected for
    longer than ``grace``; None when every shard is up or within its grace (or the heartbeat
    predates shard reports)."""
    down = sorted((shard, now - float(r["since"]))
                  for shard, r in heartbeat_reports(heartbeat).items()
                  if not r.get("up") and now - float(r["since"]) > grace)
    if not down:
        return None
    return "; ".join(f"shard {s} has been disconnected for {age:.0f} s" for s, age in down)


STALE_AFTER = 60.0
"""A shard's report older than this means no live process holds it (the heartbeat writes every
ten seconds)."""


def plan_lines(reports: dict[int, str], now: float) -> list[str]:
    """``sitrep shards``: one line per shard of the newest count any process reported: who
    holds it, whether it is connected, its servers and latency; a shard nobody reported lately
    says so (its servers get no answers until a process holding it starts)."""
    parsed = {shard: json.loads(text) for shard, text in reports.items()}
    if not parsed:
        return ["no process has reported any shard yet (a running bot reports every 10 s)"]
    newest = max(parsed.values(), key=lambda r: float(r["at"]))
    count = int(newest.get("count") or len(parsed))
    width = len(str(count - 1))
    lines = [f"{count} shard(s); reports older than {STALE_AFTER:.0f} s are nobody's"]
    servers = 0
    for shard in range(count):
        report = parsed.get(shard)
        if report is None or now - float(report["at"]) > STALE_AFTER or \
                report.get("count") != count:
            seen = "" if report is None else \
                f" (last reported {now - float(report['at']):.0f} s ago by {report['process']})"
            lines.append(f"shard {shard:>{width}}  held by nobody{seen}")
            continue
        servers += int(report["guilds"]) if report["up"] else 0
        lines.append(f"shard {shard:>{width}}  {report['process']}  {describe(report, now)}")
    lines.append(f"{servers} server(s) on the shards held now")
    return lines
