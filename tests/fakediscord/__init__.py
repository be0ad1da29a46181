"""A Discord-compatible server on 127.0.0.1 for end-to-end tests through the real discord.py.

Typical use in a test (pytest-asyncio, ``asyncio_mode = "auto"``)::

    from fakediscord import fake_discord, running_bot

    async def test_ping() -> None:
        async with fake_discord() as server, running_bot(server, make_bot()) as bot:
            await server.send_message(server.channel_id, server.member_id, "!ping")
            reply = await server.wait_for_message(server.channel_id)
            assert reply["content"] == "pong"
            assert server.unknown_routes == [] and server.errors == []

``tests/`` has no ``__init__.py``, so pytest puts ``tests/`` itself on ``sys.path`` and this
package imports as ``fakediscord``.

Sharding: ``FakeDiscord(guilds=40, shard_count=2)`` deals the guilds round-robin to the shards
(:meth:`FakeDiscord.shard_of_guild`) and sends each guild's events only to the latest live
session of its shard (DMs to shard 0), recording every dispatch (``server.dispatches``,
``server.undelivered``) and IDENTIFY (``server.identify_times``). Real bot processes run against
it with :func:`bot_process` (``python -m tests.fakediscord.launch``); each carries a client tag in
its URLs, so requests, sessions and messages say which process they came from.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TypeVar

from .gateway import GatewaySession
from .models import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILD_PRESENCES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Overwrite,
    Pings,
    World,
)
from .process import PROJECT_ROOT, BotProcess, BotProcessDied, bot_process
from .records import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_UPDATE_MESSAGE,
    Delivery,
    DispatchRecord,
    FailureRule,
    IdentifyRecord,
    InteractionRecord,
    RecordedFile,
    RecordedRequest,
)
from .server import FakeDiscord, Upload, json_response

if TYPE_CHECKING:
    import discord

ClientT = TypeVar("ClientT", bound="discord.Client")

__all__ = [
    "CALLBACK_AUTOCOMPLETE_RESULT",
    "CALLBACK_CHANNEL_MESSAGE",
    "CALLBACK_DEFERRED_CHANNEL_MESSAGE",
    "CALLBACK_DEFERRED_UPDATE_MESSAGE",
    "CALLBACK_MODAL",
    "CALLBACK_UPDATE_MESSAGE",
    "INTENT_DIRECT_MESSAGES",
    "INTENT_GUILDS",
    "INTENT_GUILD_MEMBERS",
    "INTENT_GUILD_MESSAGES",
    "INTENT_GUILD_PRESENCES",
    "INTENT_MESSAGE_CONTENT",
    "MESSAGE_FLAG_EPHEMERAL",
    "MESSAGE_FLAG_LOADING",
    "PROJECT_ROOT",
    "BotProcess",
    "BotProcessDied",
    "Delivery",
    "DispatchRecord",
    "FailureRule",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "IdentifyRecord",
    "InteractionRecord",
    "Overwrite",
    "Pings",
    "RecordedFile",
    "RecordedRequest",
    "Upload",
    "World",
    "bot_process",
    "fake_discord",
    "json_response",
    "running_bot",
]


@contextlib.asynccontextmanager
async def fake_discord(**options: Any) -> AsyncIterator[FakeDiscord]:
    """Start a :class:`FakeDiscord` (``options`` go to its constructor), point discord.py at
    it, and stop it and undo the patch on exit."""
    server = FakeDiscord(**options)
    await server.start()
    try:
        server.patch_discord()
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def running_bot(
    server: FakeDiscord,
    bot: ClientT,
    token: str = "fake-token",
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
    guild_ready_timeout: float | None = 0.05,
) -> AsyncIterator[ClientT]:
    """Log ``bot`` in to ``server``, run it in a task until it is ready, and close it on exit.

    ``bot`` is any ``discord.Client`` (a ``commands.Bot`` included), constructed but not
    started. ``setup_hook`` runs during login, as in production. ``guild_ready_timeout``
    overrides discord.py's wait after the last GUILD_CREATE before ``on_ready`` (2 s by
    default; the fake sends all guilds at once, so 0.05 s is plenty); None keeps the bot's own.

    On exit the bot is closed and its task awaited; an exception the bot's connection task
    died with (e.g. ``PrivilegedIntentsRequired``) is raised, unless the test itself failed.
    """
    if server.port == 0:
        raise RuntimeError("start the FakeDiscord before running a bot against it")
    server.patch_discord()
    server.client = bot
    if guild_ready_timeout is not None:
        bot._connection.guild_ready_timeout = guild_ready_timeout
    task: asyncio.Task[None] | None = None
    failed = False
    try:
        await asyncio.wait_for(bot.login(token), timeout)
        task = asyncio.create_task(bot.connect(reconnect=True), name="fakediscord-bot")
        ready = asyncio.create_task(bot.wait_until_ready())
        try:
            await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if not bot.is_ready():
            if task.done():
                task.result()  # raise the connection error
            raise TimeoutError(f"the bot did not become ready within {timeout:g}s")
        yield bot
    except BaseException:
        failed = True
        raise
    finally:
        await bot.close()
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout)
            except Exception:
                if not failed:
                    raise
