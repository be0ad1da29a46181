"""Export and import of one server's data (bot.store.exchange and ``sitrep export|import``): a
server's layer survives the trip into another store, the CSV shows what the server sees, and a
document with problems is refused as a whole, listing every problem, with nothing changed."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.domain.model import DateBasis, DateSpec, FactView, Precision, Qualifier
from bot.engine import Engine
from bot.engine.answers import Answer, StatusAnswer
from bot.runtime import open_at
from bot.services.moderation import ModerationService
from bot.store import exchange, queries
from bot.store.exchange import (
    CSV_COLUMNS,
    ImportProblems,
    ImportReport,
    csv_cell,
    date_json,
    export_csv,
    export_json,
    import_json,
)
from tests.conftest import DATA, SEEDS, TODAY, store_summary

A, B = 111, 222
MOD, IMPORTER = 5, 7
ARTICLE = ("BAGHDAD, Oct 17 (Test Wire) - Iraqi forces advanced on Mosul on Monday, a military "
           "spokesman said. Turkish troops remain at the camp near Bashiqa.")
FORMULA = "=HYPERLINK(\"http://evil.example\", \"click\") says the channel"


class _Any:
    """Equal to anything: for the one field of a document that is not deterministic."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


ANY: Any = _Any()


MINIMAL: dict[str, Any] = {  # a small document as a person might write one: defaults left out, a retired fact
    "format": "sitrep-export", "version": 1,
    "sources": [{"id": "s1", "outlet": "Test Wire", "title": "Camp report", "genre": "wire",
                 "published": "2016-10-17", "body": "Turkish troops remain at the camp."}],
    "places": [{"id": "camp", "name": "Bashiqa Camp", "kind": "village", "country": "IQ",
                "lat": 36.45, "lon": 43.35, "names": ["Zelikan camp"]}],
    "names": [{"place": "mosul", "name": "Hadba City"}],
    "facts": [{"id": "f1", "place": "camp", "source": "s1", "event": "2016-10-17",
               "quote": "Turkish troops remain at the camp", "summary": "Turkish troops are there."},
              {"id": "f2", "place": "mosul", "source": "s1", "event": "~2016-10",
               "summary": "@channel a second fact", "live": False}],
    "hidden": [],
}


@dataclass(frozen=True, slots=True)
class Layer:
    """What the test gave server A, by id."""

    wire: str
    ingested: str
    camp: str
    facts: list[str]
    retired: str
    hidden: str


@pytest.fixture
async def mod(shipped: Engine) -> AsyncIterator[ModerationService]:
    m = await ModerationService.open(shipped)
    yield m
    await m.close()


@pytest.fixture
async def layer(mod: ModerationService) -> Layer:
    """Server A's own data: two sources (one with its text), a place, two names, four live facts
    (one undated, one whose summary is a spreadsheet formula), a retired one and a retired shared
    fact."""
    wire = (await mod.add_source(A, MOD, title="Iraqi forces push into Mosul outskirts",
                                 outlet="Test Wire", published="17 October 2016",
                                 url="https://example.org/wire/1", genre="wire")).key
    ingested = (await mod.ingest(A, MOD, text=ARTICLE, title="Push on Mosul", outlet="Other Wire",
                                 published="2016-10-17")).source.key
    camp = (await mod.add_place(A, MOD, name="Bashiqa Camp", kind="village", country="IQ",
                                governorate="Nineveh", coordinates="36.45, 43.35")).key
    await mod.add_alias(A, MOD, "Mosul", "Hadba City")
    await mod.add_alias(A, MOD, camp, "Zelikan camp")
    facts = [(await mod.add_fact(A, MOD, **fields)).key for fields in (
        {"place": "Mosul", "date_text": "2016-10-17", "source": ingested, "status": "under attack",
         "summary": "Iraqi forces advanced on Mosul.", "quote": "Iraqi forces advanced on Mosul",
         "attribution": "a military spokesman"},
        {"place": camp, "date_text": "2016-10", "source": ingested, "hedged": "yes",
         "summary": "Turkish troops remain at the camp.",
         "quote": "Turkish troops remain at the camp near Bashiqa"},
        {"place": camp, "date_text": "unknown", "source": wire, "summary": "The camp is undated."},
        {"place": "Mosul", "date_text": "by 2016-10-17", "source": wire, "summary": FORMULA},
        {"place": "Mosul", "date_text": "2016-10-16", "source": wire,
         "summary": "A fact the server retired."})]
    await mod.set_live(A, MOD, facts[-1], False)
    hidden = (await mod.engine.timeline("Mosul", A)).facts[0].id
    await mod.set_live(A, MOD, hidden, False)
    return Layer(wire, ingested, camp, facts[:-1], facts[-1], hidden)


@pytest.fixture
async def fresh(shipped_store: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    """Another store built from the same curated data, with no server rows at all."""
    db = tmp_path / "fresh.db"
    shutil.copy(shipped_store, db)
    engine_rt = await open_at(db, today=lambda: TODAY)
    engine = engine_rt.engine
    yield engine
    await engine_rt.close()




def roundtrip(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as a file would carry it: plain JSON."""
    loaded: dict[str, Any] = json.loads(json.dumps(doc))
    return loaded


async def import_into(engine: Engine, guild: int, doc: object) -> ImportReport:
    """Import as ``sitrep import`` does: on a writer of its own, in one transaction."""
    writer = await engine.store.open_writer()  # type: ignore[attr-defined]
    try:
        async with writer.transaction() as tx:
            return await import_json(tx, guild, doc, IMPORTER)
    finally:
        await writer.close()
        engine.invalidate(guild, names=True)


async def export_doc(engine: Engine, guild: int, *, fmt: str = "json") -> Any:
    """An export read in one snapshot, as the moderation service reads it."""
    writer = await engine.store.open_writer()  # type: ignore[attr-defined]
    try:
        async with writer.snapshot() as snap:
            return await (export_json(snap, guild) if fmt == "json" else export_csv(snap, guild))
    finally:
        await writer.close()


def fact_key(f: FactView) -> tuple[object, ...]:
    """A fact without its ids, which an import may change."""
    return (f.place.name, f.summary, f.quote, f.status, f.attribution, f.hedged, f.modality,
            f.event_date.model_dump(), f.as_of, f.origin, f.rank, f.source.outlet,
            f.source.title, f.source.url, f.source.published)


def answer_key(a: Answer) -> tuple[object, ...]:
    headline = a.headline if isinstance(a, StatusAnswer) else None
    return (a.error, headline, a.as_of, a.message, a.notes, [fact_key(f) for f in a.facts],
            [(s.outlet, s.title, s.published_label) for s in a.sources])


def mapped(doc: dict[str, Any], report: ImportReport, guild: int) -> dict[str, Any]:
    """``doc`` with the file's ids replaced by the ones the import gave, as the target store
    should export it."""
    out = copy.deepcopy(doc)
    out.pop("exported_at")
    out["guild"] = guild
    places, sources, facts = report.places, report.sources, report.facts
    for src in out["sources"]:
        src["id"] = sources[src["id"]]
    for place in out["places"]:
        place["id"] = places[place["id"]]
    for name in out["names"]:
        name["place"] = places.get(name["place"], name["place"])
    for fact in out["facts"]:
        fact.update(id=facts[fact["id"]], place=places.get(fact["place"], fact["place"]),
                    source=sources.get(fact["source"], fact["source"]))
    out["names"].sort(key=lambda n: (n["place"], n["name"]))
    return out


# ------------------------------------------------------------------------------ round trip
async def test_export_holds_the_servers_own_layer(mod: ModerationService, layer: Layer) -> None:
    doc = await export_doc(mod.engine, A)
    assert {k: doc[k] for k in ("format", "version", "guild")} == {
        "format": "sitrep-export", "version": 1, "guild": A}
    assert [s["id"] for s in doc["sources"]] == [layer.wire, layer.ingested]
    assert "body" not in doc["sources"][0] and doc["sources"][1]["body"] == ARTICLE
    assert doc["sources"][0]["published"] == {"date": "2016-10-17", "basis": "stated"}
    assert [p["id"] for p in doc["places"]] == [layer.camp]
    assert {(n["place"], n["name"]) for n in doc["names"]} == {
        ("mosul", "Hadba City"), (layer.camp, "Zelikan camp")}
    facts = {f["id"]: f for f in doc["facts"]}
    assert list(facts) == [*layer.facts, layer.retired]
    assert [f["live"] for f in facts.values()] == [True, True, True, True, False]
    assert facts[layer.facts[1]]["event"] == "2016-10" and facts[layer.facts[1]]["hedged"]
    assert facts[layer.facts[2]]["event"] == "unknown"
    assert facts[layer.facts[3]]["event"] == "by 2016-10-17"
    assert doc["hidden"] == [layer.hidden]
    assert await export_doc(mod.engine, B) == {**doc, "guild": B, "sources": [],
                                                     "places": [], "names": [], "facts": [],
                                                     "hidden": [], "exported_at": ANY}


async def test_import_into_a_fresh_store_gives_the_same_answers(
        mod: ModerationService, layer: Layer, fresh: Engine) -> None:
    doc = roundtrip(await export_doc(mod.engine, A))
    report = await import_into(fresh, B, doc)
    old, new = mod.engine, fresh

    seen = [row.place for row in (await old.places(A)).places]
    assert [r.place.name for r in (await new.places(B)).places] == [p.name for p in seen]
    assert [(r.facts, r.latest) for r in (await new.places(B)).places] == \
        [(r.facts, r.latest) for r in (await old.places(A)).places]
    for place in seen:
        new_id = report.places.get(place.id, place.id)
        for ask in ("status", "timeline"):
            before = await getattr(old, ask)("", A, place_id=place.id)
            after = await getattr(new, ask)("", B, place_id=new_id)
            assert answer_key(after) == answer_key(before), (ask, place.id)
    for name, place_id in (("Hadba City", "mosul"), ("Zelikan camp", report.places[layer.camp])):
        found = (await new.status(name, B)).place  # the server's own names came along
        assert found is not None and found.id == place_id
    assert layer.hidden in [f.id for f in (await new.timeline("Mosul", 0)).facts]
    assert (await new.status("Mosul", A)).model_dump() == (await new.status("Mosul", 0)).model_dump()

    again = await export_doc(new, B)
    again.pop("exported_at")
    again["names"].sort(key=lambda n: (n["place"], n["name"]))
    assert again == mapped(doc, report, B)


async def test_every_imported_row_is_logged_and_can_be_undone(
        mod: ModerationService, layer: Layer, fresh: Engine) -> None:
    report = await import_into(fresh, B, roundtrip(await export_doc(mod.engine, A)))
    rows = await fresh.store.db.fetch(
        "SELECT actor, action, subject, before IS NULL FROM changes WHERE guild_id = ? ORDER BY id",
        (B,))
    subjects = [r[2] for r in rows]
    assert {(r[0], r[1]) for r in rows} == {(IMPORTER, "import")}
    assert subjects == [c.subject for c in report.changes]
    assert sorted(subjects) == sorted(
        [f"source:{s}" for s in report.sources.values()]
        + [f"place:{p}" for p in report.places.values()]
        + [f"name:{p}:{n}" for p, n in report.names]
        + [f"fact:{f}" for f in report.facts.values()] + [f"fact:{layer.hidden}"])
    assert [bool(r[3]) for r in rows] == [s != f"fact:{layer.hidden}" for s in subjects]
    assert f"shared fact `{layer.hidden}` hidden" in report.lines()
    undo_mod = await ModerationService.open(fresh)
    try:
        undone = await undo_mod.undo(B, IMPORTER)
    finally:
        await undo_mod.close()
    assert undone.subject == f"fact:{layer.hidden}" and undone.after and undone.after["live"]


async def test_importing_into_a_server_with_rows_adds_and_never_overwrites(
        mod: ModerationService, layer: Layer) -> None:
    doc = roundtrip(await export_doc(mod.engine, A))
    before = list(csv.DictReader(io.StringIO(await export_doc(mod.engine, A, fmt="csv"))))
    report = await import_into(mod.engine, A, doc)
    assert set(report.sources.values()).isdisjoint(report.sources)
    assert report.places[layer.camp] != layer.camp
    assert set(report.facts.values()).isdisjoint(report.facts)
    assert sorted(report.skipped_names) == [("mosul", "Hadba City")]
    assert report.names == [(report.places[layer.camp], "Zelikan camp")]
    assert report.hidden == []  # already hidden
    after = list(csv.DictReader(io.StringIO(await export_doc(mod.engine, A, fmt="csv"))))
    assert len(after) == len(before) + len(layer.facts)  # a second copy of each live fact
    assert layer.hidden not in [r["fact_id"] for r in after]
    assert report.lines()[-1] == (f"imported into server {A}: 2 source(s), 1 place(s), "
                                  "1 name(s), 5 fact(s), 0 shared fact(s) hidden")


async def test_references_inside_the_file_follow_the_new_ids(fresh: Engine) -> None:
    shared = (await fresh.timeline("Mosul", 0)).facts[0].id
    doc = copy.deepcopy(MINIMAL)
    doc["places"].append({"id": "gate", "name": "Camp Gate", "kind": "building",
                          "parent": "camp"})
    doc["places"][0]["parent"] = "mosul"
    doc["facts"][0]["contradicts"] = ["f2", shared]
    doc["facts"][1]["supersedes"] = ["f1"]
    first = await import_into(fresh, A, doc)
    second = await import_into(fresh, A, doc)  # the same ids in the file, new ones in the store
    for report in (first, second):
        back = await export_doc(fresh, A)
        places = {p["id"]: p for p in back["places"]}
        assert places[report.places["camp"]]["parent"] == "mosul"
        assert places[report.places["gate"]]["parent"] == report.places["camp"]
        facts = {f["id"]: f for f in back["facts"]}
        f1, f2 = facts[report.facts["f1"]], facts[report.facts["f2"]]
        assert (f1["place"], f1["source"]) == (report.places["camp"], report.sources["s1"])
        assert f1["contradicts"] == sorted([report.facts["f2"], shared])
        assert f2["supersedes"] == [report.facts["f1"]] and not f2["live"]
    assert set(first.facts.values()).isdisjoint(second.facts.values())


# ------------------------------------------------------------------------------ CSV
async def test_csv_has_one_row_per_fact_the_server_sees(mod: ModerationService, layer: Layer) -> None:
    text = await export_doc(mod.engine, A, fmt="csv")
    table = list(csv.reader(io.StringIO(text)))
    assert tuple(table[0]) == CSV_COLUMNS
    rows = [dict(zip(CSV_COLUMNS, r, strict=True)) for r in table[1:]]
    visible = await mod.store.db.fetch(
        f"SELECT f.id FROM facts f WHERE {queries.VISIBLE}", {"guild": A})
    assert sorted(r["fact_id"] for r in rows) == sorted(v[0] for v in visible)
    assert sum(p.facts for p in await queries.places_with_facts(mod.store.db, A)) == len(rows)
    ids = [r["fact_id"] for r in rows]
    assert set(layer.facts) <= set(ids) and layer.retired not in ids and layer.hidden not in ids
    by_id = {r["fact_id"]: r for r in rows}
    assert by_id[layer.facts[3]]["summary"] == "'" + FORMULA
    first = by_id[layer.facts[0]]
    assert (first["event_date"], first["event_date_end"], first["precision"], first["date_label"],
            first["place_id"], first["status"], first["source"], first["quote"],
            first["hedged"], first["origin"]) == (
        "2016-10-17", "2016-10-17", "day", "17 Oct 2016", "mosul", "under_attack", "Other Wire",
        "Iraqi forces advanced on Mosul", "false", "added")
    camp = by_id[layer.facts[2]]
    assert (camp["event_date"], camp["date_label"], camp["latitude"], camp["longitude"],
            camp["source_url"]) == ("", "undated", "36.45", "43.35", "https://example.org/wire/1")
    assert [r["event_date"] for r in rows if r["event_date"]] == sorted(
        r["event_date"] for r in rows if r["event_date"])  # oldest first (undated at report date)
    assert len(await export_doc(mod.engine, B, fmt="csv")) < len(text)  # B sees the shared facts only


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1 (555)", "'+1 (555)"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("-3.5", "-3.5"), (-43.35, "-43.35"), ("plain = text", "plain = text"),
    (None, ""), (True, "true"), (False, "false"), (date(2016, 10, 17), "2016-10-17"),
])
def test_csv_cells_cannot_become_formulas(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.parametrize("spec", [
    DateSpec.model_validate("2016-10"),
    DateSpec.model_validate("by 2016-03-14"),
    DateSpec.model_validate("~2017"),
    DateSpec(),
    DateSpec.single_day(date(2016, 10, 17), DateBasis.PUBLICATION),
    DateSpec.model_validate({"date": "2017-03-08/2017-03-13", "note": "a week"}),
    DateSpec(start=date(2017, 3, 1), end=date(2017, 3, 3), precision=Precision.RANGE,
             qualifier=Qualifier.SINCE),  # not what the compact text reads back to
])
def test_dates_are_written_compactly_and_read_back_the_same(spec: DateSpec) -> None:
    value = date_json(spec)
    assert DateSpec.model_validate(value) == spec
    assert isinstance(value, str) == (spec.basis is DateBasis.UNKNOWN and spec.note is None
                                      and spec.precision is not Precision.RANGE)


# ------------------------------------------------------------------------------ problems
async def test_a_document_with_problems_changes_nothing_and_lists_them_all(
        mod: ModerationService, layer: Layer, fresh: Engine) -> None:
    doc = roundtrip(await export_doc(mod.engine, A))
    doc["extra"] = 1
    doc["sources"][0]["genre"] = "tabloid"
    doc["sources"][1]["sha256"] = "0" * 64
    doc["places"].append({"id": "loop-a", "name": "A", "kind": "town", "parent": "loop-b"})
    doc["places"].append({"id": "loop-b", "name": "B", "kind": "town", "parent": "loop-a"})
    doc["names"].append({"place": "atlantis", "name": "Lost City"})
    fact = doc["facts"][0]
    doc["facts"] += [
        {**fact, "id": "bad-place", "place": "atlantis"},
        {**fact, "id": "bad-source", "source": "no-such-source"},
        {**fact, "id": "bad-date", "event": "2030-01-01"},
        {**fact, "id": "bad-quote", "quote": "words the article never used"},
        {**fact, "id": "bad-link", "contradicts": ["no-such-fact"]},
        {**fact, "id": "bad-live", "live": "yes"},
        {**fact, "id": "bad-field", "summary": "x", "colour": "red"},
        {**fact, "id": layer.facts[1]},
    ]
    doc["hidden"] += [layer.facts[0], "no-such-fact", 5]
    before = await store_summary(fresh.store)
    with pytest.raises(ImportProblems) as caught:
        await import_into(fresh, B, doc)
    assert await store_summary(fresh.store) == before
    ingested = layer.ingested
    assert sorted(caught.value.problems) == sorted([
        "document: unknown key 'extra'",
        f"source {layer.wire}: genre: Input should be 'news', 'wire', 'analysis', 'opinion' "
        "or 'blog'",
        f"source {ingested}: sha256 does not match its body: the text has been altered",
        "place loop-a: parent chain loops",
        "place loop-b: parent chain loops",
        "name atlantis:Lost City: unknown place 'atlantis'",
        "fact bad-place: unknown place 'atlantis': neither in the file nor here",
        "fact bad-source: unknown source 'no-such-source': neither in the file nor here",
        "fact bad-date: date: 1 Jan 2030 is after the source was published (17 Oct 2016)",
        "fact bad-quote: quote: not an exact substring of the source's text",
        "fact bad-link: links to unknown fact 'no-such-fact'",
        "fact bad-live: live: must be true or false",
        "fact bad-field: summary: String should have at least 3 characters",
        "fact bad-field: colour: Extra inputs are not permitted",
        f"fact {layer.facts[1]}: duplicate (2 entries)",
        f"hidden {layer.facts[0]}: not a shared fact: only shared facts are hidden for a server",
        "hidden no-such-fact: not a shared fact: only shared facts are hidden for a server",
        "hidden #4: expected a fact id",
    ])


@pytest.mark.parametrize(("doc", "problem"), [
    ([], "document: expected a JSON object"),
    ({"format": "acled", "version": 1}, "document: format is 'acled', not 'sitrep-export'"),
    ({"format": "sitrep-export", "version": 2},
     "document: version 2 is not supported (this sitrep reads version 1)"),
    ({"format": "sitrep-export", "version": 1, "facts": {}}, "document: 'facts' must be a list"),
])
async def test_documents_of_another_kind_are_refused(fresh: Engine, doc: object,
                                                     problem: str) -> None:
    before = await store_summary(fresh.store)
    with pytest.raises(ImportProblems) as caught:
        await import_into(fresh, B, doc)
    assert caught.value.problems == [problem]
    assert await store_summary(fresh.store) == before


async def test_a_failure_half_way_leaves_nothing_behind(
        mod: ModerationService, layer: Layer, fresh: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = roundtrip(await export_doc(mod.engine, A))
    before = await store_summary(fresh.store)

    async def fail(*args: object) -> None:  # the last step: everything else is written by then
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exchange, "_hide", fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        await import_into(fresh, B, doc)
    assert await store_summary(fresh.store) == before
    monkeypatch.undo()
    assert (await import_into(fresh, B, doc)).facts  # and the connection is usable again


async def test_guild_zero_is_not_a_server(mod: ModerationService) -> None:
    with pytest.raises(ValueError, match="positive"):
        await export_doc(mod.engine, 0)
    with pytest.raises(ValueError, match="positive"):
        await mod.import_document(0, MOD, {})


# ------------------------------------------------------------------------------ CLI
@pytest.fixture
def cli_store(shipped_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "cli.db"
    shutil.copy(shipped_store, db)
    monkeypatch.setenv("SITREP_DATABASE", str(db))
    monkeypatch.setenv("SITREP_DATA_DIR", str(DATA))
    monkeypatch.setenv("SITREP_SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("SITREP_DISCORD_TOKEN", raising=False)
    return db


def test_cli_export_import_round_trip(cli_store: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    given = tmp_path / "given.json"
    given.write_text(json.dumps(MINIMAL), encoding="utf-8")
    assert main(["import", str(given), "--guild", str(A)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(re.fullmatch(r"source `2016-10-17-test-wire-[0-9a-f]{6}` imported", line)
               for line in out)
    assert "name “Hadba City” of `mosul` imported" in out
    assert out[-1] == (f"imported into server {A}: 1 source(s), 1 place(s), 2 name(s), "
                       "2 fact(s), 0 shared fact(s) hidden")

    exported = tmp_path / "a.json"
    assert main(["export", "--guild", str(A), "-o", str(exported)]) == 0
    doc = json.loads(exported.read_text(encoding="utf-8"))
    assert [f["live"] for f in doc["facts"]] == [True, False]
    assert main(["import", str(exported), "--guild", str(B)]) == 0
    capsys.readouterr()

    tables = []
    for guild in (A, B):
        assert main(["export", "--guild", str(guild), "--format", "csv"]) == 0
        tables.append(list(csv.DictReader(io.StringIO(capsys.readouterr().out))))
    ids = {"fact_id", "source_id", "place_id"}
    a_rows, b_rows = (sorted(tuple((k, v) for k, v in r.items() if k not in ids) for r in t)
                      for t in tables)
    assert a_rows == b_rows
    own = [r for r in tables[1] if r["origin"] == "added"]
    assert [(r["place"], r["summary"], r["latitude"]) for r in own] == [
        ("Bashiqa Camp", "Turkish troops are there.", "36.45")]  # f2 is retired


def test_cli_import_lists_every_problem_and_fails(cli_store: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    bad = copy.deepcopy(MINIMAL)
    bad["facts"][0]["place"] = "atlantis"
    bad["hidden"] = ["no-such-fact"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    before = asyncio.run(store_summary(cli_store))
    assert main(["import", str(path), "--guild", str(A)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{path}: fact f1: unknown place 'atlantis': neither in the file nor here",
        f"{path}: hidden no-such-fact: not a shared fact: only shared facts are hidden for a server"]
    assert "2 problem(s); nothing was imported." in captured.err
    assert asyncio.run(store_summary(cli_store)) == before
    path.write_text("{not json", encoding="utf-8")
    assert main(["import", str(path), "--guild", str(A)]) == 1
    assert "cannot read it as JSON" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--guild", "0"])


def test_cli_export_of_a_server_without_rows_is_empty(cli_store: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--guild", str(B)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [doc[k] for k in ("sources", "places", "names", "facts", "hidden")] == [[]] * 5

