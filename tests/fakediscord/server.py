"""A small Discord-compatible server for driving the real discord.py client end to end offline.

:class:`FakeDiscord` is an aiohttp application on 127.0.0.1 (a free port) that runs in the test's
own event loop. It serves the REST API under ``/api/v10`` and the gateway websocket at
``/gateway``; :meth:`FakeDiscord.patch_discord` points discord.py's two class attributes
(``discord.http.Route.BASE`` and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``) at it.

It records every REST request and every interaction, lets a test play the part of users
(messages, slash commands, autocomplete, buttons, modals), can inject 429/5xx failures and
gateway disconnects, and enforces the Discord rules a bot most often breaks (message and embed
limits, the 3-second interaction deadline, double acknowledgements, the message content intent).

Behaviour modelled on Discord (see https://discord.com/developers/docs):

* READY lists the guilds as unavailable, then one GUILD_CREATE per guild follows. GUILD_CREATE
  lists every member only for clients with the presences intent; otherwise only the bot itself,
  and discord.py asks for the rest with REQUEST_GUILD_MEMBERS if it has the members intent.
* MESSAGE_CREATE needs the guild (or direct) messages intent; without the message content
  intent ``content``, ``embeds``, ``attachments`` and ``components`` are blanked unless the
  message is a DM, mentions the bot, or is the bot's own.
* The bot's own messages (channel sends and non-ephemeral interaction responses) come back to it
  as MESSAGE_CREATE/MESSAGE_UPDATE/MESSAGE_DELETE, as on Discord.
* A RESUME replays the events the session missed, then RESUMED; an unknown or invalidated
  session gets INVALID_SESSION (``d: false``) and the client must IDENTIFY again.
* Sharding: a guild's events go only to shard ``(guild_id >> 22) % shard_count`` (DMs to shard
  0), i.e. to the latest live session that identified with that shard; READY lists only that
  shard's guilds. Events no session holds are dropped (and listed in ``undelivered``). Guild
  ids are dealt round-robin to shards (``IdFactory.guild``). ``GET /gateway/bot`` reports
  ``shard_count`` and ``max_concurrency``; IDENTIFYs are timed per bucket.
* Client tags: the same API is served under ``/c/{tag}/``; a bot process given such URLs
  (``launch_command``) is named by its tag on its requests, sessions and messages.
* The first followup after a deferred ("thinking") response replaces the thinking message.
* Attachments (uploaded by the bot, posted by users, given to a slash command's attachment
  option or a modal's file upload) are served from the fake's own "CDN" under ``/attachments/``
  (or ``/ephemeral-attachments/`` for interaction uploads) with signed-URL-style query strings
  (``?ex=...&is=...&hm=...&``), as Discord's CDN URLs have.
* A member cannot invoke a command whose ``default_member_permissions`` they lack in that channel
  (administrators and the owner always can; ``"0"`` means administrators only), nor one outside
  its ``contexts`` (``dm_permission: false`` means guilds only); Discord does not even show it.
  ``enforce_command_permissions=False`` dispatches such interactions anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import logging
import math
import mimetypes
import os
import re
import secrets
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, WSMsgType, web

from .gateway import GatewayConnection, GatewaySession, client_tag, make_compressor, peer_of
from .models import (
    ATTACHMENT_SIZE_LIMIT,
    CHANNEL_DM,
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CONTEXT_PRIVATE_CHANNEL,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILD_PRESENCES,
    INTENT_MESSAGE_CONTENT,
    JSON,
    MESSAGE_ATTACHMENTS_MAX,
    MESSAGE_FLAG_EPHEMERAL,
    MESSAGE_FLAG_LOADING,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_RECONNECT,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE_UPDATE,
    PERM_ADMINISTRATOR,
    PERM_USE_APPLICATION_COMMANDS,
    PERM_VIEW_CHANNEL,
    PRIVILEGED_INTENTS,
    FakeChannel,
    FakeGuild,
    FakeUser,
    IdFactory,
    Pings,
    World,
    compute_pings,
    utcnow_iso,
)
from .patching import PROJECT_ROOT, point_discord
from .records import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_PONG,
    CALLBACK_UPDATE_MESSAGE,
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    INTERACTION_MODAL_SUBMIT,
    INTERACTION_PING,
    Delivery,
    DispatchRecord,
    FailureRule,
    IdentifyRecord,
    InteractionRecord,
    RecordedFile,
    RecordedRequest,
    Signal,
)
from .validation import FormErrors, validate_choices, validate_command, validate_message

log = logging.getLogger("fakediscord")

API_VERSION = 10
VIEW_WAIT = 5.0
"""How long a click waits for the bot to register the message's view before it is sent anyway."""
NONCE_WINDOW = 300.0
"""Seconds within which a second message with the same enforced nonce in a channel is dropped
(Discord documents "a few minutes")."""
# Application flags: the three "limited" gateway intent flags mean "allowed, unverified app".
APP_FLAG_GATEWAY_PRESENCE_LIMITED = 1 << 13
APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
APP_FLAG_APPLICATION_COMMAND_BADGE = 1 << 23

MESSAGE_TYPE_DEFAULT = 0
MESSAGE_TYPE_REPLY = 19
MESSAGE_TYPE_CHAT_INPUT_COMMAND = 20
MESSAGE_TYPE_CONTEXT_MENU_COMMAND = 23

# Option types of application commands.
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10
OPT_ATTACHMENT = 11

COMPONENT_FILE_UPLOAD = 19

Upload = tuple[str, bytes, str]
"""A file a user uploads: ``(filename, data, content_type)``."""

ALL_DM_PERMISSIONS = 4_011_158_005_075_008
"""``discord.Permissions._dm_permissions().value``: app permissions reported in DMs."""

Handler = Callable[["_Call"], Awaitable[web.Response]]

CLIENT_PREFIX = r"/c/{tag:[A-Za-z0-9_-]+}"
"""Routes under this prefix are the same API, with the client's tag in the URL (see
:func:`gateway.client_tag`)."""
_TAG = re.compile(r"[A-Za-z0-9_-]+")
_CURRENT_REQUEST: contextvars.ContextVar[RecordedRequest | None] = contextvars.ContextVar(
    "fakediscord_request", default=None
)
"""The REST request being handled (aiohttp runs each in its own task), so that a message the
bot creates can be traced back to the process that sent it."""


@dataclass
class _Call:
    """What a REST handler gets: the aiohttp request, its record and the path parameters."""

    request: web.Request
    record: RecordedRequest
    params: dict[str, str]

    def int(self, name: str) -> int:
        """A numeric path parameter."""
        return int(self.params[name])

    @property
    def body(self) -> JSON:
        """The JSON object body ({} if there was none or it was not an object)."""
        data = self.record.json
        return data if isinstance(data, dict) else {}

    @property
    def query(self) -> dict[str, str]:
        """The query parameters."""
        return self.record.query


# -- responses ------------------------------------------------------------------------------------
def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json``.

    ``web.Response(text=..., content_type="application/json")`` would add ``; charset=utf-8``,
    and discord.py then treats the body as text instead of JSON; passing bytes avoids that.
    """
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        content_type="application/json",
        headers=dict(headers or {}),
    )


def error_response(status: int, code: int, message: str, extra: JSON | None = None) -> web.Response:
    """A Discord error body: ``{"message": ..., "code": ...}``."""
    return json_response({"message": message, "code": code, **(extra or {})}, status)


def no_content() -> web.Response:
    """204 No Content."""
    return web.Response(status=204)


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


class FakeDiscord:
    """An in-process Discord: REST API and gateway on 127.0.0.1, with recording and helpers.

    The world it starts with (all ids are deterministic snowflakes, the same in every run):

    * the application and its bot user (same id, as for applications made since 2021);
    * users ``owner`` (owns every guild), ``moderator`` (has the "Moderator" role) and
      ``member`` (no roles);
    * ``guilds`` guilds, each with roles @everyone, Moderator and the bot's managed role, a
      category with text channels #general and #mod-log, and the four users as members.

    Convenience ids: :attr:`app_id`, :attr:`bot_user_id`, :attr:`owner_id`,
    :attr:`moderator_id`, :attr:`member_id`, :attr:`guild_id`, :attr:`channel_id` (#general),
    :attr:`mod_channel_id` (#mod-log), :attr:`moderator_role_id`. Everything else is in
    :attr:`world`.
    """

    def __init__(
        self,
        *,
        guilds: int = 1,
        bot_name: str = "sitrep",
        valid_tokens: Iterable[str] | None = None,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        heartbeat_interval_ms: int = 41_250,
        interaction_deadline: float | None = 3.0,
        enforce_command_permissions: bool = True,
        shard_count: int = 1,
        max_concurrency: int = 1,
        max_guilds_per_shard: int | None = None,
        identify_window: float = 5.0,
        enforce_identify_limit: bool = False,
    ) -> None:
        """Build the world.

        ``valid_tokens``: if given, other tokens get 401 (REST) / close 4004 (gateway).
        ``allowed_privileged_intents``: privileged intents the app is allowed; identifying with
        others closes the gateway with 4014, as on Discord. ``interaction_deadline``: seconds
        within which an interaction must be acknowledged (later callbacks get 404 Unknown
        interaction, as on Discord); None disables the check. ``enforce_command_permissions``:
        refuse (with :class:`PermissionError`, dispatching nothing) to let a user invoke a
        command Discord would not offer them: one whose ``default_member_permissions`` they
        lack in the channel, or one used outside its ``contexts``. False dispatches the
        interaction anyway, so a test can show that the bot's own check refuses.

        Sharding (see :meth:`shard_of_guild`): ``shard_count`` is the count ``GET /gateway/bot``
        recommends (clients may use another); ``max_concurrency`` is its
        ``session_start_limit.max_concurrency``: shard ``i`` identifies in bucket
        ``i % max_concurrency``, one IDENTIFY per bucket per ``identify_window`` seconds (5 on
        Discord). A faster IDENTIFY is recorded in :attr:`identify_violations`, and with
        ``enforce_identify_limit`` its connection is closed with 4009 (discord.py then
        reconnects). ``max_guilds_per_shard``: identifying a shard that would hold more guilds
        closes with 4011 "sharding required", as Discord does above 2,500.
        """
        if shard_count < 1 or max_concurrency < 1:
            raise ValueError("shard_count and max_concurrency must be at least 1")
        self.ids = IdFactory()
        app_id = self.ids.world()
        bot_user = FakeUser(app_id, bot_name, bot_name, bot=True)
        owner = FakeUser(self.ids.world(), "owner", "Owner")
        self.world = World(self.ids, app_id, bot_user, owner.id)
        self.world.users[bot_user.id] = bot_user
        self.world.users[owner.id] = owner
        moderator = self.world.add_user("moderator")
        member = self.world.add_user("member")
        for n in range(guilds):
            guild = self.world.add_guild("Test Guild" if n == 0 else f"Test Guild {n + 1}")
            self.world.add_member(guild, moderator.id, roles=[guild.role_named("Moderator").id])
            self.world.add_member(guild, member.id)

        self.app_id = app_id
        self.bot_user_id = bot_user.id
        self.owner_id = owner.id
        self.moderator_id = moderator.id
        self.member_id = member.id
        first = next(iter(self.world.guilds.values()), None)
        self.guild_id = first.id if first else 0
        self.channel_id = first.channel_named("general").id if first else 0
        self.mod_channel_id = first.channel_named("mod-log").id if first else 0
        self.moderator_role_id = first.role_named("Moderator").id if first else 0

        self.valid_tokens = None if valid_tokens is None else set(valid_tokens)
        self.allowed_privileged_intents = allowed_privileged_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_deadline = interaction_deadline
        self.enforce_command_permissions = enforce_command_permissions
        self.shard_count = shard_count
        self.max_concurrency = max_concurrency
        self.max_guilds_per_shard = max_guilds_per_shard
        self.identify_window = identify_window
        self.enforce_identify_limit = enforce_identify_limit

        # Records.
        self.signal = Signal()
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[str] = []
        self.client: Any = None
        """The discord.py client ``running_bot`` connected, if any (see ``_bot_listens``)."""
        """``"METHOD /path"`` of every request no route handled (404 or 405)."""
        self.errors: list[str] = []
        """Tracebacks of exceptions inside the fake itself (a test should assert it is empty)."""
        self.messages: dict[int, JSON] = {}
        """Every message by id (the REST shape), users' and the bot's."""
        self._message_order: list[int] = []
        self.reactions: dict[int, list[tuple[str, int]]] = {}
        """Reactions per message id: (emoji as in the URL, user id)."""
        self.attachment_data: dict[int, bytes] = {}
        """The bytes of every attachment (bot uploads, users' files) by attachment id."""
        self.attachment_content_types: dict[int, str] = {}
        """The Content-Type the "CDN" serves each attachment with."""
        self._nonces: dict[tuple[int, str], tuple[float, int]] = {}
        self.nonce_duplicates: list[tuple[int, str]] = []
        """(channel, nonce) of each message dropped because an earlier one with the same
        enforced nonce was created within ``NONCE_WINDOW`` (Discord's de-duplication)."""
        self.interactions: list[InteractionRecord] = []
        self._interactions_by_id: dict[int, InteractionRecord] = {}
        self.global_commands: dict[tuple[int, str], JSON] = {}
        self.guild_commands: dict[int, dict[tuple[int, str], JSON]] = {}
        self.command_syncs = 0
        """Bulk overwrites (PUT) of commands: a bot should not re-sync on every start."""
        self.commands_created = 0
        """Commands created anew (Discord caps creations per day)."""

        # Gateway.
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.invalid_session_count = 0
        self.connection_count = 0
        self.heartbeat_count = 0
        self.identify_payloads: list[JSON] = []
        self.presence_updates: list[Any] = []
        self.voice_state_updates: list[Any] = []
        self.gateway_paths: list[str] = []
        """Path of every gateway connection: ``/gateway`` or (READY's resume URL) ``/resume``."""
        self.client_close_codes: list[int | None] = []
        """Close codes of connections the client closed."""
        self.refused_identifies: list[tuple[JSON, int]] = []
        """``(IDENTIFY payload without the token, close code)`` of IDENTIFYs the fake refused
        by closing the connection (4004, 4010, 4011, 4013, 4014, 4009 when enforcing)."""
        self.identify_times: list[IdentifyRecord] = []
        """Every IDENTIFY that started a session: when, which shard and bucket, from whom."""
        self.dispatches: list[DispatchRecord] = []
        """Every event sent through :meth:`dispatch` (messages, interactions ...), with the
        sessions it went to. READY, GUILD_CREATE and RESUME replays are not listed."""
        self.undelivered: list[DispatchRecord] = []
        """Dispatches no live session's shard held: Discord drops those events."""
        self.message_requests: dict[int, RecordedRequest] = {}
        """For each message the bot created, the REST request that created it (see
        :meth:`sent_by`)."""

        self._failures: list[FailureRule] = []
        self._last_identify: dict[int, float] = {}
        """Per identify bucket, when its last accepted IDENTIFY came."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._claimed_requests: set[int] = set()
        self._claimed_messages: set[int] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._saved_patch: tuple[str, Any] | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self._build_routes()

    # =============================================================================== lifecycle
    async def start(self, port: int = 0) -> None:
        """Bind 127.0.0.1 on ``port`` (0: a free one) and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for prefix in ("", CLIENT_PREFIX):
            app.router.add_route("*", prefix + r"/api/v{version:\d+}/{tail:.*}", self._handle_rest)
            app.router.add_get(prefix + "/gateway", self._handle_gateway)
            app.router.add_get(prefix + "/resume", self._handle_gateway)
        for folder in ("attachments", "ephemeral-attachments"):
            app.router.add_get(
                f"/{folder}/{{channel_id}}/{{attachment_id}}/{{filename}}", self._handle_attachment
            )
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every gateway connection, stop serving and undo :meth:`patch_discord`."""
        self.unpatch_discord()
        for conn in list(self.connections):
            await conn.close(1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self.patch_discord()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port (0 before :meth:`start`)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:{port}``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """The REST base URL discord.py should use (``Route.BASE``)."""
        return self.api_base_for(None)

    @property
    def gateway_url(self) -> str:
        """The gateway URL (``DiscordWebSocket.DEFAULT_GATEWAY``, ``GET /gateway``)."""
        return self.gateway_url_for(None)

    @property
    def resume_gateway_url(self) -> str:
        """READY's ``resume_gateway_url``: same server, its own path so tests can tell."""
        return self.resume_gateway_url_for(None)

    def _prefix(self, tag: str | None) -> str:
        if tag is not None and not _TAG.fullmatch(tag):
            raise ValueError(f"a client tag is letters, digits, '-' and '_': {tag!r}")
        return "" if tag is None else f"/c/{tag}"

    def api_base_for(self, tag: str | None) -> str:
        """The REST base URL for a client tagged ``tag``: ``.../c/{tag}/api/v10``.

        Requests to it are recorded with ``client_tag=tag``; None gives the untagged URL.
        """
        return f"{self.base_url}{self._prefix(tag)}/api/v{API_VERSION}"

    def gateway_url_for(self, tag: str | None) -> str:
        """The gateway URL for a client tagged ``tag``: its sessions get ``client_tag=tag``."""
        return f"ws://127.0.0.1:{self._port}{self._prefix(tag)}/gateway"

    def resume_gateway_url_for(self, tag: str | None) -> str:
        """READY's ``resume_gateway_url`` for a client tagged ``tag``."""
        return f"ws://127.0.0.1:{self._port}{self._prefix(tag)}/resume"

    def patch_discord(self) -> Callable[[], None]:
        """Point discord.py at this server; returns a function that undoes it.

        Sets ``discord.http.Route.BASE`` and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``
        (class attributes, so this affects every client in the process until undone).
        """
        if self._port == 0:
            raise RuntimeError("start() the server before patching discord.py")
        old = point_discord(self.api_base, self.gateway_url)
        if self._saved_patch is None:
            self._saved_patch = old
        return self.unpatch_discord

    def launch_command(self, *sitrep_args: str, tag: str = "bot") -> list[str]:
        """The argv of a sitrep process that talks to this server, tagged ``tag``.

        ``[python, -m, tests.fakediscord.launch, --api-base, ..., --gateway, ..., --, *args]``,
        to run with :meth:`launch_env` (which puts the project root on ``PYTHONPATH``). Its requests
        and sessions carry ``client_tag == tag`` (see :meth:`api_base_for`).
        """
        if self._port == 0:
            raise RuntimeError("start() the server before launching a bot against it")
        return [
            sys.executable,
            "-m",
            "tests.fakediscord.launch",
            "--api-base",
            self.api_base_for(tag),
            "--gateway",
            self.gateway_url_for(tag),
            "--",
            *sitrep_args,
        ]

    @staticmethod
    def launch_env(token: str, **settings: str | os.PathLike[str]) -> dict[str, str]:
        """The environment for :meth:`launch_command`: this process's, without its ``SITREP_*``
        variables, plus ``SITREP_DISCORD_TOKEN=token`` and ``SITREP_<NAME>`` for each keyword
        (``database=path`` gives ``SITREP_DATABASE``). ``PYTHONPATH`` starts with the project
        root, so the command runs from any directory (one without a stray ``.env`` is best)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITREP_")}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p
        )
        env["SITREP_DISCORD_TOKEN"] = token
        env["PYTHONUNBUFFERED"] = "1"
        for name, value in settings.items():
            env[f"SITREP_{name.upper()}"] = os.fspath(value)
        return env

    def unpatch_discord(self) -> None:
        """Restore what :meth:`patch_discord` changed (no-op if not patched)."""
        if self._saved_patch is None:
            return
        import discord.gateway
        import discord.http

        base, gateway = self._saved_patch
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
        self._saved_patch = None

    # ============================================================================ test helpers
    @property
    def intents(self) -> int | None:
        """The intents the most recent session identified with (None before any IDENTIFY)."""
        return self.sessions[-1].intents if self.sessions else None

    @property
    def live_sessions(self) -> list[GatewaySession]:
        """Sessions that are not invalidated (connected or waiting to resume)."""
        return [s for s in self.sessions if not s.invalid]

    @property
    def connected(self) -> bool:
        """Whether some session currently has an open connection."""
        return any(s.connection is not None for s in self.live_sessions)

    def is_connected(self, shard: int | None = None) -> bool:
        """Whether some session (of shard ``shard``, if given) has an open connection."""
        return any(
            s.connection is not None and (shard is None or s.shard_id == shard)
            for s in self.live_sessions
        )

    # ------------------------------------------------------------------------------ sharding
    def shard_of_guild(self, guild_id: int, shard_count: int | None = None) -> int:
        """The shard that gets a guild's events: ``(guild_id >> 22) % shard_count``.

        ``shard_count`` defaults to the recommended :attr:`shard_count`. With the default world
        (see ``IdFactory.guild``) guild ``k`` of :attr:`world` is on shard ``k % shard_count``.
        """
        return (guild_id >> 22) % (shard_count or self.shard_count)

    def guilds_of_shard(self, shard_id: int, shard_count: int | None = None) -> list[int]:
        """The ids of the guilds on a shard, in world order (one pass over the guilds)."""
        count = shard_count or self.shard_count
        return [g for g in self.world.guilds if (g >> 22) % count == shard_id]

    def sessions_by_shard(self) -> dict[int, GatewaySession]:
        """For each shard id, the live session that gets its events now (the latest one)."""
        result: dict[int, GatewaySession] = {}
        for session in self.live_sessions:
            result[session.shard_id] = session
        return result

    def session_for_guild(self, guild_id: int | None) -> GatewaySession | None:
        """The live session that gets a guild's events (DMs: None), if any holds its shard."""
        receivers = self._receivers(guild_id)
        return receivers[-1] if receivers else None

    @property
    def identify_violations(self) -> list[IdentifyRecord]:
        """IDENTIFYs that came sooner than Discord allows after one of the same bucket."""
        return [r for r in self.identify_times if r.too_fast]

    async def wait_for_session(
        self,
        *,
        shard: int | None = None,
        client_tag: str | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> GatewaySession:
        """The latest live, connected session that has had READY and all its GUILD_CREATEs
        (of shard ``shard`` and/or client ``client_tag``, if given), waiting for one if needed.

        Events dispatched after this returns reach the client after its guild cache is filled,
        which is when a bot in another process can first answer in its guilds.
        """

        def find() -> GatewaySession | None:
            for session in reversed(self.live_sessions):
                wanted = (shard is None or session.shard_id == shard) and (
                    client_tag is None or session.client_tag == client_tag
                )
                if wanted and session.ready and session.connected:
                    return session
            return None

        what = f"a ready gateway session (shard {shard}, client {client_tag})"
        return await self.signal.wait_for(find, timeout, what)

    def sent_by(self, message: JSON | int) -> str | None:
        """The client tag of the bot process whose REST request created a message (None if
        the request was untagged, or the message is not the bot's)."""
        mid = message if isinstance(message, int) else int(message["id"])
        request = self.message_requests.get(mid)
        return request.client_tag if request is not None else None

    def replies_to(self, message_id: int) -> list[JSON]:
        """The bot's messages that reply to a message (``message_reference``), oldest first:
        exactly one means the command was answered exactly once."""
        return [
            msg
            for msg in self.bot_messages()
            if str((msg.get("message_reference") or {}).get("message_id")) == str(message_id)
        ]

    @property
    def registered_commands(self) -> list[JSON]:
        """Every registered application command: global ones, then guild ones (with guild_id)."""
        result = list(self.global_commands.values())
        for commands in self.guild_commands.values():
            result.extend(commands.values())
        return result

    def command(self, name: str, guild_id: int | None = None, type: int = 1) -> JSON | None:
        """A registered command: the guild's own first (if ``guild_id``), then the global one."""
        if guild_id is not None:
            found = self.guild_commands.get(guild_id, {}).get((type, name))
            if found is not None:
                return found
        return self.global_commands.get((type, name))

    def register_commands(
        self, commands: Sequence[JSON], guild_id: int | None = None
    ) -> list[JSON]:
        """Register command payloads directly, as a bulk overwrite would, without HTTP.

        For bots that (rightly) do not sync on every start. Not counted in :attr:`command_syncs`.
        """
        scope: dict[tuple[int, str], JSON] = (
            self.global_commands
            if guild_id is None
            else self.guild_commands.setdefault(guild_id, {})
        )
        old = dict(scope)
        scope.clear()
        guild = None if guild_id is None else str(guild_id)
        return [
            self._store_command(
                scope, dict(c), guild, old.get((int(c.get("type") or 1), c["name"]))
            )
            for c in commands
        ]

    def register_tree(self, tree: Any, guild_id: int | None = None) -> list[JSON]:
        """Register what ``tree.sync(guild=...)`` would upload, from a discord.py CommandTree."""
        import discord

        guild = None if guild_id is None else discord.Object(guild_id)
        payloads = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
        return self.register_commands(payloads, guild_id)

    def guild(self, guild_id: int | None = None) -> FakeGuild:
        """A guild of the world (the first one by default)."""
        return self.world.guilds[guild_id if guild_id is not None else self.guild_id]

    def dm_channel(self, user_id: int) -> FakeChannel:
        """The DM channel between the bot and a user (created on first use)."""
        return self.world.dm_channel(user_id)

    def add_user(
        self, username: str, *, guild_id: int | None = None, roles: Sequence[int] = ()
    ) -> FakeUser:
        """Add a user, and make them a member of a guild if ``guild_id`` is given.

        Call it before the bot connects, or the bot's cache will not know the member.
        """
        user = self.world.add_user(username)
        if guild_id is not None:
            self.world.add_member(self.world.guilds[guild_id], user.id, roles=list(roles))
        return user

    def channel_messages(self, channel_id: int) -> list[JSON]:
        """Messages of a channel, oldest first."""
        return [
            self.messages[m]
            for m in self._message_order
            if m in self.messages and int(self.messages[m]["channel_id"]) == channel_id
        ]

    def bot_messages(self, channel_id: int | None = None) -> list[JSON]:
        """Messages the bot authored (channel sends and interaction responses), oldest first."""
        return [
            msg
            for m in self._message_order
            if (msg := self.messages.get(m)) is not None
            and int(msg["author"]["id"]) == self.bot_user_id
            and (channel_id is None or int(msg["channel_id"]) == channel_id)
        ]

    def pings(self, message: JSON) -> Pings:
        """Whom a stored message notifies (its mentions after allowed_mentions)."""
        return Pings(
            users=[int(u["id"]) for u in message.get("mentions") or []],
            roles=[int(r) for r in message.get("mention_roles") or []],
            everyone=bool(message.get("mention_everyone")),
        )

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        """Recorded requests matching ``method`` whose path fully matches ``path_regex``."""
        return [r for r in self.requests if r.matches(method, path_regex)]

    def mark(self) -> int:
        """The current number of recorded requests, for ``wait_for_request(since=...)``."""
        return len(self.requests)

    async def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 15.0,  # noqa: ASYNC109
        what: str = "a condition",
    ) -> Any:
        """Wait until ``predicate()`` is truthy and return its value.

        Re-checked after every change the server sees and every 10 ms, so predicates on the
        bot's own state work too.
        """
        return await self.signal.wait_for(lambda: predicate() or None, timeout, what)

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        timeout: float = 15.0,  # noqa: ASYNC109
        *,
        since: int = 0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        answered: bool = True,
    ) -> RecordedRequest:
        """The oldest matching request not returned by this method before, waiting if needed.

        ``path_regex`` must match the whole path below ``/api/v10`` (``re.fullmatch``), e.g.
        ``r"/channels/\\d+/messages"``. ``since`` skips requests before a :meth:`mark`. With
        ``answered`` (default) the request's ``status`` and ``response`` are already set.
        """

        def find() -> RecordedRequest | None:
            for rec in self.requests[since:]:
                if rec.index in self._claimed_requests or not rec.matches(method, path_regex):
                    continue
                if answered and rec.status is None:
                    continue
                if predicate is not None and not predicate(rec):
                    continue
                self._claimed_requests.add(rec.index)
                return rec
            return None

        return await self.signal.wait_for(find, timeout, f"request {method} {path_regex}")

    async def wait_for_message(
        self,
        channel_id: int | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109
        *,
        predicate: Callable[[JSON], bool] | None = None,
    ) -> JSON:
        """The oldest message by the bot not returned by this method before, waiting if needed.

        Covers channel sends and interaction responses (not while still "thinking").
        """

        def find() -> JSON | None:
            for msg in self.bot_messages(channel_id):
                mid = int(msg["id"])
                if mid in self._claimed_messages:
                    continue
                if int(msg.get("flags") or 0) & MESSAGE_FLAG_LOADING:
                    continue
                if predicate is not None and not predicate(msg):
                    continue
                self._claimed_messages.add(mid)
                return msg
            return None

        where = f" in channel {channel_id}" if channel_id is not None else ""
        return await self.signal.wait_for(find, timeout, f"a message from the bot{where}")

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        times: int = 1,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
        body: JSON | None = None,
    ) -> FailureRule:
        """Answer the next ``times`` matching requests with ``status`` instead of handling them.

        A 429 carries what discord.py needs to treat it as a rate limit rather than a Cloudflare
        ban: a ``Via`` header, ``X-RateLimit-*`` headers and JSON ``retry_after``. 500/502/504
        make discord.py retry (after 1 s, then 3 s ...). Other statuses get ``body`` or a
        generic Discord error. Injected answers are recorded with ``injected=True``.
        """
        rule = FailureRule(method.upper(), path_regex, status, times, retry_after, is_global, body)
        self._failures.append(rule)
        return rule

    # ----------------------------------------------------------------------- playing users
    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        reply_to: int | None = None,
        embeds: list[JSON] | None = None,
        attachments: Sequence[Upload] | None = None,
    ) -> JSON:
        """A user posts a message: store it and dispatch MESSAGE_CREATE; returns the message.

        ``attachments`` are files posted with it, each ``(filename, data, content_type)``; the
        message gets Discord's attachment objects, whose ``url`` serves ``data`` (so
        ``discord.Attachment.read()`` works). At most 10 files of at most 10 MiB each.
        What the bot receives follows its intents (see the module docstring: without the
        message content intent the attachments are blanked too); the returned payload is the
        full message.
        """
        uploads = [_upload(a) for a in attachments or ()]
        if len(uploads) > MESSAGE_ATTACHMENTS_MAX:
            raise ValueError(f"at most {MESSAGE_ATTACHMENTS_MAX} attachments per message")
        channel = self._channel(channel_id)
        guild = self.world.guild_of(channel_id)
        author = self.world.users[author_id]
        if guild is not None and author_id not in guild.members:
            raise ValueError(f"user {author_id} is not a member of guild {guild.id}")
        referenced = self.messages.get(reply_to) if reply_to is not None else None
        if reply_to is not None and referenced is None:
            raise ValueError(f"unknown message {reply_to}")
        msg = self._new_message(
            channel,
            author,
            {"content": content, "embeds": embeds or []},
            files=[
                RecordedFile(f"files[{n}]", name, ctype, data)
                for n, (name, data, ctype) in enumerate(uploads)
            ],
            referenced=referenced,
            msg_type=MESSAGE_TYPE_REPLY if referenced else MESSAGE_TYPE_DEFAULT,
        )
        self._store(msg)
        await self._dispatch_message("MESSAGE_CREATE", msg)
        return msg

    async def edit_message(self, message_id: int, content: str) -> JSON:
        """A user edits their message: dispatch MESSAGE_UPDATE; returns the message."""
        msg = self.messages[message_id]
        self._apply_edit(msg, {"content": content}, [])
        await self._dispatch_message("MESSAGE_UPDATE", msg)
        return msg

    async def delete_message(self, message_id: int) -> None:
        """A message disappears (deleted by its author): dispatch MESSAGE_DELETE."""
        msg = self.messages.pop(message_id)
        await self._dispatch_delete(msg)

    async def invoke_slash(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        subcommand: Sequence[str] | str = (),
        *,
        locale: str = "en-US",
        wait: bool = True,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """A user runs ``/name`` (type 2 interaction) as registered by the bot.

        ``options`` is ``{name: value}`` (types come from the registered command; users,
        channels and roles are given by id and resolved; an attachment option takes
        ``(filename, data, content_type)``, uploaded and put in ``resolved.attachments``) or a
        list of raw option dicts. ``subcommand`` is the path below the command, e.g.
        ``("fact", "add")``. With ``wait`` this returns once the bot has acknowledged the
        interaction (TimeoutError otherwise).

        PermissionError (nothing dispatched) if Discord would not let this user run the command
        here: see ``enforce_command_permissions``.
        """
        command = self._require_command(name, guild_id)
        self._check_command_access(command, guild_id, channel_id, user_id)
        path = (subcommand,) if isinstance(subcommand, str) else tuple(subcommand)
        opts, resolved = self._build_options(command, path, options, guild_id, channel_id)
        data: JSON = {"id": command["id"], "name": name, "type": 1}
        if opts:
            data["options"] = opts
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        record = await self._dispatch_interaction(
            INTERACTION_APPLICATION_COMMAND,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            name=" ".join((name, *path)),
            locale=locale,
        )
        if wait:
            await record.wait_callback(timeout)
        return record

    async def invoke_context_menu(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        target_id: int,
        *,
        type: int = 2,
        wait: bool = True,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """A user runs a user (``type`` 2) or message (3) context-menu command on a target.

        PermissionError as for :meth:`invoke_slash`.
        """
        command = self._require_command(name, guild_id, type)
        self._check_command_access(command, guild_id, channel_id, user_id)
        resolved: JSON = {}
        if type == 2:
            resolved = self._resolve_user(guild_id, channel_id, target_id)
        else:
            resolved = {"messages": {str(target_id): self._event_message(self.messages[target_id])}}
        data: JSON = {
            "id": command["id"],
            "name": name,
            "type": type,
            "target_id": str(target_id),
            "resolved": resolved,
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        record = await self._dispatch_interaction(
            INTERACTION_APPLICATION_COMMAND,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            name=name,
        )
        if wait:
            await record.wait_callback(timeout)
        return record

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        focused: str,
        subcommand: Sequence[str] | str = (),
        *,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """A user types into option ``focused`` of ``/name``: a type 4 interaction.

        ``options`` holds what is typed so far (the focused option's partial text included).
        Returns the choices the bot answered with (the record is ``interactions[-1]``).
        PermissionError as for :meth:`invoke_slash` (Discord does not show the command at all).
        """
        command = self._require_command(name, guild_id)
        self._check_command_access(command, guild_id, channel_id, user_id)
        path = (subcommand,) if isinstance(subcommand, str) else tuple(subcommand)
        opts, resolved = self._build_options(
            command, path, options, guild_id, channel_id, focused=focused
        )
        data: JSON = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        record = await self._dispatch_interaction(
            INTERACTION_AUTOCOMPLETE,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            name=" ".join((name, *path)),
        )
        await record.wait_callback(timeout)
        if record.callback_type != CALLBACK_AUTOCOMPLETE_RESULT:
            raise AssertionError(f"autocomplete answered with callback type {record.callback_type}")
        return record.choices or []

    async def click_button(
        self,
        message_id: int,
        custom_id: str,
        user_id: int,
        *,
        wait: bool = True,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """A user clicks a button of a message (type 3 interaction with the message)."""
        return await self._component_interaction(
            message_id, custom_id, user_id, None, wait, timeout
        )

    async def select(
        self,
        message_id: int,
        custom_id: str,
        values: Sequence[str],
        user_id: int,
        *,
        wait: bool = True,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """A user picks ``values`` in a select menu of a message."""
        return await self._component_interaction(
            message_id, custom_id, user_id, list(values), wait, timeout
        )

    async def submit_modal(
        self,
        custom_id: str,
        values: Mapping[str, str | Sequence[str] | Upload | Sequence[Upload]],
        user_id: int | None = None,
        *,
        opened_by: InteractionRecord | None = None,
        wait: bool = True,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """A user submits the modal ``custom_id`` the bot opened (type 5 interaction).

        ``values`` maps the inputs' custom_ids to text (or to a list for selects, or to one or
        a list of ``(filename, data, content_type)`` for a file upload, whose files go in
        ``resolved.attachments``); text inputs not given submit the value they were pre-filled
        with, as when a user leaves them alone, other inputs are empty. The modal is found in
        the most recent interaction answered with it (or ``opened_by``); the submitting user
        defaults to the one who opened it.
        """
        source = opened_by
        if source is None:
            for record in reversed(self.interactions):
                modal = record.modal
                if modal is not None and modal.get("custom_id") == custom_id:
                    source = record
                    break
        if source is None or source.modal is None:
            raise LookupError(f"the bot has not opened a modal with custom_id {custom_id!r}")
        modal = source.modal
        known = {c.get("custom_id") for c in _walk_components(modal.get("components") or [])}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"modal {custom_id!r} has no inputs {sorted(unknown)}")
        file_inputs = {
            str(c["custom_id"]): c
            for c in _walk_components(modal.get("components") or [])
            if c.get("type") == COMPONENT_FILE_UPLOAD and c.get("custom_id") is not None
        }
        submitted: dict[str, str | Sequence[str]] = {}
        attachments: JSON = {}
        for key, value in values.items():
            if key not in file_inputs:
                submitted[key] = value  # type: ignore[assignment]  # text or select values
                continue
            files = [_upload(value)] if _is_upload(value) else [_upload(v) for v in value]
            most = int(file_inputs[key].get("max_values") or 1)
            if len(files) > most:
                raise ValueError(f"file upload {key!r} takes at most {most} file(s)")
            ids = []
            for filename, blob, ctype in files:
                attachment = self._store_attachment(
                    source.channel_id, filename, blob, ctype, ephemeral=True
                )
                attachments[attachment["id"]] = attachment
                ids.append(attachment["id"])
            submitted[key] = ids
        data: JSON = {
            "custom_id": custom_id,
            "components": [_submitted(c, submitted) for c in modal.get("components") or []],
        }
        if attachments:
            data["resolved"] = {"attachments": attachments}
        message = source.payload.get("message")
        record = await self._dispatch_interaction(
            INTERACTION_MODAL_SUBMIT,
            guild_id=source.guild_id,
            channel_id=source.channel_id,
            user_id=user_id if user_id is not None else source.user_id,
            data=data,
            name=custom_id,
            message=self.messages.get(int(message["id"]), message) if message else None,
        )
        if wait:
            await record.wait_callback(timeout)
        return record

    async def dispatch(
        self, event: str, data: JSON, *, guild_id: int | None = None, intent: int = 0
    ) -> int:
        """Send any gateway event to the sessions that would receive it; returns how many."""
        return await self._dispatch(event, data, guild_id=guild_id, intent=intent)

    # ------------------------------------------------------------------- gateway control
    async def disconnect_gateway(
        self,
        code: int | None = 4000,
        *,
        resumable: bool = True,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109
        shard: int | None = None,
    ) -> None:
        """Drop every gateway connection (or only shard ``shard``'s), as Discord does now and then.

        ``code`` is the close code (4000 "unknown error" is resumable; None drops the TCP link
        without a close frame). With ``resumable=False`` the sessions are invalidated, so the
        client's RESUME fails and it must IDENTIFY again (discord.py then sleeps 5 s first).
        With ``wait`` this returns once the client is connected again (resumed or identified).
        """
        before_resumes, before_identifies = self.resume_count, self.identify_count
        for session in self.live_sessions:
            if shard is not None and session.shard_id != shard:
                continue
            conn = session.connection
            if not resumable:
                session.invalid = True
            if conn is not None:
                session.connection = None
                await conn.close(code)
        self.signal.fire()
        if wait:
            await self.wait_until(
                lambda: (
                    self.is_connected(shard)
                    and (
                        self.resume_count > before_resumes
                        or self.identify_count > before_identifies
                    )
                ),
                timeout,
                "the client to reconnect",
            )

    async def send_reconnect(
        self,
        *,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109
        shard: int | None = None,
    ) -> None:
        """Send op 7 RECONNECT (to every session, or shard ``shard``'s): the client resumes."""
        before = self.resume_count
        for session in self.live_sessions:
            if shard is not None and session.shard_id != shard:
                continue
            if session.connection is not None:
                await session.connection.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})
        if wait:
            await self.wait_until(
                lambda: self.is_connected(shard) and self.resume_count > before,
                timeout,
                "a RESUME",
            )

    # ============================================================================ the gateway
    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        """One gateway connection: HELLO, then the client's ops until it closes."""
        if request.query.get("encoding", "json") != "json":
            return error_response(400, 0, "only encoding=json is supported by the fake")
        try:
            compressor = make_compressor(request.query.get("compress"))
        except ValueError as exc:
            return error_response(400, 0, str(exc))
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request, compressor)
        self.connections.append(conn)
        self.connection_count += 1
        self.gateway_paths.append(request.path)
        await conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake-gateway"]},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                raw = msg.data if msg.type == WSMsgType.TEXT else bytes(msg.data).decode()
                conn.received += 1
                try:
                    data = json.loads(raw)
                except ValueError:
                    await conn.close(4002)  # decode error
                    break
                try:
                    await self._on_gateway_op(conn, data)
                except Exception:
                    self._record_error("gateway op")
                    await conn.close(4000)
                    break
                if ws.closed:
                    break
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
            session = conn.session
            if not conn.closed_by_server:
                self.client_close_codes.append(ws.close_code)
            if session is not None and session.connection is conn:
                session.connection = None
                if not conn.closed_by_server and ws.close_code in (1000, 1001):
                    session.invalid = True  # a clean close ends the session on Discord
            self.signal.fire()
        return ws

    async def _on_gateway_op(self, conn: GatewayConnection, message: JSON) -> None:
        op = message.get("op")
        data = message.get("d")
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data if isinstance(data, dict) else {})
        elif op == OP_RESUME:
            await self._resume(conn, data if isinstance(data, dict) else {})
        elif conn.session is None:
            await conn.close(4003)  # not authenticated
        elif op == OP_PRESENCE_UPDATE:
            self.presence_updates.append(data)
        elif op == OP_VOICE_STATE_UPDATE:
            self.voice_state_updates.append(data)
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._request_members(conn, data if isinstance(data, dict) else {})
        else:
            await conn.close(4001)  # unknown opcode

    def _token_ok(self, token: Any) -> bool:
        return (
            isinstance(token, str)
            and bool(token)
            and (self.valid_tokens is None or token in self.valid_tokens)
        )

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if conn.session is not None:
            await conn.close(4005)  # already authenticated
            return
        shard = _parse_shard(data.get("shard"))
        guilds = self.guilds_of_shard(*shard) if shard is not None else []
        code = self._identify_refusal(data, shard, len(guilds))
        if code is not None:
            await self._refuse_identify(conn, data, code)
            return
        assert shard is not None
        session = GatewaySession(
            identify=data,
            intents=int(data["intents"]),
            shard=shard,
            client_tag=conn.client_tag,
            peer=conn.peer,
            identified_at=asyncio.get_running_loop().time(),
        )
        if self._record_identify(session).too_fast and self.enforce_identify_limit:
            await self._refuse_identify(conn, data, 4009)
            return
        self.sessions.append(session)
        self.identify_count += 1
        self.identify_payloads.append(data)
        async with session.lock:
            session.connection = conn
            conn.session = session
            ready = self._ready_payload(session, guilds, conn.client_tag)
            await conn.send(session.next_event("READY", ready))
            for guild_id in guilds:
                guild = self.world.guilds[guild_id]
                event = session.next_event("GUILD_CREATE", self._guild_create(guild, session))
                await conn.send(event)
            session.ready = True
        self.signal.fire()

    def _identify_refusal(
        self, data: JSON, shard: tuple[int, int] | None, guild_count: int
    ) -> int | None:
        """The close code Discord would answer this IDENTIFY with, or None to accept it."""
        if not self._token_ok(data.get("token")):
            return 4004  # authentication failed
        intents = data.get("intents")
        if not isinstance(intents, int):
            return 4013  # invalid intents
        if intents & PRIVILEGED_INTENTS & ~self.allowed_privileged_intents:
            return 4014  # disallowed intents
        if shard is None:
            return 4010  # invalid shard
        if self.max_guilds_per_shard is not None and guild_count > self.max_guilds_per_shard:
            return 4011  # sharding required
        return None

    async def _refuse_identify(self, conn: GatewayConnection, data: JSON, code: int) -> None:
        """Close the connection with ``code`` and remember why."""
        self.refused_identifies.append(({k: v for k, v in data.items() if k != "token"}, code))
        await conn.close(code)
        self.signal.fire()

    def _record_identify(self, session: GatewaySession) -> IdentifyRecord:
        """Record an IDENTIFY's time and bucket; flag it if its bucket identified too recently.

        Discord lets each bucket (``shard_id % max_concurrency``) identify once per window;
        an IDENTIFY refused for coming too fast does not restart its bucket's window.
        """
        bucket = session.shard_id % self.max_concurrency
        now = session.identified_at
        last = self._last_identify.get(bucket)
        too_fast = last is not None and now - last < self.identify_window
        if not (too_fast and self.enforce_identify_limit):
            self._last_identify[bucket] = now
        record = IdentifyRecord(
            now, session.shard, bucket, session.session_id, session.client_tag, too_fast
        )
        self.identify_times.append(record)
        return record

    async def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        session = next((s for s in self.sessions if s.session_id == data.get("session_id")), None)
        if session is None or session.invalid or session.token != data.get("token"):
            self.invalid_session_count += 1
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        async with session.lock:
            missed = session.missed_since(int(data.get("seq") or 0))
            if missed is None:
                session.invalid = True
                self.invalid_session_count += 1
                await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
                return
            old = session.connection
            session.connection = conn
            conn.session = session
            if old is not None and old is not conn:
                old.session = None
                task = asyncio.get_running_loop().create_task(old.close(4000))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            for event in missed:
                await conn.send(event)
            await conn.send(session.next_event("RESUMED", {"_trace": ["fake-gateway"]}))
        self.resume_count += 1
        self.signal.fire()

    async def _request_members(self, conn: GatewayConnection, data: JSON) -> None:
        session = conn.session
        assert session is not None
        guild = self.world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        user_ids = {int(u) for u in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        limit = int(data.get("limit") or 0)
        found = []
        for member in guild.members.values():
            user = self.world.users[member.user_id]
            if user_ids:
                if member.user_id not in user_ids:
                    continue
            elif query and not any(
                (n or "").lower().startswith(query)
                for n in (user.username, user.global_name, member.nick)
            ):
                continue
            found.append(member.payload(self.world))
            if limit and len(found) >= limit:
                break
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": found,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in user_ids if u not in guild.members],
        }
        if data.get("presences"):
            chunk["presences"] = []
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        async with session.lock:
            await conn.send(session.next_event("GUILD_MEMBERS_CHUNK", chunk))

    def _ready_payload(
        self, session: GatewaySession, guild_ids: Sequence[int], tag: str | None
    ) -> JSON:
        data: JSON = {
            "v": API_VERSION,
            "user": self._me_payload(),
            "user_settings": {},
            "session_type": "normal",
            "session_id": session.session_id,
            "resume_gateway_url": self.resume_gateway_url_for(tag),
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
            "application": {"id": str(self.app_id), "flags": self._app_flags()},
            "_trace": ["fake-gateway"],
        }
        if session.identify.get("shard") is not None:
            data["shard"] = list(session.shard)
        return data

    def _guild_create(self, guild: FakeGuild, session: GatewaySession) -> JSON:
        members = None if session.intents & INTENT_GUILD_PRESENCES else [self.bot_user_id]
        return guild.payload(self.world, full=True, member_ids=members)

    async def _dispatch(
        self,
        event: str,
        data: JSON,
        *,
        guild_id: int | None = None,
        intent: int = 0,
        transform: Callable[[GatewaySession, JSON], JSON] | None = None,
        only: GatewaySession | None = None,
    ) -> int:
        """Number, buffer and send an event to each session that would get it on Discord.

        That is the session of the guild's shard (shard 0 for DMs): per shard only the most
        recent live session, as when a second process identifies with a shard that is already
        connected. Sessions waiting to resume get it on RESUME. Records a
        :class:`DispatchRecord`; returns the number of sessions.
        """
        record = DispatchRecord(event, guild_id, [], asyncio.get_running_loop().time())
        self.dispatches.append(record)
        receivers = self._receivers(guild_id)
        if not receivers:
            self.undelivered.append(record)
        for session in receivers:
            if (only is not None and session is not only) or (
                intent and not session.intents & intent
            ):
                continue
            payload = transform(session, data) if transform is not None else data
            async with session.lock:
                message = session.next_event(event, payload)
                conn = session.connection
                if conn is not None:
                    await conn.send(message)
            record.deliveries.append(
                Delivery(session.session_id, session.shard, session.client_tag, conn is None)
            )
        self.signal.fire()
        return len(record.deliveries)

    def _receivers(self, guild_id: int | None) -> list[GatewaySession]:
        """The live sessions that get a guild's events (DMs: ``guild_id`` None), oldest first:
        for each ``(shard_id, shard_count)`` whose shard holds the guild, the latest session."""
        chosen: dict[tuple[int, int], GatewaySession] = {}
        for session in reversed(self.sessions):
            if session.invalid or session.shard in chosen:
                continue
            if session.handles_guild(guild_id):
                chosen[session.shard] = session
        return sorted(chosen.values(), key=self.sessions.index)

    # ============================================================================== messages
    def _channel(self, channel_id: int) -> FakeChannel:
        try:
            return self.world.channels[channel_id]
        except KeyError:
            raise ValueError(f"unknown channel {channel_id}") from None

    def _user_with_member(self, guild: FakeGuild | None, user_id: int) -> JSON:
        user = self.world.users[user_id].payload()
        if guild is not None and user_id in guild.members:
            user["member"] = guild.members[user_id].payload(self.world, with_user=False)
        return user

    def _new_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: JSON,
        files: list[RecordedFile],
        *,
        referenced: JSON | None = None,
        msg_type: int = MESSAGE_TYPE_DEFAULT,
        flags: int = 0,
        extra: JSON | None = None,
    ) -> JSON:
        """Build a message object (the REST shape) from a create body."""
        guild = self.world.guild_of(channel.id)
        mid = self.ids.new()
        msg: JSON = {
            "id": str(mid),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": str(body.get("content") or ""),
            "timestamp": utcnow_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(channel.id, body, files, []),
            "embeds": [_normalise_embed(e) for e in body.get("embeds") or []],
            "components": list(body.get("components") or []),
            "pinned": False,
            "type": msg_type,
            "flags": int(body.get("flags") or 0) | flags,
        }
        if "allowed_mentions" in body:
            msg["allowed_mentions"] = body["allowed_mentions"]  # echoed; not a Discord field
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if referenced is not None:
            msg["message_reference"] = {
                "type": 0,
                "message_id": referenced["id"],
                "channel_id": referenced["channel_id"],
                "guild_id": str(guild.id) if guild else None,
            }
            msg["referenced_message"] = {
                k: v
                for k, v in referenced.items()
                if k not in ("referenced_message", "allowed_mentions")
            }
        msg.update(extra or {})
        self._set_mentions(msg, guild)
        return msg

    def _set_mentions(self, msg: JSON, guild: FakeGuild | None) -> None:
        """(Re)compute mentions from content and allowed_mentions, as Discord does."""
        referenced = msg.get("referenced_message")
        replied = int(referenced["author"]["id"]) if referenced else None
        pings = compute_pings(
            str(msg.get("content") or ""),
            msg.get("allowed_mentions") if "allowed_mentions" in msg else None,
            known_users=set(self.world.users),
            known_roles=set(guild.roles) if guild else set(),
            replied_user=replied,
        )
        msg["mentions"] = [self._user_with_member(guild, u) for u in pings.users]
        msg["mention_roles"] = [str(r) for r in pings.roles]
        msg["mention_everyone"] = pings.everyone

    def _attachments(
        self, channel_id: int, body: JSON, files: list[RecordedFile], existing: list[JSON]
    ) -> list[JSON]:
        """Attachments after a create/edit: kept ones (by id) plus uploaded files."""
        declared = {
            str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)
        }
        if "attachments" in body:
            result = [a for a in existing if str(a["id"]) in declared]
        else:
            result = list(existing)
        for n, upload in enumerate(files):
            index = re.sub(r"\D", "", upload.field) or str(n)
            meta = declared.get(index, {})
            filename = str(meta.get("filename") or upload.filename)
            attachment = self._store_attachment(
                channel_id, filename, upload.data, upload.content_type
            )
            if meta.get("description") is not None:
                attachment["description"] = meta["description"]
            result.append(attachment)
        return result

    def _store_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        content_type: str,
        *,
        ephemeral: bool = False,
    ) -> JSON:
        """Keep a file for the "CDN" and return its attachment object.

        ``ephemeral`` is for files given to an interaction (a slash command's attachment
        option, a modal's file upload): Discord marks those ``ephemeral`` and serves them from
        ``/ephemeral-attachments/``. URLs carry signed-URL-style ``ex``/``is``/``hm`` parameters,
        as Discord's CDN URLs do, so code must not take the URL's end for the file name.
        """
        aid = self.ids.new()
        self.attachment_data[aid] = bytes(data)
        self.attachment_content_types[aid] = content_type
        folder = "ephemeral-attachments" if ephemeral else "attachments"
        issued = int(time.time())
        signature = hashlib.sha256(f"{aid}:{issued}".encode()).hexdigest()
        url = (
            f"{self.base_url}/{folder}/{channel_id}/{aid}/{quote(filename)}"
            f"?ex={issued + 86_400:x}&is={issued:x}&hm={signature}&"
        )
        attachment: JSON = {
            "id": str(aid),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "flags": 0,
        }
        if ephemeral:
            attachment["ephemeral"] = True
        return attachment

    def _apply_edit(self, msg: JSON, body: JSON, files: list[RecordedFile]) -> None:
        """Apply an edit body to a stored message in place."""
        if "content" in body:
            msg["content"] = str(body["content"] or "")
        if "embeds" in body:
            msg["embeds"] = [_normalise_embed(e) for e in body["embeds"] or []]
        if "components" in body:
            msg["components"] = list(body["components"] or [])
        if files or "attachments" in body:
            msg["attachments"] = self._attachments(
                int(msg["channel_id"]), body, files, list(msg.get("attachments") or [])
            )
        if "allowed_mentions" in body:
            msg["allowed_mentions"] = body["allowed_mentions"]
        if body.get("flags") is not None:
            keep = int(msg.get("flags") or 0) & (MESSAGE_FLAG_EPHEMERAL | MESSAGE_FLAG_LOADING)
            msg["flags"] = keep | (
                int(body["flags"]) & ~(MESSAGE_FLAG_EPHEMERAL | MESSAGE_FLAG_LOADING)
            )
        msg["edited_timestamp"] = utcnow_iso()
        self._set_mentions(msg, self.world.guild_of(int(msg["channel_id"])))

    def _store(self, msg: JSON) -> None:
        mid = int(msg["id"])
        if mid not in self.messages:
            self._message_order.append(mid)
            request = _CURRENT_REQUEST.get()
            if request is not None:
                self.message_requests[mid] = request
        self.messages[mid] = msg
        channel = self.world.channels.get(int(msg["channel_id"]))
        if channel is not None:
            channel.last_message_id = mid
        self.signal.fire()

    def _event_message(self, msg: JSON) -> JSON:
        """The gateway shape of a message: with ``guild_id`` and the author's ``member``."""
        data = {k: v for k, v in msg.items() if k != "allowed_mentions"}
        guild = self.world.guild_of(int(msg["channel_id"]))
        if guild is not None:
            data["guild_id"] = str(guild.id)
            author_id = int(msg["author"]["id"])
            if author_id in guild.members and not msg.get("webhook_id"):
                data["member"] = guild.members[author_id].payload(self.world, with_user=False)
        return data

    async def _dispatch_message(self, event: str, msg: JSON) -> int:
        """MESSAGE_CREATE/UPDATE to sessions with the right intent, blanking content if needed."""
        if int(msg.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL:
            return 0
        guild = self.world.guild_of(int(msg["channel_id"]))
        data = self._event_message(msg)
        author_id = int(msg["author"]["id"])
        mentioned = {int(u["id"]) for u in msg.get("mentions") or []}

        def blank(session: GatewaySession, payload: JSON) -> JSON:
            if (
                session.intents & INTENT_MESSAGE_CONTENT
                or guild is None
                or author_id == self.bot_user_id
                or self.bot_user_id in mentioned
            ):
                return payload
            hidden = dict(payload, content="", embeds=[], attachments=[], components=[])
            hidden.pop("poll", None)
            return hidden

        intent = INTENT_GUILD_MESSAGES if guild is not None else INTENT_DIRECT_MESSAGES
        return await self._dispatch(
            event, data, guild_id=guild.id if guild else None, intent=intent, transform=blank
        )

    async def _dispatch_delete(self, msg: JSON) -> None:
        if int(msg.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL:
            return
        guild = self.world.guild_of(int(msg["channel_id"]))
        data: JSON = {"id": msg["id"], "channel_id": msg["channel_id"]}
        if guild is not None:
            data["guild_id"] = str(guild.id)
        intent = INTENT_GUILD_MESSAGES if guild is not None else INTENT_DIRECT_MESSAGES
        await self._dispatch(
            "MESSAGE_DELETE", data, guild_id=guild.id if guild else None, intent=intent
        )

    # ========================================================================== interactions
    def _require_command(self, name: str, guild_id: int | None, type: int = 1) -> JSON:
        command = self.command(name, guild_id, type)
        if command is None:
            known = sorted(c["name"] for c in self.registered_commands)
            raise LookupError(
                f"command {name!r} (type {type}) is not registered for guild {guild_id} "
                f"(registered: {known}); sync the bot's command tree first"
            )
        return command

    def _check_command_access(
        self, command: JSON, guild_id: int | None, channel_id: int, user_id: int
    ) -> None:
        """PermissionError if Discord would not let ``user_id`` invoke ``command`` here.

        Global commands are limited to their ``contexts`` (or to guilds by
        ``dm_permission: false``). In a guild the member needs View Channel and Use Application
        Commands in the channel and every permission in ``default_member_permissions``
        (``"0"``: none but administrators); administrators and the owner always pass.
        Per-guild command permission overrides (Server Settings > Integrations) are not modelled.
        """
        if not self.enforce_command_permissions:
            return
        channel = self._channel(channel_id)
        guild = self.world.guilds.get(guild_id) if guild_id is not None else None
        label = f"/{command['name']}" if int(command.get("type") or 1) == 1 else command["name"]
        if guild is not None:
            context = CONTEXT_GUILD
        else:
            context = CONTEXT_BOT_DM if channel.type == CHANNEL_DM else CONTEXT_PRIVATE_CHANNEL
        contexts = command.get("contexts")
        if contexts is None and command.get("dm_permission") is False:
            contexts = [CONTEXT_GUILD]
        if not command.get("guild_id") and contexts is not None and context not in contexts:
            where = {CONTEXT_GUILD: "a guild", CONTEXT_BOT_DM: "a DM with the bot"}
            raise PermissionError(
                f"{label} cannot be used in {where.get(context, 'a private channel')}: its "
                f"contexts are {contexts} (dm_permission {command.get('dm_permission')}), so "
                "Discord does not offer it there"
            )
        if guild is None or user_id not in guild.members or channel.guild_id != guild.id:
            return  # DMs have no member permissions; bad ids are reported when dispatching
        perms = guild.permissions_in(user_id, channel_id)
        if perms & PERM_ADMINISTRATOR:
            return
        user = self.world.users[user_id].username
        needed = PERM_VIEW_CHANNEL | PERM_USE_APPLICATION_COMMANDS
        if perms & needed != needed:
            raise PermissionError(
                f"{user} ({user_id}) cannot use application commands in channel {channel_id} "
                "(View Channel and Use Application Commands are needed)"
            )
        raw = command.get("default_member_permissions")
        if raw is None:
            return
        required = int(raw)
        missing = required & ~perms
        if required == 0 or missing:
            what = "administrators only" if required == 0 else _permission_names(missing)
            raise PermissionError(
                f"{user} ({user_id}) may not use {label} in channel {channel_id}: its "
                f"default_member_permissions is {raw} ({what}), so Discord does not offer it "
                "(FakeDiscord(enforce_command_permissions=False) dispatches it anyway)"
            )

    def _resolve_user(self, guild_id: int | None, channel_id: int, user_id: int) -> JSON:
        resolved: JSON = {"users": {str(user_id): self.world.users[user_id].payload()}}
        guild = self.world.guilds.get(guild_id) if guild_id is not None else None
        if guild is not None and user_id in guild.members:
            member = guild.members[user_id].payload(self.world, with_user=False)
            member["permissions"] = str(guild.permissions_in(user_id, channel_id))
            resolved["members"] = {str(user_id): member}
        return resolved

    def _build_options(
        self,
        command: JSON,
        path: tuple[str, ...],
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        guild_id: int | None,
        channel_id: int,
        *,
        focused: str | None = None,
    ) -> tuple[list[JSON], JSON]:
        """Turn ``{name: value}`` (or raw option dicts) into interaction options + resolved."""
        defs: list[JSON] = list(command.get("options") or [])
        nodes: list[tuple[int, str]] = []
        for part in path:
            node = next(
                (
                    d
                    for d in defs
                    if d.get("name") == part
                    and d.get("type") in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)
                ),
                None,
            )
            if node is None:
                raise ValueError(f"/{command['name']} has no subcommand {part!r}")
            nodes.append((int(node["type"]), part))
            defs = list(node.get("options") or [])
        if any(d.get("type") in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for d in defs):
            raise ValueError(f"/{command['name']} needs a subcommand path")
        by_name = {str(d["name"]): d for d in defs}
        if options is None:
            items: list[JSON] = []
        elif isinstance(options, Mapping):
            items = [{"name": k, "value": v} for k, v in options.items()]
        else:
            items = [dict(o) for o in options]
        guild = self.world.guilds.get(guild_id) if guild_id is not None else None
        resolved: JSON = {}
        result: list[JSON] = []
        for item in items:
            name = str(item["name"])
            spec = by_name.get(name)
            if spec is None:
                raise ValueError(
                    f"/{command['name']} has no option {name!r}; it has {sorted(by_name)}"
                )
            otype = int(item.get("type") or spec["type"])
            value = item.get("value")
            option: JSON = {"name": name, "type": otype}
            if name == focused:
                option["value"] = "" if value is None else str(value)
                option["focused"] = True
            else:
                option["value"] = self._option_value(otype, value, guild, channel_id, resolved)
            result.append(option)
        if focused is not None and focused not in {o["name"] for o in result}:
            if focused not in by_name:
                raise ValueError(f"/{command['name']} has no option {focused!r}")
            result.append(
                {
                    "name": focused,
                    "type": int(by_name[focused]["type"]),
                    "value": "",
                    "focused": True,
                }
            )
        if focused is None:
            missing = [
                n
                for n, d in by_name.items()
                if d.get("required") and n not in {o["name"] for o in result}
            ]
            if missing:
                raise ValueError(f"/{command['name']}: required options missing: {missing}")
        for otype, name in reversed(nodes):
            result = [{"name": name, "type": otype, "options": result}]
        return result, resolved

    def _option_value(
        self, otype: int, value: Any, guild: FakeGuild | None, channel_id: int, resolved: JSON
    ) -> Any:
        if otype == OPT_STRING:
            return str(value)
        if otype == OPT_INTEGER:
            return int(value)
        if otype == OPT_NUMBER:
            return float(value)
        if otype == OPT_BOOLEAN:
            return bool(value)
        if otype == OPT_ATTACHMENT:
            if not _is_upload(value):
                raise ValueError(
                    f"an attachment option takes (filename, data, content_type), not {value!r}"
                )
            filename, blob, content_type = _upload(value)
            attachment = self._store_attachment(
                channel_id, filename, blob, content_type, ephemeral=True
            )
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            return attachment["id"]
        if otype in (OPT_USER, OPT_MENTIONABLE) and int(value) in self.world.users:
            extra = self._resolve_user(guild.id if guild else None, channel_id, int(value))
            for key, entries in extra.items():
                resolved.setdefault(key, {}).update(entries)
            return str(value)
        if otype in (OPT_ROLE, OPT_MENTIONABLE) and guild is not None and int(value) in guild.roles:
            resolved.setdefault("roles", {})[str(value)] = guild.roles[int(value)].payload()
            return str(value)
        if otype == OPT_CHANNEL and int(value) in self.world.channels:
            channel = self.world.channels[int(value)]
            data = channel.payload(self.world)
            if guild is not None:
                data["permissions"] = str(guild.permissions_in(self.bot_user_id, channel.id))
            resolved.setdefault("channels", {})[str(value)] = data
            return str(value)
        if otype in (OPT_USER, OPT_ROLE, OPT_MENTIONABLE, OPT_CHANNEL):
            raise ValueError(f"unknown id {value!r} for option type {otype}")
        return value

    def _interaction_payload(
        self,
        itype: int,
        *,
        iid: int,
        token: str,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: JSON | None,
        message: JSON | None,
        locale: str,
    ) -> JSON:
        channel = self._channel(channel_id)
        guild = self.world.guilds.get(guild_id) if guild_id is not None else None
        if guild_id is not None and guild is None:
            raise ValueError(f"unknown guild {guild_id}")
        if guild is not None and channel.guild_id != guild.id:
            raise ValueError(f"channel {channel_id} is not in guild {guild_id}")
        channel_data = channel.payload(self.world)
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": itype,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "channel": channel_data,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = self._event_message(message)
        if guild is not None:
            if user_id not in guild.members:
                raise ValueError(f"user {user_id} is not a member of guild {guild.id}")
            channel_data["permissions"] = str(guild.permissions_in(user_id, channel_id))
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=self.world.member_payload(guild, user_id, channel_id),
                app_permissions=str(guild.permissions_in(self.bot_user_id, channel_id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=self.world.users[user_id].payload(),
                app_permissions=str(ALL_DM_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1 if channel.type == CHANNEL_DM else 2,
            )
        return payload

    async def _dispatch_interaction(
        self,
        itype: int,
        *,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: JSON | None,
        name: str,
        message: JSON | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        iid = self.ids.new()
        token = "fake_" + secrets.token_urlsafe(48)
        payload = self._interaction_payload(
            itype,
            iid=iid,
            token=token,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            message=message,
            locale=locale,
        )
        record = InteractionRecord(
            id=iid,
            token=token,
            type=itype,
            name=name,
            payload=payload,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            dispatched_at=asyncio.get_running_loop().time(),
            signal=self.signal,
        )
        if not self.live_sessions:
            raise RuntimeError("no gateway session would receive the interaction; is the bot up?")
        self.interactions.append(record)
        self._interactions_by_id[iid] = record
        await self._dispatch("INTERACTION_CREATE", payload, guild_id=guild_id)
        deliveries = self.dispatches[-1].deliveries
        record.delivery = deliveries[-1] if deliveries else None
        record.undelivered = not deliveries
        return record

    def _bot_listens(self, message_id: int, component_type: int, custom_id: str) -> bool:
        """Whether the connected discord.py client has a view item for this component (or no
        client is attached to ask)."""
        if self.client is None:
            return True
        store = self.client._connection._view_store
        key = (component_type, custom_id)
        return any(key in (store._views.get(mid) or {}) for mid in (message_id, None))

    async def _component_interaction(
        self,
        message_id: int,
        custom_id: str,
        user_id: int,
        values: list[str] | None,
        wait: bool,
        timeout: float,  # noqa: ASYNC109
    ) -> InteractionRecord:
        msg = self.messages.get(message_id)
        if msg is None:
            raise LookupError(f"unknown message {message_id}")
        component = next(
            (
                c
                for c in _walk_components(msg.get("components") or [])
                if c.get("custom_id") == custom_id
            ),
            None,
        )
        if component is None:
            raise LookupError(f"message {message_id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        data: JSON = {"custom_id": custom_id, "component_type": int(component["type"])}
        if component.get("id") is not None:
            data["id"] = component["id"]
        # A person clicks only a message already on screen; a test can click before the bot has
        # read the HTTP response that created it, and so before it registered the message's view
        # (discord.py then drops the click, and the test waits in vain). Wait until it listens.
        with contextlib.suppress(TimeoutError):
            await self.signal.wait_for(
                lambda: self._bot_listens(message_id, int(component["type"]), custom_id),
                VIEW_WAIT, f"the bot's view for {custom_id!r}")
        if values is not None:
            data["values"] = values
        channel_id = int(msg["channel_id"])
        guild = self.world.guild_of(channel_id)
        record = await self._dispatch_interaction(
            INTERACTION_MESSAGE_COMPONENT,
            guild_id=guild.id if guild else None,
            channel_id=channel_id,
            user_id=user_id,
            data=data,
            name=custom_id,
            message=msg,
        )
        if wait:
            await record.wait_callback(timeout)
        return record

    # ================================================================================== REST
    def _build_routes(self) -> None:
        """The route table: (method, path regex below /api/v10, handler, needs bot auth)."""
        n = r"(?P<{}>\d+)"
        app = n.format("app")
        token = r"(?P<token>[^/]+)"
        cmds = rf"/applications/{app}(?:/guilds/{n.format('guild')})?/commands"
        msg = rf"/channels/{n.format('channel')}/messages/{n.format('message')}"
        hook = rf"/webhooks/{app}/{token}"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", rf"/users/{n.format('user')}", self._get_user, True),
            ("POST", r"/users/@me/channels", self._create_dm, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/applications/@me", self._get_application, True),
            ("GET", rf"/applications/{app}/emojis", self._get_app_emojis, True),
            ("GET", rf"/applications/{app}/entitlements", self._get_entitlements, True),
            ("GET", cmds, self._get_commands, True),
            ("PUT", cmds, self._put_commands, True),
            ("POST", cmds, self._post_command, True),
            ("GET", rf"{cmds}/{n.format('command')}", self._get_command, True),
            ("PATCH", rf"{cmds}/{n.format('command')}", self._patch_command, True),
            ("DELETE", rf"{cmds}/{n.format('command')}", self._delete_command, True),
            ("GET", rf"/guilds/{n.format('guild')}", self._get_guild, True),
            ("GET", rf"/guilds/{n.format('guild')}/channels", self._get_guild_channels, True),
            ("GET", rf"/guilds/{n.format('guild')}/roles", self._get_guild_roles, True),
            ("GET", rf"/guilds/{n.format('guild')}/members", self._list_members, True),
            ("GET", rf"/guilds/{n.format('guild')}/members/search", self._search_members, True),
            (
                "GET",
                rf"/guilds/{n.format('guild')}/members/{n.format('user')}",
                self._get_member,
                True,
            ),
            (
                "PUT",
                rf"/guilds/{n.format('guild')}/members/{n.format('user')}/roles/{n.format('role')}",
                self._add_member_role,
                True,
            ),
            (
                "DELETE",
                rf"/guilds/{n.format('guild')}/members/{n.format('user')}/roles/{n.format('role')}",
                self._remove_member_role,
                True,
            ),
            ("GET", rf"/channels/{n.format('channel')}", self._get_channel, True),
            ("GET", rf"/channels/{n.format('channel')}/messages", self._get_messages, True),
            ("POST", rf"/channels/{n.format('channel')}/messages", self._post_message, True),
            (
                "POST",
                rf"/channels/{n.format('channel')}/messages/bulk-delete",
                self._bulk_delete,
                True,
            ),
            ("POST", rf"/channels/{n.format('channel')}/typing", self._typing, True),
            ("GET", msg, self._get_message, True),
            ("PATCH", msg, self._patch_message, True),
            ("DELETE", msg, self._delete_message, True),
            ("PUT", rf"{msg}/reactions/(?P<emoji>[^/]+)/@me", self._add_reaction, True),
            (
                "DELETE",
                rf"{msg}/reactions/(?P<emoji>[^/]+)/(?P<user>@me|\d+)",
                self._remove_reaction,
                True,
            ),
            ("DELETE", rf"{msg}/reactions", self._clear_reactions, True),
            (
                "POST",
                rf"/interactions/{n.format('interaction')}/{token}/callback",
                self._interaction_callback,
                False,
            ),
            ("POST", hook, self._post_followup, False),
            (
                "GET",
                rf"{hook}/messages/(?P<message>@original|\d+)",
                self._get_webhook_message,
                False,
            ),
            (
                "PATCH",
                rf"{hook}/messages/(?P<message>@original|\d+)",
                self._patch_webhook_message,
                False,
            ),
            (
                "DELETE",
                rf"{hook}/messages/(?P<message>@original|\d+)",
                self._delete_webhook_message,
                False,
            ),
        ]
        self._routes = [(m, re.compile(p), h, a) for m, p, h, a in table]

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        """Record the request, apply injected failures and auth, then route it."""
        path = "/" + request.match_info["tail"]
        try:
            body, files = await _read_body(request)
        except ValueError:
            body, files = None, []
            bad_json = True
        else:
            bad_json = False
        record = RecordedRequest(
            index=len(self.requests),
            method=request.method,
            path=path,
            query=dict(request.query),
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
            authorized="Authorization" in request.headers,
            json=body,
            files=files,
            at=asyncio.get_running_loop().time(),
            client_tag=client_tag(request),
            peer=peer_of(request),
        )
        self.requests.append(record)
        _CURRENT_REQUEST.set(record)
        try:
            if bad_json:
                response = error_response(400, 50109, "The request body contains invalid JSON.")
            else:
                response = await self._route(request, record)
        except Exception:
            self._record_error(f"{request.method} {path}")
            response = error_response(500, 0, "500: Internal Server Error (fake discord bug)")
        record.status = response.status
        if response.content_type == "application/json" and isinstance(response.body, bytes):
            record.response = json.loads(response.body)
        self.signal.fire()
        return response

    async def _route(self, request: web.Request, record: RecordedRequest) -> web.Response:
        for rule in self._failures:
            if rule.matches(record.method, record.path):
                rule.hits += 1
                record.injected = True
                return self._failure_response(rule, record.path)
        allowed_methods = []
        for method, pattern, handler, needs_auth in self._routes:
            match = pattern.fullmatch(record.path)
            if match is None:
                continue
            if method != record.method:
                allowed_methods.append(method)
                continue
            if needs_auth and not self._authorised(request):
                return error_response(401, 0, "401: Unauthorized")
            response = await handler(_Call(request, record, match.groupdict()))
            bucket = hashlib.sha1(f"{method} {pattern.pattern}".encode()).hexdigest()[:16]
            if response.status < 300:
                response.headers.update(_ratelimit_headers(bucket, remaining=49))
            return response
        self.unknown_routes.append(f"{record.method} {record.path}")
        log.warning("fake discord: unknown route %s %s", record.method, record.path)
        if allowed_methods:
            return error_response(405, 0, "405: Method Not Allowed")
        return error_response(404, 0, "404: Not Found")

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bot ") and self._token_ok(auth[4:])

    def _failure_response(self, rule: FailureRule, path: str) -> web.Response:
        bucket = hashlib.sha1(path.encode()).hexdigest()[:16]
        if rule.status == 429:
            headers = _ratelimit_headers(bucket, remaining=0, reset_after=rule.retry_after)
            headers.update(
                {
                    "Via": "1.1 google",
                    "Retry-After": str(max(1, math.ceil(rule.retry_after))),
                    "X-RateLimit-Scope": "global" if rule.is_global else "user",
                }
            )
            if rule.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = rule.body or {
                "message": "You are being rate limited.",
                "retry_after": rule.retry_after,
                "global": rule.is_global,
            }
            return json_response(body, 429, headers)
        if rule.status in (502, 504) and rule.body is None:
            return web.Response(
                status=rule.status,
                text=f"<html><body>{rule.status} Bad Gateway</body></html>",
                content_type="text/html",
            )
        body = rule.body or {"message": f"{rule.status}: injected failure", "code": 0}
        return json_response(body, rule.status)

    def _record_error(self, where: str) -> None:
        text = f"{where}:\n{traceback.format_exc()}"
        self.errors.append(text)
        log.error("fake discord error in %s", text)

    # ------------------------------------------------------------------ users, app, gateway
    def _me_payload(self) -> JSON:
        data = self.world.bot_user.payload()
        data.update(verified=True, mfa_enabled=False, email=None, locale="en-US", premium_type=0)
        return data

    def _app_flags(self) -> int:
        flags = APP_FLAG_APPLICATION_COMMAND_BADGE
        if self.allowed_privileged_intents & INTENT_GUILD_PRESENCES:
            flags |= APP_FLAG_GATEWAY_PRESENCE_LIMITED
        if self.allowed_privileged_intents & INTENT_GUILD_MEMBERS:
            flags |= APP_FLAG_GATEWAY_GUILD_MEMBERS_LIMITED
        if self.allowed_privileged_intents & INTENT_MESSAGE_CONTENT:
            flags |= APP_FLAG_GATEWAY_MESSAGE_CONTENT_LIMITED
        return flags

    async def _get_me(self, call: _Call) -> web.Response:
        return json_response(self._me_payload())

    async def _get_user(self, call: _Call) -> web.Response:
        user = self.world.users.get(call.int("user"))
        if user is None:
            return error_response(404, 10013, "Unknown User")
        return json_response(user.payload())

    async def _create_dm(self, call: _Call) -> web.Response:
        recipient = int(call.body.get("recipient_id") or 0)
        if recipient not in self.world.users:
            return error_response(400, 50033, "Invalid Recipient(s)")
        return json_response(self.world.dm_channel(recipient).payload(self.world))

    async def _get_gateway(self, call: _Call) -> web.Response:
        return json_response({"url": self.gateway_url_for(client_tag(call.request))})

    async def _get_gateway_bot(self, call: _Call) -> web.Response:
        """The recommended shard count and the identify limits (``AutoShardedClient`` with no
        ``shard_count`` opens this many shards, at the URL given here)."""
        return json_response(
            {
                "url": self.gateway_url_for(client_tag(call.request)),
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": max(0, 1000 - self.identify_count),
                    "reset_after": 86_400_000,
                    "max_concurrency": self.max_concurrency,
                },
            }
        )

    async def _get_application(self, call: _Call) -> web.Response:
        owner = self.world.users[self.owner_id]
        return json_response(
            {
                "id": str(self.app_id),
                "name": self.world.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner.payload(),
                "team": None,
                "flags": self._app_flags(),
                "bot": self.world.bot_user.payload(),
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "tags": [],
                "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
                "integration_types_config": {"0": {}},
                "approximate_guild_count": len(self.world.guilds),
                "custom_install_url": None,
                "is_monetized": False,
            }
        )

    async def _get_app_emojis(self, call: _Call) -> web.Response:
        if call.int("app") != self.app_id:
            return error_response(403, 50001, "Missing Access")
        return json_response({"items": []})

    async def _get_entitlements(self, call: _Call) -> web.Response:
        return json_response([])

    # ------------------------------------------------------------------------------ commands
    def _command_scope(self, call: _Call) -> dict[tuple[int, str], JSON] | web.Response:
        if call.int("app") != self.app_id:
            return error_response(403, 50001, "Missing Access")
        guild = call.params.get("guild")
        if guild is None:
            return self.global_commands
        if int(guild) not in self.world.guilds:
            return error_response(403, 50001, "Missing Access")
        return self.guild_commands.setdefault(int(guild), {})

    def _store_command(
        self,
        scope: dict[tuple[int, str], JSON],
        body: JSON,
        guild: str | None,
        existing: JSON | None,
    ) -> JSON:
        command = dict(body)
        if existing is not None:
            command["id"] = existing["id"]
        else:
            command["id"] = str(self.ids.world())
            self.commands_created += 1
        command.setdefault("type", 1)
        command.setdefault("description", "")
        permissions = command.get("default_member_permissions")
        # discord.py sends an int; Discord stores and returns a string (or null).
        command["default_member_permissions"] = None if permissions is None else str(permissions)
        command.setdefault("nsfw", False)
        command.setdefault("name_localizations", None)
        command.setdefault("description_localizations", None)
        command["application_id"] = str(self.app_id)
        command["version"] = str(self.ids.new())
        if guild is not None:
            command["guild_id"] = guild
        else:
            command.setdefault("contexts", None)
            command.setdefault("dm_permission", True)
            command.setdefault("integration_types", [0])
        scope[(int(command["type"]), str(command["name"]))] = command
        return command

    async def _get_commands(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        return json_response(list(scope.values()))

    async def _put_commands(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        body = call.record.json
        if not isinstance(body, list):
            return error_response(400, 50035, "Invalid Form Body")
        errors = FormErrors()
        for i, command in enumerate(body):
            validate_command(command, errors, i)
        if errors:
            return json_response(errors.body(), 400)
        old = dict(scope)
        scope.clear()
        self.command_syncs += 1
        result = []
        for command in body:
            key = (int(command.get("type") or 1), str(command["name"]))
            result.append(
                self._store_command(scope, command, call.params.get("guild"), old.get(key))
            )
        return json_response(result)

    async def _post_command(self, call: _Call) -> web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        errors = FormErrors()
        validate_command(call.body, errors, 0)
        if errors:
            return json_response(errors.body(), 400)
        key = (int(call.body.get("type") or 1), str(call.body["name"]))
        existing = scope.get(key)
        command = self._store_command(scope, call.body, call.params.get("guild"), existing)
        return json_response(command, 200 if existing else 201)

    def _find_command(
        self, call: _Call
    ) -> tuple[dict[tuple[int, str], JSON], tuple[int, str]] | web.Response:
        scope = self._command_scope(call)
        if isinstance(scope, web.Response):
            return scope
        for key, command in scope.items():
            if command["id"] == call.params["command"]:
                return scope, key
        return error_response(404, 10063, "Unknown application command")

    async def _get_command(self, call: _Call) -> web.Response:
        found = self._find_command(call)
        if isinstance(found, web.Response):
            return found
        scope, key = found
        return json_response(scope[key])

    async def _patch_command(self, call: _Call) -> web.Response:
        found = self._find_command(call)
        if isinstance(found, web.Response):
            return found
        scope, key = found
        existing = scope.pop(key)
        merged = {**existing, **call.body}
        return json_response(self._store_command(scope, merged, call.params.get("guild"), existing))

    async def _delete_command(self, call: _Call) -> web.Response:
        found = self._find_command(call)
        if isinstance(found, web.Response):
            return found
        scope, key = found
        del scope[key]
        return no_content()

    # -------------------------------------------------------------------------------- guilds
    def _guild_or_404(self, call: _Call) -> FakeGuild | web.Response:
        guild = self.world.guilds.get(call.int("guild"))
        if guild is None:
            return error_response(404, 10004, "Unknown Guild")
        return guild

    async def _get_guild(self, call: _Call) -> web.Response:
        guild = self._guild_or_404(call)
        if isinstance(guild, web.Response):
            return guild
        data = guild.payload(self.world, full=False)
        if _truthy(call.query.get("with_counts")):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = len(guild.members)
        return json_response(data)

    async def _get_guild_channels(self, call: _Call) -> web.Response:
        guild = self._guild_or_404(call)
        if isinstance(guild, web.Response):
            return guild
        return json_response([c.payload(self.world) for c in guild.channels.values()])

    async def _get_guild_roles(self, call: _Call) -> web.Response:
        guild = self._guild_or_404(call)
        if isinstance(guild, web.Response):
            return guild
        return json_response([r.payload() for r in guild.roles.values()])

    async def _get_member(self, call: _Call) -> web.Response:
        guild = self._guild_or_404(call)
        if isinstance(guild, web.Response):
            return guild
        member = guild.members.get(call.int("user"))
        if member is None:
            return error_response(404, 10007, "Unknown Member")
        return json_response(member.payload(self.world))

    async def _list_members(self, call: _Call) -> web.Response:
        guild = self._guild_or_404(call)
        if isinstance(guild, web.Response):
            return guild
        limit = int(call.query.get("limit") or 1)
        after = int(call.query.get("after") or 0)
        ids = sorted(u for u in guild.members if u > after)[:limit]
        return json_response([guild.members[u].payload(self.world) for u in ids])

    async def _search_members(self, call: _Call) -> web.Response:
        guild = self._guild_or_404(call)
        if isinstance(guild, web.Response):
            return guild
        query = call.query.get("query", "").lower()
        limit = int(call.query.get("limit") or 1)
        found = [
            m.payload(self.world)
            for m in guild.members.values()
            if any(
                (n or "").lower().startswith(query)
                for n in (
                    self.world.users[m.user_id].username,
                    self.world.users[m.user_id].global_name,
                    m.nick,
                )
            )
        ]
        return json_response(found[:limit])

    async def _change_member_role(self, call: _Call, add: bool) -> web.Response:
        guild = self._guild_or_404(call)
        if isinstance(guild, web.Response):
            return guild
        member = guild.members.get(call.int("user"))
        if member is None:
            return error_response(404, 10007, "Unknown Member")
        role = call.int("role")
        if role not in guild.roles:
            return error_response(404, 10011, "Unknown Role")
        if add and role not in member.roles:
            member.roles.append(role)
        elif not add and role in member.roles:
            member.roles.remove(role)
        data = member.payload(self.world)
        data["guild_id"] = str(guild.id)
        await self._dispatch(
            "GUILD_MEMBER_UPDATE", data, guild_id=guild.id, intent=INTENT_GUILD_MEMBERS
        )
        return no_content()

    async def _add_member_role(self, call: _Call) -> web.Response:
        return await self._change_member_role(call, True)

    async def _remove_member_role(self, call: _Call) -> web.Response:
        return await self._change_member_role(call, False)

    # ------------------------------------------------------------------------------ channels
    def _channel_or_404(self, call: _Call) -> FakeChannel | web.Response:
        channel = self.world.channels.get(call.int("channel"))
        if channel is None:
            return error_response(404, 10003, "Unknown Channel")
        return channel

    def _message_or_404(self, call: _Call) -> JSON | web.Response:
        channel = self._channel_or_404(call)
        if isinstance(channel, web.Response):
            return channel
        msg = self.messages.get(call.int("message"))
        if msg is None or int(msg["channel_id"]) != channel.id:
            return error_response(404, 10008, "Unknown Message")
        return msg

    async def _get_channel(self, call: _Call) -> web.Response:
        channel = self._channel_or_404(call)
        if isinstance(channel, web.Response):
            return channel
        return json_response(channel.payload(self.world))

    async def _get_messages(self, call: _Call) -> web.Response:
        channel = self._channel_or_404(call)
        if isinstance(channel, web.Response):
            return channel
        limit = max(1, min(100, int(call.query.get("limit") or 50)))
        msgs = [
            m
            for m in self.channel_messages(channel.id)
            if not int(m.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL
        ]
        if "before" in call.query:
            msgs = [m for m in msgs if int(m["id"]) < int(call.query["before"])]
        if "after" in call.query:
            msgs = [m for m in msgs if int(m["id"]) > int(call.query["after"])][:limit]
        msgs = list(reversed(msgs))[:limit]
        return json_response(msgs)

    async def _post_message(self, call: _Call) -> web.Response:
        channel = self._channel_or_404(call)
        if isinstance(channel, web.Response):
            return channel
        body = call.body
        invalid = validate_message(body, n_files=len(call.record.files))
        if invalid is not None:
            return json_response(invalid, 400)
        referenced = None
        reference = body.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id"):
            referenced = self.messages.get(int(reference["message_id"]))
            if referenced is None and reference.get("fail_if_not_exists", True):
                errors = FormErrors()
                errors.add(
                    ("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
                return json_response(errors.body(), 400)
        nonce_key = None
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            nonce_key = (channel.id, str(body["nonce"]))
            earlier = self._nonces.get(nonce_key)
            if earlier is not None and time.monotonic() - earlier[0] < NONCE_WINDOW:
                # as Discord: the message the first request created, and no new one
                self.nonce_duplicates.append(nonce_key)
                return json_response(self.messages.get(earlier[1], {}))
        msg = self._new_message(
            channel,
            self.world.bot_user,
            body,
            call.record.files,
            referenced=referenced,
            msg_type=MESSAGE_TYPE_REPLY if referenced else MESSAGE_TYPE_DEFAULT,
        )
        self._store(msg)
        if nonce_key is not None:
            self._nonces[nonce_key] = (time.monotonic(), int(msg["id"]))
        await self._dispatch_message("MESSAGE_CREATE", msg)
        return json_response(msg)

    async def _get_message(self, call: _Call) -> web.Response:
        msg = self._message_or_404(call)
        if isinstance(msg, web.Response):
            return msg
        return json_response(msg)

    async def _patch_message(self, call: _Call) -> web.Response:
        msg = self._message_or_404(call)
        if isinstance(msg, web.Response):
            return msg
        if int(msg["author"]["id"]) != self.bot_user_id:
            return error_response(403, 50005, "Cannot edit a message authored by another user")
        invalid = validate_message(call.body, n_files=len(call.record.files), partial=True)
        if invalid is not None:
            return json_response(invalid, 400)
        self._apply_edit(msg, call.body, call.record.files)
        self.signal.fire()
        await self._dispatch_message("MESSAGE_UPDATE", msg)
        return json_response(msg)

    async def _delete_message(self, call: _Call) -> web.Response:
        msg = self._message_or_404(call)
        if isinstance(msg, web.Response):
            return msg
        del self.messages[int(msg["id"])]
        await self._dispatch_delete(msg)
        return no_content()

    async def _bulk_delete(self, call: _Call) -> web.Response:
        channel = self._channel_or_404(call)
        if isinstance(channel, web.Response):
            return channel
        ids = [int(m) for m in call.body.get("messages") or []]
        if not 2 <= len(ids) <= 100:
            return error_response(400, 50016, "You must provide between 2 and 100 messages")
        for mid in ids:
            self.messages.pop(mid, None)
        guild = self.world.guild_of(channel.id)
        data: JSON = {"ids": [str(i) for i in ids], "channel_id": str(channel.id)}
        if guild is not None:
            data["guild_id"] = str(guild.id)
        await self._dispatch(
            "MESSAGE_DELETE_BULK",
            data,
            guild_id=guild.id if guild else None,
            intent=INTENT_GUILD_MESSAGES,
        )
        return no_content()

    async def _typing(self, call: _Call) -> web.Response:
        channel = self._channel_or_404(call)
        if isinstance(channel, web.Response):
            return channel
        return no_content()

    async def _add_reaction(self, call: _Call) -> web.Response:
        msg = self._message_or_404(call)
        if isinstance(msg, web.Response):
            return msg
        entry = (call.params["emoji"], self.bot_user_id)
        reactions = self.reactions.setdefault(int(msg["id"]), [])
        if entry not in reactions:
            reactions.append(entry)
        return no_content()

    async def _remove_reaction(self, call: _Call) -> web.Response:
        msg = self._message_or_404(call)
        if isinstance(msg, web.Response):
            return msg
        user = self.bot_user_id if call.params["user"] == "@me" else int(call.params["user"])
        reactions = self.reactions.get(int(msg["id"]), [])
        if (call.params["emoji"], user) in reactions:
            reactions.remove((call.params["emoji"], user))
        return no_content()

    async def _clear_reactions(self, call: _Call) -> web.Response:
        msg = self._message_or_404(call)
        if isinstance(msg, web.Response):
            return msg
        self.reactions.pop(int(msg["id"]), None)
        return no_content()

    async def _handle_attachment(self, request: web.Request) -> web.Response:
        """The "CDN": an attachment's bytes with its content type (the query is ignored)."""
        aid = int(request.match_info["attachment_id"])
        data = self.attachment_data.get(aid)
        if data is None:
            return web.Response(status=404, text="not found")
        content_type = self.attachment_content_types.get(aid) or "application/octet-stream"
        return web.Response(body=data, headers={"Content-Type": content_type})

    # -------------------------------------------------------------------------- interactions
    async def _interaction_callback(self, call: _Call) -> web.Response:
        now = asyncio.get_running_loop().time()
        record = self._interactions_by_id.get(call.int("interaction"))
        if record is None or record.token != call.params["token"]:
            return error_response(404, 10062, "Unknown interaction")
        record.callback_attempts += 1
        elapsed = now - record.dispatched_at
        if self.interaction_deadline is not None and elapsed > self.interaction_deadline:
            record.rejected_callbacks.append((404, f"late by {elapsed:.3f}s"))
            self.signal.fire()
            return error_response(404, 10062, "Unknown interaction")
        if record.responded:
            record.rejected_callbacks.append((400, "already acknowledged"))
            self.signal.fire()
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        body = call.body
        ctype = int(body.get("type") or 0)
        data: JSON = dict(body.get("data") or {})
        problem = self._check_callback(record, ctype, data, len(call.record.files))
        if problem is not None:
            record.rejected_callbacks.append((problem.status, "invalid callback"))
            self.signal.fire()
            return problem
        message: JSON | None = None
        if ctype == CALLBACK_CHANNEL_MESSAGE:
            message = self._interaction_message(record, data, call.record.files)
            record.original = message
        elif ctype == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            flags = MESSAGE_FLAG_LOADING | (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL)
            record.original = self._interaction_message(record, {"flags": flags}, [])
        elif ctype in (CALLBACK_UPDATE_MESSAGE, CALLBACK_DEFERRED_UPDATE_MESSAGE):
            target = self.messages.get(int(record.payload["message"]["id"]))
            if target is not None:
                record.original = target
                if ctype == CALLBACK_UPDATE_MESSAGE:
                    self._apply_edit(target, data, call.record.files)
                    record.original_edits.append(data)
                    message = target
        record.callback_type = ctype
        record.callback_data = data
        record.callback_at = now
        record.callback_request = call.record
        if (
            ctype in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE)
            and record.original
        ):
            self._store(record.original)
            await self._dispatch_message("MESSAGE_CREATE", record.original)
        elif ctype == CALLBACK_UPDATE_MESSAGE and message is not None:
            await self._dispatch_message("MESSAGE_UPDATE", message)
        self.signal.fire()
        if not _truthy(call.query.get("with_response")):
            return no_content()
        original = record.original
        interaction: JSON = {"id": str(record.id), "type": record.type}
        if original is not None and ctype in (4, 5, 7):
            interaction.update(
                response_message_id=original["id"],
                response_message_loading=ctype == CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                response_message_ephemeral=bool(
                    int(original.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL
                ),
            )
        resource: JSON = {"type": ctype}
        if message is not None:
            resource["message"] = message
        return json_response({"interaction": interaction, "resource": resource})

    def _check_callback(
        self, record: InteractionRecord, ctype: int, data: JSON, n_files: int
    ) -> web.Response | None:
        allowed = {
            CALLBACK_PONG: {INTERACTION_PING},
            CALLBACK_CHANNEL_MESSAGE: {
                INTERACTION_APPLICATION_COMMAND,
                INTERACTION_MESSAGE_COMPONENT,
                INTERACTION_MODAL_SUBMIT,
            },
            CALLBACK_DEFERRED_CHANNEL_MESSAGE: {
                INTERACTION_APPLICATION_COMMAND,
                INTERACTION_MESSAGE_COMPONENT,
                INTERACTION_MODAL_SUBMIT,
            },
            CALLBACK_DEFERRED_UPDATE_MESSAGE: {
                INTERACTION_MESSAGE_COMPONENT,
                INTERACTION_MODAL_SUBMIT,
            },
            CALLBACK_UPDATE_MESSAGE: {INTERACTION_MESSAGE_COMPONENT, INTERACTION_MODAL_SUBMIT},
            CALLBACK_AUTOCOMPLETE_RESULT: {INTERACTION_AUTOCOMPLETE},
            CALLBACK_MODAL: {INTERACTION_APPLICATION_COMMAND, INTERACTION_MESSAGE_COMPONENT},
        }
        if record.type not in allowed.get(ctype, set()) or (
            ctype in (CALLBACK_UPDATE_MESSAGE, CALLBACK_DEFERRED_UPDATE_MESSAGE)
            and "message" not in record.payload
        ):
            errors = FormErrors()
            errors.add(("type",), "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type")
            return json_response(errors.body(), 400)
        if ctype == CALLBACK_CHANNEL_MESSAGE:
            invalid = validate_message(data, n_files=n_files)
        elif ctype == CALLBACK_UPDATE_MESSAGE:
            invalid = validate_message(data, n_files=n_files, partial=True)
        elif ctype == CALLBACK_AUTOCOMPLETE_RESULT:
            invalid = validate_choices(list(data.get("choices") or []))
        elif ctype == CALLBACK_MODAL:
            invalid = None
            if not data.get("custom_id") or not data.get("title") or not data.get("components"):
                invalid = {"message": "Invalid Form Body", "code": 50035, "errors": {}}
        else:
            invalid = None
        return None if invalid is None else json_response(invalid, 400)

    def _interaction_message(
        self, record: InteractionRecord, body: JSON, files: list[RecordedFile]
    ) -> JSON:
        """A message posted through an interaction (response or followup)."""
        flags = int(body.get("flags") or 0)
        command = record.type == INTERACTION_APPLICATION_COMMAND
        data = record.payload.get("data") or {}
        msg_type = MESSAGE_TYPE_DEFAULT
        if command:
            context_menu = int(data.get("type") or 1) != 1
            msg_type = (
                MESSAGE_TYPE_CONTEXT_MENU_COMMAND
                if context_menu
                else MESSAGE_TYPE_CHAT_INPUT_COMMAND
            )
        user = self.world.users[record.user_id].payload()
        metadata: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": user,
            "authorizing_integration_owners": record.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if command:
            metadata["name"] = data.get("name")
            metadata["command_type"] = data.get("type", 1)
        extra: JSON = {
            "application_id": str(self.app_id),
            "webhook_id": str(self.app_id),
            "interaction_metadata": metadata,
        }
        return self._new_message(
            self._channel(record.channel_id),
            self.world.bot_user,
            dict(body, flags=flags),
            files,
            msg_type=msg_type,
            extra=extra,
        )

    def _record_for_webhook(self, call: _Call) -> InteractionRecord | web.Response:
        if call.int("app") != self.app_id:
            return error_response(404, 10015, "Unknown Webhook")
        token = call.params["token"]
        record = next((r for r in reversed(self.interactions) if r.token == token), None)
        if record is None:
            return error_response(404, 10015, "Unknown Webhook")
        return record

    def _webhook_target(self, call: _Call) -> tuple[InteractionRecord, JSON] | web.Response:
        record = self._record_for_webhook(call)
        if isinstance(record, web.Response):
            return record
        which = call.params["message"]
        if which == "@original":
            if record.original is None or record.original_deleted:
                return error_response(404, 10008, "Unknown Message")
            return record, record.original
        target = next(
            (m for m in record.messages if m["id"] == which and int(m["id"]) in self.messages),
            None,
        )
        if target is None:
            return error_response(404, 10008, "Unknown Message")
        return record, target

    async def _post_followup(self, call: _Call) -> web.Response:
        record = self._record_for_webhook(call)
        if isinstance(record, web.Response):
            return record
        if not record.responded:
            return error_response(404, 10015, "Unknown Webhook")
        invalid = validate_message(call.body, n_files=len(call.record.files))
        if invalid is not None:
            return json_response(invalid, 400)
        original = record.original
        if (
            original is not None
            and record.callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE
            and int(original.get("flags") or 0) & MESSAGE_FLAG_LOADING
        ):
            # The first followup after "thinking" replaces the thinking message.
            self._apply_edit(original, call.body, call.record.files)
            original["flags"] = int(original["flags"]) & ~MESSAGE_FLAG_LOADING
            msg = original
            record.followups.append(msg)
            await self._dispatch_message("MESSAGE_UPDATE", msg)
        else:
            msg = self._interaction_message(record, call.body, call.record.files)
            record.followups.append(msg)
            self._store(msg)
            await self._dispatch_message("MESSAGE_CREATE", msg)
        self.signal.fire()
        if _truthy(call.query.get("wait")):
            return json_response(msg)
        return no_content()

    async def _get_webhook_message(self, call: _Call) -> web.Response:
        found = self._webhook_target(call)
        if isinstance(found, web.Response):
            return found
        return json_response(found[1])

    async def _patch_webhook_message(self, call: _Call) -> web.Response:
        found = self._webhook_target(call)
        if isinstance(found, web.Response):
            return found
        record, msg = found
        invalid = validate_message(call.body, n_files=len(call.record.files), partial=True)
        if invalid is not None:
            return json_response(invalid, 400)
        was_loading = bool(int(msg.get("flags") or 0) & MESSAGE_FLAG_LOADING)
        self._apply_edit(msg, call.body, call.record.files)
        msg["flags"] = int(msg.get("flags") or 0) & ~MESSAGE_FLAG_LOADING
        if was_loading and not any(
            msg.get(k) for k in ("content", "embeds", "components", "attachments")
        ):
            msg["flags"] |= MESSAGE_FLAG_LOADING
            return error_response(400, 50006, "Cannot send an empty message")
        if msg is record.original:
            record.original_edits.append(call.body)
        self.signal.fire()
        await self._dispatch_message("MESSAGE_UPDATE", msg)
        return json_response(msg)

    async def _delete_webhook_message(self, call: _Call) -> web.Response:
        found = self._webhook_target(call)
        if isinstance(found, web.Response):
            return found
        record, msg = found
        self.messages.pop(int(msg["id"]), None)
        if msg is record.original:
            record.original_deleted = True
        self.signal.fire()
        await self._dispatch_delete(msg)
        return no_content()


# -- helpers ---------------------------------------------------------------------------------
def _parse_shard(value: Any) -> tuple[int, int] | None:
    """IDENTIFY's ``shard``: ``[shard_id, shard_count]``, absent meaning ``[0, 1]``; None if
    invalid (Discord closes with 4010)."""
    if value is None:
        return (0, 1)
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    shard_id, count = value
    return (shard_id, count) if count >= 1 and 0 <= shard_id < count else None


def _ratelimit_headers(bucket: str, *, remaining: int, reset_after: float = 1.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def _normalise_embed(embed: Any) -> JSON:
    data = dict(embed) if isinstance(embed, dict) else {}
    data.setdefault("type", "rich")
    return data


def _walk_components(components: Sequence[JSON]) -> Iterable[JSON]:
    """Every component in a tree (action rows, labels, sections, containers ...)."""
    for component in components:
        yield component
        children = list(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            children.append(component["component"])
        if isinstance(component.get("accessory"), dict):
            children.append(component["accessory"])
        yield from _walk_components(children)


def _is_upload(value: object) -> bool:
    """Whether ``value`` looks like one ``(filename, data[, content_type])`` upload."""
    return (
        isinstance(value, tuple)
        and len(value) in (2, 3)
        and isinstance(value[0], str)
        and isinstance(value[1], bytes | bytearray)
    )


def _upload(value: Any) -> Upload:
    """Check one upload given by a test: ``(filename, data, content_type)``.

    The content type may be left out (``(filename, data)``); it is then guessed from the name.
    ValueError for an empty name, a file over 10 MiB (a user's limit) or anything else.
    """
    if not _is_upload(value):
        raise ValueError(f"expected (filename, data, content_type), got {value!r}")
    filename, data = value[0], bytes(value[1])
    content_type = value[2] if len(value) == 3 else None
    if not filename or "/" in filename:
        raise ValueError(f"bad attachment filename {filename!r}")
    if len(data) > ATTACHMENT_SIZE_LIMIT:
        raise ValueError(f"{filename}: {len(data)} bytes is over the {ATTACHMENT_SIZE_LIMIT} limit")
    if content_type is None:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return filename, data, str(content_type)


def _permission_names(value: int) -> str:
    """``"manage_messages, ban_members"``: the names discord.py gives the bits of ``value``."""
    import discord

    names = [name for name, on in discord.Permissions(value) if on]
    return ", ".join(names) or str(value)


def _submitted(component: JSON, values: Mapping[str, str | Sequence[str]]) -> JSON:
    """The modal-submit shape of a component the bot sent, filled with ``values``."""
    ctype = int(component.get("type") or 0)
    base: JSON = {"type": ctype}
    if component.get("id") is not None:
        base["id"] = component["id"]
    if ctype == 1:  # action row
        base["components"] = [_submitted(c, values) for c in component.get("components") or []]
    elif ctype == 18:  # label
        base["component"] = _submitted(component["component"], values)
    elif ctype == 4:  # text input: untouched, it submits the value it was pre-filled with
        value = values.get(str(component.get("custom_id")), component.get("value") or "")
        base.update(custom_id=component.get("custom_id"), value=str(value))
    elif component.get("custom_id") is not None:  # selects and other inputs
        value = values.get(str(component["custom_id"]), [])
        base.update(
            custom_id=component["custom_id"],
            values=[value] if isinstance(value, str) else list(value),
        )
    return base


async def _read_body(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    """Decode a JSON or multipart (``payload_json`` + ``files[n]``) body. ValueError: bad JSON."""
    if not request.body_exists:
        return None, []
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        payload: Any = None
        fields: JSON = {}
        files: list[RecordedFile] = []
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            data = await part.read(decode=True)
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(data)
            elif part.filename is not None:
                files.append(
                    RecordedFile(
                        name,
                        part.filename,
                        part.headers.get("Content-Type", "application/octet-stream"),
                        bytes(data),
                    )
                )
            else:
                fields[name] = bytes(data).decode()
        return (payload if payload is not None else fields or None), files
    raw = await request.read()
    if not raw:
        return None, []
    if request.content_type == "application/json":
        return json.loads(raw), []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []
