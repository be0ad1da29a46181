"""``SqlStore``: the answers' reads (``bot.store.base.Store``) over any ``Database``, written once.

Each engine's store (``bot.store.sqlite.SqliteStore``, ``bot.store.postgres.PostgresStore``)
subclasses it with what only that engine can do: open and migrate, full-text search, stream the
resolver's names, and open a writer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from bot.domain.model import FactView, PlaceCounts, PlaceRef, SourceRef
from bot.domain.search import SearchTerms
from bot.resolve import NameEntry
from bot.store import queries
from bot.store.outbox import SqlOutbox
from bot.store.sql import Database
from bot.store.writes import Rows, SqlWriter

IDENTIFY_LOCKS = 1_000
"""``xact_lock`` numbers from here on are the start-up buckets' (one per bucket)."""


class SqlStore(ABC):
    """The store's reads; each engine implements the abstract methods."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._records = Rows(db)
        self._outbox = SqlOutbox(db)

    @property
    def records(self) -> Rows:
        """Moderation's reads on the answers' connections, which see each change once it is
        committed and never a half-made one."""
        return self._records

    @property
    def outbox(self) -> SqlOutbox:
        """The posts changes owe, claimed on the answers' connections (the pool), not the
        writer's: a claim is short and is not a change."""
        return self._outbox

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store is, for messages: a file, or a database URL without its password."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def open_writer(self) -> SqlWriter: ...

    @abstractmethod
    async def search_facts(self, terms: SearchTerms, guild: int,
                           limit: int) -> list[tuple[FactView, str]]:
        """Full-text search: each engine has its own index."""

    @abstractmethod
    def name_entries(self, guild: int) -> Iterator[NameEntry]:
        """Blocking, for a worker thread: each engine streams the rows its own way."""

    @abstractmethod
    async def wait_for_change(self) -> None:
        """Each engine learns of other processes' commits its own way."""

    async def change_mark(self) -> tuple[int, tuple[str | None, ...]]:
        return await queries.change_mark(self.db)

    async def changes_after(self, change_id: int) -> list[tuple[int, str]]:
        return await queries.changes_after(self.db, change_id)

    async def latest_facts(self, place_ids: Sequence[str], guild: int,
                           limit: int) -> list[FactView]:
        return await queries.latest_facts(self.db, place_ids, guild, limit)

    async def timeline_facts(self, place_ids: Sequence[str], guild: int,
                             limit: int) -> list[FactView]:
        return await queries.timeline_facts(self.db, place_ids, guild, limit)

    async def count_facts(self, place_ids: Sequence[str], guild: int) -> int:
        return await queries.count_facts(self.db, place_ids, guild)

    async def places_by_ids(self, ids: Sequence[str], guild: int) -> list[PlaceRef]:
        return await queries.places_by_ids(self.db, ids, guild)

    async def place_by_id(self, place_id: str, guild: int) -> PlaceRef | None:
        return await queries.place_by_id(self.db, place_id, guild)

    async def child_places(self) -> dict[str, list[str]]:
        return await queries.child_places(self.db)

    async def has_own_names(self, guild: int) -> bool:
        return await queries.has_own_names(self.db, guild)

    async def false_friends(self) -> list[tuple[str, str, str | None]]:
        return await queries.false_friends(self.db)

    async def places_with_facts(self, guild: int) -> list[PlaceCounts]:
        return await queries.places_with_facts(self.db, guild)

    async def sources(self, guild: int) -> list[tuple[SourceRef, int]]:
        return await queries.sources(self.db, guild)

    async def source_places(self, source_id: str, guild: int) -> list[str]:
        return await queries.source_places(self.db, source_id, guild)

    async def get_meta(self, key: str) -> str | None:
        return await queries.get_meta(self.db, key)

    async def set_meta(self, key: str, value: str) -> None:
        await queries.set_meta(self.db, key, value)

    # ------------------------------------------------------------------ shards
    async def identify_turn(self, bucket: int, window: float) -> float:
        """Take start-up bucket ``bucket``'s turn to IDENTIFY with Discord: 0 when taken (its
        last IDENTIFY was ``window`` seconds or more ago), else the seconds to wait before asking
        again. The check and the mark are one transaction holding the bucket's own lock (an
        advisory lock on PostgreSQL), so processes starting together take turns: no bucket
        identifies twice within the window, whichever process asks. Times are the database's
        clock (``Dialect.clock_ms``), the one clock processes on several machines share.
        Bookkeeping, not a change: no write lock, no notice to the other processes."""
        key = f"identify:{bucket}"
        async with self.db.row_transaction() as tx:
            await tx.fetchrow(tx.dialect.xact_lock, (IDENTIFY_LOCKS + bucket,))
            clock = await tx.fetchrow(f"SELECT {tx.dialect.clock_ms}")
            assert clock is not None
            now_ms = int(clock[0])
            last = await queries.get_meta(tx, key)
            wait = (float(last) + window * 1000 - now_ms) / 1000 if last else 0.0
            if wait > 0:
                return wait
            await queries.set_meta(tx, key, str(now_ms))
            return 0.0

    async def publish_shards(self, reports: dict[int, str]) -> None:
        """Each held shard's report (JSON from the Discord front end), for ``sitrep shards``:
        bookkeeping, so no write lock and no notice."""
        async with self.db.row_transaction() as tx:
            for shard, report in reports.items():
                await queries.set_meta(tx, f"shard:{shard}", report)

    async def shard_reports(self) -> dict[int, str]:
        """The last report of every shard any process has held."""
        return {int(k): v for k, v in (await queries.meta_under(self.db, "shard:")).items()
                if k.isdigit()}
