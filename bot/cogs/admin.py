"""Owner-only housekeeping: ``sync`` pushes the slash commands to Discord on demand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

if TYPE_CHECKING:
    from bot.app import SitrepBot


class Admin(commands.Cog):
    def __init__(self, bot: SitrepBot) -> None:
        self.bot = bot

    @commands.command(name="sync", hidden=True)
    @commands.is_owner()
    async def sync(self, ctx: commands.Context[SitrepBot]) -> None:
        """Re-register the slash commands with Discord now (they are otherwise synced only when
        the command tree changed, because Discord caps command creations per day)."""
        count = await self.bot.sync_commands(force=True)
        await ctx.send(f"Synced {count} slash command(s).")
