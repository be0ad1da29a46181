"""The mod-log and watch messages on Discord: the posts changes owe, sent from the outbox.

Why a background task rather than a post after each command: the posts are rows the store wrote
with each change, whichever process made it (``bot.services.delivery``), so this process sends
those of the servers on its shards, once each, and those owed while it was down when it is back.
Each message carries a nonce made from its outbox row (``bot.domain.delivery.nonce``; discord.py
then asks Discord to enforce it), so a post sent just before a crash kept it from being marked
sent is dropped by Discord when it is sent again within minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord

from bot.discord.change_embeds import change_embed
from bot.domain.delivery import Post, Undeliverable, nonce
from bot.domain.shards import Shards
from bot.services.delivery import Delivery
from bot.services.moderation import ModerationService

if TYPE_CHECKING:
    from bot.discord.app import SitrepBot

log = logging.getLogger("sitrep.posts")
STOP_WAIT = 2.0
"""Seconds stopping waits for the task to end after cancelling it: within the 4 s `run_bot` gives
closing the bot."""


class Poster:
    """Runs ``Delivery`` for ``shards`` (by default those the bot holds) while the bot is
    connected, sending through it."""

    def __init__(self, bot: SitrepBot, delivery: Delivery, service: ModerationService,
                 shards: Shards | None = None) -> None:
        self.bot = bot
        self.delivery = delivery
        self.service = service
        self.shards = shards
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sitrep-posts")

    async def stop(self) -> None:
        """Cancel the task and wait for it, never for ever: a send in flight is dropped, and its
        post, still leased, is claimed again once the lease runs out."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            async with asyncio.timeout(STOP_WAIT):
                await task

    async def _run(self) -> None:
        await self.bot.wait_until_ready()  # the servers and channels are known from here on
        shards = self.shards or self.bot.held_shards  # with auto, known only once connected
        log.info("posting what changes owe for shards %s", shards)
        await self.delivery.run(shards, self.send)

    async def send(self, post: Post) -> None:
        """One post, in its server's own channel only; ``Undeliverable`` when it cannot go."""
        guild = self.bot.get_guild(post.guild)
        if guild is None:
            raise Undeliverable("the bot is not in this server, or it is unavailable")
        channel = guild.get_channel_or_thread(post.channel)  # this server's channels only
        if not isinstance(channel, discord.abc.Messageable):
            raise Undeliverable("no such channel in this server")
        change = post.change
        places = await self.service.places(guild.id, sorted(change.place_ids))
        embed = change_embed(change, f"<@{change.actor}>", {p.id: p.name for p in places})
        try:
            await channel.send(embed=embed, nonce=nonce(post.id))
        except discord.HTTPException as exc:
            raise Undeliverable(f"Discord answered {exc.status}: {exc.text or exc}") from None
