"""Plain-text rendering of an ``Answer``, for the console and ``sitrep ask``.

The layout follows DESIGN.md's status example: a title line with the place and "as of", the headline,
one line per fact with its date label and footnote, then the numbered sources.
"""

from __future__ import annotations

import textwrap

from bot.domain.model import Answer, DateSpec, FactView, SourceRef
from bot.engine.engine import place_context

DATE_WIDTH = 16
WIDTH = 100


def source_line(number: int, source: SourceRef) -> str:
    who = source.outlet
    if source.author:
        who += f" ({source.author}{', opinion' if source.genre == 'opinion' else ''})"
    elif source.genre in {"opinion", "blog"}:
        who += f" ({source.genre})"
    return f"[{number}] {who}, {source.published_label} · {source.title}"


def fact_tag(fact: FactView, footnote: int) -> str:
    """"[2 · opinion column]": the footnote, with the kind of statement where it is not a report."""
    marks = []
    if fact.modality in {"opinion", "speculation", "analysis"}:
        marks.append("opinion column" if fact.source.genre == "opinion" and
                     fact.modality == "opinion" else fact.modality)
    if fact.hedged:
        marks.append("hedged")
    if fact.origin == "added":
        marks.append("added by a moderator")
    return f"[{footnote}{''.join(' · ' + m for m in marks)}]"


def fact_line(fact: FactView, footnote: int, place_id: str | None) -> str:
    text = fact.summary
    if place_id and fact.place.id != place_id and fact.place.name.casefold() not in \
            text.casefold():
        text = f"{fact.place.name}: {text}"
    if fact.contradicts:
        text += " (contradicted by another report)"
    body = textwrap.wrap(f"{text} {fact_tag(fact, footnote)}", WIDTH - DATE_WIDTH)
    label = fact.event_date.label.ljust(DATE_WIDTH)
    lines = [label + body[0]] + [" " * DATE_WIDTH + b for b in body[1:]]
    return "\n".join(lines)


def render_text(answer: Answer) -> str:
    out: list[str] = []
    if answer.error and (answer.error != "no_facts" or not answer.place):
        out.append(answer.message)
        if answer.suggestions:
            out.append("Did you mean: " + ", ".join(
                f"{s.name}{f' ({place_context(s)})' if place_context(s) else ''}"
                for s in answer.suggestions))
        return "\n".join(out)
    if answer.place:
        out.append(place_title(answer))
    if answer.error == "no_facts":
        out.append(answer.message)
        return "\n".join(out)
    if answer.headline:
        out.append(answer.headline + " [1]")
    out.extend(answer.notes)
    numbers = {s.id: i for i, s in enumerate(answer.sources, 1)}
    if answer.facts:
        out.append("")
        if answer.command == "search":
            for fact, snip in zip(answer.facts, answer.lines, strict=False):
                out.append(f"{fact.place.name} · {fact.event_date.label} · "
                           f"{snip.replace(chr(10), ' ')} {fact_tag(fact, numbers[fact.source.id])}")
        else:
            place_id = answer.place.id if answer.place else None
            out.extend(fact_line(f, numbers[f.source.id], place_id) for f in answer.facts)
    if answer.sources and answer.command != "sources":
        out.append("")
        out.extend(source_line(i, s) for i, s in enumerate(answer.sources, 1))
        if answer.command == "source":
            src = answer.sources[0]
            out.append(f"    id {src.id} · {src.genre} · {src.url or 'no link'}")
            out.append(f"    {answer.message} Places: {', '.join(answer.lines) or '-'}")
            return "\n".join(out)
    if answer.command == "sources":
        out.append(answer.message)
        for i, (s, line) in enumerate(zip(answer.sources, answer.lines, strict=False), 1):
            out.append(f"{source_line(i, s)} · {line} · id {s.id}")
    elif answer.command == "places":
        out.append(answer.message)
        out.extend(f"{p.name} ({place_context(p) or '-'}): {line}"
                   for p, line in zip(answer.suggestions, answer.lines, strict=False))
    elif answer.command == "help":
        out.append(answer.message)
        out.extend(answer.lines)
    elif answer.command in {"search", "timeline"}:
        out.insert(1 if answer.place else 0, answer.message)
    return "\n".join(out)


def place_title(answer: Answer) -> str:
    """"Mosul · Iraq, Nineveh · as of 9 Jul 2019": the title line of a place's answer, shared by
    the text and Discord renderers. "As of" reads as its source's publication date does."""
    assert answer.place is not None
    title = answer.place.name
    if place_context(answer.place):
        title += f" · {place_context(answer.place)}"
    if answer.as_of:
        label = next((s.published_label for s in answer.sources
                      if s.published == answer.as_of.isoformat()),
                     DateSpec.single_day(answer.as_of).label)
        title += f" · as of {label}"
    return title
