"""ModerationService through ``bot.services.moderation``: every change is checked, logged, scoped to its
server, visible in the answers at once, and reversible. (The same flows through Discord are in
test_discord_moderation.py.)"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.domain.errors import Refused
from bot.engine import Engine
from bot.services.inputs import InputError
from bot.services.moderation import ModerationService
from tests.conftest import store_summary

A, B = 111, 222
"""Two servers."""
MOD, OTHER_MOD = 5, 6


@pytest.fixture
async def mod(shipped: Engine) -> AsyncIterator[ModerationService]:
    m = await ModerationService.open(shipped)
    yield m
    await m.close()


async def _source(mod: ModerationService, guild: int = A, published: str = "17 October 2016") -> str:
    change = await mod.add_source(guild, MOD, title="Iraqi forces push into Mosul outskirts",
                                  outlet="Test Wire", published=published,
                                  url="https://example.org/wire/1", genre="wire")
    return change.key




async def test_add_edit_retire_restore_change_the_answers(mod: ModerationService) -> None:
    engine = mod.engine
    src = await _source(mod, published="2 March 2020")  # newer than every shipped report
    before = await engine.status("Mosul", A)
    added = await mod.add_fact(A, MOD, place="Mosul", date_text="1 March 2020",
                               summary="Iraqi forces launched the offensive on Mosul.", source=src,
                               status="offensive launched")
    fact_id = added.key
    status = await engine.status("Mosul", A)
    assert status.facts[0].id == fact_id and status.headline == (
        "Offensive launched: Iraqi forces launched the offensive on Mosul.")
    assert status.facts[0].origin == "added"
    timeline = await engine.timeline("Mosul", A)
    assert fact_id in [f.id for f in timeline.facts]
    assert next(f for f in timeline.facts if f.id == fact_id).event_date.label == "1 Mar 2020"

    await mod.edit_fact(A, MOD, fact_id, summary="Iraqi and Kurdish forces began the Mosul offensive.")
    assert (await engine.status("Mosul", A)).facts[0].summary.startswith("Iraqi and Kurdish")

    await mod.set_live(A, MOD, fact_id, False)
    assert fact_id not in [f.id for f in (await engine.timeline("Mosul", A)).facts]
    assert (await engine.status("Mosul", A)).model_dump() == before.model_dump()
    await mod.set_live(A, MOD, fact_id, True)
    assert fact_id in [f.id for f in (await engine.timeline("Mosul", A)).facts]

    history = await mod.history(A, fact_id)
    assert [c.action for c in history] == ["fact.add", "fact.edit", "fact.retire", "fact.restore"]
    assert history[1].before and history[1].before["summary"].startswith("Iraqi forces launched")
    assert history[1].after and history[1].after["summary"].startswith("Iraqi and Kurdish")
    assert all(c.actor == MOD and c.at for c in history)


async def test_another_server_sees_none_of_it_whatever_ids_it_uses(mod: ModerationService) -> None:
    engine = mod.engine
    src = await _source(mod)
    place = (await mod.add_place(A, MOD, name="Bashiqa Camp", kind="village", country="IQ",
                                 governorate="Nineveh", coordinates="36.45, 43.35")).key
    fact_id = (await mod.add_fact(A, MOD, place=place, date_text="2016-10-17",
                                  summary="Turkish troops are based at the camp.", source=src)).key
    await mod.add_alias(A, MOD, "Mosul", "Hadba City")
    b_before = (await engine.status("Mosul", B)).model_dump()

    assert (await engine.status("Bashiqa Camp", A)).facts[0].id == fact_id
    in_b = await engine.status("Bashiqa Camp", B)
    assert in_b.place is None or in_b.place.id != place
    assert fact_id not in [f.id for f in in_b.facts]
    assert (await engine.status("", B, place_id=place)).place is None  # a button with A's id
    assert (await engine.status("Hadba City", A)).place.id == "mosul"  # type: ignore[union-attr]
    in_b = await engine.status("Hadba City", B)
    assert in_b.place is None or in_b.place.id != "mosul"  # A's name means nothing in B
    assert src not in [s.id for s in (await engine.sources(B)).sources]
    assert (await engine.search("Turkish troops camp", B)).error == "no_results"
    for attempt in (mod.set_live(B, OTHER_MOD, fact_id, False), mod.history(B, fact_id),
                    mod.edit_fact(B, OTHER_MOD, fact_id, summary="hijacked"),
                    mod.add_fact(B, OTHER_MOD, place="Mosul", date_text="2016", summary="x y z",
                                 source=src),
                    mod.add_alias(B, OTHER_MOD, place, "Camp")):
        with pytest.raises((InputError, Refused)):
            await attempt
    assert (await engine.status("Mosul", B)).model_dump() == b_before
    # retiring a shared fact in A hides it in A only
    shared = (await engine.status("Mosul", A)).facts[-1].id
    await mod.set_live(A, MOD, shared, False)
    assert shared not in [f.id for f in (await engine.timeline("Mosul", A)).facts]
    assert shared in [f.id for f in (await engine.timeline("Mosul", B)).facts]
    assert shared in [f.id for f in (await engine.timeline("Mosul", 0)).facts]


async def test_editing_a_shared_fact_gives_the_server_its_own_copy(mod: ModerationService) -> None:
    engine = mod.engine
    shared = (await engine.timeline("Ramadi", A)).facts[0]
    changes = await mod.edit_fact(A, MOD, shared.id, summary="A server's own wording of it.")
    assert [c.action for c in changes] == ["fact.retire", "fact.edit"]
    copy_id = changes[1].key
    ids_a = [f.id for f in (await engine.timeline("Ramadi", A)).facts]
    assert shared.id not in ids_a and copy_id in ids_a
    copy = next(f for f in (await engine.timeline("Ramadi", A)).facts if f.id == copy_id)
    assert copy.quote == shared.quote and copy.source.id == shared.source.id
    assert shared.id in [f.id for f in (await engine.timeline("Ramadi", B)).facts]
    # undo takes the two back one at a time
    await mod.undo(A, MOD)
    await mod.undo(A, MOD)
    ids_a = [f.id for f in (await engine.timeline("Ramadi", A)).facts]
    assert shared.id in ids_a and copy_id not in ids_a


async def test_undo_reverts_that_moderators_last_change_only(mod: ModerationService) -> None:
    engine = mod.engine
    src = await _source(mod)
    fact_id = (await mod.add_fact(A, MOD, place="Mosul", date_text="2016-10-17",
                                  summary="First wording.", source=src)).key
    await mod.edit_fact(A, MOD, fact_id, summary="Second wording.")
    await mod.add_alias(A, OTHER_MOD, "Mosul", "Al-Mawsil city")
    undone = await mod.undo(A, MOD)
    assert undone.action == "undo" and undone.key == fact_id
    assert (await mod.fact(A, fact_id)).fact.summary == "First wording."
    assert (await engine.status("Al-Mawsil city", A)).place is not None  # the other's change stays
    await mod.undo(A, MOD)  # the addition: the fact is retired, never destroyed
    assert not (await mod.fact(A, fact_id)).live
    await mod.undo(A, MOD)  # the source, with the retired fact that only pointed at it
    assert src not in [s.id for s in (await engine.sources(A)).sources]
    with pytest.raises(Refused, match="Nothing to undo"):
        await mod.undo(A, MOD)
    # the log keeps every version even of the fact that went with its source
    log = [c.action for c in await mod.recent(A, 20) if c.subject == f"fact:{fact_id}"]
    assert log == ["undo", "undo", "fact.edit", "fact.add"]


async def test_undo_of_an_unused_source_removes_it(mod: ModerationService) -> None:
    src = await _source(mod)
    await mod.undo(A, MOD)
    assert src not in [s.id for s in (await mod.engine.sources(A)).sources]
    with pytest.raises(Refused, match="Nothing to undo"):
        await mod.undo(A, MOD)


async def test_undo_refuses_to_clobber_someone_elses_later_change(mod: ModerationService) -> None:
    src = await _source(mod)
    fact_id = (await mod.add_fact(A, MOD, place="Mosul", date_text="2016-10-17",
                                  summary="Mine.", source=src)).key
    await mod.edit_fact(A, OTHER_MOD, fact_id, summary="Theirs.")
    with pytest.raises(Refused, match="changed again since"):
        await mod.undo(A, MOD)
    assert (await mod.fact(A, fact_id)).fact.summary == "Theirs."


async def test_the_change_log_is_append_only(mod: ModerationService) -> None:
    await _source(mod)
    refused = (sqlite3.IntegrityError, asyncpg.RaiseError)  # SQLite's and PostgreSQL's trigger
    with pytest.raises(refused, match="append-only"):
        await mod.writer.db.execute("UPDATE changes SET actor = 0")
    with pytest.raises(refused, match="append-only"):
        await mod.writer.db.execute("DELETE FROM changes")


@pytest.mark.parametrize(("fields", "message"), [
    ({"place": "Atlantis"}, "Place: “Atlantis” is not a place"),
    ({"place": "Mosl"}, "Did you mean Mosul"),
    ({"date_text": "banana"}, "Date"),
    ({"date_text": "2017-01-01"}, "after the source was published"),
    ({"summary": ""}, "Summary: required"),
    ({"summary": "x" * 301}, "Summary: at most 300"),
    ({"status": "winning"}, "Status: one of"),
    ({"source": "nope"}, "Source: no source"),
    ({"quote": "words the article never used"}, None),  # no stored text: not checkable, kept
    ({"hedged": "perhaps"}, "Hedged: yes or no"),
])
async def test_bad_input_names_the_field_and_changes_nothing(
        mod: ModerationService, fields: dict[str, str], message: str | None) -> None:
    src = await _source(mod)
    values = {"place": "Mosul", "date_text": "2016-10-17", "summary": "A valid summary.",
              "source": src, **fields}
    before = await store_summary(mod.store)
    if message is None:  # no stored text to check the quote against: kept as given
        change = await mod.add_fact(A, MOD, **values)
        assert change.after and change.after["quote"] == values["quote"]
        return
    with pytest.raises((InputError, Refused), match=message):
        await mod.add_fact(A, MOD, **values)
    assert await store_summary(mod.store) == before


async def test_quotes_are_checked_against_a_stored_text(mod: ModerationService) -> None:
    text = ("BAGHDAD, Oct 17 (Test Wire) - Iraqi forces advanced on Mosul on Monday, "
            "a military spokesman said.")
    ingested = await mod.ingest(A, MOD, text=text, title="Push on Mosul", outlet="Test Wire",
                                published="2016-10-17")
    with pytest.raises(Refused, match="Quote: not an exact substring"):
        await mod.add_fact(A, MOD, place="Mosul", date_text="2016-10-17", summary="Advance.",
                           source=ingested.source.key, quote="Iraqi forces stormed Mosul")
    ok = await mod.add_fact(A, MOD, place="Mosul", date_text="2016-10-17", summary="Advance.",
                            source=ingested.source.key, quote="Iraqi forces advanced on Mosul")
    assert ok.after and ok.after["quote"] == "Iraqi forces advanced on Mosul"


async def test_input_is_cleaned_of_mentions_and_invisible_characters(mod: ModerationService) -> None:
    src = await _source(mod)
    change = await mod.add_fact(A, MOD, place="Mosul", date_text="2016-10-17", source=src,
                                summary="Hi @everyone <@123> <@&456>\u200b in <#789>\x07 now.")
    assert change.after and change.after["summary"] == "Hi ＠everyone @user @role in #channel now."


async def test_places_names_and_sources_are_per_server(mod: ModerationService) -> None:
    await mod.add_alias(A, MOD, "Hawija", "Huwija town")
    assert (await mod.engine.status("Huwija town", A)).place.id == "hawija"  # type: ignore[union-attr]
    with pytest.raises(Refused, match="already a name"):
        await mod.add_alias(A, MOD, "Hawija", "huwija TOWN")
    await mod.remove_alias(A, MOD, "Huwija town")
    res = await mod.engine.status("Huwija town", A)
    # no longer an exact name: nothing, or a guess the answer owns up to
    assert res.place is None or any(n.startswith("Showing ") for n in res.notes), res
    with pytest.raises(Refused, match="has not added"):
        await mod.remove_alias(A, MOD, "Mosul")  # shared names cannot be removed


async def test_watches_and_modlog_are_per_server(mod: ModerationService) -> None:
    place, added = await mod.watch(A, MOD, 900, "Mosul")
    assert place.id == "mosul" and added
    assert not (await mod.watch(A, MOD, 900, "Mosul"))[1]
    assert await mod.watching(A, {"mosul"}) == {900: ["mosul"]}
    assert await mod.watching(B, {"mosul"}) == {}
    assert [w.place_id for w in await mod.watches(A)] == ["mosul"] and await mod.watches(B) == []
    assert (await mod.unwatch(A, 900, "Mosul"))[1]
    await mod.set_modlog(A, 901)
    assert await mod.modlog(A) == 901 and await mod.modlog(B) is None


async def test_a_relative_date_needs_a_source_dated_to_the_day(mod: ModerationService) -> None:
    src = (await mod.add_source(A, MOD, title="Monthly digest", outlet="Digest",
                                published="March 2016")).key
    with pytest.raises(InputError, match="dated only Mar 2016"):
        await mod.add_fact(A, MOD, place="Mosul", date_text="yesterday", summary="Something.",
                           source=src)
    with pytest.raises(InputError, match="Published: give the day"):
        await mod.ingest(A, MOD, text="Fighting near Mosul.", title="T", outlet="O",
                         published="March 2016")
    with pytest.raises(InputError, match="in the future"):
        await mod.add_source(A, MOD, title="T", outlet="O", published="2031-01-01")


async def test_another_servers_many_matches_never_crowd_out_this_servers(mod: ModerationService) -> None:
    src_b = await _source(mod, B)
    for i in range(210):
        await mod.add_fact(B, OTHER_MOD, place="Mosul", date_text="2016-10-17", source=src_b,
                           summary=f"Zeppelin sighting number {i}.")
    src_a = await _source(mod, A)
    mine = (await mod.add_fact(A, MOD, place="Mosul", date_text="2016-10-17", source=src_a,
                               summary="A zeppelin over the river.")).key
    found = await mod.engine.search("zeppelin", A)
    assert [f.id for f in found.facts] == [mine]


async def test_undo_gets_past_an_ingest_whose_candidates_were_all_rejected(mod: ModerationService) -> None:
    done = await mod.ingest(A, MOD, text="Iraqi forces retook Ramadi on Monday, officials said.",
                            title="T", outlet="Wire", published="2015-12-28")
    for candidate in await mod.pending(A):
        await mod.reject(A, MOD, candidate.id)
    await mod.undo(A, MOD)
    assert done.source.key not in [s.id for s in (await mod.engine.sources(A)).sources]


async def test_what_the_cog_shows_it_reads_through_the_service(mod: ModerationService) -> None:
    """The Discord cog names places and offers sources without reading the store itself; the
    service answers as the server sees things, another server's ids being no ids at all."""
    src = await _source(mod, published="2 March 2020")
    sources = await mod.sources(A)
    assert sources[0].id == src  # the article registered last comes first
    assert src not in [s.id for s in await mod.sources(B)]
    place = (await mod.add_place(A, MOD, name="Qaraqosh Camp", country="IQ")).key
    found = await mod.place_by_id(A, place)
    assert found is not None and found.name == "Qaraqosh Camp"
    assert await mod.place_by_id(B, place) is None
    assert {p.name for p in await mod.places(A, [place, "mosul"])} == {"Qaraqosh Camp", "Mosul"}
    assert [p.id for p in await mod.places(B, [place])] == []
    with pytest.raises(InputError, match=r"^Format: json or csv\.$"):
        await mod.export(A, "xml")
