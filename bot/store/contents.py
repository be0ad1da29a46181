"""Everything a store holds, table by table, the same on every engine: for ``sitrep copy-store``
(which copies and then verifies each table's row count and digest) and for the tests that check
a refused change left the store exactly as it was.

The columns are listed here rather than read from each engine's catalog so that the copy and
the digest compare the same columns on both; ``tests/test_contents.py`` checks the list against
both engines' schemas. ``rowid`` is SQLite's implicit row number (an explicit column on
PostgreSQL), kept so that "in the order they were added" survives a copy.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.store.sql import Database

TABLES: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "sources": ("rowid", "id", "guild_id", "origin", "outlet", "title", "author", "url", "genre",
                "published_start", "published_end", "published_precision", "published_basis",
                "published_note", "sha256", "body", "note"),
    "places": ("rowid", "id", "guild_id", "origin", "name", "kind", "parent_id", "country",
               "governorate", "lat", "lon", "geonames_id", "population", "shared_facts"),
    "place_names": ("place_id", "name", "guild_id", "origin"),
    "false_friends": ("text", "kind", "place_id", "note"),
    "facts": ("rowid", "id", "guild_id", "origin", "place_id", "source_id", "quote", "summary",
              "attribution", "hedged", "modality", "event_start", "event_end", "event_precision",
              "event_qualifier", "event_basis", "event_note", "sort_date", "as_of", "position",
              "status", "rank", "retired", "created_at", "created_by"),
    "fact_links": ("fact_id", "other_id", "kind"),
    "fact_hidden": ("guild_id", "fact_id"),
    "changes": ("id", "guild_id", "at", "actor", "action", "subject", "before", "after",
                "reverts"),
    "watches": ("guild_id", "channel_id", "place_id", "created_by", "created_at"),
    "guild_settings": ("guild_id", "modlog_channel"),
    "candidates": ("id", "guild_id", "source_id", "place_id", "quote", "position", "summary",
                   "attribution", "hedged", "hints", "event", "status", "state", "created_at",
                   "created_by", "decided_at", "decided_by", "fact_id"),
    "outbox": ("id", "change_id", "guild_id", "channel_id", "created_at", "due_at",
               "claimed_until", "claimed_by", "state", "sent_at", "attempts", "last_error"),
}
"""Every table, in an order in which each row's references come before it."""

ORDER: dict[str, str] = {
    "meta": "key", "place_names": "place_id, name, guild_id", "false_friends": "text",
    "fact_links": "fact_id, other_id, kind", "fact_hidden": "guild_id, fact_id",
    "watches": "guild_id, place_id, channel_id", "guild_settings": "guild_id",
    "changes": "id", "candidates": "id", "outbox": "id",
}
"""Each table's rows in a fixed order (its primary key; ``rowid`` where it has one)."""


def select(table: str) -> str:
    return (f"SELECT {', '.join(TABLES[table])} FROM {table} "
            f"ORDER BY {ORDER.get(table, 'rowid')}")


async def rows(db: Database, table: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await db.fetch(select(table))]


def digest(table_rows: list[tuple[Any, ...]]) -> str:
    """A digest of rows that is the same whichever engine they came from."""
    text = json.dumps(table_rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def summary(db: Database) -> dict[str, tuple[int, str]]:
    """Table -> (row count, digest): equal summaries mean equal stores."""
    out = {}
    for table in TABLES:
        found = await rows(db, table)
        out[table] = (len(found), digest(found))
    return out
