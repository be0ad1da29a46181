"""``sitrep copy-store``: every row of one store into another, on either engine (an SQLite file
onto PostgreSQL when a community outgrows one machine, and back), verified before it is kept.

The source is read in one ``snapshot()``, so the copy is one state of it even while a bot writes
there. The target is written in one ``transaction()``: the check that it is empty, the rows, the
identity counters and the verification all commit together or not at all, and the transaction
holds the target's write lock, so no bot writing to the target can slip a row in between. Each
table is streamed a few thousand rows at a time in its fixed order (``contents.ORDER``, keyset
paging), so memory stays flat whatever the gazetteer's size; its digest is taken batch by batch
on the way (``RowsDigest``, the same value as ``contents.digest``), and the copy is read back
inside the transaction and compared, table by table, before it commits.

The engines differ in three small steps, kept together in ``STEPS`` (here, not in ``Dialect``:
only the copy needs them): how to tell that two locations are one store, how to empty a store
whose change log refuses deletes (that is its purpose, so the copy gets past the guard only
inside its own transaction), and what to do about the identity counters after rows arrive with
their ids. On PostgreSQL both of the latter take exclusive locks on the target's tables: a bot
already serving from the target pauses until the copy commits.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import StoreLocation
from bot.store.base import StoreError
from bot.store.contents import ORDER, TABLES
from bot.store.sql import Database
from bot.store.sqlstore import SqlStore
from bot.store.stores import open_store

BATCH = 5000
"""Rows per read and per ``executemany``: large enough that round trips do not dominate, small
enough that a 200k-name gazetteer never sits in memory at once."""

Values = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CopyReport:
    source: str
    target: str
    rows: dict[str, int]
    """Table -> rows copied, in ``TABLES`` order."""
    replaced: bool
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        """One line per table, then the total."""
        width = max(len(t) for t in (*self.rows, "total"))
        digits = len(str(self.total))
        out = [f"{table:<{width}}  {count:>{digits}}" for table, count in self.rows.items()]
        replacing = ", replacing what it held" if self.replaced else ""
        out.append(f"{'total':<{width}}  {self.total:>{digits}}  rows: {self.source} copied "
                   f"into {self.target}{replacing}, verified, in {self.seconds:.2f}s")
        return out


class RowsDigest:
    """``contents.digest`` of a table's rows, fed a batch at a time: the JSON of a list is its
    items' JSON, comma-separated, between brackets, so hashing the pieces in order gives the
    same value without holding the whole table."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256(b"[")
        self.count = 0

    def add(self, rows: Iterable[Values]) -> None:
        for row in rows:
            piece = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
            self._hash.update(f",{piece}".encode() if self.count else piece.encode())
            self.count += 1

    def hexdigest(self) -> str:
        done = self._hash.copy()
        done.update(b"]")
        return done.hexdigest()


# ------------------------------------------------------------------------------ per engine
@dataclass(frozen=True, slots=True)
class Steps:
    identity: Callable[[Database], Awaitable[str]]
    """What names the store whatever URL reached it: two locations with one identity are the
    same store, which a copy must not empty into itself."""
    empty: Callable[[Database], Awaitable[None]]
    """Delete every row (``--replace``), inside the copy's transaction."""
    renumber: Callable[[Database], Awaitable[None]]
    """After rows arrived with explicit ids: make the next generated id follow the largest."""


async def _sqlite_identity(db: Database) -> str:
    row = await db.fetchrow("SELECT file FROM pragma_database_list WHERE name = 'main'")
    return f"sqlite:{row[0] if row else ''}"


async def _sqlite_empty(db: Database) -> None:
    """The change log's append-only triggers abort any DELETE. They are dropped, the tables
    emptied in reverse reference order, and the triggers created again from their own stored
    text, all inside the copy's transaction: a failure anywhere leaves them as they were, and
    no other writer can run meanwhile (the transaction holds the write lock)."""
    guards = await db.fetch("SELECT name, sql FROM sqlite_master "
                            "WHERE type = 'trigger' AND tbl_name = 'changes' ORDER BY name")
    for guard in guards:
        await db.execute(f'DROP TRIGGER "{guard["name"]}"')
    for table in reversed(TABLES):
        await db.execute(f"DELETE FROM {table}")
    for guard in guards:
        await db.execute(guard["sql"])


async def _sqlite_renumber(db: Database) -> None:
    """Nothing to do: an INTEGER PRIMARY KEY without AUTOINCREMENT (and the implicit rowid)
    takes the largest id + 1."""


async def _postgres_identity(db: Database) -> str:
    row = await db.fetchrow("SELECT current_database(), pg_postmaster_start_time()::text, "
                            "inet_server_port()")
    assert row is not None
    return f"postgresql:{row[0]}:{row[1]}:{row[2]}"


async def _postgres_empty(db: Database) -> None:
    """One ``TRUNCATE`` of every table: it fires no row triggers, so the change log's
    append-only trigger (``FOR EACH ROW``) is left in place and still guards every other
    change; it is transactional, so a failed copy rolls it back."""
    await db.execute(f"TRUNCATE {', '.join(TABLES)}")


async def _postgres_renumber(db: Database) -> None:
    """Each identity column restarts after its largest value. ``ALTER TABLE ... RESTART`` rather
    than ``setval()``: setval is not rolled back with the transaction, so a copy that fails its
    verification after a ``--replace`` would leave a counter below the rows it gave back, and the
    next new fact would collide. The columns are read from the catalog, so a table that gains an
    identity column later is covered. ALTER TABLE refuses to run while deferred foreign-key
    checks are pending, so they are run first (they would run at the commit anyway)."""
    await db.execute("SET CONSTRAINTS ALL IMMEDIATE")
    columns = await db.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES' "
        "ORDER BY table_name, column_name")
    for table, column in ((str(r[0]), str(r[1])) for r in columns):
        if table not in TABLES:
            continue
        row = await db.fetchrow(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}")
        assert row is not None
        await db.execute(f"ALTER TABLE {table} ALTER COLUMN {column} RESTART WITH {int(row[0])}")


STEPS: dict[str, Steps] = {
    "sqlite": Steps(_sqlite_identity, _sqlite_empty, _sqlite_renumber),
    "postgresql": Steps(_postgres_identity, _postgres_empty, _postgres_renumber),
}
"""By ``Dialect.name``."""


# ------------------------------------------------------------------------------ reading
def _keys(table: str) -> list[str]:
    return [k.strip() for k in ORDER.get(table, "rowid").split(",")]


def _page_sql(table: str, *, after: bool) -> str:
    """One batch of the table in ``contents.ORDER``: the first, or the one after a key (keyset
    paging: each batch is an index range scan, where OFFSET would rescan what came before)."""
    keys = _keys(table)
    where = ""
    if after:
        marks = ", ".join("?" for _ in keys)
        where = (f" WHERE {keys[0]} > ?" if len(keys) == 1
                 else f" WHERE ({', '.join(keys)}) > ({marks})")
    return (f"SELECT {', '.join(TABLES[table])} FROM {table}{where} "
            f"ORDER BY {', '.join(keys)} LIMIT {BATCH}")


async def pages(db: Database, table: str) -> AsyncIterator[list[Values]]:
    """The table's rows in ``contents.ORDER``, ``BATCH`` at a time."""
    columns = TABLES[table]
    at = [columns.index(k) for k in _keys(table)]
    first, following = _page_sql(table, after=False), _page_sql(table, after=True)
    last: Values | None = None
    while True:
        batch = [tuple(r) for r in await db.fetch(first if last is None else following,
                                                  last or ())]
        if batch:
            yield batch
        if len(batch) < BATCH:
            return
        last = tuple(batch[-1][i] for i in at)


async def table_digest(db: Database, table: str) -> tuple[int, str]:
    digest = RowsDigest()
    async for batch in pages(db, table):
        digest.add(batch)
    return digest.count, digest.hexdigest()


async def _held(db: Database) -> list[str]:
    """The tables that hold at least one row."""
    return [t for t in TABLES if await db.fetchrow(f"SELECT 1 FROM {t} LIMIT 1") is not None]


def _insert_sql(table: str) -> str:
    columns = TABLES[table]
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})")


async def _insert(db: Database, target: StoreLocation, table: str,
                  batch: Sequence[Values]) -> None:
    try:
        await db.executemany(_insert_sql(table), batch)
    except StoreError:
        raise
    except Exception as exc:  # the target refused a row (a type, a constraint): say which table
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"{target} refused a row of {table} ({first}): nothing was "
                         "changed") from exc


# ------------------------------------------------------------------------------ the copy
async def copy_store(source: StoreLocation, target: StoreLocation, *,
                     replace: bool = False) -> CopyReport:
    """Copy every row of ``source`` into ``target`` (both opened, and so migrated, to this
    sitrep's schema) and verify it. Raises a one-line ``StoreError`` naming the store, without
    its password, when the target already holds rows (unless ``replace``), when both are the
    same store, when the source is missing or empty, or when the copy read back differs from
    the source; the target is then left as it was."""
    started = time.perf_counter()
    if source.kind == "sqlite" and source.path is not None and not source.path.exists():
        # opening would create an empty store there, and a typo would "copy" nothing
        raise StoreError(f"no store at {source.path}")
    async with contextlib.AsyncExitStack() as stack:
        src = await open_store(source)
        stack.push_async_callback(src.close)
        if not await _held(src.db):  # checked again in the snapshot; this spares the target
            raise StoreError(f"{source} holds no rows: nothing to copy")
        dst = await open_store(target)
        stack.push_async_callback(dst.close)
        if await _identity(src) == await _identity(dst):
            raise StoreError(f"{source} and {target} are the same store")
        # the target's writer: on SQLite its own connection with synchronous=FULL, so the copy
        # is durable once this returns; on PostgreSQL the pool
        writer = await dst.open_writer()
        stack.push_async_callback(writer.close)
        rows = await _copy(src.db, source, writer.db, target, replace=replace)
        async with writer.db.transaction() as tx:  # fresh planner statistics, as a build does
            await tx.execute(tx.dialect.analyze)
    return CopyReport(str(source), str(target), rows, replace,
                      time.perf_counter() - started)


async def _identity(store: SqlStore) -> str:
    return await STEPS[store.db.dialect.name].identity(store.db)


async def _copy(source_db: Database, source: StoreLocation, target_db: Database,
                target: StoreLocation, *, replace: bool) -> dict[str, int]:
    async with source_db.snapshot() as snap, target_db.transaction() as tx:
        steps = STEPS[tx.dialect.name]
        if not await _held(snap):
            raise StoreError(f"{source} holds no rows: nothing to copy")
        held = await _held(tx)
        if held and not replace:
            raise StoreError(f"{target} is not empty (it has rows in {', '.join(held)}): copy "
                             "into an empty store, or replace its contents with --replace")
        if held:
            await steps.empty(tx)
        expected: dict[str, tuple[int, str]] = {}
        for table in TABLES:
            digest = RowsDigest()
            async for batch in pages(snap, table):
                digest.add(batch)
                await _insert(tx, target, table, batch)
            expected[table] = (digest.count, digest.hexdigest())
        await steps.renumber(tx)
        differ = [t for t in TABLES if await table_digest(tx, t) != expected[t]]
        if differ:
            raise StoreError(f"the copy in {target} differs from {source} in "
                             f"{', '.join(differ)}: nothing was changed")
    return {table: count for table, (count, _) in expected.items()}
