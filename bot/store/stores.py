"""Opening, building and checking a store by its location: the one module that knows which
engine serves which location (an SQLite file, or a PostgreSQL database)."""

from __future__ import annotations

import time
from pathlib import Path

from bot.config import StoreLocation
from bot.curation.load import curated_digest
from bot.store import postgres, sqlite
from bot.store.build import BuildReport, BuildRows, build_rows, checked_curation, unchanged
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
    ``BuildError`` and leaves the store untouched when the data has problems. When the store was
    built from exactly these files, nothing is read but their bytes (``force`` builds anyway)."""
    started = time.perf_counter()
    location = locate(where)
    if not force:
        marks = await build_marks(location)
        report = unchanged(marks, curated_digest(seeds_dir, data_dir), started)
        if report is not None:
            return report
    rows = build_rows(checked_curation(seeds_dir, data_dir), data_dir)
    return await write_build(location, rows, started=started)


async def write_build(where: Where, rows: BuildRows, *,
                      started: float | None = None) -> BuildReport:
    """Write a build's rows into the store, by the way that suits the engine and the size (the
    benchmarks call this with a million synthetic facts: it is ``sitrep build``'s own path)."""
    started = time.perf_counter() if started is None else started
    location = locate(where)
    if location.kind == "postgresql":
        return await postgres.build(location, rows, started=started)
    assert location.path is not None
    return await sqlite.build(location.path, rows, started=started)


async def build_marks(where: Where) -> dict[str, str]:
    """What the store says it was built from (``build.MARK_KEYS``); empty when it was not."""
    location = locate(where)
    if location.kind == "postgresql":
        return await postgres.build_marks(location)
    assert location.path is not None
    return await sqlite.build_marks(location.path)


async def store_is_current(where: Where, seeds_dir: Path, data_dir: Path) -> bool:
    """True when the store exists, is at this sitrep's schema and was built from exactly the
    current curated files."""
    built = (await build_marks(locate(where))).get("curated_digest")
    return built is not None and built == curated_digest(seeds_dir, data_dir)


async def store_health(where: Where) -> str | None:
    """Why the store cannot serve, or None when it can (read-only; builds nothing)."""
    location = locate(where)
    if location.kind == "postgresql":
        return await postgres.store_health(location)
    assert location.path is not None
    return await sqlite.store_health(location.path)
