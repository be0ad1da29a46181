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
from dataclasses import dataclass

import discord

from bot.domain.model import Answer, FactView, SourceRef
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


def clean(text: str) -> str:
    """Escape every character Discord gives a meaning (markdown, masked links, mentions, custom
    emoji and timestamps need a "<") in text that is not ours to style. A backslash before punctuation is
    always consumed by Discord, so the reader sees the text as written. discord.py's own
    ``escape_markdown`` leaves text after a URL unescaped, which is not good enough here."""
    return _SPECIAL.sub(r"\\\1", text)


def snippet(text: str) -> str:
    """A search snippet: FTS5 marks hits with ``**``; keep those as bold, escape the rest."""
    parts = text.replace("\n", " ").split("**")
    return cut("".join(clean(p) if i % 2 == 0 else f"**{clean(p)}**" for i, p in enumerate(parts)),
               300)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(slots=True)
class Page:
    embed: discord.Embed


def _title(answer: Answer) -> str:
    if answer.place is None:
        return {"search": "Search", "sources": "Sources", "source": "Source",
                "places": "Places", "help": "sitrep · help"}.get(answer.command, "sitrep")
    return cut(place_title(answer), TITLE_MAX)


def _fact_entry(fact: FactView, number: int, place_id: str | None, quote: bool) -> str:
    text = clean(fact.summary)
    if place_id and fact.place.id != place_id and fact.place.name.casefold() not in \
            fact.summary.casefold():
        text = f"{clean(fact.place.name)}: {text}"
    if fact.contradicts:
        text += " *(contradicted by another report)*"
    line = f"**{fact.event_date.label}** · {text} {fact_tag(fact, number)}"
    if quote:
        line += f"\n> “{cut(clean(fact.quote), 300)}”" if fact.quote else "\n> (no quote recorded)"
    return line


def _sources_field(sources: list[tuple[int, SourceRef]]) -> str:
    lines = []
    for number, src in sources:
        described = source_line(number, src).split(" · ")[0].removeprefix(f"[{number}] ")
        line = f"[{number}] {clean(described)}"
        if src.url:
            line = f"{line} · [link](<{src.url}>)"
        lines.append(line)
    value = "\n".join(lines)
    while len(value) > FIELD_VALUE_MAX and lines:
        lines.pop()
        value = "\n".join([*lines, "…"])
    return value


def _embed(answer: Answer, description: str, colour_key: str) -> discord.Embed:
    return discord.Embed(title=_title(answer), description=cut(description, DESCRIPTION_MAX),
                         colour=COLOURS.get(colour_key, COLOURS["timeline"]))


def _finish(embed: discord.Embed, footer: str) -> discord.Embed:
    embed.set_footer(text=cut(footer, FOOTER_MAX))
    assert len(embed) <= EMBED_TOTAL_MAX, len(embed)
    return embed


def render_embeds(answer: Answer) -> list[discord.Embed]:
    """One embed per page; a single page for short answers."""
    if answer.error and (answer.error != "no_facts" or answer.place is None):
        return [_error_embed(answer)]
    if answer.error == "no_facts":
        return [_finish(_embed(answer, clean(answer.message), "error"), FOOTER)]
    if answer.command in {"status", "timeline", "search"}:
        return _fact_pages(answer)
    return _listing_pages(answer)


def _error_embed(answer: Answer) -> discord.Embed:
    text = clean(answer.message)
    if answer.suggestions:
        text += "\n\n" + "\n".join(f"• {clean(s.name)}"
                                   + (f" ({place_context(s)})" if place_context(s) else "")
                                   for s in answer.suggestions)
    embed = discord.Embed(description=cut(text, DESCRIPTION_MAX), colour=COLOURS["error"])
    return _finish(embed, "sitrep")


def _fact_pages(answer: Answer) -> list[discord.Embed]:
    numbers = {s.id: i for i, s in enumerate(answer.sources, 1)}
    head: list[str] = []
    if answer.headline:
        head.append(f"**{clean(answer.headline)}** [1]")
    head.extend(f"*{clean(note)}*" for note in answer.notes)
    place_id = answer.place.id if answer.place else None
    entries = []
    for i, fact in enumerate(answer.facts):
        entry = _fact_entry(fact, numbers[fact.source.id], place_id,
                            quote=answer.command == "status" and i == 0)
        if answer.command == "search" and i < len(answer.lines):
            entry += f"\n> {snippet(answer.lines[i])}"
        entries.append((entry, fact))
    pages: list[list[tuple[str, FactView]]] = [[]]
    size = sum(len(h) + 1 for h in head)
    for entry, fact in entries:
        if pages[-1] and (len(pages[-1]) >= FACTS_PER_PAGE or size + len(entry) > DESCRIPTION_BUDGET):
            pages.append([])
            size = 0
        pages[-1].append((entry, fact))
        size += len(entry) + 2
    embeds = []
    for n, page in enumerate(pages, 1):
        body = "\n".join(head) + "\n\n" if n == 1 and head else ""
        body += "\n\n".join(e for e, _ in page)
        embed = _embed(answer, body, answer.command)
        used = sorted({numbers[f.source.id] for _, f in page} | ({1} if n == 1 and head else set()))
        cited = [(i, answer.sources[i - 1]) for i in used]
        if cited:
            embed.add_field(name="Sources", value=_sources_field(cited), inline=False)
        footer = FOOTER if len(pages) == 1 else f"Page {n}/{len(pages)} · {FOOTER}"
        embeds.append(_finish(embed, footer))
    return embeds


def _listing_pages(answer: Answer) -> list[discord.Embed]:
    lines: list[str] = []
    if answer.command == "sources":
        lines = [f"{clean(source_line(i, s))} · {line} · `{s.id}`"
                 for i, (s, line) in enumerate(zip(answer.sources, answer.lines, strict=False), 1)]
    elif answer.command == "source" and answer.sources:
        src = answer.sources[0]
        lines = [clean(source_line(1, src)), f"id `{src.id}` · {src.genre}"
                 + (f" · [link](<{src.url}>)" if src.url else ""),
                 clean(answer.message), "Places: " + clean(", ".join(answer.lines) or "-")]
    elif answer.command == "places":
        lines = [f"**{clean(p.name)}** ({place_context(p) or '-'}): {line}"
                 for p, line in zip(answer.suggestions, answer.lines, strict=False)]
    elif answer.command == "help":  # our own text: usage in code spans, slash form beside it
        lines = [answer.message, ""]
        for line in answer.lines:
            usage, _, summary = line.partition(" — ")
            lines.append(f"`{usage}` or `/{usage.lstrip(usage[:1])}` — {summary}")
    else:
        lines = [clean(answer.message), *(clean(line) for line in answer.lines)]
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
    for n, page in enumerate(pages, 1):
        footer = "sitrep" if len(pages) == 1 else f"Page {n}/{len(pages)} · sitrep"
        header = clean(answer.message) + "\n\n" if answer.command in {"sources", "places"} else ""
        out.append(_finish(_embed(answer, header + "\n".join(page), "timeline"), footer))
    return out
