"""The fake Discord's world: users, guilds, roles, channels and members, and their JSON payloads.

Everything here is plain data with no I/O. Payloads follow the shapes of Discord API v10 closely
enough for discord.py 2.x to parse them into its real model classes (``Guild``, ``Member``,
``TextChannel``, ``Message`` ...).
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
"""A JSON object as decoded by :func:`json.loads`."""

DISCORD_EPOCH_MS = 1_420_070_400_000
"""Milliseconds since the Unix epoch at the start of 2015, the epoch of Discord snowflakes."""

# -- gateway opcodes -----------------------------------------------------------------------------
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# -- gateway intents -----------------------------------------------------------------------------
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# -- permissions (values as computed by discord.Permissions) --------------------------------------
PERM_ADMINISTRATOR = 1 << 3
PERM_VIEW_CHANNEL = 1 << 10
PERM_USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = 8_866_461_766_385_663
"""``discord.Permissions.all().value``: what the guild owner and administrators have."""
EVERYONE_PERMISSIONS = 448_894_716_993
"""@everyone: view, send, history, reactions, embeds, files, app commands, invites, voice ..."""
MODERATOR_PERMISSIONS = 1_116_825_854_118
"""Moderator: manage guild/messages/threads/nicknames, kick, ban, timeout, mention everyone,
view audit log (no administrator)."""
BOT_ROLE_PERMISSIONS = 277_025_770_560
"""The bot's managed role: view, send, embeds, files, history, reactions, external emojis,
send in threads, app commands."""

# -- channel types and message flags ------------------------------------------------------------
CHANNEL_GUILD_TEXT = 0
CHANNEL_DM = 1
CHANNEL_GUILD_CATEGORY = 4

MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
"""Bytes a user (without Nitro) may upload per file, and ``attachment_size_limit`` of interactions."""
MESSAGE_ATTACHMENTS_MAX = 10
"""Files per message."""

# -- interaction context types (``contexts`` of a command, ``context`` of an interaction) --------
CONTEXT_GUILD = 0
CONTEXT_BOT_DM = 1
CONTEXT_PRIVATE_CHANNEL = 2


def utcnow_iso() -> str:
    """The current time as Discord formats timestamps (ISO 8601 with a UTC offset)."""
    return datetime.now(UTC).isoformat()


def snowflake_at(unix_ms: int, increment: int = 0) -> int:
    """A snowflake for the given Unix time in milliseconds (worker and process ids 0)."""
    return ((unix_ms - DISCORD_EPOCH_MS) << 22) | (increment & 0xFFF)


class IdFactory:
    """Makes snowflakes: deterministic ones for the fixed world, time-based ones for messages.

    World ids start from a fixed moment (2021-01-01) so that they are the same in every run;
    ``new()`` ids carry the current time, so ``discord.utils.snowflake_time`` of a message id is
    its creation time, as on Discord. Both are unique within one factory.
    """

    WORLD_BASE_MS = 1_609_459_200_000  # 2021-01-01T00:00:00Z
    SHARD_SPREAD = 720_720
    """lcm(1..16): guild timestamps start at a multiple of it, so guild ``k`` is on shard ``k % n``
    for every shard count ``n`` up to 16 (and any other divisor)."""
    GUILD_BASE_MS = DISCORD_EPOCH_MS + SHARD_SPREAD * 306_534  # about 2022-01-01

    def __init__(self) -> None:
        self._world = itertools.count(1)
        self._guilds = itertools.count()
        self._increment = itertools.count()
        self._last = 0

    def world(self) -> int:
        """The next deterministic id, for users, guilds, channels, roles and commands."""
        n = next(self._world)
        return snowflake_at(self.WORLD_BASE_MS + n * 1000, n)

    def guild(self) -> int:
        """The next deterministic guild id: one millisecond after the previous guild's.

        Discord puts a guild on shard ``(guild_id >> 22) % shard_count``, i.e. its creation
        millisecond modulo the shard count. :meth:`world` ids are a whole second apart, so every
        guild would land on the same shard; consecutive milliseconds (in a range of their own,
        so they never collide with :meth:`world` ids) deal guilds round-robin to the shards.
        """
        return snowflake_at(self.GUILD_BASE_MS + next(self._guilds))

    def new(self) -> int:
        """A fresh time-based id, strictly greater than the previous one from this method."""
        value = snowflake_at(int(time.time() * 1000), next(self._increment))
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value


@dataclass
class FakeUser:
    """A Discord user (a person or a bot account)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    def payload(self) -> JSON:
        """The user object as Discord sends it."""
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class FakeRole:
    """A guild role. The @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None
    hoist: bool = False
    mentionable: bool = False

    def payload(self) -> JSON:
        """The role object as Discord sends it."""
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (``type`` 0) or a member (``type`` 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> JSON:
        """The overwrite object as Discord sends it."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class FakeChannel:
    """A guild text channel or category, or a DM channel (``guild_id`` None, ``recipient_id``)."""

    id: int
    name: str
    type: int = CHANNEL_GUILD_TEXT
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_id: int | None = None
    last_message_id: int | None = None

    def payload(self, world: World) -> JSON:
        """The channel object as Discord sends it."""
        if self.type == CHANNEL_DM:
            recipient = world.users[self.recipient_id] if self.recipient_id else None
            return {
                "id": str(self.id),
                "type": CHANNEL_DM,
                "last_message_id": _opt_str(self.last_message_id),
                "flags": 0,
                "recipients": [recipient.payload()] if recipient else [],
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": _opt_str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "nsfw": False,
            "parent_id": _opt_str(self.parent_id),
            "flags": 0,
        }
        if self.type == CHANNEL_GUILD_TEXT:
            data.update(
                topic=self.topic,
                last_message_id=_opt_str(self.last_message_id),
                rate_limit_per_user=0,
                default_thread_rate_limit_per_user=0,
                default_auto_archive_duration=1440,
            )
        return data


@dataclass
class FakeMember:
    """A user's membership of a guild."""

    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = "2021-01-01T00:00:00+00:00"

    def payload(self, world: World, *, with_user: bool = True) -> JSON:
        """The guild member object; without ``user`` inside MESSAGE_CREATE and resolved data."""
        data: JSON = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = world.users[self.user_id].payload()
        return data


@dataclass
class FakeGuild:
    """A guild (server) with its roles, channels and members."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    joined_at: str = "2021-01-01T00:00:00+00:00"

    @property
    def everyone(self) -> FakeRole:
        """The @everyone role (its id is the guild's id)."""
        return self.roles[self.id]

    def role_named(self, name: str) -> FakeRole:
        """The first role with this name (KeyError if there is none)."""
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(name)

    def channel_named(self, name: str) -> FakeChannel:
        """The first channel with this name (KeyError if there is none)."""
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(name)

    def base_permissions(self, user_id: int) -> int:
        """Guild-level permissions of a member: owner and administrators get everything."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        perms = self.everyone.permissions
        if member is not None:
            for role_id in member.roles:
                role = self.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        if perms & PERM_ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def permissions_in(self, user_id: int, channel_id: int | None) -> int:
        """A member's permissions in a channel, applying overwrites the way Discord does."""
        perms = self.base_permissions(user_id)
        if perms == ALL_PERMISSIONS or channel_id is None:
            return perms
        channel = self.channels.get(channel_id)
        if channel is None:
            return perms
        member = self.members.get(user_id)
        role_ids = set(member.roles) if member else set()
        by_key = {(o.type, o.id): o for o in channel.overwrites}
        everyone = by_key.get((0, self.id))
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for (kind, target), ow in by_key.items():
            if kind == 0 and target in role_ids:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = by_key.get((1, user_id))
        if own:
            perms = (perms & ~own.deny) | own.allow
        if not perms & PERM_VIEW_CHANNEL:
            return 0
        return perms

    def payload(
        self,
        world: World,
        *,
        full: bool = True,
        member_ids: list[int] | None = None,
    ) -> JSON:
        """The guild object; ``full`` adds the GUILD_CREATE-only fields (channels, members ...).

        ``member_ids`` limits the members listed (Discord sends only the bot itself and voice
        members unless the client has the presences intent); ``member_count`` stays the total.
        """
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500_000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "nsfw": False,
            "incidents_data": None,
        }
        if full:
            ids = list(self.members) if member_ids is None else member_ids
            data.update(
                joined_at=self.joined_at,
                large=False,
                unavailable=False,
                lazy=True,
                member_count=len(self.members),
                members=[self.members[i].payload(world) for i in ids if i in self.members],
                channels=[
                    {k: v for k, v in c.payload(world).items() if k != "guild_id"}
                    for c in self.channels.values()
                ],
                threads=[],
                presences=[],
                voice_states=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
            )
        return data


@dataclass
class World:
    """All the users, guilds and channels the fake server knows, plus the bot's application."""

    ids: IdFactory
    app_id: int
    bot_user: FakeUser
    owner_id: int
    users: dict[int, FakeUser] = field(default_factory=dict)
    guilds: dict[int, FakeGuild] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    """Every channel by id, guild channels and DM channels alike."""
    dm_channels: dict[int, FakeChannel] = field(default_factory=dict)
    """The DM channel with each user, by user id (an index into :attr:`channels`)."""

    def add_user(
        self, username: str, *, bot: bool = False, global_name: str | None = None
    ) -> FakeUser:
        """Create a user known to the server (not yet a member of any guild)."""
        user = FakeUser(self.ids.world(), username, global_name or username.title(), bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, owner_id: int | None = None) -> FakeGuild:
        """Create a guild with @everyone, Moderator and the bot's managed role, a #general
        and a #mod-log text channel under a category, and the bot and the owner as members."""
        gid = self.ids.guild()
        owner = owner_id if owner_id is not None else self.owner_id
        guild = FakeGuild(gid, name, owner)
        guild.roles[gid] = FakeRole(gid, "@everyone", EVERYONE_PERMISSIONS, position=0)
        mod = FakeRole(self.ids.world(), "Moderator", MODERATOR_PERMISSIONS, position=2, hoist=True)
        guild.roles[mod.id] = mod
        bot_role = FakeRole(
            self.ids.world(),
            self.bot_user.username,
            BOT_ROLE_PERMISSIONS,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        self.guilds[gid] = guild
        category = self.add_channel(guild, "Text Channels", type=CHANNEL_GUILD_CATEGORY)
        self.add_channel(guild, "general", parent_id=category.id, topic="General chat")
        self.add_channel(guild, "mod-log", parent_id=category.id, topic="Moderators only")
        self.add_member(guild, self.bot_user.id, roles=[bot_role.id])
        self.add_member(guild, owner)
        return guild

    def add_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        type: int = CHANNEL_GUILD_TEXT,
        parent_id: int | None = None,
        topic: str | None = None,
        overwrites: list[Overwrite] | None = None,
    ) -> FakeChannel:
        """Create a guild channel."""
        channel = FakeChannel(
            self.ids.world(),
            name,
            type=type,
            guild_id=guild.id,
            position=len(guild.channels),
            parent_id=parent_id,
            topic=topic,
            overwrites=list(overwrites or []),
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(
        self, guild: FakeGuild, user_id: int, *, roles: list[int] | None = None
    ) -> FakeMember:
        """Make a known user a member of a guild."""
        member = FakeMember(user_id, list(roles or []))
        guild.members[user_id] = member
        return member

    def dm_channel(self, user_id: int) -> FakeChannel:
        """The DM channel between the bot and a user, created on first use."""
        channel = self.dm_channels.get(user_id)
        if channel is None:
            channel = FakeChannel(self.ids.world(), "", type=CHANNEL_DM, recipient_id=user_id)
            self.channels[channel.id] = channel
            self.dm_channels[user_id] = channel
        return channel

    def guild_of(self, channel_id: int) -> FakeGuild | None:
        """The guild a channel belongs to (None for DMs and unknown channels)."""
        channel = self.channels.get(channel_id)
        if channel is None or channel.guild_id is None:
            return None
        return self.guilds.get(channel.guild_id)

    def member_payload(self, guild: FakeGuild, user_id: int, channel_id: int | None) -> JSON:
        """A member with ``user`` and the ``permissions`` string, as in interaction payloads."""
        member = guild.members[user_id]
        data = member.payload(self)
        data["permissions"] = str(guild.permissions_in(user_id, channel_id))
        return data


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)


_MENTION_USER = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE = re.compile(r"<@&(\d+)>")


@dataclass
class Pings:
    """Who a message would notify: users and roles mentioned and allowed to ping, @everyone."""

    users: list[int] = field(default_factory=list)
    roles: list[int] = field(default_factory=list)
    everyone: bool = False

    def __bool__(self) -> bool:
        return bool(self.users or self.roles or self.everyone)


def compute_pings(
    content: str,
    allowed_mentions: JSON | None,
    *,
    known_users: set[int],
    known_roles: set[int],
    replied_user: int | None = None,
) -> Pings:
    """Apply Discord's ``allowed_mentions`` rules to a message's content.

    Without ``allowed_mentions`` everything in the content pings (and a reply pings its author).
    With it, only the ``parse`` kinds and explicitly listed ids ping; a reply pings only with
    ``replied_user: true``. Embeds never ping, so only ``content`` is looked at.
    """
    user_ids = [int(u) for u in _MENTION_USER.findall(content) if int(u) in known_users]
    role_ids = [int(r) for r in _MENTION_ROLE.findall(content) if int(r) in known_roles]
    has_everyone = "@everyone" in content or "@here" in content
    if allowed_mentions is None:
        users = list(dict.fromkeys(user_ids))
        if replied_user is not None and replied_user not in users:
            users.append(replied_user)
        return Pings(users, list(dict.fromkeys(role_ids)), has_everyone)
    parse = set(allowed_mentions.get("parse") or [])
    allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
    allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
    users = [u for u in dict.fromkeys(user_ids) if "users" in parse or u in allowed_users]
    roles = [r for r in dict.fromkeys(role_ids) if "roles" in parse or r in allowed_roles]
    if (
        replied_user is not None
        and allowed_mentions.get("replied_user")
        and replied_user not in users
    ):
        users.append(replied_user)
    return Pings(users, roles, has_everyone and "everyone" in parse)
