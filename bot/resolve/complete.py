"""Prefix completion for autocomplete: a run of the sorted names, ranked by place.

A prefix is one run of the sorted names, found with the index's two-byte directory and a
bisection; popular prefixes are ranked from an int array of ranks (never decoding names), from the
notable names where enough of them share the prefix, or from a small cache.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from typing import TypeAlias

from bot.resolve.index import MAX_COMPLETIONS, MAX_QUERY_CHARS, MIN_FUZZY_CHARS, Index, dir_key, utf8
from bot.resolve.match import MAX_RAW_CHARS, MAX_SUGGESTIONS, resolve
from bot.resolve.normalise import normalise

MAX_CHOICE_CHARS = 100
"""Discord cuts an autocomplete choice at 100 characters."""

CompletionCache: TypeAlias = "dict[str, array[int]]"
"""Prefix -> its best sorted positions, for prefixes whose range is too large to rank quickly.
A plain dict, cleared when full: safe if completion is ever called from several threads. Values
are sorted positions, 4 bytes each, not strings."""


def complete(
    index: Index, cache: CompletionCache, prefix: str, limit: int = MAX_COMPLETIONS
) -> list[tuple[str, str]]:
    """Autocomplete: up to ``limit`` (at most 25) ``(place_id, display name)`` pairs for places
    with a name starting with ``prefix``, ranked by priority, then an exact name, then
    population. Empty input gives the top places; a prefix nothing starts with falls back to
    fuzzy suggestions. Display names are cut to 100 characters (Discord's limit)."""
    limit = max(0, min(limit, MAX_COMPLETIONS))
    if limit == 0 or not isinstance(prefix, str):
        return []
    p = normalise(prefix[:MAX_RAW_CHARS])[:MAX_QUERY_CHARS]
    if not p:
        return [(index.place_id(q), _choice(index, q, None)) for q in index.top[:limit]]
    lo, hi = prefix_range(index, utf8(p))
    found = prefix_names(index, cache, p, lo, hi) if hi > lo else []  # sorted positions
    exact = index.find_position(p)
    if exact >= 0 and exact not in found:
        found = [exact, *found]
    ranked: list[tuple[tuple[int, bool, int], int, int]] = []
    prio, pop, order = index.prio, index.pop, index.sorted_names.order
    for s in found:
        n = order[s]
        for place in index.places_of(n):
            ranked.append(((prio[place], s == exact, pop[place]), place, n))
    ranked.sort(key=lambda r: r[0], reverse=True)
    out: dict[int, str] = {}
    for _, place, n in ranked:
        if place not in out:
            out[place] = _choice(index, place, index.name_text(n), p)
            if len(out) >= limit:
                break
    if len(out) < min(limit, MAX_SUGGESTIONS) and len(p) >= MIN_FUZZY_CHARS:
        # Few names start like this: add what a typo-tolerant lookup finds ("Palmi", "Mosel").
        res = resolve(index, prefix[:MAX_RAW_CHARS])
        more = res.suggestions if res.kind in ("exact", "fuzzy", "ambiguous") else ()
        for pid in ((res.place_id,) if res.place_id else ()) + more:
            place = index.find_place(pid)
            if place >= 0 and place not in out and len(out) < limit:
                out[place] = _choice(index, place, None)
    return [(index.place_id(place), text) for place, text in out.items()]


def prefix_range(index: Index, key: bytes) -> tuple[int, int]:
    """Sorted positions ``[lo, hi)`` of the names starting with ``key`` (non-empty UTF-8).
    UTF-8 is prefix-free and keeps code point order, so these are one run of the sorted names
    and end before ``key + b"\\xff"`` (0xff never occurs in UTF-8)."""
    if len(key) == 1:
        return index.directory[key[0] * 257], index.directory[key[0] * 257 + 257]
    d = dir_key(key)
    lo, hi = index.directory[d], index.directory[d + 1]
    names = index.sorted_names
    lo = bisect_left(names, key, lo, hi)
    return lo, bisect_left(names, key + b"\xff", lo, hi)


def prefix_names(index: Index, cache: CompletionCache, p: str, lo: int, hi: int) -> list[int]:
    """The names (sorted positions) in ``[lo, hi)`` worth ranking: all of them for a rare
    prefix; otherwise the best 200 by place rank (a bounded heap over an int array), taken
    from the notable names when enough of them share the prefix, else from the whole range
    (cached: its first lookup costs a few milliseconds at 200k names)."""
    keep = MAX_COMPLETIONS * 8
    if hi - lo <= keep:
        return list(range(lo, hi))
    if hi - lo <= 2000:
        return heapq.nlargest(keep, range(lo, hi), index.sorted_rank.__getitem__)
    notable = index.notable
    nlo = bisect_left(notable, lo)
    nhi = bisect_left(notable, hi, nlo)
    if nhi - nlo >= 4 * MAX_COMPLETIONS:
        best = heapq.nlargest(keep, range(nlo, nhi), index.notable_rank.__getitem__)
        return [notable[i] for i in best]
    cached = cache.get(p)
    if cached is not None:
        return list(cached)
    names = heapq.nlargest(keep, range(lo, hi), index.sorted_rank.__getitem__)
    if len(cache) >= 1024:
        cache.clear()
    cache[p] = array("i", names)
    return names


def _choice(index: Index, place: int, norm: str | None, typed: str = "") -> str:
    """Display text of an autocomplete choice: the place's name, plus the name that matched
    when the place's name does not itself start with what was typed ("Palmyra (Tadmur)")."""
    display = index.display(place)
    if norm is not None and not normalise(display).startswith(typed):
        display = f"{display} ({index.spelling(place, norm)})"
    if len(display) > MAX_CHOICE_CHARS:
        display = display[: MAX_CHOICE_CHARS - 1] + "…"
    return display
