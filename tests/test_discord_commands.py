"""The bot's command set as a whole: every cog the Discord package defines is loaded by the bot,
and no two commands (prefix or slash, names or aliases, in any cog) can be confused.

discord.py refuses a duplicate only within what it is given; these tests load the bot exactly as
it starts (``setup_hook``), so a cog left out of it, a clash that differs only in case (the bot is
case-insensitive), or a query command whose aliases drift from the shared command table fails
here rather than in a server."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest
from discord import app_commands
from discord.ext import commands

import bot.discord.cogs as cogs_package
from bot.discord.app import SitrepBot, create_bot
from bot.engine.commands import COMMANDS
from bot.runtime import open_runtime
from tests.conftest import TODAY, settings_for


@pytest.fixture
async def loaded(store: Path) -> AsyncIterator[SitrepBot]:
    settings = settings_for(store, sync_commands=False)
    runtime = await open_runtime(settings, today=lambda: TODAY, build=False)
    bot = create_bot(settings, runtime)
    try:
        async with bot:  # discord.py's own set-up and close, without connecting
            await bot.setup_hook()
            yield bot
    finally:
        await runtime.close()


def _defined_cogs() -> set[str]:
    """Every Cog class defined in the cogs package, found by walking its modules."""
    found = set()
    for info in pkgutil.iter_modules(cogs_package.__path__):
        module = importlib.import_module(f"{cogs_package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, commands.Cog) and cls.__module__ == module.__name__:
                found.add(cls.__cog_name__)
    return found


def _clashes(words: Iterable[str]) -> list[str]:
    counts = Counter(w.casefold() for w in words)
    return sorted(w for w, n in counts.items() if n > 1)


async def test_the_bot_loads_every_cog_the_package_defines(loaded: SitrepBot) -> None:
    assert set(loaded.cogs) == _defined_cogs()
    assert len(loaded.cogs) >= 4  # errors, questions, admin and moderation at least


async def test_no_two_prefix_commands_share_a_name_or_alias(loaded: SitrepBot) -> None:
    top = [w for c in loaded.commands for w in (c.name, *c.aliases)]
    assert _clashes(top) == []
    for group in loaded.walk_commands():
        if isinstance(group, commands.Group):
            words = [w for c in group.commands for w in (c.name, *c.aliases)]
            assert _clashes(words) == [], group.qualified_name


async def test_no_two_slash_commands_share_a_name(loaded: SitrepBot) -> None:
    top = loaded.tree.get_commands()
    assert _clashes(c.name for c in top) == []
    for command in top:
        if isinstance(command, app_commands.Group):
            assert _clashes(c.name for c in command.commands) == [], command.name
    # the hybrid commands' slash side is registered for every prefix command but the
    # owner-only and housekeeping ones, so the two forms cannot drift apart
    slash = {c.name for c in top}
    assert {spec.name for spec in COMMANDS.values()} <= slash


async def test_query_commands_match_the_shared_command_table(loaded: SitrepBot) -> None:
    """Names and aliases come from one table that the console and ``sitrep ask`` parse too: the
    same words must work everywhere."""
    for spec in COMMANDS.values():
        command = loaded.get_command(spec.name)
        assert command is not None, spec.name
        assert set(command.aliases) == set(spec.aliases), spec.name
