"""Operations: the bot command without a token, health, backup and restore, and a bot that keeps
running (and healthy) while Discord cannot be reached."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot.__main__ import health_problem, main
from bot.config import load_settings
from bot.discord import app
from bot.runtime import open_at
from bot.store.backup import backup, restore
from bot.store.base import StoreError
from bot.store.schema import SCHEMA_VERSION
from tests.conftest import ROOT


@pytest.fixture
def store(shipped_store: Path, tmp_path: Path) -> Path:
    db = tmp_path / "ops.db"
    shutil.copy(shipped_store, db)
    return db


def test_bot_without_token_exits_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITREP_")}
    proc = subprocess.run([sys.executable, "-m", "bot", "bot"], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "sitrep: set SITREP_DISCORD_TOKEN (or SITREP_DISCORD_TOKEN_FILE) to run the bot"]


def test_health(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITREP_DATABASE", str(store))
    assert main(["health"]) == 0
    beat = tmp_path / "beat"
    monkeypatch.setenv("SITREP_HEARTBEAT_FILE", str(beat))
    assert main(["health"]) == 1 and "no heartbeat yet" in capsys.readouterr().err
    beat.write_text("0")
    assert main(["health"]) == 0
    os.utime(beat, (0, 0))
    assert main(["health"]) == 1 and "heartbeat is" in capsys.readouterr().err
    monkeypatch.setenv("SITREP_DATABASE", str(tmp_path / "missing.db"))
    assert main(["health"]) == 1


async def test_backup_while_writing_is_consistent_and_restores(store: Path,
                                                               tmp_path: Path) -> None:
    engine_rt = await open_at(store)
    engine = engine_rt.engine
    before = (await engine.status("Mosul")).model_dump()

    async def writer() -> None:
        for i in range(300):
            await engine.store.conn.execute(
                "INSERT INTO place_names(place_id, name, guild_id, origin) VALUES "
                "('mosul', ?, 7, 'added')", (f"alias {i}",))

    await asyncio.gather(writer(), backup(store, tmp_path / "b1.db"))
    await engine_rt.close()
    with sqlite3.connect(tmp_path / "b1.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # wreck the live store's data, then restore
    with sqlite3.connect(store) as conn:
        conn.execute("DELETE FROM facts WHERE place_id = 'mosul'")
    assert await restore(tmp_path / "b1.db", store) == SCHEMA_VERSION
    engine_rt = await open_at(store)
    engine = engine_rt.engine
    try:
        assert (await engine.status("Mosul")).model_dump() == before
    finally:
        await engine_rt.close()


async def test_restore_refuses_what_is_not_a_usable_store(store: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a sitrep store"):
        await restore(junk, store)
    newer = tmp_path / "newer.db"
    shutil.copy(store, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer sitrep"):
        await restore(newer, store)
    with pytest.raises(StoreError, match="no backup"):
        await restore(tmp_path / "nope.db", store)


async def test_bot_stays_up_and_healthy_while_discord_is_unreachable(
        store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:9/api/v10")  # refused
    monkeypatch.setattr(app, "RETRY_FIRST", 0.05)
    beat = tmp_path / "beat"
    settings = load_settings(discord_token="x.y.z", database=store, heartbeat_file=beat)
    task = asyncio.create_task(app.run_bot(settings))
    for _ in range(100):
        if beat.exists():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # several failed attempts later
    assert not task.done() and beat.exists()
    assert await health_problem(settings) is None
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=5) == 0


def test_a_failing_start_exits_instead_of_hanging(tmp_path: Path) -> None:
    """An error while opening the engine must not leave aiosqlite's thread keeping the process
    alive (in a container that would be a hang, not a restart)."""
    bad = tmp_path / "newer.db"
    with sqlite3.connect(bad) as conn:
        conn.execute("PRAGMA user_version = 99")
    env = {**os.environ, "SITREP_DATABASE": str(bad), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", "import asyncio, pathlib\n"
                           "from bot.runtime import open_at\n"
                           f"asyncio.run(open_at(pathlib.Path({str(bad)!r})))"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode != 0 and "newer than this sitrep" in proc.stderr
