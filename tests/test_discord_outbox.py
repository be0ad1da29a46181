"""The mod-log and watch posts through the real discord.py client and the fake Discord server, on
both engines: each post owed is sent once, with a nonce Discord enforces; a change made by another
process is posted within a couple of seconds; a post owed while the bot was down is sent when it
is back. Delivery's own poll is made too slow to matter here (``POLL``), so what is tested is that
commits and the store's follower wake it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fakediscord import FakeDiscord, running_bot

from bot.discord.app import SitrepBot
from bot.discord.cogs.moderation import ModerationCog
from bot.domain.delivery import LEASE, nonce
from bot.domain.errors import StoreFailure
from bot.domain.shards import Shards, shard_of
from bot.runtime import Runtime
from tests.conftest import TOKEN, StoreAt, runtime_at, start
from tests.test_discord_e2e import embed_text
from tests.test_discord_moderation import add_source, say

POLL = 60.0
LEASE_MS = round(LEASE * 1000) + 1000
WITHIN = 2.5
"""Seconds in which a change made elsewhere reaches Discord (the follower sees it within 1 s)."""


@contextlib.asynccontextmanager
async def connected(server: FakeDiscord, store: StoreAt) -> AsyncIterator[SitrepBot]:
    bot = await start(server, store)
    bot.runtime.delivery.poll = POLL
    try:
        async with running_bot(server, bot, TOKEN) as running:
            yield running
    finally:
        await bot.runtime.close()


def posts(server: FakeDiscord, channel: int, since: int = 0) -> list[str]:
    """The text of the bot's embeds posted in ``channel`` since ``since``."""
    return [embed_text(r.json["embeds"][0])
            for r in server.requests_to("POST", rf"/channels/{channel}/messages")
            if r.index >= since and r.json.get("embeds")]


async def all_sent(rt: Runtime) -> None:
    """Until the outbox owes nothing more (every post sent or given up)."""
    async with asyncio.timeout(10):
        # polling the store is the point: no event says "sent" across processes
        while await rt.store.db.fetchrow("SELECT 1 FROM outbox WHERE state = 'pending'"):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # time for a second send, were there one


async def watch_channel(server: FakeDiscord) -> int:
    guild = server.world.guilds[server.guild_id]
    channel = server.world.add_channel(guild, "mosul-watch").id
    await server.dispatch("CHANNEL_CREATE", guild.channels[channel].payload(server.world),
                          guild_id=guild.id)
    return channel


async def test_a_moderators_fact_is_posted_once_to_the_mod_log_and_the_watch(
        server: FakeDiscord, store: StoreAt) -> None:
    async with connected(server, store) as bot:
        watching = await watch_channel(server)
        await say(server, "!watch Mosul", channel=watching)
        await say(server, f"!modlog set <#{server.mod_channel_id}>")
        source = await add_source(server)
        await all_sent(bot.runtime)  # the source's own mod-log post
        mark = server.mark()
        await say(server, f"!fact add place: Mosul date: 1 March 2020 source: {source} "
                          "summary: Watched news.")
        started = time.monotonic()
        post = await server.wait_for_request("POST", rf"/channels/{watching}/messages",
                                             since=mark, timeout=WITHIN)
        assert time.monotonic() - started < WITHIN
        assert post.json["nonce"].startswith("sitrep") and post.json["enforce_nonce"] is True
        await all_sent(bot.runtime)
        assert len(posts(server, watching, mark)) == 1
        assert "Watched news" in posts(server, watching, mark)[0]
        [logged] = posts(server, server.mod_channel_id, mark)
        assert "Watched news" in logged and f"<@{server.moderator_id}>" in logged
        nonces = {r.json["nonce"] for r in server.requests_to("POST", r"/channels/\d+/messages")
                  if r.index >= mark and r.json.get("embeds")}
        assert len(nonces) == 2  # one per post


async def test_a_change_made_by_another_process_is_posted_within_seconds(
        server: FakeDiscord, store: StoreAt) -> None:
    async with connected(server, store) as bot, runtime_at(store) as there:
        await say(server, f"!modlog set <#{server.mod_channel_id}>")
        guild, actor = server.guild_id, server.moderator_id
        mark = server.mark()
        started = time.monotonic()
        await there.moderation.add_alias(guild, actor, "Mosul", "Mosulopolis")
        await server.wait_for_request("POST", rf"/channels/{server.mod_channel_id}/messages",
                                      since=mark, timeout=WITHIN)
        assert time.monotonic() - started < WITHIN
        await all_sent(bot.runtime)
        [logged] = posts(server, server.mod_channel_id, mark)
        assert "Mosulopolis" in logged and f"<@{actor}>" in logged


async def test_a_post_owed_while_the_bot_was_down_is_sent_when_it_is_back(
        server: FakeDiscord, store: StoreAt) -> None:
    async with connected(server, store):
        await say(server, f"!modlog set <#{server.mod_channel_id}>")
    # stopping the bot stopped its poster
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "sitrep-posts"]
    mark = server.mark()
    async with runtime_at(store) as there:  # `sitrep import`, say, while the bot is down
        await there.moderation.add_alias(server.guild_id, server.moderator_id, "Mosul",
                                         "Mosulopolis")
    assert posts(server, server.mod_channel_id, mark) == []
    async with connected(server, store) as bot:
        await server.wait_for_request("POST", rf"/channels/{server.mod_channel_id}/messages",
                                      since=mark, timeout=WITHIN)
        await all_sent(bot.runtime)
        assert len(posts(server, server.mod_channel_id, mark)) == 1


async def test_a_process_posts_only_for_the_servers_of_its_shards(
        server: FakeDiscord, store: StoreAt) -> None:
    async with connected(server, store) as bot, runtime_at(store) as there:
        await say(server, f"!modlog set <#{server.mod_channel_id}>")
        other = 1 - shard_of(server.guild_id, 2)
        await bot.remove_cog("Moderation")
        await bot.add_cog(ModerationCog(bot, bot.service, Shards(2, (other,))))
        mark = server.mark()
        await there.moderation.add_alias(server.guild_id, server.moderator_id, "Mosul",
                                         "Mosulopolis")
        await asyncio.sleep(WITHIN)
        assert posts(server, server.mod_channel_id, mark) == []  # another process's server
        assert await bot.runtime.store.db.fetchrow(
            "SELECT 1 FROM outbox WHERE state = 'pending'") is not None


async def test_a_post_sent_again_after_its_mark_was_lost_appears_once(
        server: FakeDiscord, store: StoreAt, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process sends, then dies (here: the store fails) before marking the post sent; the
    post is claimed again once its lease runs out and sent again with the same nonce, which
    Discord enforces: the channel shows it once."""
    async with connected(server, store) as bot:
        await say(server, f"!modlog set <#{server.mod_channel_id}>")
        await all_sent(bot.runtime)
        outbox = bot.runtime.delivery.outbox
        real_mark = outbox.mark_sent
        lost: list[list[int]] = []
        dropped = asyncio.Event()

        async def losing(ids: Any) -> None:
            if not lost:
                lost.append(list(ids))
                dropped.set()
                raise StoreFailure("the store went away")
            await real_mark(ids)

        monkeypatch.setattr(outbox, "mark_sent", losing)
        before = len(server.bot_messages(server.mod_channel_id))
        await say(server, "!alias add place: Mosul name: Mosulopolis")
        async with asyncio.timeout(WITHIN):
            await dropped.wait()
        # the lease runs out (aged in SQL rather than waited for), and the loop looks again
        await bot.runtime.store.db.execute("UPDATE outbox SET claimed_until = claimed_until - ?",
                                           (LEASE_MS,))
        bot.runtime.delivery.wake()
        await all_sent(bot.runtime)
        sent = server.requests_to("POST", rf"/channels/{server.mod_channel_id}/messages")
        assert sum(1 for r in sent if r.json.get("nonce") == nonce(lost[0][0])) == 2
        assert len(server.nonce_duplicates) == 1
        assert len(server.bot_messages(server.mod_channel_id)) == before + 1
