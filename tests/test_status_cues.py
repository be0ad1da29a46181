"""The rules that hold a fact's status label and event date to its quote: a label needs words in
the quote that say it (``STATUS_CUES``) unless the curator's ``status_basis`` says which words of
the article do, and a date on one day needs its day in the quote (``stated``) or a word counting
from a known publication day (``relative``). The quotes are the five articles' own words."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.curation.load import load_curated
from bot.domain.checks import STATUS_CUES, event_day_problems, status_cue_problems
from bot.domain.model import DateBasis, DateSpec, Fact, Genre, Source, Status
from tests.conftest import DATA, SEEDS

DAY_SOURCE = Source(id="s1", outlet="Wire", title="T", genre=Genre.WIRE,
                    published=DateSpec.single_day(date(2016, 10, 29)))
WEEK_SOURCE = Source(id="s2", outlet="Column", title="T", genre=Genre.OPINION,
                     published=DateSpec.model_validate("2017-03-08/2017-03-13"))


def fact(quote: str, status: Status | None = None, **more: object) -> Fact:
    return Fact.model_validate({"id": "f", "place": "p", "source": "s1", "quote": quote,
                                "summary": "A summary.", "status": status, **more})


def test_every_status_has_cues() -> None:
    assert set(STATUS_CUES) == set(Status)
    assert all(STATUS_CUES.values())


# ------------------------------------------------------------------------------ status cues
@pytest.mark.parametrize(("status", "quote"), [
    (Status.RECAPTURED, "Eventually eastern Mosul was liberated but only after many weeks"),
    (Status.RECAPTURED, "the liberation of Mosul, ISIS’ former de facto capital"),
    (Status.RECAPTURED, "They have been pushed out of Ramadi and Tikrit"),
    (Status.RECAPTURED, "after taking back the city of Ramadi"),
    (Status.RECAPTURED, "recaptured the ancient city a short time ago"),
    (Status.RECAPTURED, "Several districts of western Mosul have already been freed from ISIS"),
    (Status.GOVERNMENT_CONTROL, "The filtration plant is now under Syrian control"),
    (Status.GOVERNMENT_CONTROL, "to cut the chain of government controlled cities"),
    (Status.BESIEGED, "ISIS fighters succeeded in cutting Deir Ezzor off from its airport"),
    (Status.BESIEGED, "the city of Fallujah, is cut off and under siege"),
    (Status.ISIS_CONTROL, "What little remains in ISIS hands, the city of Fallujah"),
    (Status.ISIS_CONTROL, "Whence the strategic importance in Dae’sh’s conquest of the dam"),
    (Status.ISIS_WITHDREW, "ISIS has essentially given up central and southwestern Iraq."),
    (Status.ISIS_PRESENCE, "ISIS continues to maintain a presence, largely in the form of cells"),
    (Status.CONTESTED, "government forces have struggled to take back Al-Karmah"),
    (Status.OFFENSIVE_LAUNCHED, "heading southeast to take Al-Baghdadi"),
    (Status.OFFENSIVE_LAUNCHED, "They are also making their way northwest towards the city of Rawa."),
    (Status.OFFENSIVE_PLANNED, "The Shi'ite militias aim to capture villages west of Mosul"),
    (Status.CLEARANCE, "cleared 15 villages of terror cells"),
    (Status.THREATENED, "ISIS has been trying to cut off Aleppo’s water supply"),
    (Status.UNDER_ATTACK, "attacks on Samarra and Baiji within the last day"),
    (Status.SURROUNDED, "It seems that Raqqa is now essentially surrounded"),
])
def test_a_label_stands_on_the_words_of_its_quote(status: Status, quote: str) -> None:
    assert status_cue_problems(fact(quote, status)) == []


@pytest.mark.parametrize(("status", "quote"), [
    # an aim is not a capture
    (Status.RECAPTURED, "they made important gains by taking Haditha and heading southeast to take "
                        "Al-Baghdadi"),
    # arriving somewhere is not taking it back
    (Status.RECAPTURED, "A few days ago the Syrian army reached Lake Assad"),
    # "freed" is a cue, "freedom" is not
    (Status.RECAPTURED, "the Kurdish militia fights for freedom"),
    # ISIS failing to take a town does not say who holds it
    (Status.GOVERNMENT_CONTROL, "and never succeeded in taking Haditha"),
    # struggling to take a city back says nothing about who holds it
    (Status.ISIS_CONTROL, "government forces have struggled to take back Al-Karmah, Fallujah"),
    (Status.CONTESTED, "Several districts of western Mosul have already been freed from ISIS"),
    (Status.ISIS_PRESENCE, "Daesh fired two bullets at us but they missed and we made it"),
])
def test_a_label_its_quote_does_not_say_is_reported(status: Status, quote: str) -> None:
    [problem] = status_cue_problems(fact(quote, status))
    assert problem.startswith(f"status: the quote has none of the words {status.value!r} needs")
    assert "status_basis" in problem


def test_cues_match_any_case_inflection_and_spacing() -> None:
    assert status_cue_problems(fact("THE LIBERATION OF MOSUL", Status.RECAPTURED)) == []
    assert status_cue_problems(fact("Mosul, liberated", Status.RECAPTURED)) == []
    # a no-break space, as the seed texts have, and a line of two spaces
    assert status_cue_problems(fact("pushed\u00a0out of Ramadi", Status.RECAPTURED)) == []
    assert status_cue_problems(fact("is cut  off", Status.BESIEGED)) == []
    # a cue matches at the start of a word only
    assert status_cue_problems(fact("the unliberated north", Status.RECAPTURED)) != []


def test_a_status_basis_overrides_the_cues_and_needs_a_status() -> None:
    quote = "Ramadi fell with heavy ISIS casualties"
    assert status_cue_problems(fact(quote, Status.RECAPTURED)) != []
    basis = "the post speaks of \"taking back the city of Ramadi\""
    assert status_cue_problems(fact(quote, Status.RECAPTURED, status_basis=basis)) == []
    assert status_cue_problems(fact(quote, None, status_basis=basis)) == [
        "status_basis: given for a fact without a status"]


def test_no_status_or_no_quote_is_not_checked() -> None:
    assert status_cue_problems(fact("Rutba is an desert outpost near the Jordanian border")) == []
    assert status_cue_problems(fact("", Status.RECAPTURED)) == []  # a moderator's, without quote


# ------------------------------------------------------------------------------ event days
def dated(quote: str, event: str, basis: DateBasis, source: str = "s1") -> Fact:
    return fact(quote, event=event, event_basis=basis.value, source=source)


@pytest.mark.parametrize(("quote", "event", "basis", "source"), [
    ("an apparent “order” given on April 27th to Dae’sh emirs", "2015-04-27", DateBasis.STATED,
     DAY_SOURCE),
    ("near Bashiqa, east of Mosul, Iraq, October 29.", "2016-10-29", DateBasis.STATED, DAY_SOURCE),
    ("Iraqi Shi'ite militias said on Saturday they had launched an offensive", "2016-10-29",
     DateBasis.RELATIVE, DAY_SOURCE),
    ("thousands of fighters \"started operations this morning", "2016-10-29", DateBasis.RELATIVE,
     DAY_SOURCE),
    # reckoned from outside the quote, and said so: not this rule's business
    ("As the \"Will of Victory\" operation in Iraq enters its second day", "2016-10-28",
     DateBasis.INFERRED, DAY_SOURCE),
    # by a day, not on it
    ("As the \"Will of Victory\" operation in Iraq enters its second day", "by 2016-10-29",
     DateBasis.RELATIVE, DAY_SOURCE),
    # a month is not a day
    ("The Iraqi army began its operation to liberate Mosul in October.", "2016-10",
     DateBasis.RELATIVE, WEEK_SOURCE),
])
def test_a_day_the_quote_gives_passes(quote: str, event: str, basis: DateBasis,
                                      source: Source) -> None:
    assert event_day_problems(dated(quote, event, basis, source.id), source) == []


@pytest.mark.parametrize(("quote", "event", "basis", "source", "words"), [
    # "second day" counts from the operation's start, which the article does not date
    ("As the \"Will of Victory\" operation in Iraq enters its second day", "2016-10-28",
     DateBasis.RELATIVE, DAY_SOURCE, "is 'relative' but nothing in the quote"),
    ("The Shi'ite militias aim to capture villages west of Mosul", "2016-10-29",
     DateBasis.RELATIVE, DAY_SOURCE, "is 'relative' but nothing in the quote"),
    # a weekday counts from a publication day only when the source has one
    ("the militias said on Saturday", "2017-03-11", DateBasis.RELATIVE, WEEK_SOURCE,
     "is 'relative' but nothing in the quote"),
    ("an apparent “order” given on April 27th", "2015-04-28", DateBasis.STATED, DAY_SOURCE,
     "is 'stated' but the quote does not give that day"),
    ("ISIS took Ramadi", "2015-05-17", DateBasis.STATED, DAY_SOURCE,
     "is 'stated' but the quote does not give that day"),
])
def test_a_day_the_quote_does_not_give_is_reported(quote: str, event: str, basis: DateBasis,
                                                   source: Source, words: str) -> None:
    [problem] = event_day_problems(dated(quote, event, basis, source.id), source)
    assert problem.startswith("date: ") and words in problem


# ------------------------------------------------------------------------------ in sitrep check
def _edit_fact(data: Path, index: int, **changes: object) -> None:
    path = data / "facts.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["facts"][index].update(changes)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def _reasons(data: Path) -> list[str]:
    return [str(p) for p in load_curated(SEEDS, data)[1]]


def test_the_check_reports_a_label_and_a_day_its_quote_does_not_give(fixture_data: Path) -> None:
    # fixture fact 2 quotes "the liberation of Mosul ..."; fact 3 "said on Saturday"
    _edit_fact(fixture_data, 2, status="besieged")
    _edit_fact(fixture_data, 3, event="2016-10-28", event_basis="stated")
    reasons = _reasons(fixture_data)
    assert any(r.startswith("data/facts.yaml: mosul-liberation-2019: status: the quote has none "
                            "of the words 'besieged' needs") for r in reasons), reasons
    assert ("data/facts.yaml: mosul-militias-offensive: date: 28 Oct 2016 is 'stated' but the "
            "quote does not give that day") in reasons
    assert len(reasons) == 2


def test_the_check_accepts_a_curators_status_basis(fixture_data: Path) -> None:
    _edit_fact(fixture_data, 2, status="besieged", status_basis="another sentence says so")
    assert _reasons(fixture_data) == []


def test_shipped_status_bases_are_only_where_the_quote_lacks_the_words() -> None:
    """A status_basis is the curator's word against the cue table: each one in the shipped data
    stands where the table alone would report the label, and nowhere else."""
    cur, _ = load_curated(SEEDS, DATA)
    with_basis = [f for f in cur.facts if f.status_basis]
    assert with_basis
    for f in with_basis:
        assert status_cue_problems(f.model_copy(update={"status_basis": None})) != [], f.id
