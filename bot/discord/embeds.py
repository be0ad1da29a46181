"""Discord rendering of an ``Answer``: a list of embed pages that never exceed Discord's limits.

Discord rejects a message with HTTP 400 when an embed's title passes 256 characters, its description
4096, a field 1024, the footer 2048, or all of it 6000. Rather than trimming at the end, pages are
filled fact by fact while a budget lasts, so that whatever the store holds (500 facts about one place,
a 300-character summary full of markdown) every page fits and nothing is cut mid-fact.

All dynamic text is escaped: markdown in a fact or in echoed input cannot restyle or spoof the reply.
Mentions are neutralised bot-wide by ``AllowedMentions.none()``; text is escaped as well so that a
reply never even looks like a ping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import assert_never

import discord

from bot.domain.model import FactView, PlaceRef, SourceRef
from bot.engine.answers import (
    Answer,
    ErrorCode,
    FailureAnswer,
    HelpAnswer,
    ListedSource,
    PlacesAnswer,
    PlaceSourcesAnswer,
    SearchAnswer,
    SourceAnswer,
    SourcesAnswer,
    StatusAnswer,
    TimelineAnswer,
)
from bot.engine.engine import place_context
from bot.render.text import fact_tag, place_title, source_line

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
FACTS_PER_PAGE = 8
"""Fewer facts than the limits would allow: a page should be readable on a phone."""
DESCRIPTION_BUDGET = 3500

COLOURS = {"status": 0xC0392B, "timeline": 0x2C3E50, "search": 0x16A085, "error": 0x7F8C8D}
FOOTER = "sitrep · every fact quotes its source"


_SPECIAL = re.compile(r"([\\*_~`|>#\[\]<@])")


def escape(text: str) -> str:
    """Escape every character Discord gives a meaning (markdown, masked links, mentions, custom
    emoji and timestamps need a "<") in text that is not ours to style. A backslash before punctuation is
    always consumed by Discord, so the reader sees the text as written. discord.py's own
    ``escape_markdown`` leaves text after a URL unescaped, which is not good enough here."""
    return _SPECIAL.sub(r"\\\1", text)


def snippet(text: str) -> str:
    """A search snippet: FTS5 marks hits with ``**``; keep those as bold, escape the rest."""
    parts = text.replace("\n", " ").split("**")
    return cut("".join(escape(p) if i % 2 == 0 else f"**{escape(p)}**"
                       for i, p in enumerate(parts)),
               300)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(slots=True)
class Page:
    embed: discord.Embed


def _title(place: PlaceRef, as_of: date | None = None, sources: Sequence[SourceRef] = ()) -> str:
    return cut(place_title(place, as_of, sources), TITLE_MAX)


def _fact_entry(fact: FactView, number: int, place_id: str | None, quote: bool) -> str:
    text = escape(fact.summary)
    if place_id and fact.place.id != place_id and fact.place.name.casefold() not in \
            fact.summary.casefold():
        text = f"{escape(fact.place.name)}: {text}"
    if fact.contradicts:
        text += " *(contradicted by another report)*"
    line = f"**{fact.event_date.label}** · {text} {fact_tag(fact, number)}"
    if quote:
        line += f"\n> “{cut(escape(fact.quote), 300)}”" if fact.quote else "\n> (no quote recorded)"
    return line


def _sources_field(sources: list[tuple[int, SourceRef]]) -> str:
    lines = []
    for number, src in sources:
        described = source_line(number, src).split(" · ")[0].removeprefix(f"[{number}] ")
        line = f"[{number}] {escape(described)}"
        if src.url:
            line = f"{line} · [link](<{src.url}>)"
        lines.append(line)
    value = "\n".join(lines)
    while len(value) > FIELD_VALUE_MAX and lines:
        lines.pop()
        value = "\n".join([*lines, "…"])
    return value


def _embed(title: str | None, description: str, colour: int) -> discord.Embed:
    return discord.Embed(title=title, description=cut(description, DESCRIPTION_MAX), colour=colour)


def _finish(embed: discord.Embed, footer: str) -> discord.Embed:
    embed.set_footer(text=cut(footer, FOOTER_MAX))
    assert len(embed) <= EMBED_TOTAL_MAX, len(embed)
    return embed


def render_embeds(answer: Answer) -> list[discord.Embed]:
    """One embed per page; a single page for short answers."""
    match answer:
        case StatusAnswer():
            head = [f"**{escape(answer.headline)}** [1]"] if answer.headline else []
            numbers = _numbers(answer.sources)
            entries = [_fact_entry(f, numbers[f.source.id], answer.place.id, quote=i == 0)
                       for i, f in enumerate(answer.facts)]
            return _fact_pages(_title(answer.place, answer.as_of, answer.sources),
                               COLOURS["status"], [*head, *_notes(answer.notes)],
                               answer.facts, entries, answer.sources)
        case TimelineAnswer():
            numbers = _numbers(answer.sources)
            entries = [_fact_entry(f, numbers[f.source.id], answer.place.id, quote=False)
                       for f in answer.facts]
            return _fact_pages(_title(answer.place, answer.as_of, answer.sources),
                               COLOURS["timeline"], _notes(answer.notes), answer.facts, entries,
                               answer.sources)
        case SearchAnswer():
            numbers = _numbers(answer.sources)
            entries = [_fact_entry(hit.fact, numbers[hit.fact.source.id], None, quote=False)
                       + f"\n> {snippet(hit.snippet)}" for hit in answer.hits]
            return _fact_pages("Search", COLOURS["search"], [], answer.facts, entries,
                               answer.sources)
        case SourcesAnswer():
            return _listing_pages("Sources", _source_lines(answer.sources, ""),
                                  header=escape(answer.message))
        case PlaceSourcesAnswer():
            return _listing_pages(_title(answer.place),
                                  _source_lines(answer.sources, f" about {answer.place.name}"),
                                  header=escape(answer.message))
        case SourceAnswer():
            src = answer.source
            return _listing_pages("Source", [
                escape(source_line(1, src)),
                f"id `{src.id}` · {src.genre}" + (f" · [link](<{src.url}>)" if src.url else ""),
                escape(answer.message), "Places: " + escape(", ".join(answer.places) or "-")])
        case PlacesAnswer():
            return _listing_pages("Places", [
                f"**{escape(row.place.name)}** ({place_context(row.place) or '-'}): "
                f"{row.facts} fact(s), latest report "
                f"{row.latest.isoformat() if row.latest else '-'}" for row in answer.places],
                header=escape(answer.message))
        case HelpAnswer():  # our own text: usage in code spans, slash form beside it
            return _listing_pages("sitrep · help", [answer.message, "", *(
                f"`{answer.prefix}{c.usage}` or `/{c.usage}` — {c.summary}"
                for c in answer.commands)])
        case FailureAnswer():
            if answer.error is ErrorCode.NO_FACTS and answer.place is not None:
                embed = _embed(_title(answer.place), escape(answer.message), COLOURS["error"])
                return [_finish(embed, FOOTER)]
            return [_error_embed(answer)]
        case _:
            assert_never(answer)


def _numbers(sources: Sequence[SourceRef]) -> dict[str, int]:
    """Footnote numbers: ``sources[0]`` is [1]."""
    return {s.id: i for i, s in enumerate(sources, 1)}


def _notes(notes: list[str]) -> list[str]:
    return [f"*{escape(note)}*" for note in notes]


def _source_lines(sources: Sequence[ListedSource], counted: str) -> list[str]:
    return [f"{escape(source_line(i, s))} · {s.fact_count} fact(s){counted} · `{s.id}`"
            for i, s in enumerate(sources, 1)]


def _error_embed(answer: FailureAnswer) -> discord.Embed:
    text = escape(answer.message)
    if answer.suggestions:
        text += "\n\n" + "\n".join(f"• {escape(s.name)}"
                                   + (f" ({place_context(s)})" if place_context(s) else "")
                                   for s in answer.suggestions)
    embed = discord.Embed(description=cut(text, DESCRIPTION_MAX), colour=COLOURS["error"])
    return _finish(embed, "sitrep")


def _fact_pages(title: str, colour: int, head: list[str], facts: Sequence[FactView],
                entries: list[str], sources: Sequence[SourceRef]) -> list[discord.Embed]:
    """Pages of fact entries (``entries[i]`` shows ``facts[i]``), the head lines on the first,
    each page with the sources it cites; filled while the description's budget lasts."""
    numbers = _numbers(sources)
    pages: list[list[tuple[str, FactView]]] = [[]]
    size = sum(len(h) + 1 for h in head)
    for entry, fact in zip(entries, facts, strict=True):
        if pages[-1] and (len(pages[-1]) >= FACTS_PER_PAGE or size + len(entry) > DESCRIPTION_BUDGET):
            pages.append([])
            size = 0
        pages[-1].append((entry, fact))
        size += len(entry) + 2
    embeds = []
    for n, page in enumerate(pages, 1):
        body = "\n".join(head) + "\n\n" if n == 1 and head else ""
        body += "\n\n".join(e for e, _ in page)
        embed = _embed(title, body, colour)
        used = sorted({numbers[f.source.id] for _, f in page} | ({1} if n == 1 and head else set()))
        cited = [(i, sources[i - 1]) for i in used]
        if cited:
            embed.add_field(name="Sources", value=_sources_field(cited), inline=False)
        footer = FOOTER if len(pages) == 1 else f"Page {n}/{len(pages)} · {FOOTER}"
        embeds.append(_finish(embed, footer))
    return embeds


def _listing_pages(title: str, lines: list[str], *, header: str = "") -> list[discord.Embed]:
    """Pages of listing lines; ``header`` (escaped already) heads every page."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        line = cut(line, 1000)
        if pages[-1] and (size + len(line) > DESCRIPTION_BUDGET or len(pages[-1]) >= 20):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    out = []
    top = header + "\n\n" if header else ""
    for n, page in enumerate(pages, 1):
        footer = "sitrep" if len(pages) == 1 else f"Page {n}/{len(pages)} · sitrep"
        out.append(_finish(_embed(title, top + "\n".join(page), COLOURS["timeline"]), footer))
    return out
