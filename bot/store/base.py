"""The store as the layers above see it: one interface, whatever database holds the rows.

The engine and the services receive an object of this type and never a connection, so nothing
above the store imports a database driver, and a second backend is a second implementation of this
protocol, not a second copy of the rules. Every read is scoped to one server: what it sees is the
shared rows (server 0) minus the shared facts it retired, plus its own rows; another server's ids
behave as if they did not exist.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from bot.domain.errors import StoreFailure
from bot.domain.model import FactView, PlaceCounts, PlaceRef, SourceRef
from bot.domain.search import SearchTerms
from bot.resolve import NameEntry


class StoreError(StoreFailure):
    """The store cannot be used as it is (damaged, not a store, newer than this program, its disk
    full); the message is one line that says which store, what is wrong and what to do."""


class Store(Protocol):
    """Reads the answers need. Implementations: ``bot.store.sqlite.SqliteStore``."""

    @property
    def location(self) -> str:
        """Where the store is, for messages (a file path, or a database URL without password)."""
        ...

    async def close(self) -> None: ...

    async def latest_facts(self, place_ids: Sequence[str], guild: int,
                           limit: int) -> list[FactView]:
        """The newest reports about the places first (by report date, then event date)."""
        ...

    async def timeline_facts(self, place_ids: Sequence[str], guild: int,
                             limit: int) -> list[FactView]:
        """The oldest events first; undated facts at their report date, article order within."""
        ...

    async def count_facts(self, place_ids: Sequence[str], guild: int) -> int: ...

    async def search_facts(self, terms: SearchTerms, guild: int,
                           limit: int) -> list[tuple[FactView, str]]:
        """Matching facts, best first, each with a snippet in which matches are in ``**bold**``."""
        ...

    async def places_by_ids(self, ids: Sequence[str], guild: int) -> list[PlaceRef]:
        """In the order asked; unknown ids and other servers' places are left out."""
        ...

    async def place_by_id(self, place_id: str, guild: int) -> PlaceRef | None: ...

    async def child_places(self) -> dict[str, list[str]]:
        """Parent id -> ids of its parts (east Mosul of Mosul), shared places only."""
        ...

    def name_entries(self, guild: int) -> Iterator[NameEntry]:
        """Every name the server's resolver should know, canonical names first. Blocking: the
        engine iterates it in a worker thread, streaming rather than holding every row."""
        ...

    async def has_own_names(self, guild: int) -> bool:
        """Whether the server added places or names (and so needs a resolver of its own)."""
        ...

    async def false_friends(self) -> list[tuple[str, str, str | None]]:
        """(text, why it is not a place, the place it could be mistaken for)."""
        ...

    async def places_with_facts(self, guild: int) -> list[PlaceCounts]: ...

    async def sources(self, guild: int) -> list[tuple[SourceRef, int]]:
        """Every source the server sees, oldest first, with how many of its facts it sees."""
        ...

    async def source_places(self, source_id: str, guild: int) -> list[str]:
        """Names of the places a source speaks about, most facts first."""
        ...

    async def get_meta(self, key: str) -> str | None: ...

    async def set_meta(self, key: str, value: str) -> None: ...
