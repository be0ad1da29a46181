"""Opening, building and checking a store by its location: the one module that knows which
engine serves which location (an SQLite file, or a PostgreSQL database)."""

from __future__ import annotations

import time
from pathlib import Path

from bot.config import StoreLocation
from bot.curation.load import curated_digest
from bot.store import postgres, sqlite
from bot.store.build import BuildReport, checked_curation
from bot.store.sqlstore import SqlStore

Where = StoreLocation | Path
"""A location, or a path as shorthand for an SQLite file."""


def locate(where: Where) -> StoreLocation:
    return where if isinstance(where, StoreLocation) else StoreLocation.sqlite(where)


async def open_store(where: Where, *, budget: float | None = None) -> SqlStore:
    """Open and migrate the store; a one-line ``StoreError`` when it cannot be used.
    ``budget``: the seconds an answer's query may take before it is stopped (``OverBudget``)."""
    location = locate(where)
    if location.kind == "postgresql":
        return await postgres.PostgresStore.open(location, budget=budget)
    assert location.path is not None
    return await sqlite.SqliteStore.open(location.path, budget=budget)


async def build_store(where: Where, seeds_dir: Path, data_dir: Path, *,
                      force: bool = False) -> BuildReport:
    """Validate the curated data and compile it into the store (migrated first). Raises
    ``BuildError`` and leaves the store untouched when the data has problems."""
    started = time.perf_counter()
    cur = checked_curation(seeds_dir, data_dir)
    location = locate(where)
    if location.kind == "postgresql":
        return await postgres.build(location, cur, data_dir, force=force, started=started)
    assert location.path is not None
    return await sqlite.build(location.path, cur, data_dir, force=force, started=started)


async def store_is_current(where: Where, seeds_dir: Path, data_dir: Path) -> bool:
    """True when the store exists, is at this sitrep's schema and was built from exactly the
    current curated files."""
    location = locate(where)
    if location.kind == "postgresql":
        built = await postgres.built_digest(location)
    else:
        assert location.path is not None
        built = await sqlite.built_digest(location.path)
    return built is not None and built == curated_digest(seeds_dir, data_dir)


async def store_health(where: Where) -> str | None:
    """Why the store cannot serve, or None when it can (read-only; builds nothing)."""
    location = locate(where)
    if location.kind == "postgresql":
        return await postgres.store_health(location)
    assert location.path is not None
    return await sqlite.store_health(location.path)
