"""Who may curate, declared in one place.

A moderator is a member with the configured permission (Manage Server by default) or the configured
moderator role. The same setting is the slash commands' default permission, so Discord shows the
commands to the same people the prefix check admits; the check itself runs on every invocation,
prefix or slash, because a server's admins can widen a slash command's visibility in Discord.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings


class NotModerator(commands.CheckFailure):
    """A member without moderator rights tried a moderator command; the message says who may."""


def require_moderator(user: discord.abc.User, settings: Settings) -> None:
    """The one moderator check: every moderator command, form and button goes through it."""
    if not is_moderator(user, settings):
        raise NotModerator(f"Only {who_may(settings)} can do that.")


def is_moderator(user: discord.abc.User, settings: Settings) -> bool:
    if not isinstance(user, discord.Member):
        return False  # in DMs nobody moderates: there is no server to curate for
    perms = user.guild_permissions
    if perms.administrator or getattr(perms, settings.moderator_permission, False):
        return True
    role = (settings.moderator_role or "").strip()
    return bool(role) and any(str(r.id) == role or r.name.casefold() == role.casefold()
                              for r in user.roles)


def who_may(settings: Settings) -> str:
    """"members with Manage Server or the Editors role": for refusals and the help text."""
    permission = settings.moderator_permission.replace("_", " ").replace("guild", "server").title()
    role = f" or the {settings.moderator_role} role" if settings.moderator_role else ""
    return f"members with {permission}{role}"


def default_permissions(settings: Settings) -> discord.Permissions:
    return discord.Permissions(**{settings.moderator_permission: True})


def declare(cog: commands.Cog, settings: Settings) -> None:
    """Give every top-level slash command of ``cog`` (the slash side of its hybrid commands) the
    moderator permission as its default, and make it server-only: Discord reads both from
    top-level commands only. Runs before the cog's commands reach the tree."""
    for command in cog.get_commands():
        slash = getattr(command, "app_command", None)
        if isinstance(slash, app_commands.Command | app_commands.Group):
            slash.default_permissions = default_permissions(settings)
            slash.guild_only = True
            slash.allowed_contexts = app_commands.AppCommandContext(guild=True)
