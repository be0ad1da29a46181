"""What a member reads when something goes wrong, for prefix and slash commands, buttons and
forms alike: one short line (privately where Discord allows it); the traceback, if any, goes to the
log. A failing command never stops the bot."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.discord.checks import NotModerator
from bot.domain.errors import Refused, StoreFailure

log = logging.getLogger("sitrep.errors")


INTERNAL = "Something went wrong on our side; it has been logged. Please try again later."


def _cause(error: BaseException) -> BaseException:
    """The exception a command raised, out of discord.py's wrappers."""
    if isinstance(error, commands.HybridCommandError | commands.CommandInvokeError):
        error = error.original
    if isinstance(error, discord.app_commands.CommandInvokeError):
        error = error.original
    return error


def user_message(error: BaseException, *, saving: bool = False) -> str | None:
    """The short reply for an error, or None for errors that deserve no reply. ``saving``: the
    command was a change, so a failure of the store means nothing was saved."""
    error = _cause(error)
    match error:
        case Refused():
            return str(error)
        case StoreFailure():
            return f"Nothing was saved: {error.public}." if saving else \
                f"The store could not answer: {error.public}."
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
                        error: BaseException, *, saving: bool | None = None) -> None:
    """Reply to ``target`` about ``error`` and log it. ``saving`` defaults to whether the command
    belongs to the moderators' cog (whose commands all change something or read its records)."""
    if saving is None:
        command = target.command
        cog = getattr(command, "cog", None) if command is not None else None
        saving = getattr(cog, "changes_the_store", False)
    message = user_message(error, saving=saving)
    if message is None:
        return
    if message == INTERNAL:
        name = target.command.qualified_name if target.command else "?"
        log.error("command %s failed", name, exc_info=error)
    elif isinstance(_cause(error), StoreFailure):
        log.error("the store failed: %s", _cause(error))
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
