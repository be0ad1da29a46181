"""The error handler for prefix and slash commands: every failure gets one short reply
(``bot.discord.errors``) and never stops the bot."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.discord.errors import log_and_reply


class Errors(commands.Cog):
    def __init__(self, bot: commands.Bot | commands.AutoShardedBot) -> None:
        self.bot = bot
        bot.tree.error(self.on_app_command_error)

    @commands.Cog.listener()
    async def on_command_error(self, ctx: commands.Context[commands.Bot],
                               error: commands.CommandError) -> None:
        await log_and_reply(ctx, error)

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: discord.app_commands.AppCommandError) -> None:
        await log_and_reply(interaction, error)
