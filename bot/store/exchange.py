"""Export and import of one Discord server's own data.

Why: a community's moderators put work into their facts, names and places; they must be able to
take it with them (to another sitrep, or into a fresh store after a disaster) and to hand what
their server sees to researchers in a spreadsheet. Two formats serve the two needs:

* JSON (``export_json``/``import_json``) is the server's own layer only, the rows with its
  ``guild_id`` plus the shared facts it retired: enough to rebuild it on any store that has the
  same curated data. Facts are written as ``data/facts.yaml`` entries are, so a curator can read
  them and ``Fact.model_validate`` reads them back.
* CSV (``export_csv``) is everything the server sees, one row per fact in ACLED-like columns.

An import is checked as a whole first, like ``sitrep check``: every problem is reported as
"entry: reason" and nothing is written unless there is none. It then runs in one transaction, and
each row it writes is logged in ``changes`` with the action ``import``, so ``history`` shows it and
``undo`` can take it back like any other change.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from bot.domain.changes import (
    Change,
    describe,
    fact_subject,
    name_subject,
    place_subject,
    source_subject,
)
from bot.domain.checks import (
    duplicates,
    fact_source_problems,
    link_problems,
    parent_loops,
    text_altered,
    validated,
)
from bot.domain.model import DateSpec, Fact, FactView, Frozen, Place, Precision, Source
from bot.domain.moderation import MAX_NAME, fact_state, hideable
from bot.store.base import Writer
from bot.store.writes import now

FORMAT = "sitrep-export"
VERSION = 1
SECTIONS = ("sources", "places", "names", "facts", "hidden")
HEADER_KEYS = {"format", "version", "guild", "exported_at"}
ACTION = "import"

JSON = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


class ImportProblems(Exception):
    """The document cannot be imported; ``problems`` lists every reason as "entry: reason".
    Nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); nothing was imported")


def _own_guild(guild: int) -> None:
    """Guild 0 is the shared curated store: it is rebuilt from data/ and seeds/, never exported
    or imported as a server's layer (and the change log refuses it)."""
    if guild <= 0:
        raise ValueError(f"a server id is a positive number, not {guild}")


# ------------------------------------------------------------------------------ dates
def date_json(spec: DateSpec) -> str | JSON:
    """A date as curators write it: the compact text when it says everything ("2016-10",
    "by 2016-03-14"), ``{"date", "basis", "note"}`` when basis or note add to it, and the
    spelled-out interval only when the compact text would not read back to the same date."""
    short: JSON = {"date": spec.compact, "basis": spec.basis.value}
    if spec.note is not None:
        short["note"] = spec.note
    if DateSpec.model_validate(short) != spec:
        return spec.model_dump(mode="json")
    if len(short) == 2 and short["basis"] == DateSpec().basis.value:
        return spec.compact
    return short


def _event_fields(spec: DateSpec) -> JSON:
    """The event the way data/facts.yaml writes it: ``event`` beside ``event_basis`` and
    ``event_note``."""
    value = date_json(spec)
    if isinstance(value, str) or "date" not in value:
        return {"event": value}
    flat: JSON = {"event": value["date"], "event_basis": value["basis"]}
    if "note" in value:
        flat["event_note"] = value["note"]
    return flat


# ------------------------------------------------------------------------------ export JSON
async def export_json(db: Writer, guild: int) -> JSON:
    """The server's own layer, enough to rebuild it with ``import_json``: its sources (with their
    text when stored, since quotes are checked against it), places, names, facts (retired ones
    too, ``live: false``) and the shared facts it retired (``hidden``). ``db`` is read in one
    snapshot by the caller."""
    _own_guild(guild)
    sources = []
    for stored in await db.own_sources(guild):
        entry = {**stored.source.model_dump(mode="json"),
                 "published": date_json(stored.source.published)}
        if stored.body is not None:
            entry["body"] = stored.body
        sources.append(entry)
    places = [{"id": p.id, "name": p.name, "kind": p.kind.value, "parent": p.parent,
               "country": p.country, "governorate": p.governorate, "lat": p.lat, "lon": p.lon,
               "geonames_id": p.geonames_id} for p in await db.own_places(guild)]
    return {"format": FORMAT, "version": VERSION, "guild": guild, "exported_at": now(),
            "sources": sources, "places": places,
            "names": [{"place": p, "name": n} for p, n in await db.own_names(guild)],
            "facts": [{**fact_json(f), "live": live} for f, live in await db.own_facts(guild)],
            "hidden": await db.hidden_shared(guild)}


def fact_json(fact: Fact) -> JSON:
    """A fact as a data/facts.yaml entry (same keys, same order, the event in its compact form)."""
    out: JSON = {}
    for key, value in fact.model_dump(mode="json").items():
        if key == "event":
            out.update(_event_fields(fact.event))
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------------ export CSV
CSV_COLUMNS = (
    "event_date", "event_date_end", "precision", "date_label", "place", "place_id", "country",
    "governorate", "latitude", "longitude", "status", "summary", "source", "source_title",
    "source_id", "source_url", "published", "quote", "attribution", "hedged", "fact_id", "origin",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


async def export_csv(db: Writer, guild: int) -> str:
    """Every fact the server sees (shared and its own, as answers show them), oldest event first,
    one row each with ACLED-like columns. Undated facts have empty ``event_date`` cells and sit at
    their report date."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for fact, lat, lon in await db.visible_facts(guild):
        writer.writerow([csv_cell(v) for v in _csv_values(fact, lat, lon)])
    return out.getvalue()


def _csv_values(fact: FactView, lat: float | None, lon: float | None) -> list[object]:
    ev, place, src = fact.event_date, fact.place, fact.source
    known = ev.precision is not Precision.UNKNOWN
    return [ev.start if known else None, ev.end if known else None, ev.precision.value, ev.label,
            place.name, place.id, place.country, place.governorate, lat, lon, fact.status,
            fact.summary, src.outlet, src.title, src.id, src.url, src.published, fact.quote,
            fact.attribution, fact.hedged, fact.id, fact.origin]


def csv_cell(value: object) -> str:
    """A cell as text. Text that a spreadsheet would run as a formula (starting with = + - @,
    tab or CR) gets a leading ``'``, as OWASP advises for CSV exports: summaries and quotes come
    from articles and moderators, not from us. Plain numbers (a negative longitude) are left
    alone: they are not formulas and must stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


# ------------------------------------------------------------------------------ import: checking
class _Name(Frozen):
    place: str
    name: str = Field(min_length=1, max_length=MAX_NAME)


@dataclass(slots=True)
class _Plan:
    """A document that passed every check: what the import will write, with the file's ids."""

    sources: list[tuple[Source, str | None]] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    names: list[_Name] = field(default_factory=list)
    facts: list[tuple[Fact, bool]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


def _entry(kind: str, raw: object, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return f"{kind} {raw['id']}"
    if isinstance(raw, str):
        return f"{kind} {raw}"
    return f"{kind} #{index + 1}"


def _raw_ids(raws: list[Any]) -> set[str]:
    """Ids of the file's entries, valid or not: a fact pointing at a source whose entry is broken
    gets that source's problem, not a second "unknown source" one."""
    return {r["id"] for r in raws if isinstance(r, dict) and isinstance(r.get("id"), str)}


class _Checker:
    """Validates a whole document against the models and the store as this server sees it,
    collecting every problem instead of stopping at the first (what ``sitrep check`` does)."""

    def __init__(self, db: Writer, guild: int) -> None:
        self.db = db
        self.guild = guild
        self.problems: list[str] = []

    def bad(self, entry: str, reason: str) -> None:
        self.problems.append(f"{entry}: {reason}")

    def document(self, data: object) -> dict[str, list[Any]] | None:
        """The sections, or None when this is not a document of our format and version (it is
        then not read further: its fields could mean anything)."""
        if not isinstance(data, dict):
            self.bad("document", "expected a JSON object")
            return None
        if data.get("format") != FORMAT:
            self.bad("document", f"format is {data.get('format')!r}, not {FORMAT!r}")
            return None
        version = data.get("version")
        if type(version) is not int or version != VERSION:
            self.bad("document", f"version {version!r} is not supported (this sitrep reads "
                                 f"version {VERSION})")
            return None
        for key in sorted(set(data) - HEADER_KEYS - set(SECTIONS)):
            self.bad("document", f"unknown key {key!r}")
        sections: dict[str, list[Any]] = {}
        for name in SECTIONS:
            value = data.get(name, [])
            if not isinstance(value, list):
                self.bad("document", f"{name!r} must be a list")
                value = []
            sections[name] = value
        return sections

    def models(self, model: type[M], kind: str, raws: list[Any],
               extras: Iterable[str] = ()) -> list[tuple[M, JSON]]:
        """Each entry validated by ``model`` after taking out the ``extras`` keys, which are
        returned beside it."""
        out = []
        for index, raw in enumerate(raws):
            entry = _entry(kind, raw, index)
            if not isinstance(raw, dict):
                self.bad(entry, "expected an object")
                continue
            extra = {k: raw[k] for k in extras if k in raw}
            value, problems = validated(model, {k: v for k, v in raw.items() if k not in extra})
            for problem in problems:
                self.bad(entry, problem)
            if value is not None:
                out.append((value, extra))
        return out

    def duplicates(self, kind: str, keys: Iterable[str]) -> None:
        for key, count in duplicates(keys).items():
            self.bad(f"{kind} {key}", f"duplicate ({count} entries)")

    def sources(self, raws: list[Any]) -> list[tuple[Source, str | None]]:
        out = []
        for source, extra in self.models(Source, "source", raws, ["body"]):
            body = extra.get("body")
            entry = f"source {source.id}"
            if body is not None and not isinstance(body, str):
                self.bad(entry, "body: must be the article's text")
                continue
            if source.published.start is None:
                self.bad(entry, "published: a source needs its publication date")
                continue
            if body is not None and text_altered(source, body):
                self.bad(entry, "sha256 does not match its body: the text has been altered")
            out.append((source, body))
        self.duplicates("source", (s.id for s, _ in out))
        return out

    def facts(self, raws: list[Any]) -> list[tuple[Fact, bool]]:
        out = []
        for fact, extra in self.models(Fact, "fact", raws, ["live"]):
            live = extra.get("live", True)
            if not isinstance(live, bool):
                self.bad(f"fact {fact.id}", "live: must be true or false")
                continue
            out.append((fact, live))
        self.duplicates("fact", (f.id for f, _ in out))
        return out

    async def place_known(self, place_id: str, in_file: set[str]) -> bool:
        return place_id in in_file or await self.db.get_place(self.guild, place_id) is not None

    async def check_places(self, places: list[Place], in_file: set[str]) -> None:
        self.duplicates("place", (p.id for p in places))
        parents = {p.id: p.parent for p in places}
        for place in places:
            if place.parent is None:
                continue
            if not await self.place_known(place.parent, in_file):
                self.bad(f"place {place.id}", f"unknown parent place {place.parent!r}")
            elif parent_loops(place.id, parents):
                self.bad(f"place {place.id}", "parent chain loops")

    async def check_names(self, names: list[_Name], in_file: set[str]) -> None:
        self.duplicates("name", (f"{n.place}:{n.name.casefold()}" for n in names))
        for name in names:
            if not name.name.strip():
                self.bad(f"name {name.place}:{name.name}", "the name is blank")
            if not await self.place_known(name.place, in_file):
                self.bad(f"name {name.place}:{name.name}", f"unknown place {name.place!r}")

    async def check_fact(self, fact: Fact, plan: _Plan, raw_ids: dict[str, set[str]]) -> None:
        entry = f"fact {fact.id}"
        if not await self.place_known(fact.place, raw_ids["places"]):
            self.bad(entry, f"unknown place {fact.place!r}: neither in the file nor here")
        found = await self._source(fact.source, plan)
        if found is None:
            if fact.source not in raw_ids["sources"]:
                self.bad(entry, f"unknown source {fact.source!r}: neither in the file nor here")
        else:
            for problem in fact_source_problems(fact, *found):
                self.bad(entry, problem)
        known = set(raw_ids["facts"])
        for link in {*fact.contradicts, *fact.supersedes} - known:
            if await self.db.get_fact(self.guild, link) is not None:
                known.add(link)
        for problem in link_problems(fact, known.__contains__):
            self.bad(entry, problem)

    async def _source(self, source_id: str, plan: _Plan) -> tuple[Source, str | None] | None:
        """The source a fact of the file means: the file's own first, else one visible here."""
        for source, body in plan.sources:
            if source.id == source_id:
                return source, body
        stored = await self.db.get_source(self.guild, source_id)
        return (stored.source, stored.body) if stored else None

    async def check_hidden(self, raws: list[Any]) -> list[str]:
        out = []
        for index, raw in enumerate(raws):
            entry = _entry("hidden", raw, index)
            if not isinstance(raw, str):
                self.bad(entry, "expected a fact id")
                continue
            stored = await self.db.get_fact(self.guild, raw)
            if not hideable(stored):
                self.bad(entry, "not a shared fact: only shared facts are hidden for a server")
                continue
            out.append(raw)
        self.duplicates("hidden", out)
        return out


async def _check_document(db: Writer, guild: int, data: object) -> _Plan:
    """Validate ``data`` for import into ``guild``; raise ``ImportProblems`` with every problem."""
    checker = _Checker(db, guild)
    sections = checker.document(data)
    if sections is None:
        raise ImportProblems(checker.problems)
    raw_ids = {name: _raw_ids(sections[name]) for name in ("sources", "places", "facts")}
    plan = _Plan(sources=checker.sources(sections["sources"]))
    plan.places = [p for p, _ in checker.models(Place, "place", sections["places"])]
    await checker.check_places(plan.places, raw_ids["places"])
    plan.names = [n for n, _ in checker.models(_Name, "name", sections["names"])]
    plan.names += [_Name(place=p.id, name=n) for p in plan.places for n in p.names]
    await checker.check_names(plan.names, raw_ids["places"])
    plan.facts = checker.facts(sections["facts"])
    for fact, _ in plan.facts:
        await checker.check_fact(fact, plan, raw_ids)
    plan.hidden = await checker.check_hidden(sections["hidden"])
    if checker.problems:
        raise ImportProblems(checker.problems)
    return plan


# ------------------------------------------------------------------------------ import: writing
@dataclass(slots=True)
class ImportReport:
    """What an import wrote. The maps go from the file's ids to the ids in this store."""

    guild: int
    sources: dict[str, str] = field(default_factory=dict)
    places: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    names: list[tuple[str, str]] = field(default_factory=list)
    skipped_names: list[tuple[str, str]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per change, then the ids that differ from the file's, then a total."""
        out = [describe(c) if c.before is None else f"shared fact `{c.key}` hidden"
               for c in self.changes]  # only hiding a shared fact changes an existing subject
        out += [f"name “{n}” of `{p}` skipped: the server already has it"
                for p, n in self.skipped_names]
        for kind, ids in (("source", self.sources), ("place", self.places), ("fact", self.facts)):
            out += [f"{kind} `{old}` of the file is `{new}` here"
                    for old, new in ids.items() if old != new]
        out.append(f"imported into server {self.guild}: {len(self.sources)} source(s), "
                   f"{len(self.places)} place(s), {len(self.names)} name(s), "
                   f"{len(self.facts)} fact(s), {len(self.hidden)} shared fact(s) hidden")
        return out


async def import_json(db: Writer, guild: int, data: object, actor: int) -> ImportReport:
    """Add an export (``export_json``'s format) to server ``guild``'s own rows.

    The whole document is checked first (``ImportProblems`` lists every problem, and nothing is
    changed); then everything is written inside the caller's transaction (``db``), so a failure
    half way leaves nothing behind, and each row is logged as an ``import`` change by ``actor``.

    Ids: the file's ids are never reused. Like every row a moderator adds, each source, place and
    fact gets a new id from the store (``ImportReport`` maps the file's ids to them), and the
    file's references follow: a reference names the file's own entry when there is one, else a
    place, source or fact this server can already see. So importing into a server that already
    has rows adds to them and never overwrites: importing the same file twice gives two copies
    of its sources, places and facts. Names the server already has for a place (its own or
    shared, ignoring case) are skipped, and shared facts it already hides stay hidden.
    """
    _own_guild(guild)
    plan = await _check_document(db, guild, data)
    return await _apply(db, guild, actor, plan)


async def _apply(db: Writer, guild: int, actor: int, plan: _Plan) -> ImportReport:
    report = ImportReport(guild)
    for source, body in plan.sources:
        report.sources[source.id] = await db.insert_source(guild, source, body)
        report.changes.append(await _logged(db, guild, actor,
                                            source_subject(report.sources[source.id])))
    for place in _parents_first(plan.places):
        parent = report.places.get(place.parent, place.parent) if place.parent else None
        report.places[place.id] = await db.insert_place(
            guild, place.model_copy(update={"parent": parent}))
        report.changes.append(await _logged(db, guild, actor,
                                            place_subject(report.places[place.id])))
    for name in plan.names:
        await _import_name(db, guild, actor, report, report.places.get(name.place, name.place),
                           name.name)
    await _import_facts(db, guild, actor, report, plan.facts)
    for fact_id in plan.hidden:
        await _hide(db, guild, actor, report, fact_id)
    return report


def _parents_first(places: list[Place]) -> list[Place]:
    """Places ordered so that a parent from the file is written (and has its new id) before its
    parts."""
    parents = {p.id: p.parent for p in places}

    def depth(place: Place) -> int:
        n, parent, seen = 0, place.parent, {place.id}
        while parent is not None and parent in parents and parent not in seen:
            seen.add(parent)
            n, parent = n + 1, parents[parent]
        return n

    return sorted(places, key=depth)


async def _logged(db: Writer, guild: int, actor: int, subject: str,
                  before: JSON | None = None) -> Change:
    after = await db.subject_state(guild, subject)
    return await db.log(guild, actor, ACTION, subject, before, after)


async def _import_name(db: Writer, guild: int, actor: int, report: ImportReport,
                       place_id: str, name: str) -> None:
    if await db.has_name(guild, place_id, name):
        report.skipped_names.append((place_id, name))
        return
    await db.insert_name(guild, place_id, name)
    report.names.append((place_id, name))
    report.changes.append(await _logged(db, guild, actor, name_subject(place_id, name)))


async def _import_facts(db: Writer, guild: int, actor: int, report: ImportReport,
                        facts: list[tuple[Fact, bool]]) -> None:
    """Facts first, then their links (which may point at facts later in the file), then the log
    entries, whose ``after`` shows each fact as it ends up (retired or not)."""
    for fact, _ in facts:
        draft = fact.model_copy(update={"place": report.places.get(fact.place, fact.place),
                                        "source": report.sources.get(fact.source, fact.source)})
        source = await db.get_source(guild, draft.source)
        assert source is not None  # checked: in the file or visible here
        report.facts[fact.id] = (await db.insert_fact(guild, actor, draft, source)).id
    await db.add_links((report.facts[f.id], report.facts.get(other, other), kind)
                       for f, _ in facts for kind, others in (("contradicts", f.contradicts),
                                                              ("supersedes", f.supersedes))
                       for other in others)
    await db.set_retired(guild, [report.facts[f.id] for f, live in facts if not live])
    for fact, _ in facts:
        report.changes.append(await _logged(db, guild, actor, fact_subject(report.facts[fact.id])))


async def _hide(db: Writer, guild: int, actor: int, report: ImportReport, fact_id: str) -> None:
    stored = await db.get_fact(guild, fact_id)
    assert stored is not None  # checked: a shared fact
    if not stored.live:
        return
    before = fact_state(stored)
    await db.set_fact_live(guild, stored, False)
    report.hidden.append(fact_id)
    report.changes.append(await db.log(guild, actor, ACTION, fact_subject(fact_id), before,
                                       {**before, "live": False}))
