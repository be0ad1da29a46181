"""The store: schema done right, idempotent builds that keep run-time rows, index-backed queries."""

import asyncio
import sqlite3
from pathlib import Path

import pytest
import yaml

from bot.store import queries
from bot.store.db import connect, migrate, schema_version
from bot.store.schema import SCHEMA_VERSION
from bot.store.stores import build_store, store_is_current
from tests.conftest import SEEDS


def _sql(db: Path, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query, params).fetchall()


async def test_schema_is_strict_wal_with_foreign_keys(tmp_path: Path, fixture_data: Path) -> None:
    db = tmp_path / "s.db"
    report = await build_store(db, SEEDS, fixture_data)
    assert report.built and report.facts == 6
    assert _sql(db, "PRAGMA journal_mode") == [("wal",)]
    assert _sql(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    strict = {name for name, sql in _sql(db, "SELECT name, sql FROM sqlite_master "
                                             "WHERE type = 'table'") if sql and "STRICT" in sql}
    assert {"sources", "places", "place_names", "facts", "fact_links", "meta"} <= strict
    conn = await connect(db)
    try:
        fk = list(await conn.execute_fetchall("PRAGMA foreign_keys"))
        assert fk[0][0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            await conn.execute(
                "INSERT INTO place_names(place_id, name, origin) VALUES ('nowhere', 'x', 'added')")
    finally:
        await conn.close()


async def test_rebuild_is_idempotent_and_skipped_when_current(tmp_path: Path,
                                                              fixture_data: Path) -> None:
    db = tmp_path / "s.db"
    await build_store(db, SEEDS, fixture_data)
    before = _sql(db, "SELECT * FROM facts ORDER BY id")
    assert await store_is_current(db, SEEDS, fixture_data)
    assert not (await build_store(db, SEEDS, fixture_data)).built
    assert (await build_store(db, SEEDS, fixture_data, force=True)).built
    after = _sql(db, "SELECT * FROM facts ORDER BY id")
    strip = [r[:21] for r in before], [r[:21] for r in after]  # created_at may differ
    assert strip[0] == strip[1]


async def test_rebuild_never_deletes_rows_added_at_run_time(tmp_path: Path,
                                                            fixture_data: Path) -> None:
    db = tmp_path / "s.db"
    await build_store(db, SEEDS, fixture_data)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(
            "INSERT INTO facts(id, guild_id, origin, place_id, source_id, quote, summary, hedged, "
            "modality, event_precision, event_qualifier, event_basis, sort_date, as_of, rank, "
            "created_at) VALUES ('g1-added', 42, 'added', 'kirkuk', '004_16783dbdafc97e8b', "
            "'q', 'A moderator added this.', 0, 'reported', 'unknown', 'on', 'unknown', "
            "'2019-07-09', '2019-07-09', 'normal', '2026-01-01')")
        conn.execute("INSERT INTO place_names(place_id, name, guild_id, origin) "
                     "VALUES ('kirkuk', 'Karkuk', 42, 'added')")
    # the curated files change: a fact goes away, a summary changes
    path = fixture_data / "facts.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["facts"] = [f for f in doc["facts"] if f["id"] != "raqqa-surrounded"]
    doc["facts"][0]["summary"] = "Eastern Mosul was liberated after weeks of fighting."
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert not await store_is_current(db, SEEDS, fixture_data)
    assert (await build_store(db, SEEDS, fixture_data)).built
    ids = {r[0] for r in _sql(db, "SELECT id FROM facts")}
    assert "g1-added" in ids and "raqqa-surrounded" not in ids
    assert _sql(db, "SELECT summary FROM facts WHERE id = 'east-mosul-liberated'") == [
        ("Eastern Mosul was liberated after weeks of fighting.",)]
    assert _sql(db, "SELECT name FROM place_names WHERE guild_id = 42") == [("Karkuk",)]
    # the full-text index followed the edit and the deletion
    assert _sql(db, "SELECT count(*) FROM facts_fts WHERE facts_fts MATCH 'weeks'") == [(1,)]
    assert _sql(db, "SELECT count(*) FROM facts_fts WHERE facts_fts MATCH 'essentially'") == [
        (0,)]
    assert _sql(db, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize(("order", "index", "sorts"), [
    (queries.TIMELINE_ORDER, "facts_timeline", "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY"),
    (queries.LATEST_ORDER, "facts_latest", None),
])
async def test_place_queries_are_index_lookups(fixture_store: Path, order: str, index: str,
                                               sorts: str | None) -> None:
    """The engine's own queries (from bot.store.queries) search an index, never scan the table;
    for a single place, status needs no sort step and a timeline sorts only the facts that tie
    on the index (a date's facts, by id)."""
    from bot.store.queries import VISIBLE, fact_select
    from bot.store.sql import SQLITE

    query = f"{fact_select(SQLITE)} WHERE f.place_id IN ('mosul') AND {VISIBLE} ORDER BY {order}"
    rows = _sql(fixture_store, f"EXPLAIN QUERY PLAN {query}".replace(":guild", "7"))
    plan = " | ".join(str(r[-1]) for r in rows)
    assert f"SEARCH f USING INDEX {index} (place_id=?)" in plan, plan
    assert "SCAN f" not in plan, plan
    temp_sorts = [str(r[-1]) for r in rows if "TEMP B-TREE" in str(r[-1])]
    assert temp_sorts == ([sorts] if sorts else []), plan


async def test_migrations_upgrade_an_empty_store_step_by_step(tmp_path: Path) -> None:
    conn = await connect(tmp_path / "m.db")
    try:
        assert await schema_version(conn) == 0
        assert await migrate(conn) == SCHEMA_VERSION
        assert await migrate(conn) == SCHEMA_VERSION  # a second run changes nothing
    finally:
        await conn.close()


async def test_build_refuses_invalid_data_and_leaves_the_store_alone(
        tmp_path: Path, fixture_data: Path) -> None:
    from bot.store.build import BuildError

    db = tmp_path / "s.db"
    await build_store(db, SEEDS, fixture_data)
    before = _sql(db, "SELECT count(*) FROM facts")
    path = fixture_data / "facts.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("place: ramadi", "place: atlantis"),
                    encoding="utf-8")
    with pytest.raises(BuildError) as err:
        await build_store(db, SEEDS, fixture_data)
    assert "unknown place 'atlantis'" in str(err.value.problems[0])
    assert _sql(db, "SELECT count(*) FROM facts") == before


def test_concurrent_builds_do_not_corrupt(tmp_path: Path, fixture_data: Path) -> None:
    db = tmp_path / "s.db"

    async def both() -> None:
        await asyncio.gather(build_store(db, SEEDS, fixture_data),
                             build_store(db, SEEDS, fixture_data, force=True))

    asyncio.run(both())
    assert _sql(db, "SELECT count(*) FROM facts") == [(6,)]


async def test_an_old_store_upgrades_at_start_keeping_moderator_rows(tmp_path: Path,
                                                                     fixture_data: Path) -> None:
    """A store at the first schema version, as the first release left it, holding a place and a
    name a moderator added, is migrated when a newer sitrep opens it: the rows survive and the
    moderation tables arrive."""
    from bot.runtime import open_at

    db = tmp_path / "old.db"
    conn = await connect(db)
    try:
        assert await migrate(conn, target=1) == 1
        await conn.execute(
            "INSERT INTO places(id, guild_id, origin, name, kind) VALUES ('qaraqosh', 5, 'added', "
            "'Qaraqosh', 'town')")
        await conn.execute("INSERT INTO place_names(place_id, name, guild_id, origin) "
                           "VALUES ('qaraqosh', 'Bakhdida', 5, 'added')")
    finally:
        await conn.close()
    await build_store(db, SEEDS, fixture_data)
    engine_rt = await open_at(db)
    engine = engine_rt.engine
    try:
        assert await schema_version(engine.store.conn) == SCHEMA_VERSION
        resolver = await engine.resolver(5)
        assert resolver.resolve("Bakhdida").place_id == "qaraqosh"
        assert (await engine.resolver(6)).resolve("Bakhdida").place_id != "qaraqosh"
    finally:
        await engine_rt.close()
    assert _sql(db, "SELECT name FROM place_names WHERE guild_id = 5") == [("Bakhdida",)]
    assert _sql(db, "SELECT count(*) FROM changes") == [(0,)]
    assert _sql(db, "PRAGMA integrity_check") == [("ok",)]
