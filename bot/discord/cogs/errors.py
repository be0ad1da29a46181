"""One error handler for prefix and slash commands, and for buttons.

The user gets one short line (privately, for slash commands and buttons); the traceback goes to the
log. A failing command never stops the bot: discord.py catches the exception and routes it here.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.domain.errors import Refused

log = logging.getLogger("sitrep.errors")


class NotModerator(commands.CheckFailure):
    """A member without moderator rights tried a moderator command; the message says who may."""

INTERNAL = "Something went wrong on our side; it has been logged. Please try again later."


def user_message(error: BaseException) -> str | None:
    """The short reply for an error, or None for errors that deserve no reply."""
    if isinstance(error, commands.HybridCommandError | commands.CommandInvokeError):
        error = error.original
    if isinstance(error, discord.app_commands.CommandInvokeError):
        error = error.original
    match error:
        case Refused():
            return str(error)
        case commands.CommandNotFound():
            return None  # other bots share the prefix: stay quiet about commands we don't have
        case commands.CommandOnCooldown() | discord.app_commands.CommandOnCooldown():
            return f"Slow down: try again in {max(1, round(error.retry_after))} s."
        case commands.MissingRequiredArgument():
            return f"Missing `{error.param.name}`. Try `help`."
        case commands.UserInputError():
            return "That did not parse. Try `help`."
        case commands.NotOwner():
            return "Only the bot's owner can do that."
        case commands.NoPrivateMessage():
            return "That works only in a server."
        case NotModerator():
            return str(error)
        case commands.CheckFailure() | discord.app_commands.CheckFailure():
            return "You don't have the rights for that."
    return INTERNAL


async def log_and_reply(target: commands.Context[commands.Bot] | discord.Interaction,
                        error: BaseException) -> None:
    message = user_message(error)
    if message is None:
        return
    if message == INTERNAL:
        name = target.command.qualified_name if target.command else "?"
        log.error("command %s failed", name, exc_info=error)
    else:
        log.debug("refused: %s", message)
    try:
        if isinstance(target, discord.Interaction):
            if target.response.is_done():
                await target.followup.send(message, ephemeral=True)
            else:
                await target.response.send_message(message, ephemeral=True)
        else:
            await target.send(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply", exc_info=True)


class Errors(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        bot.tree.error(self.on_app_command_error)

    @commands.Cog.listener()
    async def on_command_error(self, ctx: commands.Context[commands.Bot],
                               error: commands.CommandError) -> None:
        await log_and_reply(ctx, error)

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: discord.app_commands.AppCommandError) -> None:
        await log_and_reply(interaction, error)
