"""Compile the curated files and the gazetteer into the store, on any engine.

The build is an upsert in one transaction: curated rows are replaced, curated rows that disappeared
from the files are removed, and rows added at run time (``origin = 'added'``) are never touched. It is
skipped when the digest of the curated inputs matches the one recorded at the last build, so starting
the bot on an up-to-date store costs a single query.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.curation.gazetteer import GazetteerEntry, read_gazetteer
from bot.curation.load import Curated, Problem, load_curated
from bot.domain.model import Fact, Place, Source
from bot.store.queries import get_meta, set_meta
from bot.store.schema import RECOUNT_SHARED
from bot.store.sql import Database

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


async def _write_sources(conn: Database, cur: Curated) -> None:
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


async def _write_places(conn: Database, cur: Curated,
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


async def _write_facts(conn: Database, cur: Curated) -> None:
    keep = [f.id for f in cur.facts]
    await _keep(conn, "keep_ids", keep)
    await _keep(conn, "keep_places", cur.places)
    await _keep(conn, "keep_sources", cur.sources)
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
        "INSERT INTO fact_links(fact_id, other_id, kind) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        links)
    # Curated places and sources that left the files go too, unless something added (a fact, a
    # review candidate, a part) uses them.
    await conn.execute(
        "DELETE FROM places WHERE origin = 'curated' AND id NOT IN (SELECT id FROM keep_places) "
        "AND NOT EXISTS (SELECT 1 FROM facts WHERE facts.place_id = places.id) "
        "AND NOT EXISTS (SELECT 1 FROM candidates WHERE candidates.place_id = places.id) "
        "AND NOT EXISTS (SELECT 1 FROM places c WHERE c.parent_id = places.id)")
    await conn.execute(
        "DELETE FROM sources WHERE origin = 'curated' AND id NOT IN (SELECT id FROM keep_sources) "
        "AND NOT EXISTS (SELECT 1 FROM facts WHERE facts.source_id = sources.id)")


async def _keep(conn: Database, table: str, ids: Iterable[str]) -> None:
    """A temporary table of the ids the curated files still have (both engines keep temporary
    tables per connection, so concurrent builds never see each other's)."""
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table}(id TEXT PRIMARY KEY)")
    await conn.execute(f"DELETE FROM {table}")
    await conn.executemany(f"INSERT INTO {table}(id) VALUES (?)", [(i,) for i in ids])


def checked_curation(seeds_dir: Path, data_dir: Path) -> Curated:
    """The curated files, validated; raises ``BuildError`` listing every problem."""
    cur, problems = load_curated(seeds_dir, data_dir)
    if problems:
        raise BuildError(problems)
    return cur


async def build_into(db: Database, cur: Curated, data_dir: Path, *, force: bool = False,
                     started: float | None = None) -> BuildReport:
    """Write the curated rows into a migrated store, unless it already holds exactly them."""
    started = time.perf_counter() if started is None else started
    if not force and await get_meta(db, "curated_digest") == cur.digest:
        return BuildReport(False, len(cur.sources), len(cur.places), 0, len(cur.facts),
                           time.perf_counter() - started)
    gazetteer_path = data_dir / GAZETTEER_FILE
    gazetteer = read_gazetteer(gazetteer_path) if gazetteer_path.exists() else []
    async with db.transaction() as tx:
        await _write_sources(tx, cur)
        fresh = await _write_places(tx, cur, gazetteer)
        await _write_facts(tx, cur)
        for statement in RECOUNT_SHARED:
            await tx.execute(statement)
        await set_meta(tx, "curated_digest", cur.digest)
        await set_meta(tx, "built_at", _now())
    async with db.transaction() as tx:  # SQLite's optimize may write statistics: take the lock
        await tx.execute(tx.dialect.analyze)
    return BuildReport(True, len(cur.sources), len(cur.places), fresh, len(cur.facts),
                       time.perf_counter() - started)
