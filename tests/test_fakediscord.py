"""The fake Discord server works with the real discord.py client, end to end on 127.0.0.1.

A throwaway bot (not sitrep's) exercises each path a real bot uses: login and READY, prefix
commands, hybrid and slash commands, autocomplete, buttons, modals, deferred responses,
rate limits and server errors, gateway disconnects with RESUME, the message content intent,
users' attachments (in messages, slash command options and modal file uploads) and the
commands' default member permissions and contexts.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from unittest.mock import ANY

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands
from fakediscord import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_UPDATE_MESSAGE,
    INTENT_MESSAGE_CONTENT,
    MESSAGE_FLAG_EPHEMERAL,
    FakeDiscord,
    FakeRole,
    Overwrite,
    fake_discord,
    running_bot,
)
from fakediscord.gateway import ZlibStreamCompressor, ZstdStreamCompressor

MESSAGES = r"/channels/\d+/messages"
SLASH_COMMANDS = [
    "echo",
    "slow",
    "progress",
    "feedback",
    "whois",
    "late",
    "upload",
    "evidence",
    "purge",
    "lockdown",
    "mod",
    "guildonly",
]
MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value
BAN_MEMBERS = discord.Permissions(ban_members=True).value
ARTICLE = ("article.txt", b"Mosul retaken", "text/plain")


class Confirm(discord.ui.View):
    """A one-button view that edits its message when clicked."""

    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.green, custom_id="probe:confirm")
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]
    ) -> None:
        button.disabled = True
        await interaction.response.edit_message(
            content=f"Confirmed by {interaction.user.name}", view=self
        )
        self.stop()


class Feedback(discord.ui.Modal, title="Feedback"):
    """A modal with one text input."""

    text: discord.ui.TextInput[Feedback] = discord.ui.TextInput(
        label="Text", custom_id="probe:text"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}", ephemeral=True)


class Evidence(discord.ui.Modal, title="Evidence"):
    """A modal with a file upload (up to two files) in a label."""

    proof: discord.ui.Label[Evidence] = discord.ui.Label(
        text="Proof", component=discord.ui.FileUpload(custom_id="probe:proof", max_values=2)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        upload = self.proof.component
        assert isinstance(upload, discord.ui.FileUpload)
        sizes = [f"{a.filename}={len(await a.read())}" for a in upload.values]
        await interaction.response.send_message(" ".join(sizes), ephemeral=True)


class Probe(commands.Cog):
    """The commands of the throwaway bot."""

    @commands.command()
    async def ping(self, ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send("pong")

    @commands.command()
    async def buttons(self, ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send("Confirm?", view=Confirm())

    @commands.command()
    async def long(self, ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send("x" * 2001)

    @commands.command()
    async def work(self, ctx: commands.Context[commands.Bot]) -> None:
        async with ctx.typing():
            report = discord.File(io.BytesIO(b"report body"), filename="report.txt")
            msg = await ctx.send("working", file=report)
        await msg.edit(content="done")
        await msg.add_reaction("\N{WHITE HEAVY CHECK MARK}")
        data = await msg.attachments[0].read()
        temporary = await ctx.send(f"read {len(data)} bytes")
        await temporary.delete()

    @commands.command()
    async def dm(self, ctx: commands.Context[commands.Bot]) -> None:
        await ctx.author.send("psst")

    @commands.hybrid_command()  # type: ignore[arg-type]  # discord.py overloads vs mypy
    async def echo(self, ctx: commands.Context[commands.Bot], text: str) -> None:
        """Echo some text.

        Parameters
        ----------
        text:
            What to echo.
        """
        await ctx.send(text)

    @echo.autocomplete("text")
    async def echo_text(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current}{n}", value=f"{current}{n}") for n in range(3)]

    @app_commands.command()
    async def slow(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await interaction.followup.send("done")

    @app_commands.command()
    async def progress(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="50%")
        original = await interaction.original_response()
        extra = await interaction.followup.send(
            f"was {original.content}", ephemeral=True, wait=True
        )
        await extra.edit(content="edited followup")

    @app_commands.command()
    async def feedback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @app_commands.command()
    async def whois(self, interaction: discord.Interaction, user: discord.Member) -> None:
        roles = ",".join(r.name for r in user.roles if not r.is_default()) or "-"
        await interaction.response.send_message(f"{user.name}: {roles}")

    @app_commands.command()
    async def upload(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(
            f"{file.filename} {file.content_type} {data.decode()}"
        )

    @app_commands.command()
    async def evidence(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Evidence())

    @app_commands.command()
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.checks.has_permissions(manage_messages=True)
    async def purge(self, interaction: discord.Interaction, reason: str | None = None) -> None:
        await interaction.response.send_message(f"purged ({reason})", ephemeral=True)

    @purge.autocomplete("reason")
    async def purge_reason(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=r, value=r) for r in ("spam", "abuse")]

    @purge.error
    async def purge_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        assert isinstance(error, app_commands.MissingPermissions)
        missing = ",".join(error.missing_permissions)
        await interaction.response.send_message(f"missing {missing}", ephemeral=True)

    @app_commands.command()
    @app_commands.default_permissions()  # "0": administrators only
    async def lockdown(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("locked")

    @commands.hybrid_group()  # type: ignore[arg-type]  # discord.py overloads vs mypy
    @app_commands.default_permissions(ban_members=True)
    async def mod(self, ctx: commands.Context[commands.Bot]) -> None:
        """Moderation."""

    @mod.command()  # type: ignore[arg-type]
    async def warn(self, ctx: commands.Context[commands.Bot], user: discord.Member) -> None:
        """Warn a member."""
        await ctx.send(f"warned {user.name}")

    @app_commands.command()
    @app_commands.guild_only()
    async def guildonly(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("in a guild")

    @app_commands.command()
    async def late(self, interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("too late")
        except discord.NotFound:
            interaction.client.late_failures += 1  # type: ignore[attr-defined]


class ProbeBot(commands.Bot):
    """A minimal bot: prefix ``!``, AllowedMentions.none(), records what it sees."""

    def __init__(self, *, message_content: bool = True, members: bool = False) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        intents.members = members
        super().__init__(
            command_prefix="!",
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.seen: list[discord.Message] = []
        self.command_errors: list[BaseException] = []
        self.late_failures = 0

    async def setup_hook(self) -> None:
        await self.add_cog(Probe())
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message)
        await self.process_commands(message)

    async def on_command_error(  # type: ignore[override]  # Context[BotT] in discord.py
        self, ctx: commands.Context[commands.Bot], error: Exception
    ) -> None:
        self.command_errors.append(error)


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as srv:
        yield srv
        assert srv.errors == []


@pytest.fixture
async def bot(server: FakeDiscord) -> AsyncIterator[ProbeBot]:
    async with running_bot(server, ProbeBot()) as probe:
        yield probe


async def test_login_ready_and_guild_state(server: FakeDiscord, bot: ProbeBot) -> None:
    assert bot.user is not None and bot.user.id == server.bot_user_id
    assert bot.application_id == server.app_id
    guild = bot.get_guild(server.guild_id)
    assert guild is not None and guild.name == "Test Guild"
    assert guild.owner_id == server.owner_id
    assert {c.name for c in guild.text_channels} == {"general", "mod-log"}
    assert guild.get_role(server.moderator_role_id).name == "Moderator"  # type: ignore[union-attr]
    assert guild.me is not None and guild.me.guild_permissions.send_messages
    assert server.intents == bot.intents.value and server.intents & INTENT_MESSAGE_CONTENT
    assert server.identify_count == 1 and server.resume_count == 0
    # zlib-stream, or zstd-stream when the zstandard package is installed
    compression = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    connection = server.connections[0]
    assert connection.request.query["compress"] == compression
    expected = ZstdStreamCompressor if compression == "zstd-stream" else ZlibStreamCompressor
    assert isinstance(connection.compressor, expected)
    assert server.gateway_paths == ["/gateway"]
    me = server.requests_to("GET", r"/users/@me")[0]
    assert me.authorized and "Authorization" not in me.headers
    assert {c["name"] for c in server.registered_commands} == set(SLASH_COMMANDS)
    assert server.command_syncs == 1
    assert await bot.is_owner(discord.Object(server.owner_id))  # type: ignore[arg-type]
    assert server.unknown_routes == []


async def test_rest_responses_are_exactly_application_json(server: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": "Bot x"}
        async with http.get(f"{server.api_base}/users/@me", headers=headers) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
        async with http.get(f"{server.api_base}/no/such/route", headers=headers) as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["code"] == 0
        async with http.get(f"{server.api_base}/channels/1", headers=headers) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 10003
    assert server.unknown_routes == ["GET /no/such/route"]


async def test_prefix_command_reply(server: FakeDiscord, bot: ProbeBot) -> None:
    await server.send_message(server.channel_id, server.member_id, "!ping")
    request = await server.wait_for_request("POST", MESSAGES)
    assert request.path == f"/channels/{server.channel_id}/messages"
    assert request.json["content"] == "pong"
    assert request.json["allowed_mentions"] == {"parse": []}
    reply = await server.wait_for_message(server.channel_id)
    assert reply["content"] == "pong" and reply["author"]["id"] == str(server.bot_user_id)
    assert not server.pings(reply)
    assert bot.seen[0].content == "!ping"
    assert server.unknown_routes == []


async def test_hybrid_slash_command(server: FakeDiscord, bot: ProbeBot) -> None:
    record = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "echo", {"text": "hi"}
    )
    assert record.callback_type == CALLBACK_CHANNEL_MESSAGE
    assert record.content == "hi" and not record.ephemeral
    assert record.callback_data is not None and record.callback_data["allowed_mentions"] == {
        "parse": []
    }
    assert record.latency is not None and record.latency < 3.0
    assert (await server.wait_for_message(server.channel_id))["content"] == "hi"
    callback = await server.wait_for_request("POST", r"/interactions/\d+/[^/]+/callback")
    assert callback.query == {"with_response": "1"} and not callback.authorized
    assert server.unknown_routes == []


async def test_slash_user_option_is_resolved(server: FakeDiscord, bot: ProbeBot) -> None:
    record = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "whois", {"user": server.moderator_id}
    )
    assert record.content == "moderator: Moderator"


async def test_autocomplete_round_trip(server: FakeDiscord, bot: ProbeBot) -> None:
    choices = await server.autocomplete(
        server.guild_id, server.channel_id, server.member_id, "echo", {"text": "Mos"}, "text"
    )
    assert [c["name"] for c in choices] == ["Mos0", "Mos1", "Mos2"]
    assert server.interactions[-1].callback_type == CALLBACK_AUTOCOMPLETE_RESULT


async def test_deferred_ephemeral_then_followup(server: FakeDiscord, bot: ProbeBot) -> None:
    record = await server.invoke_slash(server.guild_id, server.channel_id, server.member_id, "slow")
    assert record.callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE
    assert record.callback_data == {"flags": MESSAGE_FLAG_EPHEMERAL}
    followup = await record.wait_followup()
    assert followup["content"] == "done"
    assert record.ephemeral and record.content == "done"
    assert followup["id"] == record.original["id"]  # type: ignore[index]  # replaced "thinking"
    assert server.unknown_routes == []


async def test_button_click_updates_message(server: FakeDiscord, bot: ProbeBot) -> None:
    await server.send_message(server.channel_id, server.member_id, "!buttons")
    message = await server.wait_for_message(server.channel_id)
    assert message["components"][0]["components"][0]["custom_id"] == "probe:confirm"
    record = await server.click_button(int(message["id"]), "probe:confirm", server.moderator_id)
    assert record.callback_type == CALLBACK_UPDATE_MESSAGE
    updated = server.messages[int(message["id"])]
    assert updated["content"] == "Confirmed by moderator"
    assert updated["components"][0]["components"][0]["disabled"] is True
    with pytest.raises(ValueError, match="disabled"):
        await server.click_button(int(message["id"]), "probe:confirm", server.member_id)


async def test_modal_submit(server: FakeDiscord, bot: ProbeBot) -> None:
    opened = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "feedback"
    )
    assert opened.callback_type == CALLBACK_MODAL and opened.modal is not None
    submitted = await server.submit_modal(opened.modal["custom_id"], {"probe:text": "great bot"})
    assert submitted.callback_type == CALLBACK_CHANNEL_MESSAGE
    assert submitted.content == "Thanks: great bot" and submitted.ephemeral


async def test_rate_limited_send_is_retried(server: FakeDiscord, bot: ProbeBot) -> None:
    rule = server.fail_next("POST", MESSAGES, status=429, retry_after=0.05)
    await server.send_message(server.channel_id, server.member_id, "!ping")
    first = await server.wait_for_request("POST", MESSAGES)
    second = await server.wait_for_request("POST", MESSAGES)
    assert (first.status, first.injected) == (429, True)
    assert first.response == {
        "message": "You are being rate limited.",
        "retry_after": 0.05,
        "global": False,
    }
    assert (second.status, second.injected) == (200, False)
    assert second.at - first.at >= 0.05
    assert rule.hits == 1
    assert [m["content"] for m in server.bot_messages()] == ["pong"]
    assert bot.command_errors == []


async def test_server_error_is_retried(server: FakeDiscord, bot: ProbeBot) -> None:
    server.fail_next("POST", MESSAGES, status=500)
    await server.send_message(server.channel_id, server.member_id, "!ping")
    first = await server.wait_for_request("POST", MESSAGES)
    second = await server.wait_for_request("POST", MESSAGES, timeout=5)  # discord.py waits 1 s
    assert (first.status, second.status) == (500, 200)
    assert [m["content"] for m in server.bot_messages()] == ["pong"]


async def test_message_limits_are_enforced(server: FakeDiscord, bot: ProbeBot) -> None:
    await server.send_message(server.channel_id, server.member_id, "!long")
    request = await server.wait_for_request("POST", MESSAGES)
    assert request.status == 400 and request.response["code"] == 50035
    await server.wait_until(lambda: bot.command_errors, what="the command error")
    error = bot.command_errors[0]
    assert isinstance(error, commands.CommandInvokeError)
    assert isinstance(error.original, discord.HTTPException) and error.original.status == 400


async def test_resume_after_disconnect_replays_missed_events(
    server: FakeDiscord, bot: ProbeBot
) -> None:
    await server.send_message(server.channel_id, server.member_id, "!ping")
    await server.wait_for_message(server.channel_id)

    await server.disconnect_gateway(4000, wait=False)
    # Sent while the bot is disconnected: buffered, then replayed on RESUME.
    await server.send_message(server.channel_id, server.member_id, "!ping")
    await server.wait_until(lambda: server.resume_count == 1 and server.connected, 10, "RESUME")
    assert (await server.wait_for_message(server.channel_id))["content"] == "pong"

    await server.disconnect_gateway(None)  # TCP drop, no close frame; waits for the resume
    await server.send_message(server.channel_id, server.member_id, "!ping")
    assert (await server.wait_for_message(server.channel_id))["content"] == "pong"

    assert server.identify_count == 1 and server.resume_count == 2
    assert server.gateway_paths == ["/gateway", "/resume", "/resume"]
    assert len(server.bot_messages()) == 3


async def test_without_message_content_intent(server: FakeDiscord) -> None:
    async with running_bot(server, ProbeBot(message_content=False)) as bot:
        assert server.intents is not None and not server.intents & INTENT_MESSAGE_CONTENT
        await server.send_message(server.channel_id, server.member_id, "!ping")
        await server.send_message(
            server.channel_id, server.member_id, f"<@{server.bot_user_id}> hi"
        )
        await server.wait_until(lambda: len(bot.seen) == 2, what="two messages")
        assert bot.seen[0].content == ""  # blanked, like Discord
        assert bot.seen[1].content == f"<@{server.bot_user_id}> hi"  # mentions the bot
        assert server.requests_to("POST", MESSAGES) == []
        record = await server.invoke_slash(
            server.guild_id, server.channel_id, server.member_id, "echo", {"text": "still works"}
        )
        assert record.content == "still works"


async def test_members_intent_chunks_the_guild(server: FakeDiscord) -> None:
    async with running_bot(server, ProbeBot(members=True)) as bot:
        guild = bot.get_guild(server.guild_id)
        assert guild is not None and guild.chunked
        moderator = guild.get_member(server.moderator_id)
        assert moderator is not None and [r.name for r in moderator.roles[1:]] == ["Moderator"]


async def test_late_interaction_response_is_rejected(server: FakeDiscord, bot: ProbeBot) -> None:
    server.interaction_deadline = 0.1
    record = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "late", wait=False
    )
    await server.wait_until(lambda: record.rejected_callbacks, what="the late callback")
    assert not record.responded and record.rejected_callbacks[0][0] == 404
    await server.wait_until(lambda: bot.late_failures == 1, what="the bot to see NotFound")


async def test_bad_token_and_disallowed_intents() -> None:
    async with fake_discord(valid_tokens={"good"}) as server:
        with pytest.raises(discord.LoginFailure):
            async with running_bot(server, ProbeBot(), token="bad"):
                pass
    async with fake_discord(allowed_privileged_intents=0) as server:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with running_bot(server, ProbeBot()):
                pass


async def test_files_typing_edit_reaction_delete(server: FakeDiscord, bot: ProbeBot) -> None:
    await server.send_message(server.channel_id, server.member_id, "!work")
    sent = await server.wait_for_request("POST", MESSAGES)
    assert sent.json["content"] == "working"
    assert [(f.field, f.filename, f.data) for f in sent.files] == [
        ("files[0]", "report.txt", b"report body")
    ]
    assert sent.response["attachments"][0]["filename"] == "report.txt"
    mid = sent.response["id"]
    await server.wait_for_request("DELETE", r"/channels/\d+/messages/\d+")
    assert server.requests_to("POST", r"/channels/\d+/typing")
    assert (
        server.requests_to("PATCH", rf"/channels/\d+/messages/{mid}")[0].json["content"] == "done"
    )
    assert server.reactions[int(mid)] == [("\N{WHITE HEAVY CHECK MARK}", server.bot_user_id)]
    assert [m["content"] for m in server.bot_messages()] == ["done"]  # "read 11 bytes" deleted
    assert server.requests_to("POST", MESSAGES)[1].json["content"] == "read 11 bytes"
    assert server.unknown_routes == []


async def test_direct_messages(server: FakeDiscord, bot: ProbeBot) -> None:
    await server.send_message(server.channel_id, server.member_id, "!dm")
    dm = server.dm_channel(server.member_id)
    assert (await server.wait_for_message(dm.id))["content"] == "psst"
    assert server.requests_to("POST", r"/users/@me/channels")[0].json == {
        "recipient_id": server.member_id
    }
    await server.send_message(dm.id, server.member_id, "!ping")
    assert (await server.wait_for_message(dm.id))["content"] == "pong"
    assert server.unknown_routes == []


async def test_guild_command_sync_and_fetch(server: FakeDiscord, bot: ProbeBot) -> None:
    guild = discord.Object(server.guild_id)
    bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    assert {c.guild_id for c in synced} == {server.guild_id}
    assert server.command_syncs == 2
    guild_echo, global_echo = server.command("echo", server.guild_id), server.command("echo")
    assert guild_echo is not None and global_echo is not None
    assert guild_echo["id"] != global_echo["id"]
    await bot.tree.sync(guild=guild)  # unchanged commands keep their ids
    assert server.command("echo", server.guild_id) == {**guild_echo, "version": ANY}
    assert server.commands_created == 2 * len(SLASH_COMMANDS)
    fetched = await bot.tree.fetch_commands(guild=guild)
    assert sorted(c.name for c in fetched) == sorted(SLASH_COMMANDS)
    record = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "echo", {"text": "g"}
    )
    assert record.payload["data"]["id"] == guild_echo["id"]
    assert record.payload["data"]["guild_id"] == str(server.guild_id)
    assert record.content == "g"


async def test_edit_original_and_followups(server: FakeDiscord, bot: ProbeBot) -> None:
    record = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "progress"
    )
    assert record.callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE
    await record.wait_for(lambda r: bool(r.followups and r.followups[0].get("edited_timestamp")))
    assert record.content == "50%" and not record.ephemeral
    assert [e.get("content") for e in record.original_edits] == ["50%"]
    followup = record.followups[0]
    assert followup["content"] == "edited followup"
    assert followup["flags"] & MESSAGE_FLAG_EPHEMERAL
    webhook = rf"/webhooks/{server.app_id}/[^/]+"
    assert server.requests_to("PATCH", rf"{webhook}/messages/@original")
    assert server.requests_to("GET", rf"{webhook}/messages/@original")
    assert server.requests_to("POST", webhook)[0].query["wait"] == "1"
    assert server.requests_to("PATCH", rf"{webhook}/messages/{followup['id']}")
    assert server.unknown_routes == []


class QuickReidentifyBot(ProbeBot):
    """Skips discord.py's 5-second sleep before a re-IDENTIFY."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


async def test_invalidated_session_identifies_again(server: FakeDiscord) -> None:
    async with running_bot(server, QuickReidentifyBot()):
        await server.disconnect_gateway(4000, resumable=False)
        assert server.invalid_session_count == 1
        assert (server.identify_count, server.resume_count) == (2, 0)
        await server.send_message(server.channel_id, server.member_id, "!ping")
        assert (await server.wait_for_message(server.channel_id))["content"] == "pong"


async def test_autosharded_bot(server: FakeDiscord) -> None:
    intents = discord.Intents.default()
    async with running_bot(server, commands.AutoShardedBot("!", intents=intents)) as bot:
        assert bot.shard_count == 1
        assert server.identify_payloads[0]["shard"] == [0, 1]
        assert bot.get_guild(server.guild_id) is not None
    assert server.requests_to("GET", r"/gateway/bot")
    assert server.unknown_routes == []


class NoSyncBot(ProbeBot):
    """Does not sync its command tree on start (as a production bot should not)."""

    async def setup_hook(self) -> None:
        await self.add_cog(Probe())


async def test_register_tree_without_syncing(server: FakeDiscord) -> None:
    async with running_bot(server, NoSyncBot()) as bot:
        assert server.registered_commands == []
        with pytest.raises(LookupError, match="not registered"):
            await server.invoke_slash(server.guild_id, server.channel_id, server.member_id, "echo")
        server.register_tree(bot.tree)
        assert server.command_syncs == 0
        record = await server.invoke_slash(
            server.guild_id, server.channel_id, server.member_id, "echo", {"text": "offline"}
        )
        assert record.content == "offline"


async def test_injected_502_is_html_and_recorded(server: FakeDiscord) -> None:
    server.fail_next("GET", r"/users/@me", status=502)
    async with aiohttp.ClientSession() as http:
        url, headers = f"{server.api_base}/users/@me", {"Authorization": "Bot x"}
        async with http.get(url, headers=headers) as resp:
            assert resp.status == 502 and resp.content_type == "text/html"
        async with http.get(url, headers=headers) as resp:
            assert resp.status == 200
    assert [(r.status, r.injected) for r in server.requests] == [(502, True), (200, False)]


async def test_user_message_attachments_are_downloadable(
    server: FakeDiscord, bot: ProbeBot
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(16)
    message = await server.send_message(
        server.channel_id,
        server.member_id,
        "sources attached",
        attachments=[ARTICLE, ("chart.png", png, "image/png")],
    )
    article = message["attachments"][0]
    assert article == {
        "id": ANY,
        "filename": "article.txt",
        "size": 13,
        "url": ANY,
        "proxy_url": article["url"],
        "content_type": "text/plain",
        "flags": 0,
    }
    prefix = f"{server.base_url}/attachments/{server.channel_id}/{article['id']}/article.txt?ex="
    assert article["url"].startswith(prefix)
    await server.wait_until(lambda: bot.seen, what="the message")
    seen = bot.seen[0].attachments
    assert [(a.filename, a.size, a.content_type) for a in seen] == [
        ("article.txt", 13, "text/plain"),
        ("chart.png", len(png), "image/png"),
    ]
    assert await seen[0].read() == b"Mosul retaken"
    assert await seen[1].read() == png
    async with aiohttp.ClientSession() as http, http.get(article["url"]) as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
    assert server.unknown_routes == []


async def test_bad_user_attachments_are_refused(server: FakeDiscord) -> None:
    with pytest.raises(ValueError, match="at most 10 attachments"):
        await server.send_message(server.channel_id, server.member_id, "", attachments=[ARTICLE] * 11)
    with pytest.raises(ValueError, match="over the"):
        big = ("big.bin", bytes(10 * 1024 * 1024 + 1), "application/octet-stream")
        await server.send_message(server.channel_id, server.member_id, "", attachments=[big])
    with pytest.raises(ValueError, match="expected"):
        await server.send_message(
            server.channel_id,
            server.member_id,
            "",
            attachments=["article.txt"],  # type: ignore[list-item]
        )
    assert server.messages == {}


async def test_attachments_follow_the_message_content_intent(server: FakeDiscord) -> None:
    async with running_bot(server, ProbeBot(message_content=False)) as bot:
        await server.send_message(server.channel_id, server.member_id, "", attachments=[ARTICLE])
        mention = f"<@{server.bot_user_id}> look"
        await server.send_message(server.channel_id, server.member_id, mention, attachments=[ARTICLE])
        dm = server.dm_channel(server.member_id)
        await server.send_message(dm.id, server.member_id, "", attachments=[ARTICLE])
        await server.wait_until(lambda: len(bot.seen) == 3, what="three messages")
        assert bot.seen[0].attachments == []  # blanked, like Discord
        assert [a.filename for a in bot.seen[1].attachments] == ["article.txt"]  # mentions the bot
        assert await bot.seen[2].attachments[0].read() == b"Mosul retaken"  # DMs are not blanked
    assert len(server.channel_messages(server.channel_id)[0]["attachments"]) == 1


async def test_slash_attachment_option(server: FakeDiscord, bot: ProbeBot) -> None:
    upload = server.command("upload")
    assert upload is not None and upload["options"][0]["type"] == 11
    record = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "upload", {"file": ARTICLE}
    )
    assert record.content == "article.txt text/plain Mosul retaken"
    data = record.payload["data"]
    assert data["options"] == [{"name": "file", "type": 11, "value": ANY}]
    attachment = data["resolved"]["attachments"][data["options"][0]["value"]]
    assert attachment["ephemeral"] is True and attachment["size"] == 13
    assert f"/ephemeral-attachments/{server.channel_id}/{attachment['id']}/" in attachment["url"]
    assert server.attachment_data[int(attachment["id"])] == b"Mosul retaken"
    with pytest.raises(ValueError, match="attachment option takes"):
        await server.invoke_slash(
            server.guild_id, server.channel_id, server.member_id, "upload", {"file": "x.txt"}
        )


async def test_modal_file_upload(server: FakeDiscord, bot: ProbeBot) -> None:
    opened = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "evidence"
    )
    assert opened.modal is not None
    files = [ARTICLE, ("b.txt", b"three", "text/plain")]
    submitted = await server.submit_modal(opened.modal["custom_id"], {"probe:proof": files})
    assert submitted.content == "article.txt=13 b.txt=5" and submitted.ephemeral
    data = submitted.payload["data"]
    proof = data["components"][0]["component"]
    assert proof == {"type": 19, "custom_id": "probe:proof", "values": [ANY, ANY]}
    assert sorted(data["resolved"]["attachments"]) == sorted(proof["values"])
    with pytest.raises(ValueError, match="at most 2"):
        await server.submit_modal(opened.modal["custom_id"], {"probe:proof": [ARTICLE] * 3})


async def test_default_member_permissions_are_enforced(server: FakeDiscord) -> None:
    guild = server.guild()
    admin_role = FakeRole(server.ids.world(), "Admin", discord.Permissions(administrator=True).value)
    guild.roles[admin_role.id] = admin_role
    admin = server.add_user("admin", guild_id=server.guild_id, roles=[admin_role.id])
    async with running_bot(server, ProbeBot()):
        purge, mod = server.command("purge"), server.command("mod")
        assert purge is not None and purge["default_member_permissions"] == str(MANAGE_MESSAGES)
        assert mod is not None and mod["default_member_permissions"] == str(BAN_MEMBERS)
        assert "default_member_permissions" not in mod["options"][0]  # only on the top level
        lockdown = server.command("lockdown")
        assert lockdown is not None and lockdown["default_member_permissions"] == "0"

        where = (server.guild_id, server.channel_id)
        with pytest.raises(PermissionError, match="manage_messages"):
            await server.invoke_slash(*where, server.member_id, "purge")
        with pytest.raises(PermissionError, match="/purge"):
            await server.autocomplete(*where, server.member_id, "purge", {}, "reason")
        with pytest.raises(PermissionError, match="ban_members"):
            await server.invoke_slash(*where, server.member_id, "mod", {"user": server.owner_id}, "warn")
        assert server.interactions == []  # nothing was dispatched
        record = await server.invoke_slash(*where, server.moderator_id, "purge", {"reason": "x"})
        assert record.content == "purged (x)"
        choices = await server.autocomplete(*where, server.moderator_id, "purge", {}, "reason")
        assert [c["value"] for c in choices] == ["spam", "abuse"]
        record = await server.invoke_slash(
            *where, server.moderator_id, "mod", {"user": server.member_id}, "warn"
        )
        assert record.content == "warned member"

        with pytest.raises(PermissionError, match="administrators only"):
            await server.invoke_slash(*where, server.moderator_id, "lockdown")
        for user in (server.owner_id, admin.id):
            assert (await server.invoke_slash(*where, user, "lockdown")).content == "locked"

        # A member overwrite grants Manage Messages in #mod-log only.
        mod_log = guild.channels[server.mod_channel_id]
        mod_log.overwrites.append(Overwrite(server.member_id, 1, allow=MANAGE_MESSAGES))
        record = await server.invoke_slash(
            server.guild_id, server.mod_channel_id, server.member_id, "purge"
        )
        assert record.content == "purged (None)"
        with pytest.raises(PermissionError):
            await server.invoke_slash(*where, server.member_id, "purge")
        # Without View Channel no command can be used there at all.
        mod_log.overwrites.append(Overwrite(server.guild_id, 0, deny=1 << 10))
        mod_log.overwrites[0].allow = 0
        with pytest.raises(PermissionError, match="View Channel"):
            await server.invoke_slash(
                server.guild_id, server.mod_channel_id, server.member_id, "echo", {"text": "x"}
            )


async def test_unenforced_permissions_reach_the_bot_check() -> None:
    async with (
        fake_discord(enforce_command_permissions=False) as server,
        running_bot(server, ProbeBot()),
    ):
        record = await server.invoke_slash(
            server.guild_id, server.channel_id, server.member_id, "purge"
        )
        assert record.content == "missing manage_messages" and record.ephemeral
        dm = server.dm_channel(server.member_id)
        record = await server.invoke_slash(None, dm.id, server.member_id, "guildonly")
        assert record.responded
        assert server.errors == []


async def test_guild_only_command_in_dms(server: FakeDiscord, bot: ProbeBot) -> None:
    command = server.command("guildonly")
    assert command is not None
    assert (command["dm_permission"], command["contexts"]) == (False, [0])
    dm = server.dm_channel(server.member_id)
    with pytest.raises(PermissionError, match="DM"):
        await server.invoke_slash(None, dm.id, server.member_id, "guildonly")
    assert server.interactions == []
    record = await server.invoke_slash(None, dm.id, server.member_id, "echo", {"text": "dm"})
    assert record.content == "dm" and record.payload["context"] == 1
    record = await server.invoke_slash(
        server.guild_id, server.channel_id, server.member_id, "guildonly"
    )
    assert record.content == "in a guild"


async def test_dm_permission_false_without_contexts(server: FakeDiscord) -> None:
    server.register_commands([{"name": "legacy", "description": "Old style", "dm_permission": False}])
    dm = server.dm_channel(server.member_id)
    with pytest.raises(PermissionError, match="a DM with the bot"):
        await server.invoke_slash(None, dm.id, server.member_id, "legacy")
    with pytest.raises(RuntimeError, match="no gateway session"):  # allowed, but no bot is up
        await server.invoke_slash(server.guild_id, server.channel_id, server.member_id, "legacy")
