"""The Discord bot: ``create_bot`` builds it, ``run_bot`` runs it until SIGTERM or SIGINT.

The bot is a thin shell around an open ``Runtime`` (store, engine, services): it registers the cogs in
``setup_hook`` and syncs slash commands only when the command tree changed (Discord caps command
creations per day), remembering the tree's hash in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from bot.config import Settings, SettingsError
from bot.discord.shards import IdentifyGate
from bot.domain.errors import StoreFailure, StoreUnavailable
from bot.domain.shards import Shards
from bot.engine import Engine
from bot.runtime import Runtime, open_runtime
from bot.services.moderation import ModerationService
from bot.services.shards import ShardBoard

log = logging.getLogger("sitrep.bot")

# sitrep has no voice features: don't warn at every start that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

TREE_HASH_KEY = "app_commands_hash"


def check_settings(settings: Settings) -> None:
    """What only discord.py can check: that the moderator permission is one Discord has. Raises
    ``SettingsError`` with the same one line as any other invalid setting."""
    if settings.moderator_permission not in discord.Permissions.VALID_FLAGS:
        raise SettingsError(f"invalid SITREP_MODERATOR_PERMISSION: not a Discord permission: "
                            f"{settings.moderator_permission!r} (e.g. manage_guild)")


def intents_for(settings: Settings) -> discord.Intents:
    """The least the bot needs: guilds (to know where it is), messages for prefix commands, and
    Message Content only when prefix commands are wanted."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = settings.message_content
    return intents


class SitrepBot(commands.AutoShardedBot):
    """``commands.AutoShardedBot`` over an open runtime; everything Discord-specific lives in the
    cogs. The runtime stays open when the bot closes: whoever opened it closes it (``run_bot``
    reuses one runtime, and one ``ShardBoard``, across reconnections).

    Always the sharded client, even for one shard: one code path, and a process holding every
    shard (the SQLite set-up) needs nothing else. ``SITREP_SHARD_COUNT=auto`` lets discord.py ask
    Discord for the count."""

    def __init__(self, settings: Settings, runtime: Runtime,
                 board: ShardBoard | None = None) -> None:
        shards = settings.shards
        held: dict[str, Any] = {} if shards is None else {  # none: discord.py asks Discord
            "shard_count": shards.count, "shard_ids": list(shards.ids)}
        super().__init__(
            **held,
            command_prefix=commands.when_mentioned_or(settings.prefix),
            intents=intents_for(settings),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            case_insensitive=True,
            strip_after_prefix=True,
        )
        self.settings = settings
        self.runtime = runtime
        self.board = board or ShardBoard()
        self.board.refresh = self.measure_shards
        self.gate = IdentifyGate(runtime.store.identify_turn)

    @property
    def held_shards(self) -> Shards:
        """The shards this process holds (known once connecting began, for ``auto``)."""
        count = self.shard_count or 1
        return Shards(count, tuple(self.shard_ids or range(count)))

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def service(self) -> ModerationService:
        return self.runtime.moderation

    async def setup_hook(self) -> None:
        from bot.discord.cogs.admin import Admin
        from bot.discord.cogs.errors import Errors
        from bot.discord.cogs.moderation import ModerationCog
        from bot.discord.cogs.questions import Queries

        await self.add_cog(Errors(self))
        await self.add_cog(Queries(self))
        await self.add_cog(Admin(self))
        await self.add_cog(ModerationCog(self, self.service))
        if not self.intents.message_content:
            log.warning("the Message Content intent is off: prefix commands work only when the "
                        "bot is mentioned; slash commands work as usual")
        if self.settings.sync_commands:
            await self.sync_commands()

    async def _learn_gateway(self) -> None:
        """How many sessions Discord lets this bot start at once, for the IDENTIFY turns; and a
        warning when a fixed shard count is below what Discord recommends."""
        try:
            recommended, _, limit = await self.http.get_bot_gateway()
        except (discord.GatewayNotFound, discord.HTTPException) as exc:  # one at a time, then
            log.warning("cannot read Discord's session start limit (%s); starting one shard "
                        "at a time", exc)
            return
        self.gate.max_concurrency = max(1, int(limit.get("max_concurrency", 1)))
        if self.shard_count is not None and self.shard_count < recommended:
            log.warning("SITREP_SHARD_COUNT is %d but Discord recommends %d shards",
                        self.shard_count, recommended)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for the shard's start-up bucket's turn (``IdentifyGate``), instead of
        discord.py's fixed five seconds before every shard but the first. The first shard of
        a connection asks Discord how many sessions may start at once."""
        if initial:
            await self._learn_gateway()
        await self.gate.wait(shard_id or 0)

    def tree_hash(self) -> str:
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands()]
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def sync_commands(self, *, force: bool = False) -> int:
        """Push the slash commands to Discord when they changed since the last sync (or always,
        with ``force``); return how many there are."""
        digest = self.tree_hash()
        store = self.runtime.store
        if not force and await store.get_meta(TREE_HASH_KEY) == digest:
            log.info("slash commands unchanged since the last sync; not syncing")
            return len(self.tree.get_commands())
        synced = await self.tree.sync()
        await store.set_meta(TREE_HASH_KEY, digest)
        log.info("synced %d slash command(s)", len(synced))
        return len(synced)

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("connected as %s (id %s) to %d server(s), holding shards %s", self.user,
                 self.user.id, len(self.guilds), self.held_shards)

    async def on_shard_ready(self, shard_id: int) -> None:
        self.board.held(self.held_shards)
        self.board.mark(shard_id, True)
        log.info("shard %s ready: %d server(s)", shard_id, self._guilds_on(shard_id))

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.board.mark(shard_id, True)
        log.info("shard %s resumed its session", shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.board.mark(shard_id, False)
        log.warning("shard %s disconnected", shard_id)

    def _guilds_on(self, shard_id: int) -> int:
        return sum(1 for g in self.guilds if g.shard_id == shard_id)

    def measure_shards(self) -> None:
        """Latency and server count of each held shard, into the board (every heartbeat)."""
        for shard_id, latency in self.latencies:
            self.board.measure(shard_id, latency, self._guilds_on(shard_id))

def create_bot(settings: Settings, runtime: Runtime,
               board: ShardBoard | None = None) -> SitrepBot:
    """A fully configured bot over an open runtime, not yet connected."""
    check_settings(settings)
    return SitrepBot(settings, runtime, board)


RETRY_FIRST = 2.0
RETRY_MAX = 60.0
HEARTBEAT_EVERY = 10.0


async def heartbeat(board: ShardBoard, path: Path | None, runtime: Runtime) -> None:
    """Every few seconds while the event loop runs: the shards' states into ``path``, so that a
    container health check can tell a live process from a hung one without asking Discord (which
    a restart won't fix) and see a shard that stays disconnected; and into the store, where
    ``sitrep shards`` reads every process's. A shard connecting or dropping is written at once."""
    while True:
        board.refresh()
        if path is not None:
            await asyncio.to_thread(path.write_text, board.to_json() + "\n", "utf-8")
        if board.states:
            try:
                await runtime.store.publish_shards(
                    {shard: json.dumps(board.report(shard)) for shard in board.states})
            except StoreFailure as exc:
                log.debug("could not publish the shards' states: %s", exc)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HEARTBEAT_EVERY):
                await board.changed.wait()
        board.changed.clear()


async def _connect_once(bot: SitrepBot, token: str, stopping: asyncio.Event) -> None:
    """Run ``bot`` until it ends or ``stopping`` is set; connection errors propagate."""
    runner = asyncio.create_task(bot.start(token))
    stopper = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper.done():
            log.info("stopping: closing the gateway connection and the store")
            with contextlib.suppress(asyncio.TimeoutError):
                async with asyncio.timeout(4):
                    await bot.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            return
        runner.result()
    finally:
        stopper.cancel()
        if not bot.is_closed():
            with contextlib.suppress(Exception):
                await bot.close()


async def _open_store(settings: Settings, stopping: asyncio.Event) -> Runtime | None:
    """Open the runtime, retrying with backoff while the store's server cannot be reached or
    refuses us (it may be starting too); None when asked to stop meanwhile. A damaged store is
    not retried: its one line ends the process."""
    delay = RETRY_FIRST
    while True:
        try:
            return await open_runtime(settings)
        except StoreUnavailable as exc:
            log.warning("%s; retrying in %.0f s", exc, delay)
        with contextlib.suppress(asyncio.TimeoutError):
            async with asyncio.timeout(delay):
                await stopping.wait()
        if stopping.is_set():
            return None
        delay = min(delay * 2, RETRY_MAX)


async def run_bot(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT, then close the gateway and the store and return 0.

    The store is built and opened first, so the process is useful (and healthy) even while Discord
    cannot be reached; connection failures, to Discord or to the store's server, are retried with
    backoff rather than ending the process, because a restart would not bring the network back
    any sooner."""
    assert settings.discord_token is not None
    check_settings(settings)
    token = settings.discord_token.get_secret_value()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    runtime: Runtime | None = None
    beat: asyncio.Task[None] | None = None
    try:
        runtime = await _open_store(settings, stopping)  # a broken store ends here, one line
        if runtime is None:
            return 0
        board = ShardBoard()
        if settings.shards is not None:
            board.held(settings.shards)
        beat = asyncio.create_task(heartbeat(board, settings.heartbeat_file, runtime))
        return await _serve(settings, runtime, token, stopping, board)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if beat is not None:
            beat.cancel()
        if runtime is not None:
            await runtime.close()


async def _serve(settings: Settings, runtime: Runtime, token: str,
                 stopping: asyncio.Event, board: ShardBoard) -> int:
    """Connect to Discord and stay connected until asked to stop."""
    message_content = settings.message_content
    delay = RETRY_FIRST
    while not stopping.is_set():
        bot = create_bot(settings.model_copy(update={"message_content": message_content}),
                         runtime, board)
        try:
            await _connect_once(bot, token, stopping)
            return 0  # asked to stop, or the bot closed itself
        except discord.LoginFailure:
            log.error("Discord rejected the token: check SITREP_DISCORD_TOKEN")
            return 1
        except discord.PrivilegedIntentsRequired:
            if not message_content:
                raise
            log.warning("the Message Content intent is not enabled for this application in "
                        "the developer portal; continuing without it (slash commands only)")
            message_content = False
        except (TimeoutError, OSError, aiohttp.ClientError, discord.GatewayNotFound,
                discord.HTTPException) as exc:
            log.warning("cannot reach Discord (%s); retrying in %.0f s",
                        type(exc).__name__, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                async with asyncio.timeout(delay):
                    await stopping.wait()
            delay = min(delay * 2, RETRY_MAX)
    return 0
