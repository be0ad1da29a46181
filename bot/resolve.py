"""Place resolution: what a member typed ("mosel", "the city of Mosul", "الموصل") -> a place id.

Platform-neutral and free of I/O: a :class:`Resolver` is built from :class:`NameEntry` rows (the
store feeds it curated names and the GeoNames gazetteer) plus the curated false friends, and answers
:meth:`Resolver.resolve` and :meth:`Resolver.complete` (autocomplete) from memory.

The order of questions in :meth:`Resolver.resolve`, and why:

1. **Normalise** (:func:`normalise`) both the indexed names and the query the same way, so that
   spelling noise (case, diacritics, Arabic vowel marks and alef forms, al-/ar-/ez- articles,
   zero-width and bidi characters, punctuation) never reaches the comparison.
2. **A false friend written exactly as curated** ("Abu Bakr al-Baghdadi", "Baghdadi", "Operation
   Damascus") is *not a place*, before anything else: these strings exist precisely because a
   lookup would otherwise find a place.
3. **Exact names** from a dict (about 1 µs). Places sharing a name are ranked by (priority,
   population); two curated places with the same priority are a real ambiguity.
4. **Word n-grams** that are exact names ("Mosul, Iraq", "what is happening in Ramadi"), longest
   first, so that "Tal Afar" beats "Afar". A match is exact only when every other word is filler;
   otherwise it is a lower-confidence ``fuzzy``, and an ordinary English word that happens to be a
   town ("hit") is only a suggestion.
5. **Fuzzy** matching with rapidfuzz over a *small candidate set*: DESIGN.md measured a full WRatio
   scan at 40-120 ms over 200k names, holding the GIL, and wrong on short aliases. Candidates come
   from buckets keyed by (length, first+last characters) and (length, middle two characters), so
   one typo anywhere still shares a bucket with its target while a query touches a few hundred
   names; the query is also tried in a transliteration-folded form (see :func:`_fold`). Names of
   three characters or fewer never take part. A second place within :data:`MARGIN` points makes
   the answer ``ambiguous`` unless one of them has strictly higher priority.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

__all__ = ["NameEntry", "Resolution", "Resolver", "normalise"]

MAX_RAW_CHARS = 400
"""Raw input is cut here before normalising: a 10,000-character message costs no more than this."""
MAX_QUERY_CHARS = 100
"""A query that is still longer once normalised is not a place name (``bad_input``)."""
MIN_FUZZY_CHARS = 4
"""Names and queries of three characters or fewer are exact-only ("Mosl" must never match "os")."""
FUZZY_CUTOFF = 80.0
"""Minimum score (0-100) for a fuzzy answer; below it the best matches are only suggestions."""
SUGGEST_CUTOFF = 65.0
"""Minimum score for a place to be offered as a suggestion."""
MARGIN = 3.0
"""A different place scoring within this many points of the best makes the answer ambiguous."""
MAX_SUGGESTIONS = 5
MAX_COMPLETIONS = 25
"""Discord allows 25 autocomplete choices of at most 100 characters each."""
MAX_CHOICE_CHARS = 100
NOTABLE_NAMES = 8192
"""How many of the best-ranked names get a second, small prefix index for autocomplete."""
NGRAM_SCORE = 90.0
"""Score of a name found among other, non-filler words ("mosul dam")."""

Kind = Literal["exact", "fuzzy", "ambiguous", "none", "not_a_place", "bad_input"]


# ----------------------------------------------------------------------------------------------
# Normalisation


_APOSTROPHES = "'’ʼ‘`ʻʿʾ´′"
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_CONTROL_SPACES = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_PRE: dict[int, str | None] = {ord(c): None for c in _APOSTROPHES}
_PRE.update(
    {
        ord(k): v
        for k, v in {
            # Arabic: one spelling per letter. Alef with hamza/madda/wasla -> bare alef; ta marbuta
            # -> ha; alef maqsura -> ya; hamza carriers -> their letter; Persian/Kurdish ya and kaf.
            "أ": "ا",
            "إ": "ا",
            "آ": "ا",
            "ٱ": "ا",
            "ة": "ه",
            "ى": "ي",
            "ؤ": "و",
            "ئ": "ي",
            "ی": "ي",
            "ک": "ك",
            # Latin letters that have no Unicode decomposition to strip a mark from.
            "ı": "i",
            "ł": "l",
            "ø": "o",
            "đ": "d",
            "ħ": "h",
            "æ": "ae",
            "œ": "oe",
            "þ": "th",
            "ð": "d",
        }.items()
    }
)
_PRE[0x0640] = None  # tatweel
for _cp in [*range(0x064B, 0x0660), 0x0670]:  # harakat / tashkeel, superscript alef
    _PRE[_cp] = None


def _fold_char(ch: str) -> str | None:
    """What one (already NFKC-normalised and case-folded) character becomes: itself, a spelling
    variant, a decomposed letter without its marks, "-" for a hyphen (articles are recognised by
    it), a space for punctuation/symbols/whitespace, or nothing for marks and format/control
    characters (zero-width and bidi controls must not split a word: "Mo\u200bsul" is "mosul")."""
    out: list[str] = []
    for c in unicodedata.normalize("NFKD", ch.translate(_PRE)):
        cat = unicodedata.category(c)
        if cat[0] == "M":
            continue
        if c in _HYPHENS:
            out.append("-")
        elif c.isalnum():
            out.append(c)
        elif cat[0] == "C" and c not in _CONTROL_SPACES:
            continue
        else:
            out.append(" ")
    return "".join(out) or None


class _FoldTable(dict[int, "str | None"]):
    """A ``str.translate`` table filled on demand, so normalisation runs in C after the first
    sight of each character. Growth is capped: hostile input cycling through a million code
    points must not grow memory; past the cap, characters are folded on every call."""

    CAP = 8192

    def __missing__(self, cp: int) -> str | None:
        value = _fold_char(chr(cp))
        if len(self) < self.CAP:
            self[cp] = value
        return value


_TABLE = _FoldTable()
_ARTICLES = "al|el|ar|as|ad|az|an|at|ash|ath|adh|ed|ez|es|er|et|en"
_HYPHEN_ARTICLE = re.compile(rf"(?<!\w)(?:{_ARTICLES})-+(?=\w)")
_ARTICLE_HINT = re.compile(rf"(?:^|\s)(?:{_ARTICLES}|ash|ال)(?:\s|$)|(?:^|\s)ال")
"""Cheap test for "maybe an article to drop", so most names skip the per-word loop."""
_DROP_TOKENS = frozenset({"al", "el", "ال"})
_SUN_ARTICLES = frozenset(
    {"ar", "as", "ad", "az", "an", "at", "ash", "ath", "adh", "ed", "ez", "es", "er", "et", "en"}
)


def _drop_articles(tokens: list[str]) -> list[str]:
    """Drop standalone al/el, an assimilated article written as its own word ("Ar Raqqah",
    "Ash Shatrah", "Deir ez Zor": the article's consonant starts the next word), and Arabic ال on
    each word ("دير الزور" -> "دير زور")."""
    out: list[str] = []
    last = len(tokens) - 1
    for i, tok in enumerate(tokens):
        if tok in _DROP_TOKENS:
            continue
        if tok in _SUN_ARTICLES and i < last and tokens[i + 1].startswith(tok[1:]):
            continue
        if len(tok) > 3 and tok.startswith("ال"):
            tok = tok[2:]
        out.append(tok)
    return out


def _normalise(text: str, articles: bool = True) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold().translate(_TABLE)
    if "-" in text:
        if articles:
            text = _HYPHEN_ARTICLE.sub("", text)
        text = text.replace("-", " ")
    if articles and _ARTICLE_HINT.search(text):
        return " ".join(_drop_articles(text.split()))
    return " ".join(text.split())


def normalise(text: str) -> str:
    """The form in which names are compared: NFKC, case-folded, without diacritics, Arabic vowel
    marks, tatweel or zero-width/bidi/control characters; Arabic letter variants unified;
    apostrophes removed; punctuation as spaces; transliterated and Arabic articles dropped
    ("Ar-Rutbah" -> "rutbah", "Deir ez-Zor" -> "deir zor", "الرمادي" -> "رمادي").

    The same function indexes names and reads queries, which is what makes it safe to be
    aggressive: both sides lose the same information.
    """
    return _normalise(text, articles=True)


_TRAIL_H = re.compile(r"(?<=[aeiou])h\b")
_DOUBLE = re.compile(r"(\w)\1+")


def _first_group(m: re.Match[str]) -> str:
    return m.group(1)


def _fold(norm: str) -> str:
    """Fold transliteration variants of a normalised name: y/i, Deir/Dair, Ramadee/Ramadi,
    Heet/Hit, Mossoul/Mosul, Qaim/Kaim, Baghdad/Bagdad, Fallujah/Falluja, doubled letters.

    Fuzzy matching only, and without storing folded copies of 200k names: the fuzzy buckets are
    keyed by the folded form but hold the name itself; a query is scored in both forms; the few
    finalists are folded again at query time. Never used for exact matches, where it would merge
    distinct names."""
    if not norm.isascii():
        return norm
    s = norm.replace("y", "i").replace("ei", "ai").replace("ee", "i").replace("oo", "u")
    s = s.replace("ou", "u").replace("ck", "k").replace("q", "k").replace("gh", "g")
    if s[-1:] == "h" or "h " in s:
        s = _TRAIL_H.sub("", s)
    if _DOUBLE.search(s):
        s = _DOUBLE.sub(_first_group, s)
    return norm if s == norm else s


# Words that carry no place information in a question ("what's happening in", "the city of",
# "Mosul, Iraq"). Used only after the whole query failed to match exactly, so names containing them
# ("Sadr City", "Anbar Province") still match first.
_FILLER_TEXT = """
    a about and any are area around at attack attacks battle city control controlled controls
    current currently district fall fight fighting for from give going governorate happened
    happening how hows i in info information iraq iraqi is latest liberation me near news now of
    offensive on or please province region s show siege situation status syria syrian the
    timeline to today town update updates village was were what whats where wheres who with
"""
FILLER_WORDS = frozenset(_FILLER_TEXT.split())
_LEADING = (("tell", "me"),)
"""Phrases dropped from the start of a query: "tell" alone is not filler (Tell Abyad)."""

# English words that are also towns: found among other words they are a suggestion, not an answer
# ("who hit the base" is not about Hit).
_COMMON_TEXT = """
    hit tell tall camp base dam bridge bar man mar ram rose hill lake river mine well wells oil gas
    station airport palace market bay sin sun tar tin top zone
"""
COMMON_WORDS = frozenset(_COMMON_TEXT.split())


# ----------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True, slots=True)
class NameEntry:
    """One name of one place. The first entry given for a place id is its display name."""

    place_id: str
    name: str  # as written, used for display
    priority: int = 0  # higher wins ties: curated with facts 3, curated 2, gazetteer 0-1
    population: int = 0


@dataclass(frozen=True, slots=True)
class Resolution:
    """The answer to "which place is this?".

    ``place_id`` is set for ``exact`` and ``fuzzy`` only; ``suggestions`` are other place ids, best
    first (at most five, never ``place_id``); ``note`` explains a ``not_a_place`` (or why input was
    refused)."""

    kind: Kind
    place_id: str | None
    score: float
    matched: str | None
    suggestions: tuple[str, ...]
    note: str | None = None


_SEP = "\x1f"
"""Joins a place's names into one UTF-8 string: one small object per place instead of one per name
(and Arabic names do not widen the Latin ones to two bytes a character)."""


class _Place:
    """A place as the resolver knows it. Shared by every name of the place, so that the exact
    index costs one reference per name."""

    __slots__ = ("id", "names", "population", "priority")

    def __init__(self, pid: str, name: str, priority: int, population: int) -> None:
        self.id = pid
        # every name as written, display name first, joined by _SEP; "surrogatepass" because a
        # name is any Python string, lone surrogates included, and must not fail the build
        self.names = name.encode("utf-8", "surrogatepass")
        self.priority = priority
        self.population = population

    def add_name(self, name: str) -> None:
        self.names += (_SEP + name).encode("utf-8", "surrogatepass")

    def all_names(self) -> list[str]:
        """The names as written, display name first, each once."""
        return list(dict.fromkeys(self.names.decode("utf-8", "surrogatepass").split(_SEP)))

    @property
    def display(self) -> str:
        return self.names.decode("utf-8", "surrogatepass").split(_SEP, 1)[0]

    @property
    def rank(self) -> tuple[int, int]:
        return (self.priority, self.population)

    def spelling(self, norm: str) -> str:
        """The first name as written that normalises to ``norm`` (the display name if none)."""
        names = self.all_names()
        for name in names:
            if normalise(name) == norm:
                return name
        return names[0]


_Places = _Place | tuple[_Place, ...]
"""What a name maps to: one place, or several ranked best first."""


def _as_tuple(value: _Places) -> tuple[_Place, ...]:
    return value if isinstance(value, tuple) else (value,)


def _add(value: _Places | None, place: _Place) -> _Places:
    if value is None:
        return place
    if isinstance(value, tuple):
        return value if place in value else (*value, place)
    return value if value is place else (value, place)


@dataclass(frozen=True, slots=True)
class _FalseFriend:
    text: str
    note: str
    place_id: str | None


@dataclass(slots=True)
class _Hit:
    place: _Place
    score: float
    norm: str


def _key(length: int, pair: str) -> int:
    """A fuzzy bucket's key: a length and two characters packed into one int."""
    return (length << 42) | (ord(pair[0]) << 21) | ord(pair[1])


class _Buckets:
    """Buckets of names under int keys, stored flat: one list of names ordered by key, the
    sorted distinct keys and where each bucket starts (two int arrays). At 200k names there are
    some 50k buckets, and as a dict of lists their overhead would outweigh the names they hold."""

    __slots__ = ("keys", "names", "starts")

    def __init__(self, buckets: dict[int, list[str]]) -> None:
        self.keys = array("q", sorted(buckets))
        self.starts = array("q")
        self.names: list[str] = []
        for key in self.keys:
            self.starts.append(len(self.names))
            self.names.extend(buckets[key])
        self.starts.append(len(self.names))

    def extend_into(self, out: list[str], key: int) -> None:
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            out.extend(self.names[self.starts[i] : self.starts[i + 1]])


_NO_PLACE = _Place("", "", 0, 0)
"""Stands in for the place of a false friend's fuzzy hit."""


def _bad(note: str) -> Resolution:
    return Resolution("bad_input", None, 0.0, None, (), note)


def _rank_key(place: _Place) -> int:
    """(priority, population) packed into one int for arrays and heaps."""
    return place.priority * (1 << 40) + min(max(place.population, 0), (1 << 40) - 1)


# ----------------------------------------------------------------------------------------------
# The resolver


class Resolver:
    """Resolves queries against a fixed set of names; build a new one when the names change.

    Immutable after construction (apart from a bounded autocomplete cache), so one instance can be
    shared by every command and built off the event loop.

    Memory at 200k names is dominated by the exact index (one normalised string and one dict slot
    per distinct name, about 100 bytes); everything else reuses those strings: the fuzzy buckets
    and the sorted autocomplete list hold references, places keep their names in one string.
    """

    def __init__(
        self,
        entries: Iterable[NameEntry],
        false_friends: Iterable[tuple[str, str] | tuple[str, str, str | None]] = (),
    ) -> None:
        """Index ``entries`` and ``false_friends``: ``(text, note)`` pairs, optionally with a third
        element, the id of the place the string could be mistaken for (offered as a suggestion).
        The first entry of a place id gives its display name."""
        places: dict[str, _Place] = {}
        exact: dict[str, _Places] = {}
        for e in entries:
            place = places.get(e.place_id)
            if place is None:
                place = places[e.place_id] = _Place(e.place_id, e.name, e.priority, e.population)
            else:
                place.add_name(e.name)
                if e.priority > place.priority:
                    place.priority = e.priority
                if e.population > place.population:
                    place.population = e.population
            norm = normalise(e.name)
            if norm:
                value = exact.get(norm)
                if value is None:
                    exact[norm] = place
                elif value is not place:
                    exact[norm] = _add(value, place)
        # Rank the places sharing a name once every priority is known.
        for norm, value in exact.items():
            if isinstance(value, tuple):
                exact[norm] = tuple(sorted(value, key=_rank_key, reverse=True))
        self._places = places
        self._exact = exact

        self._ff_strict: dict[str, _FalseFriend] = {}
        self._ff: dict[str, _FalseFriend] = {}
        for item in false_friends:
            text, note = item[0], item[1]
            pid = item[2] if len(item) > 2 else None
            ff = _FalseFriend(text, note, pid if pid in places else None)
            strict = _normalise(text, articles=False)
            if strict:
                self._ff_strict.setdefault(strict, ff)
            norm = normalise(text)
            if norm:
                self._ff.setdefault(norm, ff)

        self._build_fuzzy()
        self._build_complete()

    # -- construction ------------------------------------------------------------------------

    def _build_fuzzy(self) -> None:
        """Buckets of names for the fuzzy candidate set: by (length, first and last characters) and
        by (length, the two middle characters), all taken from the name's folded form (so that
        Fallujah and Faluja share keys), while the bucket holds the name itself (no second copy).

        A typo inside a name leaves the ends intact; a typo at either end leaves the middle intact
        (see :meth:`_candidates` for the shift that a lost or added first letter causes); the
        length changes little. Keys from the middle rather than the start keep buckets small
        although many names share a first word (Tell, Kafr, Deir)."""
        ends: dict[int, list[str]] = {}
        middle: dict[int, list[str]] = {}
        names = [n for n in self._exact if MIN_FUZZY_CHARS <= len(n) <= MAX_QUERY_CHARS]
        names += [n for n in self._ff if len(n) >= MIN_FUZZY_CHARS and n not in self._exact]
        for norm in names:
            f = _fold(norm)
            n = len(f)
            if n < 2:
                continue
            h = n // 2
            ends.setdefault(_key(n, f[0] + f[-1]), []).append(norm)
            middle.setdefault(_key(n, f[h - 1 : h + 1]), []).append(norm)
        self._ends = _Buckets(ends)
        self._middle = _Buckets(middle)

    def _build_complete(self) -> None:
        """A sorted list of names for prefix search, with each name's best place rank alongside
        (an int array, 8 bytes a name) so that popular prefixes rank without touching objects."""
        names = sorted(self._exact)
        ranks = array("q", [0]) * len(names)
        exact = self._exact
        for i, norm in enumerate(names):
            value = exact[norm]
            ranks[i] = _rank_key(value[0] if isinstance(value, tuple) else value)
        self._sorted = names
        self._sorted_rank = ranks
        # The best-ranked names again, sorted by name: a popular prefix ("a", "ka") finds its
        # best names among these few thousand instead of ranking tens of thousands. Every name
        # left out ranks below every name kept, so the answer is the same.
        notable: list[str] = []
        notable_rank = array("q")
        if len(names) > NOTABLE_NAMES:
            threshold = heapq.nlargest(NOTABLE_NAMES, ranks)[-1]
            kept = [i for i, r in enumerate(ranks) if r >= threshold]
            if len(kept) <= 2 * NOTABLE_NAMES:  # not when most names tie (all population 0)
                notable = [names[i] for i in kept]
                notable_rank = array("q", (ranks[i] for i in kept))
        self._notable = notable
        self._notable_rank = notable_rank
        top = heapq.nlargest(MAX_COMPLETIONS, self._places.values(), key=_rank_key)
        self._top = [p.id for p in top]
        # Plain dict, cleared when full: safe if complete() is ever called from several threads.
        self._complete_cache: dict[str, list[str]] = {}

    # -- lookups -----------------------------------------------------------------------------

    def names_of(self, place_id: str) -> list[str]:
        """Every name ``place_id`` was given, as written, display name first; [] if unknown."""
        place = self._places.get(place_id)
        return place.all_names() if place else []

    def _exact_result(self, norm: str, value: _Places, score: float, kind: Kind) -> Resolution:
        """One name, possibly several places: the best wins if it strictly dominates by
        (priority, population), except that two curated places (priority >= 2) of equal priority
        are ambiguous whatever their populations."""
        if not isinstance(value, tuple):
            return Resolution(kind, value.id, score, value.spelling(norm), ())
        a, b = value[0], value[1]
        ids = tuple(p.id for p in value)
        if a.priority > b.priority or (a.priority < 2 and a.population > b.population):
            return Resolution(kind, a.id, score, a.spelling(norm), ids[1 : 1 + MAX_SUGGESTIONS])
        return Resolution("ambiguous", None, score, a.spelling(norm), ids[:MAX_SUGGESTIONS])

    def _not_a_place(self, ff: _FalseFriend, score: float) -> Resolution:
        sugg = (ff.place_id,) if ff.place_id else ()
        return Resolution("not_a_place", None, score, ff.text, sugg, ff.note)

    def resolve(self, query: str) -> Resolution:
        """Resolve one query; never raises on any string (see the module docstring for order)."""
        if not isinstance(query, str):
            return _bad("not text")
        raw = query[:MAX_RAW_CHARS]
        norm = normalise(raw)
        if not norm:
            return _bad("no letters or digits in the query")
        if len(query) > MAX_RAW_CHARS or len(norm) > MAX_QUERY_CHARS:
            return _bad(f"too long for a place name (at most {MAX_QUERY_CHARS} characters)")

        if self._ff_strict:
            ff = self._ff_strict.get(_normalise(raw, articles=False))
            if ff is not None:
                return self._not_a_place(ff, 100.0)
        value = self._exact.get(norm)
        if value is not None:
            return self._exact_result(norm, value, 100.0, "exact")
        ff = self._ff.get(norm)
        if ff is not None:
            return self._not_a_place(ff, 100.0)

        tokens = norm.split()
        for phrase in _LEADING:
            if len(tokens) > len(phrase) and tuple(tokens[: len(phrase)]) == phrase:
                tokens = tokens[len(phrase) :]
                norm = " ".join(tokens)
        if len(tokens) == 1:
            value = self._exact.get(norm)
            if value is not None:
                return self._exact_result(norm, value, 100.0, "exact")
            return self._fuzzy(norm, tokens)
        ngram, definitive = self._ngrams(tokens)
        if ngram is not None and definitive:
            return ngram
        fuzzy = self._fuzzy(norm, tokens)
        if ngram is None:
            return fuzzy
        # A name among other words ("mosul dam") against a close match of the whole ("deir ezor"
        # is not the village Deir): the better score wins; a bare common word only if nothing else.
        if fuzzy.kind in ("fuzzy", "not_a_place") and fuzzy.score > ngram.score:
            return fuzzy
        if ngram.kind == "none" and fuzzy.kind != "none":
            return fuzzy
        return ngram

    def _ngrams(self, tokens: list[str]) -> tuple[Resolution | None, bool]:
        """Exact names among the words of a longer query, longest first; and whether the answer
        is definitive (every other word is filler, as in "the city of Mosul, Iraq")."""
        covered = [False] * len(tokens)
        found: list[tuple[str, _Places, bool]] = []  # (n-gram, places, is it a weak match)
        friends: list[_FalseFriend] = []
        for n in range(min(len(tokens) - 1, 6), 0, -1):
            for i in range(len(tokens) - n + 1):
                if any(covered[i : i + n]):
                    continue
                gram = " ".join(tokens[i : i + n])
                if n == 1 and gram in FILLER_WORDS:
                    continue
                value = self._exact.get(gram)
                if value is None:
                    ff = self._ff.get(gram)
                    if ff is None:
                        continue
                    friends.append(ff)
                else:
                    weak = n == 1 and (gram in COMMON_WORDS or len(gram) < MIN_FUZZY_CHARS)
                    found.append((gram, value, weak))
                covered[i : i + n] = [True] * n
        rest_is_filler = all(c or t in FILLER_WORDS for c, t in zip(covered, tokens, strict=True))
        score = 100.0 if rest_is_filler else NGRAM_SCORE
        if not found:
            if friends:
                return self._not_a_place(friends[0], score), rest_is_filler
            return None, False
        strong = [(g, v) for g, v, weak in found if not weak]
        if not rest_is_filler and not strong:
            weak_ids = self._ranked(p for _, v, _ in found for p in _as_tuple(v))
            return Resolution("none", None, 0.0, None, weak_ids), False
        chosen = strong or [(g, v) for g, v, _ in found]
        if len({_as_tuple(v)[0].id for _, v in chosen}) > 1:
            ids = tuple(dict.fromkeys(p.id for _, v in chosen for p in _as_tuple(v)))
            return Resolution("ambiguous", None, score, None, ids[:MAX_SUGGESTIONS]), rest_is_filler
        kind: Kind = "exact" if rest_is_filler else "fuzzy"
        return self._exact_result(chosen[0][0], chosen[0][1], score, kind), rest_is_filler

    def _ranked(self, places: Iterable[_Place]) -> tuple[str, ...]:
        unique = {p.id: p for p in places}
        ids = sorted(unique, key=lambda p: _rank_key(unique[p]), reverse=True)
        return tuple(ids[:MAX_SUGGESTIONS])

    # -- fuzzy -------------------------------------------------------------------------------

    def _candidates(self, q: str) -> list[str]:
        """The names worth scoring against the folded query ``q``, from the buckets of
        :meth:`_build_fuzzy` for every length within one of the query's (two from six letters).
        For a name of length m one longer than the query, its middle pair sits one place
        further left in the query if the query lost its first letter ("osul" for "mosul"); for one
        shorter, one place further right if the query gained a first letter."""
        out: list[str] = []
        ends, middle = self._ends, self._middle
        keys: list[int] = []
        mids: set[int] = set()
        n = len(q)
        if n < 2:
            return out
        w = 1 if n <= 5 else 2
        pair = q[0] + q[-1]
        for m in range(max(n - w, 2), n + w + 1):
            h = m // 2
            keys.append(_key(m, pair))
            if len(q[h - 1 : h + 1]) == 2:
                mids.add(_key(m, q[h - 1 : h + 1]))
        h = (n + 1) // 2
        if h >= 2:
            mids.add(_key(n + 1, q[h - 2 : h]))
        h = (n - 1) // 2
        if len(q[h : h + 2]) == 2:
            mids.add(_key(n - 1, q[h : h + 2]))
        for key in keys:
            ends.extend_into(out, key)
        for key in mids:
            middle.extend_into(out, key)
        return out

    def _score(self, norm: str, tokens: list[str]) -> tuple[list[_Hit], _Hit | None]:
        """Best hit per place, and the best false friend whose name no place shares.

        Scored with ``fuzz.ratio`` (normalised Indel similarity): the query and its
        transliteration-folded form against each candidate, then the folded query against the
        folded finalists; the best of these counts. The filler-free core of a longer query
        ("the city of mosel" -> "mosel") is scored too."""
        queries = [norm] if len(norm) >= MIN_FUZZY_CHARS else []
        core = " ".join(t for t in tokens if t not in FILLER_WORDS)
        if core != norm and len(core) >= MIN_FUZZY_CHARS:
            queries.append(core)
        best: dict[str, _Hit] = {}
        ff_best: _Hit | None = None
        for q in queries:
            fq = _fold(q)
            cands = self._candidates(fq)
            if not cands:
                continue
            found: dict[str, float] = {}
            for variant in (q, fq) if fq != q else (q,):
                got = process.extract(
                    variant, cands, scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF, limit=20
                )
                for name, raw_score, _ in got:
                    found[name] = max(found.get(name, 0.0), float(raw_score))
            for name, raw_score in found.items():
                # Fold the few finalists too: "Faluja" and "Fallujah" are equal once folded.
                folded = fuzz.ratio(fq, _fold(name))
                score = min(max(raw_score, folded), 99.0)  # equal up to folding is not exact
                value = self._exact.get(name)
                if value is None:
                    if name in self._ff and (ff_best is None or score > ff_best.score):
                        ff_best = _Hit(_NO_PLACE, score, name)
                    continue
                for place in _as_tuple(value):
                    hit = best.get(place.id)
                    if hit is None or score > hit.score:
                        best[place.id] = _Hit(place, score, name)
        hits = sorted(best.values(), key=lambda h: (h.score, *h.place.rank))
        hits.reverse()
        return hits, ff_best

    def _fuzzy(self, norm: str, tokens: list[str]) -> Resolution:
        hits, ff_hit = self._score(norm, tokens)
        top = hits[0].score if hits else 0.0
        ids = tuple(h.place.id for h in hits[:MAX_SUGGESTIONS])
        if ff_hit is not None and ff_hit.score >= FUZZY_CUTOFF and ff_hit.score >= top - MARGIN:
            ff = self._ff[ff_hit.norm]
            if ff_hit.score >= top:
                return self._not_a_place(ff, ff_hit.score)
            return Resolution("ambiguous", None, top, None, ids, ff.note)
        if not hits:
            return Resolution("none", None, 0.0, None, ())
        if top < FUZZY_CUTOFF:
            return Resolution("none", None, top, None, ids)
        near = [h for h in hits if h.score >= top - MARGIN]
        winner: _Hit | None = near[0] if len(near) == 1 else None
        if winner is None:
            prio = [h.place.priority for h in near]
            if prio.count(max(prio)) == 1:
                winner = near[prio.index(max(prio))]
        if winner is None:
            return Resolution("ambiguous", None, top, None, ids)
        others = tuple(h.place.id for h in hits if h is not winner)[:MAX_SUGGESTIONS]
        matched = winner.place.spelling(winner.norm)
        return Resolution("fuzzy", winner.place.id, winner.score, matched, others)

    # -- autocomplete ------------------------------------------------------------------------

    def complete(self, prefix: str, limit: int = MAX_COMPLETIONS) -> list[tuple[str, str]]:
        """Autocomplete: up to ``limit`` (at most 25) ``(place_id, display name)`` pairs for places
        with a name starting with ``prefix``, ranked by priority, then an exact name, then
        population. Empty input gives the top places; a prefix nothing starts with falls back to
        fuzzy suggestions. Display names are cut to 100 characters (Discord's limit)."""
        limit = max(0, min(limit, MAX_COMPLETIONS))
        if limit == 0 or not isinstance(prefix, str):
            return []
        p = normalise(prefix[:MAX_RAW_CHARS])[:MAX_QUERY_CHARS]
        if not p:
            return [(pid, self._choice(pid, None)) for pid in self._top[:limit]]
        lo = bisect_left(self._sorted, p)
        hi = bisect_left(self._sorted, p + "\U0010ffff", lo)
        names = self._prefix_names(p, lo, hi) if hi > lo else []
        if p in self._exact and p not in names:
            names = [p, *names]
        ranked: list[tuple[tuple[int, bool, int], _Place, str]] = []
        for norm in names:
            for place in _as_tuple(self._exact[norm]):
                ranked.append(((place.priority, norm == p, place.population), place, norm))
        ranked.sort(key=lambda r: r[0], reverse=True)
        out: dict[str, str] = {}
        for _, place, norm in ranked:
            if place.id not in out:
                out[place.id] = self._choice(place.id, norm, p)
                if len(out) >= limit:
                    break
        if len(out) < min(limit, MAX_SUGGESTIONS) and len(p) >= MIN_FUZZY_CHARS:
            # Few names start like this: add what a typo-tolerant lookup finds ("Palmi", "Mosel").
            res = self.resolve(prefix[:MAX_RAW_CHARS])
            found = res.suggestions if res.kind in ("exact", "fuzzy", "ambiguous") else ()
            for pid in ((res.place_id,) if res.place_id else ()) + found:
                if pid not in out and len(out) < limit:
                    out[pid] = self._choice(pid, None)
        return list(out.items())

    def _prefix_names(self, p: str, lo: int, hi: int) -> list[str]:
        """The names in ``[lo, hi)`` worth ranking: all of them for a rare prefix; otherwise the
        best 200 by place rank (a bounded heap over an int array), taken from the notable names
        when enough of them share the prefix, else from the whole range (cached: its first lookup
        costs a few milliseconds at 200k names)."""
        keep = MAX_COMPLETIONS * 8
        if hi - lo <= keep:
            return self._sorted[lo:hi]
        if hi - lo <= 2000:
            best = heapq.nlargest(keep, range(lo, hi), self._sorted_rank.__getitem__)
            return [self._sorted[i] for i in best]
        nlo = bisect_left(self._notable, p)
        nhi = bisect_left(self._notable, p + "\U0010ffff", nlo)
        if nhi - nlo >= 4 * MAX_COMPLETIONS:
            best = heapq.nlargest(keep, range(nlo, nhi), self._notable_rank.__getitem__)
            return [self._notable[i] for i in best]
        cached = self._complete_cache.get(p)
        if cached is not None:
            return cached
        best = heapq.nlargest(keep, range(lo, hi), self._sorted_rank.__getitem__)
        names = [self._sorted[i] for i in best]
        if len(self._complete_cache) >= 1024:
            self._complete_cache.clear()
        self._complete_cache[p] = names
        return names

    def _choice(self, pid: str, norm: str | None, typed: str = "") -> str:
        """Display text of an autocomplete choice: the place's name, plus the name that matched
        when the place's name does not itself start with what was typed ("Palmyra (Tadmur)")."""
        place = self._places[pid]
        display = place.display
        if norm is not None and not normalise(display).startswith(typed):
            display = f"{display} ({place.spelling(norm)})"
        if len(display) > MAX_CHOICE_CHARS:
            display = display[: MAX_CHOICE_CHARS - 1] + "…"
        return display
