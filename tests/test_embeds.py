"""Discord rendering: every page within Discord's limits whatever the store holds, and dynamic
text escaped so that it cannot ping, restyle or spoof."""

import re
from datetime import date

import discord
import pytest

from bot.discord.embeds import render_embeds
from bot.domain.model import DateSpec, FactView, PlaceCounts, PlaceRef, SourceRef
from bot.engine import Engine
from bot.engine.answers import (
    Answer,
    ErrorCode,
    FailureAnswer,
    ListedSource,
    PlacesAnswer,
    SearchAnswer,
    SearchHit,
    SourcesAnswer,
    StatusAnswer,
    TimelineAnswer,
)
from bot.engine.commands import Command

LIMITS = {"title": 256, "description": 4096, "fields": 25, "field_name": 256, "field_value": 1024,
          "footer": 2048, "total": 6000}


def assert_within_limits(embed: discord.Embed) -> None:
    assert len(embed.title or "") <= LIMITS["title"]
    assert len(embed.description or "") <= LIMITS["description"]
    assert len(embed.fields) <= LIMITS["fields"]
    for field in embed.fields:
        assert len(field.name or "") <= LIMITS["field_name"]
        assert len(field.value or "") <= LIMITS["field_value"]
    assert len(embed.footer.text or "") <= LIMITS["footer"]
    assert len(embed) <= LIMITS["total"]


def _source(i: int) -> SourceRef:
    return SourceRef(id=f"src-{i:03d}", outlet="O" * 120, title="T" * 300, genre="opinion",
                     author="A" * 80, url=f"https://example.org/{'x' * 200}/{i}",
                     published="2017-03-10", published_label="c. 10 Mar 2017")


def _hostile_fact(i: int, place: PlaceRef) -> FactView:
    summary = ("**bold** @everyone <@&123> ||spoiler|| `code` [link](https://evil) " * 6)[:300]
    return FactView(
        id=f"f{i}", place=place, summary=summary, quote="“" + "q" * 600 + "”", status="surrounded",
        attribution="x" * 200, hedged=True, modality="opinion",
        event_date=DateSpec.model_validate("2017-03-08/2017-03-13"), as_of=date(2017, 3, 10),
        source=_source(i % 40))


@pytest.mark.parametrize("command", ["status", "timeline", "search"])
def test_500_hostile_facts_paginate_within_limits(command: str) -> None:
    place = PlaceRef(id="p", name="N" * 300, country="IQ", governorate="G" * 300)
    facts = [_hostile_fact(i, place) for i in range(500)]
    sources = list({f.source.id: f.source for f in facts}.values())
    answer: Answer
    if command == "status":
        answer = StatusAnswer(query="q", place=place, as_of=date(2017, 3, 10), headline="H" * 400,
                              facts=facts, sources=sources, notes=["n" * 300] * 3, message="")
    elif command == "timeline":
        answer = TimelineAnswer(query="q", place=place, as_of=date(2017, 3, 10), facts=facts,
                                sources=sources, notes=["n" * 300] * 3, message="")
    else:
        answer = SearchAnswer(query="q", hits=[SearchHit(fact=f, snippet="s" * 500) for f in facts],
                              sources=sources, message="")
    pages = render_embeds(answer)
    assert len(pages) > 10
    for page in pages:
        assert_within_limits(page)
        text = (page.description or "") + "".join(f.value or "" for f in page.fields)
        assert not re.search(r"(?<!\\)@everyone|(?<!\\)<(?!https)", text)
        assert "**bold**" not in text and "||spoiler||" not in text  # data cannot style replies
    shown = sum((p.description or "").count("**14 Mar") + (p.description or "").count("**8–13")
                for p in pages)
    assert shown == 500  # every fact is on some page, none lost


def test_listings_and_errors_within_limits() -> None:
    many = [_source(i) for i in range(300)]
    for answer in [
        SourcesAnswer(query="", sources=[ListedSource(**dict(s), fact_count=9) for s in many],
                      message=""),
        PlacesAnswer(query="", places=[PlaceCounts(PlaceRef(id=f"p{i}", name="P" * 100), 3, None)
                                       for i in range(300)], message=""),
        FailureAnswer(command=Command.STATUS, query="x" * 100, error=ErrorCode.UNKNOWN_PLACE,
                      message="m" * 5000, suggestions=[PlaceRef(id="a", name="A" * 100)] * 5),
    ]:
        for page in render_embeds(answer):
            assert_within_limits(page)


async def test_real_answers_render_within_limits(engine: Engine) -> None:
    for text in ["!status Mosul", "!timeline Mosul", "!search surrounded", "!sources",
                 "!source 002", "!places", "!help", "!status Kirkuk", "!status Atlantis"]:
        for page in render_embeds(await engine.ask(text)):
            assert_within_limits(page)


async def test_status_embed_reads_like_the_design(engine: Engine) -> None:
    [page] = render_embeds(await engine.status("Mosul"))
    assert page.title == "Mosul · Iraq, Nineveh · as of 9 Jul 2019"
    desc = page.description or ""
    assert desc.startswith("**Recaptured: Mosul, ISIS's former de facto capital, has been liberated.** [1]")
    assert "“the liberation of Mosul, ISIS’ former de facto capital”" in desc
    assert "**by Mar 2017**" in desc and "opinion column" in desc
    sources = page.fields[0].value or ""
    assert sources.startswith("[1] Al-Shahid / Witness, 9 Jul 2019")
