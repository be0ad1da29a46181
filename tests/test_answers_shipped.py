"""What ``status`` and ``timeline`` answer on the shipped curation, checked against a reading of the
five seed articles (not against the curation itself):

- 001 SISMEC analysis, 5 May 2015: Ramadi back and forth, ISIS took the Tharthar dam, attacks on
  Samarra and Baiji "within the last day", Baiji both "left to conquer" and in the "chain of
  government controlled cities", government forces took Haditha and headed on to Al-Baghdadi.
- 000 blog, 14 Mar 2016: AFP says ISIS largely abandoned Hit, Rutba and Kubasya; "My Comment"
  (opinion) says ISIS was pushed out of Ramadi, "never succeeded in taking Haditha", and Fallujah
  "is cut off and under siege".
- 003 Reuters wire, Saturday 29 Oct 2016: Shi'ite militias launched an offensive west of Mosul and
  aim to reach Tal Afar.
- 002 The Duran opinion column, c. 10 Mar 2017: eastern Mosul liberated, western Mosul being
  freed, Raqqa "now essentially surrounded" (hedged: "It seems"), Palmyra recaptured, ISIS
  besieging Deir Ezzor.
- 004 Al-Shahid news, 9 Jul 2019: Operation Will of Victory against ISIS cells in the desert;
  Mosul liberated.

``shipped`` (tests/conftest.py) is an engine on a store built from ``seeds/`` and ``data/``, with
its clock at 2026-11-22.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.domain.model import FactView
from bot.engine import Engine
from bot.engine.answers import Answer, FailureAnswer, StatusAnswer

DATA = Path(__file__).resolve().parents[1] / "data"

S001 = "001_b4a972f6c9d70e69"
S000 = "000_c4c1ae3a7b28d96c"
S003 = "003_0b6851b251b281e4"
S002 = "002_1c43777089593738"
S004 = "004_16783dbdafc97e8b"

AS_OF = {S001: date(2015, 5, 5), S000: date(2016, 3, 14), S003: date(2016, 10, 29),
         S002: date(2017, 3, 10), S004: date(2019, 7, 9)}
"""The day each article speaks for: 002 is dated to 8–13 Mar 2017 and speaks for its middle."""

LATEST_PUBLICATION = {S001: date(2015, 5, 5), S000: date(2016, 3, 14), S003: date(2016, 10, 29),
                      S002: date(2017, 3, 13), S004: date(2019, 7, 9)}

EVENT_YEARS = {S001: {2015}, S000: {2015, 2016}, S003: {2003, 2014, 2016}, S002: {2012, 2016, 2017},
               S004: {2019}}
"""The years each article's events can fall in: 001 is all spring 2015; 000 all early 2016; 003 is
Oct 2016 plus its background (the 2003 invasion, the 2014 caliphate); 002 reaches back to "October",
"December" (2016) and "January" (2017), and to "Operation Damascus in the summer of 2012"; 004 is
all July 2019."""

STALE = {
    S001: "The newest information is from 5 May 2015, 11 years old: the situation may have changed.",
    S000: "The newest information is from 14 Mar 2016, 10 years old: the situation may have changed.",
    S003: "The newest information is from 29 Oct 2016, 10 years old: the situation may have changed.",
    S002: "The newest information is from c. 10 Mar 2017, 9 years old: the situation may have changed.",
    S004: "The newest information is from 9 Jul 2019, 7 years old: the situation may have changed.",
}
OPINION_002 = "This comes from an opinion column (The Duran)."
BLOG_000 = "This comes from a blog post (Politics, War, and Culture)."
HEDGED = "The source hedges this claim."
CONTRADICTED = "Other reports contradict this; see the timeline."


def ids(answer: Answer) -> list[str]:
    return [f.id for f in answer.facts]


def pairs(answer: Answer) -> list[tuple[str, str]]:
    """(source number, event label) for each fact: ("003", "29 Oct 2016")."""
    return [(f.source.id[:3], f.event_date.label) for f in answer.facts]


def headline(answer: Answer) -> str | None:
    """A status's headline; other answers have none."""
    return answer.headline if isinstance(answer, StatusAnswer) else None


def by_id(answer: Answer) -> dict[str, FactView]:
    return {f.id: f for f in answer.facts}


# ------------------------------------------------------------------------------------------------
# status: the newest substantive source, its headline, and the caveats that travel with it
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lead:
    query: str
    place: str
    source: str
    head: str
    label: str
    """the status label the headline starts with ("" when the lead has none)"""
    phrase: str
    """a distinctive phrase of the lead fact's summary"""
    genre_note: str | None = None
    hedged: bool = False
    contradicted: bool = False
    also: tuple[str, ...] = ()
    """other facts the status must list"""


LEADS = [
    # 004 (2019) is the newest word on Mosul: liberated. Its parts' 2017 facts follow.
    Lead("Mosul", "mosul", S004, "mosul-liberated-004", "Recaptured",
         "ISIS's former de facto capital, has been liberated",
         also=("east-mosul-liberated-002", "west-mosul-districts-freed-002")),
    # 000's My Comment: "They have been pushed out of Ramadi and Tikrit"
    Lead("Ramadi", "ramadi", S000, "ramadi-pushed-out-000", "Recaptured",
         "ISIS has been pushed out of Ramadi", BLOG_000,
         also=("ramadi-fell-000", "ramadi-surrounded-000")),
    # 000's My Comment: "What little remains in ISIS hands, the city of Fallujah, is cut off and
    # under siege"
    Lead("Fallujah", "fallujah", S000, "fallujah-under-siege-000", "Besieged",
         "Fallujah is cut off and under siege", BLOG_000,
         also=("fallujah-isis-hands-000", "fallujah-isis-troops-000")),
    # AFP, in 000: "largely abandoning the cities of Hit, Rutba and Kubasya"
    Lead("Hit", "hit", S000, "hit-isis-abandoned-000", "ISIS withdrew",
         "ISIS troops have largely abandoned Hit, AFP reports", BLOG_000,
         also=("hit-fighters-pulled-out-000",)),
    Lead("Rutba", "rutba", S000, "rutba-isis-abandoned-000", "ISIS withdrew",
         "largely abandoned Rutba", BLOG_000, also=("rutba-fighters-pulled-out-000",)),
    Lead("Kubasya", "kubaysah", S000, "kubaysah-isis-abandoned-000", "ISIS withdrew",
         "largely abandoned Kubasya", BLOG_000, also=("kubaysah-withdrew-threat-000",)),
    # 002: "It seems that Raqqa is now essentially surrounded" — hedged, in an opinion column
    Lead("Raqqa", "raqqa", S002, "raqqa-surrounded-002", "Surrounded",
         "Raqqa now seems essentially surrounded", OPINION_002, hedged=True,
         also=("raqqa-effectively-surrounded-002", "raqqa-kurdish-advance-002")),
    # 002: "The one point where ISIS continues to hold the upper hand is in its siege of ... Deir
    # Ezzor"; the airport (a part) is cut off from the city
    Lead("Deir Ezzor", "deir-ez-zor", S002, "deir-ez-zor-isis-siege-002", "Besieged",
         "ISIS is besieging Deir Ezzor and holds the upper hand", OPINION_002,
         also=("deir-ez-zor-airport-defended-002", "deir-ez-zor-surrounded-002")),
    # 002: "recaptured the ancient city a short time ago"
    Lead("Palmyra", "palmyra", S002, "palmyra-recaptured-002", "Recaptured",
         "recaptured Palmyra a short time before the column", OPINION_002,
         also=("palmyra-captured-december-002",)),
    # 000's "never succeeded in taking Haditha" is newer than 001's "taking Haditha"; they disagree.
    # ISIS failing to take a town does not say who holds it: no label
    Lead("Haditha", "haditha", S000, "haditha-never-taken-000", "",
         "ISIS never succeeded in taking Haditha", BLOG_000, contradicted=True,
         also=("haditha-taken-001",)),
    # 003: the militias "aim to ... reach the town of Tal Afar, about 55 km (35 miles) from the city"
    Lead("Tal Afar", "tal-afar", S003, "tal-afar-objective-003", "Offensive planned",
         "aim to reach Tal Afar, about 55 km (35 miles) from Mosul"),
    # 001: "attacks on Samarra and Baiji within the last day" — the one claim about Baiji that the
    # article does not also contradict; both sides of the contradiction are listed after it
    Lead("Baiji", "baiji", S001, "baiji-attacked-001", "Under attack",
         "ISIS attacked Baiji within the last day",
         also=("baiji-left-to-conquer-001", "baiji-government-chain-001")),
    # 001: Samarra is in "the chain of government controlled cities" ISIS attacked
    Lead("Samarra", "samarra", S001, "samarra-government-chain-001", "Government control",
         "chain of government-controlled cities", also=("samarra-attacked-001",)),
    # 001: "to some extent ... Especially around Lake Tharthar" (hedged); ISIS took the dam
    # southeast of the lake (a part)
    Lead("Lake Tharthar", "lake-tharthar", S001, "lake-tharthar-government-control-001",
         "Government control", "Areas around Lake Tharthar especially", hedged=True,
         also=("tharthar-dam-isis-took-001",)),
    # 004: "the three bridges on the Tharthar Valley were controlled"
    Lead("Tharthar Valley", "tharthar-valley", S004, "tharthar-valley-bridges-004",
         "Clearance operations", "three Tharthar Valley bridges"),
    # 004: ISIS "continues to maintain a presence, largely in the form of cells" in Anbar
    Lead("Anbar", "anbar", S004, "anbar-isis-cells-004", "ISIS presence",
         "largely as cells, in the desert regions of Anbar",
         also=("anbar-pmu-clearance-004", "anbar-front-lines-000")),
    # 001: "heading southeast to take Al-Baghdadi" — the town, not the ISIS leader; an advance on
    # it, not its capture
    Lead("Al-Baghdadi", "al-baghdadi", S001, "al-baghdadi-taken-001", "Offensive launched",
         "were heading southeast to take Al-Baghdadi"),
    # 002: Aleppo's water supply "has been fully secured", so ISIS's attempt to cut it is not the
    # lead; "the liberation of eastern Aleppo in December" never says from whom: no label
    Lead("Aleppo", "aleppo", S002, "aleppo-water-fully-secured-002", "",
         "Aleppo's water supply is fully secured", OPINION_002,
         also=("east-aleppo-liberated-002", "aleppo-water-isis-cut-002")),
    Lead("east Mosul", "east-mosul", S002, "east-mosul-liberated-002", "Recaptured",
         "Eastern Mosul was liberated after many weeks of fierce fighting", OPINION_002,
         also=("east-mosul-fierce-resistance-002",)),
    # 002: "Several districts of western Mosul have already been freed from ISIS"
    Lead("west Mosul", "west-mosul", S002, "west-mosul-districts-freed-002", "Contested",
         "Several districts of western Mosul have already been freed", OPINION_002,
         also=("west-mosul-offensive-002", "west-mosul-advance-002")),
    Lead("Tikrit", "tikrit", S000, "tikrit-pushed-out-000", "Recaptured",
         "ISIS has been pushed out of Tikrit", BLOG_000),
    # 000's My Comment: "they seem to be advancing in Libya" — opinion and hedged
    Lead("Libya", "libya", S000, "libya-isis-advancing-000", "ISIS advancing",
         "ISIS seems to be advancing in Libya", BLOG_000, hedged=True),
    # 004: the operation itself is the news on Iraq as a whole
    Lead("Iraq", "iraq", S004, "iraq-operation-launched-004", "Offensive launched",
         "launched a fully-fledged operation against ISIS", also=("iraq-desert-final-refuge-004",)),
]


@pytest.mark.parametrize("lead", LEADS, ids=[lead.query for lead in LEADS])
async def test_status_leads_with_the_newest_substantive_source(shipped: Engine, lead: Lead) -> None:
    a = await shipped.status(lead.query)
    assert a.error is None and a.place is not None and a.place.id == lead.place
    assert a.as_of == AS_OF[lead.source]
    head = a.facts[0]
    assert head.id == lead.head
    assert head.source.id == lead.source and a.sources[0].id == lead.source
    assert head.hedged is lead.hedged
    assert a.headline is not None
    assert a.headline == (f"{lead.label}: {head.summary}" if lead.label else head.summary)
    assert lead.phrase in a.headline
    expected_notes = [STALE[lead.source]]
    if lead.genre_note:
        expected_notes.append(lead.genre_note)
    if lead.hedged:
        expected_notes.append(HEDGED)
    if lead.contradicted:
        expected_notes.append(CONTRADICTED)
    assert a.notes == expected_notes
    assert bool(head.contradicts) is lead.contradicted
    assert set(lead.also) <= set(ids(a))
    # nothing from an older source is listed before something from the lead's source
    order = [f.source.id == lead.source for f in a.facts]
    assert order == sorted(order, reverse=True)


async def test_status_prefers_a_situation_label_over_an_older_report(shipped: Engine) -> None:
    """Mosul's newest fact (004) is a background clause, but it states the situation (liberated),
    so 004 leads rather than the 2017 column."""
    a = await shipped.status("Mosul")
    assert a.facts[0].modality == "background" and a.facts[0].status == "recaptured"
    assert a.sources[0].outlet == "Al-Shahid / Witness"
    assert OPINION_002 not in a.notes  # the lead is news; the 2017 column's label stays with it
    assert a.message == "38 fact(s) about Mosul."


async def test_a_place_with_only_background_has_no_headline(shipped: Engine) -> None:
    """000 only says Rutba is "a desert outpost near the Jordanian border": no situation."""
    a = await shipped.status("Jordanian border")
    assert a.place is not None and a.place.id == "iraq-jordan-border"
    assert a.headline is None and ids(a) == ["iraq-jordan-border-rutba-000"]
    assert a.notes == ["The store has only background about Iraq–Jordan border, "
                       "no report on its situation.", STALE[S000]]
    assert a.message == "1 fact(s) about Iraq–Jordan border."


# ------------------------------------------------------------------------------------------------
# timeline: event order, with the dates the articles give
# ------------------------------------------------------------------------------------------------

async def test_mosul_timeline_runs_from_2014_to_2019_with_its_parts(shipped: Engine) -> None:
    a = await shipped.timeline("Mosul")
    assert a.error is None and a.place is not None and a.place.id == "mosul"
    assert len(a.facts) == 38
    assert {f.place.id for f in a.facts} == {"mosul", "east-mosul", "west-mosul"}
    # the caliphate (2014, "two years" before 003), 000's March 2016 comment, the October 2016
    # operation (002 "in October", 003's Saturday 29 Oct), the 2017 column, 2019's liberation
    runs = [s for i, s in enumerate(p[0] for p in pairs(a)) if i == 0 or s != pairs(a)[i - 1][0]]
    assert runs == ["003", "000", "002", "003", "002", "004"]
    facts = by_id(a)
    assert facts["mosul-caliphate-2014-003"].event_date.label == "2014"
    assert facts["mosul-de-facto-capital-000"].event_date.label == "by 14 Mar 2016"
    assert facts["mosul-offensive-october-002"].event_date.label == "Oct 2016"
    assert facts["mosul-human-shields-003"].event_date.label == "23–29 Oct 2016"  # "this week"
    assert facts["mosul-hashid-offensive-003"].event_date.label == "29 Oct 2016"  # "on Saturday"
    assert facts["mosul-hashid-west-operations-003"].event_date.label == "29 Oct 2016"
    assert facts["east-mosul-liberated-002"].event_date.label == "by Mar 2017"
    assert ids(a)[0] == "mosul-caliphate-2014-003"
    assert ids(a)[-1] == "mosul-liberated-004"
    order = ids(a)
    assert order.index("mosul-offensive-october-002") < order.index("mosul-campaign-003") \
        < order.index("mosul-human-shields-003") < order.index("mosul-hashid-offensive-003")
    # eastern Mosul fell before western Mosul was attacked, in 002's telling and its text order
    assert order.index("east-mosul-fierce-resistance-002") < order.index("east-mosul-liberated-002") \
        < order.index("west-mosul-offensive-002") < order.index("west-mosul-districts-freed-002")


TIMELINES: dict[str, list[tuple[str, str, str]]] = {
    "Ramadi": [
        # 001: ISIS regained Ramadi "in the last several days" before 5 May 2015
        ("001", "28 Apr – 5 May 2015", "ramadi-isis-regained-001"),
        ("001", "by 5 May 2015", "ramadi-back-and-forth-001"),
        ("001", "by 5 May 2015", "ramadi-residents-001"),
        ("001", "by 5 May 2015", "ramadi-struggle-001"),
        # the post dates nothing, so all of it is "by" the post, in article order
        ("000", "by 14 Mar 2016", "ramadi-pushed-out-000"),
        ("000", "by 14 Mar 2016", "ramadi-surrounded-000"),
        ("000", "by 14 Mar 2016", "ramadi-fell-000"),
        ("000", "by 14 Mar 2016", "ramadi-confidence-000"),
        ("000", "by 14 Mar 2016", "ramadi-isis-took-000"),
        ("000", "by 14 Mar 2016", "ramadi-slow-clearance-000"),
    ],
    "Fallujah": [
        ("001", "by 5 May 2015", "fallujah-struggle-001"),
        ("000", "by 14 Mar 2016", "fallujah-isis-troops-000"),
        ("000", "by 14 Mar 2016", "fallujah-almost-cut-off-000"),
        ("000", "by 14 Mar 2016", "fallujah-isis-hands-000"),
        ("000", "by 14 Mar 2016", "fallujah-under-siege-000"),
        ("000", "by 14 Mar 2016", "fallujah-surrounded-000"),
        # a prediction is undated and sits at its report, in article order
        ("000", "undated", "fallujah-will-fall-000"),
        ("000", "by 14 Mar 2016", "fallujah-siege-unlikely-broken-000"),
    ],
    "Raqqa": [
        ("000", "undated", "raqqa-fall-hypothetical-000"),
        # Lake Assad reached "a few days ago": about March 2017, before the column's "now"
        ("002", "~Mar 2017", "raqqa-turkish-advance-cut-002"),
        ("002", "~Mar 2017", "raqqa-striking-range-002"),
        ("002", "by Mar 2017", "raqqa-kurdish-advance-002"),
        # one sentence, two facts: same date and place in the text, so ordered by id
        ("002", "by Mar 2017", "raqqa-communications-cut-002"),
        ("002", "by Mar 2017", "raqqa-surrounded-002"),
        ("002", "undated", "raqqa-race-002"),
        ("002", "by Mar 2017", "raqqa-us-russia-coordination-002"),
        ("002", "by Mar 2017", "raqqa-effectively-surrounded-002"),
        ("002", "by Mar 2017", "raqqa-precarious-002"),
    ],
    "Deir Ezzor": [
        # "During the major ISIS offensive in January": January 2017
        ("002", "Jan 2017", "deir-ez-zor-airport-cut-off-002"),
        ("002", "Jan 2017", "deir-ez-zor-january-offensive-002"),
        ("002", "by Mar 2017", "deir-ez-zor-cut-from-raqqa-002"),
        ("002", "by Mar 2017", "deir-ez-zor-isis-siege-002"),
        ("002", "by Mar 2017", "deir-ez-zor-airport-defended-002"),
        ("002", "by Mar 2017", "deir-ez-zor-breakthrough-failed-002"),
        ("002", "by Mar 2017", "deir-ez-zor-surrounded-002"),
        ("002", "by Mar 2017", "deir-ez-zor-isis-capital-speculation-002"),
        ("002", "by Mar 2017", "deir-ez-zor-critical-002"),
        ("002", "by Mar 2017", "deir-ez-zor-desperate-002"),
    ],
    "Palmyra": [
        # "ISIS's capture of Palmyra in December" (2016), recaptured "a short time ago"
        ("002", "Dec 2016", "palmyra-captured-december-002"),
        ("002", "by Mar 2017", "palmyra-recaptured-002"),
        ("002", "by Mar 2017", "palmyra-gas-fields-002"),
        ("002", "undated", "palmyra-third-attempt-remote-002"),
        ("002", "by Mar 2017", "palmyra-deir-ez-zor-distance-002"),
    ],
    "Haditha": [
        ("001", "by 5 May 2015", "haditha-taken-001"),
        ("000", "by 14 Mar 2016", "haditha-never-taken-000"),
    ],
    "Tal Afar": [
        # 003: the Hashid spokesman spoke on Saturday, 29 Oct 2016
        ("003", "29 Oct 2016", "tal-afar-objective-003"),
    ],
    "Baiji": [
        # "within the last day" before 5 May 2015
        ("001", "4–5 May 2015", "baiji-attacked-001"),
        # SISMEC's own caveat: the impression "may very well be a temporary development"
        ("001", "by 5 May 2015", "baiji-impression-temporary-001"),
        ("001", "by 5 May 2015", "baiji-left-to-conquer-001"),
        ("001", "by 5 May 2015", "baiji-government-chain-001"),
    ],
    "Anbar": [
        # the apparent ISIS order "given on April 27th" (2015)
        ("001", "27 Apr 2015", "anbar-reinforcements-001"),
        # ISIS apologists "quickly denied its authenticity"
        ("001", "by 5 May 2015", "anbar-order-denied-001"),
        ("000", "by 14 Mar 2016", "anbar-front-lines-000"),
        # "at the end of the second day of operations": the article dates no day of the operation
        ("004", "by 9 Jul 2019", "anbar-isis-cells-004"),
        ("004", "by 9 Jul 2019", "anbar-pmu-clearance-004"),
    ],
    "Lake Tharthar": [
        # the dam was taken before the "past week" of shifting momentum, about late April 2015
        ("001", "~Apr 2015", "tharthar-dam-isis-took-001"),
        ("001", "~Apr 2015", "tharthar-dam-importance-001"),
        ("001", "by 5 May 2015", "lake-tharthar-government-control-001"),
    ],
    "Samarra": [
        ("001", "4–5 May 2015", "samarra-attacked-001"),
        ("001", "by 5 May 2015", "samarra-impression-temporary-001"),
        ("001", "by 5 May 2015", "samarra-government-chain-001"),
    ],
    "Tharthar Valley": [
        # "In the first hour" of the operation, which the article does not date
        ("004", "by 9 Jul 2019", "tharthar-valley-bridges-004"),
    ],
    "east Mosul": [
        ("002", "by Mar 2017", "east-mosul-fierce-resistance-002"),
        ("002", "by Mar 2017", "east-mosul-liberated-002"),
    ],
    "Al-Baghdadi": [
        ("001", "by 5 May 2015", "al-baghdadi-taken-001"),
    ],
}


@pytest.mark.parametrize("query", list(TIMELINES))
async def test_timeline_order_and_dates(shipped: Engine, query: str) -> None:
    a = await shipped.timeline(query)
    assert a.error is None
    assert [(f.source.id[:3], f.event_date.label, f.id) for f in a.facts] == TIMELINES[query]
    assert a.message.startswith(f"{len(TIMELINES[query])} fact(s) about ")


async def test_hit_rutba_kubaysah_timelines_are_all_000(shipped: Engine) -> None:
    """000 is the only article on the three towns: everything is "by 14 Mar 2016" except the
    undated background, predictions and counterfactuals, in article order."""
    for query, first, undated in [
        ("Hit", "hit-isis-abandoned-000",
         ["hit-central-iraq-000", "hit-same-fate-likely-000", "hit-headquarters-000"]),
        ("Rutba", "rutba-isis-abandoned-000", ["rutba-desert-outpost-000"]),
        ("Kubaysah", "kubaysah-isis-abandoned-000", ["kubaysah-central-iraq-000"]),
    ]:
        a = await shipped.timeline(query)
        assert {f.source.id for f in a.facts} == {S000}
        assert ids(a)[0] == first
        assert [f.id for f in a.facts if f.event_date.label == "undated"] == undated
        assert {f.event_date.label for f in a.facts} == {"by 14 Mar 2016", "undated"}
    hit = await shipped.timeline("Hit")
    assert len(hit.facts) == 14


async def test_aleppo_timeline(shipped: Engine) -> None:
    a = await shipped.timeline("Aleppo")
    assert {f.place.id for f in a.facts} == {"aleppo", "east-aleppo"}
    # the two December 2016 facts share one quote, so nothing in the article orders them
    assert set(ids(a)[:2]) == {"east-aleppo-liberated-002", "aleppo-water-isis-cut-002"}
    assert pairs(a)[:2] == [("002", "since Dec 2016"), ("002", "Dec 2016")] \
        or pairs(a)[:2] == [("002", "Dec 2016"), ("002", "since Dec 2016")]
    assert ids(a)[2:] == ["aleppo-advance-east-002", "aleppo-water-secured-002",
                          "aleppo-water-fully-secured-002"]


async def test_will_of_victory_days_get_no_calendar_date(shipped: Engine) -> None:
    """004 counts "the second day", "the third day" of an operation whose start it never dates:
    every day of it is "by" the report, in article order."""
    a = await shipped.timeline("Iraq")
    labels = {f.id: f.event_date.label for f in a.facts}
    assert labels["iraq-2003-invasion-003"] == "2003"
    assert ids(a)[:2] == ["iraq-2003-invasion-003", "iraq-caliphate-2014-003"]
    assert [(f.source.id[:3], f.event_date.label, f.id) for f in a.facts[-8:]] == [
        ("004", "by 9 Jul 2019", "iraq-will-of-victory-day-two-004"),
        ("004", "by 9 Jul 2019", "northern-iraq-isis-cells-004"),
        ("004", "by 9 Jul 2019", "iraq-operation-launched-004"),
        ("004", "by 9 Jul 2019", "iraq-early-successes-004"),
        ("004", "by 9 Jul 2019", "iraq-desert-final-refuge-004"),
        ("004", "by 9 Jul 2019", "iraq-mod-day-two-004"),
        ("004", "by 9 Jul 2019", "iraq-mod-day-three-004"),
        ("004", "by 9 Jul 2019", "iraq-final-endeavour-004"),
    ]
    assert S004 not in {f.source.id for f in a.facts[:-8]}


async def test_isis_took_ramadi_before_it_lost_it_in_the_posts_words(shipped: Engine) -> None:
    """The post dates neither ISIS's taking of Ramadi nor its fall, so the timeline cannot order
    them by date; the taking's quote and summary carry the order the post gives."""
    facts = by_id(await shipped.timeline("Ramadi"))
    took, fell = facts["ramadi-isis-took-000"], facts["ramadi-fell-000"]
    assert took.event_date.label == fell.event_date.label == "by 14 Mar 2016"
    assert "after it took Ramadi, and with it's loss" in took.quote
    assert "later lost it" in took.summary


# ------------------------------------------------------------------------------------------------
# contradictions, parts, names
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "one", "other"), [
    ("Haditha", "haditha-taken-001", "haditha-never-taken-000"),          # 001 vs 000
    ("Baiji", "baiji-left-to-conquer-001", "baiji-government-chain-001"),  # within 001
])
async def test_contradictions_show_both_sides_linked(shipped: Engine, query: str, one: str,
                                                     other: str) -> None:
    for answer in (await shipped.status(query), await shipped.timeline(query)):
        facts = by_id(answer)
        assert one in facts and other in facts
        assert facts[one].contradicts == [other]
        assert facts[other].contradicts == [one]
        assert facts[one].status != facts[other].status  # they disagree on who holds it


async def test_a_place_includes_its_parts_facts(shipped: Engine) -> None:
    mosul = await shipped.timeline("Mosul")
    east = await shipped.timeline("east Mosul")
    west = await shipped.timeline("west Mosul")
    assert set(ids(east)) | set(ids(west)) < set(ids(mosul))
    assert len(east.facts) == 2 and len(west.facts) == 6
    assert {f.place.id for f in east.facts} == {"east-mosul"}
    assert {f.place.id for f in west.facts} == {"west-mosul"}
    status = await shipped.status("Mosul")
    assert {f.place.id for f in status.facts} == {"mosul", "east-mosul", "west-mosul"}
    deir = await shipped.timeline("Deir Ezzor")
    assert {f.place.id for f in deir.facts} == {"deir-ez-zor", "deir-ez-zor-airport"}
    airport = await shipped.timeline("Deir ez-Zor Airport")
    assert ids(airport) == ["deir-ez-zor-airport-cut-off-002", "deir-ez-zor-airport-defended-002"]
    # a part never shows its whole's facts
    assert "deir-ez-zor-isis-siege-002" not in ids(airport)
    dam = await shipped.timeline("Tharthar Dam")
    assert "lake-tharthar-government-control-001" not in ids(dam)


@pytest.mark.parametrize(("variant", "canonical", "place"), [
    ("Tadmur", "Palmyra", "palmyra"),
    ("تدمر", "Palmyra", "palmyra"),
    ("Dayr az-Zawr", "Deir ez-Zor", "deir-ez-zor"),
    ("Deir Ezzor", "Deir ez-Zor", "deir-ez-zor"),
    ("Heet", "Hit", "hit"),
    ("الموصل", "Mosul", "mosul"),
    ("Kubasya", "Kubaysah", "kubaysah"),
    ("Mukayshifash", "Mukayshifa", "mukayshifa"),
    ("Salahadin", "Salahuddin", "salahuddin"),
    ("eastern Mosul", "East Mosul", "east-mosul"),
])
async def test_a_name_variant_answers_for_the_right_place(shipped: Engine, variant: str, canonical: str,
                                                          place: str) -> None:
    for ask in (shipped.status, shipped.timeline):
        a, b = await ask(variant), await ask(canonical)
        assert a.error is None and a.place is not None and a.place.id == place
        assert b.place is not None and b.place.id == place
        assert ids(a) == ids(b) and headline(a) == headline(b) and a.as_of == b.as_of
        assert not any(n.startswith("Showing ") for n in a.notes)  # an exact name, not a guess


async def test_a_real_place_without_facts_says_no_facts(shipped: Engine) -> None:
    for ask in (shipped.status, shipped.timeline):
        a = await ask("Kirkuk")
        assert a.error == "no_facts"
        assert a.place is not None and a.place.name == "Kirkuk"
        assert a.facts == [] and isinstance(a, FailureAnswer)  # a failure has no headline
        assert "no facts about it yet" in a.message


@pytest.mark.parametrize("person", ["Abu Bakr al-Baghdadi", "Ibrahim Abu Bakr Al-Baghdadi"])
async def test_the_isis_leader_is_not_a_place(shipped: Engine, person: str) -> None:
    for ask in (shipped.status, shipped.timeline):
        a = await ask(person)
        assert a.error == "not_a_place" and a.place is None and a.facts == []
        assert "the ISIS leader" in a.message


async def test_the_town_al_baghdadi_gets_its_facts(shipped: Engine) -> None:
    for query in ("Al-Baghdadi", "al-Baghdadi", "البغدادي"):
        a = await shipped.status(query)
        assert a.place is not None and a.place.id == "al-baghdadi"
        assert ids(a) == ["al-baghdadi-taken-001"]


async def test_baghdadi_never_gives_baghdads_facts(shipped: Engine) -> None:
    baghdad = await shipped.timeline("Baghdad")
    assert baghdad.place is not None and baghdad.place.id == "baghdad" and len(baghdad.facts) == 6
    for query in ("Baghdadi", "baghdadi", "al-Baghdadi"):
        for ask in (shipped.status, shipped.timeline):
            a = await ask(query)
            assert not set(ids(a)) & set(ids(baghdad))
            assert a.place is None or a.place.id != "baghdad"
            assert all(f.place.id != "baghdad" for f in a.facts)


# ------------------------------------------------------------------------------------------------
# every place: only its own facts and its parts', every date within its article
# ------------------------------------------------------------------------------------------------

def _load(name: str) -> dict[str, Any]:
    with (DATA / name).open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


PLACES: list[dict[str, Any]] = _load("places.yaml")["places"]
FACTS: list[dict[str, Any]] = _load("facts.yaml")["facts"]
PLACES_WITH_FACTS = sorted({f["place"] for f in FACTS})


def descendants(place_id: str) -> set[str]:
    out, todo = {place_id}, [place_id]
    while todo:
        parent = todo.pop()
        for p in PLACES:
            if p.get("parent") == parent and p["id"] not in out:
                out.add(p["id"])
                todo.append(p["id"])
    return out


def test_the_place_list_is_the_one_the_articles_need() -> None:
    assert len(PLACES_WITH_FACTS) >= 50
    assert {"mosul", "ramadi", "fallujah", "hit", "raqqa", "deir-ez-zor", "palmyra", "haditha",
            "tal-afar", "baiji"} <= set(PLACES_WITH_FACTS)
    assert descendants("mosul") == {"mosul", "east-mosul", "west-mosul"}
    assert descendants("lake-tharthar") == {"lake-tharthar", "tharthar-dam"}


@pytest.mark.parametrize("place_id", PLACES_WITH_FACTS)
async def test_no_answer_shows_another_places_facts(shipped: Engine, place_id: str) -> None:
    own = descendants(place_id)
    expected = {f["id"] for f in FACTS if f["place"] in own and f.get("rank") != "deprecated"}
    name = next(p["name"] for p in PLACES if p["id"] == place_id)
    for how in ("id", "name"):
        status = await (shipped.status(name, place_id=place_id) if how == "id"
                        else shipped.status(name))
        timeline = await (shipped.timeline(name, place_id=place_id) if how == "id"
                          else shipped.timeline(name))
        for a in (status, timeline):
            assert a.error is None, (how, a.message)
            assert a.place is not None and a.place.id == place_id, how
            assert a.facts, how
            assert {f.place.id for f in a.facts} <= own, how
        assert set(ids(timeline)) == expected
        assert set(ids(status)) <= expected and len(status.facts) == min(6, len(expected))
        # the status speaks for its newest source, which no listed fact postdates
        assert status.as_of == max(f.as_of for f in timeline.facts)
        # oldest first: event dates never go backwards
        keys = [f.event_date.sort_key(f.as_of) for f in timeline.facts]
        assert keys == sorted(keys)
        for f in timeline.facts:
            assert f.as_of == AS_OF[f.source.id]
            start = f.event_date.start
            if start is not None:
                assert start <= LATEST_PUBLICATION[f.source.id], f.id
                assert start.year in EVENT_YEARS[f.source.id], f.id


async def test_places_without_facts_never_borrow_any(shipped: Engine) -> None:
    for place_id in ("russia", "united-states", "iran"):
        for ask in (shipped.status, shipped.timeline):
            a = await ask("", place_id=place_id)
            assert a.error == "no_facts" and a.facts == []
            assert a.place is not None and a.place.id == place_id
