"""The store's tables, as ``bot.store.contents`` lists them for copies and digests, are exactly
the tables and columns both engines' migrations create; and a build is skipped on either engine
when the curated files are unchanged."""

from __future__ import annotations

from pathlib import Path

from pgserver import PgServer

from bot.store import contents
from bot.store.stores import build_store, open_store, store_is_current
from tests.conftest import FIXTURE_DATA, SEEDS, StoreAt, location

IMPLICIT_ROWID = {"sources", "places"}
"""SQLite tables whose ``rowid`` is implicit (PostgreSQL has it as a column)."""


async def _columns(where: StoreAt) -> dict[str, set[str]]:
    store = await open_store(location(where))
    try:
        if isinstance(where, Path):
            tables = [r[0] for r in await store.db.fetch(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'facts_fts%'")]
            found = {}
            for table in tables:
                names = {r[1] for r in await store.db.fetch(f"PRAGMA table_info({table})")}
                found[table] = names | ({"rowid"} if table in IMPLICIT_ROWID else set())
            return found
        rows = await store.db.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'schema_version'")
        out: dict[str, set[str]] = {}
        for table, column in rows:
            out.setdefault(table, set()).add(column)
        return out
    finally:
        await store.close()


async def test_the_listed_tables_and_columns_are_the_schema_on_each_engine(
        fixture_copy: StoreAt) -> None:
    found = await _columns(fixture_copy)
    assert set(found) == set(contents.TABLES)
    for table, columns in contents.TABLES.items():
        assert found[table] == set(columns), table


async def test_a_build_is_skipped_when_the_curated_files_are_unchanged(
        tmp_path: Path, pg_server: PgServer) -> None:
    for where in (tmp_path / "new.db", pg_server.create_database("build_skip")):
        target = location(where)
        assert not await store_is_current(target, SEEDS, FIXTURE_DATA)
        assert (await build_store(target, SEEDS, FIXTURE_DATA)).built
        assert await store_is_current(target, SEEDS, FIXTURE_DATA)
        assert not (await build_store(target, SEEDS, FIXTURE_DATA)).built
        assert (await build_store(target, SEEDS, FIXTURE_DATA, force=True)).built
    pg_server.drop_database("build_skip")
