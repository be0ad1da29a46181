"""Propose candidate facts from a pasted article, for a moderator to accept, edit or drop.

Public API::

    @dataclass(frozen=True, slots=True)
    class Proposal:
        place_id: str                # the place a name in the sentence belongs to
        matched_name: str            # the name as written in the text
        quote: str                   # the sentence, an exact substring: text[position:].startswith(quote)
        position: int                # character offset of the quote in the text
        event: DateSpec              # the sentence's first date, else "by" the publication day
        date_text: str | None        # the words the date came from ("on Sunday"), if any
        status_hint: Status | None   # a suggested situation label, never applied silently
        attribution: str | None      # the speaker: "a military spokesman", "the Iraqi military"
        hedges: tuple[str, ...]      # hedge words found: "reportedly", "might", ...
        summary: str                 # a draft summary: the sentence, at most 300 characters

    propose(text, published, names, *, not_places=(), limit=50, latest=None) -> list[Proposal]

``names`` are (surface name, place id) pairs, the store's names (``iter_name_entries``) in practice;
the first pair for a surface name wins. ``not_places`` are strings that look like places but are
not (false friends such as "Abu Bakr al-Baghdadi", "Operation Inherent Resolve"). ``published`` is
the day relative dates are read against (``Source.as_of``), ``latest`` the last day an event can
start (``Source.latest_publication``; ``published`` when not given). Candidates come in text order,
one per (sentence, place), at most ``limit``.

How, and why:

* **Sentences** come from pysbd (rule-based, no model to download, handles "Brig. Gen." and
  "U.S."). Single newlines are turned into spaces first, which keeps every offset, so that
  hard-wrapped paragraphs are not cut at each line; blank lines still end a sentence. A wire
  dateline ("BAGHDAD, Oct 17 (Wire) - ") is left out: its place is where the story was filed and
  its date the publication's, neither is the event's.
* **Places** are found by one compiled regular expression: every usable name, longest first, between
  non-word characters, case-sensitive. Names shorter than :data:`MIN_NAME` characters are left out,
  and so are names written without a capital letter (the gazetteer's romanisations include
  ordinary words: "hit" must not match "jets had hit"). Scripts without case (Arabic) are kept. Each
  of ``not_places`` is in the same expression, so that it consumes its text ("Abu Bakr
  al-Baghdadi") and the place hidden in it ("al-Baghdadi") is never found; a name after a title
  ("Brig. Gen. Kareem Jassim") ends a person's name and is skipped as well. With the store's
  6,700 names (6,200 distinct) the expression compiles in about 60 ms (cached for the last few
  name lists) and scans a 10,000-character article in about 16 ms; the ``regex`` module's named
  lists were slower on the same data (0.33 s to compile, 60 ms to scan).
* **Dates**: a scan for expressions that carry a month name, a weekday, a four-digit year after a
  preposition, or a relative day word ("yesterday", "last week", "two days ago"), each read by
  :func:`~bot.services.dates.parse_user_date` against the publication date, which is also the
  latest the event can be. dateparser's own ``search_dates`` was tried and is too noisy for this
  ("may" and "march" as dates, "on Aug" for "on Aug. 25" with the day invented). A sentence with
  no date gets "by" the publication day with basis ``publication``, as curators write it in
  ``data/facts.yaml``.
* **Status hints** come from a keyword table, and only where the wording is unambiguous: ISIS
  labels need ISIS as the subject ("Islamic State fighters withdrew"), a negated keyword ("has not
  yet recaptured") gives nothing, and each keyword goes to the nearest place only, so "retook
  Qayyarah, south of Mosul" hints nothing for Mosul.

Measured on a 10,000-character article with the store's names: about 70 ms a call (16 ms names,
16 ms sentences, the rest dateparser), plus about 200 ms once per process for loading dateparser's
and pysbd's data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.domain.model import DateBasis, DateSpec, Precision, Qualifier, Status
from bot.services.dates import DateInputError, parse_user_date

__all__ = ["MIN_NAME", "SUMMARY_CHARS", "Proposal", "propose"]

MIN_NAME = 3
"""Shorter names ("US", "Ur") are mostly abbreviations or syllables in running text."""

SUMMARY_CHARS = 300
"""The store's limit on a fact summary."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """One proposed fact: a place named in a sentence, with what the sentence says about when,
    who says so and how surely. Every field is a draft for the moderator."""

    place_id: str
    matched_name: str
    quote: str
    position: int
    event: DateSpec
    date_text: str | None
    status_hint: Status | None
    attribution: str | None
    hedges: tuple[str, ...]
    summary: str


def propose(text: str, published: date, names: Iterable[tuple[str, str]], *,
            not_places: Iterable[str] = (), limit: int = 50, latest: date | None = None) -> list[Proposal]:
    """Proposal facts for every (sentence, place) in ``text``, in text order, at most ``limit``
    (see the module docstring). Relative dates are read against ``published``; no event may start
    after ``latest``, the last day the source can have been published (``published`` unless the
    publication date is a window)."""
    matcher = _matcher(tuple(names), frozenset(not_places))
    found: list[Proposal] = []
    if matcher.pattern is None or limit <= 0:
        return found
    days = _Days(published, latest or published)
    for start, end in _sentences(text, _dateline_end(text)):
        found.extend(_proposals(text, start, end, matcher, days))
        if len(found) >= limit:
            break
    return found[:limit]


# --- places -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Matcher:
    pattern: re.Pattern[str] | None
    places: dict[str, str | None]
    """Surface text -> place id, or None for a string that is not a place."""


def _capitalised(name: str) -> bool:
    """True for "Mosul", "al-Qaim", "ISIS" and Arabic script; false for "hit" or "mnbj"."""
    return name != name.lower() or name == name.upper()


@functools.lru_cache(maxsize=4)
def _matcher(names: tuple[tuple[str, str], ...], not_places: frozenset[str]) -> _Matcher:
    """One alternation over every usable name and not-place, longest first so that "East Mosul"
    wins over "Mosul" and "Abu Bakr al-Baghdadi" over "al-Baghdadi"."""
    places: dict[str, str | None] = {text.strip(): None for text in not_places if text.strip()}
    for surface, place_id in names:
        surface = surface.strip()
        if len(surface) >= MIN_NAME and _capitalised(surface) and surface not in places:
            places[surface] = place_id
    if not places:
        return _Matcher(None, places)
    alternatives = "|".join(map(re.escape, sorted(places, key=len, reverse=True)))
    return _Matcher(re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), places)


Mentions = dict[str, list[re.Match[str]]]

_TITLED = re.compile(
    r"\b(?:Gen|Brig|Col|Lt|Maj|Capt|Sgt|Adm|Mr|Mrs|Ms|Dr|Sheikh|Imam|Mullah|Emir|General|Colonel|Major"
    r"|Captain|Lieutenant|Admiral|President|Minister|Commander|Spokesman)\.?\s+(?:[A-Z][\w’'-]*\.?\s+){0,2}$"
)
"""A title and up to two more capitalised words before a name: the name ends a person's ("said
Brig. Gen. Kareem Jassim", and Jasim is a town in Syria)."""


def _mentions(text: str, start: int, end: int, matcher: _Matcher) -> Mentions:
    """Place id -> its name matches in text[start:end], places in order of first mention; names
    that end a titled person's name are not mentions."""
    mentions: Mentions = {}
    assert matcher.pattern is not None
    for m in matcher.pattern.finditer(text, start, end):
        place_id = matcher.places[m.group()]
        if place_id is not None and not _TITLED.search(text, max(start, m.start() - 60), m.start()):
            mentions.setdefault(place_id, []).append(m)
    return mentions


# --- sentences ----------------------------------------------------------------------------------

_DATELINE = re.compile(
    r"\A\s*[A-Z][A-Z'’.\- ]{1,40}?"                     # BAGHDAD
    r"(?:,[^\n()–—]{1,40}?\s*(?:\([^()\n]{1,40}\))?"    # , Oct 17 (Wire)
    r"|\s*\([^()\n]{1,40}\))"                            # or just (Reuters)
    r"\s*[-–—]{1,2}\s+"
)
_LONE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")


def _dateline_end(text: str) -> int:
    m = _DATELINE.match(text)
    return m.end() if m else 0


def _segmenter() -> Any:
    """A new pysbd English segmenter, imported on first use to keep this module cheap to import.

    ``clean=False`` so that segments are the text's own characters. New for every article because a
    Segmenter keeps the text it is working on in an attribute, so one shared between the worker
    threads ``propose`` runs in would mix two articles up; building one takes about a microsecond.
    """
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _sentences(text: str, begin: int) -> Iterator[tuple[int, int]]:
    """(start, end) of every sentence of text[begin:], surrounding whitespace excluded."""
    body = _LONE_NEWLINE.sub(" ", text[begin:])  # same length, so offsets carry over
    cursor = 0
    for piece in _segmenter().segment(body):
        at = body.find(piece, cursor)
        if at < 0:  # pragma: no cover - pysbd with clean=False returns the text's own pieces
            continue
        cursor = at + len(piece)
        stripped = piece.strip()
        if stripped:
            start = begin + at + (len(piece) - len(piece.lstrip()))
            yield start, start + len(stripped)


def _proposals(text: str, start: int, end: int, matcher: _Matcher, days: _Days) -> list[Proposal]:
    mentions = _mentions(text, start, end, matcher)
    if not mentions:
        return []
    sentence = text[start:end]
    event, date_text = _event(sentence, days)
    hints = _status_hints(sentence, {p: [(m.start() - start, m.end() - start) for m in ms]
                                     for p, ms in mentions.items()})
    attribution, hedges, summary = _attribution(sentence), _hedges(sentence), _summary(sentence)
    return [Proposal(place_id, ms[0].group(), sentence, start, event, date_text, hints.get(place_id),
                      attribution, hedges, summary)
            for place_id, ms in mentions.items()]


def _summary(sentence: str) -> str:
    flat = " ".join(sentence.split())
    if len(flat) <= SUMMARY_CHARS:
        return flat
    return flat[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:–—- ") + "…"


# --- dates --------------------------------------------------------------------------------------

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:tember|t)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)(?:\.|(?!\w))")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?!\w)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?(?!\d)"
_YEAR = r"(?:1[89]|20)\d\d(?!\d|,\d)"
_COUNT = r"(?:\d{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
_DATE_EXPR = re.compile(
    r"(?<![\w.,/-])"
    r"(?P<lead>(?i:by|since|around|about|circa|on|in|during|early|late)\s+|(?i:c\.)\s*|mid-)?"
    r"(?:"
    rf"(?:{_WEEKDAY},?\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"    # (Saturday,) 25 August (2016)
    rf"|(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?"             # Aug. 25(, 2016)
    rf"|{_MONTH},?\s+{_YEAR}"                                               # June 2014
    rf"|(?:(?i:last|this)\s+)?{_WEEKDAY}"                                    # (last) Sunday
    r"|(?i:yesterday|today|tonight|last\s+(?:night|week|month|year)|this\s+(?:week|month|year)"
    rf"|{_COUNT}\s+(?:days?|weeks?|months?|years?)\s+ago)(?!\w)"
    rf"|(?P<bare>{_MONTH}|{_YEAR})"                                         # in June, since 2014
    r")"
)
"""Date expressions worth reading: each has a month name, a weekday, a year or a relative day word.
Month and weekday names must be capitalised ("may", "march" are verbs), and a bare month or year
needs a word before it ("in June", "since 2014"), since "2000 fighters" is not a year."""


@dataclass(frozen=True, slots=True)
class _Days:
    published: date
    """What relative dates are read against."""
    latest: date
    """The last day an event can start."""


def _event(sentence: str, days: _Days) -> tuple[DateSpec, str | None]:
    """The first date in the sentence that reads as one on or before publication, else "by" the
    publication day."""
    for m in _DATE_EXPR.finditer(sentence):
        if m["bare"] and not m["lead"]:
            continue
        phrase = m.group().strip()
        try:
            return parse_user_date(phrase, relative_to=days.published, latest=days.latest), phrase
        except DateInputError:
            continue
    return DateSpec(start=days.published, end=days.published, precision=Precision.DAY,
                    qualifier=Qualifier.BY, basis=DateBasis.PUBLICATION,
                    note="no date in the sentence; a state the source reports as of its publication"), None


# --- status hints -------------------------------------------------------------------------------

_ISIS = r"(?:Islamic\s+State|(?-i:ISIS|ISIL|IS)|Daesh|Daish|(?:the\s+)?militants|jihadists)"
_BETWEEN = r"(?:\s+(?!not\b|never\b)[\w’'-]+){0,3}?"
_HINT_RULES: tuple[tuple[Status, str], ...] = (
    (Status.RECAPTURED, r"recaptured|retook|retaken|liberated|liberation\s+of"),
    (Status.BESIEGED, r"besieged|under\s+siege|laid\s+siege\s+to|siege\s+of"),
    (Status.SURROUNDED, r"surrounded|encircled"),
    (Status.UNDER_ATTACK, r"under\s+attack|attacked|stormed|assault\s+on"),
    (Status.OFFENSIVE_LAUNCHED,
     r"(?:launched|began|started)\s+(?:an?|the|its)\s+(?:[\w-]+\s+)?(?:offensive|assault|operation)"
     r"|push(?:ed)?\s+(?:into|towards?|on)"),
    (Status.OFFENSIVE_PLANNED,
     r"prepar(?:ing|es?)\s+(?:for\s+)?(?:an?|the)\s+(?:[\w-]+\s+)?(?:offensive|assault)"
     r"|planned\s+(?:offensive|assault)"),
    (Status.ISIS_CONTROL,
     rf"{_ISIS}{_BETWEEN}\s+(?:seized|overran|captured|took\s+(?:over|control\s+of))"
     rf"|(?:seized|captured|overrun|held|controlled)\s+by\s+{_ISIS}|fell\s+to\s+{_ISIS}"
     rf"|{_ISIS}-(?:held|controlled)"),
    (Status.ISIS_WITHDREW, rf"{_ISIS}{_BETWEEN}\s+(?:withdrew|retreated|pulled\s+out|fled)"),
    (Status.ISIS_ADVANCE, rf"{_ISIS}{_BETWEEN}\s+(?:advanced|pushed)"),
    (Status.GOVERNMENT_CONTROL,
     r"under\s+(?:full\s+)?(?:government|army|Iraqi|Syrian)\s+control|government-held"),
    (Status.CONTESTED, r"contested|street\s+fighting|(?:fighting|clashes)\s+(?:in|inside)"),
    (Status.CLEARANCE, r"clearing|cleared|clearance\s+operations?|mopping\s+up"),
    (Status.THREATENED, r"under\s+threat|threatened"),
)
_HINTS = tuple((status, re.compile(rf"\b(?:{rule})\b", re.IGNORECASE)) for status, rule in _HINT_RULES)
_NEGATED = re.compile(r"\b(?:not|never|no|yet\s+to|failed\s+to)(?:\s+\w+){0,2}\s*$|n[’']t\s*$", re.I)

Span = tuple[int, int]


def _status_hints(sentence: str, places: dict[str, list[Span]]) -> dict[str, Status]:
    """Place id -> the status its nearest keyword suggests. A keyword counts for the one place
    nearest to it; negated keywords and keywords inside a longer one ("Islamic State fighters
    withdrew" holds no separate hint) do not count."""
    found = [(status, m.span()) for status, rule in _HINTS for m in rule.finditer(sentence)
             if not _NEGATED.search(sentence, 0, m.start())]
    found = [(status, span) for status, span in found
             if not any(other != span and other[0] <= span[0] and span[1] <= other[1]
                        for _, other in found)]
    best: dict[str, tuple[int, Status]] = {}
    for status, span in sorted(found, key=lambda hint: hint[1]):
        place, gap = min(((p, min(_gap(span, s) for s in spans)) for p, spans in places.items()),
                         key=lambda pg: pg[1])
        if place not in best or gap < best[place][0]:
            best[place] = (gap, status)
    return {place: status for place, (_, status) in best.items()}


def _gap(a: Span, b: Span) -> int:
    """Characters between two spans, 0 when they touch or overlap."""
    return max(0, a[0] - b[1], b[0] - a[1])


# --- attribution and hedges ---------------------------------------------------------------------

_SAID = r"(?:said|says|told\s+\w+(?:\s+\w+)?|reported|announced|added|stated|claimed|confirmed)"
_ATTRIBUTIONS = (
    re.compile(r"\baccording\s+to\s+(?P<who>[^,;:()]+?)\s*(?:[,;:(]|$)", re.IGNORECASE),
    re.compile(rf",\s*{_SAID}\s+(?P<who>[^,;]+?)\s*(?:,|$)"),           # ..., said Brig. Gen. X
    re.compile(rf",\s*(?P<who>[^,;“”\"]+?)\s+{_SAID}\s*$"),            # ..., a military spokesman said
    re.compile(rf"^(?P<who>(?:[^\s,;“”\"]+\s+){{0,5}}?[^\s,;“”\"]+)\s+{_SAID}\b"),  # Officials said ...
)
_HEDGE = re.compile(
    r"\b(?:could\s+not\s+be\s+(?:independently\s+)?(?:verified|confirmed)|unconfirmed|unverified"
    r"|reportedly|allegedly|apparently|purportedly|supposedly|said\s+to\s+be|rumou?red"
    r"|may|might|could|claimed|claims|believed|likely|possibly|probably|perhaps"
    r"|seem(?:s|ed)?|appear(?:s|ed)?)\b",
    re.IGNORECASE,
)


def _attribution(sentence: str) -> str | None:
    """Who the sentence says is speaking: "according to X", "..., said X", "..., X said" or a
    sentence that opens with "X said"."""
    core = sentence.rstrip(" .!?\"”’'")
    for pattern in _ATTRIBUTIONS:
        m = pattern.search(core)
        if m:
            return " ".join(m["who"].split())
    return None


def _hedges(sentence: str) -> tuple[str, ...]:
    """Hedge words in order of appearance, lower case, each once; "May" the month is no hedge."""
    words = (" ".join(m.group().lower().split()) for m in _HEDGE.finditer(sentence)
             if m.group() != "May")
    return tuple(dict.fromkeys(words))
