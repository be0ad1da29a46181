"""Delivering the posts changes owe (the outbox) for the servers of this process's shards.

Why a loop of its own rather than posting after each change: the posts are rows written with the
change (``bot.store.outbox``), so they survive a crash and include changes other processes made.
This service claims the due ones for its shards, hands each to the front end's ``send`` and marks
it sent, or failed with a retry (``bot.domain.delivery``: a few tries, then given up and logged).
It wakes at once when this process commits a change (``wake``, called by moderation), when the
store's follower sees another process's change (the runtime passes ``wake`` to it), and every
``POLL`` seconds regardless, for retries and for posts whose claimer died. Looking costs one
indexed read; only a look that finds something due takes a transaction.

It knows no Discord: the front end passes ``send``, which raises ``Undeliverable`` (or anything
else) when a post could not go out this time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from bot.domain.delivery import RETRY_FIRST, Post, Undeliverable, may_try, retry_delay
from bot.domain.errors import StoreFailure
from bot.domain.shards import Shards
from bot.services.shards import process_name
from bot.store.base import Outbox

log = logging.getLogger("sitrep.delivery")

Send = Callable[[Post], Awaitable[None]]
POLL = 2.0
"""Seconds between looks when nothing wakes the loop: retries come due, leases run out."""
BATCH = 10
"""Posts per claim: sent one after another within the lease (``bot.domain.delivery.LEASE``)."""
PRUNE_EVERY = 3600.0
"""Seconds between prunings of old delivered posts."""


def claimer_name() -> str:
    """Who holds a claim, for the outbox's ``claimed_by``: the process, and a random part that
    tells apart two runtimes in one process."""
    return f"{process_name()}:{secrets.token_hex(3)}"


class Delivery:
    """The outbox's one consumer in a process."""

    def __init__(self, outbox: Outbox, *, who: str | None = None, poll: float = POLL,
                 batch: int = BATCH, retry_first: float = RETRY_FIRST) -> None:
        self.outbox = outbox
        self.who = who or claimer_name()
        self.poll = poll
        self.batch = batch
        self.retry_first = retry_first
        self._woken = asyncio.Event()
        self._pruned_at = float("-inf")

    def wake(self) -> None:
        """A change committed (here or elsewhere): look now rather than at the next poll."""
        self._woken.set()

    async def run(self, shards: Shards, send: Send) -> None:
        """Deliver what is due, then wait to be woken; until cancelled. A failing store is logged
        and tried again at the next look, never fatal."""
        while True:
            try:
                await self.deliver_due(shards, send)
            except StoreFailure as exc:
                log.warning("cannot deliver the posts owed: %s", exc)
            except Exception:  # a bug must not end delivery for good: log it, look again later
                log.exception("delivering the posts owed failed")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._woken.wait()
            self._woken.clear()

    async def deliver_due(self, shards: Shards, send: Send) -> int:
        """Claim and send until nothing is due for ``shards``; return how many were sent."""
        if time.monotonic() - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            await self.outbox.prune()
        sent = 0
        while await self.outbox.has_due(shards):
            posts = await self.outbox.claim(shards, self.who, limit=self.batch)
            if not posts:  # another process holding the same shards took them
                break
            for post in posts:
                sent += await self._deliver(post, send)
        return sent

    async def _deliver(self, post: Post, send: Send) -> int:
        where = f"guild={post.guild} channel={post.channel} change=#{post.change.id}"
        if not may_try(post.attempts):
            log.warning("%s: giving up a post whose every try ended before it was marked", where)
            await self.outbox.mark_failed(post.id, "every try ended unmarked", None)
            return 0
        try:
            await send(post)
        except Exception as exc:
            retry = retry_delay(post.attempts, self.retry_first)
            reason = str(exc) or type(exc).__name__
            if not isinstance(exc, Undeliverable):
                log.warning("%s: posting failed", where, exc_info=True)
            if retry is None:
                log.warning("%s: gave up posting after %d tries: %s", where, post.attempts,
                            reason)
            else:
                log.info("%s: could not post (%s); trying again in %.0f s", where, reason, retry)
            await self.outbox.mark_failed(post.id, reason, retry)
            return 0
        await self.outbox.mark_sent([post.id])
        return 1
