"""Opening sitrep: the store, the engine and the services, in that order, closed in reverse.

The command line, the Discord bot and the tests all start through ``open_runtime``, so the order
(build the store if needed, open it, build the resolver, open the write side) is written once. A
failure while opening closes whatever was already open and raises one ``StoreFailure`` line: a
process must never be left hanging on an open connection after an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.config import Settings, load_settings
from bot.engine import Engine
from bot.engine.follow import follow_changes
from bot.services.delivery import Delivery
from bot.services.moderation import ModerationService
from bot.store.sqlstore import SqlStore
from bot.store.stores import build_store, open_store, store_is_current

log = logging.getLogger("sitrep")


@dataclass(slots=True)
class Runtime:
    """Everything a front end needs, open and ready."""

    store: SqlStore
    engine: Engine
    moderation: ModerationService
    delivery: Delivery
    """The posts changes owe; a front end that posts them (the Discord bot) runs it."""
    _stack: contextlib.AsyncExitStack

    async def close(self) -> None:
        await self._stack.aclose()


async def ensure_store(settings: Settings, *, quiet: bool = False) -> None:
    """Build the store when it is missing or was built from other curated files."""
    if await store_is_current(settings.store, settings.seeds_dir, settings.data_dir):
        return
    report = await build_store(settings.store, settings.seeds_dir, settings.data_dir)
    if report.built and not quiet:
        log.info("built the store at %s: %d sources, %d places (+%d from GeoNames), %d facts "
                 "in %.2fs", settings.store, report.sources, report.places,
                 report.gazetteer_places, report.facts, report.seconds)


async def open_runtime(settings: Settings, *, today: Callable[[], date] = date.today,
                       build: bool = True, quiet: bool = False) -> Runtime:
    """Open store, engine and services; the caller closes the runtime (or uses ``running``).
    ``build``: build the store first when it is missing or out of date."""
    stack = contextlib.AsyncExitStack()
    try:
        if build:
            await ensure_store(settings, quiet=quiet)
        store = await open_store(settings.store, budget=settings.query_budget)
        stack.push_async_callback(store.close)
        engine = await Engine.open(store, stale_after_days=settings.stale_after_days,
                                   today=today, prefix=settings.prefix)
        delivery = Delivery(store.outbox)
        follower = asyncio.create_task(follow_changes(engine, on_change=delivery.wake),
                                       name="sitrep-follow")
        stack.push_async_callback(_cancelled, follower)
        moderation = await ModerationService.open(engine, store)
        moderation.on_commit = delivery.wake
        stack.push_async_callback(moderation.close)
    except BaseException:
        await stack.aclose()
        raise
    return Runtime(store, engine, moderation, delivery, stack)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def running(settings: Settings, *, today: Callable[[], date] = date.today,
                  build: bool = True, quiet: bool = False) -> AsyncIterator[Runtime]:
    """``async with running(settings) as rt: ...``: open, use, and always close."""
    runtime = await open_runtime(settings, today=today, build=build, quiet=quiet)
    try:
        yield runtime
    finally:
        await runtime.close()


async def open_at(where: Path | str, *, today: Callable[[], date] = date.today,
                  **overrides: object) -> Runtime:
    """A runtime over an existing store (a file, or a database URL), with other settings from the
    environment: what the tests and benchmarks open (they build their stores themselves)."""
    store = {"database_url": where} if isinstance(where, str) else {"database": where,
                                                                     "database_url": None}
    return await open_runtime(load_settings(**store, **overrides), today=today, build=False)
