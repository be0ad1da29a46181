"""Running as shards: the settings that choose them, the store's IDENTIFY turns that keep
processes started together within Discord's limit, and what ``sitrep health`` and ``sitrep
shards`` say about each shard."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import SettingsError, load_settings
from bot.domain.shards import Shards
from bot.services.shards import DOWN_GRACE, STALE_AFTER, ShardBoard, down_too_long, plan_lines
from bot.store.stores import open_store
from tests.conftest import StoreAt, location

PG_URL = "postgresql://sitrep@db.example/sitrep"
WINDOW = 0.5
"""A short IDENTIFY window (Discord's is 5 s), so that waiting it out keeps the test quick."""


@pytest.mark.parametrize(("settings", "variable", "said"), [
    ({"shard_count": "2", "shard_ids": "1"}, "SITREP_SHARD_IDS", "only on PostgreSQL"),
    ({"shard_ids": "0"}, "SITREP_SHARD_IDS", "fixed SITREP_SHARD_COUNT"),
    ({"shard_count": "two"}, "SITREP_SHARD_COUNT", "not auto or a number"),
    ({"shard_count": "0"}, "SITREP_SHARD_COUNT", "not auto or a number"),
    ({"shard_count": "4", "shard_ids": "2-5", "database_url": PG_URL}, "SITREP_SHARD_IDS",
     "shard 4 does not exist"),
])
def test_bad_shard_settings_are_one_line_naming_the_setting(
        settings: dict[str, str], variable: str, said: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**settings)
    message = str(caught.value)
    assert message.startswith(f"invalid {variable}: ") and said in message
    assert "\n" not in message


def test_shards_held_by_a_process() -> None:
    assert load_settings().shards is None  # auto: discord.py asks Discord for the count
    assert load_settings(shard_count="3").shards == Shards(3, (0, 1, 2))  # SQLite: all of them
    assert load_settings(shard_count="4", shard_ids="2-3", database_url=PG_URL).shards == \
        Shards(4, (2, 3))


async def test_two_processes_never_identify_in_one_bucket_within_the_window(
        shipped_copy: StoreAt) -> None:
    """Two stores opened on one database are two processes: asked at once, exactly one gets
    the bucket's turn, the others are told how long to wait (on the database's clock); other
    buckets are independent; once the window has passed, the bucket is free again."""
    first, second = await open_store(location(shipped_copy)), await open_store(
        location(shipped_copy))
    try:
        waits = await asyncio.gather(*(store.identify_turn(0, WINDOW)
                                       for store in (first, second, first, second)))
        assert waits.count(0.0) == 1
        assert all(0 < w <= WINDOW for w in waits if w)
        assert await second.identify_turn(1, WINDOW) == 0.0  # another bucket
        wait = await first.identify_turn(0, WINDOW)
        assert 0 < wait <= WINDOW
        await asyncio.sleep(wait)
        assert await second.identify_turn(0, WINDOW) == 0.0
    finally:
        await first.close()
        await second.close()


def test_health_fails_when_a_held_shard_stays_down(
        tmp_path: Path, fixture_store: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    board = ShardBoard()
    board.held(Shards(2, (0, 1)))
    board.mark(0, True)
    board.mark(1, True)
    beat = tmp_path / "beat"
    beat.write_text(board.to_json())
    monkeypatch.setenv("SITREP_DATABASE", str(fixture_store))
    monkeypatch.setenv("SITREP_HEARTBEAT_FILE", str(beat))
    board.measure(0, 0.0125, 7)
    beat.write_text(board.to_json())
    assert main(["health"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "healthy", "shard 0: connected, 7 server(s), 12.5 ms", "shard 1: connected, 0 server(s)"]
    board.mark(1, False)
    board.states[1].since -= DOWN_GRACE / 2
    beat.write_text(board.to_json())
    assert main(["health"]) == 0  # a reconnection in progress
    board.states[1].since -= DOWN_GRACE
    beat.write_text(board.to_json())
    capsys.readouterr()
    assert main(["health"]) == 1
    out, err = capsys.readouterr()
    assert "shard 1 has been disconnected for" in err
    assert out.splitlines()[1].startswith("shard 1: DISCONNECTED for 1")
    assert down_too_long("0\n", time.time()) is None  # a heartbeat without shard reports


async def test_the_plan_names_each_shard_s_process_and_the_shards_nobody_holds(
        shipped_copy: StoreAt) -> None:
    one, two = ShardBoard(process="host-a:1"), ShardBoard(process="host-b:2")
    one.held(Shards(3, (0,)))
    two.held(Shards(3, (1, 2)))
    one.mark(0, True)
    one.measure(0, 0.0123, 40)
    two.mark(1, True)
    two.measure(1, 0.02, 38)
    store = await open_store(location(shipped_copy))
    try:
        await store.publish_shards({s: json.dumps(one.report(s)) for s in one.states})
        await store.publish_shards({1: json.dumps(two.report(1))})  # shard 2: never connected
        lines = plan_lines(await store.shard_reports(), time.time())
        later = plan_lines(await store.shard_reports(), time.time() + STALE_AFTER + 1)
    finally:
        await store.close()
    assert lines[0].startswith("3 shard(s)")
    assert lines[1] == "shard 0  host-a:1  connected, 40 server(s), 12.3 ms"
    assert lines[2] == "shard 1  host-b:2  connected, 38 server(s), 20.0 ms"
    assert lines[3] == "shard 2  held by nobody"
    assert lines[4] == "78 server(s) on the shards held now"
    assert later[1].startswith("shard 0  held by nobody (last reported 6")


def test_the_plan_before_any_report(fixture_store: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITREP_DATABASE", str(fixture_store))
    assert main(["shards"]) == 0
    assert "no process has reported any shard yet" in capsys.readouterr().out
