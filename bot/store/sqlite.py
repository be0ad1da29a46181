"""The store on SQLite: ``SqliteStore`` implements ``bot.store.base.Store`` over one read
connection, with the SQL in ``bot.store.queries``.

The connection and path are for the store's own modules (moderation writes, export, backup); the
layers above use only the methods of the protocol.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import aiosqlite

from bot.domain.model import FactView, PlaceCounts, PlaceRef, SourceRef
from bot.domain.search import SearchTerms
from bot.resolve import NameEntry
from bot.store import queries
from bot.store.base import StoreError
from bot.store.db import (
    connect,
    get_meta,
    migrate,
    newer_store,
    schema_version,
    set_meta,
    translated,
)
from bot.store.schema import SCHEMA_VERSION
from bot.store.writes import Rows, SqliteWriter


class SqliteStore:
    """One SQLite store file, opened and migrated to the current schema."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._records = Rows(conn)

    @property
    def records(self) -> Rows:
        """Moderation's reads on the answers' connection, which sees each change once it is
        committed and never a half-made one."""
        return self._records

    async def open_writer(self) -> SqliteWriter:
        return await SqliteWriter.open(self.path)

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        """Open and migrate; a file that is not a store, is damaged or is newer than this program
        raises ``StoreError`` with one line naming it, and leaves nothing open."""
        conn = await connect(path)
        try:
            with translated(path):
                await migrate(conn)
                # Reads the schema and the first page of the main table: a file cut short (a
                # failed copy, a full disk) fails here rather than on a user's first question.
                await conn.execute_fetchall("SELECT id FROM facts ORDER BY rowid DESC LIMIT 1")
        except StoreError as exc:
            await conn.close()
            message = str(exc)
            raise StoreError(message if str(path) in message else f"{path}: {message}") from None
        except BaseException:
            # aiosqlite's worker thread is not a daemon: an unclosed connection would keep the
            # process alive after the error (a container that hangs instead of restarting)
            await conn.close()
            raise
        return cls(conn, path)

    @property
    def location(self) -> str:
        return str(self.path)

    async def close(self) -> None:
        await self.conn.close()

    async def latest_facts(self, place_ids: Sequence[str], guild: int,
                           limit: int) -> list[FactView]:
        with translated(self.path):
            return await queries.latest_facts(self.conn, place_ids, guild, limit)

    async def timeline_facts(self, place_ids: Sequence[str], guild: int,
                             limit: int) -> list[FactView]:
        with translated(self.path):
            return await queries.timeline_facts(self.conn, place_ids, guild, limit)

    async def count_facts(self, place_ids: Sequence[str], guild: int) -> int:
        with translated(self.path):
            return await queries.count_facts(self.conn, place_ids, guild)

    async def search_facts(self, terms: SearchTerms, guild: int,
                           limit: int) -> list[tuple[FactView, str]]:
        with translated(self.path):
            return await queries.search_facts(self.conn, terms, guild, limit)

    async def places_by_ids(self, ids: Sequence[str], guild: int) -> list[PlaceRef]:
        with translated(self.path):
            return await queries.places_by_ids(self.conn, ids, guild)

    async def place_by_id(self, place_id: str, guild: int) -> PlaceRef | None:
        with translated(self.path):
            return await queries.place_by_id(self.conn, place_id, guild)

    async def child_places(self) -> dict[str, list[str]]:
        with translated(self.path):
            return await queries.child_places(self.conn)

    def name_entries(self, guild: int) -> Iterator[NameEntry]:
        with translated(self.path):
            yield from queries.iter_name_entries(self.path, guild)

    async def has_own_names(self, guild: int) -> bool:
        with translated(self.path):
            return await queries.has_own_names(self.conn, guild)

    async def false_friends(self) -> list[tuple[str, str, str | None]]:
        with translated(self.path):
            return await queries.false_friends(self.conn)

    async def places_with_facts(self, guild: int) -> list[PlaceCounts]:
        with translated(self.path):
            return await queries.places_with_facts(self.conn, guild)

    async def sources(self, guild: int) -> list[tuple[SourceRef, int]]:
        with translated(self.path):
            return await queries.sources(self.conn, guild)

    async def source_places(self, source_id: str, guild: int) -> list[str]:
        with translated(self.path):
            return await queries.source_places(self.conn, source_id, guild)

    async def get_meta(self, key: str) -> str | None:
        with translated(self.path):
            return await get_meta(self.conn, key)

    async def set_meta(self, key: str, value: str) -> None:
        with translated(self.path):
            await set_meta(self.conn, key, value)


async def store_health(path: Path) -> str | None:
    """Why the store at ``path`` cannot serve (missing, unreadable, not at the current schema), or
    None when it can: what ``sitrep health`` checks, read-only and without building anything."""
    if not path.exists():  # noqa: ASYNC240 - one stat() per health check
        return f"no store at {path}"
    try:
        conn = await connect(path, readonly=True)
        try:
            with translated(path):
                version = await schema_version(conn)
                if version > SCHEMA_VERSION:
                    return str(newer_store(path, version, "upgrade sitrep"))
                if version != SCHEMA_VERSION:
                    return f"{path} is at schema version {version}: start sitrep to upgrade it"
                await conn.execute_fetchall("SELECT id FROM facts LIMIT 1")
        finally:
            await conn.close()
    except StoreError as exc:
        return f"the store is not readable: {exc}"
    except OSError as exc:
        return f"the store is not readable: {exc}"
    return None
