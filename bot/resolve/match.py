"""Resolving a query: what a member typed ("mosel", "the city of Mosul", "الموصل") -> a place id.

The order of questions in :func:`resolve`, and why:

1. **Normalise** (:func:`.normalise.normalise`) both the indexed names and the query the same way,
   so that spelling noise (case, diacritics, Arabic vowel marks and alef forms, al-/ar-/ez-
   articles, zero-width and bidi characters, punctuation) never reaches the comparison.
2. **A false friend written exactly as curated** ("Abu Bakr al-Baghdadi", "Baghdadi", "Operation
   Damascus") is *not a place*, before anything else: these strings exist precisely because a
   lookup would otherwise find a place.
3. **Exact names**: a binary search of the sorted names (a few µs; see :class:`.index.Index` for
   why not a dict). Places sharing a name are ranked by (priority, population); two curated
   places with the same priority are a real ambiguity.
4. **Word n-grams** that are exact names ("Mosul, Iraq", "what is happening in Ramadi"), longest
   first, so that "Tal Afar" beats "Afar". A match is exact only when every other word is filler;
   otherwise it is a lower-confidence ``fuzzy``, and an ordinary English word that happens to be a
   town ("hit") is only a suggestion.
5. **Fuzzy** matching with rapidfuzz over a *small candidate set*: a full rapidfuzz WRatio scan
   over 200k names costs 40-120 ms and holds the GIL, and is wrong on short aliases. Candidates
   come from buckets keyed by (length, first+last characters) and (length, middle two
   characters), so one typo anywhere still shares a bucket with its target while a query touches
   a few thousand of 200k names; the query is also tried in a transliteration-folded form (see
   :func:`.normalise.fold`). Names of three characters or fewer never take part. A second place
   within :data:`MARGIN` points makes the answer ``ambiguous`` unless one of them has strictly
   higher priority.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.resolve.index import (
    MAX_QUERY_CHARS,
    MIN_FUZZY_CHARS,
    FalseFriend,
    Index,
    bucket_key,
    rank_key,
)
from bot.resolve.normalise import fold, normalise, normalise_text

MAX_RAW_CHARS = 400
"""Raw input is cut here before normalising: a 10,000-character message costs no more than this."""
FUZZY_CUTOFF = 80.0
"""Minimum score (0-100) for a fuzzy answer; below it the best matches are only suggestions."""
SUGGEST_CUTOFF = 65.0
"""Minimum score for a place to be offered as a suggestion."""
MARGIN = 3.0
"""A different place scoring within this many points of the best makes the answer ambiguous."""
MAX_SUGGESTIONS = 5
NGRAM_SCORE = 90.0
"""Score of a name found among other, non-filler words ("mosul dam")."""

Kind = Literal["exact", "fuzzy", "ambiguous", "none", "not_a_place", "bad_input"]

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




@dataclass(slots=True)
class _Hit:
    place: int  # place number, -1 for a false friend
    score: float
    norm: str



def _bad(note: str) -> Resolution:
    return Resolution("bad_input", None, 0.0, None, (), note)



def _exact_result(index: Index, norm: str, i: int, score: float, kind: Kind) -> Resolution:
    """One name, possibly several places: the best wins if it strictly dominates by
    (priority, population), except that two curated places (priority >= 2) of equal priority
    are ambiguous whatever their populations."""
    places = index.places_of(i)
    a = places[0]
    if len(places) == 1:
        return Resolution(kind, index.place_id(a), score, index.spelling(a, norm), ())
    b = places[1]
    ids = tuple(index.place_id(p) for p in places)
    prio, pop = index.prio, index.pop
    if prio[a] > prio[b] or (prio[a] < 2 and pop[a] > pop[b]):
        matched = index.spelling(a, norm)
        return Resolution(kind, ids[0], score, matched, ids[1 : 1 + MAX_SUGGESTIONS])
    matched = index.spelling(a, norm)
    return Resolution("ambiguous", None, score, matched, ids[:MAX_SUGGESTIONS])


def _not_a_place(ff: FalseFriend, score: float) -> Resolution:
    sugg = (ff.place_id,) if ff.place_id else ()
    return Resolution("not_a_place", None, score, ff.text, sugg, ff.note)


def resolve(index: Index, query: str) -> Resolution:
    """Resolve one query; never raises on any string (see the module docstring for order)."""
    if not isinstance(query, str):
        return _bad("not text")
    raw = query[:MAX_RAW_CHARS]
    norm = normalise(raw)
    if not norm:
        return _bad("no letters or digits in the query")
    if len(query) > MAX_RAW_CHARS or len(norm) > MAX_QUERY_CHARS:
        return _bad(f"too long for a place name (at most {MAX_QUERY_CHARS} characters)")

    if index.ff_strict:
        ff = index.ff_strict.get(normalise_text(raw, articles=False))
        if ff is not None:
            return _not_a_place(ff, 100.0)
    i = index.find_name(norm)
    if i >= 0:
        return _exact_result(index, norm, i, 100.0, "exact")
    ff = index.ff.get(norm)
    if ff is not None:
        return _not_a_place(ff, 100.0)

    tokens = norm.split()
    for phrase in _LEADING:
        if len(tokens) > len(phrase) and tuple(tokens[: len(phrase)]) == phrase:
            tokens = tokens[len(phrase) :]
            norm = " ".join(tokens)
    if len(tokens) == 1:
        i = index.find_name(norm)
        if i >= 0:
            return _exact_result(index, norm, i, 100.0, "exact")
        return _fuzzy(index, norm, tokens)
    ngram, definitive = _ngrams(index, tokens)
    if ngram is not None and definitive:
        return ngram
    fuzzy = _fuzzy(index, norm, tokens)
    if ngram is None:
        return fuzzy
    # A name among other words ("mosul dam") against a close match of the whole ("deir ezor"
    # is not the village Deir): the better score wins; a bare common word only if nothing else.
    if fuzzy.kind in ("fuzzy", "not_a_place") and fuzzy.score > ngram.score:
        return fuzzy
    if ngram.kind == "none" and fuzzy.kind != "none":
        return fuzzy
    return ngram


def _ngrams(index: Index, tokens: list[str]) -> tuple[Resolution | None, bool]:
    """Exact names among the words of a longer query, longest first; and whether the answer
    is definitive (every other word is filler, as in "the city of Mosul, Iraq")."""
    covered = [False] * len(tokens)
    found: list[tuple[str, int, bool]] = []  # (n-gram, its name number, is it a weak match)
    friends: list[FalseFriend] = []
    for n in range(min(len(tokens) - 1, 6), 0, -1):
        for i in range(len(tokens) - n + 1):
            if any(covered[i : i + n]):
                continue
            gram = " ".join(tokens[i : i + n])
            if n == 1 and gram in FILLER_WORDS:
                continue
            name = index.find_name(gram)
            if name < 0:
                ff = index.ff.get(gram)
                if ff is None:
                    continue
                friends.append(ff)
            else:
                weak = n == 1 and (gram in COMMON_WORDS or len(gram) < MIN_FUZZY_CHARS)
                found.append((gram, name, weak))
            covered[i : i + n] = [True] * n
    rest_is_filler = all(c or t in FILLER_WORDS for c, t in zip(covered, tokens, strict=True))
    score = 100.0 if rest_is_filler else NGRAM_SCORE
    if not found:
        if friends:
            return _not_a_place(friends[0], score), rest_is_filler
        return None, False
    strong = [(g, v) for g, v, weak in found if not weak]
    if not rest_is_filler and not strong:
        weak_ids = _ranked(index, (p for _, v, _ in found for p in index.places_of(v)))
        return Resolution("none", None, 0.0, None, weak_ids), False
    chosen = strong or [(g, v) for g, v, _ in found]
    if len({index.places_of(v)[0] for _, v in chosen}) > 1:
        places = dict.fromkeys(p for _, v in chosen for p in index.places_of(v))
        ids = tuple(index.place_id(p) for p in list(places)[:MAX_SUGGESTIONS])
        return Resolution("ambiguous", None, score, None, ids), rest_is_filler
    kind: Kind = "exact" if rest_is_filler else "fuzzy"
    return _exact_result(index, chosen[0][0], chosen[0][1], score, kind), rest_is_filler


def _ranked(index: Index, places: Iterable[int]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(places))
    unique.sort(key=lambda p: rank_key(index.prio[p], index.pop[p]), reverse=True)
    return tuple(index.place_id(p) for p in unique[:MAX_SUGGESTIONS])


def candidates(index: Index, q: str) -> tuple[list[str], array[int]]:
    """The names worth scoring against the folded query ``q``, and their numbers, from the
    buckets of :meth:`.index.Index._build_names` for every length within one of the query's (two from six
    letters). For a name of length m one longer than the query, its middle pair sits one place
    further left in the query if the query lost its first letter ("osul" for "mosul"); for one
    shorter, one place further right if the query gained a first letter."""
    names: list[str] = []
    nums = array("i")
    ends, middle = index.ends, index.middle
    keys: list[int] = []
    mids: set[int] = set()
    n = len(q)
    if n < 2:
        return names, nums
    w = 1 if n <= 5 else 2
    pair = q[0] + q[-1]
    for m in range(max(n - w, 2), n + w + 1):
        h = m // 2
        keys.append(bucket_key(m, pair))
        if len(q[h - 1 : h + 1]) == 2:
            mids.add(bucket_key(m, q[h - 1 : h + 1]))
    h = (n + 1) // 2
    if h >= 2:
        mids.add(bucket_key(n + 1, q[h - 2 : h]))
    h = (n - 1) // 2
    if len(q[h : h + 2]) == 2:
        mids.add(bucket_key(n - 1, q[h : h + 2]))
    for key in keys:
        ends.gather(key, names, nums)
    for key in mids:
        middle.gather(key, names, nums)
    return names, nums


def _score(index: Index, norm: str, tokens: list[str]) -> tuple[list[_Hit], _Hit | None]:
    """Best hit per place, and the best false friend whose name no place shares.

    Scored with ``fuzz.ratio`` (normalised Indel similarity): the query and its
    transliteration-folded form against each candidate, then the folded query against the
    folded finalists; the best of these counts. The filler-free core of a longer query
    ("the city of mosel" -> "mosel") is scored too."""
    queries = [norm] if len(norm) >= MIN_FUZZY_CHARS else []
    core = " ".join(t for t in tokens if t not in FILLER_WORDS)
    if core != norm and len(core) >= MIN_FUZZY_CHARS:
        queries.append(core)
    best: dict[int, _Hit] = {}
    ff_best: _Hit | None = None
    ff_nums = index.ff_nums
    for q in queries:
        fq = fold(q)
        cands, nums = candidates(index, fq)
        if not cands:
            continue
        found: dict[int, tuple[str, float]] = {}  # name number -> (name, best raw score)
        for variant in (q, fq) if fq != q else (q,):
            got = process.extract(
                variant, cands, scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF, limit=20
            )
            for name, raw_score, pos in got:
                i = nums[pos]
                seen = found.get(i)
                found[i] = (name, max(seen[1] if seen else 0.0, float(raw_score)))
        for i, (name, raw_score) in found.items():
            # Fold the few finalists too: "Faluja" and "Fallujah" are equal once folded.
            folded = fuzz.ratio(fq, fold(name))
            score = min(max(raw_score, folded), 99.0)  # equal up to folding is not exact
            if i in ff_nums:
                if ff_best is None or score > ff_best.score:
                    ff_best = _Hit(-1, score, name)
                continue
            for p in index.places_of(i):
                hit = best.get(p)
                if hit is None or score > hit.score:
                    best[p] = _Hit(p, score, name)
    hits = sorted(best.values(), key=lambda h: (h.score, *index.rank(h.place)))
    hits.reverse()
    return hits, ff_best


def _fuzzy(index: Index, norm: str, tokens: list[str]) -> Resolution:
    hits, ff_hit = _score(index, norm, tokens)
    top = hits[0].score if hits else 0.0
    ids = tuple(index.place_id(h.place) for h in hits[:MAX_SUGGESTIONS])
    if ff_hit is not None and ff_hit.score >= FUZZY_CUTOFF and ff_hit.score >= top - MARGIN:
        ff = index.ff[ff_hit.norm]
        if ff_hit.score >= top:
            return _not_a_place(ff, ff_hit.score)
        return Resolution("ambiguous", None, top, None, ids, ff.note)
    if not hits:
        return Resolution("none", None, 0.0, None, ())
    if top < FUZZY_CUTOFF:
        return Resolution("none", None, top, None, ids)
    near = [h for h in hits if h.score >= top - MARGIN]
    winner: _Hit | None = near[0] if len(near) == 1 else None
    if winner is None:
        prio = [index.prio[h.place] for h in near]
        if prio.count(max(prio)) == 1:
            winner = near[prio.index(max(prio))]
    if winner is None:
        return Resolution("ambiguous", None, top, None, ids)
    others = tuple(index.place_id(h.place) for h in hits[: MAX_SUGGESTIONS + 1] if h is not winner)
    matched = index.spelling(winner.place, winner.norm)
    return Resolution(
        "fuzzy", index.place_id(winner.place), winner.score, matched, others[:MAX_SUGGESTIONS]
    )

# -- autocomplete ------------------------------------------------------------------------
