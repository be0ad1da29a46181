"""Read queries over the store, written once for every engine against ``bot.store.sql.Database``.
All SQL the answers need lives here (full-text search aside: each engine has its own), so nothing
above this layer knows about tables, and every query filters by server: shared rows
(``guild_id = 0``) plus the asking server's own, never another server's.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from bot.domain.changes import Change
from bot.domain.model import (
    DateBasis,
    DateSpec,
    FactView,
    PlaceCounts,
    PlaceRef,
    Precision,
    Qualifier,
    SourceRef,
)
from bot.domain.shards import Shards
from bot.resolve import NameEntry
from bot.store.schema import LIVE, SHARED_LIVE
from bot.store.sql import Database, Dialect, Row

FACT_FIELDS = """
f.id, f.summary, f.quote, f.status, f.attribution, f.hedged, f.modality, f.event_start,
       f.event_end, f.event_precision, f.event_qualifier, f.event_basis, f.event_note, f.as_of,
       f.rank, f.origin,
       p.id AS p_id, p.name AS p_name, p.country AS p_country, p.governorate AS p_gov,
       p.kind AS p_kind,
       s.id AS s_id, s.outlet, s.title, s.genre, s.author, s.url, s.published_start,
       s.published_end, s.published_precision,
       (SELECT {joined} FROM fact_links l
         WHERE l.fact_id = f.id AND l.kind = 'contradicts') AS contradicts
"""
FACT_JOINS = "JOIN places p ON p.id = f.place_id JOIN sources s ON s.id = f.source_id"


@functools.cache
def fact_fields(dialect: Dialect) -> str:
    """The columns of a ``FactView``, with the ids of the facts it contradicts joined by commas."""
    return FACT_FIELDS.format(joined=dialect.joined("l.other_id"))


def fact_select(dialect: Dialect) -> str:
    return f"SELECT {fact_fields(dialect)} FROM facts f {FACT_JOINS}"

def change_from_row(row: Row) -> Change:
    """A ``changes`` row as the log's entry."""
    return Change(row["id"], row["guild_id"], row["at"], row["actor"], row["action"],
                  row["subject"], json.loads(row["before"]) if row["before"] else None,
                  json.loads(row["after"]) if row["after"] else None, row["reverts"])


def on_shards(column: str, shards: Shards) -> str:
    """SQL that holds for rows whose server ``column`` lives on one of ``shards``: Discord's
    rule, computed as ``bot.domain.shards.shard_of`` computes it (snowflakes are positive, so
    the shift and the remainder agree on both engines and in Python). The numbers are written
    into the text: they are integers by type, and the same for every statement of a process."""
    ids = ", ".join(str(int(i)) for i in shards.ids)
    return f"(({column} >> 22) % {int(shards.count)}) IN ({ids})"


VISIBLE = (f"f.guild_id IN (0, :guild) AND {LIVE} AND NOT EXISTS "
           "(SELECT 1 FROM fact_hidden h WHERE h.guild_id = :guild AND h.fact_id = f.id)")
"""What a server sees: the shared facts it has not retired for itself, and its own live facts."""


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def source_ref(row: Row) -> SourceRef:
    start, end = _day(row["published_start"]), _day(row["published_end"])
    assert start is not None and end is not None
    published = DateSpec.model_construct(start=start, end=end,
                                         precision=Precision(row["published_precision"]))
    return SourceRef.model_construct(
        id=row["s_id"], outlet=row["outlet"], title=row["title"], genre=row["genre"],
        author=row["author"], url=row["url"], published=published.middle.isoformat(),
        published_label=published.publication_label)


def place_ref(row: Row, prefix: str = "p_") -> PlaceRef:
    return PlaceRef.model_construct(
        id=row[f"{prefix}id"], name=row[f"{prefix}name"], country=row[f"{prefix}country"],
        governorate=row[f"{prefix}gov"], kind=row[f"{prefix}kind"])


class FactViews:
    """Turns rows into ``FactView``s. Rows come from the store, which the build validated, so
    the models are constructed without re-validation (validation was most of the cost of a long
    timeline on the event loop), and each source and place is built once per answer, not once
    per fact (a long timeline is a thousand facts of one place)."""

    def __init__(self) -> None:
        self._sources: dict[str, SourceRef] = {}
        self._places: dict[str, PlaceRef] = {}

    def __call__(self, row: Row) -> FactView:
        source = self._sources.get(row["s_id"])
        if source is None:
            source = self._sources[row["s_id"]] = source_ref(row)
        place = self._places.get(row["p_id"])
        if place is None:
            place = self._places[row["p_id"]] = place_ref(row)
        event = DateSpec.model_construct(
            start=_day(row["event_start"]), end=_day(row["event_end"]),
            precision=Precision(row["event_precision"]),
            qualifier=Qualifier(row["event_qualifier"]), basis=DateBasis(row["event_basis"]),
            note=row["event_note"])
        return FactView.model_construct(
            id=row["id"], place=place, summary=row["summary"], quote=row["quote"],
            status=row["status"], attribution=row["attribution"], hedged=bool(row["hedged"]),
            modality=row["modality"], event_date=event, as_of=date.fromisoformat(row["as_of"]),
            source=source, rank=row["rank"], origin=row["origin"],
            contradicts=row["contradicts"].split(",") if row["contradicts"] else [])


def fact_views(rows: Iterable[Row]) -> list[FactView]:
    view = FactViews()
    return [view(r) for r in rows]


OFF_LOOP_ROWS = 100
"""Above this many rows, build the answers in a worker thread: ~15 µs a row would otherwise hold
the event loop for tens of milliseconds on the busiest places. The thread still needs the GIL, but
the interpreter hands it back every few milliseconds, so the loop keeps serving."""


async def _views(rows: list[Row]) -> list[FactView]:
    if len(rows) > OFF_LOOP_ROWS:
        return await asyncio.to_thread(fact_views, rows)
    return fact_views(rows)


def _in(ids: Sequence[str]) -> tuple[str, dict[str, str]]:
    names = {f"p{i}": pid for i, pid in enumerate(ids)}
    return ", ".join(f":{n}" for n in names), names


async def _place_facts(db: Database, place_ids: Sequence[str], guild: int,
                       order: str, limit: int) -> list[FactView]:
    marks, params = _in(place_ids)
    rows = await db.fetch(
        f"{fact_select(db.dialect)} WHERE f.place_id IN ({marks}) AND {VISIBLE} "
        f"ORDER BY {order} LIMIT :limit",
        {**params, "guild": guild, "limit": limit})
    return await _views(list(rows))


LATEST_ORDER = "f.as_of DESC, f.sort_date DESC, f.position, f.rowid"
"""Newest report first; ties in the order the facts were added, which SQLite's index on
(place, as_of, sort_date, position) already holds, so a single place needs no sort step."""
TIMELINE_ORDER = "f.sort_date, f.as_of, f.position, f.id"
"""Oldest event first; facts of one date in their article's order, then by id."""


async def latest_facts(db: Database, place_ids: Sequence[str], guild: int,
                       limit: int) -> list[FactView]:
    """The ``limit`` newest reports first (by report date, then event date)."""
    return await _place_facts(db, place_ids, guild, LATEST_ORDER, limit)


async def timeline_facts(db: Database, place_ids: Sequence[str], guild: int,
                         limit: int) -> list[FactView]:
    """The first ``limit`` visible facts in order of event date; undated ones sit at their report
    date, and facts of one date keep their article's order."""
    return await _place_facts(db, place_ids, guild, TIMELINE_ORDER, limit)


async def count_facts(db: Database, place_ids: Sequence[str], guild: int) -> int:
    """How many facts of these places the server sees: the places' shared count, read from
    ``places.shared_facts`` rather than counted (the busiest places have tens of thousands),
    less the shared facts this server retired, plus its own live ones (both few, and each an
    index range of the server's rows)."""
    marks, params = _in(place_ids)
    rows = await db.fetch(
        f"SELECT (SELECT coalesce(sum(p.shared_facts), 0) FROM places p WHERE p.id IN ({marks}))"
        # from the server's hidden rows, not the place's facts: EXISTS keeps that the outer loop
        f" - (SELECT count(*) FROM fact_hidden h WHERE h.guild_id = :guild AND EXISTS ("
        f"    SELECT 1 FROM facts f WHERE f.id = h.fact_id AND f.place_id IN ({marks}) "
        f"    AND {SHARED_LIVE}))"
        f" + (SELECT count(*) FROM facts f WHERE f.guild_id = :guild AND f.guild_id <> 0 "
        f"    AND f.place_id IN ({marks}) AND {LIVE})",
        {**params, "guild": guild})
    return int(next(iter(rows))[0])


RANK_AT_MOST = 5000
"""Every engine's search ranks matches by relevance only when there are at most this many:
ranking every row that contains a very common word costs seconds at 1M facts and holds a
connection, so other questions would wait. Beyond it, the most recently added matches come
first instead."""


async def places_by_ids(db: Database, ids: Sequence[str],
                        guild: int) -> list[PlaceRef]:
    """Several places in one round trip, in the order asked; ids that are unknown, or belong to
    another server, are left out."""
    if not ids:
        return []
    marks, params = _in(ids)
    rows = await db.fetch(
        f"SELECT id AS p_id, name AS p_name, country AS p_country, governorate AS p_gov, "
        f"kind AS p_kind FROM places WHERE id IN ({marks}) AND guild_id IN (0, :guild)",
        {**params, "guild": guild})
    found = {r["p_id"]: place_ref(r) for r in rows}
    return [found[i] for i in ids if i in found]


async def place_by_id(db: Database, place_id: str, guild: int) -> PlaceRef | None:
    found = await places_by_ids(db, [place_id], guild)
    return found[0] if found else None


async def child_places(db: Database) -> dict[str, list[str]]:
    """Parent id -> ids of its parts; small (only curated parts of cities have parents)."""
    rows = await db.fetch(
        "SELECT parent_id, id FROM places WHERE parent_id IS NOT NULL AND guild_id = 0 ORDER BY id")
    children: dict[str, list[str]] = {}
    for parent, child in rows:
        children.setdefault(parent, []).append(child)
    return children


def _priority(origin: str, population: int, has_facts: int) -> int:
    """Curated places with facts first, then other curated places, then GeoNames by population."""
    if has_facts:
        return 3
    if origin != "gazetteer":
        return 2
    return 1 if population >= 100_000 else 0


NAMED_PLACES = """
    SELECT p.id, p.name, p.origin, p.population,
           EXISTS (SELECT 1 FROM facts f WHERE f.place_id = p.id
                   AND f.guild_id IN (0, ?) AND f.retired = 0)
    FROM places p WHERE p.guild_id IN (0, ?)"""
"""Every place the server knows, with whether it has live facts: ``(guild, guild)``."""
PLACE_NAMES = "SELECT place_id, name FROM place_names WHERE guild_id IN (0, ?)"
"""Every other name of those places: ``(guild,)``."""


def name_entries(places: Iterable[Row], names: Iterable[Row]) -> Iterator[NameEntry]:
    """The resolver's entries from the rows of ``NAMED_PLACES`` and then ``PLACE_NAMES``, which
    each engine streams in its own way: each place's canonical name first, so that it is the
    display name, then its other names at the same rank."""
    ranks: dict[str, tuple[int, int]] = {}
    for place_id, name, origin, population, has_facts in places:
        ranks[place_id] = (_priority(origin, population, has_facts), population)
        yield NameEntry(place_id, name, *ranks[place_id])
    for place_id, name in names:
        rank = ranks.get(place_id)
        if rank is not None:
            yield NameEntry(place_id, name, *rank)


async def has_own_names(db: Database, guild: int) -> bool:
    """Whether a server added places or names of its own (and so needs its own resolver)."""
    rows = await db.fetch(
        "SELECT EXISTS (SELECT 1 FROM place_names WHERE guild_id = :g AND guild_id <> 0) "
        "OR EXISTS (SELECT 1 FROM places WHERE guild_id = :g AND guild_id <> 0)", {"g": guild})
    return bool(next(iter(rows))[0])


async def false_friends(db: Database) -> list[tuple[str, str, str | None]]:
    """(text, note, place it could be mistaken for) for every string that is not a place."""
    rows = await db.fetch(
        "SELECT text, coalesce(note, kind), place_id FROM false_friends")
    return [(str(t), str(n), p) for t, n, p in rows]


async def places_with_facts(db: Database, guild: int) -> list[PlaceCounts]:
    rows = await db.fetch(
        f"""SELECT p.id AS p_id, p.name AS p_name, p.country AS p_country,
                   p.governorate AS p_gov, p.kind AS p_kind, count(*) AS n,
                   max(f.as_of) AS latest
            FROM facts f JOIN places p ON p.id = f.place_id WHERE {VISIBLE}
            GROUP BY p.id ORDER BY lower(p.name), p.name""", {"guild": guild})
    return [PlaceCounts(place_ref(r), r["n"], date.fromisoformat(r["latest"])) for r in rows]


async def sources(db: Database, guild: int) -> list[tuple[SourceRef, int]]:
    rows = await db.fetch(
        f"""SELECT s.id AS s_id, s.outlet, s.title, s.genre, s.author, s.url, s.published_start,
                  s.published_end, s.published_precision,
                  (SELECT count(*) FROM facts f WHERE f.source_id = s.id AND {VISIBLE}) AS n
           FROM sources s WHERE s.guild_id IN (0, :guild)
           ORDER BY s.published_start, s.id""", {"guild": guild})
    return [(source_ref(r), r["n"]) for r in rows]


async def source_places(db: Database, source_id: str, guild: int) -> list[str]:
    rows = await db.fetch(
        f"""SELECT p.name FROM facts f JOIN places p ON p.id = f.place_id
            WHERE f.source_id = :src AND {VISIBLE}
            GROUP BY p.id ORDER BY count(*) DESC, p.name""", {"src": source_id, "guild": guild})
    return [str(r[0]) for r in rows]



async def get_meta(db: Database, key: str) -> str | None:
    row = await db.fetchrow("SELECT value FROM meta WHERE key = ?", (key,))
    return str(row[0]) if row else None


SET_META = ("INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value")


async def set_meta(db: Database, key: str, value: str) -> None:
    await db.execute(SET_META, (key, value))


async def meta_under(db: Database, prefix: str) -> dict[str, str]:
    """Every meta key that starts with ``prefix`` (a word and a colon), without the prefix."""
    rows = await db.fetch("SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key",
                          (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)))
    return {str(r[0])[len(prefix):]: str(r[1]) for r in rows}


GENERATION_KEYS = ("curated_digest", "built_at", "restored_at")
"""Meta keys whose change means the shared layer or the whole store was replaced (a build, a
restore): every process then reloads everything, not just one server's answers."""


async def change_mark(db: Database) -> tuple[int, tuple[str | None, ...]]:
    """Where the store is now: the newest change's id, and the generation keys."""
    row = await db.fetchrow("SELECT coalesce(max(id), 0) FROM changes")
    meta = {str(r[0]): str(r[1]) for r in await db.fetch(
        "SELECT key, value FROM meta WHERE key IN (?, ?, ?)", GENERATION_KEYS)}
    return (int(row[0]) if row else 0), tuple(meta.get(k) for k in GENERATION_KEYS)


async def changes_after(db: Database, change_id: int) -> list[tuple[int, str]]:
    """(server, subject) of every change logged after ``change_id``, oldest first."""
    rows = await db.fetch("SELECT guild_id, subject FROM changes WHERE id > ? ORDER BY id",
                          (change_id,))
    return [(int(g), str(s)) for g, s in rows]
