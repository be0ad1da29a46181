"""Compile the curated files and the gazetteer into the store, on any engine.

A build is skipped when the digest of the curated inputs matches the one recorded at the last
build, so starting the bot on an up-to-date store costs a single query. Otherwise the curated data
becomes rows (:func:`build_rows`) and is written in one of two ways, with the same result:

* the upsert (:func:`build_into`, both engines), in one transaction: curated rows are replaced,
  curated rows that disappeared from the files are removed, and rows added at run time
  (``origin = 'added'``) are never touched;
* on SQLite, when the files hold at least ``LARGE_LOAD_FACTS`` facts, the large load of
  ``bot.store.bulk``: a fresh file filled in bulk, the run-time rows carried over, then swapped in
  whole, so that a running bot goes from the old store to the new one in one step.
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
from bot.store.queries import set_meta
from bot.store.schema import RECOUNT_SHARED
from bot.store.sql import Database

GAZETTEER_FILE = Path("gazetteer") / "iq_sy.tsv"
LARGE_LOAD_FACTS = 20_000
"""From this many curated facts on, SQLite builds by the large load: below it the upsert takes
well under a second and touches the live file in place, which is simpler to follow."""
COUNTS_KEY = "built_counts"
"""Meta key of the last build's counts, so that "up to date" can say what the store holds
without reading the curated files."""


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
    phases: tuple[tuple[str, float], ...] = ()
    """Seconds per phase, when the way of building times them (the large load does)."""


def gazetteer_place_id(geonames_id: int) -> str:
    return f"gn-{geonames_id}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _source_row(src: Source, body: str) -> tuple[object, ...]:
    pub = src.published
    assert pub.start is not None and pub.end is not None
    return (src.id, "curated", src.outlet, src.title, src.author, src.url, src.genre.value,
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
KEPT_COLUMNS = frozenset({"id", "guild_id", "origin", "created_at", "created_by"})
"""What a rebuild never changes in a fact that stays: who made it, when, for which server."""

SOURCE_COLUMNS = ("id, origin, outlet, title, author, url, genre, published_start, published_end, "
                  "published_precision, published_basis, published_note, sha256, body, note")
PLACE_COLUMNS = ("id, origin, name, kind, parent_id, country, governorate, lat, lon, geonames_id, "
                 "population")


def insert(table: str, columns: str) -> str:
    return (f"INSERT INTO {table}({columns}) "
            f"VALUES ({', '.join('?' * len(columns.split(', ')))})")


SOURCE_INSERT = insert("sources", SOURCE_COLUMNS)
PLACE_INSERT = insert("places", PLACE_COLUMNS)
NAME_INSERT = "INSERT INTO place_names(place_id, name, guild_id, origin) VALUES (?, ?, 0, ?)"
FALSE_FRIEND_INSERT = "INSERT INTO false_friends(text, kind, place_id, note) VALUES (?, ?, ?, ?)"
FACT_INSERT = insert("facts", FACT_COLUMNS)
LINK_INSERT = ("INSERT INTO fact_links(fact_id, other_id, kind) VALUES (?, ?, ?) "
               "ON CONFLICT DO NOTHING")


def _updates(columns: str, *, keep: Iterable[str] = ("id",)) -> str:
    return ", ".join(f"{c}=excluded.{c}" for c in columns.split(", ") if c not in set(keep))


SOURCE_UPSERT = (
    f"{SOURCE_INSERT} ON CONFLICT(id) DO UPDATE SET "
    f"{_updates(SOURCE_COLUMNS, keep=('id', 'origin'))} WHERE sources.origin = 'curated'")
PLACE_UPSERT = (
    f"{PLACE_INSERT} ON CONFLICT(id) DO UPDATE SET "
    f"{_updates(PLACE_COLUMNS)} WHERE places.origin <> 'added'")
FACT_UPSERT = (f"{FACT_INSERT} ON CONFLICT(id) DO UPDATE SET "
               f"{_updates(FACT_COLUMNS, keep=KEPT_COLUMNS)} WHERE facts.origin = 'curated'")
"""A curated fact already in the store keeps its row (so its place among facts added at run
time), its ``created_at`` and its server; every other column is the files'."""
DROP_UNUSED = (
    "DELETE FROM places WHERE origin = 'curated' AND id NOT IN (SELECT id FROM keep_places) "
    "AND NOT EXISTS (SELECT 1 FROM facts WHERE facts.place_id = places.id) "
    "AND NOT EXISTS (SELECT 1 FROM candidates WHERE candidates.place_id = places.id) "
    "AND NOT EXISTS (SELECT 1 FROM places c WHERE c.parent_id = places.id)",
    "DELETE FROM sources WHERE origin = 'curated' AND id NOT IN (SELECT id FROM keep_sources) "
    "AND NOT EXISTS (SELECT 1 FROM facts WHERE facts.source_id = sources.id)",
)
"""Curated places and sources that left the files go, unless something added (a fact, a review
candidate, a part) uses them; both ways of building end with these, ``keep_places`` and
``keep_sources`` holding the files' ids."""


@dataclass(frozen=True, slots=True)
class BuildRows:
    """Everything a build writes, as rows in the column order of the statements above: made once
    from the curated files (:func:`build_rows`) and written by either way of building. ``facts``
    may be a one-pass iterable (the benchmarks stream a million); ``fact_count`` says how many."""

    digest: str
    sources: list[tuple[object, ...]]
    places: list[tuple[object, ...]]
    gazetteer_places: int
    names: list[tuple[object, ...]]
    false_friends: list[tuple[object, ...]]
    facts: Iterable[tuple[object, ...]]
    fact_count: int
    links: list[tuple[object, ...]]

    @property
    def large(self) -> bool:
        """Whether SQLite should build these by the large load."""
        return self.fact_count >= LARGE_LOAD_FACTS

    def keep(self) -> dict[str, list[str]]:
        """The temporary tables of :data:`DROP_UNUSED`: the ids of the files' places and
        sources."""
        return {"keep_places": [str(p[0]) for p in self.places if p[1] == "curated"],
                "keep_sources": [str(s[0]) for s in self.sources]}

    def report(self, *, built: bool, seconds: float,
               phases: Iterable[tuple[str, float]] = ()) -> BuildReport:
        return BuildReport(built, len(self.sources), len(self.places) - self.gazetteer_places,
                           self.gazetteer_places, self.fact_count, seconds, tuple(phases))

    def counts(self) -> str:
        """The value of :data:`COUNTS_KEY`."""
        r = self.report(built=True, seconds=0)
        return f"{r.sources} {r.places} {r.gazetteer_places} {r.facts}"


def _place_row(p: Place) -> tuple[object, ...]:
    return (p.id, "curated", p.name, p.kind.value, p.parent, p.country, p.governorate, p.lat,
            p.lon, p.geonames_id, 0)


def _gazetteer_row(g: GazetteerEntry) -> tuple[object, ...]:
    return (gazetteer_place_id(g.geonames_id), "gazetteer", g.name, "populated_place", None,
            g.country, g.governorate, g.lat, g.lon, g.geonames_id, g.population)


def build_rows(cur: Curated, data_dir: Path) -> BuildRows:
    """The rows of a build: the curated sources and places, the GeoNames places no curated place
    already stands for, every name (a curated spelling wins over the same spelling from
    GeoNames: one row per place and name), the false friends, the facts (each with where its
    quote starts in its source) and their links."""
    gazetteer_path = data_dir / GAZETTEER_FILE
    gazetteer = read_gazetteer(gazetteer_path) if gazetteer_path.exists() else []
    curated_by_gn = {p.geonames_id: p.id for p in cur.places.values() if p.geonames_id}
    fresh = [g for g in gazetteer if g.geonames_id not in curated_by_gn]
    names: set[tuple[str, str, str]] = set()
    for p in cur.places.values():
        names.update((p.id, n, "curated") for n in {p.name, *p.names})
    for g in gazetteer:
        pid = curated_by_gn.get(g.geonames_id, gazetteer_place_id(g.geonames_id))
        names.update((pid, n, "gazetteer") for n in {g.name, *g.names})
    best: dict[tuple[str, str], str] = {}
    for pid, name, origin in sorted(names, key=lambda r: r[2] != "curated"):
        best.setdefault((pid, name), origin)
    now = _now()
    return BuildRows(
        digest=cur.digest,
        sources=[_source_row(s, cur.texts[s.id]) for s in cur.sources.values()],
        places=[*(_place_row(p) for p in cur.places.values()), *map(_gazetteer_row, fresh)],
        gazetteer_places=len(fresh),
        names=[(pid, name, origin) for (pid, name), origin in best.items()],
        false_friends=[(f.text, f.kind, f.not_place, f.note) for f in cur.false_friends],
        facts=[fact_row(f, cur.sources[f.source], guild_id=0, origin="curated", created_at=now,
                        created_by=None, position=max(0, cur.texts[f.source].find(f.quote)))
               for f in cur.facts],
        fact_count=len(cur.facts),
        links=[*((f.id, other, "contradicts") for f in cur.facts for other in f.contradicts),
               *((f.id, other, "supersedes") for f in cur.facts for other in f.supersedes)],
    )


def checked_curation(seeds_dir: Path, data_dir: Path) -> Curated:
    """The curated files, validated; raises ``BuildError`` listing every problem."""
    cur, problems = load_curated(seeds_dir, data_dir)
    if problems:
        raise BuildError(problems)
    return cur


MARK_KEYS = ("curated_digest", COUNTS_KEY)
"""The meta rows that say what a store was built from (``build_marks`` of each engine)."""


def unchanged(marks: dict[str, str], digest: str, started: float) -> BuildReport | None:
    """The report of a build with nothing to do (the store holds exactly the files of
    ``digest``), or None. It needs only the store's marks, not the files' contents: a rebuild that
    changes nothing costs a hash of the files and one query at any size."""
    counts = marks.get(COUNTS_KEY)
    if marks.get("curated_digest") != digest or counts is None:  # no counts: an older build
        return None
    sources, places, gazetteer, facts = (int(n) for n in counts.split())
    return BuildReport(False, sources, places, gazetteer, facts, time.perf_counter() - started)


def generation(rows: BuildRows) -> list[tuple[str, str]]:
    """The meta rows a build writes: the new generation (running processes reload everything,
    ``bot.engine.follow``) and what it holds."""
    return [("curated_digest", rows.digest), ("built_at", _now()), (COUNTS_KEY, rows.counts())]


async def build_into(db: Database, rows: BuildRows, *, started: float) -> BuildReport:
    """The upsert: write the rows into a migrated store in one transaction."""
    async with db.transaction() as tx:
        await _upsert(tx, rows)
        for statement in RECOUNT_SHARED:
            await tx.execute(statement)
        for key, value in generation(rows):
            await set_meta(tx, key, value)
    async with db.transaction() as tx:  # SQLite's optimize may write statistics: take the lock
        await tx.execute(tx.dialect.analyze)
    return rows.report(built=True, seconds=time.perf_counter() - started)


async def _upsert(conn: Database, rows: BuildRows) -> None:
    await conn.executemany(SOURCE_UPSERT, rows.sources)
    await conn.executemany(PLACE_UPSERT, rows.places)
    await conn.execute("DELETE FROM place_names WHERE guild_id = 0 AND origin <> 'added'")
    await conn.executemany(NAME_INSERT, rows.names)
    await conn.execute("DELETE FROM false_friends")
    await conn.executemany(FALSE_FRIEND_INSERT, rows.false_friends)
    facts = list(rows.facts)
    await _keep(conn, "keep_ids", [str(f[0]) for f in facts])
    for table, ids in rows.keep().items():
        await _keep(conn, table, ids)
    await conn.execute("DELETE FROM facts WHERE origin = 'curated' "
                       "AND id NOT IN (SELECT id FROM keep_ids)")
    await conn.executemany(FACT_UPSERT, facts)
    await conn.execute("DELETE FROM fact_links WHERE fact_id IN (SELECT id FROM keep_ids)")
    await conn.executemany(LINK_INSERT, rows.links)
    for statement in DROP_UNUSED:
        await conn.execute(statement)


async def _keep(conn: Database, table: str, ids: Iterable[str]) -> None:
    """A temporary table of the ids the curated files still have (both engines keep temporary
    tables per connection, so concurrent builds never see each other's)."""
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table}(id TEXT PRIMARY KEY)")
    await conn.execute(f"DELETE FROM {table}")
    await conn.executemany(f"INSERT INTO {table}(id) VALUES (?)", [(i,) for i in ids])
