"""Housekeeping: ``ping`` for anyone, and the owner-only ``sync`` that pushes the slash commands
to Discord on demand."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from discord.ext import commands

from bot.domain.shards import DM_SHARD

if TYPE_CHECKING:
    from bot.discord.app import SitrepBot


class Admin(commands.Cog):
    def __init__(self, bot: SitrepBot) -> None:
        self.bot = bot

    @commands.hybrid_command(name="ping", description="check that the bot is alive")  # type: ignore[arg-type]
    async def ping(self, ctx: commands.Context[SitrepBot]) -> None:
        """The cheapest possible reply: a baseline for the latency of the real commands; it
        names the shard that answered (the server's, or shard 0 for a direct message) and that
        shard's own heartbeat."""
        shard_id = ctx.guild.shard_id if ctx.guild else DM_SHARD
        shard = self.bot.get_shard(shard_id)
        beat = shard.latency if shard is not None else self.bot.latency
        shown = f"{beat * 1000:.0f} ms" if math.isfinite(beat) else "not measured yet"
        await ctx.send(f"Pong · shard {shard_id} of {self.bot.shard_count or 1} · gateway "
                       f"heartbeat {shown}")

    @commands.command(name="sync", hidden=True)
    @commands.is_owner()
    async def sync(self, ctx: commands.Context[SitrepBot]) -> None:
        """Re-register the slash commands with Discord now (they are otherwise synced only when
        the command tree changed, because Discord caps command creations per day)."""
        count = await self.bot.sync_commands(force=True)
        await ctx.send(f"Synced {count} slash command(s).")
