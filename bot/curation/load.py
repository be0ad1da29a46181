"""Load and validate the curated files: seeds/sources.yaml, the seed texts, data/places.yaml and
data/facts.yaml.

Validation reports *every* problem with its file, entry and reason rather than stopping at the first,
because a curator fixing a file wants the whole list at once. The same function backs
``sitrep check``, the build and the test that checks the shipped data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from bot.domain.checks import (
    duplicates,
    event_day_problems,
    fact_source_problems,
    link_problems,
    parent_loops,
    status_cue_problems,
    text_altered,
    validated,
)
from bot.domain.model import Fact, FalseFriend, Place, Source

M = TypeVar("M", bound=BaseModel)

CURATED_FILES = ("seeds/sources.yaml", "data/places.yaml", "data/facts.yaml")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the curated data, addressed so that a curator can find it."""

    file: str
    entry: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.reason}"


@dataclass(slots=True)
class Curated:
    """The curated data, validated; ``digest`` changes whenever any curated byte changes."""

    sources: dict[str, Source] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)
    false_friends: list[FalseFriend] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    digest: str = ""


def curated_digest(seeds_dir: Path, data_dir: Path) -> str:
    """A sha256 over every curated input (YAML, seed texts, gazetteer), used to rebuild the store
    only when something changed. Content-based rather than mtime-based so that a fresh clone, whose
    mtimes are arbitrary, does not look newer than the store."""
    h = hashlib.sha256()
    files = [*sorted(seeds_dir.glob("*.txt")), seeds_dir / "sources.yaml",
             data_dir / "places.yaml", data_dir / "facts.yaml",
             *sorted((data_dir / "gazetteer").glob("*.tsv"))]
    for path in files:
        h.update(path.name.encode())
        h.update(path.read_bytes() if path.exists() else b"<missing>")
    return h.hexdigest()


def _read_yaml(path: Path, key: str, rel: str, problems: list[Problem]) -> list[Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(rel, "-", "file is missing"))
        return []
    except yaml.YAMLError as exc:
        problems.append(Problem(rel, "-", f"not valid YAML: {exc}".replace("\n", " ")))
        return []
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get(key, []), list):
        problems.append(Problem(rel, "-", f"expected a mapping with a list under {key!r}"))
        return []
    items = doc.get(key) or []
    return list(items)


def _entry_name(raw: Any, index: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        return str(raw["id"])
    if isinstance(raw, dict) and isinstance(raw.get("text"), str):
        return str(raw["text"])
    return f"entry #{index + 1}"


def _validate_all(model: type[M], raws: Iterable[Any], rel: str,
                  problems: list[Problem]) -> Iterator[M]:
    for index, raw in enumerate(raws):
        value, reasons = validated(model, raw)
        problems.extend(Problem(rel, _entry_name(raw, index), r) for r in reasons)
        if value is not None:
            yield value


def _duplicates(ids: Iterable[str], rel: str, what: str, problems: list[Problem]) -> None:
    for ident, count in duplicates(ids).items():
        problems.append(Problem(rel, ident, f"duplicate {what} id ({count} entries)"))


def load_curated(seeds_dir: Path, data_dir: Path) -> tuple[Curated, list[Problem]]:
    """Read and cross-check everything; return what validated and the list of problems."""
    problems: list[Problem] = []
    cur = Curated(digest=curated_digest(seeds_dir, data_dir))

    src_rel = "seeds/sources.yaml"
    sources = list(_validate_all(Source, _read_yaml(seeds_dir / "sources.yaml", "sources",
                                                    src_rel, problems), src_rel, problems))
    _duplicates((s.id for s in sources), src_rel, "source", problems)
    for src in sources:
        path = seeds_dir / f"{src.id}.txt"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            problems.append(Problem(src_rel, src.id, f"seed text seeds/{src.id}.txt is missing"))
            continue
        if text_altered(src, raw):
            problems.append(Problem(src_rel, src.id,
                                    "sha256 does not match the seed text: it has been altered"))
        cur.sources[src.id] = src
        cur.texts[src.id] = raw.decode("utf-8")

    places_rel = "data/places.yaml"
    places_path = data_dir / "places.yaml"
    places = list(_validate_all(Place, _read_yaml(places_path, "places", places_rel, problems),
                                places_rel, problems))
    friends = list(_validate_all(FalseFriend, _read_yaml(places_path, "false_friends",
                                                         places_rel, problems),
                                 places_rel, problems))
    _duplicates((p.id for p in places), places_rel, "place", problems)
    cur.places = {p.id: p for p in places}
    cur.false_friends = friends
    _check_places(cur, places_rel, problems)

    facts_rel = "data/facts.yaml"
    facts = list(_validate_all(Fact, _read_yaml(data_dir / "facts.yaml", "facts", facts_rel,
                                                problems), facts_rel, problems))
    _duplicates((f.id for f in facts), facts_rel, "fact", problems)
    cur.facts = facts
    _check_facts(cur, facts_rel, problems)
    return cur, problems


def _check_places(cur: Curated, rel: str, problems: list[Problem]) -> None:
    parents = {p.id: p.parent for p in cur.places.values()}
    for place in cur.places.values():
        if place.parent is not None:
            if place.parent not in cur.places:
                problems.append(Problem(rel, place.id, f"unknown parent place {place.parent!r}"))
            elif parent_loops(place.id, parents):
                problems.append(Problem(rel, place.id, "parent chain loops"))
    place_names = {n.casefold() for p in cur.places.values() for n in [p.name, *p.names]}
    for friend in cur.false_friends:
        if friend.not_place is not None and friend.not_place not in cur.places:
            problems.append(Problem(rel, friend.text, f"unknown place {friend.not_place!r}"))
        if friend.text.casefold() in place_names:
            problems.append(Problem(rel, friend.text, "a false friend is also a place's name"))


def _check_facts(cur: Curated, rel: str, problems: list[Problem]) -> None:
    ids = {f.id for f in cur.facts}
    for fact in cur.facts:
        def bad(reason: str, fact: Fact = fact) -> None:
            problems.append(Problem(rel, fact.id, reason))

        if fact.place not in cur.places:
            bad(f"unknown place {fact.place!r}")
        source = cur.sources.get(fact.source)
        if source is None:
            bad(f"unknown source {fact.source!r}")
        else:
            if len(fact.quote.strip()) < 3:
                bad("quote is missing: every curated fact quotes its source")
            for problem in fact_source_problems(fact, source, cur.texts[fact.source]):
                bad(problem)
            for problem in event_day_problems(fact, source):
                bad(problem)
        for problem in status_cue_problems(fact):
            bad(problem)
        for problem in link_problems(fact, ids.__contains__):
            bad(problem)
