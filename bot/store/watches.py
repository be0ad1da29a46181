"""Watches (a channel follows a place's changes) and each server's settings (its mod-log channel).

Both are per server: a watch names a channel of the server that set it, and a change in one server
is never announced in another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from bot.store.db import transaction
from bot.store.writes import WriteError, now

MAX_WATCHES = 100
"""Per server: enough for any real use, few enough that one change cannot fan out into a flood."""


@dataclass(frozen=True, slots=True)
class Watch:
    channel_id: int
    place_id: str
    place_name: str


async def add_watch(conn: aiosqlite.Connection, guild: int, channel_id: int, place_id: str,
                    actor: int) -> bool:
    """Watch a place from a channel; False if that channel already watches it."""
    async with transaction(conn):
        rows = await conn.execute_fetchall("SELECT count(*) FROM watches WHERE guild_id = ?",
                                           (guild,))
        if int(next(iter(rows))[0]) >= MAX_WATCHES:
            raise WriteError(f"This server already has {MAX_WATCHES} watches; remove some first.")
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO watches(guild_id, channel_id, place_id, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)", (guild, channel_id, place_id, actor, now()))
        return cursor.rowcount == 1


async def remove_watch(conn: aiosqlite.Connection, guild: int, channel_id: int,
                       place_id: str) -> bool:
    async with transaction(conn):
        cursor = await conn.execute(
            "DELETE FROM watches WHERE guild_id = ? AND channel_id = ? AND place_id = ?",
            (guild, channel_id, place_id))
        return cursor.rowcount == 1


async def list_watches(conn: aiosqlite.Connection, guild: int) -> list[Watch]:
    rows = await conn.execute_fetchall(
        "SELECT w.channel_id, w.place_id, p.name FROM watches w JOIN places p ON p.id = w.place_id "
        "WHERE w.guild_id = ? ORDER BY p.name, w.channel_id", (guild,))
    return [Watch(int(c), str(p), str(n)) for c, p, n in rows]


async def watching(conn: aiosqlite.Connection, guild: int,
                   place_ids: Iterable[str]) -> dict[int, list[str]]:
    """Channel -> the given places it watches, in this server only."""
    ids = sorted(set(place_ids))
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = await conn.execute_fetchall(
        f"SELECT channel_id, place_id FROM watches WHERE guild_id = ? AND place_id IN ({marks}) "
        "ORDER BY channel_id, place_id", (guild, *ids))
    found: dict[int, list[str]] = {}
    for channel_id, place_id in rows:
        found.setdefault(int(channel_id), []).append(str(place_id))
    return found


async def modlog_channel(conn: aiosqlite.Connection, guild: int) -> int | None:
    rows = list(await conn.execute_fetchall(
        "SELECT modlog_channel FROM guild_settings WHERE guild_id = ?", (guild,)))
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


async def set_modlog_channel(conn: aiosqlite.Connection, guild: int, channel_id: int | None) -> None:
    async with transaction(conn):
        await conn.execute(
            "INSERT INTO guild_settings(guild_id, modlog_channel) VALUES (?, ?) "
            "ON CONFLICT(guild_id) DO UPDATE SET modlog_channel = excluded.modlog_channel",
            (guild, channel_id))
