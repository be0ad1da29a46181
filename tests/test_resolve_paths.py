"""The resolver's hand-inlined fast paths against plain reference implementations written here.

Each fast path (an ASCII shortcut, a cached translate table, an inlined bisect or key, a skipped
regex) exists for speed alone, so it must give exactly what the slow, obvious version gives.
Inputs come from a seeded generator (hypothesis is not a dependency): place-like names with
Arabic script, diacritics, articles, punctuation, typos, mixed case and random Unicode.
"""

from __future__ import annotations

import heapq
import random
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Iterator

import pytest

from bot.resolve import NameEntry, normalise
from bot.resolve.complete import CompletionCache, prefix_names, prefix_range
from bot.resolve.index import MAX_QUERY_CHARS, MIN_FUZZY_CHARS, Index, PlaceIds, bucket_key
from bot.resolve.normalise import (
    _CONTROL_SPACES,
    _HYPHENS,
    _PRE,
    _FoldTable,
    fold,
    normalise_text,
)

# ----------------------------------------------------------------------------------------------
# Generated inputs

_LATIN = ["mo", "sul", "ra", "ma", "di", "fal", "lu", "jah", "deir", "zor", "tal", "afar", "qa", "im",
          "heet", "ba", "gh", "dad", "kir", "kuk", "shat", "rah", "yy", "ee", "oo", "ck", "h"]
_MARKED = ["é", "ā", "ī", "ū", "ş", "ç", "ğ", "ı", "ł", "ø", "æ", "œ", "þ", "ð", "ħ", "đ", "Ö", "Å",
           "e\u0301", "a\u0304", "ﬁ", "Ⅻ", "²", "ｍｏｓｕｌ"]
_ARABIC = ["الموصل", "الرمادي", "دير", "الزور", "تدمر", "أربيل", "إ", "آ", "ٱ", "ة", "ى", "ؤ", "ئ", "ی",
           "ک", "ـ", "\u064e", "\u0650", "\u0670", "ال", "بغداد"]
_ARTICLES = ["al-", "Al-", "el-", "ar-", "Ar ", "ash-", "as-", "ez-", "ez ", "en-", "al ", "El ",
             "adh-", "ath ", "ad-", "at-", "es-", "er-", "et-", "ed-", "an-", "az-"]
_NOISE = ["-", "\u2010", "\u2013", "\u2212", "'", "’", "ʿ", "`", ".", ",", "!", "(", ")", "/", "_",
          " ", "  ", "\t", "\n", "\u200b", "\u200f", "\u202e", "\x00", "\x1f", "\x85", "\ufeff"]
_WORDS = ["the", "city", "of", "in", "tell", "me", "hit", "camp", "Mosul", "Iraq"]


def _random_char(rng: random.Random) -> str:
    """Any code point: mostly the BMP, lone surrogates included, sometimes the astral planes."""
    return chr(rng.randrange(0x110000) if rng.random() < 0.2 else rng.randrange(0x10000))


def _typo(rng: random.Random, s: str) -> str:
    if not s:
        return s
    i = rng.randrange(len(s))
    op = rng.randrange(4)
    if op == 0:
        return s[:i] + s[i + 1 :]
    if op == 1:
        return s[:i] + rng.choice("aeiouyhq") + s[i:]
    if op == 2 and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + rng.choice("bdkst") + s[i + 1 :]


def _word(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.45:
        w = "".join(rng.choice(_LATIN) for _ in range(rng.randint(1, 3)))
    elif kind < 0.6:
        w = "".join(rng.choice(_LATIN + _MARKED) for _ in range(rng.randint(1, 3)))
    elif kind < 0.8:
        w = "".join(rng.choice(_ARABIC) for _ in range(rng.randint(1, 3)))
    elif kind < 0.9:
        w = rng.choice(_WORDS)
    else:
        w = "".join(_random_char(rng) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.3:
        w = rng.choice(_ARTICLES) + w
    if rng.random() < 0.2:
        w = _typo(rng, w)
    if rng.random() < 0.3:
        w = rng.choice([w.upper(), w.title(), w.swapcase()])
    return w


def names(seed: int, count: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        parts = [_word(rng) for _ in range(rng.choice([1, 1, 2, 2, 3, 4]))]
        text = ""
        for part in parts:
            text += part + (rng.choice(_NOISE) if rng.random() < 0.4 else " ")
        yield text.strip() if rng.random() < 0.8 else text


# ----------------------------------------------------------------------------------------------
# Normalisation and folding

_REF_ARTICLE = re.compile(r"(?<!\w)(?:al|el|ar|as|ad|az|an|at|ash|ath|adh|ed|ez|es|er|et|en)-+(?=\w)")
_REF_SUN = {"ar", "as", "ad", "az", "an", "at", "ash", "ath", "adh", "ed", "ez", "es", "er", "et", "en"}


def ref_fold_char(c: str) -> str:
    out = ""
    for d in unicodedata.normalize("NFKD", c.translate(_PRE)):
        cat = unicodedata.category(d)
        if cat.startswith("M"):
            continue
        if d in _HYPHENS:
            out += "-"
        elif d.isalnum():
            out += d
        elif not (cat.startswith("C") and d not in _CONTROL_SPACES):
            out += " "
    return out


def ref_normalise(text: str, articles: bool = True) -> str:
    """No shortcut: NFKC always, every character folded afresh, the article rules on every word."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ref_fold_char(c) for c in text)
    if articles:
        text = _REF_ARTICLE.sub("", text)
    tokens = text.replace("-", " ").split()
    if not articles:
        return " ".join(tokens)
    out = []
    for i, tok in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok in ("al", "el", "ال"):
            continue
        if tok in _REF_SUN and following is not None and following.startswith(tok[1:]):
            continue
        out.append(tok[2:] if len(tok) > 3 and tok.startswith("ال") else tok)
    return " ".join(out)


def ref_fold(norm: str) -> str:
    """Every replacement and both regexes, always."""
    if not norm.isascii():
        return norm
    s = norm.replace("y", "i").replace("ei", "ai").replace("ee", "i").replace("oo", "u")
    s = s.replace("ou", "u").replace("ck", "k").replace("q", "k").replace("gh", "g")
    s = re.sub(r"(?<=[aeiou])h\b", "", s)
    return re.sub(r"(\w)\1+", r"\1", s)


def test_generated_names_cover_what_the_shortcuts_skip() -> None:
    """The generator reaches both sides of every shortcut below (else a test proves nothing)."""
    sample = list(names(1, 3000))
    assert sum(s.isascii() for s in sample) > 300 and sum(not s.isascii() for s in sample) > 300
    assert sum("-" in s for s in sample) > 300 and sum("-" not in s for s in sample) > 300
    assert sum(normalise(s) != normalise_text(s, articles=False) for s in sample) > 300
    assert sum("ال" in s for s in sample) > 100
    folded = [normalise(s) for s in sample]
    assert sum(f.isascii() and "h " in f for f in folded) > 20
    assert sum(f.isascii() and f.endswith("h") for f in folded) > 20


@pytest.mark.parametrize("articles", [True, False])
def test_normalise_matches_the_plain_version(articles: bool) -> None:
    """The ASCII shortcut past NFKC, the cached translate table, the hyphen test and the article
    hint that skips the per-word loop."""
    for text in names(2, 20_000):
        assert normalise_text(text, articles) == ref_normalise(text, articles), repr(text)
    for text in names(3, 2000):
        assert normalise(text) == ref_normalise(text), repr(text)


def test_the_fold_table_past_its_cap_folds_as_before() -> None:
    """Past its cap the table stops growing and folds each character on every call."""

    class Small(_FoldTable):
        CAP = 64

    table = Small()
    rng = random.Random(4)
    for _ in range(300):
        text = "".join(_random_char(rng) for _ in range(40)).casefold()
        assert text.translate(table) == "".join(ref_fold_char(c) for c in text), repr(text)
    assert len(table) == 64


def test_fold_matches_the_plain_version() -> None:
    """The trailing-h and doubled-letter regexes run only when the text could match them."""
    rng = random.Random(5)
    for text in names(5, 20_000):
        for norm in (normalise(text), normalise(_typo(rng, text))):
            assert fold(norm) == ref_fold(norm), repr(norm)


# ----------------------------------------------------------------------------------------------
# The index


def _entries(seed: int, count: int, extreme: bool = False) -> list[NameEntry]:
    """Places of one to four names, some names shared by several places, given in interleaved
    order half the time. ``extreme``: priorities and populations far beyond 32 bits."""
    rng = random.Random(seed)
    pool = [name.replace("\x1f", " ") for name in names(seed, count)]  # \x1f separates names as written
    out: list[NameEntry] = []
    place = 0
    while len(out) < count:
        pid = rng.choice([f"p{place}", f"é\ud800{place}", f"{place}-دير"])
        place += 1
        for _ in range(rng.randint(1, 4)):
            if extreme:
                prio = rng.choice([0, 3, -5, 1 << 23, -(1 << 23) - 1, 1 << 40, -(1 << 40)])
                pop = rng.choice([0, -7, 12, 1 << 31, 1 << 45, -(1 << 63) - 1, 1 << 64])
            else:
                prio = rng.choice([0, 0, 1, 2, 3, -1])
                pop = rng.choice([0, 5, 100, -3, rng.randrange(2_000_000)])
            name = rng.choice(pool) if rng.random() < 0.1 else pool[len(out) % len(pool)]
            out.append(NameEntry(pid, name, prio, pop))
    if seed % 2:
        rng.shuffle(out)
    return out


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


class Reference:
    """What the index should hold, built the obvious way: dicts, lists and ``sorted``."""

    def __init__(self, entries: list[NameEntry]) -> None:
        self.places: dict[str, list[NameEntry]] = {}
        for e in entries:
            self.places.setdefault(e.place_id, []).append(e)
        self.number = {pid: p for p, pid in enumerate(self.places)}
        self.prio = [_clamp(max(e.priority for e in es), -(1 << 31), (1 << 31) - 1)
                     for es in self.places.values()]
        # Below -2**31 a population reads as -2**31 (the build's "nothing to update" marker),
        # which no rank can tell from any other negative population: every one ranks as 0.
        self.pop = [_clamp(max(e.population for e in es), -(1 << 31), (1 << 63) - 1)
                    for es in self.places.values()]
        self.name_places: dict[str, list[int]] = {}
        for e in entries:
            norm = normalise(e.name)
            if norm:
                lst = self.name_places.setdefault(norm, [])
                if self.number[e.place_id] not in lst:
                    lst.append(self.number[e.place_id])
        for lst in self.name_places.values():
            lst.sort(key=self.rank, reverse=True)  # stable: ties keep the entries' order
        self.sorted = sorted(self.name_places, key=lambda n: n.encode("utf-8", "surrogatepass"))

    def rank(self, p: int) -> int:
        return _clamp(self.prio[p], -(1 << 23), (1 << 23) - 1) * 2**40 + _clamp(self.pop[p], 0, 2**40 - 1)


@pytest.fixture(scope="module", params=[(10, False), (11, False), (12, True), (13, True)])
def built(request: pytest.FixtureRequest) -> tuple[Index, Reference, list[NameEntry]]:
    seed, extreme = request.param
    entries = _entries(seed, 4000, extreme)
    return Index(entries, _false_friends(entries)), Reference(entries), entries


def _false_friends(entries: list[NameEntry]) -> list[tuple[str, str]]:
    """Some written like a place's name, most not; they join the fuzzy buckets after the names."""
    return [(e.name, "a person") for e in entries[::50]] + [(t, "an operation") for t in names(99, 300)]


def test_places_and_their_names_as_written(built: tuple[Index, Reference, list[NameEntry]]) -> None:
    """The id hash table, the clamped priority and population, and the names as written, which
    skip the regrouping when every place's entries came together."""
    index, ref, _ = built
    assert len(index.ids) == len(ref.places)
    for pid, es in ref.places.items():
        p = index.find_place(pid)
        assert p == ref.number[pid] and index.place_id(p) == pid
        assert (index.prio[p], index.pop[p]) == (ref.prio[p], ref.pop[p])
        assert index.all_names(p) == list(dict.fromkeys(e.name for e in es))
        assert index.display(p) == es[0].name
    assert index.find_place("nowhere") == -1 and index.find_place("") == -1


def test_grouped_and_interleaved_entries_give_the_same_names() -> None:
    entries = _entries(21, 3000)  # shuffled
    number = Reference(entries).number
    grouped = sorted(entries, key=lambda e: number[e.place_id])
    a, b = Index(entries), Index(grouped)
    for p in range(len(a.ids)):
        assert a.all_names(p) == b.all_names(b.find_place(a.place_id(p)))


def test_the_id_table_is_a_dict() -> None:
    rng = random.Random(6)
    ids, ref = PlaceIds(), {}
    for _ in range(30_000):
        pid = "".join(_random_char(rng) for _ in range(rng.randint(0, 3)))
        assert ids.add(pid) == ref.setdefault(pid, len(ref))
    ids.done()
    for pid, p in ref.items():
        assert ids.find(pid) == p and ids[p] == pid
    for _ in range(5000):
        pid = "".join(_random_char(rng) for _ in range(4))
        assert ids.find(pid) == ref.get(pid, -1)


def test_exact_lookup_is_a_binary_search_of_sorted_names(
    built: tuple[Index, Reference, list[NameEntry]],
) -> None:
    """The names sorted bucket by bucket, the two-byte directory (its key inlined in the build and
    in the lookup) and the inlined bisect."""
    index, ref, _ = built
    assert [index.name_text(index.sorted_names.order[s]) for s in range(len(ref.sorted))] == ref.sorted
    position = {n: s for s, n in enumerate(ref.sorted)}
    rng = random.Random(7)
    queries = [*ref.sorted, ""]
    queries += [_typo(rng, n) for n in ref.sorted]
    queries += [n[:k] for n in ref.sorted[::7] for k in range(1, len(n))]
    queries += [n + "a" for n in ref.sorted[::5]] + [normalise(t) for t in names(8, 3000)]
    for q in queries:
        assert index.find_position(q) == position.get(q, -1), repr(q)
        n = index.find_name(q)
        assert n == -1 if q not in position else index.name_text(n) == q, repr(q)


def test_each_name_lists_its_places_best_first(
    built: tuple[Index, Reference, list[NameEntry]],
) -> None:
    """The rank key inlined for 32-bit populations, and the generic one beyond."""
    index, ref, _ = built
    for s, norm in enumerate(ref.sorted):
        places = list(index.places_of(index.find_name(norm)))
        assert places == ref.name_places[norm], norm
        assert index.sorted_rank[s] == max(ref.rank(p) for p in places)


def _ref_buckets(entries: list[NameEntry]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    ends: dict[int, list[str]] = {}
    middle: dict[int, list[str]] = {}
    first_seen = dict.fromkeys(n for n in (normalise(e.name) for e in entries) if n)
    friends = dict.fromkeys(n for n in (normalise(t) for t, _ in _false_friends(entries)) if n)
    bucketed = [n for n in first_seen if MIN_FUZZY_CHARS <= len(n) <= MAX_QUERY_CHARS]
    bucketed += [n for n in friends if n not in first_seen and len(n) >= MIN_FUZZY_CHARS]
    for norm in bucketed:
        f = ref_fold(norm)
        if len(f) >= 2:
            h = len(f) // 2
            ends.setdefault(bucket_key(len(f), f[0] + f[-1]), []).append(norm)
            middle.setdefault(bucket_key(len(f), f[h - 1 : h + 1]), []).append(norm)
    return ends, middle


def test_fuzzy_buckets_hold_what_the_query_side_keys_find(
    built: tuple[Index, Reference, list[NameEntry]],
) -> None:
    """The bucket keys inlined in the build are the keys a query computes, every bucket holds
    its names in the order they first appeared, and each name's number reads back as it."""
    index, _, entries = built
    for buckets, expected in zip((index.ends, index.middle), _ref_buckets(entries), strict=True):
        assert sorted(buckets.keys) == sorted(expected)
        for key, want in expected.items():
            got: list[str] = []
            nums = array("i")
            buckets.gather(key, got, nums)
            assert got == want
            assert [index.name_text(n) for n in nums] == want


# ----------------------------------------------------------------------------------------------
# Prefix completion


@pytest.fixture(scope="module")
def ranked() -> Index:
    """A range for every completion tier: 12,000 ranked names (most of the notable ones); 2,500
    names starting "ra" of which only 150 rank high enough to be notable; 3,000 unranked names
    starting "qa", none of them notable."""
    rng = random.Random(9)
    entries = [NameEntry(f"n{i}", "".join(rng.choice("abdkmst") + rng.choice("aiu") for _ in range(4)),
                         1, rng.randrange(1, 10**6)) for i in range(12_000)]
    entries += [NameEntry(f"r{i}", f"ra{i}", 2 if i % 16 == 0 else 0, 1) for i in range(2400)]
    entries += [NameEntry(f"q{i}", f"qa{i}", 0, 0) for i in range(3000)]
    return Index(entries)


@pytest.mark.parametrize("mixed", [False, True])
def test_prefix_ranges_are_the_names_starting_with_the_prefix(ranked: Index, mixed: bool) -> None:
    """The one-byte prefix read off the directory, longer ones bisected within it."""
    extra = [NameEntry(f"x{i}", name) for i, name in enumerate(["a", "b", "ab", "ا", "é", "ﬁ", "q"])]
    index = Index(extra + _entries(10, 4000)) if mixed else ranked
    keys = [bytes(index.sorted_names[s][:-1]) for s in range(len(index.sorted_names))]
    rng = random.Random(14)
    prefixes = {k[: rng.choice([1, 1, 2, 2, 3, len(k)])] for k in rng.sample(keys, 300)}
    prefixes |= {bytes([b]) for b in range(256)} | {b"ab\xff", b"\xd8\xa7"}
    for prefix in prefixes:
        hits = [s for s, k in enumerate(keys) if k.startswith(prefix)]
        expected = (hits[0], hits[-1] + 1) if hits else None
        lo, hi = prefix_range(index, prefix)
        assert (lo, hi) == expected or (expected is None and lo == hi), prefix


def test_prefix_names_are_the_best_ranked_of_the_range(ranked: Index) -> None:
    """The notable names and the cache stand for a heap over the whole range: the same names in
    the same order (the notable names being, by construction, the best of any range)."""
    cache: CompletionCache = {}
    tiers = []
    for p in ["ab", "baka", "a", "k", "ra", "r", "qa", "q", "qa1", "qa12", "x"]:
        lo, hi = prefix_range(ranked, p.encode())
        best = heapq.nlargest(200, range(lo, hi), key=ranked.sorted_rank.__getitem__)
        notable = bisect_left(ranked.notable, hi) - bisect_left(ranked.notable, lo)
        got = prefix_names(ranked, cache, p, lo, hi)
        assert prefix_names(ranked, cache, p, lo, hi) == got, p  # again, from the cache if cached
        if hi - lo <= 200:
            tiers.append("all")
            assert got == list(range(lo, hi))
            continue
        assert got == best[: len(got)], p
        if hi - lo <= 2000:
            tiers.append("heap")
            assert len(got) == 200
        elif notable >= 100:
            tiers.append("notable")
            assert len(got) == min(200, notable)
        else:
            tiers.append("cache")
            assert len(got) == 200 and list(cache[p]) == got
    assert tiers.count("notable") == 2 and {"all", "heap", "cache"} < set(tiers), tiers
