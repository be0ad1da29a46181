"""Opening the store: connection settings done right, and migrations.

WAL with ``synchronous=NORMAL`` makes a commit cost tens of microseconds instead of milliseconds
while staying crash-safe; foreign keys are on for every connection because SQLite
leaves them off by default. Transactions are explicit (autocommit mode, ``BEGIN``/``COMMIT``) so that
no statement silently opens one that lingers.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path

import aiosqlite

from bot.domain.errors import OverBudget
from bot.store.base import StoreError
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION, newer_store
from bot.store.sql import SQLITE, Dialect, Params, Row

PRAGMAS = (
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA temp_store = MEMORY",
)
WAL_ATTEMPTS = 50
SWAP_PENDING = "swap_pending"
"""Meta key set while a large build swaps a new file in (``bot.store.bulk``): its value is the
time (seconds since the epoch) until which writers wait rather than write what the swap would
lose."""
SWAP_WAIT = 0.05


RESTORE_HINT = "restore a backup with `sitrep restore FILE`, or move the file away to rebuild it"


FILE_ERRORS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("not a database",), "{path} is not a sitrep store (file is not a database): " + RESTORE_HINT,
     "the store is damaged"),
    (("malformed", "corrupt"), "{path} is damaged ({text}): " + RESTORE_HINT,
     "the store is damaged"),
    (("full",), "the disk holding {path} is full: nothing was saved",
     "the disk holding the store is full"),
    (("readonly", "read-only"), "{path} is read-only for this process: nothing was saved",
     "the store is read-only"),
    (("unable to open",), "cannot open {path} ({text}): check the path and its permissions",
     "the store cannot be opened"),
    (("locked", "busy"), "{path} is busy (another process holds its lock): try again",
     "the store is busy; try again in a moment"),
)
"""SQLite's words for a problem of the file -> the operator's line and the users' wording."""


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """One line for a failure of the store file itself: which file, what is wrong, what to do."""
    text = str(exc)
    for needles, message, public in FILE_ERRORS:
        if any(n in text for n in needles):
            return StoreError(message.format(path=path, text=text), public=public)
    return StoreError(f"{path}: {text}")



@contextlib.contextmanager
def translated(path: Path) -> Iterator[None]:
    """Turn SQLite's errors about the file into ``StoreError`` (a one-line message) for the layers
    above, which know no database driver. Programming errors (bad SQL) pass unchanged."""
    try:
        yield
    except (sqlite3.ProgrammingError, sqlite3.IntegrityError):
        raise
    except sqlite3.DatabaseError as exc:  # OperationalError (full, locked, ...) included
        raise store_error(path, exc) from None


async def connect(path: Path, *, readonly: bool = False) -> aiosqlite.Connection:
    """Open a connection with sitrep's pragmas; the caller closes it. On failure the connection
    is closed before the error (a ``StoreError``) propagates: aiosqlite's worker thread is not a
    daemon, so a connection left open would keep the process alive after the error."""
    if not readonly:
        path.parent.mkdir(parents=True, exist_ok=True)
    with translated(path):
        if readonly:
            conn = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True,
                                           isolation_level=None)
        else:
            conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            for pragma in PRAGMAS:
                await conn.execute(pragma)
            if not readonly:
                await _enable_wal(conn)
        except BaseException:
            await conn.close()
            raise
    return conn


async def _enable_wal(conn: aiosqlite.Connection) -> None:
    """Switch to WAL. Two processes opening a new store at once can make this return BUSY without
    waiting (SQLite does not call the busy handler here), so retry briefly."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.02)


async def schema_version(conn: aiosqlite.Connection) -> int:
    rows = await conn.execute_fetchall("PRAGMA user_version")
    return int(next(iter(rows))[0])


async def file_of(conn: aiosqlite.Connection) -> str:
    """The file a connection has open, for messages."""
    rows = await conn.execute_fetchall("PRAGMA database_list")
    return next((str(r[2]) for r in rows if r[1] == "main"), "the store")


async def migrate(conn: aiosqlite.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations the store lacks, each in its own transaction; return the new version.

    ``target`` exists for the upgrade tests, which create a store at an older version."""
    current = await schema_version(conn)
    if current > SCHEMA_VERSION:
        raise newer_store(await file_of(conn), current, f"upgrade sitrep, or {RESTORE_HINT}")
    while current < target:
        async with transaction(conn):
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = await schema_version(conn)
            if current >= target:
                break
            for statement in split_statements(MIGRATIONS[current]):
                await conn.execute(statement)
            current += 1
            await conn.execute(f"PRAGMA user_version = {current}")
    return current


def split_statements(script: str) -> list[str]:
    """Split a migration into statements (trigger bodies included) so that it can run inside a
    transaction we control; ``executescript`` would commit first."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:60]}")
    return statements


@contextlib.asynccontextmanager
async def transaction(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error. Immediate so that a writer
    takes the lock up front rather than failing half way with SQLITE_BUSY."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


class SqliteDatabase:
    """``bot.store.sql.Database`` over one aiosqlite connection. Every call turns SQLite's errors
    about the file into one-line ``StoreError``s, so no caller needs to."""

    dialect: Dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        with translated(self.path):
            return list(await self.conn.execute_fetchall(sql, params))

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Params = ()) -> int:
        with translated(self.path):
            cursor = await self.conn.execute(sql, params)
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        with translated(self.path):
            await self.conn.executemany(sql, list(rows))

    async def _begin_write(self) -> None:
        """``BEGIN IMMEDIATE`` (the write lock up front, rather than SQLITE_BUSY half way), once
        no large build is swapping a new file in: a write made meanwhile would be lost."""
        while True:
            await self.conn.execute("BEGIN IMMEDIATE")
            mark = list(await self.conn.execute_fetchall(
                "SELECT value FROM meta WHERE key = ?", (SWAP_PENDING,)))
            if not mark or float(mark[0][0]) < time.time():  # none, or a dead build's
                return
            await self.conn.execute("ROLLBACK")
            await asyncio.sleep(SWAP_WAIT)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteDatabase]:
        """A write transaction (``_begin_write``) ... ``COMMIT``, rolled back on any error."""
        with translated(self.path):
            await self._begin_write()
            try:
                yield self
            except BaseException:
                # SQLite may already have rolled back (a full disk does): nothing to undo then
                with contextlib.suppress(sqlite3.Error):
                    await self.conn.execute("ROLLBACK")
                raise
            try:
                await self.conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    await self.conn.execute("ROLLBACK")
                raise

    def row_transaction(self) -> contextlib.AbstractAsyncContextManager[SqliteDatabase]:
        """The file has one writer at a time: the same as ``transaction()``."""
        return self.transaction()

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqliteDatabase]:
        """A read transaction: every read inside sees one state of the store."""
        with translated(self.path):
            await self.conn.execute("BEGIN")
            try:
                yield self
            finally:
                await self.conn.execute("COMMIT")

    async def close(self) -> None:
        await self.conn.close()


READERS = 4
"""Read connections of a store: answers run side by side instead of queueing behind one
connection (each aiosqlite connection is one worker thread; SQLite releases the GIL while it
reads). More than a few buy nothing on a small server."""
PROGRESS_EVERY = 1000
"""SQLite calls the budget's check every this many virtual-machine steps (microseconds)."""


class _Budgeted(SqliteDatabase):
    """A read connection whose every query stops at its deadline: a progress handler, called by
    SQLite in the worker thread, interrupts the statement once the time is up."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, budget: float | None) -> None:
        super().__init__(conn, path)
        self.budget = budget
        self.deadline = float("inf")

    async def arm(self) -> None:
        if self.budget is not None:
            await self.conn.set_progress_handler(
                lambda: time.monotonic() > self.deadline, PROGRESS_EVERY)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        if self.budget is not None:
            self.deadline = time.monotonic() + self.budget
        try:
            return await super().fetch(sql, params)
        except StoreError:
            # the progress handler stopped it ("interrupted", or an FTS5 table that could not
            # be opened in time): the budget is the cause, whatever SQLite's words
            if time.monotonic() > self.deadline:
                raise OverBudget(f"{self.path}: a query ran past its time budget and was "
                                 "stopped") from None
            raise
        finally:
            self.deadline = float("inf")


class SqlitePool:
    """``bot.store.sql.Database`` over a few connections to one file (WAL lets readers run beside
    the writer and each other): each call takes a free one, so answers never queue behind each
    other; reads stop at ``budget`` seconds (``bot.domain.errors.OverBudget``)."""

    dialect: Dialect = SQLITE

    def __init__(self, readers: list[_Budgeted], path: Path) -> None:
        self.readers = readers
        self.path = path
        self._free: asyncio.Queue[_Budgeted] = asyncio.Queue()
        for reader in readers:
            self._free.put_nowait(reader)

    @classmethod
    async def open(cls, path: Path, *, size: int = READERS,
                   budget: float | None = None) -> SqlitePool:
        readers: list[_Budgeted] = []
        try:
            for _ in range(size):
                reader = _Budgeted(await connect(path), path, budget)
                readers.append(reader)
                await reader.arm()
        except BaseException:
            for reader in readers:
                await reader.close()
            raise
        return cls(readers, path)

    @contextlib.asynccontextmanager
    async def _one(self) -> AsyncIterator[_Budgeted]:
        reader = await self._free.get()
        try:
            yield reader
        finally:
            self._free.put_nowait(reader)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._one() as reader:
            return await reader.fetch(sql, params)

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._one() as reader:
            return await reader.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._one() as reader:
            await reader.executemany(sql, rows)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteDatabase]:
        async with self._one() as reader, reader.transaction() as tx:
            yield tx

    def row_transaction(self) -> contextlib.AbstractAsyncContextManager[SqliteDatabase]:
        return self.transaction()

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqliteDatabase]:
        async with self._one() as reader, reader.snapshot() as tx:
            yield tx

    async def close(self) -> None:
        for reader in self.readers:
            await reader.close()
