"""Compile the curated files and the gazetteer into the SQLite store.

The build is an upsert in one transaction: curated rows are replaced, curated rows that disappeared
from the files are removed, and rows added at run time (``origin = 'added'``) are never touched. It is
skipped when the digest of the curated inputs matches the one recorded at the last build, so starting
the bot on an up-to-date store costs a single query.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.curation.gazetteer import GazetteerEntry, read_gazetteer
from bot.curation.load import Curated, Problem, curated_digest, load_curated
from bot.domain.model import Fact, Place, Source
from bot.store.db import (
    connect,
    get_meta,
    migrate,
    schema_version,
    set_meta,
    transaction,
    translated,
)
from bot.store.schema import SCHEMA_VERSION

GAZETTEER_FILE = Path("gazetteer") / "iq_sy.tsv"


class BuildError(Exception):
    """The curated data did not validate; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the curated data; run `sitrep check`")


@dataclass(frozen=True, slots=True)
class BuildReport:
    built: bool
    sources: int
    places: int
    gazetteer_places: int
    facts: int
    seconds: float


def gazetteer_place_id(geonames_id: int) -> str:
    return f"gn-{geonames_id}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _source_row(src: Source, body: str) -> tuple[object, ...]:
    pub = src.published
    assert pub.start is not None and pub.end is not None
    return (src.id, src.outlet, src.title, src.author, src.url, src.genre.value,
            pub.start.isoformat(), pub.end.isoformat(), pub.precision.value, pub.basis.value,
            pub.note, src.sha256, body, src.note)


def fact_row(fact: Fact, source: Source, *, guild_id: int, origin: str, created_at: str,
             created_by: int | None, position: int = 0) -> tuple[object, ...]:
    """The column values of a fact, shared by the build and by moderator commands. ``position``
    is where the quote starts in the source: facts of one date keep the article's order."""
    ev = fact.event
    return (fact.id, guild_id, origin, fact.place, fact.source, fact.quote, fact.summary,
            fact.attribution, int(fact.hedged), fact.modality.value,
            ev.start.isoformat() if ev.start else None, ev.end.isoformat() if ev.end else None,
            ev.precision.value, ev.qualifier.value, ev.basis.value, ev.note,
            ev.sort_key(source.as_of), source.as_of.isoformat(), position,
            fact.status.value if fact.status else None, fact.rank.value, created_at, created_by)


FACT_COLUMNS = ("id, guild_id, origin, place_id, source_id, quote, summary, attribution, hedged, "
                "modality, event_start, event_end, event_precision, event_qualifier, event_basis, "
                "event_note, sort_date, as_of, position, status, rank, created_at, created_by")


async def _write_sources(conn: aiosqlite.Connection, cur: Curated) -> None:
    await conn.executemany(
        "INSERT INTO sources(id, origin, outlet, title, author, url, genre, published_start, "
        "published_end, published_precision, published_basis, published_note, sha256, body, note)"
        " VALUES (?, 'curated', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET outlet=excluded.outlet, title=excluded.title, "
        "author=excluded.author, url=excluded.url, genre=excluded.genre, "
        "published_start=excluded.published_start, published_end=excluded.published_end, "
        "published_precision=excluded.published_precision, "
        "published_basis=excluded.published_basis, published_note=excluded.published_note, "
        "sha256=excluded.sha256, body=excluded.body, note=excluded.note "
        "WHERE sources.origin = 'curated'",
        [_source_row(s, cur.texts[s.id]) for s in cur.sources.values()],
    )


PLACE_UPSERT = (
    "INSERT INTO places(id, origin, name, kind, parent_id, country, governorate, lat, lon, "
    "geonames_id, population) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET origin=excluded.origin, name=excluded.name, "
    "kind=excluded.kind, parent_id=excluded.parent_id, country=excluded.country, "
    "governorate=excluded.governorate, lat=excluded.lat, lon=excluded.lon, "
    "geonames_id=excluded.geonames_id, population=excluded.population "
    "WHERE places.origin <> 'added'"
)


def _place_row(p: Place) -> tuple[object, ...]:
    return (p.id, "curated", p.name, p.kind.value, p.parent, p.country, p.governorate, p.lat,
            p.lon, p.geonames_id, 0)


def _gazetteer_row(g: GazetteerEntry) -> tuple[object, ...]:
    return (gazetteer_place_id(g.geonames_id), "gazetteer", g.name, "populated_place", None,
            g.country, g.governorate, g.lat, g.lon, g.geonames_id, g.population)


async def _write_places(conn: aiosqlite.Connection, cur: Curated,
                        gazetteer: list[GazetteerEntry]) -> int:
    curated_by_gn = {p.geonames_id: p.id for p in cur.places.values() if p.geonames_id}
    await conn.executemany(PLACE_UPSERT, [_place_row(p) for p in cur.places.values()])
    fresh = [g for g in gazetteer if g.geonames_id not in curated_by_gn]
    await conn.executemany(PLACE_UPSERT, [_gazetteer_row(g) for g in fresh])

    await conn.execute("DELETE FROM place_names WHERE guild_id = 0 AND origin <> 'added'")
    names: set[tuple[str, str, str]] = set()
    for p in cur.places.values():
        names.update((p.id, n, "curated") for n in {p.name, *p.names})
    for g in gazetteer:
        pid = curated_by_gn.get(g.geonames_id, gazetteer_place_id(g.geonames_id))
        names.update((pid, n, "gazetteer") for n in {g.name, *g.names})
    # A curated spelling wins over the same spelling from GeoNames (one row per place and name).
    best: dict[tuple[str, str], str] = {}
    for pid, name, origin in sorted(names, key=lambda r: r[2] != "curated"):
        best.setdefault((pid, name), origin)
    await conn.executemany(
        "INSERT INTO place_names(place_id, name, guild_id, origin) VALUES (?, ?, 0, ?)",
        [(pid, name, origin) for (pid, name), origin in best.items()],
    )
    await conn.execute("DELETE FROM false_friends")
    await conn.executemany(
        "INSERT INTO false_friends(text, kind, place_id, note) VALUES (?, ?, ?, ?)",
        [(f.text, f.kind, f.not_place, f.note) for f in cur.false_friends],
    )
    return len(fresh)


async def _write_facts(conn: aiosqlite.Connection, cur: Curated) -> None:
    keep = [f.id for f in cur.facts]
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep_ids(id TEXT PRIMARY KEY)")
    await conn.execute("DELETE FROM keep_ids")
    await conn.executemany("INSERT INTO keep_ids(id) VALUES (?)", [(i,) for i in keep])
    await conn.execute("DELETE FROM facts WHERE origin = 'curated' "
                       "AND id NOT IN (SELECT id FROM keep_ids)")
    now = _now()
    updates = ", ".join(f"{c}=excluded.{c}" for c in FACT_COLUMNS.split(", ")
                        if c not in {"id", "guild_id", "origin", "created_at", "created_by"})
    placeholders = ", ".join("?" * len(FACT_COLUMNS.split(", ")))
    await conn.executemany(
        f"INSERT INTO facts({FACT_COLUMNS}) VALUES ({placeholders}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates} WHERE facts.origin = 'curated'",
        [fact_row(f, cur.sources[f.source], guild_id=0, origin="curated", created_at=now,
                  created_by=None, position=max(0, cur.texts[f.source].find(f.quote)))
         for f in cur.facts],
    )
    await conn.execute("DELETE FROM fact_links WHERE fact_id IN (SELECT id FROM keep_ids)")
    links = [(f.id, other, "contradicts") for f in cur.facts for other in f.contradicts]
    links += [(f.id, other, "supersedes") for f in cur.facts for other in f.supersedes]
    await conn.executemany(
        "INSERT OR IGNORE INTO fact_links(fact_id, other_id, kind) VALUES (?, ?, ?)", links)
    # Curated places and sources that left the files go too, unless something added (a fact, a
    # review candidate, a part) uses them.
    await conn.execute(
        "DELETE FROM places WHERE origin = 'curated' AND id NOT IN (SELECT value FROM "
        "json_each(?)) AND NOT EXISTS (SELECT 1 FROM facts WHERE facts.place_id = places.id) "
        "AND NOT EXISTS (SELECT 1 FROM candidates WHERE candidates.place_id = places.id) "
        "AND NOT EXISTS (SELECT 1 FROM places c WHERE c.parent_id = places.id)",
        (_json_list(cur.places),))
    await conn.execute(
        "DELETE FROM sources WHERE origin = 'curated' AND id NOT IN (SELECT value FROM "
        "json_each(?)) AND NOT EXISTS (SELECT 1 FROM facts WHERE facts.source_id = sources.id)",
        (_json_list(cur.sources),))


def _json_list(ids: Iterable[str]) -> str:
    return json.dumps(sorted(ids))


async def build_store(db_path: Path, seeds_dir: Path, data_dir: Path, *,
                      force: bool = False) -> BuildReport:
    """Validate the curated data and compile it into the store at ``db_path``.

    Raises ``BuildError`` (and leaves the store untouched) when the data has problems."""
    started = time.perf_counter()
    cur, problems = load_curated(seeds_dir, data_dir)
    if problems:
        raise BuildError(problems)
    conn = await connect(db_path)
    try:
        with translated(db_path):
            return await _build(conn, cur, data_dir, force, started)
    finally:
        await conn.close()


async def _build(conn: aiosqlite.Connection, cur: Curated, data_dir: Path, force: bool,
                 started: float) -> BuildReport:
    """Migrate, then write the curated rows unless the store already holds exactly them."""
    await migrate(conn)
    if not force and await get_meta(conn, "curated_digest") == cur.digest:
        return BuildReport(False, len(cur.sources), len(cur.places), 0, len(cur.facts),
                           time.perf_counter() - started)
    gazetteer_path = data_dir / GAZETTEER_FILE
    gazetteer = read_gazetteer(gazetteer_path) if gazetteer_path.exists() else []
    async with transaction(conn):
        await _write_sources(conn, cur)
        fresh = await _write_places(conn, cur, gazetteer)
        await _write_facts(conn, cur)
        await set_meta(conn, "curated_digest", cur.digest)
        await set_meta(conn, "built_at", _now())
    async with transaction(conn):  # optimize may write statistics: take the lock first
        await conn.execute("PRAGMA optimize")
    return BuildReport(True, len(cur.sources), len(cur.places), fresh, len(cur.facts),
                       time.perf_counter() - started)


async def store_is_current(db_path: Path, seeds_dir: Path, data_dir: Path) -> bool:
    """True when the store exists and was built from exactly the current curated files."""
    if not db_path.exists():  # noqa: ASYNC240 - one stat() at start-up
        return False
    conn = await connect(db_path)
    try:
        with translated(db_path):
            version = await schema_version(conn)
            if version > SCHEMA_VERSION:
                await migrate(conn)  # refuses, naming the file and what to do
            if version != SCHEMA_VERSION:
                return False
            return await get_meta(conn, "curated_digest") == curated_digest(seeds_dir, data_dir)
    finally:
        await conn.close()
