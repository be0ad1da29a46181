"""Curation coverage: the fact store against the five seed articles.

Checks that every quote is verbatim, that every place name the articles use is accounted for by a
fact of that place from that article (or by an explicit, reasoned allow-list), that every
capitalised name in the articles is a place, a false friend or an ordinary word, that every place
is one the articles speak about, and that false friends never shadow place names.

Name matching is case-sensitive on whole words. Where candidate names overlap, the longest wins, so
"Abu Bakr al-Baghdadi" (a false friend) hides the town name "al-Baghdadi", and "eastern Mosul"
resolves to East Mosul rather than Mosul.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]

# (source, place) pairs where the article names a place without saying anything about it.
ALLOWED_MENTIONS: dict[tuple[str, str], str] = {
    (
        "000_c4c1ae3a7b28d96c",
        "united-states",
    ): 'the US only as an actor: "US media", "US presidential race", "US aircraft", "US and '
    'Russian airstrikes"',
    ("001_b4a972f6c9d70e69", "united-states"): 'the US only as an actor: "the U.S.-led coalition"',
    (
        "002_1c43777089593738",
        "united-states",
    ): 'the US only as an actor: "US military reports", "US Special Forces", "the US and Russia"',
    (
        "002_1c43777089593738",
        "russia",
    ): 'Russia only as an actor ("General Gerasimov or Russia", "the US and Russia") and in a '
    "link to another post (page boilerplate)",
    (
        "003_0b6851b251b281e4",
        "united-states",
    ): 'the US only as an actor: "the 2003 U.S.-led invasion", "a U.S.-led air coalition"',
    ("003_0b6851b251b281e4", "iran"): 'only in "Iran-backed" (of the Shi\'ite militias)',
}

# Places an article speaks about without naming them: (source, the phrase that refers to them).
UNNAMED_PLACES: dict[str, tuple[str, str]] = {
    "tharthar-dam": ("001_b4a972f6c9d70e69", "a dam on the southeastern side of Lake Tharthar"),
    "deir-ez-zor-airport": ("002_1c43777089593738", "cutting Deir Ezzor off from its airport"),
    "khafsa-water-plant": (
        "002_1c43777089593738",
        "a key water filtration plant treating the waters of Lake Assad",
    ),
}

# Capitalised words in the articles that are neither places nor false friends: sentence-initial
# and function words, headline words, dates, religious and ethnic groups, acronyms, and page
# boilerplate ("Post a Comment", "Join the conversation", "Inline Feedbacks", links to other posts).
_ORDINARY = """
    A Additionally After All Along And Areas As At But Children Contrary Cut Cutting During Especially
    Eventually For Fostering However I If In Indeed Instead It It's Leaving Looking Meanwhile
    Moreover No On One Operations Others Otherwise Perhaps Repeated Several Since Some Someone That
    The Their There These They This Thousands Tribal Unless Villagers What When Whence Which Whilst
    With Women You
    Ground Like Look Losing True Victory Would Militias Off Retreat Routes Strike West Spirits
    Spokesman
    April December January March October Monday Saturday
    Arabs Jihadi Jihadists Muslim Muslims Shi'ite Sunni
    IED IEDs
    Comment My Post Join Feedbacks Inline Notify View Goals Meeting Wiretap
"""
ORDINARY_WORDS = frozenset(_ORDINARY.split())

_CAPITALISED = re.compile(r"(?<![\w’'])[A-Z][\w’'.-]*")


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def _sources() -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in _read_yaml(ROOT / "seeds" / "sources.yaml")["sources"]}


@cache
def _texts() -> dict[str, str]:
    return {sid: (ROOT / "seeds" / f"{sid}.txt").read_text("utf-8") for sid in _sources()}


@cache
def _places_doc() -> dict[str, Any]:
    return _read_yaml(ROOT / "data" / "places.yaml")  # type: ignore[no-any-return]


def _places() -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in _places_doc()["places"]}


def _false_friends() -> list[dict[str, Any]]:
    return list(_places_doc().get("false_friends") or [])


@cache
def _facts_tuple() -> tuple[dict[str, Any], ...]:
    return tuple(_read_yaml(ROOT / "data" / "facts.yaml")["facts"])


def _facts() -> list[dict[str, Any]]:
    return list(_facts_tuple())


def _word(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)")


@cache
def _spans(source: str) -> tuple[tuple[int, int, str, str], ...]:
    """Non-overlapping (start, end, kind, key) matches of place names and false friends in a text,
    longest match first. kind is "place" (key: place id) or "false_friend" (key: its text)."""
    text = _texts()[source]
    candidates: list[tuple[int, int, str, str]] = []
    for place in _places().values():
        for name in place["names"]:
            candidates += [(m.start(), m.end(), "place", place["id"]) for m in _word(name).finditer(text)]
    for ff in _false_friends():
        candidates += [
            (m.start(), m.end(), "false_friend", ff["text"]) for m in _word(ff["text"]).finditer(text)
        ]
    candidates.sort(key=lambda s: (s[0] - s[1], s[0]))
    chosen: list[tuple[int, int, str, str]] = []
    for span in candidates:
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            chosen.append(span)
    return tuple(sorted(chosen))


def _mentions() -> set[tuple[str, str]]:
    return {(sid, key) for sid in _texts() for _, _, kind, key in _spans(sid) if kind == "place"}


# --- (1) quotes ------------------------------------------------------------------------------


def test_every_quote_is_an_exact_substring_of_its_source() -> None:
    texts = _texts()
    bad = [f["id"] for f in _facts() if f["source"] not in texts or f["quote"] not in texts[f["source"]]]
    assert not bad, f"quotes not found verbatim in their source: {bad}"


def test_facts_are_well_formed_and_linked() -> None:
    facts = _facts()
    places = _places()
    counts = Counter(f["id"] for f in facts)
    assert not [i for i, n in counts.items() if n > 1], "duplicate fact ids"
    by_id = {f["id"]: f for f in facts}
    for f in facts:
        assert f["place"] in places, (f["id"], f["place"])
        assert 3 <= len(f["summary"]) <= 300, f["id"]
        for other in f.get("contradicts") or []:
            assert other in by_id, (f["id"], other)
            assert f["id"] in (by_id[other].get("contradicts") or []), (
                f"contradiction {f['id']} -> {other} is not linked both ways"
            )
        for older in f.get("supersedes") or []:
            assert older in by_id and by_id[older]["place"] == f["place"], (f["id"], older)
    for place in places.values():
        assert place.get("parent") is None or place["parent"] in places, place["id"]


def test_facts_validate_against_the_model_and_never_postdate_their_source() -> None:
    from bot.domain.model import Fact, FalseFriend, Place, Source

    sources = {sid: Source.model_validate(s) for sid, s in _sources().items()}
    for p in _places_doc()["places"]:
        Place.model_validate(p)
    for ff in _false_friends():
        FalseFriend.model_validate(ff)
    for raw in _facts():
        fact = Fact.model_validate(raw)
        start = fact.event.start
        assert start is None or start <= sources[fact.source].latest_publication, fact.id


# --- (2) coverage ----------------------------------------------------------------------------


def test_every_place_mention_is_covered_by_a_fact_or_allowed() -> None:
    have = {(f["source"], f["place"]) for f in _facts()}
    missing = sorted(m for m in _mentions() if m not in have and m not in ALLOWED_MENTIONS)
    assert not missing, f"places named in an article with no fact from it: {missing}"


def test_allow_list_is_not_stale() -> None:
    mentions = _mentions()
    have = {(f["source"], f["place"]) for f in _facts()}
    for key, reason in ALLOWED_MENTIONS.items():
        assert reason.strip()
        assert key in mentions, f"allow-listed mention no longer occurs: {key}"
        assert key not in have, f"allow-listed mention now has a fact: {key}"


def test_every_fact_place_is_named_or_referred_to_in_its_source() -> None:
    mentions = _mentions()
    places = _places()
    texts = _texts()
    for f in _facts():
        key = (f["source"], f["place"])
        if key in mentions:
            continue
        # a part whose whole is named there, e.g. a fact about Hit from "these towns and cities"
        if f["place"] in UNNAMED_PLACES:
            src, phrase = UNNAMED_PLACES[f["place"]]
            assert src == f["source"] and phrase in texts[src], f["id"]
            continue
        parent = places[f["place"]].get("parent")
        assert parent and (f["source"], parent) in mentions, (
            f"{f['id']}: {f['place']} is not named in {f['source']}"
        )


def test_every_capitalised_name_is_a_place_a_false_friend_or_ordinary() -> None:
    unknown: dict[str, set[str]] = {}
    for sid, text in _texts().items():
        spans = _spans(sid)
        for m in _CAPITALISED.finditer(text):
            if any(start <= m.start() < end for start, end, _, _ in spans):
                continue
            word = m.group().rstrip(".’'-")
            if word not in ORDINARY_WORDS:
                unknown.setdefault(word, set()).add(sid[:3])
    assert not unknown, f"capitalised names not accounted for: {unknown}"


def test_known_false_friends_are_recorded() -> None:
    texts = {ff["text"] for ff in _false_friends()}
    for needed in (
        "Abu Bakr al-Baghdadi",
        "Ibrahim Abu Bakr Al-Baghdadi",
        "Baghdadi",
        "Operation Damascus",
        "Islamic State",
        "Daesh",
        "Dae’sh",
        "Hashid Shaabi",
        "Popular Mobilization Units",
        "Hezbollah",
        "Will of Victory",
        "Reuters",
        "AFP",
    ):
        assert needed in texts, needed
    every_text = "\n".join(_texts().values())
    for ff in _false_friends():
        assert _word(ff["text"]).search(every_text), f"false friend not in any article: {ff['text']}"


# --- (3) places are ones the articles speak about ---------------------------------------------


def test_every_place_is_named_in_an_article_or_is_the_whole_of_one_that_is() -> None:
    places = _places()
    named = {key for _, key in _mentions()}
    wholes = set()
    for pid in named | set(UNNAMED_PLACES):
        place = places[pid]
        if place.get("parent"):
            wholes.add(place["parent"])
        if place.get("governorate"):
            wholes |= {p["id"] for p in places.values() if place["governorate"] in p["names"]}
    texts = _texts()
    for pid, (src, phrase) in UNNAMED_PLACES.items():
        assert pid in places and phrase in texts[src], pid
        assert any(f["place"] == pid and f["source"] == src for f in _facts()), pid
    orphans = sorted(set(places) - named - wholes - set(UNNAMED_PLACES))
    assert not orphans, f"places no article speaks about: {orphans}"


def test_article_slips_are_recorded_as_names() -> None:
    places = _places()
    for pid, slip in [
        ("kubaysah", "Kubasya"),
        ("mukayshifa", "Mukayshifash"),
        ("salahuddin", "Salahadin"),
        ("abu-jarbuah", "Abu Jarbuah"),
        ("abu-jarbuah", "Abu Jarbuaa"),
        ("deir-ez-zor", "Deir Ezzor"),
    ]:
        assert slip in places[pid]["names"], (pid, slip)


# --- (4) false friends never shadow places ----------------------------------------------------


def test_no_false_friend_is_a_place_name() -> None:
    # case-insensitive, as the resolver compares names
    names = {n.casefold() for p in _places().values() for n in [p["name"], *p["names"]]}
    clash = sorted(ff["text"] for ff in _false_friends() if ff["text"].casefold() in names)
    assert not clash, f"false friends that are also place names: {clash}"
    places = _places()
    for ff in _false_friends():
        assert ff.get("not_place") is None or ff["not_place"] in places, ff["text"]
