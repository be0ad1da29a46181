"""The seam between the store's SQL and a database engine: ``Database``, the handful of calls the
queries are written against, and ``Dialect``, the few fragments in which SQLite and PostgreSQL
differ.

Why one SQL text for both engines: the reads and writes of the store are the same rules (what a
server sees, copy-on-edit, the change log), and two hand-kept copies would drift. The queries use
the portable subset both engines share (``ON CONFLICT``, ``RETURNING``, ``lower()`` instead of
``COLLATE NOCASE``, integers 0/1 for flags, ISO dates as text) with ``?`` or ``:name`` parameters;
the PostgreSQL adapter numbers them as ``$1, $2, ...``. What cannot be shared (full-text search,
schema DDL, backups) lives in the engine's own module.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

Params = Mapping[str, Any] | Sequence[Any]


class Row(Protocol):
    """A result row: by column name or position, and iterable over its values (``sqlite3.Row``
    and ``asyncpg.Record`` both are)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def keys(self) -> Iterable[str]: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs in the SQL the two engines accept, as fragments the queries format in."""

    name: str
    join_ids: str
    """An aggregate joining text values with commas: ``{}`` is the column."""
    analyze: str
    """Refresh the planner's statistics after a bulk write."""
    clock_ms: str
    """The database's clock, in milliseconds since 1970 (an integer): times that processes on
    different machines compare (the outbox's leases and retries) come from the one clock they
    share, the database's, and are integers so that adding seconds is the same SQL on both."""
    skip_locked: str
    """What ends a ``SELECT`` of rows a transaction is about to claim: on PostgreSQL, lock them
    and pass over rows another transaction holds (``FOR UPDATE SKIP LOCKED``), so that claimers
    in several processes never take the same row nor wait for each other; nothing on SQLite,
    whose single writer already serialises them."""
    xact_lock: str
    """A statement that takes lock number ``?`` (an integer) of sitrep's own until the transaction
    ends: on PostgreSQL an advisory lock, so that processes take turns at a piece of shared
    bookkeeping (a start-up bucket's IDENTIFY) without the write lock that changes take; on
    SQLite a no-op, as its write transaction already holds the file's one lock."""

    def joined(self, column: str) -> str:
        return self.join_ids.format(column)


XACT_LOCKS = 0x5369_7472
"""The first key of ``xact_lock``'s advisory locks on PostgreSQL: sitrep's own space of them."""

SQLITE = Dialect("sqlite", join_ids="group_concat({})", analyze="PRAGMA optimize",
                 clock_ms="CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)",
                 skip_locked="", xact_lock="SELECT CAST(? AS INTEGER)")
POSTGRES = Dialect("postgresql", join_ids="string_agg({}, ',')", analyze="ANALYZE",
                   clock_ms="CAST(round(extract(epoch FROM statement_timestamp()) * 1000) AS bigint)",
                   skip_locked="FOR UPDATE SKIP LOCKED",
                   xact_lock=f"SELECT pg_advisory_xact_lock({XACT_LOCKS}, CAST(? AS integer))")


class Database(Protocol):
    """One engine's connections, as the queries use them. Outside ``transaction()`` each call may
    run on any connection of a pool; inside it, on the transaction's own."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None: ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return how many rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Database]:
        """All or nothing on one connection, durable once the block ends, and serialised with
        every other writer, in any process; the block uses the database it is given."""
        ...

    def snapshot(self) -> AbstractAsyncContextManager[Database]:
        """A read-only transaction: every read in the block sees one state of the store."""
        ...

    def row_transaction(self) -> AbstractAsyncContextManager[Database]:
        """All or nothing, for the store's own bookkeeping (the outbox's claims and marks), which
        no rule reads and which is not a change: relying on row locks alone, it does not queue
        behind the writers, and it tells no other process that the store changed (a notice would
        wake every process's poster, whose claims would wake them all again). On SQLite it is
        ``transaction()``: the file has one writer at a time anyway."""
        ...


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """``?`` and ``:name`` parameters as PostgreSQL's ``$n``: the new text, and either the names
    in order of their numbers or, for ``?``, how many there are. String literals, quoted names
    and ``::`` casts are left alone."""
    out: list[str] = []
    names: list[str] = []
    count = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = sql.index(ch, i + 1)
            while end + 1 < n and sql[end + 1] == ch:  # a doubled quote inside the literal
                end = sql.index(ch, end + 2)
            out.append(sql[i:end + 1])
            i = end + 1
        elif ch == "?":
            count += 1
            out.append(f"${count}")
            i += 1
        elif ch == ":" and i + 1 < n and sql[i + 1] == ":":
            out.append("::")
            i += 2
        elif ch == ":" and (m := _WORD.match(sql, i + 1)):
            name = m.group()
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
            i = m.end()
        else:
            out.append(ch)
            i += 1
    if names and count:
        raise ValueError("a statement mixes ? and :name parameters")
    return "".join(out), tuple(names) if names else count


def positional(sql: str, params: Params) -> tuple[str, list[Any]]:
    """The statement and its arguments as PostgreSQL takes them."""
    text, order = numbered(sql)
    if isinstance(order, tuple):
        assert isinstance(params, Mapping), f"named parameters need a mapping: {sql[:60]}"
        return text, [params[name] for name in order]
    values = list(params.values()) if isinstance(params, Mapping) else list(params)
    if len(values) != order:
        raise ValueError(f"{order} parameter(s) expected, {len(values)} given: {sql[:60]}")
    return text, values
