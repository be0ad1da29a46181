"""The large load: a build of many facts on SQLite, into a fresh file that is swapped in whole.

Upserting a million facts into the live file costs a minute or more: every row updates three
indexes and the full-text index as it goes, all while holding the write lock. Here the rows go
into a new file beside the store with the indexes, the FTS triggers and the journal off; the
full-text index and the indexes are then built in one pass each. What the store gained at run
time (servers' own facts, places and names, hidden facts, the change log, watches, settings, the
review queue, the outbox) is carried over from the live file, and the new file replaces it:

* with no store yet, by renaming the file into place;
* over a store, through SQLite's backup API (as ``sitrep restore`` does): one write transaction
  of the live file, so a running bot answers from the old store until the new one is complete
  and then from the new one (its follower sees a new generation and reloads, ``bot.engine.follow``).

Writes made to the live file while it is being carried over would be lost in the swap, so the
carry-over starts by setting the ``swap_pending`` mark in the live file, and every writer
(``bot.store.db.SqliteDatabase.transaction``) waits while the mark stands; the swap removes it
(the new file has none), and a mark left by a build that died lapses after ``SWAP_BUDGET``.

Run-time rows are those of a server (``guild_id <> 0``): every change the bot makes is one
server's, and the change log (which rejects server 0) is written in the same transaction.

The result is the store the upsert (``bot.store.build.build_into``) would give: the same rows,
a curated fact that stays keeps its row number and ``created_at``, new ones come after every
existing row (row numbers order ties in answers), and the same rules drop curated places and
sources that left the files (``build.DROP_UNUSED``). ``tests/test_bulk_build.py`` compares both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from bot.store.build import (
    DROP_UNUSED,
    FACT_COLUMNS,
    FACT_INSERT,
    FALSE_FRIEND_INSERT,
    LINK_INSERT,
    MARK_KEYS,
    NAME_INSERT,
    PLACE_COLUMNS,
    PLACE_INSERT,
    SOURCE_COLUMNS,
    SOURCE_INSERT,
    BuildReport,
    BuildRows,
    generation,
)
from bot.store.db import SWAP_PENDING, connect, migrate, split_statements, translated
from bot.store.queries import SET_META
from bot.store.schema import MIGRATIONS, RECOUNT_SHARED, SCHEMA_VERSION

FRESH_SUFFIX = ".building"
LOAD_CACHE_KIB = 131_072
"""The page cache of the loading connection (128 MiB): index builds sort in it."""
LOAD_PRAGMAS = (
    # the fresh file is thrown away on any failure, so it needs no journal and no syncs
    # until it is complete (it is synced once before the swap)
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
    "PRAGMA foreign_keys = OFF",  # checked once at the end instead (``_check_references``)
    "PRAGMA temp_store = MEMORY",
    f"PRAGMA cache_size = -{LOAD_CACHE_KIB}",
)
SWAP_BUDGET = 120.0
"""Seconds a ``swap_pending`` mark holds writers off at most: ample for carrying over and
copying a store of a million facts; a mark older than this is from a build that died."""
BUSY_MS = 5000
BUILT_HERE = frozenset({"meta", "sources", "places", "place_names", "false_friends", "facts",
                        "fact_links"})
"""The tables a build writes; every other table holds only run-time rows, carried over whole
(so a table added by a later migration is carried without a change here)."""


async def build_large(path: Path, rows: BuildRows, *, started: float) -> BuildReport:
    """Build ``rows`` into a fresh file and swap it in; on any failure the store is as it was."""
    live = path.exists()  # noqa: ASYNC240 - one stat() before a long build
    if live:  # the carry-over reads the live file at the current schema
        conn = await connect(path)
        try:
            with translated(path):
                await migrate(conn)
        finally:
            await conn.close()
    fresh = path.with_name(path.name + FRESH_SUFFIX)
    phases: list[tuple[str, float]] = []
    try:
        await asyncio.to_thread(_build, fresh, path if live else None, rows, phases)
    finally:
        _remove(fresh)
    return rows.report(built=True, seconds=time.perf_counter() - started, phases=phases)


def _remove(fresh: Path) -> None:
    for name in (fresh, fresh.with_name(fresh.name + "-journal")):
        name.unlink(missing_ok=True)


def _build(fresh: Path, live: Path | None, rows: BuildRows,
           phases: list[tuple[str, float]]) -> None:
    """The work of :func:`build_large`, in a thread; appends (phase, seconds) to ``phases``."""
    _remove(fresh)
    opened = sqlite3.connect(f"file:{fresh}", uri=True, isolation_level=None)
    with translated(fresh), contextlib.closing(opened) as conn:
        for pragma in LOAD_PRAGMAS:
            conn.execute(pragma)
        if live is not None:
            conn.execute("ATTACH ? AS live", (f"file:{live}?mode=ro",))
        _load(conn, rows, keeping=live is not None, phases=phases)
        began = time.perf_counter()
        if live is None:
            conn.close()
            _move_into_place(fresh)
            phases.append(("sync and rename", time.perf_counter() - began))
            return
        with translated(live), _writers_held_off(live) as target:
            conn.execute("BEGIN")
            _carry_over(conn)
            conn.execute("COMMIT")
            conn.execute("DETACH live")
            conn.backup(target)
        phases.append(("carry-over and swap", time.perf_counter() - began))


def _load(conn: sqlite3.Connection, rows: BuildRows, *, keeping: bool,
          phases: list[tuple[str, float]]) -> None:
    """The schema, the rows, then the full-text index and the indexes of ``facts``; committed."""
    began = time.perf_counter()
    conn.execute("BEGIN")
    for migration in MIGRATIONS:
        for statement in split_statements(migration):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    later = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'facts' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type").fetchall()
    for kind, name, _ in later:
        conn.execute(f"DROP {kind.upper()} {name}")
    if keeping:
        _insert_numbered(conn, "sources", SOURCE_COLUMNS, rows.sources)
        _insert_numbered(conn, "places", PLACE_COLUMNS, rows.places)
    else:
        conn.executemany(SOURCE_INSERT, rows.sources)
        conn.executemany(PLACE_INSERT, rows.places)
    conn.executemany(NAME_INSERT, rows.names)
    conn.executemany(FALSE_FRIEND_INSERT, rows.false_friends)
    if keeping:
        _insert_numbered(conn, "facts", FACT_COLUMNS, list(rows.facts))
    else:
        conn.executemany(FACT_INSERT, rows.facts)
    conn.executemany(LINK_INSERT, rows.links)
    # Counted before the indexes exist: a plain scan, several times faster than SQLite's plan
    # through an index. Carried-over facts are a server's own and never shared: they do not
    # change these counts.
    for statement in RECOUNT_SHARED:
        conn.execute(statement)
    phases.append(("rows", time.perf_counter() - began))
    began = time.perf_counter()
    conn.execute("INSERT INTO facts_fts(facts_fts) VALUES ('rebuild')")
    phases.append(("full-text index", time.perf_counter() - began))
    began = time.perf_counter()
    for _, _, sql in sorted(later, key=lambda r: r[0]):  # indexes first, then the triggers
        conn.execute(sql)
    for key, value in generation(rows):
        conn.execute(SET_META, (key, value))
    for table, ids in rows.keep().items():
        conn.execute(f"CREATE TEMP TABLE {table}(id TEXT PRIMARY KEY)")
        conn.executemany(f"INSERT INTO {table}(id) VALUES (?)", [(i,) for i in ids])
    conn.execute("COMMIT")
    phases.append(("indexes", time.perf_counter() - began))


REPLACED = {"sources": "origin = 'curated'", "places": "origin <> 'added'",
            "facts": "origin = 'curated'"}
"""The rows of the live store that a build's upsert overwrites (and so keep their row numbers)."""
KEPT = {"facts": ("created_at", "created_by")}
"""Columns the upsert never overwrites (``build.KEPT_COLUMNS`` that the files' rows carry)."""


def _insert_numbered(conn: sqlite3.Connection, table: str, columns: str,
                     rows: list[tuple[object, ...]]) -> None:
    """Insert the files' rows of ``table`` with the row numbers the upsert would give them over
    the live store: a row the live store has keeps its number (and the columns of ``KEPT``); a
    new one takes the next number above every row there, in the files' order. (Facts the files
    dropped are deleted before the upsert inserts any, so their numbers are free again.)"""
    names = columns.split(", ")
    kept = KEPT.get(table, ())
    conn.execute(f"CREATE TEMP TABLE kept(id TEXT PRIMARY KEY, rid INTEGER NOT NULL"
                 f"{''.join(f', {c}' for c in kept)}) WITHOUT ROWID")
    conn.execute(f"INSERT INTO kept SELECT id, rowid{''.join(f', {c}' for c in kept)} "
                 f"FROM live.{table} WHERE {REPLACED[table]}")
    own = [f"coalesce(k.{c}, ?{n})" if c in kept else f"?{n}" for n, c in enumerate(names, 1)]
    conn.executemany(f"INSERT INTO {table}(rowid, {columns}) SELECT k.rid, {', '.join(own)} "
                     "FROM kept k WHERE k.id = ?1", rows)
    staying = "guild_id <> 0" if table == "facts" else "1"
    (top,) = conn.execute(
        f"SELECT coalesce(max(rowid), 0) FROM live.{table} WHERE {staying}").fetchone()
    plain = ", ".join(f"?{n}" for n in range(1, len(names) + 1))
    conn.executemany(
        f"INSERT INTO {table}(rowid, {columns}) SELECT max(coalesce((SELECT max(rowid) FROM "
        f"main.{table}), 0), {int(top)}) + 1, {plain} "
        f"WHERE NOT EXISTS (SELECT 1 FROM live.{table} WHERE id = ?1)", rows)
    conn.execute("DROP TABLE kept")


@contextlib.contextmanager
def _writers_held_off(live: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the live file with the ``swap_pending`` mark set (committed, so that
    writers see it); the mark is removed if the swap fails, and the swap removes it otherwise."""
    target = sqlite3.connect(live, isolation_level=None, timeout=BUSY_MS / 1000)
    try:
        target.execute("BEGIN IMMEDIATE")  # waits for a writer in progress to finish
        target.execute(SET_META, (SWAP_PENDING, f"{time.time() + SWAP_BUDGET:.3f}"))
        target.execute("COMMIT")
        try:
            yield target
        except BaseException:
            target.execute("DELETE FROM meta WHERE key = ?", (SWAP_PENDING,))
            raise
    finally:
        target.close()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """A table's columns, with its row number first (``rowid`` is a column of its own in
    ``facts``, and SQLite's implicit one elsewhere) when it has one."""
    info = conn.execute(f"PRAGMA main.table_info({table})").fetchall()
    columns = [str(r[1]) for r in info]
    (without_rowid,) = conn.execute(
        "SELECT sql LIKE '%WITHOUT ROWID%' FROM main.sqlite_master WHERE name = ?",
        (table,)).fetchone()
    keys = [r for r in info if r[5]]
    aliased = len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER"  # id INTEGER PRIMARY KEY
    return columns if without_rowid or aliased else ["rowid", *columns]


def _copy(conn: sqlite3.Connection, table: str, where: str, *,
          zero: frozenset[str] = frozenset(), numbered: bool = True) -> None:
    """Copy rows of a live table into the fresh one, by column name (a store upgraded in place
    may order its columns differently from a fresh one) and with their row numbers unless not
    ``numbered``; ``zero``: columns set to 0."""
    columns = [c for c in _columns(conn, table) if numbered or c != "rowid"]
    picked = ", ".join("0" if c in zero else f"l.{c}" for c in columns)
    conn.execute(f"INSERT INTO main.{table}({', '.join(columns)}) "
                 f"SELECT {picked} FROM live.{table} l WHERE {where}")


def _carry_over(conn: sqlite3.Connection) -> None:
    """The live store's run-time rows, into the fresh file, as the upsert would have kept them."""
    written = ", ".join(f"'{key}'" for key in {"built_at", *MARK_KEYS, SWAP_PENDING})
    _copy(conn, "meta", f"l.key NOT IN ({written})", numbered=False)
    for table in ("sources", "places"):
        # A server's own rows, and the curated and GeoNames rows the files no longer have (they
        # stay until DROP_UNUSED decides), with their row numbers. None has a shared fact.
        _copy(conn, table, f"l.id NOT IN (SELECT id FROM main.{table})",
              zero=frozenset({"shared_facts"}))
    _copy(conn, "place_names", "l.guild_id <> 0")
    # A server's own facts keep their row numbers; one added while this build ran may find its
    # number taken by a new curated fact, and takes the next free one (it is the newest anyway).
    conn.execute("CREATE TEMP TABLE moved AS SELECT l.rowid AS rid FROM live.facts l "
                 "WHERE l.guild_id <> 0 AND l.rowid IN (SELECT rowid FROM main.facts)")
    _copy(conn, "facts", "l.guild_id <> 0 AND l.rowid NOT IN (SELECT rid FROM moved)")
    renumbered = ", ".join(c for c in _columns(conn, "facts") if c != "rowid")
    conn.execute(f"INSERT INTO main.facts({renumbered}) SELECT {renumbered} FROM live.facts "
                 "WHERE rowid IN (SELECT rid FROM moved) ORDER BY rowid")
    _copy(conn, "fact_links", "l.fact_id IN (SELECT id FROM live.facts WHERE guild_id <> 0)")
    for (table,) in conn.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'facts_fts%'").fetchall():
        if table not in BUILT_HERE:
            _copy(conn, table, "1")
    for statement in DROP_UNUSED:
        conn.execute(statement)
    _cascade(conn)
    _check_references(conn)


def _cascade(conn: sqlite3.Connection) -> None:
    """What ``ON DELETE CASCADE`` does in the upsert, once the unused rows are gone: a server's
    watch or name of a place that went, a hidden mark or link of a fact that went."""
    tables = [str(r[0]) for r in conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
    while True:
        removed = 0
        for table in tables:
            for fk in conn.execute(f"PRAGMA main.foreign_key_list({table})").fetchall():
                parent, child_col, parent_col, on_delete = fk[2], fk[3], fk[4] or "rowid", fk[6]
                if on_delete == "CASCADE":
                    removed += conn.execute(
                        f"DELETE FROM main.{table} WHERE {child_col} IS NOT NULL AND "
                        f"{child_col} NOT IN (SELECT {parent_col} FROM main.{parent})").rowcount
        if not removed:
            return


def _check_references(conn: sqlite3.Connection) -> None:
    """Every reference of the carried-over rows holds (the facts' own were checked against the
    files by validation, and those of run-time facts hold by DROP_UNUSED): a row the upsert
    would have refused fails the build here, and the store stays as it was."""
    for table in _referencing_tables(conn):
        bad = conn.execute(f"PRAGMA main.foreign_key_check({table})").fetchone()
        if bad is not None:
            raise sqlite3.IntegrityError(
                f"FOREIGN KEY constraint failed: a row of {bad[0]} refers to a missing "
                f"row of {bad[2]}")


def _referencing_tables(conn: sqlite3.Connection) -> list[str]:
    return [t for (t,) in conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
        "AND name <> 'facts'").fetchall()
        if conn.execute(f"PRAGMA main.foreign_key_list({t})").fetchone() is not None]


def _move_into_place(fresh: Path) -> None:
    """No store yet: sync the new file and rename it into place; stray journal files of an
    earlier store at that path go first, or SQLite would replay them onto the new file."""
    fd = os.open(fresh, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    target = fresh.with_name(fresh.name.removesuffix(FRESH_SUFFIX))
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(fresh, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
