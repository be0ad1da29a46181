"""The resolver: an index of names, asked by matching and by completion."""

from __future__ import annotations

from collections.abc import Iterable

from bot.resolve.complete import CompletionCache, complete
from bot.resolve.index import MAX_COMPLETIONS, Index, NameEntry
from bot.resolve.match import Resolution, resolve


class Resolver:
    """Resolves queries against a fixed set of names; build a new one when the names change.

    Immutable after construction (apart from a bounded autocomplete cache), so one instance can be
    shared by every command and built off the event loop.
    """

    def __init__(
        self,
        entries: Iterable[NameEntry],
        false_friends: Iterable[tuple[str, str] | tuple[str, str, str | None]] = (),
    ) -> None:
        """Build the index (see :class:`bot.resolve.index.Index` for what the arguments are)."""
        self._index = Index(entries, false_friends)
        self._complete_cache: CompletionCache = {}

    def resolve(self, query: str) -> Resolution:
        """Resolve one query; never raises on any string (see :mod:`bot.resolve.match` for the
        order of questions)."""
        return resolve(self._index, query)

    def complete(self, prefix: str, limit: int = MAX_COMPLETIONS) -> list[tuple[str, str]]:
        """Autocomplete: up to ``limit`` (at most 25) ``(place_id, display name)`` pairs for places
        with a name starting with ``prefix``, ranked by priority, then an exact name, then
        population. Empty input gives the top places; a prefix nothing starts with falls back to
        fuzzy suggestions. Display names are cut to 100 characters (Discord's limit)."""
        return complete(self._index, self._complete_cache, prefix, limit)

    def names_of(self, place_id: str) -> list[str]:
        """Every name ``place_id`` was given, as written, display name first; [] if unknown."""
        index = self._index
        p = index.find_place(place_id) if isinstance(place_id, str) else -1
        return index.all_names(p) if p >= 0 else []
