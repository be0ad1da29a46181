"""The query commands on Discord (the questions people ask): one hybrid definition serves
``!status Mosul`` and ``/status place:Mosul``, and both reach the engine through
``Queries.answer``.

The ``type: ignore[arg-type]`` on each ``hybrid_command`` works around discord.py's decorator typing,
which mypy cannot solve for methods (the same code passes with ``commands.command``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, assert_never

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.embeds import render_embeds
from bot.discord.views import AnswerView, PlaceQuestion
from bot.engine.answers import Answer, place_of
from bot.engine.commands import COMMANDS, Command, ParsedCommand

if TYPE_CHECKING:
    from bot.discord.app import SitrepBot
    from bot.engine import Engine

log = logging.getLogger("sitrep.commands")

DEFER_AFTER = 2.0
"""Discord wants an interaction answered within 3 s: defer if the answer is not ready by then."""
AUTOCOMPLETE_LIMIT = 25
Ctx = commands.Context["SitrepBot"]


class RecentAnswers:
    """Per-channel memory of recent identical answers, so that ten people asking the same thing in
    a row get a pointer to the answer above instead of ten copies."""

    def __init__(self, seconds: float, capacity: int = 2048) -> None:
        self.seconds = seconds
        self.capacity = capacity
        self._seen: OrderedDict[tuple[int, str, str], tuple[float, str]] = OrderedDict()

    def recent(self, key: tuple[int, str, str]) -> str | None:
        hit = self._seen.get(key)
        if hit and time.monotonic() - hit[0] < self.seconds:
            return hit[1]
        return None

    def remember(self, key: tuple[int, str, str], url: str) -> None:
        self._seen[key] = (time.monotonic(), url)
        self._seen.move_to_end(key)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)


async def place_choices(engine: Engine, interaction: discord.Interaction,
                        current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for a place option: the names the asking server knows that start like what
    was typed, within Discord's limits (25 choices of at most 100 characters)."""
    resolver = await engine.resolver(interaction.guild_id or 0)
    seen: set[str] = set()
    choices = []
    for _, name in resolver.complete(current[:100], AUTOCOMPLETE_LIMIT):
        name = name[:100]
        if name and name not in seen:
            seen.add(name)
            choices.append(app_commands.Choice(name=name, value=name))
    return choices[:AUTOCOMPLETE_LIMIT]


def _author(ctx: Ctx) -> int:
    return ctx.author.id


class Queries(commands.Cog):
    """status, timeline, search, sources, source, places, help."""

    def __init__(self, bot: SitrepBot) -> None:
        self.bot = bot
        self.recent = RecentAnswers(bot.settings.same_answer_seconds)
        # One mapping per bot, shared by every query command. (A ``commands.cooldown`` decorator
        # would keep its buckets on the function, shared by every bot in the process.)
        self.cooldowns: commands.CooldownMapping[Ctx] = commands.CooldownMapping.from_cooldown(
            bot.settings.user_rate, bot.settings.user_per, _author)

    async def cog_check(self, ctx: Ctx) -> bool:  # type: ignore[override]
        """The per-user rate limit, for prefix and slash invocations alike."""
        bucket = self.cooldowns.get_bucket(ctx)
        retry_after = bucket.update_rate_limit() if bucket else None
        if retry_after:
            raise commands.CommandOnCooldown(bucket, retry_after, commands.BucketType.user)  # type: ignore[arg-type]
        return True

    async def _engine_answer(self, ctx: Ctx, command: Command, argument: str) -> Answer:
        guild = ctx.guild.id if ctx.guild else 0
        task = asyncio.ensure_future(self.bot.engine.run(ParsedCommand(command, argument), guild))
        if ctx.interaction is not None:
            done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
            if not done:
                await ctx.defer()
        return await task

    async def answer(self, ctx: Ctx, command: Command, argument: str = "") -> None:
        started = time.perf_counter()
        answer = await self._engine_answer(ctx, command, argument)
        place = place_of(answer)
        key_subject = place.id if place else argument.casefold()
        key = (ctx.channel.id, command, key_subject)
        earlier = self.recent.recent(key) if not answer.error else None
        if earlier is not None:
            await ctx.send(f"The same answer was posted moments ago: {earlier}", ephemeral=True,
                           suppress_embeds=True)
            self._log(ctx, command, answer, started, "same as recent")
            return
        pages = render_embeds(answer)
        view = AnswerView(answer, pages, ctx.author.id, self.ask_by_id, self.present)
        message = await ctx.send(embed=pages[0], view=view if view.children else discord.utils.MISSING)
        view.message = message
        if not answer.error:
            self.recent.remember(key, message.jump_url)
        self._log(ctx, command, answer, started)

    def _log(self, ctx: Ctx, command: Command, answer: Answer, started: float,
             extra: str = "") -> None:
        place = place_of(answer)
        log.info("guild=%s shard=%s command=%s place=%s error=%s latency_ms=%.1f%s",
                 ctx.guild.id if ctx.guild else "dm", ctx.guild.shard_id if ctx.guild else 0,
                 command,
                 place.id if place else "-", answer.error or "-",
                 (time.perf_counter() - started) * 1000, f" ({extra})" if extra else "")

    async def ask_by_id(self, question: PlaceQuestion, place_id: str, guild: int) -> Answer:
        engine = self.bot.engine
        match question:
            case PlaceQuestion.SOURCES:
                return await engine.place_sources("", guild, place_id=place_id)
            case PlaceQuestion.TIMELINE:
                return await engine.timeline("", guild, place_id=place_id)
            case PlaceQuestion.STATUS:
                return await engine.status("", guild, place_id=place_id)
            case _:
                assert_never(question)

    async def present(self, interaction: discord.Interaction, answer: Answer,
                      edit: bool) -> None:
        """Show an answer produced by a button: in place for the asker, privately otherwise."""
        pages = render_embeds(answer)
        view = AnswerView(answer, pages, interaction.user.id, self.ask_by_id, self.present)
        if edit:
            await interaction.response.edit_message(embed=pages[0], view=view)
            view.message = interaction.message
        else:
            await interaction.response.send_message(embed=pages[0], view=view, ephemeral=True)
            view.message = await interaction.original_response()
        place = place_of(answer)
        log.info("guild=%s shard=%s button=%s place=%s", interaction.guild_id or "dm",
                 interaction.guild.shard_id if interaction.guild else 0, answer.command,
                 place.id if place else "-")

    async def complete_place(self, interaction: discord.Interaction,
                             current: str) -> list[app_commands.Choice[str]]:
        return await place_choices(self.bot.engine, interaction, current)

    @commands.hybrid_command(name="status", aliases=list(COMMANDS[Command.STATUS].aliases),  # type: ignore[arg-type]
                             description=COMMANDS[Command.STATUS].summary)
    @app_commands.describe(place="A place name, for example Mosul")
    async def status(self, ctx: Ctx, *, place: str) -> None:
        await self.answer(ctx, Command.STATUS, place)

    @commands.hybrid_command(name="timeline", aliases=list(COMMANDS[Command.TIMELINE].aliases),  # type: ignore[arg-type]
                             description=COMMANDS[Command.TIMELINE].summary)
    @app_commands.describe(place="A place name, for example Ramadi")
    async def timeline(self, ctx: Ctx, *, place: str) -> None:
        await self.answer(ctx, Command.TIMELINE, place)

    @commands.hybrid_command(name="search", aliases=list(COMMANDS[Command.SEARCH].aliases),  # type: ignore[arg-type]
                             description=COMMANDS[Command.SEARCH].summary)
    @app_commands.describe(words="Words to look for in facts and quotes")
    async def search(self, ctx: Ctx, *, words: str) -> None:
        await self.answer(ctx, Command.SEARCH, words)

    @commands.hybrid_command(name="sources", description=COMMANDS[Command.SOURCES].summary)  # type: ignore[arg-type]
    async def sources(self, ctx: Ctx) -> None:
        await self.answer(ctx, Command.SOURCES)

    @commands.hybrid_command(name="source", description=COMMANDS[Command.SOURCE].summary)  # type: ignore[arg-type]
    @app_commands.describe(source_id="A source id, or its first digits (e.g. 002)")
    async def source(self, ctx: Ctx, *, source_id: str) -> None:
        await self.answer(ctx, Command.SOURCE, source_id)

    @commands.hybrid_command(name="places", description=COMMANDS[Command.PLACES].summary)  # type: ignore[arg-type]
    async def places(self, ctx: Ctx) -> None:
        await self.answer(ctx, Command.PLACES)

    @commands.hybrid_command(name="help", aliases=list(COMMANDS[Command.HELP].aliases),  # type: ignore[arg-type]
                             description=COMMANDS[Command.HELP].summary)
    async def help(self, ctx: Ctx) -> None:
        await self.answer(ctx, Command.HELP)

    @status.autocomplete("place")
    async def _status_place(self, interaction: discord.Interaction,
                            current: str) -> list[app_commands.Choice[str]]:
        return await self.complete_place(interaction, current)

    @timeline.autocomplete("place")
    async def _timeline_place(self, interaction: discord.Interaction,
                              current: str) -> list[app_commands.Choice[str]]:
        return await self.complete_place(interaction, current)
