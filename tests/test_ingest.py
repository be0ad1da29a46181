"""Proposal facts from a pasted article (bot.services.ingest), on a wire story written for these
tests (tests/fixtures/articles/wire_test_article.txt, published Monday 17 October 2016)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bot.domain.model import DateBasis, DateSpec, Precision, Qualifier, Status
from bot.services.ingest import SUMMARY_CHARS, Proposal, propose
from bot.store.sqlite import iter_name_entries

ARTICLE = (Path(__file__).parent / "fixtures" / "articles" / "wire_test_article.txt").read_text("utf-8")
PUBLISHED = date(2016, 10, 17)
NAMES = [
    ("Mosul", "mosul"), ("Mawsil", "mosul"), ("East Mosul", "east-mosul"), ("Qayyarah", "qayyarah"),
    ("Hawija", "hawija"), ("Tal Afar", "tal-afar"), ("Afar", "afar"), ("Ramadi", "ramadi"),
    ("Syria", "syria"), ("Shirqat", "shirqat"), ("Kirkuk", "kirkuk"),
    ("al-Baghdadi", "al-baghdadi"), ("Baghdad", "baghdad"), ("BAGHDAD", "baghdad"),
    ("Jassim", "jasim"),                     # a Syrian town, and the general's surname
    ("hit", "hit"), ("Hit", "hit"),          # the Anbar town, and the English verb
    ("city", "city"), ("Ur", "ur"),          # a lowercase common word; a two-letter name
]
NOT_PLACES = ["Abu Bakr al-Baghdadi", "Operation Inherent Resolve"]


@pytest.fixture(scope="module")
def candidates() -> list[Proposal]:
    return propose(ARTICLE, PUBLISHED, NAMES, not_places=NOT_PLACES)


def _places(text: str, names: list[tuple[str, str]] = NAMES) -> list[str]:
    return [c.place_id for c in propose(text, PUBLISHED, names, not_places=NOT_PLACES)]


def _only(text: str) -> Proposal:
    (candidate,) = propose(text, PUBLISHED, NAMES, not_places=NOT_PLACES)
    return candidate


def test_one_candidate_per_sentence_and_place_in_text_order(candidates: list[Proposal]) -> None:
    # Absent: BAGHDAD (dateline), al-Baghdadi (inside a false friend), Jassim (after "Brig. Gen."),
    # hit and Hit ("jets had hit"), Afar (inside Tal Afar), Baiji and Iraq (not in the list).
    assert [(c.place_id, c.matched_name) for c in candidates] == [
        ("mosul", "Mosul"), ("qayyarah", "Qayyarah"), ("mosul", "Mosul"), ("hawija", "Hawija"),
        ("tal-afar", "Tal Afar"), ("ramadi", "Ramadi"), ("syria", "Syria"), ("shirqat", "Shirqat"),
        ("mosul", "Mosul"),
    ]


def test_quotes_are_exact_sentences_of_the_article(candidates: list[Proposal]) -> None:
    for c in candidates:
        assert ARTICLE[c.position:].startswith(c.quote)
        assert c.quote == c.quote.strip()
        assert c.matched_name in c.quote
    first = candidates[0].quote
    assert first.startswith("Iraqi troops and Kurdish")  # the dateline is not part of the quote
    assert "the militants’ last major stronghold" in first  # curly apostrophe kept
    assert first.endswith("a military spokesman said.")
    assert candidates[5].quote.endswith("said Brig. Gen. Kareem Jassim.")  # not cut at "Brig."


def test_a_sentence_naming_two_places_gives_both_the_same_quote(candidates: list[Proposal]) -> None:
    qayyarah, mosul = candidates[1], candidates[2]
    assert (qayyarah.quote, qayyarah.position) == (mosul.quote, mosul.position)
    assert qayyarah.quote.startswith("Government forces retook the air base at Qayyarah")


def test_sentences_without_a_place_give_nothing(candidates: list[Proposal]) -> None:
    quotes = " ".join(c.quote for c in candidates)
    assert "The push began before dawn" not in quotes
    assert "Aid agencies said" not in quotes
    assert "Abu Bakr al-Baghdadi" not in quotes


def test_dates_are_resolved_against_the_publication_date(candidates: list[Proposal]) -> None:
    got = [(c.place_id, c.date_text, c.event.start, c.event.end, c.event.precision, c.event.basis)
           for c in candidates if c.date_text]
    assert got == [
        ("mosul", "on Monday", date(2016, 10, 17), date(2016, 10, 17), Precision.DAY, DateBasis.RELATIVE),
        ("qayyarah", "on 25 August", date(2016, 8, 25), date(2016, 8, 25), Precision.DAY,
         DateBasis.RELATIVE),
        ("mosul", "on 25 August", date(2016, 8, 25), date(2016, 8, 25), Precision.DAY, DateBasis.RELATIVE),
        ("tal-afar", "on Sunday", date(2016, 10, 16), date(2016, 10, 16), Precision.DAY,
         DateBasis.RELATIVE),
        ("ramadi", "on 28 December 2015", date(2015, 12, 28), date(2015, 12, 28), Precision.DAY,
         DateBasis.STATED),
        ("mosul", "in June 2014", date(2014, 6, 1), date(2014, 6, 30), Precision.MONTH, DateBasis.STATED),
    ]


def test_a_sentence_without_a_date_is_by_the_publication_day(candidates: list[Proposal]) -> None:
    hawija = candidates[3]
    assert hawija.date_text is None
    assert (hawija.event.start, hawija.event.end, hawija.event.precision, hawija.event.qualifier,
            hawija.event.basis) == (PUBLISHED, PUBLISHED, Precision.DAY, Qualifier.BY, DateBasis.PUBLICATION)
    assert hawija.event.label == "by 17 Oct 2016"
    curated = DateSpec.model_validate({"date": "by 2016-10-17", "basis": "publication"})
    assert hawija.event.model_copy(update={"note": None}) == curated  # as data/facts.yaml writes it


def test_status_hints_follow_the_keyword_nearest_each_place(candidates: list[Proposal]) -> None:
    assert [c.status_hint for c in candidates] == [
        Status.OFFENSIVE_LAUNCHED,  # launched an offensive ... Mosul
        Status.RECAPTURED,          # retook ... Qayyarah
        None,                       # Mosul in the same sentence: "retook" is nearer Qayyarah
        Status.ISIS_WITHDREW,       # Islamic State fighters reportedly withdrew
        Status.UNDER_ATTACK,        # militants attacked ... near Tal Afar
        Status.RECAPTURED,          # Ramadi ... declared liberated (nearer than "clearing")
        None,                       # Syria: nothing said of it
        None,                       # has not yet recaptured Shirqat
        Status.ISIS_CONTROL,        # Islamic State seized Mosul
    ]


def test_attribution_is_the_speaker(candidates: list[Proposal]) -> None:
    assert [c.attribution for c in candidates] == [
        "a military spokesman", "the Iraqi military", "the Iraqi military", None, "local officials",
        "Brig. Gen. Kareem Jassim", "A senior commander", "a colonel", "officials",
    ]


def test_hedges_are_found(candidates: list[Proposal]) -> None:
    assert [c.hedges for c in candidates] == [
        (), (), (), ("reportedly", "could not be independently verified"), (), (), ("might",), (), (),
    ]


def test_summary_is_the_sentence_on_one_line(candidates: list[Proposal]) -> None:
    assert all(c.summary == " ".join(c.quote.split()) for c in candidates)
    long = "Troops retook Ramadi " + "after a very long and difficult battle " * 10 + "officials said."
    summary = _only(long).summary
    assert len(summary) <= SUMMARY_CHARS
    assert summary.endswith("difficult…") or summary.endswith("battle…")


def test_false_friends_hide_the_place_inside_them() -> None:
    sentence = "Abu Bakr al-Baghdadi was last seen in 2014."
    assert _places(sentence) == []
    assert [c.place_id for c in propose(sentence, PUBLISHED, NAMES)] == ["al-baghdadi"]
    assert _places("Jets struck near Baghdad under Operation Inherent Resolve.") == ["baghdad"]


def test_a_name_after_a_title_is_a_person() -> None:
    assert _places("The attack was led by Col. Ahmed Jassim.") == []
    assert _places("Shelling hit Jassim overnight.") == ["jasim"]


def test_lowercase_common_words_and_wrong_case_do_not_match() -> None:
    assert _places("Jets hit the city and its outskirts.") == []
    assert _places("Troops entered Hit on Sunday.") == ["hit"]
    assert _places("Nobody in MOSUL or mosul was reached.") == []


def test_names_match_whole_words_longest_first() -> None:
    assert _places("Fighting spread to East Mosul.") == ["east-mosul"]
    assert _places("The road to Tal Afar was cut.") == ["tal-afar"]
    assert _places("Mosuli traders and Ramadiyah farmers left.") == []
    assert _places("Mosul's old city, also called Mawsil, is empty.") == ["mosul"]


def test_names_shorter_than_three_characters_are_skipped() -> None:
    assert _places("Ur lies in the south.") == []


def test_isis_labels_need_isis_as_the_subject() -> None:
    assert _only("Islamic State withdrew from Hawija.").status_hint is Status.ISIS_WITHDREW
    assert _only("Iraqi troops withdrew from Hawija.").status_hint is None
    assert _only("Iraqi troops seized Hawija.").status_hint is None
    assert _only("Hawija was captured by Islamic State.").status_hint is Status.ISIS_CONTROL


def test_negated_keywords_give_no_hint() -> None:
    assert _only("Iraqi forces recaptured Hawija.").status_hint is Status.RECAPTURED
    assert _only("Iraqi forces have not recaptured Hawija.").status_hint is None
    assert _only("Iraqi forces haven't retaken Hawija.").status_hint is None


def test_date_noise_is_not_a_date() -> None:
    c = _only("Militants may march on Hawija, where 2000 people live.")
    assert (c.date_text, c.event.basis) == (None, DateBasis.PUBLICATION)
    assert c.hedges == ("may",)
    assert _only("In May 2016 Hawija was quiet.").hedges == ()


def test_dates_after_publication_are_skipped() -> None:
    c = _only("Hawija is to be attacked on 20 October 2016, not on 10 October 2016.")
    assert (c.date_text, c.event.start) == ("on 10 October 2016", date(2016, 10, 10))


def test_latest_admits_dates_up_to_the_end_of_a_publication_window() -> None:
    text = "Hawija was attacked on 20 October 2016."
    (c,) = propose(text, PUBLISHED, NAMES, latest=date(2016, 10, 21))
    assert (c.date_text, c.event.start) == ("on 20 October 2016", date(2016, 10, 20))
    assert _only(text).date_text is None


def test_a_bare_year_needs_a_preposition() -> None:
    assert _only("Hawija has been held since 2014.").event.label == "since 2014"
    assert _only("Hawija was shelled with 2014 rockets.").date_text is None


def test_hard_wrapped_lines_stay_one_sentence_and_offsets_hold() -> None:
    text = "Troops retook\nRamadi on Sunday.\n\nThe city is quiet.\nMosul is not."
    ramadi, mosul = propose(text, PUBLISHED, NAMES)
    assert ramadi.quote == "Troops retook\nRamadi on Sunday."
    assert (ramadi.summary, ramadi.event.start) == ("Troops retook Ramadi on Sunday.", date(2016, 10, 16))
    assert text[mosul.position:].startswith(mosul.quote) and mosul.quote == "Mosul is not."


def test_limit_and_empty_inputs() -> None:
    assert len(propose(ARTICLE, PUBLISHED, NAMES, limit=2)) == 2
    assert propose(ARTICLE, PUBLISHED, NAMES, limit=0) == []
    assert propose(ARTICLE, PUBLISHED, []) == []
    assert propose("", PUBLISHED, NAMES) == []


def test_with_the_store_names(shipped_store: Path) -> None:
    names = [(entry.name, entry.place_id) for entry in iter_name_entries(shipped_store)]
    with sqlite3.connect(shipped_store) as conn:
        not_places = [text for (text,) in conn.execute("SELECT text FROM false_friends")]
    qayyarah = {place_id for name, place_id in names if name == "Qayyarah"}
    got = propose(ARTICLE, PUBLISHED, names, not_places=not_places)
    found = {c.place_id for c in got}
    assert {"mosul", "hawija", "tal-afar", "ramadi", "syria", "shirqat", "baiji"} <= found
    assert qayyarah & found
    matched = {c.matched_name for c in got}
    assert not matched & {"BAGHDAD", "Baghdad", "al-Baghdadi", "Jassim", "Hit", "hit", "Nuri"}
    assert all(ARTICLE[c.position:].startswith(c.quote) for c in got)
