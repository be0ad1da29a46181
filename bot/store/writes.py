"""Every change moderators make to the store, each in one transaction with its record in the
append-only change log (who, when, the subject before and after).

The log is what ``history`` lists and what ``undo`` reads: undoing a change writes the subject's
``before`` state back and logs that as a change of its own. A subject's state is a small JSON
document (``_state``), so one mechanism serves facts, names, places and sources.

Scoping rules, enforced here rather than in the front ends: a server reads and changes only shared
rows (``guild_id = 0``) and its own; a shared fact is never changed, only hidden for one server
(``fact_hidden``); ids of another server's rows behave exactly like ids that do not exist.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite
from pydantic import ValidationError

from bot.curation.load import fact_source_problems
from bot.domain.errors import Refused
from bot.domain.model import (
    DateBasis,
    DateSpec,
    Fact,
    Genre,
    Modality,
    Place,
    Precision,
    Qualifier,
    Rank,
    Source,
    Status,
)
from bot.store.build import FACT_COLUMNS, fact_row
from bot.store.db import transaction

JSON = dict[str, Any]


class WriteError(Refused):
    """A change that cannot be made; the message is a short sentence for the moderator."""


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log."""

    id: int
    guild: int
    at: str
    actor: int
    action: str
    subject: str
    before: JSON | None
    after: JSON | None
    reverts: int | None = None

    @property
    def kind(self) -> str:
        return self.subject.split(":", 1)[0]

    @property
    def key(self) -> str:
        """The subject without its kind: a fact id, a place id, "place:name" for a name."""
        return self.subject.split(":", 1)[1]

    @property
    def place_ids(self) -> set[str]:
        """The places this change is about (for watches)."""
        return {s["place"] for s in (self.before, self.after) if s and s.get("place")}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _change(row: sqlite3.Row) -> Change:
    return Change(row["id"], row["guild_id"], row["at"], row["actor"], row["action"],
                  row["subject"], json.loads(row["before"]) if row["before"] else None,
                  json.loads(row["after"]) if row["after"] else None, row["reverts"])


async def _log(conn: aiosqlite.Connection, guild: int, actor: int, action: str, subject: str,
               before: JSON | None, after: JSON | None, reverts: int | None = None) -> Change:
    at = now()
    cursor = await conn.execute(
        "INSERT INTO changes(guild_id, at, actor, action, subject, before, after, reverts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (guild, at, actor, action, subject,
         json.dumps(before, ensure_ascii=False) if before is not None else None,
         json.dumps(after, ensure_ascii=False) if after is not None else None, reverts))
    assert cursor.lastrowid is not None
    return Change(cursor.lastrowid, guild, at, actor, action, subject, before, after, reverts)


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[object] | JSON = ()
               ) -> sqlite3.Row | None:
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0] if rows else None


# ------------------------------------------------------------------------------ reading
@dataclass(frozen=True, slots=True)
class StoredFact:
    fact: Fact
    origin: str
    owner: int
    """0 for a shared fact, else the server that added it."""
    live: bool
    """Shown in the server: not retired there."""


def _event(row: sqlite3.Row) -> DateSpec:
    return DateSpec(
        start=date.fromisoformat(row["event_start"]) if row["event_start"] else None,
        end=date.fromisoformat(row["event_end"]) if row["event_end"] else None,
        precision=Precision(row["event_precision"]), qualifier=Qualifier(row["event_qualifier"]),
        basis=DateBasis(row["event_basis"]), note=row["event_note"])


async def get_fact(conn: aiosqlite.Connection, guild: int, fact_id: str) -> StoredFact | None:
    """A fact the server can see or has retired; None for unknown ids and other servers' facts."""
    row = await _one(conn, """
        SELECT f.*, EXISTS (SELECT 1 FROM fact_hidden h WHERE h.guild_id = :g
                            AND h.fact_id = f.id) AS hidden
        FROM facts f WHERE f.id = :id AND f.guild_id IN (0, :g)""", {"g": guild, "id": fact_id})
    if row is None:
        return None
    return StoredFact(fact_from_row(row), row["origin"], row["guild_id"],
                      not row["retired"] and not row["hidden"])


def fact_from_row(row: sqlite3.Row) -> Fact:
    """A ``facts`` row as a Fact, without links (``fact_links`` holds them) and without
    re-validation: the row was validated when it was written."""
    return Fact.model_construct(
        id=row["id"], place=row["place_id"], source=row["source_id"], quote=row["quote"],
        summary=row["summary"], attribution=row["attribution"], hedged=bool(row["hedged"]),
        modality=Modality(row["modality"]), event=_event(row),
        status=Status(row["status"]) if row["status"] else None, rank=Rank(row["rank"]),
        contradicts=[], supersedes=[])


@dataclass(frozen=True, slots=True)
class StoredSource:
    source: Source
    body: str | None
    owner: int


async def get_source(conn: aiosqlite.Connection, guild: int, source_id: str) -> StoredSource | None:
    row = await _one(conn, "SELECT * FROM sources WHERE id = ? AND guild_id IN (0, ?)",
                     (source_id, guild))
    if row is None:
        return None
    return StoredSource(source_from_row(row), row["body"], row["guild_id"])


def source_from_row(row: sqlite3.Row) -> Source:
    """A ``sources`` row as a Source (its text, ``body``, stays in the row)."""
    published = DateSpec(start=date.fromisoformat(row["published_start"]),
                         end=date.fromisoformat(row["published_end"]),
                         precision=Precision(row["published_precision"]),
                         basis=DateBasis(row["published_basis"]), note=row["published_note"])
    return Source.model_construct(
        id=row["id"], outlet=row["outlet"], title=row["title"], author=row["author"],
        url=row["url"], genre=Genre(row["genre"]), published=published, sha256=row["sha256"],
        note=row["note"])


async def place_exists(conn: aiosqlite.Connection, guild: int, place_id: str) -> bool:
    return await _one(conn, "SELECT 1 FROM places WHERE id = ? AND guild_id IN (0, ?)",
                      (place_id, guild)) is not None


# ------------------------------------------------------------------------------ states
def fact_state(stored: StoredFact) -> JSON:
    """What the log keeps of a fact: every field a moderator can change, and whether it is live."""
    return {**stored.fact.model_dump(mode="json", exclude={"contradicts", "supersedes"}),
            "live": stored.live, "origin": stored.origin}


def _fact_from_state(state: JSON) -> Fact:
    fields = {k: v for k, v in state.items() if k not in {"live", "origin"}}
    return Fact.model_validate(fields)


async def _subject_state(conn: aiosqlite.Connection, guild: int, subject: str) -> JSON | None:
    kind, _, key = subject.partition(":")
    if kind == "fact":
        stored = await get_fact(conn, guild, key)
        return fact_state(stored) if stored else None
    if kind == "name":
        place_id, _, name = key.partition(":")
        row = await _one(conn, "SELECT 1 FROM place_names WHERE place_id = ? AND name = ? "
                               "AND guild_id = ?", (place_id, name, guild))
        return {"place": place_id, "name": name} if row else None
    if kind == "place":
        row = await _one(conn, "SELECT * FROM places WHERE id = ? AND guild_id = ?", (key, guild))
        return _place_state(row) if row else None
    if kind == "source":
        stored_source = await get_source(conn, guild, key)
        if stored_source is None or stored_source.owner != guild:
            return None
        return _source_state(stored_source)
    raise ValueError(f"unknown subject {subject!r}")


def _place_state(row: sqlite3.Row) -> JSON:
    return {"place": row["id"], "name": row["name"], "kind": row["kind"],
            "country": row["country"], "governorate": row["governorate"], "lat": row["lat"],
            "lon": row["lon"]}


def _source_state(stored: StoredSource) -> JSON:
    src = stored.source
    return {**src.model_dump(mode="json"), "has_text": stored.body is not None}


# ------------------------------------------------------------------------------ facts
async def _check_fact(conn: aiosqlite.Connection, guild: int, fact: Fact) -> tuple[Source, int]:
    """The fact's place and source exist for this server, its quote is in the source's text
    (when the store has the text) and its date is not after the report; returns the source and
    where the quote starts."""
    if not await place_exists(conn, guild, fact.place):
        raise WriteError(f"Place: no place `{fact.place}` here.")
    stored = await get_source(conn, guild, fact.source)
    if stored is None:
        raise WriteError(f"Source: no source `{fact.source}` here; add it with `article add`.")
    for problem in fact_source_problems(fact, stored.source, stored.body):
        field, _, reason = problem.partition(": ")
        raise WriteError(f"{field.capitalize()}: {reason}.")
    position = stored.body.find(fact.quote) if fact.quote and stored.body else 0
    return stored.source, position


async def _insert_fact(conn: aiosqlite.Connection, guild: int, actor: int, fact: Fact) -> Fact:
    source, position = await _check_fact(conn, guild, fact)
    fact = fact.model_copy(update={"id": await _free_id(conn, "facts", "m")})
    marks = ", ".join("?" * len(FACT_COLUMNS.split(", ")))
    await conn.execute(f"INSERT INTO facts({FACT_COLUMNS}) VALUES ({marks})",
                       fact_row(fact, source, guild_id=guild, origin="added", created_at=now(),
                                created_by=actor, position=position))
    return fact


async def add_fact(conn: aiosqlite.Connection, guild: int, actor: int, draft: Fact,
                   action: str = "fact.add") -> Change:
    """Add a server's own fact; its id (``m<number>``) is assigned here, ``draft.id`` is ignored."""
    async with transaction(conn):
        return await _add_fact(conn, guild, actor, draft, action)


async def _add_fact(conn: aiosqlite.Connection, guild: int, actor: int, draft: Fact,
                    action: str) -> Change:
    fact = await _insert_fact(conn, guild, actor, draft)
    after = await _subject_state(conn, guild, f"fact:{fact.id}")
    return await _log(conn, guild, actor, action, f"fact:{fact.id}", None, after)


EDITABLE = {"place", "source", "quote", "summary", "attribution", "hedged", "modality", "event",
            "status"}


def revised(fact: Fact, updates: JSON) -> Fact:
    """``fact`` with ``updates`` applied, validated again as a whole."""
    unknown = set(updates) - EDITABLE
    if unknown:
        raise WriteError(f"Cannot edit {', '.join(sorted(unknown))}.")
    data = {**fact.model_dump(), **updates}
    try:
        return Fact.model_validate(data)
    except ValidationError as exc:
        raise WriteError(describe_validation(exc)) from None


def describe_validation(exc: ValidationError) -> str:
    """The first validation problem as one sentence naming the field."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "input"
    return f"{field.capitalize()}: {err['msg'].removeprefix('Value error, ')}."


async def edit_fact(conn: aiosqlite.Connection, guild: int, actor: int, fact_id: str,
                    updates: JSON) -> list[Change]:
    """Change a fact. A server's own fact is changed in place; a shared fact is never changed:
    the server gets its own edited copy and the shared one is retired for that server only (two
    log entries, so ``undo`` can take them back one at a time)."""
    async with transaction(conn):
        stored = await get_fact(conn, guild, fact_id)
        if stored is None:
            raise WriteError(f"No fact `{fact_id}` here.")
        if not stored.live:
            raise WriteError(f"Fact `{fact_id}` is retired; `fact restore {fact_id}` first.")
        new = revised(stored.fact, updates)
        if new == stored.fact:
            raise WriteError("Nothing to change: the new values are the same as the old ones.")
        if stored.owner == 0:
            retired = await _set_live(conn, guild, actor, stored, False)
            added = await _add_fact(conn, guild, actor, new, "fact.edit")
            # the copy says what the original said about other reports ("contradicts ...")
            await conn.execute("INSERT OR IGNORE INTO fact_links(fact_id, other_id, kind) "
                               "SELECT ?, other_id, kind FROM fact_links WHERE fact_id = ?",
                               (added.key, fact_id))
            return [retired, added]
        source, position = await _check_fact(conn, guild, new)
        before = fact_state(stored)
        await _write_fact(conn, new, source, position)
        after = await _subject_state(conn, guild, f"fact:{fact_id}")
        return [await _log(conn, guild, actor, "fact.edit", f"fact:{fact_id}", before, after)]


async def _write_fact(conn: aiosqlite.Connection, fact: Fact, source: Source,
                      position: int) -> None:
    columns = [c for c in FACT_COLUMNS.split(", ")]
    values = dict(zip(columns, fact_row(fact, source, guild_id=0, origin="added", created_at="",
                                        created_by=None, position=position), strict=True))
    keep = {"id", "guild_id", "origin", "created_at", "created_by"}
    sets = ", ".join(f"{c} = :{c}" for c in columns if c not in keep)
    await conn.execute(f"UPDATE facts SET {sets} WHERE id = :id", values)


async def set_fact_live(conn: aiosqlite.Connection, guild: int, actor: int, fact_id: str,
                        live: bool) -> Change:
    """Retire (``live=False``) or restore a fact for this server. A soft delete: a shared fact
    is hidden for the server only and can always be restored."""
    async with transaction(conn):
        stored = await get_fact(conn, guild, fact_id)
        if stored is None:
            raise WriteError(f"No fact `{fact_id}` here.")
        if stored.live == live:
            raise WriteError(f"Fact `{fact_id}` is already {'live' if live else 'retired'}.")
        return await _set_live(conn, guild, actor, stored, live)


async def _set_live(conn: aiosqlite.Connection, guild: int, actor: int, stored: StoredFact,
                    live: bool) -> Change:
    before = fact_state(stored)
    await _apply_live(conn, guild, stored, live)
    after = {**before, "live": live}
    return await _log(conn, guild, actor, "fact.restore" if live else "fact.retire",
                      f"fact:{stored.fact.id}", before, after)


async def _apply_live(conn: aiosqlite.Connection, guild: int, stored: StoredFact,
                      live: bool) -> None:
    if stored.owner == 0:
        if live:
            await conn.execute("DELETE FROM fact_hidden WHERE guild_id = ? AND fact_id = ?",
                               (guild, stored.fact.id))
        else:
            await conn.execute("INSERT OR IGNORE INTO fact_hidden(guild_id, fact_id) "
                               "VALUES (?, ?)", (guild, stored.fact.id))
    else:
        await conn.execute("UPDATE facts SET retired = ? WHERE id = ?",
                           (int(not live), stored.fact.id))


# ------------------------------------------------------------------------------ names, places, sources
MAX_NAME = 80


async def add_name(conn: aiosqlite.Connection, guild: int, actor: int, place_id: str,
                   name: str) -> Change:
    """Another name for a place, known in this server only."""
    async with transaction(conn):
        if not await place_exists(conn, guild, place_id):
            raise WriteError(f"Place: no place `{place_id}` here.")
        taken = await _one(conn, "SELECT place_id FROM place_names WHERE name = ? COLLATE NOCASE "
                                 "AND place_id = ? AND guild_id IN (0, ?)", (name, place_id, guild))
        if taken is not None:
            raise WriteError(f"Name: “{name}” is already a name of that place.")
        await conn.execute("INSERT INTO place_names(place_id, name, guild_id, origin) "
                           "VALUES (?, ?, ?, 'added')", (place_id, name, guild))
        subject = f"name:{place_id}:{name}"
        return await _log(conn, guild, actor, "name.add", subject, None,
                          {"place": place_id, "name": name})


async def remove_name(conn: aiosqlite.Connection, guild: int, actor: int, name: str) -> Change:
    """Remove a name this server added (shared names cannot be removed)."""
    async with transaction(conn):
        row = await _one(conn, "SELECT place_id, name FROM place_names WHERE guild_id = ? "
                               "AND name = ? COLLATE NOCASE", (guild, name))
        if row is None:
            raise WriteError(f"Name: this server has not added the name “{name}”.")
        await conn.execute("DELETE FROM place_names WHERE place_id = ? AND name = ? "
                           "AND guild_id = ?", (row["place_id"], row["name"], guild))
        return await _log(conn, guild, actor, "name.remove", f"name:{row['place_id']}:{row['name']}",
                          {"place": row["place_id"], "name": row["name"]}, None)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:50] or "x"


async def _free_id(conn: aiosqlite.Connection, table: str, base: str) -> str:
    """``base`` plus a random suffix, free in the whole store. Random rather than counted or
    numbered on collision: a counter or a "-2" would tell one server what others added."""
    while True:
        candidate = f"{base}{secrets.token_hex(3)}"
        if await _one(conn, f"SELECT 1 FROM {table} WHERE id = ?", (candidate,)) is None:
            return candidate


async def add_place(conn: aiosqlite.Connection, guild: int, actor: int, place: Place) -> Change:
    """A new place known in this server only; its id is made from its name."""
    async with transaction(conn):
        place_id = await insert_place(conn, guild, place)
        after = await _subject_state(conn, guild, f"place:{place_id}")
        return await _log(conn, guild, actor, "place.add", f"place:{place_id}", None, after)


async def insert_place(conn: aiosqlite.Connection, guild: int, place: Place) -> str:
    """Write a server's place under a new id made from its name (``place.id`` is ignored) and
    return that id; the caller holds the transaction and logs the change."""
    # "_m" keeps added ids apart from curated ones (hyphenated slugs), so that a place curated
    # later under the same name never collides with one a server added
    place_id = await _free_id(conn, "places", f"{slug(place.name)}_")
    await conn.execute(
        "INSERT INTO places(id, guild_id, origin, name, kind, parent_id, country, governorate, "
        "lat, lon, geonames_id) VALUES (?, ?, 'added', ?, ?, ?, ?, ?, ?, ?, ?)",
        (place_id, guild, place.name, place.kind.value, place.parent, place.country,
         place.governorate, place.lat, place.lon, place.geonames_id))
    return place_id


async def add_source(conn: aiosqlite.Connection, guild: int, actor: int, source: Source,
                     body: str | None = None) -> Change:
    """Register an article for this server; ``body`` is its text when a moderator supplied it
    (ingest), against which quotes are then checked word for word."""
    async with transaction(conn):
        return await _add_source(conn, guild, actor, source, body)


async def _add_source(conn: aiosqlite.Connection, guild: int, actor: int, source: Source,
                      body: str | None) -> Change:
    source_id = await insert_source(conn, guild, source, body)
    after = await _subject_state(conn, guild, f"source:{source_id}")
    return await _log(conn, guild, actor, "source.add", f"source:{source_id}", None, after)


async def insert_source(conn: aiosqlite.Connection, guild: int, source: Source,
                        body: str | None) -> str:
    """Write a server's source under a new id made from its date and outlet (``source.id`` is
    ignored) and return that id; the caller holds the transaction and logs the change."""
    pub = source.published
    assert pub.start is not None and pub.end is not None
    source_id = await _free_id(conn, "sources", f"{pub.start.isoformat()}-{slug(source.outlet)}-")
    await conn.execute(
        "INSERT INTO sources(id, guild_id, origin, outlet, title, author, url, genre, "
        "published_start, published_end, published_precision, published_basis, published_note, "
        "sha256, body, note) VALUES (?, ?, 'added', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (source_id, guild, source.outlet, source.title, source.author, source.url,
         source.genre.value, pub.start.isoformat(), pub.end.isoformat(), pub.precision.value,
         pub.basis.value, pub.note, source.sha256, body, source.note))
    return source_id


# ------------------------------------------------------------------------------ history, undo
async def history(conn: aiosqlite.Connection, guild: int, subject: str,
                  limit: int = 50) -> list[Change]:
    """The subject's changes in this server, oldest first."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM (SELECT * FROM changes WHERE guild_id = ? AND subject = ? "
        "ORDER BY id DESC LIMIT ?) ORDER BY id", (guild, subject, limit))
    return [_change(r) for r in rows]


async def recent_changes(conn: aiosqlite.Connection, guild: int, limit: int = 20) -> list[Change]:
    rows = await conn.execute_fetchall(
        "SELECT * FROM changes WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild, limit))
    return [_change(r) for r in rows]


async def undo(conn: aiosqlite.Connection, guild: int, actor: int) -> Change:
    """Revert this moderator's latest change that is not yet reverted, unless someone changed
    the same subject since (then the moderator should edit instead, not clobber it)."""
    async with transaction(conn):
        row = await _one(conn, """
            SELECT * FROM changes c WHERE c.guild_id = ? AND c.actor = ? AND c.reverts IS NULL
              AND NOT EXISTS (SELECT 1 FROM changes u WHERE u.reverts = c.id)
            ORDER BY c.id DESC LIMIT 1""", (guild, actor))
        if row is None:
            raise WriteError("Nothing to undo: you have no change left to revert here.")
        change = _change(row)
        # Later changes of the subject that still stand (neither undos nor undone) would be lost
        later = await _one(conn, """
            SELECT 1 FROM changes c WHERE c.guild_id = ? AND c.subject = ? AND c.id > ?
              AND c.reverts IS NULL AND NOT EXISTS (SELECT 1 FROM changes u WHERE u.reverts = c.id)
            """, (guild, change.subject, change.id))
        if later is not None:
            raise WriteError(f"Cannot undo your last change ({describe(change)}): it was changed "
                             "again since. Look at its history and edit it instead.")
        current = await _subject_state(conn, guild, change.subject)
        await _restore_state(conn, guild, actor, change.subject, change.before)
        restored = await _subject_state(conn, guild, change.subject)
        return await _log(conn, guild, actor, "undo", change.subject, current, restored,
                          reverts=change.id)


async def _restore_state(conn: aiosqlite.Connection, guild: int, actor: int, subject: str,
                         state: JSON | None) -> None:
    kind, _, key = subject.partition(":")
    if kind == "fact":
        stored = await get_fact(conn, guild, key)
        if stored is None:  # a shared fact a rebuild removed, or one removed with its source
            raise WriteError(f"Cannot undo: fact `{key}` no longer exists.")
        if state is None:  # undoing an addition retires the fact
            await _apply_live(conn, guild, stored, False)
            return
        if stored.owner != 0:
            fact = _fact_from_state(state)
            source, position = await _check_fact(conn, guild, fact)
            await _write_fact(conn, fact, source, position)
        await _apply_live(conn, guild, stored, bool(state["live"]))
    elif kind == "name":
        place_id, _, name = key.partition(":")
        if state is None:
            await conn.execute("DELETE FROM place_names WHERE place_id = ? AND name = ? "
                               "AND guild_id = ?", (place_id, name, guild))
        else:
            await conn.execute("INSERT OR IGNORE INTO place_names(place_id, name, guild_id, origin) "
                               "VALUES (?, ?, ?, 'added')", (place_id, name, guild))
    elif kind in {"place", "source"}:
        if state is not None:
            raise WriteError("Cannot restore a removed place or source.")
        await _remove_unused(conn, guild, kind, key)


async def _remove_unused(conn: aiosqlite.Connection, guild: int, kind: str, key: str) -> None:
    """Undo adding a place or source: refused while a live fact or a pending candidate uses it;
    otherwise it goes, with what only pointed at it and is already dead in this server (retired
    own facts, decided candidates), whose every version stays in the change log."""
    column = "place_id" if kind == "place" else "source_id"
    used = await _one(conn, f"SELECT 1 FROM facts WHERE {column} = :k AND retired = 0 UNION ALL "
                            f"SELECT 1 FROM candidates WHERE {column} = :k AND state = 'pending'",
                      {"k": key})
    if used is not None:
        raise WriteError(f"Cannot undo adding {kind} `{key}` yet: live facts or pending "
                         "candidates use it. Retire or reject them first, then `undo` again.")
    await conn.execute(f"DELETE FROM candidates WHERE {column} = ? AND guild_id = ?", (key, guild))
    await conn.execute(f"DELETE FROM facts WHERE {column} = ? AND guild_id = ? AND retired = 1",
                       (key, guild))
    table = "places" if kind == "place" else "sources"
    await conn.execute(f"DELETE FROM {table} WHERE id = ? AND guild_id = ?", (key, guild))


ACTION_WORDS = {"fact.add": "added", "fact.edit": "edited", "fact.retire": "retired",
                "fact.restore": "restored", "name.add": "added", "name.remove": "removed",
                "place.add": "added", "source.add": "added", "undo": "reverted",
                "import": "imported", "review.approve": "approved"}


def describe(change: Change) -> str:
    """"fact m12 edited", "name “Mossul” of mosul added": one line for replies and the mod-log."""
    verb = ACTION_WORDS.get(change.action, change.action)
    if change.kind == "name":
        place_id, _, name = change.key.partition(":")
        return f"name “{name}” of `{place_id}` {verb}"
    return f"{change.kind} `{change.key}` {verb}"
