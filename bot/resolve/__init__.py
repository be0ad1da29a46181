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
3. **Exact names**: a binary search of the sorted names (a few µs; see :class:`Resolver` for why
   not a dict). Places sharing a name are ranked by (priority, population); two curated places
   with the same priority are a real ambiguity.
4. **Word n-grams** that are exact names ("Mosul, Iraq", "what is happening in Ramadi"), longest
   first, so that "Tal Afar" beats "Afar". A match is exact only when every other word is filler;
   otherwise it is a lower-confidence ``fuzzy``, and an ordinary English word that happens to be a
   town ("hit") is only a suggestion.
5. **Fuzzy** matching with rapidfuzz over a *small candidate set*: DESIGN.md measured a full WRatio
   scan at 40-120 ms over 200k names, holding the GIL, and wrong on short aliases. Candidates come
   from buckets keyed by (length, first+last characters) and (length, middle two characters), so
   one typo anywhere still shares a bucket with its target while a query touches a few thousand
   of 200k names; the query is also tried in a transliteration-folded form (see :func:`_fold`). Names of
   three characters or fewer never take part. A second place within :data:`MARGIN` points makes
   the answer ``ambiguous`` unless one of them has strictly higher priority.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, groupby, pairwise
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


# ----------------------------------------------------------------------------------------------
# Compact storage
#
# At 200k places a Python object per place or per name costs more than the data: a str is 49
# bytes before its first character, an int 28, a dict slot about 40, a small object with slots 60
# or more. A resolver built that way retained some 73 MiB at 200k one-name places, three times the
# budget (the whole bot must fit in 100 MB RSS, and its imports alone take 61). So nothing here is
# an object per place or per name: strings live in a few large byte buffers, numbers in
# ``array``s, and a place or a name is an int, its position in those arrays.

_SEP = "\x1f"
"""Ends every name as written in a place's segment of the name buffer."""
_I32 = (-(1 << 31), (1 << 31) - 1)
_I64 = (-(1 << 63), (1 << 63) - 1)
_DIR_SIZE = 256 * 257 + 1
"""Keys of the two-byte directory of the sorted names (see :func:`_dir_key`), plus one."""


def _utf8(text: str) -> bytes:
    """UTF-8, "surrogatepass": a name or id is any Python string, lone surrogates included, and
    must neither fail the build nor be refused at lookup. UTF-8 keeps code point order
    (surrogates included), so the bytes sort exactly as the strings they encode."""
    return text.encode("utf-8", "surrogatepass")


def _text(data: bytes | bytearray) -> str:
    return data.decode("utf-8", "surrogatepass")


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return bounds[0] if value < bounds[0] else bounds[1] if value > bounds[1] else value


def _rank_key(priority: int, population: int) -> int:
    """(priority, population) packed into one int for arrays and heaps. Priorities are 0-3 in
    practice; clamping them keeps the key within 64 bits whatever a caller passes."""
    prio = _clamp(priority, (-(1 << 23), (1 << 23) - 1))
    return prio * (1 << 40) + _clamp(population, (0, (1 << 40) - 1))


def _dir_key(key: bytes) -> int:
    """Directory slot of a non-empty name: its first two bytes in sort order (a one-byte name
    sorts before every longer name starting with that byte)."""
    return key[0] * 257 + (key[1] + 1 if len(key) > 1 else 0)


def _zeros(typecode: str, n: int) -> array[int]:
    return array(typecode, bytes(array(typecode).itemsize * n))


class _Strings:
    """Byte strings in one buffer: item ``i`` is ``buf[off[i]:off[i + 1]]``. Four bytes of
    offset per string instead of a str object."""

    __slots__ = ("buf", "off")

    def __init__(self, buf: bytes | bytearray, off: array[int]) -> None:
        self.buf = buf
        self.off = off

    def __len__(self) -> int:
        return len(self.off) - 1

    def __getitem__(self, i: int) -> bytes | bytearray:
        return self.buf[self.off[i] : self.off[i + 1]]


class _Sorted:
    """The exact names in sorted order, as a sequence for ``bisect``: position ``s`` is name
    number ``order[s]``, read from the name buffer with its NUL terminator (NUL sorts before
    every byte of a name, so terminated names sort as the names do)."""

    __slots__ = ("buf", "off", "order")

    def __init__(self, names: _Strings, order: array[int]) -> None:
        self.buf = names.buf
        self.off = names.off
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, s: int) -> bytes | bytearray:
        n = self.order[s]
        return self.buf[self.off[n] : self.off[n + 1]]


class _Ids:
    """The place ids: UTF-8 in one buffer, numbered in order of first appearance, and an
    open-addressing hash table from id to number (slots hold numbers, -1 when empty; probed
    linearly, kept at most half full). About 20 bytes a place, where a dict of str to int costs
    over 100 (the key and value objects and the slot). ``hash`` of the id's bytes is randomised
    per process, which is fine for a table that lives in memory only. While ids are added, their
    hashes are kept too (4 bytes each, dropped by :meth:`done`) so that growing the table does
    not hash every id again."""

    __slots__ = ("buf", "hashes", "mask", "off", "slots")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.off = array("I", [0])
        self.slots = array("i", [-1]) * 1024
        self.mask = 1023
        self.hashes = array("I")

    def __len__(self) -> int:
        return len(self.off) - 1

    def __getitem__(self, p: int) -> str:
        return self.buf[self.off[p] : self.off[p + 1]].decode("utf-8", "surrogatepass")

    def find(self, pid: str) -> int:
        """The number of the place ``pid``, or -1."""
        key = pid.encode("utf-8", "surrogatepass")
        buf, off, slots, mask = self.buf, self.off, self.slots, self.mask
        i = hash(key) & mask
        while True:
            p = slots[i]
            if p < 0 or buf[off[p] : off[p + 1]] == key:
                return p
            i = (i + 1) & mask

    def add(self, pid: str) -> int:
        """The number of the place ``pid``, numbering it if new (then it is ``len(self) - 1``)."""
        key = pid.encode("utf-8", "surrogatepass")
        buf, off, slots, mask = self.buf, self.off, self.slots, self.mask
        h = hash(key)
        i = h & mask
        while True:
            p = slots[i]
            if p < 0:
                break
            if buf[off[p] : off[p + 1]] == key:
                return p
            i = (i + 1) & mask
        p = len(off) - 1
        buf += key
        off.append(len(buf))
        slots[i] = p
        self.hashes.append(h & 0xFFFFFFFF)
        if 2 * len(off) > len(slots):
            self._grow()
        return p

    def _grow(self) -> None:
        size = 2 * len(self.slots)
        slots = array("i", [-1]) * size
        mask = size - 1
        for p, h in enumerate(self.hashes):
            i = h & mask
            while slots[i] >= 0:
                i = (i + 1) & mask
            slots[i] = p
        self.slots, self.mask = slots, mask

    def done(self) -> None:
        """No more ids: drop what only adding needed."""
        self.hashes = array("I")


def _key(length: int, pair: str) -> int:
    """A fuzzy bucket's key: a length and two characters packed into one int."""
    return (length << 42) | (ord(pair[0]) << 21) | ord(pair[1])


def _fuzzy_keys(norm: str) -> tuple[int, int] | None:
    """The two bucket keys of a name (see :meth:`Resolver._build_names`), from its folded form;
    None for a name too short to take part in fuzzy matching."""
    if len(norm) < MIN_FUZZY_CHARS:
        return None
    f = _fold(norm)
    n = len(f)
    if n < 2:
        return None
    h = n // 2
    return (n << 42) | (ord(f[0]) << 21) | ord(f[-1]), (n << 42) | (ord(f[h - 1]) << 21) | ord(f[h])


def _group(
    keys: array[int], by_length: dict[int, array[int]]
) -> tuple[array[int], array[int], array[int]]:
    """Group items by key: their indices ordered by key (stable: items of one key stay in the
    order given), the distinct keys ascending, and where each key's items start in that order.
    ``by_length`` lists the items of each length (a fuzzy key's high bits).

    One sort per length, so that no single sort of every key holds the GIL or an int object per
    item at once: the build runs in a worker thread beside the event loop."""
    order = array("i")
    distinct = array("q")
    starts = array("i")
    get = keys.__getitem__
    for length in sorted(by_length):
        for key, same in groupby(sorted(by_length[length], key=get), key=get):
            distinct.append(key)
            starts.append(len(order))
            order.extend(same)
    starts.append(len(order))
    return order, distinct, starts


class _Buckets:
    """Buckets of names under int keys, stored flat: the sorted distinct keys; for each bucket
    where its names start among the name numbers (``vals``, or the numbers themselves when
    ``vals`` is None: the name buffer is ordered by these buckets) and where its text starts in
    ``text``, the bucket's names one after another, each ended by NUL. At 200k names there are
    some 50k buckets, and as a dict of lists their overhead would outweigh the names they hold.

    The text is what makes a query fast: a typo gathers a few thousand candidates from a dozen
    buckets, and decoding each name on its own would cost more than scoring them all; one
    ``decode`` and ``split`` per bucket run in C. Within a bucket, names keep the order they
    were added in."""

    __slots__ = ("keys", "starts", "text", "text_starts", "vals")

    def __init__(
        self,
        keys: array[int],
        starts: array[int],
        text: bytes | bytearray,
        text_starts: array[int],
        vals: array[int] | None,
    ) -> None:
        self.keys = keys
        self.starts = starts
        self.text = text
        self.text_starts = text_starts
        self.vals = vals

    def gather(self, key: int, names: list[str], nums: array[int]) -> None:
        """Append the names under ``key`` and their numbers."""
        j = bisect_left(self.keys, key)
        if j < len(self.keys) and self.keys[j] == key:
            text = _text(self.text[self.text_starts[j] : self.text_starts[j + 1] - 1])
            names += text.split("\x00")
            a, b = self.starts[j], self.starts[j + 1]
            nums.extend(range(a, b) if self.vals is None else self.vals[a:b])


def _bisect_exact(names: _Strings | _Sorted, key: bytes, lo: int, hi: int) -> int:
    """Where ``key`` is among the sorted ``names[lo:hi]``, or -1."""
    i = bisect_left(names, key, lo, hi)
    return i if i < hi and names[i] == key else -1


@dataclass(frozen=True, slots=True)
class _FalseFriend:
    text: str
    note: str
    place_id: str | None


@dataclass(slots=True)
class _Hit:
    place: int  # place number, -1 for a false friend
    score: float
    norm: str


def _release_freed_memory() -> None:
    """Hand the build's freed scratch memory back to the OS (glibc's ``malloc_trim``; a no-op
    where there is none). A build frees some 10-15 MB of scratch arrays at 200k names, and
    glibc keeps freed blocks in its heaps for later reuse, so without this the process's RSS
    would stay near the build's peak for good: measured +35 MiB after building from 200k
    one-name places, +20.5 with it. Costs a few milliseconds, once a build."""
    try:
        import ctypes  # here, not at the top: needed once a build, not at start-up

        trim = ctypes.CDLL(None).malloc_trim
    except (ImportError, OSError, AttributeError, TypeError):
        return
    trim(0)


def _bad(note: str) -> Resolution:
    return Resolution("bad_input", None, 0.0, None, (), note)


@dataclass(slots=True)
class _NameSort:
    """What :func:`_sort_names` finds (see there); build-time only."""

    names: _Sorted | None  # None once the name buffer is written
    size: int  # bytes of the distinct names with their NULs
    entry_name: array[int]
    is_first: bytearray
    place: array[int]
    shared: dict[int, list[int]]
    directory: array[int]


def _sort_names(
    norms: bytearray,
    norm_off: array[int],
    by_key: dict[int, array[int]],
    entry_place: array[int],
) -> _NameSort:
    """Sort and deduplicate the entries' normalised names (``norms``, one per entry, each ended
    by NUL, some empty; ``by_key``: the entries whose name has each :func:`_dir_key`, in entry
    order), and gather each name's places on the way.

    Returns the distinct names in byte (= code point) order (a view of ``norms``: the first
    entry of each); each entry's position among them (-1 for an empty name); which entries are
    the first with their name; each name's first place, and all the places of the names that
    several places share (in entry order); and the two-byte directory: the names whose key is
    ``d`` are positions ``dir[d]`` to ``dir[d + 1] - 1``.

    Bucketed by the first two bytes, then one ``sorted`` per bucket: a single sort of every name
    would hold the GIL for ~70 ms in one C call and need an object per name at once; a bucket is
    at most a few thousand names."""
    count = len(entry_place)
    first = array("i")
    size = 0
    entry_name = array("i", [-1]) * count
    is_first = bytearray(count)
    place = array("i")
    first_add, place_add = first.append, place.append
    shared: dict[int, list[int]] = {}
    directory = _zeros("I", _DIR_SIZE)
    s = -1
    done = 0  # directory filled below this key
    for d in sorted(by_key):
        directory[done : d + 1] = array("I", [s + 1]) * (d + 1 - done)
        done = d + 1
        # a stable sort: equal names stay in entry order, so the first is the earliest
        prev = bytearray()
        group = by_key.pop(d)
        names = [norms[norm_off[k] : norm_off[k + 1]] for k in group]
        for i in sorted(range(len(names)), key=names.__getitem__):
            name, k = names[i], group[i]
            p = entry_place[k]
            if name != prev:
                s += 1
                prev = name
                size += len(name)
                first_add(k)
                is_first[k] = 1
                place_add(p)
            elif p != place[s]:
                lst = shared.get(s)
                if lst is None:
                    shared[s] = [place[s], p]
                elif p not in lst:
                    lst.append(p)
            entry_name[k] = s
    directory[done:] = array("I", [s + 1]) * (_DIR_SIZE - done)
    view = _Sorted(_Strings(norms, norm_off), first)
    return _NameSort(view, size, entry_name, is_first, place, shared, directory)


# ----------------------------------------------------------------------------------------------
# The resolver


class Resolver:
    """Resolves queries against a fixed set of names; build a new one when the names change.

    Immutable after construction (apart from a bounded autocomplete cache), so one instance can be
    shared by every command and built off the event loop.

    Memory: about 45 bytes a place and 55 a distinct name (some 20 MiB at 200k places with one
    name each, against 73 MiB as objects), held in a few dozen objects: the cyclic GC has almost
    nothing to walk, and a build in a worker thread makes no long GIL-holding call (no single
    sort of every name) that would stall the event loop.

    A *place* is a number ``p`` into parallel arrays: its id (``_ids``: UTF-8 in one buffer and
    a hash table back to the number), priority and population (``array('i')``; populations
    switch to 64 bits if one needs it) and its names as written (``_raw``: one segment per
    place, each name followed by ``\\x1f``, display name first).

    A *name* is a number ``n`` into the distinct normalised names (``_names``: UTF-8, each
    ended by NUL, in one buffer). They are numbered in the order of the fuzzy "ends" buckets, so
    that each of those buckets is one run of the buffer, decoded in one call; the other fuzzy
    buckets keep a packed copy of their names for the same reason (see :class:`_Buckets`).
    ``_sorted`` lists the numbers in name order: an exact lookup is a binary search within the
    names sharing the query's first two bytes (``_dir``), a few µs, and autocomplete's prefix
    ranges, ranks (``_sorted_rank``) and notable names are positions in that order.
    ``_name_place[n]`` is the name's place, or ``-(j + 1)`` when several places share it: they
    are ``_multi[_multi_start[j]:_multi_start[j + 1]]``, best first. False friends that no place
    is named take part in fuzzy matching as names too (numbers in ``_ff_nums``), but are not in
    ``_sorted``.
    """

    def __init__(
        self,
        entries: Iterable[NameEntry],
        false_friends: Iterable[tuple[str, str] | tuple[str, str, str | None]] = (),
    ) -> None:
        """Index ``entries`` and ``false_friends``: ``(text, note)`` pairs, optionally with a third
        element, the id of the place the string could be mistaken for (offered as a suggestion).
        The first entry of a place id gives its display name.

        ``entries`` is read once, so it may be a generator: a stream of 200k entries is never
        held, only its names, packed into buffers as they come."""
        # -- one pass over the entries: places, names as written and normalised, all packed
        ids = _Ids()
        prio = array("i")
        pop = array("i")
        raw = bytearray()  # every name as written, in entry order, each followed by _SEP
        raw_off = array("I", [0])
        entry_place = array("i")
        norms = bytearray()  # every entry's normalised name ended by NUL (or empty), in order
        norm_off = array("I", [0])
        # the entries whose normalised name has each _dir_key (first two bytes), for the sort
        by_key: defaultdict[int, array[int]] = defaultdict(lambda: array("i"))
        raw_end, place_add, norm_end = raw_off.append, entry_place.append, norm_off.append
        grouped = True  # every place's entries came one after another
        last_pid: str | None = None
        p = -1
        add_id, prio_add, pop_add = ids.add, prio.append, pop.append
        lo, hi = _I32
        for k, e in enumerate(entries):
            name = e.name
            pr, po = e.priority, e.population
            if e.place_id != last_pid or p < 0:
                last_pid = e.place_id
                p = add_id(last_pid)
                if p == len(prio):  # a new place
                    if not lo <= po <= hi and pop.typecode == "i":
                        pop = array("q", pop)  # a population beyond 32 bits: widen (never seen)
                        pop_add = pop.append
                    prio_add(pr if lo <= pr <= hi else _clamp(pr, _I32))
                    pop_add(po if lo <= po <= hi else _clamp(po, _I64))
                    pr = po = lo  # nothing to update below
                else:
                    grouped = False
            if pr > prio[p]:
                prio[p] = _clamp(pr, _I32)
            if po > pop[p]:
                if not lo <= po <= hi and pop.typecode == "i":
                    pop = array("q", pop)
                    pop_add = pop.append
                pop[p] = _clamp(po, _I64)
            raw += (name + _SEP).encode("utf-8", "surrogatepass")
            raw_end(len(raw))
            place_add(p)
            norm = _normalise(name).encode("utf-8", "surrogatepass")
            if norm:
                by_key[norm[0] * 257 + (norm[1] + 1 if len(norm) > 1 else 0)].append(k)
                norms += norm
                norms += b"\x00"
            norm_end(len(norms))
        ids.done()
        self._ids = ids
        self._prio = prio
        self._pop = pop
        self._raw = self._group_raw(raw, raw_off, entry_place, grouped)
        del raw, raw_off

        self._ff_strict: dict[str, _FalseFriend] = {}
        self._ff: dict[str, _FalseFriend] = {}
        for item in false_friends:
            text, note = item[0], item[1]
            ff_pid = item[2] if len(item) > 2 else None
            known = isinstance(ff_pid, str) and ids.find(ff_pid) >= 0
            ff = _FalseFriend(text, note, ff_pid if known else None)
            strict = _normalise(text, articles=False)
            if strict:
                self._ff_strict.setdefault(strict, ff)
            norm_text = normalise(text)
            if norm_text:
                self._ff.setdefault(norm_text, ff)

        # -- the distinct names: sorted, numbered for the fuzzy buckets, then their places
        sort = _sort_names(norms, norm_off, by_key, entry_place)
        del norms, norm_off, by_key, entry_place
        self._dir = sort.directory
        self._build_names(sort)
        self._index_places(sort)
        del sort
        self._build_complete()
        _release_freed_memory()

    # -- construction ------------------------------------------------------------------------

    def _group_raw(
        self, raw: bytearray, raw_off: array[int], entry_place: array[int], grouped: bool
    ) -> _Strings:
        """The names as written, one segment per place. A store streams each place's canonical
        name first and its other names later, so entries are regrouped here (a counting sort
        by place) unless every place's entries already came together."""
        places = len(self._prio)
        if grouped:
            off = array("I", [0]) * (places + 1)
            for k in range(1, len(entry_place)):
                if entry_place[k] != entry_place[k - 1]:
                    off[entry_place[k]] = raw_off[k]
            off[places] = len(raw)
            return _Strings(raw, off)
        off = _zeros("I", places + 1)  # first the bytes of each place, then where each starts
        for k, p in enumerate(entry_place):
            off[p + 1] += raw_off[k + 1] - raw_off[k]
        for p in range(places):
            off[p + 1] += off[p]
        cursor = array("I", off)
        buf = bytearray(len(raw))  # sized exactly: no growth, no copy
        for k, p in enumerate(entry_place):
            a, b = raw_off[k], raw_off[k + 1]
            at = cursor[p]
            buf[at : at + b - a] = raw[a:b]
            cursor[p] = at + b - a
        return _Strings(buf, off)

    def _build_names(self, sort: _NameSort) -> None:
        """Number the names, write the name buffer and the fuzzy buckets.

        The buckets: by (length, first and last characters) and by (length, the two middle
        characters), all taken from the name's folded form (so that Fallujah and Faluja share
        keys); the folded form itself is not kept. A typo inside a name leaves the ends intact; a
        typo at either end leaves the middle intact (see :meth:`_candidates` for the shift that a
        lost or added first letter causes); the length changes little. Keys from the middle
        rather than the start keep buckets small although many names share a first word (Tell,
        Kafr, Deir).

        Names join the buckets in the order they first appeared among the entries, then the false
        friends that are not names of places: within a bucket that order decides ties among
        equal scores. Names of three characters or fewer (or over 100) take no part; they are
        numbered last."""
        tmp = sort.names  # sorted positions -> the first entry with the name
        assert tmp is not None
        count = len(tmp)
        items = array("i")  # a sorted position, or count + j for the false friend ff_names[j]
        ends_keys, mid_keys = array("q"), array("q")
        by_length: defaultdict[int, array[int]] = defaultdict(lambda: array("i"))
        tb, to, first, entry_name = tmp.buf, tmp.off, tmp.order, sort.entry_name
        item_add, ends_add, mid_add = items.append, ends_keys.append, mid_keys.append
        for k in compress(range(len(entry_name)), sort.is_first):
            s = entry_name[k]
            norm = tb[to[k] : to[k + 1] - 1].decode()
            if MIN_FUZZY_CHARS <= len(norm) <= MAX_QUERY_CHARS:
                f = _fold(norm)  # what _fuzzy_keys does, inlined: this runs 200k times
                n = len(f)
                if n >= 2:
                    h = n // 2
                    by_length[n].append(len(items))
                    item_add(s)
                    ends_add((n << 42) | (ord(f[0]) << 21) | ord(f[-1]))
                    mid_add((n << 42) | (ord(f[h - 1]) << 21) | ord(f[h]))
        sort.entry_name, sort.is_first = array("i"), bytearray()  # done with them: free them
        ff_names: list[str] = []
        for norm in self._ff:
            key = _utf8(norm)
            d = _dir_key(key)
            keys = _fuzzy_keys(norm)
            lo, hi = sort.directory[d : d + 2]
            if keys is not None and _bisect_exact(tmp, key + b"\x00", lo, hi) < 0:
                by_length[keys[0] >> 42].append(len(items))
                items.append(count + len(ff_names))
                ends_keys.append(keys[0])
                mid_keys.append(keys[1])
                ff_names.append(norm)

        # Numbers in "ends" bucket order, then the names in no bucket.
        order, ends_distinct, ends_starts = _group(ends_keys, by_length)
        del ends_keys
        ff_bytes = [_utf8(norm + "\x00") for norm in ff_names]
        buf = bytearray(sort.size + sum(map(len, ff_bytes)))  # sized exactly: no growth, no copy
        off = _zeros("I", count + len(ff_bytes) + 1)
        num_of_pos = array("i", [-1]) * count
        num_of_item = _zeros("i", len(items))
        self._ff_nums: set[int] = set()
        num = at = 0
        for j in order:
            item = items[j]
            num_of_item[j] = num
            if item < count:
                num_of_pos[item] = num
                k = first[item]
                a, b = to[k], to[k + 1]
                buf[at : at + b - a] = tb[a:b]
                at += b - a
            else:
                self._ff_nums.add(num)
                name = ff_bytes[item - count]
                buf[at : at + len(name)] = name
                at += len(name)
            num += 1
            off[num] = at
        del order, items
        for s in range(count):
            if num_of_pos[s] < 0:
                num_of_pos[s] = num
                k = first[s]
                a, b = to[k], to[k + 1]
                buf[at : at + b - a] = tb[a:b]
                at += b - a
                num += 1
                off[num] = at
        self._names = names = _Strings(buf, off)
        self._sorted = _Sorted(names, num_of_pos)
        sort.names = tmp = None  # the entries' names are copied: free them
        del tb, to, first
        ends_text = array("I", (off[n] for n in ends_starts))
        self._ends = _Buckets(ends_distinct, ends_starts, names.buf, ends_text, None)

        order, mid_distinct, mid_starts = _group(mid_keys, by_length)
        del mid_keys, by_length
        vals = array("i", (num_of_item[j] for j in order))
        del order, num_of_item
        text = bytearray(off[len(vals)])  # every bucketed name once more: sized exactly
        text_starts = array("I", [0])
        at = 0
        for lo, hi in pairwise(mid_starts):
            chunk = b"".join([buf[off[n] : off[n + 1]] for n in vals[lo:hi]])
            text[at : at + len(chunk)] = chunk
            at += len(chunk)
            text_starts.append(at)
        self._middle = _Buckets(mid_distinct, mid_starts, text, text_starts, vals)

    def _index_places(self, sort: _NameSort) -> None:
        """Each name's places, best first by (priority, population), in the order the entries
        gave them where the ranks tie; each sorted name's best rank, for autocomplete; the top
        places, for an empty autocomplete."""
        order = self._sorted.order
        name_place = array("i", [-1]) * len(self._names)
        for s, p in enumerate(sort.place):
            name_place[order[s]] = p
        prio, pop = self._prio, self._pop
        if pop.typecode != "i" or (prio and (max(prio) >= 1 << 23 or min(prio) < -(1 << 23))):
            rank = array("q", map(_rank_key, prio, pop))
        else:  # _rank_key inlined (populations are 32-bit already): this runs 200k times
            rank = array(
                "q", ((pr << 40) + (po if po > 0 else 0) for pr, po in zip(prio, pop, strict=True))
            )
        best = array("q", (rank[p] for p in sort.place))
        multi_start = array("I", [0])
        multi = array("i")
        for s, lst in sort.shared.items():
            name_place[order[s]] = -len(multi_start)
            lst.sort(key=rank.__getitem__, reverse=True)
            multi.extend(lst)
            multi_start.append(len(multi))
            best[s] = rank[lst[0]]
        self._name_place = name_place
        self._multi_start = multi_start
        self._multi = multi
        self._sorted_rank = best
        self._top = heapq.nlargest(MAX_COMPLETIONS, range(len(rank)), key=rank.__getitem__)

    def _build_complete(self) -> None:
        """The sorted names already serve prefix search, with each name's best place rank
        alongside (``_sorted_rank``, an int array) so that popular prefixes rank without decoding
        names."""
        ranks = self._sorted_rank
        # The best-ranked names again (their positions, ascending, hence in name order): a
        # popular prefix ("a", "ka") finds its best names among these few thousand instead of
        # ranking tens of thousands. Every name left out ranks below every name kept, so the
        # answer is the same.
        notable = array("i")
        notable_rank = array("q")
        if len(ranks) > NOTABLE_NAMES:
            threshold = heapq.nlargest(NOTABLE_NAMES, ranks)[-1]
            kept = array("i", (s for s, r in enumerate(ranks) if r >= threshold))
            if len(kept) <= 2 * NOTABLE_NAMES:  # not when most names tie (all population 0)
                notable = kept
                notable_rank = array("q", (ranks[s] for s in kept))
        self._notable = notable
        self._notable_rank = notable_rank
        # Plain dict, cleared when full: safe if complete() is ever called from several threads.
        # Values are sorted positions, 4 bytes each, not strings.
        self._complete_cache: dict[str, array[int]] = {}

    # -- storage access ----------------------------------------------------------------------

    def _place(self, place_id: str) -> int:
        """The number of the place ``place_id``, or -1."""
        return self._ids.find(place_id)

    def _pid(self, p: int) -> str:
        return self._ids[p]

    def _all_names(self, p: int) -> list[str]:
        """The names of place ``p`` as written, display name first, each once."""
        return list(dict.fromkeys(_text(self._raw[p])[:-1].split(_SEP)))

    def _display(self, p: int) -> str:
        return _text(self._raw[p]).split(_SEP, 1)[0]

    def _spelling(self, p: int, norm: str) -> str:
        """The first name of ``p`` as written that normalises to ``norm`` (the display name if
        none)."""
        names = self._all_names(p)
        for name in names:
            if normalise(name) == norm:
                return name
        return names[0]

    def _rank(self, p: int) -> tuple[int, int]:
        return (self._prio[p], self._pop[p])

    def _norm(self, n: int) -> str:
        """Name number ``n`` (normalised)."""
        return _text(self._names[n][:-1])

    def _find(self, norm: str) -> int:
        """The sorted position of the exact (normalised) name ``norm``, or -1."""
        key = norm.encode("utf-8", "surrogatepass")
        if not key:
            return -1
        d = key[0] * 257 + (key[1] + 1 if len(key) > 1 else 0)  # _dir_key, inlined
        lo, hi = self._dir[d], self._dir[d + 1]
        key += b"\x00"
        # bisect_left, inlined: it runs for every word group of a query
        buf, off, order = self._names.buf, self._names.off, self._sorted.order
        end = hi
        while lo < hi:
            mid = (lo + hi) >> 1
            n = order[mid]
            if buf[off[n] : off[n + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < end:
            n = order[lo]
            if buf[off[n] : off[n + 1]] == key:
                return lo
        return -1

    def _name(self, norm: str) -> int:
        """The number of the exact (normalised) name ``norm``, or -1."""
        s = self._find(norm)
        return self._sorted.order[s] if s >= 0 else -1

    def _places_of(self, n: int) -> Sequence[int]:
        """The places of name ``n``, best first."""
        q = self._name_place[n]
        if q >= 0:
            return (q,)
        return self._multi[self._multi_start[-q - 1] : self._multi_start[-q]]

    # -- lookups -----------------------------------------------------------------------------

    def names_of(self, place_id: str) -> list[str]:
        """Every name ``place_id`` was given, as written, display name first; [] if unknown."""
        p = self._place(place_id) if isinstance(place_id, str) else -1
        return self._all_names(p) if p >= 0 else []

    def _exact_result(self, norm: str, i: int, score: float, kind: Kind) -> Resolution:
        """One name, possibly several places: the best wins if it strictly dominates by
        (priority, population), except that two curated places (priority >= 2) of equal priority
        are ambiguous whatever their populations."""
        places = self._places_of(i)
        a = places[0]
        if len(places) == 1:
            return Resolution(kind, self._pid(a), score, self._spelling(a, norm), ())
        b = places[1]
        ids = tuple(self._pid(p) for p in places)
        prio, pop = self._prio, self._pop
        if prio[a] > prio[b] or (prio[a] < 2 and pop[a] > pop[b]):
            matched = self._spelling(a, norm)
            return Resolution(kind, ids[0], score, matched, ids[1 : 1 + MAX_SUGGESTIONS])
        matched = self._spelling(a, norm)
        return Resolution("ambiguous", None, score, matched, ids[:MAX_SUGGESTIONS])

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
        i = self._name(norm)
        if i >= 0:
            return self._exact_result(norm, i, 100.0, "exact")
        ff = self._ff.get(norm)
        if ff is not None:
            return self._not_a_place(ff, 100.0)

        tokens = norm.split()
        for phrase in _LEADING:
            if len(tokens) > len(phrase) and tuple(tokens[: len(phrase)]) == phrase:
                tokens = tokens[len(phrase) :]
                norm = " ".join(tokens)
        if len(tokens) == 1:
            i = self._name(norm)
            if i >= 0:
                return self._exact_result(norm, i, 100.0, "exact")
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
        found: list[tuple[str, int, bool]] = []  # (n-gram, its name number, is it a weak match)
        friends: list[_FalseFriend] = []
        for n in range(min(len(tokens) - 1, 6), 0, -1):
            for i in range(len(tokens) - n + 1):
                if any(covered[i : i + n]):
                    continue
                gram = " ".join(tokens[i : i + n])
                if n == 1 and gram in FILLER_WORDS:
                    continue
                name = self._name(gram)
                if name < 0:
                    ff = self._ff.get(gram)
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
                return self._not_a_place(friends[0], score), rest_is_filler
            return None, False
        strong = [(g, v) for g, v, weak in found if not weak]
        if not rest_is_filler and not strong:
            weak_ids = self._ranked(p for _, v, _ in found for p in self._places_of(v))
            return Resolution("none", None, 0.0, None, weak_ids), False
        chosen = strong or [(g, v) for g, v, _ in found]
        if len({self._places_of(v)[0] for _, v in chosen}) > 1:
            places = dict.fromkeys(p for _, v in chosen for p in self._places_of(v))
            ids = tuple(self._pid(p) for p in list(places)[:MAX_SUGGESTIONS])
            return Resolution("ambiguous", None, score, None, ids), rest_is_filler
        kind: Kind = "exact" if rest_is_filler else "fuzzy"
        return self._exact_result(chosen[0][0], chosen[0][1], score, kind), rest_is_filler

    def _ranked(self, places: Iterable[int]) -> tuple[str, ...]:
        unique = list(dict.fromkeys(places))
        unique.sort(key=lambda p: _rank_key(self._prio[p], self._pop[p]), reverse=True)
        return tuple(self._pid(p) for p in unique[:MAX_SUGGESTIONS])

    # -- fuzzy -------------------------------------------------------------------------------

    def _candidates(self, q: str) -> tuple[list[str], array[int]]:
        """The names worth scoring against the folded query ``q``, and their numbers, from the
        buckets of :meth:`_build_names` for every length within one of the query's (two from six
        letters). For a name of length m one longer than the query, its middle pair sits one place
        further left in the query if the query lost its first letter ("osul" for "mosul"); for one
        shorter, one place further right if the query gained a first letter."""
        names: list[str] = []
        nums = array("i")
        ends, middle = self._ends, self._middle
        keys: list[int] = []
        mids: set[int] = set()
        n = len(q)
        if n < 2:
            return names, nums
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
            ends.gather(key, names, nums)
        for key in mids:
            middle.gather(key, names, nums)
        return names, nums

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
        best: dict[int, _Hit] = {}
        ff_best: _Hit | None = None
        ff_nums = self._ff_nums
        for q in queries:
            fq = _fold(q)
            cands, nums = self._candidates(fq)
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
                folded = fuzz.ratio(fq, _fold(name))
                score = min(max(raw_score, folded), 99.0)  # equal up to folding is not exact
                if i in ff_nums:
                    if ff_best is None or score > ff_best.score:
                        ff_best = _Hit(-1, score, name)
                    continue
                for p in self._places_of(i):
                    hit = best.get(p)
                    if hit is None or score > hit.score:
                        best[p] = _Hit(p, score, name)
        hits = sorted(best.values(), key=lambda h: (h.score, *self._rank(h.place)))
        hits.reverse()
        return hits, ff_best

    def _fuzzy(self, norm: str, tokens: list[str]) -> Resolution:
        hits, ff_hit = self._score(norm, tokens)
        top = hits[0].score if hits else 0.0
        ids = tuple(self._pid(h.place) for h in hits[:MAX_SUGGESTIONS])
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
            prio = [self._prio[h.place] for h in near]
            if prio.count(max(prio)) == 1:
                winner = near[prio.index(max(prio))]
        if winner is None:
            return Resolution("ambiguous", None, top, None, ids)
        others = tuple(self._pid(h.place) for h in hits[: MAX_SUGGESTIONS + 1] if h is not winner)
        matched = self._spelling(winner.place, winner.norm)
        return Resolution(
            "fuzzy", self._pid(winner.place), winner.score, matched, others[:MAX_SUGGESTIONS]
        )

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
            return [(self._pid(q), self._choice(q, None)) for q in self._top[:limit]]
        lo, hi = self._prefix_range(_utf8(p))
        found = self._prefix_names(p, lo, hi) if hi > lo else []  # sorted positions
        exact = self._find(p)
        if exact >= 0 and exact not in found:
            found = [exact, *found]
        ranked: list[tuple[tuple[int, bool, int], int, int]] = []
        prio, pop, order = self._prio, self._pop, self._sorted.order
        for s in found:
            n = order[s]
            for place in self._places_of(n):
                ranked.append(((prio[place], s == exact, pop[place]), place, n))
        ranked.sort(key=lambda r: r[0], reverse=True)
        out: dict[int, str] = {}
        for _, place, n in ranked:
            if place not in out:
                out[place] = self._choice(place, self._norm(n), p)
                if len(out) >= limit:
                    break
        if len(out) < min(limit, MAX_SUGGESTIONS) and len(p) >= MIN_FUZZY_CHARS:
            # Few names start like this: add what a typo-tolerant lookup finds ("Palmi", "Mosel").
            res = self.resolve(prefix[:MAX_RAW_CHARS])
            more = res.suggestions if res.kind in ("exact", "fuzzy", "ambiguous") else ()
            for pid in ((res.place_id,) if res.place_id else ()) + more:
                place = self._place(pid)
                if place >= 0 and place not in out and len(out) < limit:
                    out[place] = self._choice(place, None)
        return [(self._pid(place), text) for place, text in out.items()]

    def _prefix_range(self, key: bytes) -> tuple[int, int]:
        """Sorted positions ``[lo, hi)`` of the names starting with ``key`` (non-empty UTF-8).
        UTF-8 is prefix-free and keeps code point order, so these are one run of the sorted names
        and end before ``key + b"\\xff"`` (0xff never occurs in UTF-8)."""
        if len(key) == 1:
            return self._dir[key[0] * 257], self._dir[key[0] * 257 + 257]
        d = _dir_key(key)
        lo, hi = self._dir[d], self._dir[d + 1]
        names = self._sorted
        lo = bisect_left(names, key, lo, hi)
        return lo, bisect_left(names, key + b"\xff", lo, hi)

    def _prefix_names(self, p: str, lo: int, hi: int) -> list[int]:
        """The names (sorted positions) in ``[lo, hi)`` worth ranking: all of them for a rare
        prefix; otherwise the best 200 by place rank (a bounded heap over an int array), taken
        from the notable names when enough of them share the prefix, else from the whole range
        (cached: its first lookup costs a few milliseconds at 200k names)."""
        keep = MAX_COMPLETIONS * 8
        if hi - lo <= keep:
            return list(range(lo, hi))
        if hi - lo <= 2000:
            return heapq.nlargest(keep, range(lo, hi), self._sorted_rank.__getitem__)
        notable = self._notable
        nlo = bisect_left(notable, lo)
        nhi = bisect_left(notable, hi, nlo)
        if nhi - nlo >= 4 * MAX_COMPLETIONS:
            best = heapq.nlargest(keep, range(nlo, nhi), self._notable_rank.__getitem__)
            return [notable[i] for i in best]
        cached = self._complete_cache.get(p)
        if cached is not None:
            return list(cached)
        names = heapq.nlargest(keep, range(lo, hi), self._sorted_rank.__getitem__)
        if len(self._complete_cache) >= 1024:
            self._complete_cache.clear()
        self._complete_cache[p] = array("i", names)
        return names

    def _choice(self, place: int, norm: str | None, typed: str = "") -> str:
        """Display text of an autocomplete choice: the place's name, plus the name that matched
        when the place's name does not itself start with what was typed ("Palmyra (Tadmur)")."""
        display = self._display(place)
        if norm is not None and not normalise(display).startswith(typed):
            display = f"{display} ({self._spelling(place, norm)})"
        if len(display) > MAX_CHOICE_CHARS:
            display = display[: MAX_CHOICE_CHARS - 1] + "…"
        return display
