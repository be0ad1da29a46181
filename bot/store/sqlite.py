"""The store on SQLite, the embedded default: ``SqliteStore`` over one read connection, with
FTS5 for search; the write side is ``bot.store.writes.SqlWriter`` on a connection of its own.

The connection and path are for the store's own modules (export, backup); the layers above use
only the methods of the protocol.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from bot.domain.model import FactView
from bot.domain.search import SearchTerms
from bot.resolve import NameEntry
from bot.store import bulk, queries
from bot.store.base import StoreError
from bot.store.build import MARK_KEYS, BuildReport, BuildRows, build_into
from bot.store.db import (
    SqliteDatabase,
    SqlitePool,
    connect,
    migrate,
    schema_version,
    translated,
)
from bot.store.queries import FACT_JOINS, VISIBLE, FactViews, fact_fields
from bot.store.schema import SCHEMA_VERSION, version_problem
from bot.store.sql import Database
from bot.store.sqlstore import SqlStore
from bot.store.writes import SqlWriter

CHANGE_POLL = 0.25
"""How often to look for other processes' commits: ``PRAGMA data_version`` reads no page, only
the file's change counter in shared memory, so four looks a second cost nothing."""


class SqliteStore(SqlStore):
    """One SQLite store file, opened and migrated to the current schema."""

    def __init__(self, pool: SqlitePool, path: Path) -> None:
        super().__init__(pool)
        self.pool = pool
        self.path = path
        self.conn = pool.readers[0].conn
        """One of the read connections, for the tests of SQLite's own features."""
        self._data_version: int | None = None

    async def _version(self) -> int:
        # always on the same connection: data_version compares commits to one connection's view
        row = await self.pool.readers[0].fetchrow("PRAGMA data_version")
        assert row is not None
        return int(row[0])

    async def wait_for_change(self) -> None:
        """``PRAGMA data_version`` changes when any other connection, in this process or
        another, commits to the file (a restore through the backup API included)."""
        if self._data_version is None:
            self._data_version = await self._version()
        # polling is the point: SQLite has no notification another process could send
        while (version := await self._version()) == self._data_version:  # noqa: ASYNC110
            await asyncio.sleep(CHANGE_POLL)
        self._data_version = version

    async def open_writer(self) -> SqlWriter:
        """The write connection runs with ``synchronous=FULL``: a commit a moderator was told
        about survives a power cut too, not just the process dying."""
        conn = await connect(self.path)
        try:
            with translated(self.path):
                await conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            await conn.close()
            raise
        return SqlWriter(SqliteDatabase(conn, self.path), close=conn.close)

    @classmethod
    async def open(cls, path: Path, *, budget: float | None = None) -> SqliteStore:
        """Open and migrate; a file that is not a store, is damaged or is newer than this program
        raises ``StoreError`` with one line naming it, and leaves nothing open. ``budget``: the
        seconds a read may take before it is stopped."""
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
        await conn.close()
        return cls(await SqlitePool.open(path, budget=budget), path)

    @property
    def location(self) -> str:
        return str(self.path)

    async def close(self) -> None:
        await self.pool.close()

    async def search_facts(self, terms: SearchTerms, guild: int,
                           limit: int) -> list[tuple[FactView, str]]:
        return await search_facts(self.db, terms, guild, limit)

    def name_entries(self, guild: int) -> Iterator[NameEntry]:
        """Streamed from a read-only connection of its own, with the sqlite3 module (this runs in
        a worker thread), rather than fetching all rows: a list of 200k entries would cost tens
        of MB of peak memory for nothing."""
        with translated(self.path):
            yield from iter_name_entries(self.path, guild)


def iter_name_entries(db_path: Path, guild: int = 0) -> Iterator[NameEntry]:
    """Every name the resolver should know (``queries.name_entries``), streamed from the file."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        yield from queries.name_entries(conn.execute(queries.NAMED_PLACES, (guild, guild)),
                                        conn.execute(queries.PLACE_NAMES, (guild,)))
    finally:
        conn.close()


def fts_query(terms: SearchTerms) -> str:
    """The search as an FTS5 query: every word quoted, so no operator or column filter can be
    injected; all required; the last one as a prefix when the terms say so."""
    quoted = [f'"{w}"' for w in terms.words]
    if terms.last_is_prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


async def search_facts(db: Database, terms: SearchTerms, guild: int,
                       limit: int = 10) -> list[tuple[FactView, str]]:
    """Full-text search with a snippet of the matching summary or quote: ranked by bm25 when the
    words are selective, most recently added first when they are not
    (``queries.RANK_AT_MOST``)."""
    query = fts_query(terms)
    counted = await db.fetch(
        "SELECT count(*) FROM (SELECT 1 FROM facts_fts WHERE facts_fts MATCH :q LIMIT :cap)",
        {"q": query, "cap": queries.RANK_AT_MOST + 1})
    count = int(counted[0][0])
    # Lower score is better. Unranked, the order must be plain ``rowid DESC`` so that FTS5 walks
    # its index backwards and stops after 200 rows instead of sorting every match.
    ranked = count <= queries.RANK_AT_MOST
    score, order = ("bm25(facts_fts)", "score") if ranked else ("-rowid", "rowid DESC")
    # The server filter sits inside the candidate set, so another server's many matches can
    # never crowd out this server's own.
    rows = await db.fetch(
        f"""WITH hits AS (
              SELECT facts_fts.rowid AS rowid, {score.replace("rowid", "facts_fts.rowid")} AS score,
                     snippet(facts_fts, -1, '**', '**', '…', 12) AS snip
              FROM facts_fts JOIN facts f ON f.rowid = facts_fts.rowid
              WHERE facts_fts MATCH :q AND {VISIBLE}
              ORDER BY {order.replace("rowid", "facts_fts.rowid")} LIMIT 200)
            SELECT {fact_fields(db.dialect)}, hits.snip
            FROM hits JOIN facts f ON f.rowid = hits.rowid {FACT_JOINS}
            ORDER BY hits.score LIMIT :limit""",
        {"q": query, "guild": guild, "limit": limit})
    view = FactViews()
    return [(view(r), r["snip"]) for r in rows]


async def build(path: Path, rows: BuildRows, *, started: float) -> BuildReport:
    """Many facts go by the large load (``bot.store.bulk``), a few by the upsert in place."""
    if rows.large:
        return await bulk.build_large(path, rows, started=started)
    conn = await connect(path)
    try:
        with translated(path):
            await migrate(conn)
            return await build_into(SqliteDatabase(conn, path), rows, started=started)
    finally:
        await conn.close()


async def build_marks(path: Path) -> dict[str, str]:
    """What the store was built from (``build.MARK_KEYS``); empty when there is no store or it is
    at an older schema (building migrates it)."""
    if not path.exists():  # noqa: ASYNC240 - one stat() at start-up
        return {}
    conn = await connect(path)
    try:
        with translated(path):
            version = await schema_version(conn)
            if version > SCHEMA_VERSION:
                await migrate(conn)  # refuses, naming the file and what to do
            if version != SCHEMA_VERSION:
                return {}
            marks = await conn.execute_fetchall(
                f"SELECT key, value FROM meta WHERE key IN ({', '.join('?' * len(MARK_KEYS))})",
                MARK_KEYS)
        return {str(k): str(v) for k, v in marks}
    finally:
        await conn.close()


async def store_health(path: Path) -> str | None:
    """Why the store at ``path`` cannot serve (missing, unreadable, not at the current schema), or
    None when it can: what ``sitrep health`` checks, read-only and without building anything."""
    if not path.exists():  # noqa: ASYNC240 - one stat() per health check
        return f"no store at {path}"
    try:
        conn = await connect(path, readonly=True)
        try:
            with translated(path):
                problem = version_problem(path, await schema_version(conn))
                if problem is not None:
                    return problem
                await conn.execute_fetchall("SELECT id FROM facts LIMIT 1")
        finally:
            await conn.close()
    except StoreError as exc:
        return f"the store is not readable: {exc}"
    except OSError as exc:
        return f"the store is not readable: {exc}"
    return None
