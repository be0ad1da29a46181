"""The checks every way into the store shares: ``sitrep check`` on the curated files, a
moderator's change and an imported document. Each is written once here, so the three can never
disagree about what a valid fact is. Problems are short strings ("field: reason") that the caller
addresses to its file, entry or field."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.domain.model import DateBasis, Fact, Precision, Qualifier, Source, Status

M = TypeVar("M", bound=BaseModel)
K = TypeVar("K", bound=Hashable)


def fact_source_problems(fact: Fact, source: Source, text: str | None) -> list[str]:
    """What is wrong between a fact and its source, each as "field: reason": the quote must be
    the source's own words (where its text is known) and the event cannot come after the report."""
    problems = []
    if fact.quote and text is not None and fact.quote not in text:
        problems.append("quote: not an exact substring of the source's text")
    start = fact.event.start
    if start is not None and start > source.latest_publication:
        problems.append(f"date: {fact.event.label} is after the source was published "
                        f"({source.published_label})")
    return problems


def text_altered(source: Source, text: str | bytes) -> bool:
    """Whether ``text`` is not the article the source's recorded sha256 was taken of. The
    fingerprint is what lets a quote checked against the text be trusted as the original's words;
    a source without one cannot tell, and is not called altered."""
    if source.sha256 is None:
        return False
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest() != source.sha256


def validation_problems(exc: ValidationError) -> list[str]:
    """Every problem pydantic found, as "field: reason" (``entry`` when it is the whole entry)."""
    return [f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: "
            f"{err['msg'].removeprefix('Value error, ')}" for err in exc.errors()]


def validated(model: type[M], raw: Any) -> tuple[M | None, list[str]]:
    """``raw`` as a ``model``, or None and every reason it is not one."""
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, validation_problems(exc)


def duplicates(keys: Iterable[K]) -> dict[K, int]:
    """The keys that occur more than once, with how often."""
    return {key: n for key, n in Counter(keys).items() if n > 1}


def parent_loops(place_id: str, parents: Mapping[str, str | None]) -> bool:
    """Whether following ``parents`` up from ``place_id`` comes back to a place already seen."""
    seen, parent = {place_id}, parents.get(place_id)
    while parent is not None and parent in parents:
        if parent in seen:
            return True
        seen.add(parent)
        parent = parents[parent]
    return False


def link_problems(fact: Fact, known: Callable[[str], bool]) -> list[str]:
    """A fact's ``contradicts``/``supersedes`` links must name other facts that exist."""
    problems = []
    for link in (*fact.contradicts, *fact.supersedes):
        if link == fact.id:
            problems.append("links to itself")
        elif not known(link):
            problems.append(f"links to unknown fact {link!r}")
    return problems


# ------------------------------------------------------------------------------ status cues
STATUS_CUES: dict[Status, tuple[str, ...]] = {
    Status.ISIS_CONTROL: ("held", "hold", "hands", "control", "stronghold", "capital", "captur",
                          "took", "taking", "taken", "conque", "seiz", "occup"),
    Status.ISIS_ADVANCE: ("advanc", "regain", "gain", "took back", "take back", "taking",
                          "captur", "offensive", "momentum", "turning the tide"),
    Status.ISIS_WITHDREW: ("withdr", "retreat", "pull out", "pulled out", "pulling out",
                           "abandon", "given up", "gave up", "left", "fled", "evacuat"),
    Status.ISIS_PRESENCE: ("presence", "present", r"cells?\b", "fighters", "troops", "forces",
                           "militants", "remnants", "sleeper", "hotbed", r"dens\b", "remain",
                           "still ha", "left in", "left behind", "still left"),
    Status.RECAPTURED: ("liberat", "recaptur", "retook", "retak", r"freed\b", "took back",
                        "taken back", "take back", "taking back", "pushed out", "driven out",
                        "drove out", "expelled", "regained control"),
    Status.GOVERNMENT_CONTROL: ("government", r"under (?:\S+ ){0,3}control",
                                r"(?:army|regime|state)[- ](?:held|controlled)"),
    Status.BESIEGED: ("sieg", "besieg", r"cut(?:s|ting)? (?:\S+ ){0,3}off", "encircl",
                      "blockad", "break through"),
    Status.SURROUNDED: ("surround", "encircl", "noose"),
    Status.CONTESTED: ("contest", "battle", r"fight(?:s|ing)?\b", "back and forth",
                       "back-and-forth", "resist", "struggl", "clash", "front line", "advanc",
                       "regain", "lose", "lost"),
    Status.UNDER_ATTACK: ("attack", "assault", "strike", "struck", "shell", "bomb", "raid",
                          "offensive", "advanc", "fired"),
    Status.OFFENSIVE_LAUNCHED: ("launch", "began", "begun", "start", "offensive", "operation",
                                "campaign", "advanc", "heading", r"making (?:\S+ )?way",
                                "toward", "under way", "underway"),
    Status.OFFENSIVE_PLANNED: (r"aim(?:s|ed|ing)?\b", "goal", r"plan(?:s|ned|ning)?\b",
                               "prepar", "timetable", "intend", "objective", "target",
                               "heading toward"),
    Status.CLEARANCE: ("clear", "search", "rooting out", "root out", "dismantl", "destroy",
                       "eliminat", r"mop(?:s|ped|ping)? up", "sweep", "defus", "arrest"),
    Status.THREATENED: ("threat", "vulnerab", "striking range", "within reach", "critical",
                        "desperate", "precarious", "far from assured", "danger", "risk",
                        "menac", r"tr(?:y|ying|ied) to cut (?:\S+ ){0,3}off"),
}
"""What a quote must say for a status label to stand on it: word stems and phrases, matched
case-insensitively at the start of a word (``liberat`` matches liberated and liberation), with
the quote's spaces (no-break ones included) read as single spaces. Drawn from the five articles'
own wording; a match is necessary, not sufficient (it cannot tell who took what from whom), so a
curator still reads the quote. Where another sentence of the article says it, the fact's
``status_basis`` says which, and the check accepts it."""

_CUE_PATTERNS: dict[Status, re.Pattern[str]] = {
    status: re.compile(r"\b(?:" + "|".join(cues) + ")", re.IGNORECASE)
    for status, cues in STATUS_CUES.items()
}


def status_cue_problems(fact: Fact) -> list[str]:
    """A status label needs words in its quote that say it (``STATUS_CUES``), unless the curator
    has said in ``status_basis`` which words of the article do."""
    if fact.status is None:
        return ["status_basis: given for a fact without a status"] if fact.status_basis else []
    if fact.status_basis or not fact.quote:
        return []
    if _CUE_PATTERNS[fact.status].search(" ".join(fact.quote.split())):
        return []
    examples = [cue for cue in STATUS_CUES[fact.status] if cue.isalpha()][:4]
    return [f"status: the quote has none of the words {fact.status.value!r} needs "
            f"(e.g. {', '.join(examples)}); drop or change the label, "
            "or say in status_basis which words of the article say it"]


# ------------------------------------------------------------------------------ event days
_RELATIVE_DAY = re.compile(
    r"\b(?:today|tonight|yesterday|overnight|last night|this (?:morning|afternoon|evening)"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b", re.IGNORECASE)


def event_day_problems(fact: Fact, source: Source) -> list[str]:
    """An event said to fall on one day (not ``by`` it) whose basis is ``stated`` needs that day
    of the month in its quote; one whose basis is ``relative`` needs a word in the quote that
    counts from a known publication day ("on Saturday", "this morning", "yesterday"). A day
    reckoned otherwise (from "the second day" of an operation, or from words outside the quote)
    is ``inferred``, with a note saying from what."""
    spec = fact.event
    on_a_day = spec.precision is Precision.DAY and spec.qualifier in (Qualifier.ON, Qualifier.ABOUT)
    if not on_a_day or spec.start is None or not fact.quote:
        return []
    quote = " ".join(fact.quote.split())
    if spec.basis is DateBasis.STATED and not re.search(
            rf"\b0?{spec.start.day}(?:st|nd|rd|th)?\b", quote):
        return [f"date: {spec.label} is 'stated' but the quote does not give that day"]
    counted = source.published.precision is Precision.DAY and _RELATIVE_DAY.search(quote)
    if spec.basis is DateBasis.RELATIVE and not counted:
        return [f"date: {spec.label} is 'relative' but nothing in the quote counts that day "
                "from a known publication day"]
    return []
