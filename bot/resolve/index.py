"""The index: every name and place in a few large buffers and int arrays, built in one pass.

At 200k places a Python object per place or per name costs more than the data: a str is 49 bytes
before its first character, an int 28, a dict slot about 40, a small object with slots 60 or more.
A resolver built that way retained some 73 MiB at 200k one-name places, three times the budget
(the whole bot must fit in 100 MB RSS, and its imports alone take 61). So nothing here is an
object per place or per name: strings live in a few large byte buffers, numbers in ``array``s,
and a place or a name is an int, its position in those arrays.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, groupby, pairwise

from bot.resolve.normalise import fold, normalise, normalise_text

MAX_QUERY_CHARS = 100
"""A query that is still longer once normalised is not a place name, so longer names take no
part in fuzzy matching."""
MIN_FUZZY_CHARS = 4
"""Names and queries of three characters or fewer are exact-only ("Mosl" must never match "os")."""
MAX_COMPLETIONS = 25
"""Discord allows 25 autocomplete choices of at most 100 characters each; the index ranks that
many places for an empty prefix."""
NOTABLE_NAMES = 8192
"""How many of the best-ranked names get a second, small prefix index for autocomplete."""


@dataclass(frozen=True, slots=True)
class NameEntry:
    """One name of one place. The first entry given for a place id is its display name."""

    place_id: str
    name: str  # as written, used for display
    priority: int = 0  # higher wins ties: curated with facts 3, curated 2, gazetteer 0-1
    population: int = 0


_SEP = "\x1f"
"""Ends every name as written in a place's segment of the name buffer."""
_I32 = (-(1 << 31), (1 << 31) - 1)
_I64 = (-(1 << 63), (1 << 63) - 1)
_DIR_SIZE = 256 * 257 + 1
"""Keys of the two-byte directory of the sorted names (see :func:`dir_key`), plus one."""


def utf8(text: str) -> bytes:
    """UTF-8, "surrogatepass": a name or id is any Python string, lone surrogates included, and
    must neither fail the build nor be refused at lookup. UTF-8 keeps code point order
    (surrogates included), so the bytes sort exactly as the strings they encode."""
    return text.encode("utf-8", "surrogatepass")


def _text(data: bytes | bytearray) -> str:
    return data.decode("utf-8", "surrogatepass")


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return bounds[0] if value < bounds[0] else bounds[1] if value > bounds[1] else value


def rank_key(priority: int, population: int) -> int:
    """(priority, population) packed into one int for arrays and heaps. Priorities are 0-3 in
    practice; clamping them keeps the key within 64 bits whatever a caller passes."""
    prio = _clamp(priority, (-(1 << 23), (1 << 23) - 1))
    return prio * (1 << 40) + _clamp(population, (0, (1 << 40) - 1))


def dir_key(key: bytes) -> int:
    """Directory slot of a non-empty name: its first two bytes in sort order (a one-byte name
    sorts before every longer name starting with that byte)."""
    return key[0] * 257 + (key[1] + 1 if len(key) > 1 else 0)


def _zeros(typecode: str, n: int) -> array[int]:
    return array(typecode, bytes(array(typecode).itemsize * n))


class Strings:
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


class SortedNames:
    """The exact names in sorted order, as a sequence for ``bisect``: position ``s`` is name
    number ``order[s]``, read from the name buffer with its NUL terminator (NUL sorts before
    every byte of a name, so terminated names sort as the names do)."""

    __slots__ = ("buf", "off", "order")

    def __init__(self, names: Strings, order: array[int]) -> None:
        self.buf = names.buf
        self.off = names.off
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, s: int) -> bytes | bytearray:
        n = self.order[s]
        return self.buf[self.off[n] : self.off[n + 1]]


class PlaceIds:
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


def bucket_key(length: int, pair: str) -> int:
    """A fuzzy bucket's key: a length and two characters packed into one int."""
    return (length << 42) | (ord(pair[0]) << 21) | ord(pair[1])


def fuzzy_keys(norm: str) -> tuple[int, int] | None:
    """The two bucket keys of a name (see :meth:`Index._build_names`), from its folded form;
    None for a name too short to take part in fuzzy matching."""
    if len(norm) < MIN_FUZZY_CHARS:
        return None
    f = fold(norm)
    n = len(f)
    if n < 2:
        return None
    h = n // 2
    return (n << 42) | (ord(f[0]) << 21) | ord(f[-1]), (n << 42) | (ord(f[h - 1]) << 21) | ord(f[h])


def group_by_key(
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


class Buckets:
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


def _bisect_exact(names: Strings | SortedNames, key: bytes, lo: int, hi: int) -> int:
    """Where ``key`` is among the sorted ``names[lo:hi]``, or -1."""
    i = bisect_left(names, key, lo, hi)
    return i if i < hi and names[i] == key else -1


@dataclass(frozen=True, slots=True)
class FalseFriend:
    text: str
    note: str
    place_id: str | None


def release_freed_memory() -> None:
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


@dataclass(slots=True)
class NameSort:
    """What :func:`sort_names` finds (see there); build-time only."""

    names: SortedNames | None  # None once the name buffer is written
    size: int  # bytes of the distinct names with their NULs
    entry_name: array[int]
    is_first: bytearray
    place: array[int]
    shared: dict[int, list[int]]
    directory: array[int]


def sort_names(
    norms: bytearray,
    norm_off: array[int],
    by_key: dict[int, array[int]],
    entry_place: array[int],
) -> NameSort:
    """Sort and deduplicate the entries' normalised names (``norms``, one per entry, each ended
    by NUL, some empty; ``by_key``: the entries whose name has each :func:`dir_key`, in entry
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
    view = SortedNames(Strings(norms, norm_off), first)
    return NameSort(view, size, entry_name, is_first, place, shared, directory)


class Index:
    """Every name and place, packed: immutable once built, so one index can be shared by every
    command and built in a worker thread beside the event loop.

    Memory: about 45 bytes a place and 55 a distinct name (some 20 MiB at 200k places with one
    name each, against 73 MiB as objects), held in a few dozen objects: the cyclic GC has almost
    nothing to walk, and the build makes no long GIL-holding call (no single sort of every name)
    that would stall the event loop.

    A *place* is a number ``p`` into parallel arrays: its id (``ids``: UTF-8 in one buffer and
    a hash table back to the number), priority and population (``array('i')``; populations
    switch to 64 bits if one needs it) and its names as written (``raw``: one segment per
    place, each name followed by ``\\x1f``, display name first).

    A *name* is a number ``n`` into the distinct normalised names (``names``: UTF-8, each
    ended by NUL, in one buffer). They are numbered in the order of the fuzzy "ends" buckets, so
    that each of those buckets is one run of the buffer, decoded in one call; the other fuzzy
    buckets keep a packed copy of their names for the same reason (see :class:`Buckets`).
    ``sorted_names`` lists the numbers in name order: an exact lookup is a binary search within
    the names sharing the query's first two bytes (``directory``), a few µs where a dict of 200k
    str keys would cost an object per name, and autocomplete's prefix ranges, ranks
    (``sorted_rank``) and notable names are positions in that order. ``name_place[n]`` is the
    name's place, or ``-(j + 1)`` when several places share it: they are
    ``multi[multi_start[j]:multi_start[j + 1]]``, best first. False friends that no place is
    named take part in fuzzy matching as names too (numbers in ``ff_nums``), but are not in
    ``sorted_names``.
    """

    __slots__ = (
        "directory",
        "ends",
        "ff",
        "ff_nums",
        "ff_strict",
        "ids",
        "middle",
        "multi",
        "multi_start",
        "name_place",
        "names",
        "notable",
        "notable_rank",
        "pop",
        "prio",
        "raw",
        "sorted_names",
        "sorted_rank",
        "top",
    )

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
        ids = PlaceIds()
        prio = array("i")
        pop = array("i")
        raw = bytearray()  # every name as written, in entry order, each followed by _SEP
        raw_off = array("I", [0])
        entry_place = array("i")
        norms = bytearray()  # every entry's normalised name ended by NUL (or empty), in order
        norm_off = array("I", [0])
        # the entries whose normalised name has each dir_key (first two bytes), for the sort
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
            norm = normalise_text(name).encode("utf-8", "surrogatepass")
            if norm:
                by_key[norm[0] * 257 + (norm[1] + 1 if len(norm) > 1 else 0)].append(k)
                norms += norm
                norms += b"\x00"
            norm_end(len(norms))
        ids.done()
        self.ids = ids
        self.prio = prio
        self.pop = pop
        self.raw = self._group_raw(raw, raw_off, entry_place, grouped)
        del raw, raw_off

        self.ff_strict: dict[str, FalseFriend] = {}
        self.ff: dict[str, FalseFriend] = {}
        for item in false_friends:
            text, note = item[0], item[1]
            ff_pid = item[2] if len(item) > 2 else None
            known = isinstance(ff_pid, str) and ids.find(ff_pid) >= 0
            ff = FalseFriend(text, note, ff_pid if known else None)
            strict = normalise_text(text, articles=False)
            if strict:
                self.ff_strict.setdefault(strict, ff)
            norm_text = normalise(text)
            if norm_text:
                self.ff.setdefault(norm_text, ff)

        # -- the distinct names: sorted, numbered for the fuzzy buckets, then their places
        sort = sort_names(norms, norm_off, by_key, entry_place)
        del norms, norm_off, by_key, entry_place
        self.directory = sort.directory
        self._build_names(sort)
        self._index_places(sort)
        del sort
        self._build_complete()
        release_freed_memory()

    # -- construction ------------------------------------------------------------------------

    def _group_raw(
        self, raw: bytearray, raw_off: array[int], entry_place: array[int], grouped: bool
    ) -> Strings:
        """The names as written, one segment per place. A store streams each place's canonical
        name first and its other names later, so entries are regrouped here (a counting sort
        by place) unless every place's entries already came together."""
        places = len(self.prio)
        if grouped:
            off = array("I", [0]) * (places + 1)
            for k in range(1, len(entry_place)):
                if entry_place[k] != entry_place[k - 1]:
                    off[entry_place[k]] = raw_off[k]
            off[places] = len(raw)
            return Strings(raw, off)
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
        return Strings(buf, off)

    def _build_names(self, sort: NameSort) -> None:
        """Number the names, write the name buffer and the fuzzy buckets.

        The buckets: by (length, first and last characters) and by (length, the two middle
        characters), all taken from the name's folded form (so that Fallujah and Faluja share
        keys); the folded form itself is not kept. A typo inside a name leaves the ends intact; a
        typo at either end leaves the middle intact (see :func:`.match.candidates` for the shift a
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
                f = fold(norm)  # what fuzzy_keys does, inlined: this runs 200k times
                n = len(f)
                if n >= 2:
                    h = n // 2
                    by_length[n].append(len(items))
                    item_add(s)
                    ends_add((n << 42) | (ord(f[0]) << 21) | ord(f[-1]))
                    mid_add((n << 42) | (ord(f[h - 1]) << 21) | ord(f[h]))
        sort.entry_name, sort.is_first = array("i"), bytearray()  # done with them: free them
        ff_names: list[str] = []
        for norm in self.ff:
            key = utf8(norm)
            d = dir_key(key)
            keys = fuzzy_keys(norm)
            lo, hi = sort.directory[d : d + 2]
            if keys is not None and _bisect_exact(tmp, key + b"\x00", lo, hi) < 0:
                by_length[keys[0] >> 42].append(len(items))
                items.append(count + len(ff_names))
                ends_keys.append(keys[0])
                mid_keys.append(keys[1])
                ff_names.append(norm)

        # Numbers in "ends" bucket order, then the names in no bucket.
        order, ends_distinct, ends_starts = group_by_key(ends_keys, by_length)
        del ends_keys
        ff_bytes = [utf8(norm + "\x00") for norm in ff_names]
        buf = bytearray(sort.size + sum(map(len, ff_bytes)))  # sized exactly: no growth, no copy
        off = _zeros("I", count + len(ff_bytes) + 1)
        num_of_pos = array("i", [-1]) * count
        num_of_item = _zeros("i", len(items))
        self.ff_nums: set[int] = set()
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
                self.ff_nums.add(num)
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
        self.names = names = Strings(buf, off)
        self.sorted_names = SortedNames(names, num_of_pos)
        sort.names = tmp = None  # the entries' names are copied: free them
        del tb, to, first
        ends_text = array("I", (off[n] for n in ends_starts))
        self.ends = Buckets(ends_distinct, ends_starts, names.buf, ends_text, None)

        order, mid_distinct, mid_starts = group_by_key(mid_keys, by_length)
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
        self.middle = Buckets(mid_distinct, mid_starts, text, text_starts, vals)

    def _index_places(self, sort: NameSort) -> None:
        """Each name's places, best first by (priority, population), in the order the entries
        gave them where the ranks tie; each sorted name's best rank, for autocomplete; the top
        places, for an empty autocomplete."""
        order = self.sorted_names.order
        name_place = array("i", [-1]) * len(self.names)
        for s, p in enumerate(sort.place):
            name_place[order[s]] = p
        prio, pop = self.prio, self.pop
        if pop.typecode != "i" or (prio and (max(prio) >= 1 << 23 or min(prio) < -(1 << 23))):
            rank = array("q", map(rank_key, prio, pop))
        else:  # rank_key inlined (populations are 32-bit already): this runs 200k times
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
        self.name_place = name_place
        self.multi_start = multi_start
        self.multi = multi
        self.sorted_rank = best
        self.top = heapq.nlargest(MAX_COMPLETIONS, range(len(rank)), key=rank.__getitem__)

    def _build_complete(self) -> None:
        """The sorted names already serve prefix search, with each name's best place rank
        alongside (``_sorted_rank``, an int array) so that popular prefixes rank without decoding
        names."""
        ranks = self.sorted_rank
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
        self.notable = notable
        self.notable_rank = notable_rank

    # -- storage access ----------------------------------------------------------------------

    def find_place(self, place_id: str) -> int:
        """The number of the place ``place_id``, or -1."""
        return self.ids.find(place_id)

    def place_id(self, p: int) -> str:
        return self.ids[p]

    def all_names(self, p: int) -> list[str]:
        """The names of place ``p`` as written, display name first, each once."""
        return list(dict.fromkeys(_text(self.raw[p])[:-1].split(_SEP)))

    def display(self, p: int) -> str:
        return _text(self.raw[p]).split(_SEP, 1)[0]

    def spelling(self, p: int, norm: str) -> str:
        """The first name of ``p`` as written that normalises to ``norm`` (the display name if
        none)."""
        names = self.all_names(p)
        for name in names:
            if normalise(name) == norm:
                return name
        return names[0]

    def rank(self, p: int) -> tuple[int, int]:
        return (self.prio[p], self.pop[p])

    def name_text(self, n: int) -> str:
        """Name number ``n`` (normalised)."""
        return _text(self.names[n][:-1])

    def find_position(self, norm: str) -> int:
        """The sorted position of the exact (normalised) name ``norm``, or -1."""
        key = norm.encode("utf-8", "surrogatepass")
        if not key:
            return -1
        d = key[0] * 257 + (key[1] + 1 if len(key) > 1 else 0)  # dir_key, inlined
        lo, hi = self.directory[d], self.directory[d + 1]
        key += b"\x00"
        # bisect_left, inlined: it runs for every word group of a query
        buf, off, order = self.names.buf, self.names.off, self.sorted_names.order
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

    def find_name(self, norm: str) -> int:
        """The number of the exact (normalised) name ``norm``, or -1."""
        s = self.find_position(norm)
        return self.sorted_names.order[s] if s >= 0 else -1

    def places_of(self, n: int) -> Sequence[int]:
        """The places of name ``n``, best first."""
        q = self.name_place[n]
        if q >= 0:
            return (q,)
        return self.multi[self.multi_start[-q - 1] : self.multi_start[-q]]
