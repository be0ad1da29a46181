"""Moderation end to end: the real discord.py client, the real engine and store, and the fake
Discord server on 127.0.0.1. Moderators change the store from Discord; members see the answers
change; nobody else can change anything; servers never see each other's data."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from fakediscord import FakeDiscord, fake_discord, running_bot

from bot.discord.app import SitrepBot
from tests.conftest import ROOT, TOKEN, StoreAt, start, store_summary
from tests.test_discord_e2e import embed_text

JSON = dict[str, Any]
ARTICLE = ROOT / "tests" / "fixtures" / "articles" / "wire_test_article.txt"
MANAGE_GUILD = str(discord.Permissions(manage_guild=True).value)


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    """Two servers; the ``bot`` fixture (from the front end's tests) connects to this one."""
    async with fake_discord(guilds=2) as srv:
        yield srv
        assert srv.unknown_routes == []
        assert srv.errors == []


async def say(server: FakeDiscord, content: str, user: int | None = None,
              channel: int | None = None, **kwargs: Any) -> JSON:
    """Post as a user (the moderator by default) and return the bot's reply in that channel."""
    channel = channel or server.channel_id
    mark = server.mark()
    await server.send_message(channel, user or server.moderator_id, content, **kwargs)
    req = await server.wait_for_request(
        "POST", rf"/channels/{channel}/messages$", since=mark, timeout=10,
        predicate=lambda r: r.status == 200)
    assert req.json.get("allowed_mentions") == {"parse": []}
    return {**req.response, "allowed_mentions": req.json["allowed_mentions"]}


def new_id(reply: JSON) -> str:
    found = re.search(r"fact `(m[0-9a-f]{6})` added", reply["content"])
    assert found, reply["content"]
    return found[1]


async def headline(server: FakeDiscord, place: str, channel: int | None = None) -> str:
    reply = await say(server, f"!status {place}", server.member_id, channel)
    return str(reply["embeds"][0]["description"]).split("\n")[0]


async def timeline_text(server: FakeDiscord, place: str, channel: int | None = None) -> str:
    """Every page of a member's ``!timeline``, turned with the ▶ button."""
    reply = await say(server, f"!timeline {place}", server.member_id, channel)
    pages = [embed_text(e) for e in reply["embeds"]]
    components = reply.get("components") or []
    while any(c.get("custom_id") == "page:next" and not c.get("disabled")
              for row in components for c in row["components"]):
        rec = await server.click_button(int(reply["id"]), "page:next", server.member_id)
        pages += [embed_text(e) for e in rec.embeds]
        components = rec.components
    return " ".join(pages)


async def store_digest(db: StoreAt) -> dict[str, tuple[int, str]]:
    """Everything in the store: equal digests mean an unchanged store."""
    return await store_summary(db)


def second_guild(server: FakeDiscord) -> tuple[int, int]:
    guild = next(g for g in server.world.guilds.values() if g.id != server.guild_id)
    return guild.id, guild.channel_named("general").id


ADD_SOURCE = ("!article add title: Fresh push on Mosul outlet: Test Wire published: 2 March 2020 "
              "genre: wire url: https://example.org/wire/mosul")


async def add_source(server: FakeDiscord, channel: int | None = None) -> str:
    reply = await say(server, ADD_SOURCE, channel=channel)
    found = re.search(r"source `(2020-03-02-test-wire-[0-9a-f]{6})` added", reply["content"])
    assert found, reply["content"]
    return found[1]


async def test_a_moderator_adds_edits_retires_and_restores_and_answers_follow(
        server: FakeDiscord, bot: SitrepBot) -> None:
    before = await headline(server, "Mosul")
    source_id = await add_source(server)
    reply = await say(server, f"!fact add place: Mosul date: 1 March 2020 source: {source_id} "
                              "status: offensive launched summary: Test Wire says a new push on "
                              "Mosul began.")
    fact_id = new_id(reply)
    assert await headline(server, "Mosul") == (
        "**Offensive launched: Test Wire says a new push on Mosul began.** [1]")
    assert "1 Mar 2020" in await timeline_text(server, "Mosul")

    listing = (await say(server, "!fact list Mosul"))["content"]
    assert re.match(r"\d+ fact\(s\) about Mosul", listing) and f"`{fact_id}` 1 Mar 2020" in listing
    assert len(listing) <= 2000 and listing.endswith("Mosul began.")
    await say(server, f"!fact edit {fact_id} summary: Test Wire reports fighting on Mosul's edge.")
    assert "fighting on Mosul" in await headline(server, "Mosul")

    reply = await say(server, f"!fact retire {fact_id}")
    assert f"fact `{fact_id}` retired" in reply["content"]
    assert await headline(server, "Mosul") == before
    assert "1 Mar 2020" not in await timeline_text(server, "Mosul")

    await say(server, f"!fact restore {fact_id}")
    assert "fighting on Mosul" in await headline(server, "Mosul")

    history = await say(server, f"!fact history {fact_id}")
    text = embed_text(history["embeds"][0])
    assert [a for a in ("fact.add", "fact.edit", "fact.retire", "fact.restore") if a in text] == [
        "fact.add", "fact.edit", "fact.retire", "fact.restore"]
    assert f"<@{server.moderator_id}>" in text and "fighting on Mosul" in text

    reply = await say(server, "!undo")
    assert f"fact `{fact_id}` reverted" in reply["content"]
    assert await headline(server, "Mosul") == before  # the restore was undone: retired again


async def test_slash_fact_add_opens_a_form_for_the_long_text(server: FakeDiscord,
                                                             bot: SitrepBot) -> None:
    source_id = await add_source(server)
    choices = await server.autocomplete(server.guild_id, server.channel_id, server.moderator_id,
                                        "fact", {"source": "test"}, "source", ("add",))
    assert source_id in [c["value"] for c in choices]
    opened = await server.invoke_slash(server.guild_id, server.channel_id, server.moderator_id,
                                       "fact", {"place": "Mosul", "source": source_id,
                                                "status": "recaptured"}, ("add",))
    assert opened.modal is not None and opened.modal["custom_id"].startswith("sitrep:fact-add:")
    done = await server.submit_modal(opened.modal["custom_id"], {
        "date": "last Saturday", "summary": "Test Wire says Mosul was retaken.",
        "quote": ""})
    assert done.ephemeral and "added" in (done.content or "")
    assert "Recaptured: Test Wire says Mosul was retaken" in await headline(server, "Mosul")
    assert "29 Feb 2020" in await timeline_text(server, "Mosul")  # Saturday before 2 Mar 2020


async def test_bad_input_gets_a_clear_reply_and_changes_nothing(server: FakeDiscord,
                                                                bot: SitrepBot,
                                                                store: Path) -> None:
    source_id = await add_source(server)
    before = await store_digest(store)
    for command, expected in [
        (f"!fact add place: Atlantis date: 2020-03-01 source: {source_id} summary: x y z",
         "Place: “Atlantis” is not a place"),
        (f"!fact add place: Mosul date: banana source: {source_id} summary: Some words.", "Date:"),
        (f"!fact add place: Mosul date: 2021-01-01 source: {source_id} summary: Some words.",
         "after the source was published"),
        (f"!fact add place: Mosul date: 2020-03-01 source: {source_id} summary: {'x' * 400}",
         "Summary: at most 300"),
        ("!fact edit m999999 summary: hello", "No fact `m999999`"),
        ("!place add name: Somewhere coordinates: 95, 43", "Coordinates:"),
        ("!article add title: T outlet: O published: not a date", "Published:"),
        ("!alias add name: Mossul place: Nowhere-at-all", "Place:"),
    ]:
        reply = await say(server, command)
        assert expected in reply["content"], (command, reply["content"])
        assert len(reply["content"]) < 300
    assert await store_digest(store) == before


MODERATOR_COMMANDS = [
    ADD_SOURCE,
    "!fact add place: Mosul date: 2016-10-17 source: 004 summary: Hijack attempt.",
    "!fact edit mosul-liberated-004 summary: Hijacked.",
    "!fact retire mosul-liberated-004", "!fact restore mosul-liberated-004",
    "!fact history mosul-liberated-004", "!fact show mosul-liberated-004", "!fact list Mosul",
    "!alias add name: Mossul2 place: Mosul", "!alias remove Mossul2",
    "!place add name: Nowhere", "!ingest title: T outlet: O published: 2016-10-17 text: Mosul fell.",
    "!review", "!undo", "!changes", "!watch Mosul", "!unwatch Mosul", "!watches",
    "!modlog", "!modlog off", "!export csv",
]


async def test_a_member_is_refused_every_moderator_command_and_nothing_changes(
        server: FakeDiscord, bot: SitrepBot, store: Path) -> None:
    before = await store_digest(store)
    for command in MODERATOR_COMMANDS:
        reply = await say(server, command, server.member_id)
        assert reply["content"] == "Only members with Manage Server can do that.", command
    assert await store_digest(store) == before
    cog = bot.get_cog("Moderation")
    assert cog is not None
    prefix_names = {c.qualified_name.split()[0] for c in cog.walk_commands()}
    assert prefix_names == {c.split()[0][1:] for c in MODERATOR_COMMANDS}  # every command tried
    # on Discord, the slash versions are not even offered to members ...
    top_level = cog.get_commands()
    assert len(top_level) == len(prefix_names)
    for command in top_level:
        registered = server.command(command.name)
        assert registered is not None and registered["default_member_permissions"] == MANAGE_GUILD
        assert registered.get("contexts") == [0]  # servers only
    with pytest.raises(PermissionError):
        await server.invoke_slash(server.guild_id, server.channel_id, server.member_id, "undo")


async def test_the_bot_itself_refuses_slash_commands_from_members(store: Path) -> None:
    """... and when a server's admins open them up, the bot's own check still refuses."""
    async with fake_discord(enforce_command_permissions=False) as server:
        b = await start(server, store)
        try:
            async with running_bot(server, b, TOKEN):
                before = await store_digest(store)
                for name, options, sub in [("undo", {}, ()), ("fact", {"fact_id": "mosul-liberated-004"},
                                                               ("retire",)),
                                           ("watch", {"place": "Mosul"}, ())]:
                    rec = await server.invoke_slash(server.guild_id, server.channel_id,
                                                    server.member_id, name, options, sub)
                    assert rec.ephemeral
                    assert rec.content == "Only members with Manage Server can do that."
                assert await store_digest(store) == before
        finally:
            await b.runtime.close()


async def test_two_servers_do_not_see_each_others_facts(server: FakeDiscord,
                                                        bot: SitrepBot) -> None:
    _other_guild, other_channel = second_guild(server)
    before_other = await headline(server, "Mosul", other_channel)
    source_id = await add_source(server)
    fact_id = new_id(await say(server, f"!fact add place: Mosul date: 1 March 2020 source: "
                                       f"{source_id} summary: Only the first server knows this."))
    await say(server, "!fact retire mosul-liberated-004")
    await say(server, "!alias add name: Hadba City place: Mosul")
    assert "Only the first server" in await headline(server, "Mosul")
    assert await headline(server, "Mosul", other_channel) == before_other
    assert "Only the first server" not in await timeline_text(server, "Mosul", other_channel)
    # the second server's moderator cannot reach the first server's rows by id either
    for command, expected in [(f"!fact retire {fact_id}", f"No fact `{fact_id}`"),
                              (f"!fact history {fact_id}", f"No fact `{fact_id}`"),
                              (f"!fact add place: Mosul date: 2020-03-01 source: {source_id} "
                               "summary: Borrowed source.", "Source: no source")]:
        reply = await say(server, command, channel=other_channel)
        assert expected in reply["content"]
    reply = await say(server, "!status Hadba City", server.member_id, other_channel)
    assert "Only the first server" not in " ".join(embed_text(e) for e in reply["embeds"])
    assert (await say(server, "!changes", channel=other_channel))["content"] == (
        "No changes yet in this server.")


async def test_ingest_and_review_end_to_end(server: FakeDiscord, bot: SitrepBot) -> None:
    reply = await say(server, "!ingest title: Iraqi forces launch Mosul offensive outlet: Wire "
                              "published: 17 October 2016 genre: wire",
                      attachments=[("wire.txt", ARTICLE.read_bytes(), "text/plain")])
    found = re.search(r"source `([^`]+)` and queued (\d+) candidate", reply["content"])
    assert found, reply["content"]
    source_id, queued = found[1], int(found[2])
    assert queued >= 5

    card = await say(server, "!review")
    embed = card["embeds"][0]
    assert embed["title"].startswith("Candidate #") and "Mosul" in embed["title"]
    assert "launched an offensive on Monday" in embed["description"]
    assert "17 Oct 2016" in embed_text(embed)  # "on Monday", read against the publication date
    buttons = [c["custom_id"] for row in card["components"] for c in row["components"]]
    assert [b.split(":")[1] for b in buttons] == ["approve", "edit", "reject"]
    card_id = int(card["id"])

    refused = await server.click_button(card_id, buttons[0], server.member_id)
    assert refused.ephemeral and "Only members with Manage Server can review" in (refused.content or "")

    approved = await server.click_button(card_id, buttons[0], server.moderator_id)
    assert "as fact `m" in (approved.content or "")
    fact_id = re.search(r"`(m[0-9a-f]{6})`", approved.content or "")[1]  # type: ignore[index]
    next_card = approved.embeds[0]
    assert next_card["title"] != embed["title"]

    edit_button = [c["custom_id"] for row in approved.components for c in row["components"]][1]
    opened = await server.click_button(card_id, edit_button, server.moderator_id)
    assert opened.modal is not None
    edited = await server.submit_modal(opened.modal["custom_id"],
                                       {"summary": "A moderator's own summary of the sentence."})
    assert "as fact `m" in (edited.content or "")
    reject_button = [c["custom_id"] for row in edited.components for c in row["components"]][2]
    rejected = await server.click_button(card_id, reject_button, server.moderator_id)
    assert "Rejected candidate" in (rejected.content or "")

    shown = await say(server, f"!fact show {fact_id}")
    text = embed_text(shown["embeds"][0])
    assert source_id in text and "17 Oct 2016" in text
    quote = re.search(r"“(.+)”", shown["embeds"][0]["description"], re.S)[1]  # type: ignore[index]
    assert quote.replace("\\", "") in ARTICLE.read_text(encoding="utf-8")
    assert "Iraqi troops and Kurdish Peshmerga" in await timeline_text(server, "Mosul")


async def test_watch_posts_in_the_watching_channel_only(server: FakeDiscord, bot: SitrepBot) -> None:
    guild = server.world.guilds[server.guild_id]
    watching = server.world.add_channel(guild, "mosul-watch").id
    await server.dispatch("CHANNEL_CREATE", guild.channels[watching].payload(server.world),
                          guild_id=guild.id)
    reply = await say(server, "!watch Mosul", channel=watching)
    assert reply["content"] == "This channel now watches Mosul."
    await say(server, f"!modlog set <#{server.mod_channel_id}>")
    source_id = await add_source(server)
    mark = server.mark()
    await say(server, f"!fact add place: Mosul date: 1 March 2020 source: {source_id} "
                      "summary: Watched news.")
    post = await server.wait_for_request("POST", rf"/channels/{watching}/messages$", since=mark,
                                         timeout=10)
    assert "Mosul" in post.json["embeds"][0]["title"]
    assert "Watched news" in embed_text(post.json["embeds"][0])
    log = await server.wait_for_request("POST", rf"/channels/{server.mod_channel_id}/messages$",
                                        since=mark, timeout=10)
    assert f"<@{server.moderator_id}>" in log.json["embeds"][0]["description"]
    # a fact about another place does not reach the Mosul watch
    mark = server.mark()
    await say(server, f"!fact add place: Ramadi date: 1 March 2020 source: {source_id} "
                      "summary: Unwatched news.")
    await server.wait_for_request("POST", rf"/channels/{server.mod_channel_id}/messages$",
                                  since=mark, timeout=10)
    assert server.requests_to("POST", rf"/channels/{watching}/messages$")[-1].index < mark
    _other_guild, other_channel = second_guild(server)
    assert all("Watched news" not in str(m) for m in server.channel_messages(other_channel))
    assert (await say(server, "!watches"))["content"] == f"<#{watching}> · Mosul"


async def test_the_moderator_role_and_permission_are_configurable(server: FakeDiscord,
                                                                  store: Path) -> None:
    """With the permission set to Administrator and the role to "Moderator", the moderator (who
    has the role but is no administrator) may curate through the role, a member may not, and the
    slash commands' default permission follows the setting."""
    b = await start(server, store, moderator_permission="administrator",
                    moderator_role="moderator")
    try:
        async with running_bot(server, b, TOKEN):
            assert (await say(server, "!watches"))["content"] == "No watches in this server."
            refused = await say(server, "!watches", server.member_id)
            assert refused["content"] == ("Only members with Administrator or the moderator role "
                                          "can do that.")
            registered = server.command("watches")
            assert registered is not None
            assert registered["default_member_permissions"] == str(
                discord.Permissions(administrator=True).value)
    finally:
        await b.runtime.close()


async def test_forms_opened_at_once_in_two_servers_each_keep_their_own_fields(
        server: FakeDiscord, bot: SitrepBot) -> None:
    """Two moderators in two servers open ``/fact add`` one after the other and submit in the
    opposite order: each fact lands in its own server, about its own place."""
    other_guild, other_channel = second_guild(server)
    src_a = await add_source(server)
    src_b = await add_source(server, other_channel)
    opened_a = await server.invoke_slash(server.guild_id, server.channel_id, server.moderator_id,
                                         "fact", {"place": "Mosul", "source": src_a}, ("add",))
    opened_b = await server.invoke_slash(other_guild, other_channel, server.moderator_id,
                                         "fact", {"place": "Raqqa", "source": src_b}, ("add",))
    assert opened_a.modal and opened_b.modal
    assert opened_a.modal["custom_id"] != opened_b.modal["custom_id"]
    done_a = await server.submit_modal(opened_a.modal["custom_id"], {
        "date": "2020-03-01", "summary": "Server A says this about Mosul."}, opened_by=opened_a)
    done_b = await server.submit_modal(opened_b.modal["custom_id"], {
        "date": "2020-03-01", "summary": "Server B says this about Raqqa."}, opened_by=opened_b)
    assert "added" in (done_a.content or "") and "added" in (done_b.content or "")
    assert "Server A says this about Mosul" in await headline(server, "Mosul")
    assert "Server B says this about Raqqa" in await headline(server, "Raqqa", other_channel)
    assert "Server A" not in await timeline_text(server, "Mosul", other_channel)
    assert "Server B" not in await timeline_text(server, "Raqqa")


async def test_export_sends_this_servers_data_as_a_file(server: FakeDiscord, bot: SitrepBot) -> None:
    source_id = await add_source(server)
    await say(server, f"!fact add place: Mosul date: 1 March 2020 source: {source_id} "
                      "summary: Exported fact.")
    for fmt, needle in (("json", b'"summary": "Exported fact."'), ("csv", b"Exported fact.")):
        mark = server.mark()
        await server.send_message(server.channel_id, server.moderator_id, f"!export {fmt}")
        req = await server.wait_for_request("POST", rf"/channels/{server.channel_id}/messages$",
                                            since=mark, timeout=10)
        [upload] = req.files
        assert upload.filename == f"sitrep-{server.guild_id}.{fmt}" and needle in upload.data
    _other_guild, other_channel = second_guild(server)
    mark = server.mark()
    await server.send_message(other_channel, server.moderator_id, "!export json")
    req = await server.wait_for_request("POST", rf"/channels/{other_channel}/messages$",
                                        since=mark, timeout=10)
    assert b"Exported fact." not in req.files[0].data
