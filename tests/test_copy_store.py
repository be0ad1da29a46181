"""``sitrep copy-store`` (``bot.store.copy``): a store copied between SQLite and PostgreSQL holds
the same rows and gives the same answers; a non-empty target is refused unless ``--replace``; a
copy that does not verify leaves the target as it was; new rows on a copy get fresh ids; and the
command line never prints a password."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pgserver import PgServer

from bot.__main__ import main
from bot.config import StoreLocation
from bot.store import contents
from bot.store import copy as copy_module
from bot.store.base import StoreError
from bot.store.copy import RowsDigest, copy_store
from bot.store.sql import Database
from bot.store.stores import open_store
from tests.conftest import StoreAt, location, runtime_at, store_summary

A, B = 111, 222
MOD = 5
_names = itertools.count()


@pytest.fixture
def empty_pg(pg_server: PgServer) -> Iterator[Any]:
    """``empty_pg()``: the URL (with its password) of a new empty database, dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"copy{next(_names)}"
        made.append(name)
        return pg_server.create_database(name)

    yield make
    for name in made:
        pg_server.drop_database(name)


@pytest.fixture
def moderated(shipped_store: Path, tmp_path: Path) -> Path:
    """The shipped store, as an SQLite file, after moderators of two servers changed it."""
    path = tmp_path / "moderated.db"
    shutil.copy(shipped_store, path)
    return path


async def moderate(where: StoreAt) -> dict[str, str]:
    """A bit of everything moderators do: a source, a fact (edited), an alias, a place, a watch,
    a mod-log channel, an ingested article with a rejected candidate, a retired shared fact and
    an undone change. Returns the ids the answers are checked by."""
    async with runtime_at(where) as rt:
        mod = rt.moderation
        src = (await mod.add_source(A, MOD, title="Iraqi forces push into Mosul outskirts",
                                    outlet="Test Wire", published="2 March 2020",
                                    url="https://example.org/wire/1", genre="wire")).key
        fact = (await mod.add_fact(A, MOD, place="Mosul", date_text="1 March 2020", source=src,
                                   summary="Iraqi forces launched the offensive on Mosul.",
                                   status="offensive launched")).key
        await mod.edit_fact(A, MOD, fact, summary="Iraqi and Kurdish forces began the offensive.")
        await mod.add_alias(A, MOD, "Mosul", "Hadba City")
        await mod.add_place(A, MOD, name="Bashiqa Camp", kind="village", country="IQ",
                            governorate="Nineveh", coordinates="36.45, 43.35")
        await mod.watch(A, MOD, 900, "Mosul")
        await mod.set_modlog(A, 901)
        await mod.ingest(A, MOD, text="BAGHDAD (Wire) - Iraqi forces retook Ramadi on Monday, "
                         "officials said. Fighting continued near Mosul.", title="Ramadi",
                         outlet="Wire", published="2015-12-28")
        pending = await mod.pending(A)
        assert pending, "the ingest queued nothing: the test would not cover candidates"
        await mod.reject(A, MOD, pending[0].id)
        shared = (await rt.engine.status("Mosul", A)).facts[-1].id
        await mod.set_live(A, MOD, shared, False)
        await mod.add_alias(B, MOD + 1, "Ramadi", "Ramadi town")
        await mod.undo(B, MOD + 1)
        return {"fact": fact, "shared": shared}


async def answers(where: StoreAt, ids: dict[str, str]) -> dict[str, Any]:
    """What the engine and moderation answer about the changed facts, from a fresh runtime."""
    async with runtime_at(where) as rt:
        out: dict[str, Any] = {}
        for guild in (0, A, B):
            out[f"status {guild}"] = (await rt.engine.status("Mosul", guild)).model_dump()
            out[f"timeline {guild}"] = (await rt.engine.timeline("Mosul", guild)).model_dump()
        out["alias"] = (await rt.engine.status("Hadba City", A)).model_dump()
        out["search"] = (await rt.engine.search("Kurdish offensive", A)).model_dump()
        out["history"] = await rt.moderation.history(A, ids["fact"])
        out["shared history"] = await rt.store.records.history(A, f"fact:{ids['shared']}")
        out["recent"] = await rt.moderation.recent(A)
        out["watches"] = await rt.moderation.watches(A)
        out["modlog"] = await rt.moderation.modlog(A)
        out["pending"] = await rt.moderation.pending(A)
        return out


# ---------------------------------------------------------------------------- the round trip
async def test_a_moderated_store_survives_sqlite_to_postgresql_and_back(
        moderated: Path, empty_pg: Any, tmp_path: Path) -> None:
    ids = await moderate(moderated)
    pg_url = empty_pg()
    back = tmp_path / "back" / "sitrep.db"

    to_pg = await copy_store(location(moderated), location(pg_url))
    to_sqlite = await copy_store(location(pg_url), location(back))

    original = await store_summary(moderated)
    assert await store_summary(pg_url) == original
    assert await store_summary(back) == original
    assert to_pg.rows == to_sqlite.rows == {t: n for t, (n, _) in original.items()}
    for table in ("changes", "candidates", "watches", "guild_settings", "fact_hidden"):
        assert to_pg.rows[table] > 0, f"the moderated store has no {table}: a weak test"
    expected = await answers(moderated, ids)
    assert expected["history"] and expected["shared history"]
    assert await answers(pg_url, ids) == expected
    assert await answers(back, ids) == expected


async def test_many_small_batches_copy_the_same_rows(
        moderated: Path, empty_pg: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table crosses batch boundaries, so the keyset paging of each one's order (one
    column or several) is exercised on both engines."""
    await moderate(moderated)
    monkeypatch.setattr(copy_module, "BATCH", 7)
    pg_url = empty_pg()
    back = tmp_path / "back.db"
    await copy_store(location(moderated), location(pg_url))
    await copy_store(location(pg_url), location(back))
    original = await store_summary(moderated)
    assert await store_summary(pg_url) == original
    assert await store_summary(back) == original


async def test_new_rows_on_a_postgresql_copy_get_fresh_ids(moderated: Path, empty_pg: Any) -> None:
    await moderate(moderated)
    pg_url = empty_pg()
    await copy_store(location(moderated), location(pg_url))
    before = await largest_ids(pg_url)
    async with runtime_at(pg_url) as rt:  # each of these would collide with a copied id otherwise
        src = (await rt.moderation.add_source(B, MOD, title="Later report", outlet="Wire",
                                              published="3 March 2020")).key
        await rt.moderation.add_place(B, MOD, name="Later Camp", country="IQ")
        await rt.moderation.add_fact(B, MOD, place="Mosul", date_text="2 March 2020",
                                     summary="A later fact.", source=src)
        await rt.moderation.ingest(B, MOD, text="Iraqi forces retook Ramadi on Monday.",
                                   title="T", outlet="Wire", published="2015-12-28")
    after = await largest_ids(pg_url)
    assert all(after[column] > largest for column, largest in before.items()), (before, after)


async def largest_ids(where: StoreAt) -> dict[str, int]:
    store = await open_store(location(where))
    try:
        out = {}
        for table, column in (("sources", "rowid"), ("places", "rowid"), ("facts", "rowid"),
                              ("changes", "id"), ("candidates", "id")):
            row = await store.db.fetchrow(f"SELECT max({column}) FROM {table}")
            assert row is not None
            out[f"{table}.{column}"] = int(row[0])
        return out
    finally:
        await store.close()


# ---------------------------------------------------------------------------- refusals
async def test_a_store_with_rows_is_refused_and_left_alone(
        shipped_copy: StoreAt, fixture_copy: StoreAt) -> None:
    before = await store_summary(fixture_copy)
    with pytest.raises(StoreError, match=r"is not empty .*--replace") as caught:
        await copy_store(location(shipped_copy), location(fixture_copy))
    message = str(caught.value)
    assert str(location(fixture_copy)) in message and "\n" not in message
    assert await store_summary(fixture_copy) == before


async def test_replace_makes_the_target_an_exact_copy(
        shipped_copy: StoreAt, fixture_copy: StoreAt) -> None:
    """The target has a change log of its own (append-only): replacing empties it anyway, and
    the guard is back afterwards."""
    await moderate(shipped_copy)
    async with runtime_at(fixture_copy) as rt:
        await rt.moderation.add_alias(B, MOD, "Mosul", "Old City")
    report = await copy_store(location(shipped_copy), location(fixture_copy), replace=True)
    assert report.replaced and report.rows["changes"] > 0
    assert await store_summary(fixture_copy) == await store_summary(shipped_copy)
    store = await open_store(location(fixture_copy))
    try:
        for statement in ("DELETE FROM changes", "UPDATE changes SET actor = 0"):
            with pytest.raises(Exception, match="append-only"):
                async with store.db.transaction() as tx:
                    await tx.execute(statement)
    finally:
        await store.close()


async def test_a_copy_that_does_not_verify_changes_nothing(
        fixture_copy: StoreAt, shipped_copy: StoreAt, monkeypatch: pytest.MonkeyPatch) -> None:
    """The target (the shipped store, with a fact of its own) is replaced by the fixture store,
    whose facts end at a lower id, and one copied fact is altered on the way: the copy is
    refused, the target keeps its rows, and its id counters (PostgreSQL's are rolled back with
    the transaction) still give its next fact a free id."""
    async with runtime_at(shipped_copy) as rt:
        src = (await rt.moderation.add_source(A, MOD, title="Report", outlet="Wire",
                                              published="2 March 2020")).key
        await rt.moderation.add_fact(A, MOD, place="Mosul", date_text="1 March 2020",
                                     summary="A fact of the target's own.", source=src)
    before = await store_summary(shipped_copy)
    real = copy_module._insert

    async def altering(db: Database, target: StoreLocation, table: str,
                       batch: Sequence[tuple[Any, ...]]) -> None:
        if table == "facts":
            i = contents.TABLES["facts"].index("summary")
            batch = [(*batch[0][:i], "altered", *batch[0][i + 1:]), *batch[1:]]
        await real(db, target, table, batch)

    monkeypatch.setattr(copy_module, "_insert", altering)
    with pytest.raises(StoreError, match=r"differs .* in facts: nothing was changed$"):
        await copy_store(location(fixture_copy), location(shipped_copy), replace=True)
    assert await store_summary(shipped_copy) == before
    async with runtime_at(shipped_copy) as rt:
        src = (await rt.moderation.add_source(A, MOD, title="Report 2", outlet="Wire",
                                              published="3 March 2020")).key
        await rt.moderation.add_fact(A, MOD, place="Mosul", date_text="2 March 2020",
                                     summary="Another fact of the target's own.", source=src)


async def test_a_store_is_not_copied_onto_itself(shipped_copy: StoreAt) -> None:
    before = await store_summary(shipped_copy)
    with pytest.raises(StoreError, match="are the same store"):
        await copy_store(location(shipped_copy), location(shipped_copy), replace=True)
    assert await store_summary(shipped_copy) == before


async def test_a_missing_or_empty_source_is_refused(tmp_path: Path, empty_pg: Any) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(StoreError, match=f"no store at {missing}"):
        await copy_store(location(missing), location(tmp_path / "target.db"))
    assert not missing.exists()
    with pytest.raises(StoreError, match="holds no rows: nothing to copy"):
        await copy_store(location(empty_pg()), location(tmp_path / "target.db"))


def test_the_streamed_digest_is_the_digest() -> None:
    rows = [(1, "Mosul", None, 36.34, -0.0, 10**15), (2, "الموصل \"q\" \u2028", 1.5e-7, 0, "", 1)]
    for count in range(len(rows) + 1):
        streamed = RowsDigest()
        streamed.add(rows[:count][:1])
        streamed.add(rows[:count][1:])
        assert (streamed.count, streamed.hexdigest()) == (count, contents.digest(rows[:count]))


# ---------------------------------------------------------------------------- the command line
def test_the_command_prints_each_table_and_never_the_password(
        shipped_store: Path, pg_server: PgServer, empty_pg: Any,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = empty_pg()
    secret = pg_server.password
    assert secret in url
    source = f"sqlite:///{shipped_store}"  # an absolute path: four slashes

    assert main(["copy-store", "--from", source, "--to", url]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [*contents.TABLES, "total"]
    assert lines[-1].split()[1] == str(sum(int(line.split()[1]) for line in lines[:-1]))
    assert secret not in out + err

    # again: refused, in one line naming the database without its password
    assert main(["copy-store", "--from", source, "--to", url]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "is not empty" in err
    assert url.rsplit("/", 1)[-1] in err and secret not in err

    # --replace, with the password kept out of the URL (and so out of the process list)
    monkeypatch.setenv("PGPASSWORD", secret)
    bare = url.replace(f":{secret}@", "@")
    assert main(["copy-store", "--from", source, "--to", bare, "--replace"]) == 0
    out, err = capsys.readouterr()
    assert "replacing what it held" in out and secret not in out + err
    monkeypatch.delenv("PGPASSWORD")

    wrong = url.replace(secret, "not-the-password")
    assert main(["copy-store", "--from", source, "--to", wrong]) == 1
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and "password was refused" in err
    assert "not-the-password" not in out + err


def test_a_url_that_is_not_a_store_is_a_usage_error_that_does_not_repeat_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["copy-store", "--from", "mysql://u:hunter2@h/db", "--to", "sqlite:///x.db"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "unknown kind of store" in err and "hunter2" not in err
