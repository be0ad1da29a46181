"""The large load (``bot.store.bulk``): SQLite's way of building many facts gives exactly the store
the upsert gives, over a store with run-time rows of every kind; a failed large build leaves the
store as it was; and a running bot keeps answering, and keeps what moderators write, while a
rebuild swaps the new file in."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.store import build, bulk, contents
from bot.store.build import BuildRows, build_rows, checked_curation
from bot.store.db import SWAP_PENDING
from bot.store.queries import SET_META
from bot.store.stores import build_store, open_store, write_build
from tests.conftest import DATA, SEEDS, runtime_at, store_summary

A = 111
MOD = 5
WORDS = ["mosul", "liberated", "the", "isis", "ramadi", "surrounded", "forces", "fallujah"]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


async def _with_run_time_rows(db: Path) -> None:
    """A store as a server leaves it: its own source, fact, place and name, a shared fact hidden,
    a watch, a mod-log channel (so posts owed in the outbox) and a review candidate."""
    async with runtime_at(db) as rt:
        mod = rt.moderation
        await mod.set_modlog(A, 901)
        src = (await mod.add_source(A, MOD, title="Iraqi forces push into Mosul outskirts",
                                    outlet="Test Wire", published="2 March 2020",
                                    url="https://example.org/wire/1", genre="wire")).key
        await mod.add_fact(A, MOD, place="Mosul", date_text="1 March 2020",
                           summary="Iraqi forces launched the offensive on Mosul.", source=src)
        place = (await mod.add_place(A, MOD, name="Bashiqa Camp", kind="village", country="IQ",
                                     governorate="Nineveh", coordinates="36.45, 43.35")).key
        await mod.add_fact(A, MOD, place=place, date_text="2020-03-01",
                           summary="Turkish troops are based at the camp.", source=src)
        await mod.add_alias(A, MOD, "Hawija", "Huwija town")
        shared = (await rt.engine.status("Mosul", A)).facts[-1].id
        await mod.set_live(A, MOD, shared, False)
        await mod.watch(A, MOD, 900, "Ramadi")
        await mod.ingest(A, MOD, text="Iraqi forces retook Ramadi on Monday, officials said.",
                         title="T", outlet="Wire", published="2015-12-28")


def _edit_curation(data: Path) -> None:
    """The curated files change: a fact goes, a summary changes, a fact moves to the end, a new
    fact comes in (before older ones, in the file) and a place that had no facts goes."""
    path = data / "facts.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    facts = doc["facts"]
    facts.pop(3)
    facts[0]["summary"] = facts[0]["summary"].rstrip(".") + ", the source says."
    facts.append(facts.pop(1))
    new = {**facts[2], "id": "central-iraq-hit-abandoned-001", "status": None,
           "quote": "largely abandoning the cities of Hit, Rutba and Kubasya",
           "summary": "ISIS largely abandoned Hit, Rutba and Kubasya, AFP reports."}
    facts.insert(1, {k: v for k, v in new.items() if v is not None})
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    path = data / "places.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["places"] = [p for p in doc["places"] if p["id"] != "iran"]
    doc["false_friends"] = [f for f in doc["false_friends"] if f.get("not_place") != "iran"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


async def _rows(data: Path) -> BuildRows:
    rows = build_rows(checked_curation(SEEDS, data), data)
    return replace(rows, facts=list(rows.facts))


def _meta_without_build_time(table_rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [r for r in table_rows if r[0] != "built_at"]


async def _everything(db: Path) -> dict[str, list[tuple[object, ...]]]:
    store = await open_store(db)
    try:
        out = {t: await contents.rows(store.db, t) for t in contents.TABLES}
    finally:
        await store.close()
    out["meta"] = _meta_without_build_time(out["meta"])
    return out


async def _answers(db: Path) -> list[object]:
    """Status and timeline of every place with facts, for the server and for everyone, and a
    search for each word: what users would see."""
    async with runtime_at(db) as rt:
        engine = rt.engine
        out: list[object] = []
        for guild in (0, A):
            for place in (await engine.places(guild)).places:
                out.append((await engine.status("", guild, place_id=place.place.id)).model_dump())
                out.append((await engine.timeline("", guild, place_id=place.place.id)).model_dump())
            out += [(await engine.search(w, guild)).model_dump() for w in WORDS]
        return out


async def test_the_large_load_gives_exactly_the_store_the_upsert_gives(
        tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start = tmp_path / "start.db"
    await build_store(start, SEEDS, data)
    await _with_run_time_rows(start)
    _edit_curation(data)
    rows = await _rows(data)
    by_upsert, by_load = tmp_path / "upsert.db", tmp_path / "load.db"
    shutil.copy(start, by_upsert)
    shutil.copy(start, by_load)

    assert not rows.large  # the shipped curation is small: the upsert, in place
    await write_build(by_upsert, rows)
    monkeypatch.setattr(build, "LARGE_LOAD_FACTS", 1)
    assert rows.large
    await write_build(by_load, rows)

    upserted, loaded = await _everything(by_upsert), await _everything(by_load)
    assert upserted["facts"] == loaded["facts"]
    assert upserted == loaded
    assert {t: len(r) for t, r in loaded.items()}["outbox"] > 0  # the run-time rows are there
    assert await _answers(by_upsert) == await _answers(by_load)
    with sqlite3.connect(by_load) as conn:  # a real WAL store, its full-text index whole
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.execute("INSERT INTO facts_fts(facts_fts) VALUES ('integrity-check')")
    assert not by_load.with_name(by_load.name + bulk.FRESH_SUFFIX).exists()


async def test_a_first_large_build_gives_the_store_a_first_upsert_gives(
        tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = await _rows(data)
    await write_build(tmp_path / "upsert.db", rows)
    monkeypatch.setattr(build, "LARGE_LOAD_FACTS", 1)
    await write_build(tmp_path / "load.db", rows)
    assert await _everything(tmp_path / "upsert.db") == await _everything(tmp_path / "load.db")
    assert await _answers(tmp_path / "upsert.db") == await _answers(tmp_path / "load.db")


async def test_a_rebuild_that_changes_nothing_reads_no_curated_file(
        tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    first = await build_store(db, SEEDS, data)

    def refuse(*_: object) -> None:
        raise AssertionError("the curated files were loaded")

    monkeypatch.setattr("bot.store.stores.checked_curation", refuse)
    again = await build_store(db, SEEDS, data)
    assert not again.built
    assert (again.sources, again.places, again.gazetteer_places, again.facts) == (
        first.sources, first.places, first.gazetteer_places, first.facts)


async def test_a_failed_large_build_leaves_the_store_as_it_was(
        tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    await build_store(db, SEEDS, data)
    await _with_run_time_rows(db)
    before = await store_summary(db)
    monkeypatch.setattr(build, "LARGE_LOAD_FACTS", 1)
    rows = await _rows(data)

    # fails while loading: two facts with one id
    facts = list(rows.facts)
    with pytest.raises(sqlite3.IntegrityError):
        await write_build(db, replace(rows, facts=[*facts, facts[0]], digest="other"))
    assert await store_summary(db) == before

    # fails while carrying over, with writers already held off: the new files drop the source
    # a review candidate was made from, which the upsert refuses too
    candidate_source = _sql(db, "SELECT source_id FROM candidates LIMIT 1")[0][0]
    _sql(db, "UPDATE sources SET origin = 'curated', guild_id = 0 WHERE id = ?",
         (candidate_source,))
    before = await store_summary(db)
    with pytest.raises(sqlite3.IntegrityError, match="candidates"):
        await write_build(db, replace(rows, digest="other"))
    assert await store_summary(db) == before
    assert not _sql(db, "SELECT 1 FROM meta WHERE key = ?", (SWAP_PENDING,))
    assert not db.with_name(db.name + bulk.FRESH_SUFFIX).exists()


async def test_writers_wait_while_a_swap_is_pending_and_not_for_a_dead_builds_mark(
        tmp_path: Path, data: Path) -> None:
    db = tmp_path / "s.db"
    await build_store(db, SEEDS, data)
    async with runtime_at(db) as rt:
        _sql(db, SET_META, (SWAP_PENDING, f"{time.time() + 60}"))
        writing = asyncio.create_task(rt.moderation.set_modlog(A, 901))
        await asyncio.sleep(0.5)
        assert not writing.done() and await rt.moderation.modlog(A) is None
        _sql(db, "DELETE FROM meta WHERE key = ?", (SWAP_PENDING,))  # what the swap does
        await asyncio.wait_for(writing, 5)
        assert await rt.moderation.modlog(A) == 901
        _sql(db, SET_META, (SWAP_PENDING, f"{time.time() - 1}"))  # a build that died
        await asyncio.wait_for(rt.moderation.set_modlog(A, 902), 5)
        assert await rt.moderation.modlog(A) == 902


def _sql(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def _many(rows: BuildRows, n: int) -> BuildRows:
    """``rows`` and ``n`` more facts (copies under new ids): a build that takes a while."""
    facts = list(rows.facts)
    extra = [(f"{f[0]}-copy-{i}", *f[1:]) for i in range(n) for f in facts[i % len(facts):][:1]]
    return replace(rows, facts=[*facts, *extra], fact_count=len(facts) + n, digest="many")


async def test_a_running_bot_keeps_answering_and_writing_while_the_new_file_goes_in(
        tmp_path: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    await build_store(db, SEEDS, data)
    monkeypatch.setattr(build, "LARGE_LOAD_FACTS", 1)
    rows = _many(await _rows(data), 30_000)
    async with runtime_at(db) as rt:
        engine, mod = rt.engine, rt.moderation
        src = (await mod.add_source(A, MOD, title="Wire report", outlet="Test Wire",
                                    published="2 March 2020")).key
        before = (await engine.status("Mosul", A)).model_dump()
        building = asyncio.create_task(write_build(db, rows))
        answered, added = 0, []
        while not building.done():
            answer = await engine.status("Mosul", A)
            assert answer.place is not None and answer.place.id == "mosul" and answer.facts
            answered += 1
            if len(added) < 20:  # moderators keep writing: before, during and after the swap
                added.append((await mod.add_fact(A, MOD, place="Ramadi", source=src,
                                                 date_text="1 March 2020",
                                                 summary=f"Report {len(added)}.")).key)
            await asyncio.sleep(0.005)
        await building
        assert answered > 5
        with sqlite3.connect(db) as conn:
            ids = {r[0] for r in conn.execute("SELECT id FROM facts WHERE guild_id = ?", (A,))}
            assert conn.execute("SELECT count(*) FROM facts").fetchone()[0] >= rows.fact_count
        assert set(added) <= ids  # not one write lost in the swap
        async with asyncio.timeout(10):  # the follower sees the new generation and reloads
            # the follower signals nothing a test can await: its effect is polled
            while (await engine.status("Mosul", A)).model_dump() == before:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
