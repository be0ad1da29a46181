"""Plain-text rendering of an ``Answer``, for the console and ``sitrep ask``.

The layout is the README's status example: a title line with the place and "as of", the headline,
one line per fact with its date label and footnote, then the numbered sources. Each answer type is
laid out by its own case of ``render_text``, so a type without one is a mypy error.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date
from typing import assert_never

from bot.domain.model import DateSpec, FactView, PlaceRef, SourceRef
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
    match answer:
        case StatusAnswer():
            head = [place_title(answer.place, answer.as_of, answer.sources)]
            if answer.headline:
                head.append(answer.headline + " [1]")
            return _with_facts([*head, *answer.notes], answer.facts, answer.sources,
                               answer.place.id)
        case TimelineAnswer():
            head = [place_title(answer.place, answer.as_of, answer.sources), answer.message,
                    *answer.notes]
            return _with_facts(head, answer.facts, answer.sources, answer.place.id)
        case SearchAnswer():
            numbers = _numbers(answer.sources)
            out = [answer.message, ""]
            out.extend(f"{hit.fact.place.name} · {hit.fact.event_date.label} · "
                       f"{hit.snippet.replace(chr(10), ' ')} "
                       f"{fact_tag(hit.fact, numbers[hit.fact.source.id])}"
                       for hit in answer.hits)
            out.append("")
            out.extend(source_line(i, s) for i, s in enumerate(answer.sources, 1))
            return "\n".join(out)
        case SourcesAnswer():
            return "\n".join([answer.message, *_listing(answer.sources, "")])
        case PlaceSourcesAnswer():
            return "\n".join([place_title(answer.place), answer.message,
                              *_listing(answer.sources, f" about {answer.place.name}")])
        case SourceAnswer():
            src = answer.source
            return "\n".join(["", source_line(1, src),
                              f"    id {src.id} · {src.genre} · {src.url or 'no link'}",
                              f"    {answer.message} Places: {', '.join(answer.places) or '-'}"])
        case PlacesAnswer():
            return "\n".join([answer.message, *(
                f"{row.place.name} ({place_context(row.place) or '-'}): {row.facts} fact(s), "
                f"latest report {row.latest.isoformat() if row.latest else '-'}"
                for row in answer.places)])
        case HelpAnswer():
            return "\n".join([answer.message, *(f"{answer.prefix}{c.usage} — {c.summary}"
                                                for c in answer.commands)])
        case FailureAnswer():
            if answer.error is ErrorCode.NO_FACTS and answer.place is not None:  # say which
                return "\n".join([place_title(answer.place), answer.message])
            out = [answer.message]
            if answer.suggestions:
                out.append("Did you mean: " + ", ".join(
                    f"{s.name}{f' ({place_context(s)})' if place_context(s) else ''}"
                    for s in answer.suggestions))
            return "\n".join(out)
        case _:
            assert_never(answer)


def _numbers(sources: Sequence[SourceRef]) -> dict[str, int]:
    return {s.id: i for i, s in enumerate(sources, 1)}


def _with_facts(head: list[str], facts: Sequence[FactView], sources: Sequence[SourceRef],
                place_id: str) -> str:
    """A place's answer: its head lines, a fact a line, then the numbered sources."""
    numbers = _numbers(sources)
    out = [*head, ""]
    out.extend(fact_line(f, numbers[f.source.id], place_id) for f in facts)
    out.append("")
    out.extend(source_line(i, s) for i, s in enumerate(sources, 1))
    return "\n".join(out)


def _listing(sources: Sequence[ListedSource], counted: str) -> list[str]:
    return [f"{source_line(i, s)} · {s.fact_count} fact(s){counted} · id {s.id}"
            for i, s in enumerate(sources, 1)]


def place_title(place: PlaceRef, as_of: date | None = None,
                sources: Sequence[SourceRef] = ()) -> str:
    """"Mosul · Iraq, Nineveh · as of 9 Jul 2019": the title line of a place's answer, shared by
    the text and Discord renderers. "As of" reads as its source's publication date does."""
    title = place.name
    if place_context(place):
        title += f" · {place_context(place)}"
    if as_of:
        label = next((s.published_label for s in sources if s.published == as_of.isoformat()),
                     DateSpec.single_day(as_of).label)
        title += f" · as of {label}"
    return title
