"""The engine's answers on the small fixture set: what status, timeline, search and the listings
say, and what they must never do (show one place's facts for another)."""

from datetime import date

import pytest

from bot.engine import Engine


async def test_status_leads_with_the_newest_substantive_report(engine: Engine) -> None:
    a = await engine.status("Mosul")
    assert a.error is None and a.place is not None and a.place.id == "mosul"
    assert a.as_of == date(2019, 7, 9)
    assert a.headline == "Recaptured: Mosul, ISIS's former de facto capital, has been liberated."
    assert a.facts[0].id == "mosul-liberation-2019"
    assert a.sources[0].id == "004_16783dbdafc97e8b"
    # the newest information is years old, and the answer says so plainly
    assert any("7 years old" in n for n in a.notes)


async def test_status_of_a_city_includes_its_parts_and_only_them(engine: Engine) -> None:
    a = await engine.status("Mosul")
    assert {f.place.id for f in a.facts} == {"mosul", "east-mosul", "west-mosul"}
    east = await engine.status("east Mosul")
    assert east.place is not None and east.place.id == "east-mosul"
    assert {f.place.id for f in east.facts} == {"east-mosul"}


async def test_status_keeps_hedges_and_labels_opinion(engine: Engine) -> None:
    a = await engine.status("Raqqa")
    assert a.headline == "Surrounded: It seems Raqqa is now essentially surrounded."
    assert a.facts[0].hedged
    assert "This comes from an opinion column (The Duran)." in a.notes
    assert "The source hedges this claim." in a.notes
    assert a.sources[0].published_label == "c. 10 Mar 2017"


async def test_timeline_is_chronological_by_event_date_with_precise_labels(
        engine: Engine) -> None:
    a = await engine.timeline("Mosul")
    assert [f.id for f in a.facts] == ["mosul-militias-offensive", "east-mosul-liberated",
                                       "west-mosul-surrounded", "mosul-liberation-2019"]
    assert [f.event_date.label for f in a.facts] == ["29 Oct 2016", "by Mar 2017",
                                                     "by 13 Mar 2017", "by Jul 2019"]


async def test_a_real_place_without_facts_says_so(engine: Engine) -> None:
    for ask in (engine.status, engine.timeline):
        a = await ask("Kirkuk")
        assert a.error == "no_facts" and a.place is not None and a.place.id == "kirkuk"
        assert a.facts == [] and "no facts" in a.message


@pytest.mark.parametrize("query", ["Atlantis", "Xyzzyville", "qqqq"])
async def test_an_unknown_name_gets_no_facts_never_another_places(engine: Engine,
                                                                  query: str) -> None:
    a = await engine.status(query)
    assert a.error == "unknown_place" and a.place is None and a.facts == []


async def test_a_person_is_not_a_place(engine: Engine) -> None:
    a = await engine.status("Abu Bakr al-Baghdadi")
    assert a.error == "not_a_place" and a.facts == [] and "ISIS leader" in a.message


async def test_a_misspelling_answers_and_says_what_it_showed(engine: Engine) -> None:
    a = await engine.status("Mosel")
    assert a.place is not None and a.place.id == "mosul"
    assert "Showing Mosul for “Mosel”." in a.notes


async def test_empty_and_hostile_queries_are_bad_input_or_unknown(engine: Engine) -> None:
    for query in ["", "   ", "\u200b\u202e", "'; DROP TABLE facts;--", "<@123> @everyone",
                  "x" * 10_000]:
        a = await engine.status(query)
        assert a.error in {"bad_input", "unknown_place"} and a.facts == []
        assert len(a.query) <= 100
    assert (await engine.status("Mosul")).facts  # the store is intact


async def test_search_ranks_facts_with_snippets_and_is_injection_safe(engine: Engine) -> None:
    a = await engine.search("surrounded")
    assert {f.id for f in a.facts} == {"raqqa-surrounded", "west-mosul-surrounded"}
    assert all("**surrounded**" in hit.snippet for hit in a.hits)
    assert (await engine.search("surro")).facts  # prefix match on the last word
    for hostile in ['" OR 1', "NEAR(a b)", "summary:*", "*", "\"'", "AND OR NOT"]:
        r = await engine.search(hostile)
        assert r.error in {None, "no_results", "bad_input"}
    assert (await engine.search("")).error == "bad_input"


async def test_sources_and_one_source(engine: Engine) -> None:
    a = await engine.sources()
    assert [s.id[:3] for s in a.sources] == ["001", "000", "003", "002", "004"]  # oldest first
    one = await engine.source("002")
    assert one.error is None and one.source.author == "Alexander Mercouris"
    assert set(one.places) == {"East Mosul", "West Mosul", "Raqqa"}
    assert (await engine.source("nope")).error == "unknown_source"


async def test_places_lists_those_with_facts(engine: Engine) -> None:
    a = await engine.places()
    assert [r.place.name for r in a.places] == ["East Mosul", "Mosul", "Ramadi", "Raqqa",
                                               "West Mosul"]


async def test_ask_parses_prefix_aliases_and_reports_usage(engine: Engine) -> None:
    assert (await engine.ask("!status Mosul")).place is not None
    assert (await engine.ask("status Mosul")).place is not None
    assert (await engine.ask("!S mosul")).command == "status"
    assert (await engine.ask("!tl Mosul")).command == "timeline"
    bad = await engine.ask("!frobnicate Mosul")
    assert bad.error == "bad_input" and "help" in bad.message
    usage = await engine.ask("!status")
    assert usage.error == "bad_input" and "status <place>" in usage.message
    assert (await engine.ask("!help")).commands


async def test_search_for_a_very_common_word_is_latest_added_first_not_ranked(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.store import queries

    ranked = await engine.search("Mosul")
    monkeypatch.setattr(queries, "RANK_AT_MOST", 1)  # every word now counts as very common
    latest = await engine.search("Mosul")
    assert {f.id for f in latest.facts} == {f.id for f in ranked.facts}
    order = {r[0]: r[1] for r in await engine.store.db.fetch("SELECT id, rowid FROM facts")}
    rowids = [order[f.id] for f in latest.facts]
    assert rowids == sorted(rowids, reverse=True) != [order[f.id] for f in ranked.facts]


async def test_a_timeline_longer_than_the_cap_says_what_it_shows(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.engine import engine as engine_module

    monkeypatch.setattr(engine_module, "TIMELINE_LIMIT", 2)
    a = await engine.timeline("Mosul")
    assert [f.id for f in a.facts] == ["mosul-militias-offensive", "east-mosul-liberated"]
    assert "Showing the oldest 2 of 4 facts" in a.notes[-1]


async def test_answers_are_cached_until_the_store_changes(engine: Engine) -> None:
    first = await engine.ask("!status Mosul")
    assert await engine.ask("!status  mosul") is first  # same question, same object
    await engine.store.db.execute("UPDATE facts SET summary = 'Changed.' "
                                  "WHERE id = 'mosul-liberation-2019'")
    assert await engine.ask("!status Mosul") is first  # no invalidation: still cached
    engine.invalidate()
    assert (await engine.ask("!status Mosul")).facts[0].summary == "Changed."
