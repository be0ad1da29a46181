"""Changes made elsewhere are seen without a restart: another process's write reaches this
process's cached answers and resolver within a second, on both engines (SQLite through
``PRAGMA data_version``, PostgreSQL through LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from bot.runtime import open_at
from bot.store.backup import backup, restore
from bot.store.postgres import PostgresStore
from tests.conftest import TODAY, StoreAt, store_copy

A, MOD = 4242, 9
WITHIN = 1.0


async def seen_within(check: Callable[[], Awaitable[bool]], seconds: float = WITHIN) -> float:
    """How long until ``check`` holds; fails after ``seconds``."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not seen within {seconds} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_another_process_s_fact_and_alias_reach_cached_answers(
        shipped_copy: StoreAt) -> None:
    here = await open_at(shipped_copy, today=lambda: TODAY)
    there = await open_at(shipped_copy, today=lambda: TODAY)  # its own connections: "another"
    try:
        before = await here.engine.ask("!status Mosul", A)
        assert await here.engine.ask("!status Mosul", A) is before  # answers are cached
        assert getattr(await here.engine.ask("!status Mosulopolis", A), "place", None) is None
        source = (await there.moderation.add_source(
            A, MOD, title="Wire", outlet="Test Wire", published="2 March 2020",
            url="https://example.org/w", genre="wire")).key
        fact = (await there.moderation.add_fact(A, MOD, place="Mosul", date_text="1 March 2020",
                                                summary="Seen elsewhere.", source=source)).key

        async def fact_seen() -> bool:
            answer = await here.engine.ask("!status Mosul", A)
            return fact in {f.id for f in getattr(answer, "facts", [])}
        await seen_within(fact_seen)
        await there.moderation.add_alias(A, MOD, "Mosul", "Mosulopolis")

        async def alias_seen() -> bool:
            place = getattr(await here.engine.ask("!status Mosulopolis", A), "place", None)
            return place is not None and place.id == "mosul"
        await seen_within(alias_seen)
        # other servers' cached answers were left alone
        other = await here.engine.ask("!status Mosul", A + 1)
        assert fact not in {f.id for f in getattr(other, "facts", [])}
    finally:
        await there.close()
        await here.close()


@pytest.mark.sqlite_only
async def test_a_restore_reloads_everything_within_a_second(shipped_copy: StoreAt,
                                                            tmp_path: Path) -> None:
    assert isinstance(shipped_copy, Path)
    saved = tmp_path / "before.db"
    await backup(shipped_copy, saved)
    here = await open_at(shipped_copy, today=lambda: TODAY)
    try:
        await here.moderation.add_alias(A, MOD, "Mosul", "Mosulopolis")
        assert getattr(await here.engine.ask("!status Mosulopolis", A), "place", None)
        await restore(saved, shipped_copy)  # what `sitrep restore` does, from another process

        async def alias_gone() -> bool:
            return getattr(await here.engine.ask("!status Mosulopolis", A), "place", None) is None
        await seen_within(alias_gone)
    finally:
        await here.close()


@pytest.fixture
def pg_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreAt]:
    yield from store_copy(request, "postgresql", "fixture", tmp_path)


async def test_closing_stops_the_follower_even_as_a_notice_arrives(pg_copy: StoreAt) -> None:
    """A notice that lands in the very loop turn the follower is cancelled in must not keep it
    alive: ``asyncio.wait_for`` on Python 3.11 returns the awaited result and drops such a
    cancellation, and closing the runtime (a test, a stopping bot) then waited for ever."""
    rt = await open_at(pg_copy, today=lambda: TODAY)
    try:
        store = rt.store
        assert isinstance(store, PostgresStore)
        follower = next(t for t in asyncio.all_tasks() if t.get_name() == "sitrep-follow")

        async def listening() -> bool:
            return store._listener is not None
        await seen_within(listening, 10)
        await asyncio.sleep(0.05)  # past the listener's set-up, waiting for a notice
        store._on_notice()  # what asyncpg calls when the NOTIFY arrives
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(5):
                await follower
    finally:
        await rt.close()


async def test_a_follower_cut_off_from_the_database_catches_up_from_the_change_log(
        pg_copy: StoreAt) -> None:
    """The listening connection is killed by the server (a restart, a network cut): the notice
    of a change made meanwhile is lost, yet the follower reconnects and finds the change in the
    log."""
    here = await open_at(pg_copy, today=lambda: TODAY)
    there = await open_at(pg_copy, today=lambda: TODAY)
    try:
        store = here.store
        assert isinstance(store, PostgresStore)

        async def listening() -> bool:
            return store._listener is not None and not store._listener.is_closed()
        await seen_within(listening, 10)
        before = await here.engine.ask("!status Mosul", A)
        assert store._listener is not None
        killed = await there.store.db.fetchrow("SELECT pg_terminate_backend(?)",
                                               (store._listener.get_server_pid(),))
        assert killed is not None and killed[0] is True
        source = (await there.moderation.add_source(
            A, MOD, title="Wire", outlet="Test Wire", published="2 March 2020")).key
        fact = (await there.moderation.add_fact(A, MOD, place="Mosul", date_text="1 March 2020",
                                                summary="Made while cut off.", source=source)).key

        async def fact_seen() -> bool:
            answer = await here.engine.ask("!status Mosul", A)
            return answer is not before and fact in {f.id for f in getattr(answer, "facts", [])}
        await seen_within(fact_seen)  # within a second, not at the next poll
    finally:
        await there.close()
        await here.close()
