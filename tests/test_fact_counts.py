"""``count_facts`` reads each place's shared count (``places.shared_facts``, kept by the build)
instead of counting tens of thousands of rows per answer: whatever servers retire, add or hide,
and after a rebuild or the migration that added the column, it equals a count of what the server
sees (``queries.VISIBLE``), on both engines."""

from __future__ import annotations

from pathlib import Path

from bot.runtime import open_at
from bot.store import queries
from bot.store.schema import RECOUNT_SHARED
from bot.store.sqlstore import SqlStore
from bot.store.stores import build_store
from tests.conftest import DATA, SEEDS, TODAY, StoreAt, location

A, B, MOD = 501, 502, 9


async def visible_counts(store: SqlStore, guild: int) -> dict[str, int]:
    """The oracle: every place's visible facts, counted row by row."""
    rows = await store.db.fetch(
        f"SELECT f.place_id, count(*) FROM facts f WHERE {queries.VISIBLE} GROUP BY f.place_id",
        {"guild": guild})
    return {str(r[0]): int(r[1]) for r in rows}


async def read_counts(store: SqlStore, guild: int, places: list[str]) -> dict[str, int]:
    return {p: n for p in places if (n := await queries.count_facts(store.db, [p], guild))}


async def assert_counts_true(store: SqlStore) -> None:
    places = [str(r[0]) for r in await store.db.fetch("SELECT id FROM places ORDER BY id")]
    for guild in (0, A, B):
        expected = await visible_counts(store, guild)
        assert expected, "no facts at all: a weak test"
        assert await read_counts(store, guild, places) == expected, guild
    pair, seen = ["mosul", "ramadi"], await visible_counts(store, A)
    assert await queries.count_facts(store.db, pair, A) == seen["mosul"] + seen["ramadi"]


async def test_counts_follow_what_each_server_sees(shipped_copy: StoreAt) -> None:
    rt = await open_at(shipped_copy, today=lambda: TODAY)
    try:
        mod = rt.moderation
        src = (await mod.add_source(A, MOD, title="Report", outlet="Wire",
                                    published="2 March 2020")).key
        own = (await mod.add_fact(A, MOD, place="Mosul", date_text="1 March 2020",
                                  summary="Server A's own fact.", source=src)).key
        await mod.add_fact(A, MOD, place="Ramadi", date_text="1 March 2020",
                           summary="Another of server A's.", source=src)
        shared = [f.id for f in (await rt.engine.status("Mosul", A)).facts
                  if f.id != own][:2]
        for fact_id in shared:  # retired for server A only
            await mod.set_live(A, MOD, fact_id, False)
        await mod.set_live(A, MOD, own, False)  # and one of its own
        await mod.set_live(B, MOD, shared[0], False)
        await mod.set_live(B, MOD, shared[0], True)  # and back
        await assert_counts_true(rt.store)
    finally:
        await rt.close()


async def test_counts_are_true_after_a_rebuild_and_after_the_migration(
        shipped_copy: StoreAt, fixture_data: Path) -> None:
    await build_store(location(shipped_copy), SEEDS, fixture_data)  # other curated facts
    rt = await open_at(shipped_copy, today=lambda: TODAY)
    try:
        await assert_counts_true(rt.store)
        # as a store migrated to the column finds it: all zero until recounted
        async with rt.store.db.transaction() as tx:
            await tx.execute("UPDATE places SET shared_facts = 0")
            for statement in RECOUNT_SHARED:
                await tx.execute(statement)
        await assert_counts_true(rt.store)
    finally:
        await rt.close()
    await build_store(location(shipped_copy), SEEDS, DATA)
