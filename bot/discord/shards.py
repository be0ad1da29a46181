"""Each shard's turn to IDENTIFY with Discord.

Discord lets a bot start ``max_concurrency`` sessions per five seconds (shard ``i`` is in start-up
bucket ``i % max_concurrency``); a bot that identifies faster is disconnected, and one that spends
its 1,000 daily IDENTIFYs has its token reset. discord.py calls ``before_identify_hook`` before each
IDENTIFY; ``IdentifyGate`` waits there for the bucket's turn, which the store hands out
(``SqlStore.identify_turn``: one transaction holding the bucket's lock, an advisory lock on
PostgreSQL), so processes started together take turns whatever machine they run on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.domain.errors import StoreFailure

log = logging.getLogger("sitrep.shards")

IDENTIFY_WINDOW = 5.5
"""Discord's five seconds per start-up bucket, and half a second for clocks and latency."""


class IdentifyGate:
    """``before_identify_hook``'s wait: the store's turn for the shard's start-up bucket."""

    def __init__(self, turn: Callable[[int, float], Awaitable[float]],
                 max_concurrency: int = 1) -> None:
        self._turn = turn
        """``SqlStore.identify_turn``."""
        self.max_concurrency = max(1, max_concurrency)

    async def wait(self, shard: int) -> None:
        bucket = shard % self.max_concurrency
        while True:
            try:
                wait = await self._turn(bucket, IDENTIFY_WINDOW)
            except StoreFailure as exc:  # the store cannot coordinate: wait the whole window
                log.warning("shard %s: cannot take an IDENTIFY turn from the store (%s); "
                            "waiting %.1f s", shard, exc, IDENTIFY_WINDOW)
                await asyncio.sleep(IDENTIFY_WINDOW)
                return
            if wait <= 0:
                return
            log.info("shard %s waits %.1f s for its IDENTIFY turn (bucket %s)", shard, wait,
                     bucket)
            await asyncio.sleep(wait)
