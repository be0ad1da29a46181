"""Following the store: another process's write (a second bot process, ``sitrep import``,
``sitrep build`` after an upgrade, ``sitrep restore``) reaches this process's cached answers and
resolvers within a second, with no restart.

The change log says which server changed and whether its place names did, so only that server's
answers are dropped; a build or a restore (the store's generation changes, or its log goes back)
reloads everything. ``on_change`` hears of each new change the follower sees, wherever it was
made: the runtime wakes the delivery of the posts changes owe with it (the store's own notice
has one consumer, this follower).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.domain.changes import subject_touches_names
from bot.domain.errors import StoreFailure
from bot.engine.engine import Engine

log = logging.getLogger("sitrep.follow")
RETRY_AFTER = 2.0


async def follow_changes(engine: Engine, on_change: Callable[[], None] = lambda: None) -> None:
    """Run until cancelled; a failing store is logged and retried, never fatal."""
    store = engine.store
    while True:
        try:
            last, generation = await store.change_mark()
            break
        except StoreFailure as exc:
            log.warning("cannot follow the store's changes yet: %s", exc)
            await asyncio.sleep(RETRY_AFTER)
    while True:
        try:
            await store.wait_for_change()
            now, current = await store.change_mark()
            if current != generation or now < last:
                log.info("the store was rebuilt or restored: reloading names and answers")
                await engine.refresh(full_collection=False)
            elif now > last:
                for guild, subject in await store.changes_after(last):
                    engine.invalidate(guild, names=subject_touches_names(subject))
                on_change()
            last, generation = now, current
        except StoreFailure as exc:
            log.warning("following the store's changes: %s", exc)
            await asyncio.sleep(RETRY_AFTER)
