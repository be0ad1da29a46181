"""PostgreSQL for the benchmarks: a throwaway server for one run, and a fast copy of an SQLite
store into a database of it.

The server is the tests' (``tests/pgserver.py``): PostgreSQL's own binaries, started as the
current user on 127.0.0.1 in a temporary directory, with PostgreSQL's default settings
(``shared_buffers`` 128 MB, ``fsync`` on), stopped and deleted at the end of the run.

The copy reads every table of the SQLite file (the columns of ``bot.store.contents.TABLES``) and
writes it with asyncpg's ``copy_records_to_table`` (binary COPY) into a database that
``bot.store.postgres.migrate`` created, so the schema is exactly the one ``sitrep`` makes. To load
a million facts in reasonable time the secondary indexes of ``facts`` (the GIN full-text index
above all) are dropped during the copy and re-created afterwards from their own definitions, and
foreign keys are not re-checked (``session_replication_role = replica``: the rows come from a
store that enforced them). Then the identity sequences are moved past the copied ids and
``VACUUM (ANALYZE)`` runs: ANALYZE for the planner's statistics, VACUUM so that the visibility map
is set (index-only scans) and autovacuum does not wake up in the middle of the measurements; a
``CHECKPOINT`` writes the load out before anything is timed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT
from bot.config import StoreLocation, load_settings
from bot.store import postgres
from bot.store.contents import TABLES, select

IDENTITIES = (("facts", "rowid"), ("sources", "rowid"), ("places", "rowid"), ("changes", "id"),
              ("candidates", "id"))
"""The identity columns, whose sequences must start after the copied rows."""


def pgserver_module() -> Any:
    """``tests/pgserver.py``, imported as the tests import it (``tests/`` on ``sys.path``)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import pgserver

    return pgserver


@contextlib.contextmanager
def throwaway_server() -> Iterator[Any]:
    """A started ``PgServer``, stopped (and its directory deleted) on exit."""
    server = pgserver_module().PgServer.start()
    try:
        yield server
    finally:
        server.stop()


def location(url: str) -> StoreLocation:
    return load_settings(database_url=url).store


@dataclass(frozen=True, slots=True)
class CopyReport:
    rows: dict[str, int]
    copy_s: float
    indexes_s: float
    vacuum_s: float
    db_bytes: int


def _rows(db: Path, table: str) -> Iterator[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cursor = conn.execute(select(table))
        while batch := cursor.fetchmany(10_000):
            yield from batch
    finally:
        conn.close()


async def copy_sqlite(db: Path, url: str) -> CopyReport:
    """Copy the SQLite store ``db`` into the (empty) PostgreSQL database at ``url``."""
    where = location(url)
    conn = await postgres.connect(where)
    try:
        await postgres.migrate(conn, where)
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET session_replication_role = replica")
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'facts' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")
        counts: dict[str, int] = {}
        t0 = time.perf_counter()
        async with conn.transaction():
            for index in indexes:
                await conn.execute(f"DROP INDEX {index['indexname']}")
            for table, columns in TABLES.items():
                status = await conn.copy_records_to_table(table, records=_rows(db, table),
                                                          columns=list(columns))
                counts[table] = int(status.rsplit(" ", 1)[-1])
            t1 = time.perf_counter()
            for index in indexes:
                await conn.execute(index["indexdef"])
            for table, column in IDENTITIES:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"coalesce(max({column}), 0) + 1, false) FROM {table}")
        t2 = time.perf_counter()
        await conn.execute("RESET session_replication_role")
        await conn.execute("VACUUM (ANALYZE)")
        await conn.execute("CHECKPOINT")  # written out now, not during the measurements
        t3 = time.perf_counter()
        size = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()
    expected = {t: n for t, n in _sqlite_counts(db).items()}
    if counts != expected:
        raise RuntimeError(f"copy of {db} is incomplete: {counts} != {expected}")
    return CopyReport(counts, t1 - t0, t2 - t1, t3 - t2, size)


def _sqlite_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}
    finally:
        conn.close()


async def server_facts(url: str) -> dict[str, str]:
    """The server's version and the settings that matter to the figures."""
    conn = await postgres.connect(location(url))
    try:
        out = {"version": str(await conn.fetchval("SHOW server_version"))}
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "jit",
                     "max_connections"):
            out[name] = str(await conn.fetchval(f"SHOW {name}"))
        return out
    finally:
        await conn.close()


async def mark_built(url: str) -> str:
    """Stamp the store at ``url`` as built from this checkout's curated files, and return the
    digest. ``sitrep run`` (``bot.runtime.ensure_store``) rebuilds a store whose
    ``curated_digest`` differs from the curated files', and a synthetic copy has none: unstamped,
    a benchmark's bot processes would replace its million facts by the shipped curation's few
    hundred before serving."""
    from bot.curation.load import curated_digest

    digest = curated_digest(ROOT / "seeds", ROOT / "data")
    conn = await postgres.connect(location(url))
    try:
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('curated_digest', $1) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", digest)
    finally:
        await conn.close()
    return digest


async def fact_count(url: str) -> int:
    """Facts in the store at ``url``: to check that a run served the store it was given."""
    conn = await postgres.connect(location(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM facts"))
    finally:
        await conn.close()
