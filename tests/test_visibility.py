"""What a server sees, asked every way it can be asked (status, timeline, search, sources, source,
places, fact list, autocomplete, the JSON and CSV exports).

The rule is one: a server sees the shared facts minus those it retired, plus its own live facts,
and nothing of another server. Every read path (answers, moderator listings, autocomplete,
exports) must agree on it after every kind of change a server can make; a path that restated the
rule on its own once counted a retired fact in ``sources``."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from fakediscord import FakeDiscord

from bot.discord.app import SitrepBot
from bot.engine import Engine
from bot.engine.answers import (
    PlacesAnswer,
    SearchAnswer,
    SourceAnswer,
    SourcesAnswer,
    StatusAnswer,
    TimelineAnswer,
)
from bot.services.moderation import ModerationService
from tests.test_discord_e2e import embed_text
from tests.test_discord_moderation import say, second_guild
from tests.test_discord_moderation import server as server

SHARED_FACT = "mosul-attack-timetable-000"
ITS_SOURCE = "000_c4c1ae3a7b28d96c"


async def _source_count(server: FakeDiscord, channel: int | None = None) -> int:
    reply = await say(server, "!sources", server.member_id, channel)
    text = " ".join(embed_text(e) for e in reply["embeds"])
    found = re.search(rf"· (\d+) fact\(s\) · `{ITS_SOURCE}`", text)
    assert found, text
    return int(found[1])


async def test_sources_counts_one_fewer_after_a_server_retires_a_shared_fact(
        server: FakeDiscord, bot: SitrepBot) -> None:
    """End to end through discord.py: a moderator retires one shared fact of a source; that
    server's ``!sources`` counts one fewer for it, the other server's count does not move."""
    _, other_channel = second_guild(server)
    before = await _source_count(server)
    assert await _source_count(server, other_channel) == before
    reply = await say(server, f"!fact retire {SHARED_FACT}")
    assert f"fact `{SHARED_FACT}` retired" in reply["content"]
    assert await _source_count(server) == before - 1
    assert await _source_count(server, other_channel) == before
    await say(server, f"!fact restore {SHARED_FACT}")
    assert await _source_count(server) == before


# ------------------------------------------------------------------------------ every read path
A, B, MOD = 111, 222, 5
WORD = "Zebrafinch"
"""In no curated fact: what a server adds is found by it."""


@dataclass
class Seen:
    """Every read path's idea of what one server sees, as fact ids or counts."""

    timeline: set[str]
    fact_list: set[str]
    status_count: int
    status_facts: set[str]
    search: set[str]
    shared_search: set[str]
    sources: dict[str, int]
    source_counts: dict[str, int]
    places: dict[str, int]
    autocomplete: set[str]
    resolves_alias: bool
    csv: list[dict[str, str]]
    export: dict[str, Any]

    def csv_ids(self, place_ids: set[str] | None = None) -> set[str]:
        return {r["fact_id"] for r in self.csv if place_ids is None or r["place_id"] in place_ids}


async def _seen(mod: ModerationService, guild: int, alias: str) -> Seen:
    engine = mod.engine
    timeline = await engine.timeline("Mosul", guild)
    listing = await engine.timeline("", guild, place_id="mosul")  # what `fact list` shows
    status = await engine.status("Mosul", guild)
    assert isinstance(timeline, TimelineAnswer) and isinstance(listing, TimelineAnswer)
    assert isinstance(status, StatusAnswer)
    found = await engine.search(WORD, guild)
    shared = await engine.search("timetable", guild)
    sources = await engine.sources(guild)
    assert isinstance(sources, SourcesAnswer)
    counts = {}
    for src in sources.sources:
        one = await engine.source(src.id, guild)
        assert isinstance(one, SourceAnswer)
        counts[src.id] = one.fact_count
    places = await engine.places(guild)
    assert isinstance(places, PlacesAnswer)
    resolver = await engine.resolver(guild)
    aliased = await engine.status(alias, guild)
    return Seen(
        timeline={f.id for f in timeline.facts}, fact_list={f.id for f in listing.facts},
        status_count=int(re.match(r"(\d+) fact", status.message)[1]),  # type: ignore[index]
        status_facts={f.id for f in status.facts},
        search={h.fact.id for h in found.hits} if isinstance(found, SearchAnswer) else set(),
        shared_search={h.fact.id for h in shared.hits} if isinstance(shared, SearchAnswer)
        else set(),
        sources={s.id: s.fact_count for s in sources.sources}, source_counts=counts,
        places={p.place.id: p.facts for p in places.places},
        autocomplete={name for _, name in resolver.complete(alias[:6], 25)},
        resolves_alias=isinstance(aliased, StatusAnswer) and aliased.place.id == "mosul",
        csv=list(csv.DictReader(io.StringIO(await mod.export_csv(guild)))),
        export={k: v for k, v in (await mod.export_document(guild)).items()
                if k != "exported_at"})


def _agree(seen: Seen) -> None:
    """Every path tells the same story as the CSV export, which lists every visible fact."""
    mosul = {"mosul", "east-mosul", "west-mosul"}
    assert seen.timeline == seen.fact_list == seen.csv_ids(mosul)
    assert seen.status_count == len(seen.timeline) and seen.status_facts <= seen.timeline
    assert seen.search == {r["fact_id"] for r in seen.csv if WORD in r["summary"]}
    assert seen.shared_search == {r["fact_id"] for r in seen.csv if "timetable" in r["summary"]}
    assert seen.sources == seen.source_counts
    assert {k: n for k, n in seen.sources.items() if n} == Counter(r["source_id"] for r in seen.csv)
    assert seen.places == dict(Counter(r["place_id"] for r in seen.csv))


async def _add(mod: ModerationService) -> str:
    source = (await mod.add_source(A, MOD, title="Wire", outlet="Visibility Wire",
                                   published="2 March 2020")).key
    return (await mod.add_fact(A, MOD, place="Mosul", date_text="1 March 2020", source=source,
                               summary=f"{WORD} report of fighting in Mosul.")).key


async def _edit(mod: ModerationService) -> str:
    changes = await mod.edit_fact(A, MOD, SHARED_FACT, summary=f"{WORD} timetable, edited.")
    return changes[-1].key


async def _retire(mod: ModerationService) -> str:
    await mod.set_live(A, MOD, SHARED_FACT, False)
    return SHARED_FACT


async def _restore(mod: ModerationService) -> str:
    await mod.set_live(A, MOD, SHARED_FACT, False)
    await mod.set_live(A, MOD, SHARED_FACT, True)
    return SHARED_FACT


async def _alias(mod: ModerationService) -> str:
    await mod.add_alias(A, MOD, "Mosul", f"{WORD} City")
    return ""


async def _undo(mod: ModerationService) -> str:
    added = await _add(mod)
    await mod.undo(A, MOD)
    return added


CHANGES = {"add": _add, "edit a shared fact": _edit, "retire": _retire, "restore": _restore,
           "alias": _alias, "undo": _undo}


@pytest.mark.parametrize("kind", list(CHANGES))
async def test_every_read_path_agrees_on_what_a_server_sees(kind: str, shipped: Engine) -> None:
    mod = await ModerationService.open(shipped)
    try:
        alias = f"{WORD} City"
        before_a, before_b = await _seen(mod, A, alias), await _seen(mod, B, alias)
        subject = await CHANGES[kind](mod)
        seen, other = await _seen(mod, A, alias), await _seen(mod, B, alias)
        for view in (before_a, seen, other):
            _agree(view)
        own = {f["id"]: f["live"] for f in seen.export["facts"]}
        if kind == "add":
            assert subject in seen.timeline and subject in seen.search and own[subject]
        elif kind == "edit a shared fact":
            assert subject in seen.timeline and SHARED_FACT not in seen.timeline
            assert SHARED_FACT in seen.export["hidden"] and own[subject]
        elif kind == "retire":
            assert subject not in seen.timeline and subject not in seen.shared_search
            assert seen.export["hidden"] == [subject]
            assert seen.status_count == before_a.status_count - 1
        elif kind == "restore":
            assert seen.timeline == before_a.timeline and seen.export["hidden"] == []
        elif kind == "alias":
            assert seen.resolves_alias and any(alias in name for name in seen.autocomplete)
            assert {"place": "mosul", "name": alias} in seen.export["names"]
        else:  # undo of an addition retires it: nothing shows, the export keeps it, not live
            assert subject not in seen.timeline and subject not in seen.search
            assert own[subject] is False
        if kind in {"add", "edit a shared fact", "retire"}:
            assert seen.csv_ids() != before_a.csv_ids()
        else:
            assert seen.csv_ids() == before_a.csv_ids()
        # the other server sees exactly what it saw before, on every path
        assert other == before_b
        assert not other.resolves_alias and not any(alias in n for n in other.autocomplete)
        assert other.export["facts"] == other.export["names"] == other.export["hidden"] == []
    finally:
        await mod.close()
