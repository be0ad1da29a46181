"""The store on PostgreSQL, through asyncpg: for communities that outgrow one machine, and for
several bot processes sharing one store.

The SQL is the store's shared SQL (``bot.store.queries``, ``bot.store.writes``, ``bot.store.build``);
this module adds only what is PostgreSQL's own: a connection pool, the migrations' bookkeeping,
full-text search with a GIN index over ``to_tsvector``, and the translation of asyncpg's errors
into one-line ``StoreError``s that name the setting and never the password.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from typing import Any

import asyncpg

from bot.config import StoreLocation
from bot.domain.errors import OverBudget, StoreUnavailable
from bot.domain.model import FactView
from bot.domain.search import SearchTerms
from bot.resolve import NameEntry
from bot.store import queries
from bot.store.base import StoreError
from bot.store.build import MARK_KEYS, BuildReport, BuildRows, build_into
from bot.store.queries import FACT_JOINS, VISIBLE, FactViews, fact_fields
from bot.store.schema import (
    FACT_DOCUMENT,
    POSTGRES_MIGRATIONS,
    SCHEMA_VERSION,
    newer_store,
    version_problem,
)
from bot.store.sql import POSTGRES, Dialect, Params, Row, numbered, positional
from bot.store.sqlstore import SqlStore
from bot.store.writes import SqlWriter

SETTING = "SITREP_DATABASE_URL"
WRITE_LOCK = 0x5177_7265
"""The advisory lock every write transaction takes: changes are serialised across processes, as
SQLite's write lock serialises them, so a rule that reads then writes (copy-on-edit, undo) never
races another process. Changes are rare; the lock costs nothing noticeable."""
MIGRATE_LOCK = 0x5177_6D67
CHANNEL = "sitrep_changes"
"""The LISTEN/NOTIFY channel on which every commit is announced (delivered when it commits)."""
CLOSE_WAIT = 5.0
"""Seconds closing the store waits for its connections before it terminates them."""
CHANGE_POLL = 5.0
"""Without a notice, look anyway this often: a change made by other tools (``pg_restore``) sends
none, and a listening connection can be lost."""
POOL_SIZE = 8
CONNECT_TIMEOUT = 10.0


# ------------------------------------------------------------------------------ errors
def _cause(exc: BaseException) -> str:
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return "the password was refused"
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return "the user was refused"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return "the database does not exist"
    if isinstance(exc, ConnectionRefusedError):
        return "the server refused the connection (is it running, on that host and port?)"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, OSError):
        return f"cannot reach the server ({exc.strerror or type(exc).__name__})"
    return type(exc).__name__


def store_error(location: StoreLocation, exc: BaseException
                ) -> StoreError | OverBudget | StoreUnavailable:
    """One line for a failure of the database itself: which database (no password), what is
    wrong. asyncpg's own messages do not contain the password; they are still scrubbed."""
    if isinstance(exc, asyncpg.DiskFullError):
        return StoreError(f"the disk of the PostgreSQL server of {location} is full: nothing was "
                          "saved", public="the disk holding the store is full")
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return StoreError(f"{location} is read-only for this process: nothing was saved",
                          public="the store is read-only")
    if isinstance(exc, asyncpg.QueryCanceledError):
        return OverBudget(f"{location}: a query ran past its time budget and was stopped")
    if isinstance(exc, asyncpg.PostgresError) and not isinstance(
            exc, asyncpg.PostgresConnectionError | asyncpg.InvalidAuthorizationSpecificationError
            | asyncpg.InvalidCatalogNameError | asyncpg.CannotConnectNowError):
        text = _scrub(location, str(exc))
        return StoreError(f"{location}: {text}", public="the store failed; try again")
    return StoreUnavailable(f"cannot use the PostgreSQL store {location} ({SETTING}): "
                            f"{_cause(exc)}")


def _scrub(location: StoreLocation, text: str) -> str:
    if location.password is not None and (secret := location.password.get_secret_value()):
        text = text.replace(secret, "***")
    return text.splitlines()[0] if text else text


PROGRAMMING_ERRORS = (asyncpg.IntegrityConstraintViolationError,
                      asyncpg.SyntaxOrAccessError, asyncpg.DataError,
                      asyncpg.InterfaceError, asyncpg.RaiseError)
"""Errors of the program, not of the database: they pass unchanged, as they do on SQLite."""


@contextlib.contextmanager
def translated(location: StoreLocation) -> Iterator[None]:
    """asyncpg's errors about the database as ``StoreError`` for the layers above."""
    try:
        yield
    except asyncpg.InsufficientPrivilegeError as exc:
        raise StoreError(f"{location}: the database user may not do this ({_scrub(location, str(exc))})",
                         public="the store refused the change") from None
    except PROGRAMMING_ERRORS:
        raise
    except (TimeoutError, asyncpg.PostgresError, OSError) as exc:
        raise store_error(location, exc) from None


# ------------------------------------------------------------------------------ connections
class PostgresConnection:
    """``bot.store.sql.Database`` on one connection: a transaction's, or a build's."""

    dialect: Dialect = POSTGRES

    def __init__(self, conn: asyncpg.Connection, location: StoreLocation) -> None:
        self.conn = conn
        self.location = location

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        text, args = positional(sql, params)
        with translated(self.location):
            return list(await self.conn.fetch(text, *args))

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        text, args = positional(sql, params)
        with translated(self.location):
            row: Row | None = await self.conn.fetchrow(text, *args)
            return row

    async def execute(self, sql: str, params: Params = ()) -> int:
        text, args = positional(sql, params)
        with translated(self.location):
            status: str = await self.conn.execute(text, *args)
        return _changed(status)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [positional(sql, r)[1] for r in rows]
        if batch:
            with translated(self.location):
                await self.conn.executemany(numbered(sql)[0], batch)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        """Also tells every listening process, on commit, that the store changed."""
        with translated(self.location):
            async with self.conn.transaction():
                # changes and bulk copies are not answers: no time budget for them
                await self.conn.execute("SET LOCAL statement_timeout = 0")
                await self.conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
                yield self
                await self.conn.execute(f"NOTIFY {CHANNEL}")

    @contextlib.asynccontextmanager
    async def row_transaction(self) -> AsyncIterator[PostgresConnection]:
        """Neither ``WRITE_LOCK`` nor a notice: the outbox's claims lock their rows one by one
        (``FOR UPDATE SKIP LOCKED``), so they never wait for a moderator's change, and the
        statements keep the pool's time budget, as the answers' do."""
        with translated(self.location):
            async with self.conn.transaction():
                yield self

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PostgresConnection]:
        with translated(self.location):
            async with self.conn.transaction(isolation="repeatable_read", readonly=True):
                await self.conn.execute("SET LOCAL statement_timeout = 0")
                yield self


def _changed(status: str) -> int:
    """The row count at the end of a command tag ("INSERT 0 1", "DELETE 3")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresPool:
    """``bot.store.sql.Database`` over a pool: each read takes whichever connection is free, so
    answers never queue behind each other; a transaction keeps one connection to its end."""

    dialect: Dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool, location: StoreLocation) -> None:
        self.pool = pool
        self.location = location

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection() as conn:
            return await conn.fetch(sql, params)

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        async with self._connection() as conn:
            return await conn.fetchrow(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._connection() as conn:
            return await conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._connection() as conn:
            await conn.executemany(sql, rows)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[PostgresConnection]:
        with translated(self.location):
            async with self.pool.acquire() as conn:
                yield PostgresConnection(conn, self.location)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        async with self._connection() as conn, conn.transaction() as tx:
            yield tx

    @contextlib.asynccontextmanager
    async def row_transaction(self) -> AsyncIterator[PostgresConnection]:
        async with self._connection() as conn, conn.row_transaction() as tx:
            yield tx

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[PostgresConnection]:
        async with self._connection() as conn, conn.snapshot() as tx:
            yield tx

    async def close(self) -> None:
        await self.pool.close()


def _connect_args(location: StoreLocation) -> dict[str, Any]:
    password = location.password.get_secret_value() if location.password else None
    return {"dsn": location.dsn, "password": password, "timeout": CONNECT_TIMEOUT,
            # asyncpg's statement cache is per connection; JIT costs more than it saves on the
            # store's small indexed queries
            "server_settings": {"jit": "off", "application_name": "sitrep"}}


async def connect(location: StoreLocation) -> asyncpg.Connection:
    """One connection (builds, migrations, copies); raises a one-line ``StoreError``."""
    with translated(location):
        conn: asyncpg.Connection = await asyncpg.connect(**_connect_args(location))
    return conn


async def create_pool(location: StoreLocation, size: int = POOL_SIZE,
                      budget: float | None = None) -> asyncpg.Pool:
    args = _connect_args(location)
    if budget is not None:
        args["server_settings"]["statement_timeout"] = str(max(1, round(budget * 1000)))
    with translated(location):
        pool: asyncpg.Pool = await asyncpg.create_pool(**args, min_size=1, max_size=size)
    return pool


# ------------------------------------------------------------------------------ migrations
async def schema_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))



async def migrate(conn: asyncpg.Connection, location: StoreLocation,
                  target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations the database lacks, each in its own transaction, under an advisory
    lock so that processes starting together migrate once."""
    with translated(location):
        current = await schema_version(conn)
        if current > SCHEMA_VERSION:
            raise newer_store(location, current, "upgrade sitrep")
        while current < target:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
                await conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                                   "(version integer PRIMARY KEY)")
                current = await schema_version(conn)
                if current >= target:
                    break
                await conn.execute(POSTGRES_MIGRATIONS[current])
                current += 1
                await conn.execute("INSERT INTO schema_version(version) VALUES ($1)", current)
    return current


# ------------------------------------------------------------------------------ the store
class PostgresStore(SqlStore):
    """A PostgreSQL database holding the store, through a pool of connections."""

    def __init__(self, pool: PostgresPool, location: StoreLocation) -> None:
        super().__init__(pool)
        self.pool = pool
        self.where = location
        self._loop = asyncio.get_running_loop()
        self._listener: asyncpg.Connection | None = None
        self._notified = asyncio.Event()

    async def wait_for_change(self) -> None:
        """A NOTIFY on ``CHANNEL`` wakes it at once; otherwise it returns every ``CHANGE_POLL``
        seconds. The listening connection is (re)opened here, so a lost one heals itself; losing
        it wakes the caller at once, and so does opening it, without waiting: a change committed
        while nothing listened sent its notice to no one, so the caller reads the change log
        again now that every later notice will arrive."""
        if self._listener is None or self._listener.is_closed():
            self._listener = None
            with contextlib.suppress(StoreError, StoreUnavailable):
                listener = await connect(self.where)
                try:
                    await listener.add_listener(CHANNEL, self._on_notice)
                    # a lost connection loses the notices sent meanwhile: look at the log now
                    listener.add_termination_listener(self._on_notice)
                except BaseException:
                    listener.terminate()  # cancelled or failed half way: never leave it open
                    raise
                self._listener = listener
                return
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
        # arrives as the notice does, and the follower would then never stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CHANGE_POLL):
                await self._notified.wait()
        self._notified.clear()

    def _on_notice(self, *_: object) -> None:
        self._notified.set()

    @classmethod
    async def open(cls, location: StoreLocation, *, budget: float | None = None
                   ) -> PostgresStore:
        """``budget``: every statement on the pool stops after this many seconds
        (``statement_timeout``), except in write transactions and snapshots."""
        conn = await connect(location)
        try:
            await migrate(conn, location)
        finally:
            await conn.close()
        return cls(PostgresPool(await create_pool(location, budget=budget), location), location)

    @property
    def location(self) -> str:
        return str(self.where)

    async def close(self) -> None:
        """Close the listener at once and the pool gracefully, but never wait for ever: asyncpg's
        ``Pool.close`` waits for every connection to be released, so a stuck one would keep a
        stopping process alive; after ``CLOSE_WAIT`` the rest are terminated."""
        if self._listener is not None:
            self._listener.terminate()
        try:
            async with asyncio.timeout(CLOSE_WAIT):
                await self.pool.pool.close()
        except TimeoutError:
            self.pool.pool.terminate()

    async def open_writer(self) -> SqlWriter:
        """The writer shares the pool: each change takes a connection for its transaction."""
        return SqlWriter(self.pool)

    async def search_facts(self, terms: SearchTerms, guild: int,
                           limit: int) -> list[tuple[FactView, str]]:
        return await search_facts(self.pool, terms, guild, limit)

    def name_entries(self, guild: int) -> Iterator[NameEntry]:
        """Streamed through a cursor, a few thousand rows at a time, from the worker thread the
        engine runs this in: each batch is fetched on the event loop, which stays free."""
        with contextlib.suppress(RuntimeError):
            if asyncio.get_running_loop() is self._loop:
                raise AssertionError("name_entries blocks: run it in a worker thread")
        yield from queries.name_entries(
            self._stream(queries.NAMED_PLACES, (guild, guild)),
            self._stream(queries.PLACE_NAMES, (guild,)))

    def _stream(self, sql: str, params: Params, size: int = 5000) -> Iterator[Row]:
        batches = self._batches(sql, params, size)

        async def following() -> list[Row] | None:
            return await anext(batches, None)

        try:
            while (batch := asyncio.run_coroutine_threadsafe(following(), self._loop).result()):
                yield from batch
        finally:
            asyncio.run_coroutine_threadsafe(batches.aclose(), self._loop).result()

    async def _batches(self, sql: str, params: Params, size: int) -> AsyncGenerator[list[Row]]:
        text, args = positional(sql, params)
        with translated(self.where):
            async with self.pool.pool.acquire() as conn, conn.transaction(readonly=True):
                cursor = await conn.cursor(text, *args)
                while batch := await cursor.fetch(size):
                    yield batch


async def store_health(location: StoreLocation) -> str | None:
    """Why the PostgreSQL store cannot serve, or None when it can."""
    try:
        conn = await connect(location)
    except StoreError as exc:
        return str(exc)
    try:
        with translated(location):
            problem = version_problem(location, await schema_version(conn))
            if problem is not None:
                return problem
            await conn.fetch("SELECT id FROM facts LIMIT 1")
    except StoreError as exc:
        return f"the store is not readable: {exc}"
    finally:
        await conn.close()
    return None


async def build_marks(location: StoreLocation) -> dict[str, str]:
    """What the store was built from (``build.MARK_KEYS``); empty when it was not built or is at
    an older schema (building migrates it)."""
    conn = await connect(location)
    try:
        with translated(location):
            version = await schema_version(conn)
            if version > SCHEMA_VERSION:
                raise newer_store(location, version, "upgrade sitrep")
            if version != SCHEMA_VERSION:
                return {}
            rows = await conn.fetch("SELECT key, value FROM meta WHERE key = ANY($1::text[])",
                                    list(MARK_KEYS))
            return {str(r[0]): str(r[1]) for r in rows}
    finally:
        await conn.close()


async def build(location: StoreLocation, rows: BuildRows, *, started: float) -> BuildReport:
    conn = await connect(location)
    try:
        await migrate(conn, location)
        return await build_into(PostgresConnection(conn, location), rows, started=started)
    finally:
        await conn.close()


# ------------------------------------------------------------------------------ search
def tsquery(terms: SearchTerms) -> tuple[str, dict[str, str]]:
    """The words as a tsquery: all required (``websearch_to_tsquery``), the last one also as a
    prefix. The words are ``\\w+`` only, so nothing can be injected into the query language."""
    words = list(terms.words)
    parts, params = [], {}
    if terms.last_is_prefix:
        params["prefix"] = words.pop()
        parts.append("to_tsquery('simple', :prefix || ':*')")
    if words:
        params["words"] = " ".join(words)
        parts.append("websearch_to_tsquery('simple', :words)")
    return " && ".join(parts), params


DOCUMENT = FACT_DOCUMENT.replace("summary", "f.summary").replace("quote", "f.quote").replace(
    "coalesce(attribution", "coalesce(f.attribution")
HEADLINE = "StartSel=**, StopSel=**, MaxWords=12, MinWords=6, ShortWord=0, MaxFragments=1"
"""About FTS5's snippet of 12 tokens: one fragment around the matches."""


async def search_facts(db: PostgresPool, terms: SearchTerms, guild: int,
                       limit: int = 10) -> list[tuple[FactView, str]]:
    """Full-text search over the GIN index, with a snippet of the column that matches in which
    the matches are in ``**bold**``; ranked by ``ts_rank`` when the words are selective, most
    recently added first when they are not."""
    query, params = tsquery(terms)
    counted = await db.fetchrow(
        f"SELECT count(*) FROM (SELECT 1 FROM facts f WHERE {DOCUMENT} @@ ({query}) "
        f"LIMIT :cap) m", {**params, "cap": queries.RANK_AT_MOST + 1})
    assert counted is not None
    ranked = int(counted[0]) <= queries.RANK_AT_MOST
    # normalisation 1 divides by 1 + log(length): short facts that match rank first, as bm25
    # ranks them
    order = (f"ts_rank({DOCUMENT}, query.q, 1) DESC, f.rowid DESC" if ranked
             else "f.rowid DESC")
    rows = await db.fetch(
        f"""WITH query AS (SELECT {query} AS q),
            hits AS (
              SELECT f.rowid FROM facts f, query WHERE {DOCUMENT} @@ query.q AND {VISIBLE}
              ORDER BY {order} LIMIT :limit)
            SELECT {fact_fields(db.dialect)}, m.text AS matched,
                   ts_headline('simple', m.text, query.q, '{HEADLINE}') AS snip
            FROM hits JOIN facts f ON f.rowid = hits.rowid {FACT_JOINS}, query,
                 LATERAL (SELECT CASE
                       WHEN to_tsvector('simple', f.summary) @@ query.q THEN f.summary
                       WHEN to_tsvector('simple', f.quote) @@ query.q THEN f.quote
                       ELSE f.summary || ' … ' || f.quote END AS text) m
            ORDER BY {order}""",
        {**params, "guild": guild, "limit": limit})
    view = FactViews()
    return [(view(r), _elided(r["snip"], r["matched"])) for r in rows]


def _elided(snippet: str, text: str) -> str:
    """"…" where the snippet cuts its text, as FTS5's snippets show it; punctuation that
    ``ts_headline`` drops at either end (a full stop, a quotation mark) is put back instead."""
    plain = snippet.replace("**", "")
    start = text.find(plain)
    if start < 0:
        return snippet
    before, after = text[:start], text[start + len(plain):]
    head = before if _only_punctuation(before) else "…"
    tail = after if _only_punctuation(after) else "…"
    return f"{head}{snippet}{tail}"


def _only_punctuation(text: str) -> bool:
    return len(text) <= 3 and not any(ch.isalnum() for ch in text)
