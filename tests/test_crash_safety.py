"""Crash safety: a process killed with SIGKILL in the middle of a stream of moderator changes loses
no change it acknowledged, on both engines, and leaves an SQLite store that passes
``PRAGMA integrity_check``.

The writer is a real process running the moderation service (what the Discord cog calls, and only
after whose return the moderator gets a reply): it prints ``ack <fact id>`` after each change
returns, exactly when a moderator would be told "Done"."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bot.store.stores import open_store
from tests.conftest import ROOT, StoreAt, location

WRITER = """
import asyncio, sys
from pathlib import Path
from bot.engine import Engine
from bot.runtime import open_at
from bot.services.moderation import ModerationService

async def main(db):
    engine_rt = await open_at(db if "://" in db else Path(db))
    engine = engine_rt.engine
    mod = engine_rt.moderation
    src = (await mod.add_source(7, 1, title="Stream", outlet="Crash Wire",
                                published="2 March 2020")).key
    print("ack", src, flush=True)
    for i in range(100000):
        place = ("Mosul", "Ramadi", "Hit", "Fallujah")[i % 4]
        change = await mod.add_fact(7, 1, place=place, date_text="2020-03-01", source=src,
                                    summary=f"Streamed change number {i}.")
        print("ack", change.key, i, flush=True)
        if i % 3 == 0:
            await mod.edit_fact(7, 1, change.key, summary=f"Edited change number {i}.")
            print("ack-edit", change.key, i, flush=True)

asyncio.run(main(sys.argv[1]))
"""


def test_sigkill_mid_stream_loses_no_acknowledged_change(shipped_copy: StoreAt) -> None:
    db = shipped_copy
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    acks: list[list[str]] = []
    deadline = time.monotonic() + 60
    while len(acks) < 150 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acks.append(line.split())
    os.kill(proc.pid, signal.SIGKILL)
    rest, err = proc.communicate(timeout=30)
    acks += [line.split() for line in rest.splitlines() if line.strip()]
    assert proc.returncode == -signal.SIGKILL, err
    assert len(acks) >= 150, err

    if isinstance(db, Path):
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    facts, logged = asyncio.run(_stored(db))
    for kind, key, *number in acks[1:]:
        assert key in facts, f"acknowledged {kind} of {key} was lost"
        if kind == "ack-edit":
            assert facts[key] == f"Edited change number {number[0]}."
            assert f"fact:{key}" in logged


async def _stored(db: StoreAt) -> tuple[dict[str, str], set[str]]:
    """Server 7's facts (id -> summary) and the subjects of its logged edits, as stored."""
    store = await open_store(location(db))
    try:
        facts = {r[0]: r[1] for r in await store.db.fetch(
            "SELECT id, summary FROM facts WHERE guild_id = 7")}
        logged = {r[0] for r in await store.db.fetch(
            "SELECT subject FROM changes WHERE guild_id = 7 AND action = 'fact.edit'")}
    finally:
        await store.close()
    return facts, logged
