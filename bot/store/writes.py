"""The write side of the store: the primitives the services compose into changes, written once
against ``bot.store.sql.Database`` for every engine.

Only SQL and rows live here. What a change may do (copy-on-edit of shared facts, undo and its
conflicts, what may be edited) is decided in ``bot.domain.moderation`` and carried out by
``bot.services.moderation``, one ``transaction()`` per change. Every read and write is scoped to
one server: shared rows (server 0) and its own; another server's ids behave like unknown ids.

A moderator is told "done" only after the commit, and the commit is durable: SQLite's writer
runs with ``synchronous=FULL``, PostgreSQL commits through its write-ahead log. Changes are rare,
so the extra fsync per change costs nothing anyone notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from bot.domain.changes import JSON, SHARED, Change
from bot.domain.model import (
    DateBasis,
    DateSpec,
    Fact,
    FactView,
    Genre,
    Modality,
    Place,
    PlaceKind,
    Precision,
    Qualifier,
    Rank,
    Source,
    Status,
)
from bot.domain.moderation import (
    StoredFact,
    StoredSource,
    fact_state,
    name_state,
    place_state,
    source_state,
)
from bot.domain.review import ReviewItem, ReviewState
from bot.domain.watches import Watch
from bot.store.build import FACT_COLUMNS, fact_row
from bot.store.outbox import enqueue
from bot.store.queries import FACT_JOINS, VISIBLE, FactViews, change_from_row, fact_fields
from bot.store.sql import Database, Params, Row


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:50] or "x"


def _event(row: Row) -> DateSpec:
    return DateSpec(
        start=date.fromisoformat(row["event_start"]) if row["event_start"] else None,
        end=date.fromisoformat(row["event_end"]) if row["event_end"] else None,
        precision=Precision(row["event_precision"]), qualifier=Qualifier(row["event_qualifier"]),
        basis=DateBasis(row["event_basis"]), note=row["event_note"])


def fact_from_row(row: Row) -> Fact:
    """A ``facts`` row as a Fact, without links (``fact_links`` holds them) and without
    re-validation: the row was validated when it was written."""
    return Fact.model_construct(
        id=row["id"], place=row["place_id"], source=row["source_id"], quote=row["quote"],
        summary=row["summary"], attribution=row["attribution"], hedged=bool(row["hedged"]),
        modality=Modality(row["modality"]), event=_event(row),
        status=Status(row["status"]) if row["status"] else None, rank=Rank(row["rank"]),
        contradicts=[], supersedes=[])


def source_from_row(row: Row) -> Source:
    """A ``sources`` row as a Source (its text, ``body``, stays in the row)."""
    published = DateSpec(start=date.fromisoformat(row["published_start"]),
                         end=date.fromisoformat(row["published_end"]),
                         precision=Precision(row["published_precision"]),
                         basis=DateBasis(row["published_basis"]), note=row["published_note"])
    return Source.model_construct(
        id=row["id"], outlet=row["outlet"], title=row["title"], author=row["author"],
        url=row["url"], genre=Genre(row["genre"]), published=published, sha256=row["sha256"],
        note=row["note"])


def place_from_row(row: Row) -> Place:
    return Place.model_construct(
        id=row["id"], name=row["name"], kind=PlaceKind(row["kind"]), parent=row["parent_id"],
        country=row["country"], governorate=row["governorate"], lat=row["lat"], lon=row["lon"],
        geonames_id=row["geonames_id"], names=[], note=None)


def _review_item(row: Row) -> ReviewItem:
    return ReviewItem(row["id"], row["source_id"], row["place_id"], row["place_name"],
                      row["quote"], row["summary"], row["attribution"], bool(row["hedged"]),
                      DateSpec.model_validate_json(row["event"]), row["status"],
                      json.loads(row["hints"]), row["state"], row["fact_id"])


REVIEW_SELECT = (
    "SELECT c.*, p.name || coalesce(' (' || p.governorate || ', ' || p.country || ')', "
    "' (' || p.country || ')', '') AS place_name "
    "FROM candidates c JOIN places p ON p.id = c.place_id WHERE c.guild_id = :g")


class Rows:
    """Reads shared by the writer (inside a change) and the answers' side (history, the queue,
    watches): the same SQL on either, and on every engine."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        return await self.db.fetchrow(sql, params)

    async def get_fact(self, guild: int, fact_id: str) -> StoredFact | None:
        """A fact the server can see or has retired; None for unknown ids and other servers'."""
        row = await self.one("""
            SELECT f.*, EXISTS (SELECT 1 FROM fact_hidden h WHERE h.guild_id = :g
                                AND h.fact_id = f.id) AS hidden
            FROM facts f WHERE f.id = :id AND f.guild_id IN (0, :g)""",
            {"g": guild, "id": fact_id})
        if row is None:
            return None
        return StoredFact(fact_from_row(row), row["origin"], row["guild_id"],
                          not row["retired"] and not row["hidden"])

    async def get_source(self, guild: int, source_id: str) -> StoredSource | None:
        row = await self.one("SELECT * FROM sources WHERE id = ? AND guild_id IN (0, ?)",
                             (source_id, guild))
        if row is None:
            return None
        return StoredSource(source_from_row(row), row["body"], row["guild_id"])

    async def source_ids(self, guild: int) -> list[str]:
        rows = await self.db.fetch(
            "SELECT id FROM sources WHERE guild_id IN (0, ?) ORDER BY published_start, id",
            (guild,))
        return [str(r[0]) for r in rows]

    async def get_place(self, guild: int, place_id: str, *, own: bool = False) -> Place | None:
        """A place the server knows (``own``: one it added itself)."""
        row = await self.one(
            "SELECT * FROM places WHERE id = :id AND guild_id IN (:own, :g)",
            {"id": place_id, "g": guild, "own": guild if own else SHARED})
        return place_from_row(row) if row else None

    async def has_name(self, guild: int, place_id: str, name: str) -> bool:
        """Whether the place already goes by this name here (shared or own, ignoring case)."""
        return await self.one(
            "SELECT 1 FROM place_names WHERE lower(name) = lower(?) AND place_id = ? "
            "AND guild_id IN (0, ?)", (name, place_id, guild)) is not None

    async def own_name(self, guild: int, name: str) -> tuple[str, str] | None:
        """(place id, the name as stored) of a name this server added, ignoring case."""
        row = await self.one("SELECT place_id, name FROM place_names WHERE guild_id = ? "
                             "AND lower(name) = lower(?)", (guild, name))
        return (str(row["place_id"]), str(row["name"])) if row else None

    async def subject_state(self, guild: int, subject: str) -> JSON | None:
        """The subject's state as the change log keeps it, or None when it does not exist here."""
        kind, _, key = subject.partition(":")
        if kind == "fact":
            stored = await self.get_fact(guild, key)
            return fact_state(stored) if stored else None
        if kind == "name":
            place_id, _, name = key.partition(":")
            row = await self.one("SELECT 1 FROM place_names WHERE place_id = ? AND name = ? "
                                 "AND guild_id = ?", (place_id, name, guild))
            return name_state(place_id, name) if row else None
        if kind == "place":
            place = await self.get_place(guild, key, own=True)
            return place_state(place) if place else None
        if kind == "source":
            source = await self.get_source(guild, key)
            return source_state(source) if source and source.owner == guild else None
        raise ValueError(f"unknown subject {subject!r}")

    # -------------------------------------------------------------------------- a server's layer
    async def own_sources(self, guild: int) -> list[StoredSource]:
        rows = await self.db.fetch(
            "SELECT * FROM sources WHERE guild_id = ? ORDER BY rowid", (guild,))
        return [StoredSource(source_from_row(r), r["body"], guild) for r in rows]

    async def own_places(self, guild: int) -> list[Place]:
        rows = await self.db.fetch(
            "SELECT * FROM places WHERE guild_id = ? ORDER BY rowid", (guild,))
        return [place_from_row(r) for r in rows]

    async def own_names(self, guild: int) -> list[tuple[str, str]]:
        rows = await self.db.fetch(
            "SELECT place_id, name FROM place_names WHERE guild_id = ? ORDER BY place_id, name",
            (guild,))
        return [(str(p), str(n)) for p, n in rows]

    async def own_facts(self, guild: int) -> list[tuple[Fact, bool]]:
        """The server's own facts with their links, and whether each is live."""
        rows = await self.db.fetch(
            "SELECT * FROM facts WHERE guild_id = ? ORDER BY rowid", (guild,))
        links = await self.db.fetch(
            "SELECT l.fact_id, l.other_id, l.kind FROM fact_links l JOIN facts f "
            "ON f.id = l.fact_id WHERE f.guild_id = ? ORDER BY l.fact_id, l.kind, l.other_id",
            (guild,))
        linked: dict[tuple[str, str], list[str]] = {}
        for fact_id, other_id, kind in links:
            linked.setdefault((fact_id, kind), []).append(other_id)
        return [(fact_from_row(r).model_copy(update={
                    "contradicts": linked.get((r["id"], "contradicts"), []),
                    "supersedes": linked.get((r["id"], "supersedes"), [])}), not r["retired"])
                for r in rows]

    async def hidden_shared(self, guild: int) -> list[str]:
        """The shared facts the server retired for itself."""
        rows = await self.db.fetch(
            "SELECT h.fact_id FROM fact_hidden h JOIN facts f ON f.id = h.fact_id "
            "WHERE h.guild_id = ? AND f.guild_id = 0 ORDER BY h.fact_id", (guild,))
        return [str(r[0]) for r in rows]

    async def visible_facts(self, guild: int) -> list[tuple[FactView, float | None, float | None]]:
        """Every fact the server sees, as answers show them, oldest event first, with its
        place's coordinates."""
        rows = await self.db.fetch(
            f"SELECT {fact_fields(self.db.dialect)}, p.lat AS p_lat, p.lon AS p_lon "
            f"FROM facts f {FACT_JOINS} "
            f"WHERE {VISIBLE} ORDER BY f.sort_date, f.as_of, f.place_id, f.position, f.id",
            {"guild": guild})
        view = FactViews()
        return [(view(r), r["p_lat"], r["p_lon"]) for r in rows]

    # -------------------------------------------------------------------------- the change log
    async def history(self, guild: int, subject: str, limit: int = 50) -> list[Change]:
        """The subject's changes in this server, oldest first."""
        rows = await self.db.fetch(
            "SELECT * FROM (SELECT * FROM changes WHERE guild_id = ? AND subject = ? "
            "ORDER BY id DESC LIMIT ?) latest ORDER BY id", (guild, subject, limit))
        return [change_from_row(r) for r in rows]

    async def recent_changes(self, guild: int, limit: int = 20) -> list[Change]:
        rows = await self.db.fetch(
            "SELECT * FROM changes WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild, limit))
        return [change_from_row(r) for r in rows]

    async def latest_undoable(self, guild: int, actor: int) -> Change | None:
        """The actor's latest change here that is not an undo and not yet undone."""
        row = await self.one("""
            SELECT * FROM changes c WHERE c.guild_id = ? AND c.actor = ? AND c.reverts IS NULL
              AND NOT EXISTS (SELECT 1 FROM changes u WHERE u.reverts = c.id)
            ORDER BY c.id DESC LIMIT 1""", (guild, actor))
        return change_from_row(row) if row else None

    async def changed_since(self, change: Change) -> bool:
        """Whether a later change of the same subject still stands (neither an undo nor undone)."""
        return await self.one("""
            SELECT 1 FROM changes c WHERE c.guild_id = ? AND c.subject = ? AND c.id > ?
              AND c.reverts IS NULL AND NOT EXISTS (SELECT 1 FROM changes u WHERE u.reverts = c.id)
            """, (change.guild, change.subject, change.id)) is not None

    # -------------------------------------------------------------------------- the review queue
    async def review_items(self, guild: int, limit: int = 25) -> list[ReviewItem]:
        rows = await self.db.fetch(
            f"{REVIEW_SELECT} AND c.state = 'pending' ORDER BY c.id LIMIT :n",
            {"g": guild, "n": limit})
        return [_review_item(r) for r in rows]

    async def count_pending(self, guild: int) -> int:
        rows = await self.db.fetch(
            "SELECT count(*) FROM candidates WHERE guild_id = ? AND state = 'pending'", (guild,))
        return int(next(iter(rows))[0])

    async def review_item(self, guild: int, item_id: int) -> ReviewItem | None:
        row = await self.one(f"{REVIEW_SELECT} AND c.id = :id", {"g": guild, "id": item_id})
        return _review_item(row) if row else None

    # -------------------------------------------------------------------------- watches, mod-log
    async def watches(self, guild: int) -> list[Watch]:
        rows = await self.db.fetch(
            "SELECT w.channel_id, w.place_id, p.name FROM watches w JOIN places p "
            "ON p.id = w.place_id WHERE w.guild_id = ? ORDER BY p.name, w.channel_id", (guild,))
        return [Watch(int(c), str(p), str(n)) for c, p, n in rows]

    async def watching(self, guild: int, place_ids: Iterable[str]) -> dict[int, list[str]]:
        """Channel -> the given places it watches, in this server only."""
        ids = sorted(set(place_ids))
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = await self.db.fetch(
            f"SELECT channel_id, place_id FROM watches WHERE guild_id = ? AND place_id IN "
            f"({marks}) ORDER BY channel_id, place_id", (guild, *ids))
        found: dict[int, list[str]] = {}
        for channel_id, place_id in rows:
            found.setdefault(int(channel_id), []).append(str(place_id))
        return found

    async def count_watches(self, guild: int) -> int:
        rows = await self.db.fetch("SELECT count(*) FROM watches WHERE guild_id = ?",
                                                (guild,))
        return int(next(iter(rows))[0])

    async def modlog_channel(self, guild: int) -> int | None:
        row = await self.one("SELECT modlog_channel FROM guild_settings WHERE guild_id = ?",
                             (guild,))
        return int(row[0]) if row and row[0] is not None else None


class SqlWriter(Rows):
    """The writer. ``transaction()`` is the unit of a change: one at a time in this process (a
    lock; each engine also serialises writers across processes), all or nothing, and the
    engine's errors about the store itself raised as one-line ``StoreError``s."""

    def __init__(self, db: Database, close: Callable[[], Awaitable[None]] | None = None,
                 lock: asyncio.Lock | None = None) -> None:
        super().__init__(db)
        self._close = close
        self._lock = lock or asyncio.Lock()

    async def close(self) -> None:
        if self._close is not None:
            await self._close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlWriter]:
        async with self._lock, self.db.transaction() as tx:
            yield SqlWriter(tx, lock=self._lock)

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlWriter]:
        """A read transaction under the write lock: every section of an export comes from one
        state of the store, even while the bot writes, and no export collides with a change."""
        async with self._lock, self.db.snapshot() as tx:
            yield SqlWriter(tx, lock=self._lock)

    # -------------------------------------------------------------------------- the change log
    async def log(self, guild: int, actor: int, action: str, subject: str, before: JSON | None,
                  after: JSON | None, reverts: int | None = None) -> Change:
        at = now()
        row = await self.db.fetchrow(
            "INSERT INTO changes(guild_id, at, actor, action, subject, before, after, reverts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (guild, at, actor, action, subject,
             json.dumps(before, ensure_ascii=False) if before is not None else None,
             json.dumps(after, ensure_ascii=False) if after is not None else None, reverts))
        assert row is not None
        change = Change(int(row[0]), guild, at, actor, action, subject, before, after, reverts)
        await enqueue(self.db, change)  # its posts commit with it, or neither does
        return change

    async def _free_id(self, table: str, base: str) -> str:
        """``base`` plus a random suffix, free in the whole store. Random rather than counted or
        numbered on collision: a counter or a "-2" would tell one server what others added."""
        while True:
            candidate = f"{base}{secrets.token_hex(3)}"
            if await self.one(f"SELECT 1 FROM {table} WHERE id = ?", (candidate,)) is None:
                return candidate

    # -------------------------------------------------------------------------- facts
    @staticmethod
    def _position(fact: Fact, source: StoredSource) -> int:
        """Where the quote starts in the article: facts of one date keep the article's order."""
        return source.body.find(fact.quote) if fact.quote and source.body else 0

    async def insert_fact(self, guild: int, actor: int, fact: Fact,
                          source: StoredSource) -> Fact:
        """Write a server's own fact under a new id (``m<hex>``; ``fact.id`` is ignored)."""
        fact = fact.model_copy(update={"id": await self._free_id("facts", "m")})
        marks = ", ".join("?" * len(FACT_COLUMNS.split(", ")))
        await self.db.execute(
            f"INSERT INTO facts({FACT_COLUMNS}) VALUES ({marks})",
            fact_row(fact, source.source, guild_id=guild, origin="added", created_at=now(),
                     created_by=actor, position=self._position(fact, source)))
        return fact

    async def update_fact(self, fact: Fact, source: StoredSource) -> None:
        """Rewrite a server's own fact's fields (never a shared fact: the rules hide those)."""
        columns = FACT_COLUMNS.split(", ")
        values = dict(zip(columns, fact_row(fact, source.source, guild_id=0, origin="added",
                                            created_at="", created_by=None,
                                            position=self._position(fact, source)), strict=True))
        keep = {"id", "guild_id", "origin", "created_at", "created_by"}
        sets = ", ".join(f"{c} = :{c}" for c in columns if c not in keep)
        await self.db.execute(f"UPDATE facts SET {sets} WHERE id = :id AND guild_id <> 0",
                                values)

    async def set_fact_live(self, guild: int, stored: StoredFact, live: bool) -> None:
        """Retire or restore for this server: a shared fact through ``fact_hidden`` (hidden for
        this server only), the server's own fact through its ``retired`` flag."""
        if stored.shared:
            if live:
                await self.db.execute(
                    "DELETE FROM fact_hidden WHERE guild_id = ? AND fact_id = ?",
                    (guild, stored.fact.id))
            else:
                await self.db.execute(
                    "INSERT INTO fact_hidden(guild_id, fact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (guild, stored.fact.id))
        else:
            await self.db.execute("UPDATE facts SET retired = ? WHERE id = ? AND guild_id = ?",
                                    (int(not live), stored.fact.id, guild))

    async def set_retired(self, guild: int, fact_ids: Sequence[str]) -> None:
        await self.db.executemany("UPDATE facts SET retired = 1 WHERE id = ? AND guild_id = ?",
                                    [(f, guild) for f in fact_ids])

    async def copy_links(self, from_id: str, to_id: str) -> None:
        """The copy says what the original said about other reports ("contradicts ...")."""
        await self.db.execute("INSERT INTO fact_links(fact_id, other_id, kind) "
                             "SELECT ?, other_id, kind FROM fact_links WHERE fact_id = ? "
                             "ON CONFLICT DO NOTHING",
                                (to_id, from_id))

    async def add_links(self, links: Iterable[tuple[str, str, str]]) -> None:
        await self.db.executemany("INSERT INTO fact_links(fact_id, other_id, kind) "
                                  "VALUES (?, ?, ?) ON CONFLICT DO NOTHING", list(links))

    # -------------------------------------------------------------------------- names, places, sources
    async def insert_name(self, guild: int, place_id: str, name: str) -> None:
        await self.db.execute("INSERT INTO place_names(place_id, name, guild_id, origin) "
                              "VALUES (?, ?, ?, 'added') ON CONFLICT DO NOTHING",
                              (place_id, name, guild))

    async def delete_name(self, guild: int, place_id: str, name: str) -> None:
        await self.db.execute("DELETE FROM place_names WHERE place_id = ? AND name = ? "
                                "AND guild_id = ?", (place_id, name, guild))

    async def insert_place(self, guild: int, place: Place) -> str:
        """Write a server's place under a new id made from its name (``place.id`` is ignored)."""
        # "_" keeps added ids apart from curated ones (hyphenated slugs), so that a place curated
        # later under the same name never collides with one a server added
        place_id = await self._free_id("places", f"{slug(place.name)}_")
        await self.db.execute(
            "INSERT INTO places(id, guild_id, origin, name, kind, parent_id, country, "
            "governorate, lat, lon, geonames_id) VALUES (?, ?, 'added', ?, ?, ?, ?, ?, ?, ?, ?)",
            (place_id, guild, place.name, place.kind.value, place.parent, place.country,
             place.governorate, place.lat, place.lon, place.geonames_id))
        return place_id

    async def insert_source(self, guild: int, source: Source, body: str | None) -> str:
        """Write a server's source under a new id made from its date and outlet."""
        pub = source.published
        assert pub.start is not None and pub.end is not None
        source_id = await self._free_id("sources",
                                        f"{pub.start.isoformat()}-{slug(source.outlet)}-")
        await self.db.execute(
            "INSERT INTO sources(id, guild_id, origin, outlet, title, author, url, genre, "
            "published_start, published_end, published_precision, published_basis, "
            "published_note, sha256, body, note) "
            "VALUES (?, ?, 'added', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source_id, guild, source.outlet, source.title, source.author, source.url,
             source.genre.value, pub.start.isoformat(), pub.end.isoformat(),
             pub.precision.value, pub.basis.value, pub.note, source.sha256, body, source.note))
        return source_id

    async def in_use(self, kind: str, key: str) -> bool:
        """Whether a live fact or a pending candidate uses the place or source."""
        column = "place_id" if kind == "place" else "source_id"
        return await self.one(
            f"SELECT 1 FROM facts WHERE {column} = :k AND retired = 0 UNION ALL "
            f"SELECT 1 FROM candidates WHERE {column} = :k AND state = 'pending'",
            {"k": key}) is not None

    async def remove_unused(self, guild: int, kind: str, key: str) -> None:
        """Remove a server's place or source with what only pointed at it and is already dead
        there (retired own facts, decided candidates), whose every version stays in the log."""
        column = "place_id" if kind == "place" else "source_id"
        await self.db.execute(f"DELETE FROM candidates WHERE {column} = ? AND guild_id = ?",
                                (key, guild))
        await self.db.execute(
            f"DELETE FROM facts WHERE {column} = ? AND guild_id = ? AND retired = 1", (key, guild))
        table = "places" if kind == "place" else "sources"
        await self.db.execute(f"DELETE FROM {table} WHERE id = ? AND guild_id = ?", (key, guild))

    # -------------------------------------------------------------------------- review queue
    async def queue(self, guild: int, actor: int, source_id: str,
                    items: Sequence[dict[str, Any]]) -> int:
        """Queue proposed facts (``place_id``, ``quote``, ``position``, ``summary``,
        ``attribution``, ``hedged``, ``hints``, ``event``, ``status``) for review."""
        at = now()
        await self.db.executemany(
            "INSERT INTO candidates(guild_id, source_id, place_id, quote, position, summary, "
            "attribution, hedged, hints, event, status, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(guild, source_id, i["place_id"], i["quote"], i["position"], i["summary"],
              i["attribution"], int(i["hedged"]), json.dumps(i["hints"]),
              i["event"].model_dump_json(), i["status"], at, actor) for i in items])
        return len(items)

    async def decide(self, item_id: int, actor: int, state: ReviewState,
                     fact_id: str | None = None) -> None:
        await self.db.execute(
            "UPDATE candidates SET state = ?, decided_at = ?, decided_by = ?, fact_id = ? "
            "WHERE id = ?", (state.value, now(), actor, fact_id, item_id))

    # -------------------------------------------------------------------------- watches, mod-log
    async def add_watch(self, guild: int, channel_id: int, place_id: str, actor: int) -> bool:
        return await self.db.execute(
            "INSERT INTO watches(guild_id, channel_id, place_id, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (guild, channel_id, place_id, actor, now())) == 1

    async def remove_watch(self, guild: int, channel_id: int, place_id: str) -> bool:
        return await self.db.execute(
            "DELETE FROM watches WHERE guild_id = ? AND channel_id = ? AND place_id = ?",
            (guild, channel_id, place_id)) == 1

    async def set_modlog_channel(self, guild: int, channel_id: int | None) -> None:
        await self.db.execute(
            "INSERT INTO guild_settings(guild_id, modlog_channel) VALUES (?, ?) "
            "ON CONFLICT(guild_id) DO UPDATE SET modlog_channel = excluded.modlog_channel",
            (guild, channel_id))
