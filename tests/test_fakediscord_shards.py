"""The fake Discord shards like Discord: real ``discord.AutoShardedClient``s on 127.0.0.1 each
get only their shards' guilds and events, ``/gateway/bot`` tells them how many shards to open,
IDENTIFYs are paced per bucket, one shard resumes alone, and a real ``sitrep run`` process
started with the launcher answers through its own tagged connection."""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from fakediscord import FakeDiscord, bot_process, fake_discord, running_bot

from tests.conftest import TOKEN

INTENTS = discord.Intents(guilds=True, guild_messages=True, dm_messages=True, message_content=True)


class ShardClient(discord.AutoShardedClient):
    """An AutoShardedClient that counts the messages it gets and answers ``/whichshard``.

    ``identify_delay`` replaces discord.py's 5 s wait between its shards' IDENTIFYs
    (``before_identify_hook``), so that the tests run quickly, or too fast on purpose.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(intents=INTENTS, **options)
        self.guild_messages: Counter[int] = Counter()
        self.direct_messages = 0
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="whichshard", description="Which shard answers")
        async def whichshard(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"shard {self.shard_ids_text}")

    @property
    def shard_ids_text(self) -> str:
        return ",".join(str(s) for s in sorted(self.shards))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None:
            self.direct_messages += 1
        else:
            self.guild_messages[message.guild.id] += 1


@contextlib.asynccontextmanager
async def clients(server: FakeDiscord, *shard_ids: list[int] | None,
                  shard_count: int | None = 2) -> AsyncIterator[list[ShardClient]]:
    """One connected ShardClient per entry of ``shard_ids`` (None: every shard)."""
    async with contextlib.AsyncExitStack() as stack:
        result = []
        for ids in shard_ids:
            client = ShardClient(shard_ids=ids, shard_count=shard_count)
            result.append(await stack.enter_async_context(running_bot(server, client)))
        yield result


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with fake_discord(guilds=6, shard_count=2) as srv:
        yield srv
        assert srv.unknown_routes == [] and srv.errors == []


def general(server: FakeDiscord, guild_id: int) -> int:
    return server.guild(guild_id).channel_named("general").id


async def test_guilds_are_dealt_round_robin_and_the_same_in_every_run() -> None:
    first, second = FakeDiscord(guilds=40), FakeDiscord(guilds=40)
    ids = list(first.world.guilds)
    assert ids == list(second.world.guilds)
    for count in (2, 3, 5, 16):
        assert [first.shard_of_guild(g, count) for g in ids] == [k % count for k in range(40)]
    assert first.guilds_of_shard(1, 4) == ids[1::4]
    assert first.shard_of_guild(first.guild_id, 7) == 0  # "Test Guild" is on shard 0


async def test_each_shard_client_sees_only_its_guilds(server: FakeDiscord) -> None:
    async with clients(server, [0], [1]) as (zero, one):
        assert sorted(g.id for g in zero.guilds) == sorted(server.guilds_of_shard(0))
        assert sorted(g.id for g in one.guilds) == sorted(server.guilds_of_shard(1))
        assert len(zero.guilds) == len(one.guilds) == 3
        by_shard = server.sessions_by_shard()
        assert {s: session.shard for s, session in by_shard.items()} == {0: (0, 2), 1: (1, 2)}


async def test_a_guild_message_goes_only_to_its_shard(server: FakeDiscord) -> None:
    guild0, guild1 = server.guilds_of_shard(0)[0], server.guilds_of_shard(1)[0]
    async with clients(server, [0], [1]) as (zero, one):
        await server.send_message(general(server, guild1), server.member_id, "for shard 1")
        await server.send_message(general(server, guild0), server.member_id, "for shard 0")
        await server.wait_until(lambda: one.guild_messages[guild1] and zero.guild_messages[guild0])
        # Each connection delivers in order: had shard 0 got the first message, it would
        # have seen it before the second.
        assert zero.guild_messages == Counter({guild0: 1})
        assert one.guild_messages == Counter({guild1: 1})
        assert [d.shards for d in server.dispatches] == [[1], [0]]
        assert server.undelivered == []


async def test_a_direct_message_goes_only_to_shard_zero(server: FakeDiscord) -> None:
    guild1 = server.guilds_of_shard(1)[0]
    async with clients(server, [0], [1]) as (zero, one):
        await server.send_message(server.dm_channel(server.member_id).id, server.member_id, "hi")
        await server.send_message(general(server, guild1), server.member_id, "after the DM")
        await server.wait_until(lambda: zero.direct_messages and one.guild_messages[guild1])
        assert (zero.direct_messages, one.direct_messages) == (1, 0)
        assert server.dispatches[0].guild_id is None and server.dispatches[0].shards == [0]


async def test_an_interaction_is_answered_by_the_client_holding_its_shard(
        server: FakeDiscord) -> None:
    guild1 = server.guilds_of_shard(1)[0]
    async with clients(server, [0], [1]) as (zero, _):
        server.register_tree(zero.tree)
        record = await server.invoke_slash(guild1, general(server, guild1), server.member_id,
                                           "whichshard")
        assert record.delivery is not None and record.delivery.shard == (1, 2)
        assert record.content == "shard 1"
        assert record.callback_request is not None and record.answered_by is None  # untagged


async def test_events_of_a_shard_nobody_holds_are_dropped_and_recorded(
        server: FakeDiscord) -> None:
    guild1 = server.guilds_of_shard(1)[0]
    async with clients(server, [0]) as (zero,):
        server.register_tree(zero.tree)
        await server.send_message(general(server, guild1), server.member_id, "nobody hears")
        assert [r.guild_id for r in server.undelivered] == [guild1]
        record = await server.invoke_slash(guild1, general(server, guild1), server.member_id,
                                           "whichshard", wait=False)
        assert record.undelivered and record.delivery is None
        with pytest.raises(RuntimeError, match="reached no gateway session"):
            await record.wait_callback()
        assert zero.guild_messages == Counter()


async def test_the_latest_session_of_a_shard_gets_its_events(server: FakeDiscord) -> None:
    guild1 = server.guilds_of_shard(1)[0]
    async with clients(server, [1]) as (old,), clients(server, [1]) as (new,):
        await server.send_message(general(server, guild1), server.member_id, "to the newest")
        await server.wait_until(lambda: new.guild_messages[guild1])
        assert old.guild_messages == Counter()
        assert server.dispatches[-1].deliveries[0].session_id == server.sessions[-1].session_id


async def test_gateway_bot_reports_the_shard_count_and_concurrency() -> None:
    async with fake_discord(shard_count=4, max_concurrency=2) as server, aiohttp.ClientSession(
            headers={"Authorization": "Bot x"}) as http:
        async with http.get(f"{server.api_base}/gateway/bot") as resp:
            data = await resp.json()
        assert data["shards"] == 4 and data["url"] == server.gateway_url
        assert data["session_start_limit"]["max_concurrency"] == 2
        async with http.get(f"{server.api_base_for('p1')}/gateway/bot") as resp:
            tagged = await resp.json()
        assert tagged["url"] == server.gateway_url_for("p1") != server.gateway_url
        assert server.requests[-1].client_tag == "p1"


async def test_an_auto_sharded_client_opens_the_recommended_shards() -> None:
    async with fake_discord(guilds=6, shard_count=3, max_concurrency=3) as server, \
            clients(server, None, shard_count=None) as (client,):
        assert client.shard_count == 3 and sorted(client.shards) == [0, 1, 2]
        assert sorted(s.shard for s in server.live_sessions) == [(0, 3), (1, 3), (2, 3)]
        assert len(client.guilds) == 6
        assert server.identify_violations == []  # three buckets: all may identify at once


@pytest.mark.parametrize(("max_concurrency", "too_fast"), [(1, [(1, 2)]), (2, [])])
async def test_identifies_are_recorded_and_too_fast_ones_flagged(
        max_concurrency: int, too_fast: list[tuple[int, int]]) -> None:
    async with fake_discord(guilds=2, shard_count=2, max_concurrency=max_concurrency) as server, \
            clients(server, None):
        assert [r.shard for r in server.identify_times] == [(0, 2), (1, 2)]
        assert [r.bucket for r in server.identify_times] == [0, 1 % max_concurrency]
        assert server.identify_times[0].at <= server.identify_times[1].at
        assert [r.shard for r in server.identify_violations] == too_fast


async def test_an_enforced_identify_limit_closes_the_fast_shard_until_it_waits() -> None:
    async with fake_discord(guilds=2, shard_count=2, identify_window=0.3,
                            enforce_identify_limit=True) as server, \
            clients(server, None) as (client,):
        assert server.refused_identifies[0][0]["shard"] == [1, 2]
        assert {code for _, code in server.refused_identifies} == {4009}
        assert sorted(client.shards) == [0, 1] and len(client.guilds) == 2
        accepted = [r for r in server.identify_times if r.session_id in
                    {s.session_id for s in server.live_sessions}]
        assert accepted[1].at - accepted[0].at >= 0.3


async def test_too_few_shards_for_the_guilds_closes_with_4011() -> None:
    async with fake_discord(guilds=4, max_guilds_per_shard=2) as server:
        with pytest.raises(discord.ConnectionClosed) as closed:
            async with running_bot(server, discord.Client(intents=INTENTS)):
                pass
        assert closed.value.code == 4011
        async with clients(server, [0], [1]) as (zero, one):
            assert len(zero.guilds) == len(one.guilds) == 2


@pytest.mark.parametrize("shard", [[2, 2], [0, 0], [-1, 2], "0,1"])
async def test_an_invalid_shard_closes_with_4010(shard: Any) -> None:
    async with fake_discord() as server, aiohttp.ClientSession() as http, \
            http.ws_connect(server.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "x", "intents": 1, "shard": shard,
                                           "properties": {}}})
        message = await ws.receive()
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4010
        assert server.sessions == [] and server.refused_identifies[0][1] == 4010


async def test_one_shard_resumes_while_the_other_stays_connected(server: FakeDiscord) -> None:
    guild1 = server.guilds_of_shard(1)[0]
    async with clients(server, None) as (client,):
        sessions = server.sessions_by_shard()
        shard0_connection = sessions[0].connection
        await server.disconnect_gateway(4000, shard=1, wait=False)
        await server.send_message(general(server, guild1), server.member_id, "while away")
        assert server.dispatches[-1].deliveries[0].queued
        await server.wait_until(lambda: server.resume_count == 1 and server.is_connected(1))
        await server.wait_until(lambda: client.guild_messages[guild1])  # replayed on RESUME
        assert sessions[0].connection is shard0_connection
        assert server.sessions_by_shard() == sessions and server.identify_count == 2


# ---------------------------------------------------------------------- a real bot process
async def test_a_launched_sitrep_process_answers_status(shipped_store: Path,
                                                        tmp_path: Path) -> None:
    db = tmp_path / "sitrep.db"
    shutil.copy(shipped_store, db)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    async with fake_discord(valid_tokens=[TOKEN]) as server:
        env = server.launch_env(TOKEN, database=db, user_rate="1000", same_answer_seconds="0")
        async with bot_process(server, "run", env=env, tag="p0", cwd=workdir) as proc:
            [session] = await proc.wait_ready(server)
            assert session.client_tag == "p0" and session.shard == (0, 1)
            await server.send_message(server.channel_id, server.member_id, "!status Mosul")
            reply = await server.wait_for_message(server.channel_id, timeout=20)
            assert reply["embeds"][0]["title"].startswith("Mosul")
            assert server.sent_by(reply) == "p0"
            assert server.dispatches[0].client_tags == ["p0"]
            await server.wait_until(lambda: server.command("status"), what="the command sync")
            rec = await server.invoke_slash(server.guild_id, server.channel_id, server.member_id,
                                            "status", {"place": "Mosul"}, timeout=10)
            assert rec.delivery is not None and rec.delivery.client_tag == "p0"
            assert rec.answered_by == "p0" and rec.embeds[0]["title"].startswith("Mosul")
            assert {r.client_tag for r in server.requests} == {"p0"}
        assert proc.returncode == 0, proc.output()
        assert server.errors == [] and server.unknown_routes == []
