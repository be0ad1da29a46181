"""The domain's rules on their own: no store, no Discord, no event loop. What the services do with
a change is decided here, so each rule is tested where it is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.domain import moderation as rules
from bot.domain.changes import Change, describe
from bot.domain.checks import (
    duplicates,
    fact_source_problems,
    link_problems,
    parent_loops,
    validated,
)
from bot.domain.errors import Conflict, Invalid, NotFound, Refused
from bot.domain.model import DateSpec, Fact, Genre, Place, PlaceKind, Source, Status
from bot.domain.review import ReviewItem, pending_item, review_text
from bot.domain.watches import MAX_WATCHES, room_for_watch

SOURCE = Source(id="s1", outlet="Wire", title="T", genre=Genre.WIRE,
                published=DateSpec.single_day(date(2016, 10, 17)))
FACT = Fact(id="f1", place="mosul", source="s1", quote="forces advanced", summary="They advanced.",
            event=DateSpec.single_day(date(2016, 10, 16)), status=Status.UNDER_ATTACK)


def stored(*, owner: int = 0, live: bool = True, fact: Fact = FACT) -> rules.StoredFact:
    return rules.StoredFact(fact, "curated" if owner == 0 else "added", owner, live)


def change(kind: str, key: str, before: dict[str, object] | None,
           after: dict[str, object] | None = None, action: str = "fact.add") -> Change:
    return Change(1, 5, "2026-01-01T00:00:00+00:00", 9, action, f"{kind}:{key}", before, after)


# ------------------------------------------------------------------------------ editing
def test_an_edit_of_a_shared_fact_copies_it_and_an_own_fact_changes_in_place() -> None:
    new = rules.edited("f1", stored(owner=0), {"summary": "They pushed on."})
    assert new.summary == "They pushed on." and new.quote == FACT.quote
    assert rules.copy_on_edit(stored(owner=0))
    assert not rules.copy_on_edit(stored(owner=5))


@pytest.mark.parametrize(("target", "updates", "error", "words"), [
    (None, {"summary": "x y z"}, NotFound, "No fact `f1` here."),
    (stored(live=False), {"summary": "x y z"}, Conflict, "restore f1"),
    (stored(), {"summary": FACT.summary}, Invalid, "Nothing to change"),
    (stored(), {"rank": "preferred"}, Invalid, "Cannot edit rank"),
    (stored(), {"summary": "x"}, Invalid, "Summary:"),
])
def test_edits_that_the_rules_refuse(target: rules.StoredFact | None, updates: dict[str, object],
                                     error: type[Refused], words: str) -> None:
    with pytest.raises(error, match=words.replace("`", ".")):
        rules.edited("f1", target, updates)


def test_a_form_sends_only_the_fields_the_moderator_changed() -> None:
    shown = rules.editable_text(FACT)
    assert shown == {"date": "2016-10-16", "summary": "They advanced.",
                     "quote": "forces advanced", "attribution": "", "status": "under_attack"}
    assert rules.changed_fields(shown, {**shown, "summary": "New.", "quote": None}) == {
        "summary": "New."}
    assert rules.changed_fields(shown, shown) == {}


def test_retire_and_restore_refuse_what_is_already_so() -> None:
    assert rules.check_live_change("f1", stored(), False).live
    with pytest.raises(Conflict, match="already live"):
        rules.check_live_change("f1", stored(), True)
    with pytest.raises(Conflict, match="already retired"):
        rules.check_live_change("f1", stored(live=False), False)
    with pytest.raises(NotFound):
        rules.check_live_change("f1", None, False)


def test_a_fact_state_round_trips_through_the_change_log() -> None:
    state = rules.fact_state(stored(owner=5, live=False))
    assert state["live"] is False and state["origin"] == "added"
    assert rules.fact_from_state(state) == FACT


# ------------------------------------------------------------------------------ undo
def test_undo_needs_a_change_that_still_stands() -> None:
    latest = change("fact", "m1", None, {"live": True})
    assert rules.undoable(latest, changed_since=False) is latest
    with pytest.raises(NotFound, match="Nothing to undo"):
        rules.undoable(None, changed_since=False)
    with pytest.raises(Conflict, match="changed again since"):
        rules.undoable(latest, changed_since=True)


def test_what_undoing_each_kind_of_change_does() -> None:
    state = rules.fact_state(stored(owner=5))
    assert rules.undo_step(change("fact", "m1", None)) == rules.Retire()
    assert rules.undo_step(change("fact", "m1", state)) == rules.Revert(FACT, True)
    assert rules.undo_step(change("name", "mosul:Mossul", None)) == rules.RemoveName(
        "mosul", "Mossul")
    assert rules.undo_step(change("name", "mosul:Mossul", {"place": "mosul"})) == rules.AddName(
        "mosul", "Mossul")
    assert rules.undo_step(change("place", "camp_1", None)) == rules.RemoveUnused("place", "camp_1")
    with pytest.raises(Conflict, match="Cannot restore a removed"):
        rules.undo_step(change("source", "s_1", {"id": "s_1"}))


def test_a_change_reads_in_one_line() -> None:
    assert describe(change("fact", "m1", None, action="fact.retire")) == "fact `m1` retired"
    assert describe(change("name", "mosul:Mossul", None, action="name.add")) == (
        "name “Mossul” of `mosul` added")
    assert change("fact", "m1", None, {"live": True, "place": "mosul"}).place_ids == {"mosul"}
    assert change("fact", "m1", None, {"live": True}).leaves_live_fact
    assert not change("fact", "m1", {"live": True}, {"live": False}).leaves_live_fact


# ------------------------------------------------------------------------------ checks
def test_a_fact_must_quote_its_source_and_not_postdate_it() -> None:
    text = "Iraqi forces advanced on Mosul"
    assert fact_source_problems(FACT, SOURCE, text) == []
    assert fact_source_problems(FACT, SOURCE, None) == []  # no text: nothing to check against
    wrong = FACT.model_copy(update={"quote": "forces retreated",
                                    "event": DateSpec.single_day(date(2016, 10, 18))})
    assert fact_source_problems(wrong, SOURCE, text) == [
        "quote: not an exact substring of the source's text",
        "date: 18 Oct 2016 is after the source was published (17 Oct 2016)"]


def test_the_shared_structural_checks() -> None:
    value, problems = validated(Place, {"id": "Bad Id", "name": "X", "kind": "city"})
    assert value is None and problems and problems[0].startswith("id: ")
    assert validated(Place, {"id": "x", "name": "X", "kind": "city"})[0] == Place(
        id="x", name="X", kind=PlaceKind.CITY)
    assert duplicates(["a", "b", "a", "a"]) == {"a": 3}
    assert parent_loops("a", {"a": "b", "b": "a"})
    assert not parent_loops("a", {"a": "b", "b": None})
    linked = FACT.model_copy(update={"contradicts": ["f1", "f2", "f3"]})
    assert link_problems(linked, {"f2"}.__contains__) == [
        "links to itself", "links to unknown fact 'f3'"]


# ------------------------------------------------------------------------------ review, watches
def test_a_decided_candidate_stays_decided() -> None:
    item = ReviewItem(3, "s1", "mosul", "Mosul (Nineveh, IQ)", "forces advanced", "They advanced.",
                      None, False, DateSpec.single_day(date(2016, 10, 16)), "under_attack", {},
                      "pending", None)
    assert pending_item(3, item) is item
    assert review_text(item)["hedged"] == "no" and review_text(item)["date"] == "2016-10-16"
    assert item.as_fact().status is Status.UNDER_ATTACK
    with pytest.raises(Conflict, match="already approved"):
        pending_item(3, replace(item, state="approved"))
    with pytest.raises(NotFound, match="No candidate #4"):
        pending_item(4, None)


def test_a_server_has_a_bounded_number_of_watches() -> None:
    room_for_watch(MAX_WATCHES - 1)
    with pytest.raises(Invalid, match=f"already has {MAX_WATCHES} watches"):
        room_for_watch(MAX_WATCHES)
