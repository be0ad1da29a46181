"""Discord rendering of moderation: a change (for the mod-log and watches), a fact's history, a
fact card, and a review candidate. Everything dynamic is escaped and cut to Discord's limits like
the answers are (``bot.discord.embeds``)."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.embeds import DESCRIPTION_MAX, FIELD_VALUE_MAX, TITLE_MAX, cut, escape
from bot.domain.changes import Change, describe
from bot.domain.model import DateSpec, Status
from bot.domain.moderation import StoredFact
from bot.domain.review import ReviewItem

COLOURS = {"add": 0x27AE60, "edit": 0xF39C12, "retire": 0x7F8C8D, "undo": 0x8E44AD,
           "other": 0x2980B9}
MAX_HISTORY = 10


def _colour(change: Change) -> int:
    for word, colour in COLOURS.items():
        if word in change.action:
            return colour
    return COLOURS["other"]


def _date_label(state: dict[str, Any]) -> str:
    event = state.get("event")
    try:
        return DateSpec.model_validate(event).label if event else "undated"
    except ValueError:
        return "?"


def state_line(state: dict[str, Any] | None) -> str:
    """One line for a state in the log: a fact's date, summary and whether it is live."""
    if state is None:
        return "(none)"
    if "summary" in state:
        status = f"{Status(state['status']).label}: " if state.get("status") else ""
        live = "" if state.get("live", True) else " (retired)"
        return f"{_date_label(state)} · {status}{state['summary']}{live}"
    if "title" in state:
        return f"{state.get('outlet')} · {state['title']}"
    return ", ".join(f"{k}: {v}" for k, v in state.items() if v not in (None, ""))


def change_embed(change: Change, actor: str, place_names: dict[str, str]) -> discord.Embed:
    """The mod-log entry and the watch notice: what changed, by whom (``actor`` is already safe
    to show: a mention, which never pings inside an embed), before and after."""
    places = ", ".join(sorted(place_names.get(p, p) for p in change.place_ids))
    title = cut(f"{describe(change)}{f' · {places}' if places else ''}".replace("`", ""), TITLE_MAX)
    embed = discord.Embed(title=title, colour=_colour(change),
                          description=f"by {actor} · change #{change.id}")
    if change.before is not None:
        embed.add_field(name="Before", value=cut(escape(state_line(change.before)), FIELD_VALUE_MAX),
                        inline=False)
    if change.after is not None:
        embed.add_field(name="After", value=cut(escape(state_line(change.after)), FIELD_VALUE_MAX),
                        inline=False)
    embed.set_footer(text=f"{change.at} · undo with `undo` · history with `fact history`")
    return embed


def history_embed(fact_id: str, changes: list[Change], names: dict[int, str]) -> discord.Embed:
    """``names`` are how to show each actor, already safe (mentions, which embeds never ping)."""
    lines = []
    for change in changes[-MAX_HISTORY:]:
        who = names.get(change.actor, f"user {change.actor}")
        lines.append(f"**#{change.id}** {change.at[:16].replace('T', ' ')} · {who} · "
                     f"{change.action}\n→ {escape(state_line(change.after))}")
    more = len(changes) - MAX_HISTORY
    if more > 0:
        lines.insert(0, f"… {more} earlier version(s) not shown")
    return discord.Embed(title=cut(f"History of fact {fact_id}", TITLE_MAX), colour=COLOURS["other"],
                         description=cut("\n".join(lines) or "No changes recorded here: a shared "
                                         "fact as curated.", DESCRIPTION_MAX))


def fact_embed(stored: StoredFact, place_name: str) -> discord.Embed:
    fact = stored.fact
    status = f"{Status(fact.status).label}: " if fact.status else ""
    embed = discord.Embed(title=cut(f"Fact {fact.id} · {place_name}", TITLE_MAX),
                          colour=COLOURS["other"] if stored.live else COLOURS["retire"],
                          description=cut(f"**{fact.event.label}** · {escape(status + fact.summary)}"
                                          + (f"\n> “{escape(fact.quote)}”" if fact.quote else
                                             "\n> (no quote recorded)"), DESCRIPTION_MAX))
    embed.add_field(name="Source", value=cut(escape(fact.source), FIELD_VALUE_MAX))
    embed.add_field(name="Kept by", value="this server" if stored.owner else "shared store")
    embed.add_field(name="State", value="live" if stored.live else "retired here")
    if fact.attribution:
        embed.add_field(name="Attribution", value=cut(escape(fact.attribution), FIELD_VALUE_MAX))
    if fact.hedged:
        embed.add_field(name="Hedged", value="yes")
    return embed


def candidate_embed(candidate: ReviewItem, waiting: int) -> discord.Embed:
    """A review card: the sentence as quoted, and what the ingest guessed, for a moderator to
    approve as is, edit, or reject."""
    hints = candidate.hints
    embed = discord.Embed(
        title=cut(f"Candidate #{candidate.id} · {candidate.place_name}", TITLE_MAX),
        colour=COLOURS["edit"],
        description=cut(f"> “{escape(candidate.quote)}”\n\n**Summary:** {escape(candidate.summary)}",
                        DESCRIPTION_MAX))
    date_note = f" (from “{escape(hints['date'])}”)" if hints.get("date") else " (the report's date)"
    embed.add_field(name="Date", value=cut(candidate.event.label + date_note, FIELD_VALUE_MAX))
    embed.add_field(name="Status hint",
                    value=Status(candidate.status).label if candidate.status else "none")
    embed.add_field(name="Matched name", value=cut(escape(str(hints.get("name", "?"))), 200))
    if candidate.attribution:
        embed.add_field(name="Attribution", value=cut(escape(candidate.attribution), FIELD_VALUE_MAX))
    if hints.get("hedges"):
        embed.add_field(name="Hedges", value=cut(escape(", ".join(hints["hedges"])), FIELD_VALUE_MAX))
    embed.set_footer(text=f"source {candidate.source_id} · {waiting} candidate(s) waiting")
    return embed
