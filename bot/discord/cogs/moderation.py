"""Moderator commands on Discord: facts, names, places, sources, ingest and review, undo, watches,
the mod-log and export. Every command is hybrid (``!fact add place: Mosul ...`` and ``/fact add``).

Rights are declared once, for the whole cog: ``cog_check`` admits moderators only (prefix and slash
alike) and ``rights.declare`` gives every slash command the same default permission. The cog only
collects fields and shows results; ``bot.services.moderation.ModerationService`` checks and applies them.
Slash commands whose text is long open a form (a modal) for it when it was not given as an option.

The ``type: ignore[arg-type]`` on the decorators works around discord.py's decorator typing, as in
``bot.discord.cogs.questions``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import checks as rights
from bot.discord.change_embeds import candidate_embed, fact_embed, history_embed
from bot.discord.cogs.questions import place_choices
from bot.discord.embeds import cut, escape
from bot.discord.forms import Field, Form, ReviewView
from bot.discord.posts import Poster
from bot.domain.changes import Change, describe
from bot.domain.errors import Refused
from bot.domain.model import Status
from bot.domain.moderation import changed_fields, editable_text
from bot.domain.review import review_text
from bot.domain.shards import Shards
from bot.engine.answers import TimelineAnswer
from bot.services.inputs import InputError
from bot.services.moderation import ModerationService

if TYPE_CHECKING:
    from bot.discord.app import SitrepBot

log = logging.getLogger("sitrep.moderation")
Ctx = commands.Context["SitrepBot"]
MAX_ARTICLE_BYTES = 200_000
MAX_LISTED = 25
LIST_BUDGET = 1600
"""Characters of fact lines in one ``fact list`` reply, leaving room for its head line."""
MAX_UPLOAD_BYTES = 8_000_000
"""Below Discord's smallest upload limit for bots (10 MiB), with room for the request."""


class FactFields(commands.FlagConverter, case_insensitive=True):
    """``place: Mosul date: 17 Oct 2016 source: 2016-10-17-reuters summary: ...``"""

    place: str | None = commands.flag(default=None, description="The place, by exact name or id")
    date: str | None = commands.flag(
        default=None, description="When: 2016-10-17, 17 October 2016, March 2016, last Saturday")
    source: str | None = commands.flag(default=None, description="The source's id (see sources)")
    summary: str | None = commands.flag(default=None, description="What the source says, briefly")
    quote: str | None = commands.flag(default=None, description="The source's own words")
    status: str | None = commands.flag(default=None, description="A situation label, or none")
    attribution: str | None = commands.flag(default=None, description="Who says so")
    hedged: str | None = commands.flag(default=None, description="yes if the source hedges")


class PlaceFields(commands.FlagConverter, case_insensitive=True):
    name: str = commands.flag(description="The place's name")
    kind: str | None = commands.flag(default=None, description="city, town, village, ...")
    country: str | None = commands.flag(default=None, description="Two letters: IQ or SY")
    governorate: str | None = commands.flag(default=None, description="e.g. Nineveh")
    coordinates: str | None = commands.flag(default=None, description="lat, lon: 36.34, 43.13")


class SourceFields(commands.FlagConverter, case_insensitive=True):
    title: str = commands.flag(description="The article's title")
    outlet: str = commands.flag(description="Who published it, e.g. Reuters")
    published: str = commands.flag(description="When: 2016-10-17 or 17 October 2016")
    url: str | None = commands.flag(default=None, description="Link to the article")
    genre: str | None = commands.flag(default=None, description="news, wire, analysis, opinion, blog")
    author: str | None = commands.flag(default=None, description="The author, if named")


class ArticleFields(SourceFields, case_insensitive=True):
    text: str | None = commands.flag(default=None, description="The article's text (or attach it)")


class AliasFields(commands.FlagConverter, case_insensitive=True):
    name: str = commands.flag(description="The other name")
    place: str = commands.flag(description="The place it names, by exact name or id")


def _guild(ctx: Ctx | discord.Interaction) -> int:
    guild = ctx.guild
    assert guild is not None  # cog_check admits server members only
    return guild.id


class ModerationCog(commands.Cog, name="Moderation"):
    """Moderators keep the store current from inside Discord."""

    changes_the_store = True
    """A failure of the store during these commands means nothing was saved (``errors``)."""

    def __init__(self, bot: SitrepBot, service: ModerationService,
                 shards: Shards | None = None) -> None:
        """``shards``: those whose servers' mod-log and watch posts this process sends; by
        default the shards the bot holds, known once it is connected."""
        self.bot = bot
        self.service = service
        self.poster = Poster(bot, bot.runtime.delivery, service, shards)

    async def cog_load(self) -> None:
        rights.declare(self, self.bot.settings)
        self.poster.start()

    async def cog_unload(self) -> None:
        await self.poster.stop()

    async def cog_check(self, ctx: Ctx) -> bool:  # type: ignore[override]
        if ctx.guild is None:
            raise commands.NoPrivateMessage()
        rights.require_moderator(ctx.author, self.bot.settings)
        return True

    # ------------------------------------------------------------------ replies
    async def reply(self, ctx: Ctx | discord.Interaction, text: str,
                    embed: discord.Embed | None = None, file: discord.File | None = None) -> None:
        """Privately where Discord allows it (slash commands); the mod-log is the public record
        (``bot.discord.posts``)."""
        text = cut(text, 2000)
        embed_ = embed or discord.utils.MISSING
        file_ = file or discord.utils.MISSING
        if isinstance(ctx, discord.Interaction):
            if ctx.response.is_done():
                await ctx.followup.send(text, ephemeral=True, embed=embed_, file=file_)
            else:
                await ctx.response.send_message(text, ephemeral=True, embed=embed_, file=file_)
        else:
            await ctx.send(text, ephemeral=True, embed=embed_, file=file_)

    async def confirm(self, ctx: Ctx | discord.Interaction, changes: list[Change]) -> None:
        lines = [f"Done: {describe(c)}." for c in changes]
        fact_ids = [c.key for c in changes if c.leaves_live_fact]
        if fact_ids:
            lines.append(f"`fact show {fact_ids[-1]}` shows it; `undo` reverts your last change.")
        await self.reply(ctx, "\n".join(lines))

    # ------------------------------------------------------------------ fact
    @commands.hybrid_group(name="fact", description="Moderators: add, edit, retire and inspect facts")  # type: ignore[arg-type]
    async def fact(self, ctx: Ctx) -> None:
        p = self.bot.settings.prefix
        await self.reply(ctx, f"`{p}fact add|edit|retire|restore|history|show|list`; "
                              f"`{p}help` and the README have examples.")

    @fact.command(name="add", description="Add a fact (slash: a form opens for the long text)")  # type: ignore[arg-type]
    async def fact_add(self, ctx: Ctx, *, fields: FactFields) -> None:
        values = _flags(fields)
        if ctx.interaction is not None and not (values.get("summary") and values.get("date")):
            await ctx.interaction.response.send_modal(Form(
                "Add a fact", [
                    Field("date", "Date", values.get("date"), required=True, max_length=64,
                          placeholder="2016-10-17 · 17 October 2016 · March 2016 · last Saturday"),
                    Field("summary", "Summary", values.get("summary"), long=True, required=True),
                    Field("quote", "Quote (word for word)", values.get("quote"), long=True,
                          max_length=1000),
                    Field("attribution", "Attribution", values.get("attribution"), max_length=200),
                ],
                self._guarded(lambda i, typed: self._add_fact(i, {**values, **typed})),
                f"sitrep:fact-add:{ctx.interaction.id}"))
            return
        await self._add_fact(ctx, values)

    async def _add_fact(self, ctx: Ctx | discord.Interaction, values: dict[str, str | None]) -> None:
        change = await self.service.add_fact(
            _guild(ctx), _user(ctx), place=values.get("place"), date_text=values.get("date"),
            summary=values.get("summary"), source=values.get("source"), quote=values.get("quote"),
            status=values.get("status"), attribution=values.get("attribution"),
            hedged=values.get("hedged"))
        await self.confirm(ctx, [change])

    @fact.command(name="edit", description="Change a fact's fields (slash: a form opens)")  # type: ignore[arg-type]
    @app_commands.describe(fact_id="The fact's id (fact list <place> shows them)")
    async def fact_edit(self, ctx: Ctx, fact_id: str, *, fields: FactFields) -> None:
        values = {k: v for k, v in _flags(fields).items() if v is not None}
        if ctx.interaction is not None and not values:
            shown = editable_text((await self.service.fact(_guild(ctx), fact_id)).fact)
            await ctx.interaction.response.send_modal(Form(
                f"Edit fact {fact_id}", [
                    Field("date", "Date", shown["date"], required=True, max_length=64),
                    Field("summary", "Summary", shown["summary"], long=True, required=True),
                    Field("quote", "Quote (word for word)", shown["quote"], long=True,
                          max_length=1000),
                    Field("attribution", "Attribution", shown["attribution"], max_length=200),
                    Field("status", "Status", shown["status"], max_length=40),
                ],
                self._guarded(lambda i, typed: self._edit_fact(
                    i, fact_id, changed_fields(shown, typed))),
                f"sitrep:fact-edit:{ctx.interaction.id}"))
            return
        await self._edit_fact(ctx, fact_id, values)

    async def _edit_fact(self, ctx: Ctx | discord.Interaction, fact_id: str,
                         values: dict[str, str]) -> None:
        changes = await self.service.edit_fact(_guild(ctx), _user(ctx), fact_id, **values)
        await self.confirm(ctx, changes)

    @fact.command(name="retire", description="Retire a fact in this server (it can be restored)")  # type: ignore[arg-type]
    async def fact_retire(self, ctx: Ctx, fact_id: str) -> None:
        await self.confirm(ctx, [await self.service.set_live(_guild(ctx), ctx.author.id, fact_id,
                                                             False)])

    @fact.command(name="restore", description="Bring back a retired fact")  # type: ignore[arg-type]
    async def fact_restore(self, ctx: Ctx, fact_id: str) -> None:
        await self.confirm(ctx, [await self.service.set_live(_guild(ctx), ctx.author.id, fact_id,
                                                             True)])

    @fact.command(name="history", description="Every version of a fact: who changed it and when")  # type: ignore[arg-type]
    async def fact_history(self, ctx: Ctx, fact_id: str) -> None:
        changes = await self.service.history(_guild(ctx), fact_id)
        names = {c.actor: f"<@{c.actor}>" for c in changes}
        await self.reply(ctx, f"{len(changes)} change(s).",
                         embed=history_embed(fact_id, changes, names))

    @fact.command(name="show", description="One fact with its quote, source and state")  # type: ignore[arg-type]
    async def fact_show(self, ctx: Ctx, fact_id: str) -> None:
        stored = await self.service.fact(_guild(ctx), fact_id)
        place = await self.service.place_by_id(_guild(ctx), stored.fact.place)
        await self.reply(ctx, "", embed=fact_embed(stored, place.name if place else stored.fact.place))

    @fact.command(name="list", description="A place's facts with their ids, oldest first")  # type: ignore[arg-type]
    async def fact_list(self, ctx: Ctx, *, place: str) -> None:
        target = await self.service.place(_guild(ctx), place)
        answer = await self.bot.engine.timeline("", _guild(ctx), place_id=target.id)
        if not isinstance(answer, TimelineAnswer):  # no facts there (yet)
            await self.reply(ctx, f"No facts about {escape(target.name)} here.")
            return
        # newest last, as many as fit one message (Discord's 2,000 characters)
        lines: list[str] = []
        for f in reversed(answer.facts[-MAX_LISTED:]):
            line = f"`{f.id}` {f.event_date.label} · {escape(cut(f.summary, 90))}"
            if sum(len(x) + 1 for x in lines) + len(line) > LIST_BUDGET:
                break
            lines.insert(0, line)
        if not lines:
            await self.reply(ctx, f"No facts about {escape(target.name)} here.")
            return
        # the timeline's own message and notes say how many there are and which are shown
        head = escape(" ".join([answer.message, *answer.notes]))
        if len(answer.facts) > len(lines):
            head += f" The last {len(lines)} of those listed:"
        await self.reply(ctx, "\n".join([head, *lines]))

    # ------------------------------------------------------------------ names, places, sources
    @commands.hybrid_group(name="alias", description="Moderators: other names for places")  # type: ignore[arg-type]
    async def alias(self, ctx: Ctx) -> None:
        await self.reply(ctx, f"`{self.bot.settings.prefix}alias add name: Mossul place: Mosul` or "
                              f"`{self.bot.settings.prefix}alias remove Mossul`.")

    @alias.command(name="add", description="Another name for a place, in this server")  # type: ignore[arg-type]
    async def alias_add(self, ctx: Ctx, *, fields: AliasFields) -> None:
        change = await self.service.add_alias(_guild(ctx), ctx.author.id, fields.place, fields.name)
        await self.confirm(ctx, [change])

    @alias.command(name="remove", description="Remove a name this server added")  # type: ignore[arg-type]
    async def alias_remove(self, ctx: Ctx, *, name: str) -> None:
        await self.confirm(ctx, [await self.service.remove_alias(_guild(ctx), ctx.author.id, name)])

    @commands.hybrid_group(name="place", description="Moderators: places")  # type: ignore[arg-type]
    async def place(self, ctx: Ctx) -> None:
        await self.reply(ctx, f"`{self.bot.settings.prefix}place add name: ... country: IQ ...`.")

    @place.command(name="add", description="A new place, known in this server")  # type: ignore[arg-type]
    async def place_add(self, ctx: Ctx, *, fields: PlaceFields) -> None:
        change = await self.service.add_place(
            _guild(ctx), ctx.author.id, name=fields.name, kind=fields.kind,
            country=fields.country, governorate=fields.governorate, coordinates=fields.coordinates)
        await self.confirm(ctx, [change])

    @commands.hybrid_group(name="article", description="Moderators: register sources")  # type: ignore[arg-type]
    async def article(self, ctx: Ctx) -> None:
        """Named ``article`` because ``source`` is the readers' command that shows a source."""
        await self.reply(ctx, f"`{self.bot.settings.prefix}article add title: ... outlet: ... "
                              "published: ...`.")

    @article.command(name="add", description="Register a source article (by its link)")  # type: ignore[arg-type]
    async def article_add(self, ctx: Ctx, *, fields: SourceFields) -> None:
        change = await self.service.add_source(
            _guild(ctx), ctx.author.id, title=fields.title, outlet=fields.outlet,
            published=fields.published, url=fields.url, genre=fields.genre, author=fields.author)
        await self.confirm(ctx, [change])

    # ------------------------------------------------------------------ ingest and review
    @commands.hybrid_command(name="ingest", description="Moderators: propose facts from an article")  # type: ignore[arg-type]
    async def ingest(self, ctx: Ctx, file: discord.Attachment | None = None, *,
                     fields: ArticleFields) -> None:
        if file is None and ctx.interaction is None and ctx.message.attachments:
            file = ctx.message.attachments[0]
        text = await _article_text(file) if file else fields.text
        if not text and ctx.interaction is not None:
            await ctx.interaction.response.send_modal(Form(
                "Paste the article", [Field("text", "Article text", None, long=True, required=True,
                                            max_length=4000)],
                self._guarded(lambda i, typed: self._ingest(i, fields, typed["text"])),
                f"sitrep:ingest:{ctx.interaction.id}"))
            return
        if not text:
            raise InputError("Text: attach the article as a .txt file or give `text:`.")
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        await self._ingest(ctx, fields, text)

    async def _ingest(self, ctx: Ctx | discord.Interaction, fields: ArticleFields, text: str) -> None:
        done = await self.service.ingest(
            _guild(ctx), _user(ctx), text=text, title=fields.title, outlet=fields.outlet,
            published=fields.published, url=fields.url, genre=fields.genre, author=fields.author)
        p = self.bot.settings.prefix
        await self.reply(ctx, f"Registered source `{done.source.key}` and queued "
                              f"{done.candidates} candidate fact(s). `{p}review` goes through them.")

    @commands.hybrid_command(name="review", description="Moderators: go through candidate facts")  # type: ignore[arg-type]
    async def review(self, ctx: Ctx) -> None:
        embed, view = await self._next_card(_guild(ctx))
        if view is None:
            await self.reply(ctx, "The review queue is empty.")
            return
        assert embed is not None
        view.message = await ctx.send(embed=embed, view=view)

    async def _next_card(self, guild: int) -> tuple[discord.Embed | None, ReviewView | None]:
        waiting = await self.service.pending(guild)
        if not waiting:
            return None, None
        total = await self.service.count_pending(guild)
        view = ReviewView(waiting[0].id, self._decide, self.bot.settings)
        return candidate_embed(waiting[0], total), view

    async def _decide(self, interaction: discord.Interaction, candidate_id: int, action: str) -> None:
        guild, actor = _guild(interaction), interaction.user.id
        if action == "edit":
            shown = review_text(await self.service.candidate(guild, candidate_id))
            await interaction.response.send_modal(Form(
                f"Edit candidate #{candidate_id}", [
                    Field("summary", "Summary", shown["summary"], long=True, required=True),
                    Field("date", "Date", shown["date"], required=True, max_length=64),
                    Field("status", "Status", shown["status"], max_length=40),
                    Field("attribution", "Attribution", shown["attribution"], max_length=200),
                    Field("hedged", "Hedged (yes/no)", shown["hedged"], max_length=10),
                ],
                # only what the moderator changed: an untouched date keeps its basis and note
                self._guarded(lambda i, typed: self._approve(
                    i, candidate_id, changed_fields(shown, typed))),
                f"sitrep:review-edit:{candidate_id}:{interaction.id}"))
            return
        if action == "approve":
            await self._approve(interaction, candidate_id, None)
            return
        await self.service.reject(guild, actor, candidate_id)
        await self._show_next(interaction, f"Rejected candidate #{candidate_id}.")

    def _guarded(self, submit: Callable[[discord.Interaction, dict[str, str]], Awaitable[None]]
                 ) -> Callable[[discord.Interaction, dict[str, str]], Awaitable[None]]:
        """A form's submit handler that checks the rights again: a form stays open for minutes,
        and the member may have lost them meanwhile."""
        async def checked(interaction: discord.Interaction, typed: dict[str, str]) -> None:
            rights.require_moderator(interaction.user, self.bot.settings)
            await submit(interaction, typed)
        return checked

    async def _approve(self, interaction: discord.Interaction, candidate_id: int,
                       typed: dict[str, str] | None) -> None:
        change = await self.service.approve(_guild(interaction), interaction.user.id, candidate_id,
                                            dict(typed) if typed else None)
        await self._show_next(interaction, f"Approved candidate #{candidate_id} as fact "
                                           f"`{change.key}`.")

    async def _show_next(self, interaction: discord.Interaction, said: str) -> None:
        embed, view = await self._next_card(_guild(interaction))
        content = cut(said if view else f"{said} The review queue is empty.", 2000)
        await interaction.response.edit_message(content=content, embed=embed, view=view)
        if view is not None:
            view.message = interaction.message

    # ------------------------------------------------------------------ undo, changes
    @commands.hybrid_command(name="undo", description="Moderators: revert your last change here")  # type: ignore[arg-type]
    async def undo(self, ctx: Ctx) -> None:
        change = await self.service.undo(_guild(ctx), ctx.author.id)
        await self.reply(ctx, f"Reverted change #{change.reverts}: {describe(change)}.")

    @commands.hybrid_command(name="changes", description="Moderators: the latest changes here")  # type: ignore[arg-type]
    async def changes(self, ctx: Ctx) -> None:
        recent = await self.service.recent(_guild(ctx))
        lines = [f"#{c.id} {c.at[:16].replace('T', ' ')} <@{c.actor}> {describe(c)}" for c in recent]
        await self.reply(ctx, "\n".join(lines) if lines else "No changes yet in this server.")

    # ------------------------------------------------------------------ watches and the mod-log
    @commands.hybrid_command(name="watch", description="Moderators: post here when a place's facts change")  # type: ignore[arg-type]
    async def watch(self, ctx: Ctx, *, place: str) -> None:
        target, added = await self.service.watch(_guild(ctx), ctx.author.id, ctx.channel.id, place)
        await self.reply(ctx, f"This channel now watches {escape(target.name)}." if added else
                         f"This channel already watches {escape(target.name)}.")

    @commands.hybrid_command(name="unwatch", description="Moderators: stop watching a place here")  # type: ignore[arg-type]
    async def unwatch(self, ctx: Ctx, *, place: str) -> None:
        target, removed = await self.service.unwatch(_guild(ctx), ctx.channel.id, place)
        await self.reply(ctx, f"This channel no longer watches {escape(target.name)}." if removed
                         else f"This channel was not watching {escape(target.name)}.")

    @commands.hybrid_command(name="watches", description="Moderators: which channels watch which places")  # type: ignore[arg-type]
    async def watches(self, ctx: Ctx) -> None:
        found = await self.service.watches(_guild(ctx))
        lines = [f"<#{w.channel_id}> · {escape(w.place_name)}" for w in found[:MAX_LISTED]]
        await self.reply(ctx, "\n".join(lines) if lines else "No watches in this server.")

    @commands.hybrid_group(name="modlog", description="Moderators: where changes are logged")  # type: ignore[arg-type]
    async def modlog(self, ctx: Ctx) -> None:
        channel = await self.service.modlog(_guild(ctx))
        await self.reply(ctx, f"Changes are logged in <#{channel}>." if channel else
                         f"No mod-log: `{self.bot.settings.prefix}modlog set #channel` sets one.")

    @modlog.command(name="set", description="Log every change in this channel")  # type: ignore[arg-type]
    async def modlog_set(self, ctx: Ctx, channel: discord.TextChannel) -> None:
        if channel.guild.id != _guild(ctx):
            raise InputError("Channel: pick a channel of this server.")
        await self.service.set_modlog(_guild(ctx), channel.id)
        await self.reply(ctx, f"Changes will be logged in <#{channel.id}>.")

    @modlog.command(name="off", description="Stop logging changes")  # type: ignore[arg-type]
    async def modlog_off(self, ctx: Ctx) -> None:
        await self.service.set_modlog(_guild(ctx), None)
        await self.reply(ctx, "Changes are no longer logged.")

    # ------------------------------------------------------------------ export
    @commands.hybrid_command(name="export", description="Moderators: this server's facts as JSON or CSV")  # type: ignore[arg-type]
    @app_commands.choices(format=[app_commands.Choice(name="json", value="json"),
                                  app_commands.Choice(name="csv", value="csv")])
    async def export(self, ctx: Ctx, format: str = "json") -> None:
        guild = _guild(ctx)
        data = await self.service.export(guild, format)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InputError(f"Format: the {format} export is {len(data) // 1_000_000} MB, more "
                             "than Discord takes; run `sitrep export` on the server instead.")
        name = f"sitrep-{guild}.{format}"
        what = "this server's own sources, places, names and facts" if format == "json" else \
            "every fact this server sees, one row each"
        await self.reply(ctx, f"{name}: {what}.", file=discord.File(io.BytesIO(data), name))

    # ------------------------------------------------------------------ autocomplete
    @fact_add.autocomplete("place")
    @fact_list.autocomplete("place")
    @watch.autocomplete("place")
    @unwatch.autocomplete("place")
    async def _place_choices(self, interaction: discord.Interaction,
                             current: str) -> list[app_commands.Choice[str]]:
        return await place_choices(self.bot.engine, interaction, current)

    @fact_add.autocomplete("status")
    async def _status_choices(self, interaction: discord.Interaction,
                              current: str) -> list[app_commands.Choice[str]]:
        typed = current.casefold()
        return [app_commands.Choice(name=s.label, value=s.value) for s in Status
                if typed in s.label.casefold() or typed in s.value][:25]

    @fact_add.autocomplete("source")
    async def _source_choices(self, interaction: discord.Interaction,
                              current: str) -> list[app_commands.Choice[str]]:
        sources = await self.service.sources(interaction.guild_id or 0)
        typed = current.casefold()
        return [app_commands.Choice(name=cut(f"{s.id} · {s.outlet}", 100), value=s.id)
                for s in sources
                if typed in s.id.casefold() or typed in s.outlet.casefold()][:25]


def _user(ctx: Ctx | discord.Interaction) -> int:
    return ctx.user.id if isinstance(ctx, discord.Interaction) else ctx.author.id


def _flags(fields: FactFields) -> dict[str, str | None]:
    return {name: getattr(fields, name) for name in
            ("place", "date", "source", "summary", "quote", "status", "attribution", "hedged")}


async def _article_text(file: discord.Attachment) -> str:
    if file.size > MAX_ARTICLE_BYTES:
        raise InputError(f"Text: the file is larger than {MAX_ARTICLE_BYTES // 1000} kB.")
    if file.content_type and not file.content_type.startswith("text/"):
        raise InputError("Text: attach the article as a plain-text (.txt) file.")
    try:
        return (await file.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("Text: the file must be UTF-8 text.") from None
    except discord.HTTPException:
        raise InputError("Text: could not download the attachment; try again.") from None


__all__ = ["ModerationCog", "Refused"]
