"""Two real ``sitrep run`` processes on one PostgreSQL store, holding shards 0 and 1 of 2, against
the fake Discord server: every server is answered by its shard's process only, exactly once; a
direct message by shard 0; a moderator's fact stays in its server and its watch post goes out
once; a change made elsewhere (another process's write, ``sitrep build``, ``sitrep import``)
reaches the process of its server within seconds; killing either leaves the other answering, and
the restarted one delivers the posts it owed, once; the two started together take turns to IDENTIFY;
and ``sitrep shards`` names the process of each shard."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, fake_discord
from fakediscord.process import BotProcess, bot_process

from bot.__main__ import main
from tests.conftest import DATA, TOKEN, StoreAt, runtime_at, store_copy
from tests.test_discord_moderation import add_source, say

GUILDS, SHARDS = 4, 2
WITHIN = 3.0
"""Seconds for a change made by another process to show (the follower sees it within 1 s)."""
MOD = 77
NEW_NAME = "Umm al-Rabiain"
"""A name the curated places gain in a rebuild (and that nothing else matches before)."""


@pytest.fixture
def pg_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreAt]:
    yield from store_copy(request, "postgresql", "shipped", tmp_path)


@pytest.fixture
async def sharded() -> AsyncIterator[FakeDiscord]:
    async with fake_discord(guilds=GUILDS, shard_count=SHARDS, max_concurrency=1) as server:
        yield server
        assert server.errors == []


def env_for(server: FakeDiscord, store: StoreAt, shard: int, home: Path) -> dict[str, str]:
    return server.launch_env(TOKEN, database_url=str(store), shard_count=str(SHARDS),
                             shard_ids=str(shard), same_answer_seconds="0", user_rate="1000",
                             heartbeat_file=home / f"beat-{shard}")


@contextlib.asynccontextmanager
async def holding(server: FakeDiscord, store: StoreAt, shard: int, home: Path
                  ) -> AsyncIterator[BotProcess]:
    async with bot_process(server, "run", env=env_for(server, store, shard, home),
                           tag=f"p{shard}", shards=[shard], cwd=home) as proc:
        yield proc


def is_post(payload: dict[str, Any]) -> bool:
    """A mod-log or watch post: its nonce names its outbox row (replies get random ones)."""
    return str(payload.get("nonce", "")).startswith("sitrep")


def general(server: FakeDiscord, guild: int) -> int:
    return server.world.guilds[guild].channel_named("general").id


async def answer(server: FakeDiscord, channel: int, text: str) -> dict[str, Any]:
    """A member's command and the reply to it (not a watch post); the reply's sender is checked
    by callers."""
    mark = server.mark()
    await server.send_message(channel, server.member_id, text)
    req = await server.wait_for_request(
        "POST", rf"/channels/{channel}/messages$", since=mark, timeout=15,
        predicate=lambda r: r.status == 200 and not is_post(r.json))
    return dict(req.response)


async def replies_settle(server: FakeDiscord, channel: int, since: int) -> list[str | None]:
    """Who sent each bot message in ``channel`` since ``since``, after a moment for a second,
    duplicate one to arrive were there one."""
    await asyncio.sleep(0.5)
    return [server.sent_by(int(r.response["id"]))
            for r in server.requests_to("POST", rf"/channels/{channel}/messages")
            if r.index >= since and r.status == 200 and not is_post(r.json)]


def facts_text(reply: dict[str, Any]) -> str:
    return " ".join(str(e.get("description", "")) for e in reply.get("embeds", []))


async def titled_within(server: FakeDiscord, channel: int, text: str, wanted: str) -> None:
    started = time.monotonic()
    while wanted not in str((await answer(server, channel, text)).get("embeds", [{}])[0]
                            .get("title", "")):
        if time.monotonic() - started > WITHIN:
            raise AssertionError(f"{text!r} not answered about {wanted} within {WITHIN} s")
        await asyncio.sleep(0.2)


async def shown_within(server: FakeDiscord, channel: int, text: str, wanted: str) -> None:
    started = time.monotonic()
    while wanted not in facts_text(await answer(server, channel, text)):
        if time.monotonic() - started > WITHIN:
            raise AssertionError(f"{wanted!r} not shown in {text!r} within {WITHIN} s")
        await asyncio.sleep(0.2)


async def test_two_processes_serve_each_server_once_and_survive_a_kill(
        sharded: FakeDiscord, pg_store: StoreAt, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = sharded
    by_shard = {s: server.guilds_of_shard(s) for s in range(SHARDS)}
    assert all(len(g) == GUILDS // SHARDS for g in by_shard.values())
    async with contextlib.AsyncExitStack() as stack:
        # started together: the store makes the second wait for the bucket's turn
        first, second = await asyncio.gather(
            stack.enter_async_context(holding(server, pg_store, 0, tmp_path)),
            stack.enter_async_context(holding(server, pg_store, 1, tmp_path)))
        procs = {0: first, 1: second}
        identifies = sorted(server.identify_times, key=lambda r: r.at)
        assert [r.shard for r in identifies] in ([(0, 2), (1, 2)], [(1, 2), (0, 2)])
        assert server.identify_violations == []
        assert identifies[1].at - identifies[0].at >= 5.0  # Discord's window, one bucket

        # every server's question is answered once, by the process holding its shard
        for shard, guilds in by_shard.items():
            for guild in guilds:
                channel = general(server, guild)
                mark = server.mark()
                reply = await answer(server, channel, "!status Mosul")
                assert "Mosul" in str(reply["embeds"][0]["title"])
                assert await replies_settle(server, channel, mark) == [f"p{shard}"]
        dm = server.dm_channel(server.member_id).id
        mark = server.mark()
        await answer(server, dm, "!status Mosul")
        assert await replies_settle(server, dm, mark) == ["p0"]
        ping = await answer(server, general(server, by_shard[1][0]), "!ping")
        assert "shard 1 of 2" in ping["content"]

        # a moderator's fact in a server of shard 1: there at once, nowhere else, posted once
        home, other = by_shard[1][0], by_shard[0][0]
        home_channel = general(server, home)
        await say(server, "!watch Mosul", channel=home_channel)
        source = await add_source(server, home_channel)
        mark = server.mark()
        await say(server, f"!fact add place: Mosul date: 1 March 2020 source: {source} "
                  "summary: Shard one's own fact about Mosul.", channel=home_channel)
        assert "Shard one's own fact" in facts_text(await answer(server, home_channel,
                                                                  "!status Mosul"))
        assert "Shard one's own fact" not in facts_text(
            await answer(server, general(server, other), "!status Mosul"))
        await asyncio.sleep(1.0)
        assert _posts_of(server, home_channel, mark, "Shard one's own fact") == ["p1"]

        # a change made by another process (no bot) reaches the process of its server
        far = by_shard[0][-1]
        async with runtime_at(pg_store) as rt:
            src = (await rt.moderation.add_source(far, MOD, title="Wire report", outlet="Wire",
                                                  published="3 March 2020")).key
            await rt.moderation.add_fact(far, MOD, place="Ramadi", date_text="2 March 2020",
                                         summary="Written by a third process.", source=src)
        await shown_within(server, general(server, far), "!status Ramadi",
                           "Written by a third process")
        # `sitrep build` of a changed curated file: both processes reload their names
        data = tmp_path / "data"
        shutil.copytree(DATA, data)
        places = data / "places.yaml"
        places.write_text(places.read_text(encoding="utf-8").replace(
            'names: ["Mosul", "Mawsil",', f'names: ["Mosul", "{NEW_NAME}", "Mawsil",', 1),
            encoding="utf-8")
        channels = [general(server, guilds[0]) for guilds in by_shard.values()]
        for channel in channels:
            assert "Mosul" not in str((await answer(server, channel, f"!status {NEW_NAME}"))
                                      .get("embeds", [{}])[0].get("title", ""))
        with monkeypatch.context() as env:
            env.setenv("SITREP_DATA_DIR", str(data))
            assert await asyncio.to_thread(main, ["--database", str(pg_store), "build"]) == 0
        for channel in channels:
            await titled_within(server, channel, f"!status {NEW_NAME}", "Mosul")

        # `sitrep import` of that server's export into a server of the other process
        exported, into = tmp_path / "far.json", by_shard[1][-1]
        assert await asyncio.to_thread(main, ["--database", str(pg_store), "export", "--guild",
                                              str(far), "-o", str(exported)]) == 0
        assert await asyncio.to_thread(main, ["--database", str(pg_store), "import",
                                              str(exported), "--guild", str(into)]) == 0
        await shown_within(server, general(server, into), "!status Ramadi",
                           "Written by a third process")

        # SIGKILL shard 1's process: shard 0's keeps answering; a post owed meanwhile waits
        os.kill(procs[1].pid, signal.SIGKILL)
        await procs[1].proc.wait()
        mark = server.mark()
        reply = await answer(server, general(server, other), "!status Mosul")
        assert server.sent_by(int(reply["id"])) == "p0"
        async with runtime_at(pg_store) as rt:
            await rt.moderation.add_fact(home, MOD, place="Mosul", date_text="2 March 2020",
                                         summary="Owed while shard one was down.",
                                         source=source)
        await asyncio.sleep(1.0)
        assert not _posts_of(server, home_channel, mark, "Owed while shard one was down")

        again = tmp_path / "again"
        again.mkdir()
        async with holding(server, pg_store, 1, again):
            started = time.monotonic()
            while not _posts_of(server, home_channel, mark, "Owed while shard one was down"):
                assert time.monotonic() - started < 15, "the owed post never went out"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            owed = _posts_of(server, home_channel, mark, "Owed while shard one was down")
            assert owed == ["p1"]
            reply = await answer(server, home_channel, "!status Mosul")
            assert server.sent_by(int(reply["id"])) == "p1"

            # and SIGKILL the other one, shard 0's (direct messages' too): shard 1's goes on
            os.kill(procs[0].pid, signal.SIGKILL)
            await procs[0].proc.wait()
            for guild in by_shard[1]:
                reply = await answer(server, general(server, guild), "!status Mosul")
                assert server.sent_by(int(reply["id"])) == "p1"


async def test_sitrep_shards_names_the_process_of_each_shard(
        sharded: FakeDiscord, pg_store: StoreAt, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    async with holding(sharded, pg_store, 0, tmp_path) as proc:
        started = time.monotonic()
        while True:
            assert await asyncio.to_thread(main, ["--database", str(pg_store), "shards"]) == 0
            lines = capsys.readouterr().out.splitlines()
            if len(lines) > 1 and "connected" in lines[1]:
                break
            assert time.monotonic() - started < 15, lines
            await asyncio.sleep(0.2)
        assert lines[0].startswith("2 shard(s)")
        assert lines[1].startswith("shard 0  ") and f":{proc.pid}  connected, 2 server(s)" in \
            lines[1]
        assert lines[2] == "shard 1  held by nobody"
        beat = (tmp_path / "beat-0").read_text()
        assert '"0"' in beat and '"up": true' in beat


def _posts_of(server: FakeDiscord, channel: int, since: int, text: str) -> list[str | None]:
    return [server.sent_by(int(r.response["id"]))
            for r in server.requests_to("POST", rf"/channels/{channel}/messages")
            if r.index >= since and r.status == 200 and is_post(r.json)
            and text in str(r.json["embeds"][0])]
