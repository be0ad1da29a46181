"""sitrep's Discord front end end to end: the real discord.py client, the real engine and store,
and the fake Discord server on 127.0.0.1 (tests/fakediscord). The ``server``, ``store`` and
``bot`` fixtures are in conftest.py."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, running_bot

from bot.discord.app import SitrepBot, run_bot
from bot.store.stores import open_store, store_health
from tests.conftest import TOKEN, StoreAt, location, settings_for, start

MESSAGES = r"/channels/\d+/messages"
JSON = dict[str, Any]


async def say(server: FakeDiscord, content: str, user: int | None = None) -> JSON:
    """Send a message as a member and return the bot's reply."""
    mark = server.mark()
    await server.send_message(server.channel_id, user or server.member_id, content)
    req = await server.wait_for_request("POST", MESSAGES, since=mark, timeout=10,
                                        predicate=lambda r: r.status == 200)
    return req.json


def assert_quiet(payload: JSON) -> None:
    """Nothing in a reply may ping: the bot asks Discord to parse no mentions at all."""
    assert payload.get("allowed_mentions") == {"parse": []}, payload.get("allowed_mentions")


def embed_text(embed: JSON) -> str:
    return " ".join([embed.get("title") or "", embed.get("description") or "",
                     *(f["value"] for f in embed.get("fields") or [])])


def button_ids(payload: JSON) -> list[str]:
    return [c["custom_id"] for row in payload.get("components") or []
            for c in row["components"]]


async def test_prefix_status_replies_with_a_sourced_embed(server: FakeDiscord,
                                                          bot: SitrepBot) -> None:
    reply = await say(server, "!status Mosul")
    assert_quiet(reply)
    [embed] = reply["embeds"]
    assert embed["title"] == "Mosul · Iraq, Nineveh · as of 9 Jul 2019"
    assert embed["description"].startswith("**Recaptured: Mosul, ISIS's former de facto capital")
    assert "[1] Al-Shahid / Witness, 9 Jul 2019" in embed["fields"][0]["value"]
    assert [c.split(":")[:2] for c in button_ids(reply)] == [["follow", "timeline"],
                                                              ["follow", "sources-of"]]


async def test_slash_status_takes_the_same_path(server: FakeDiscord, bot: SitrepBot) -> None:
    assert {c["name"] for c in server.registered_commands} >= {
        "status", "timeline", "search", "sources", "source", "places", "help"}
    prefix = await say(server, "!status Ramadi")
    rec = await server.invoke_slash(server.guild_id, server.channel_id, server.member_id,
                                    "status", {"place": "Ramadi"})
    assert rec.latency is not None and rec.latency < 3
    assert rec.embeds[0]["title"] == prefix["embeds"][0]["title"]
    assert rec.embeds[0]["description"] == prefix["embeds"][0]["description"]
    assert_quiet(rec.callback_data or {})


@pytest.mark.parametrize(("command", "options", "expect"), [
    ("timeline", {"place": "Hit"}, "Hit · Iraq, Anbar"),
    ("search", {"words": "surrounded"}, "Search"),
    ("sources", {}, "Sources"),
    ("source", {"source_id": "002"}, "ISIS ‘retreating on almost every front’"),
    ("places", {}, "Places"),
    ("help", {}, "`!status <place>` or `/status <place>`"),
])
async def test_every_query_command_answers_by_slash(server: FakeDiscord, bot: SitrepBot,
                                                    command: str, options: JSON,
                                                    expect: str) -> None:
    rec = await server.invoke_slash(server.guild_id, server.channel_id, server.member_id,
                                    command, options)
    assert expect in embed_text(rec.embeds[0])


async def test_autocomplete_is_ranked_and_within_limits(server: FakeDiscord,
                                                        bot: SitrepBot) -> None:
    choices = await server.autocomplete(server.guild_id, server.channel_id, server.member_id,
                                        "status", {"place": "Mos"}, "place")
    assert choices and choices[0]["name"] == "Mosul"
    for current in ["", "a", "الموصل", "x" * 10_000, "<@everyone>"]:
        choices = await server.autocomplete(server.guild_id, server.channel_id,
                                            server.member_id, "timeline", {"place": current},
                                            "place")
        assert len(choices) <= 25
        assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)


async def test_pagination_buttons_only_for_the_invoker(server: FakeDiscord,
                                                       bot: SitrepBot) -> None:
    reply = await say(server, "!timeline Mosul")
    first = reply["embeds"][0]
    assert first["footer"]["text"].startswith("Page 1/")
    message_id = int((await server.wait_for_message(server.channel_id))["id"])
    other = await server.click_button(message_id, "page:next", server.moderator_id)
    assert other.ephemeral and "belong to whoever asked" in (other.content or "")
    mine = await server.click_button(message_id, "page:next", server.member_id)
    assert mine.callback_data is not None
    assert mine.callback_data["embeds"][0]["footer"]["text"].startswith("Page 2/")


async def test_status_buttons_open_timeline_and_sources(server: FakeDiscord,
                                                        bot: SitrepBot) -> None:
    reply = await say(server, "!status Haditha")
    message_id = int((await server.wait_for_message(server.channel_id))["id"])
    timeline_id, sources_id = button_ids(reply)
    rec = await server.click_button(message_id, timeline_id, server.moderator_id)
    assert rec.ephemeral and rec.embeds[0]["title"].startswith("Haditha")
    assert "5 May 2015" in embed_text(rec.embeds[0])
    rec = await server.click_button(message_id, sources_id, server.member_id)
    assert "SISMEC" in embed_text(rec.embeds[0])


async def test_did_you_mean_buttons_answer_for_the_chosen_place(server: FakeDiscord,
                                                                bot: SitrepBot) -> None:
    reply = await say(server, "!status Mosulabad")
    assert "not a place I know" in reply["embeds"][0]["description"]
    picks = [c for c in button_ids(reply) if c.startswith("pick:")]
    assert picks and picks[0].endswith(":mosul")
    message_id = int((await server.wait_for_message(server.channel_id))["id"])
    rec = await server.click_button(message_id, picks[0], server.member_id)
    assert rec.callback_data is not None
    assert rec.callback_data["embeds"][0]["title"].startswith("Mosul · Iraq")


async def test_a_real_place_without_facts_says_so(server: FakeDiscord, bot: SitrepBot) -> None:
    reply = await say(server, "!status Kirkuk")
    assert "no facts about it yet" in reply["embeds"][0]["description"]


async def test_no_reply_pings_even_for_hostile_input(server: FakeDiscord, bot: SitrepBot) -> None:
    for text in ["!status @everyone", f"!status <@{server.owner_id}>",
                 f"!search <@&{server.moderator_role_id}>", "!status **Mosul** ||x||",
                 "!status @here `x`"]:
        reply = await say(server, text)
        assert_quiet(reply)
    for message in server.bot_messages():
        assert not server.pings(message)
        text = (message.get("content") or "") + " ".join(embed_text(e) for e in message["embeds"])
        assert not re.search(r"(?<!\\)@(everyone|here)", text)


async def test_send_survives_429_and_500(server: FakeDiscord, bot: SitrepBot) -> None:
    server.fail_next("POST", MESSAGES, status=429, retry_after=0.05)
    reply = await say(server, "!status Raqqa")
    assert reply["embeds"][0]["title"].startswith("Raqqa")
    assert [r.status for r in server.requests_to("POST", MESSAGES)] == [429, 200]
    server.fail_next("POST", MESSAGES, status=500)
    reply = await say(server, "!status Palmyra")
    assert reply["embeds"][0]["title"].startswith("Palmyra")
    assert [r.status for r in server.requests_to("POST", MESSAGES)] == [429, 200, 500, 200]


async def test_answers_after_gateway_disconnect_and_resume(server: FakeDiscord,
                                                           bot: SitrepBot) -> None:
    await server.disconnect_gateway(code=4000)
    await server.wait_until(lambda: server.resume_count >= 1, timeout=10, what="a RESUME")
    reply = await say(server, "!status Fallujah")
    assert reply["embeds"][0]["title"].startswith("Fallujah")
    assert server.identify_count == 1


async def test_500_facts_stay_within_limits(server: FakeDiscord, store: StoreAt) -> None:
    bulk = await open_store(location(store))
    try:
        await bulk.db.executemany(
            "INSERT INTO facts(id, guild_id, origin, place_id, source_id, quote, summary, hedged, "
            "modality, event_start, event_end, event_precision, event_qualifier, event_basis, "
            "sort_date, as_of, rank, created_at, status) VALUES (?, 0, 'added', 'ramadi', "
            "'004_16783dbdafc97e8b', ?, ?, 1, 'reported', ?, ?, 'day', 'on', 'stated', ?, "
            "'2019-07-09', 'normal', '2026-01-01', 'contested')",
            [(f"bulk-{i}", "q" * 500, ("@everyone **x** " * 30)[:300], day, day, day)
             for i in range(500) for day in [f"2019-0{1 + i % 6}-{1 + i % 28:02d}"]])
    finally:
        await bulk.close()
    b = await start(server, store)
    try:
        async with running_bot(server, b, TOKEN):
            for text in ["!timeline Ramadi", "!status Ramadi", "!search everyone"]:
                reply = await say(server, text)  # the fake answers 400 past any Discord limit
                assert reply["embeds"]
            mark = server.mark()
            rec = await server.invoke_slash(server.guild_id, server.channel_id,
                                            server.member_id, "timeline", {"place": "Ramadi"})
            assert rec.embeds and all(r.status == 200 for r in server.requests[mark:])
    finally:
        await b.runtime.close()


async def test_cooldowns_reply_briefly(server: FakeDiscord, store: Path) -> None:
    b = await start(server, store, user_rate=2, user_per=60, same_answer_seconds=60)
    try:
        async with running_bot(server, b, TOKEN):
            first = await say(server, "!status Hit")
            assert first["embeds"]
            same = await say(server, "!status Hit", server.moderator_id)
            assert "posted moments ago" in same["content"] and not same.get("embeds")
            await say(server, "!status Rutba")
            slow = await say(server, "!status Tikrit")
            assert slow["content"].startswith("Slow down")
            rec = await server.invoke_slash(server.guild_id, server.channel_id,
                                            server.member_id, "status", {"place": "Hit"})
            assert rec.ephemeral and (rec.content or "").startswith("Slow down")
    finally:
        await b.runtime.close()


async def test_a_failing_command_is_answered_logged_and_survived(
        server: FakeDiscord, bot: SitrepBot, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(bot.engine, "run", broken)
        reply = await say(server, "!status Mosul")
        assert reply["content"].startswith("Something went wrong on our side")
        rec = await server.invoke_slash(server.guild_id, server.channel_id, server.member_id,
                                        "status", {"place": "Mosul"})
        assert rec.ephemeral and (rec.content or "").startswith("Something went wrong")
    assert "RuntimeError: boom" in caplog.text
    assert (await say(server, "!status Mosul"))["embeds"]


async def test_without_message_content_slash_still_works(server: FakeDiscord, store: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    b = await start(server, store, message_content=False)
    try:
        async with running_bot(server, b, TOKEN):
            assert not server.intents & (1 << 15)
            assert "prefix commands work only when the bot is mentioned" in caplog.text
            mark = server.mark()
            await server.send_message(server.channel_id, server.member_id, "!status Mosul")
            rec = await server.invoke_slash(server.guild_id, server.channel_id,
                                            server.member_id, "status", {"place": "Mosul"})
            assert rec.embeds[0]["title"].startswith("Mosul")
            # the prefix command reached the bot first but, its content blanked, got no reply
            assert [r for r in server.requests_to("POST", MESSAGES) if r.index >= mark] == []
            mention = await say(server, f"<@{server.bot_user_id}> status Raqqa")
            assert mention["embeds"][0]["title"].startswith("Raqqa")
    finally:
        await b.runtime.close()


async def test_slash_commands_sync_only_when_the_tree_changed(server: FakeDiscord,
                                                              store: Path) -> None:
    for _ in range(2):
        b = await start(server, store)
        try:
            async with running_bot(server, b, TOKEN):
                pass
        finally:
            await b.runtime.close()
    assert server.command_syncs == 1


async def test_sync_command_is_owner_only(server: FakeDiscord, bot: SitrepBot) -> None:
    before = server.command_syncs
    refused = await say(server, "!sync", server.member_id)
    assert refused["content"] == "Only the bot's owner can do that."
    done = await say(server, "!sync", server.owner_id)
    assert done["content"].startswith(f"Synced {len(bot.tree.get_commands())} slash command")
    assert server.command_syncs == before + 1


async def test_commands_log_one_line_and_never_the_token(server: FakeDiscord, store: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    b = await start(server, store)
    try:
        async with running_bot(server, b, TOKEN):
            await say(server, "!status Mosel")
    finally:
        await b.runtime.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "sitrep.commands"]
    assert len(lines) == 1 and re.fullmatch(
        rf"guild={server.guild_id} shard=0 command=status place=mosul error=- latency_ms=[\d.]+", lines[0])
    assert TOKEN not in caplog.text and "SECRET" not in caplog.text


async def test_sigterm_closes_gateway_and_store_and_returns_0(server: FakeDiscord,
                                                              store: StoreAt) -> None:
    settings = settings_for(store)
    task = asyncio.create_task(run_bot(settings))
    await server.wait_until(lambda: server.identify_count >= 1, timeout=10, what="IDENTIFY")
    await asyncio.sleep(0.2)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=5) == 0
    if isinstance(store, Path):
        with sqlite3.connect(store) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert await store_health(location(store)) is None
