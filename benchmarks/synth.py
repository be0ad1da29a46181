"""Synthetic stores at scale: 200k places with one pronounceable name each and 100k-1M facts.

Everything is deterministic (``random.Random(42)``) so that two runs measure the same data. The
store is written by ``sitrep build``'s own path (``bot.store.stores.write_build``, the large load
at these sizes) from rows in the build's column layout (:func:`build_rows`): a few hundred
template facts are real ``Fact`` models turned into rows by ``bot.store.build.fact_row`` (so
dates, sort keys and enum values are what the build writes), and each synthetic fact is a
template row with its own id, place, quote and summary.

Facts are spread over places as the real store will be: most places have a handful, a thousand
"hot" places (curated, like Mosul) take a fifth of all facts with Zipf weights, so the busiest
place has tens of thousands at 1M.

"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import aiosqlite

from bot.domain.model import DateSpec, Fact, Genre, Modality, Precision, Qualifier, Rank, Source, Status
from bot.store import build, bulk, schema
from bot.store.build import FACT_COLUMNS, BuildRows, fact_row
from bot.store.stores import write_build

SEED = 42
N_PLACES = 200_000
N_HOT = 1_000
HOT_SHARE = 0.2
N_SOURCES = 24
N_TEMPLATES = 400
CREATED_AT = "2026-01-01T00:00:00+00:00"

_COLUMNS = FACT_COLUMNS.split(", ")
I_ID, I_PLACE, I_QUOTE, I_SUMMARY = (_COLUMNS.index(c) for c in ("id", "place_id", "quote",
                                                                   "summary"))

_ONSETS = [
    "b", "t", "th", "j", "h", "kh", "d", "dh", "r", "z", "s", "sh", "f", "q", "k", "l", "m", "n",
    "w", "y", "g",
]
_VOWELS = ["a", "i", "u", "aa", "ee", "ou", "ay", "e", "o"]
_CODAS = ["", "", "", "n", "r", "l", "m", "t", "s", "k"]
_PREFIXES = [""] * 12 + ["Tell ", "Kafr ", "Deir ", "Ain ", "Umm ", "Abu ", "Bir ", "Al-", "Tal "]
_GOVERNORATES = ["Nineveh", "Anbar", "Salah ad-Din", "Kirkuk", "Diyala", "Baghdad", "Raqqa",
                 "Deir ez-Zor", "Aleppo", "Homs", "Hasakah", "Idlib"]
_NEWS_WORDS = [
    "the", "of", "and", "in", "to", "a", "forces", "city", "isis", "fighters", "army", "iraqi",
    "syrian", "government", "said", "control", "offensive", "attack", "killed", "town", "village",
    "militants", "airstrikes", "coalition", "troops", "police", "reported", "according",
    "officials", "sources", "recaptured", "surrounded", "besieged", "liberated", "withdrew",
    "advancing", "clashes", "checkpoint", "bridge", "district", "province", "islamic", "state",
    "militia", "kurdish", "peshmerga", "civilians", "displaced", "tunnels", "mortar", "shelling",
    "convoy", "commander", "operation", "front", "line",
]


def pseudo_names(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct transliteration-like names ("Deir Khaloumar", "Shaytibas"): realistic
    enough that fuzzy matching meets near neighbours, as it does with real gazetteer names."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        body = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                       for _ in range(rng.randint(2, 4)))
        name = rng.choice(_PREFIXES) + body.capitalize()
        if name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return out


def misspell(name: str, rng: random.Random) -> str:
    """Drop a letter or swap two neighbours, never the first letter: the slips members make."""
    i = rng.randrange(1, len(name) - 1)
    if rng.random() < 0.5:
        return name[:i] + name[i + 1:]
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


@dataclass(slots=True)
class Synthetic:
    """The generated data: places with their names, sources, text pools and the fact plan."""

    names: list[str]
    place_ids: list[str]
    sources: list[Source]
    vocab: list[str]
    templates: list[tuple[object, ...]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)


def make_synthetic(seed: int = SEED, n_places: int = N_PLACES) -> Synthetic:
    """Places, sources, template fact rows and text pools (facts themselves come from
    :func:`fact_rows`, generated for any count from the same pools)."""
    rng = random.Random(seed)
    names = pseudo_names(n_places, rng)
    place_ids = [f"p{i:06d}" for i in range(n_places)]
    vocab = _NEWS_WORDS + pseudo_names(4000, rng)
    vocab = [w.lower().replace(" ", "") for w in vocab]
    cum = list(itertools.accumulate(1 / (r + 1) for r in range(len(vocab))))

    def sentence(lo: int, hi: int) -> str:
        return " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(lo, hi)))

    genres = list(Genre)
    sources = []
    for k in range(N_SOURCES):
        day = date(2014, 6, 1) + timedelta(days=k * 95 + rng.randrange(60))
        sources.append(Source(id=f"syn_{k:03d}", outlet=f"Outlet {k % 7}", title=f"Report {k}",
                              genre=genres[k % len(genres)],
                              published=DateSpec.single_day(day)))
    syn = Synthetic(names, place_ids, sources, vocab)
    statuses: list[Status | None] = [*Status, *([None] * len(Status))]
    for k in range(N_TEMPLATES):
        src = sources[k % N_SOURCES]
        pub = src.as_of
        ev = rng.choice(["day", "month", "year", "by", "since", "about", "unknown"])
        back = pub - timedelta(days=rng.randrange(0, 400))
        event: DateSpec
        if ev == "unknown":
            event = DateSpec()
        elif ev == "year":
            event = DateSpec.model_validate(str(back.year))
        elif ev in ("month", "by", "since", "about"):
            prefix = {"month": "", "by": "by ", "since": "since ", "about": "~"}[ev]
            event = DateSpec.model_validate(f"{prefix}{back:%Y-%m}")
        else:
            event = DateSpec.single_day(back)
        assert event.precision is Precision.UNKNOWN or event.qualifier in Qualifier
        fact = Fact(id=f"tpl-{k}", place="p000000", source=src.id, quote="template quote",
                    summary="template summary", attribution=rng.choice([None, "officials", "AFP"]),
                    hedged=rng.random() < 0.2, modality=rng.choice(list(Modality)), event=event,
                    status=rng.choice(statuses),
                    rank=rng.choices(list(Rank), weights=[10, 88, 2])[0])
        syn.templates.append(fact_row(fact, src, guild_id=0, origin="curated",
                                      created_at=CREATED_AT, created_by=None))
    syn.quotes = [sentence(8, 20) for _ in range(20_000)]
    syn.summaries = [sentence(5, 11) for _ in range(20_000)]
    return syn


def fact_rows(syn: Synthetic, n: int, seed: int = SEED) -> list[tuple[object, ...]]:
    """``n`` fact rows: 80% on uniformly random places, 20% on the hot places with Zipf weights."""
    rng = random.Random(seed + n)
    hot_cum = list(itertools.accumulate(1 / (r + 1) for r in range(N_HOT)))
    n_places = len(syn.place_ids)
    rows: list[tuple[object, ...]] = []
    templates, quotes, summaries, pids = syn.templates, syn.quotes, syn.summaries, syn.place_ids
    total = hot_cum[-1]
    for i in range(n):
        if rng.random() < HOT_SHARE:
            place = bisect.bisect_left(hot_cum, rng.random() * total)
        else:
            place = rng.randrange(n_places)
        row = list(templates[rng.randrange(N_TEMPLATES)])
        row[I_ID] = f"f{i:07d}"
        row[I_PLACE] = pids[place]
        row[I_QUOTE] = quotes[rng.randrange(len(quotes))]
        row[I_SUMMARY] = summaries[rng.randrange(len(summaries))]
        rows.append(tuple(row))
    return rows


def build_rows(syn: Synthetic, n_facts: int) -> BuildRows:
    """The rows of a build of ``n_facts`` synthetic facts, in the column order of the curated
    build's own statements, for ``write_build``: the benchmarks time ``sitrep build``'s path."""
    rng = random.Random(SEED)
    places: list[tuple[object, ...]] = []
    for i, (pid, name) in enumerate(zip(syn.place_ids, syn.names, strict=True)):
        hot = i < N_HOT
        places.append((pid, "curated" if hot else "gazetteer", name,
                       "city" if hot else "populated_place", None, rng.choice(["IQ", "SY"]),
                       rng.choice(_GOVERNORATES), None, None, None,
                       int(rng.paretovariate(1.2) * 300) + i % 97))
    sources: list[tuple[object, ...]] = [
        (s.id, "curated", s.outlet, s.title, None, None, s.genre.value, str(s.published.start),
         str(s.published.end), s.published.precision.value, s.published.basis.value, None, None,
         None, None) for s in syn.sources]
    return BuildRows(digest=f"synthetic-{n_facts}-{len(places)}", sources=sources, places=places,
                     gazetteer_places=len(places) - N_HOT,
                     names=[(p[0], p[2], p[1]) for p in places], false_friends=[],
                     facts=fact_rows(syn, n_facts), fact_count=n_facts, links=[])


async def fact_counts(conn: aiosqlite.Connection) -> list[tuple[str, str, int]]:
    """(place id, name, number of facts) for every place with facts, busiest first."""
    rows = await conn.execute_fetchall(
        "SELECT p.id, p.name, c.n FROM (SELECT place_id, count(*) AS n FROM facts "
        "GROUP BY place_id) c JOIN places p ON p.id = c.place_id ORDER BY c.n DESC, p.id")
    return [(str(a), str(b), int(n)) for a, b, n in rows]


CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "bench-cache"
"""Where :func:`cached_store` keeps synthetic stores between runs (``var/`` is not committed)."""


def _cache_key(n_facts: int, n_places: int) -> str:
    """Changes whenever the data or the schema could: this module's source, the schema's and the
    sizes; a stale file is never reused."""
    digest = hashlib.sha256()
    for module_file in (Path(__file__), Path(schema.__file__), Path(build.__file__),
                        Path(bulk.__file__)):
        digest.update(module_file.read_bytes())
    digest.update(f"{n_facts}/{n_places}".encode())
    return digest.hexdigest()[:12]


def _fresh_partial(path: Path) -> Path:
    """Make room for a new cached file: remove other versions of it and any half-built one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{stem}-*.db*"):
        old.unlink()  # an older schema's or generator's file, or a build that was interrupted
    return path.with_name(path.name + ".partial")


async def cached_store(n_facts: int, n_places: int = N_PLACES, *,
                       cache_dir: Path = CACHE_DIR) -> tuple[Path, Synthetic, bool]:
    """The synthetic SQLite store of ``n_facts`` facts over ``n_places`` places, built with
    ``write_build`` the first time and reused afterwards (the file is only ever read by
    the benchmarks that use it). Returns (file, the generated data, whether it was reused)."""
    syn = make_synthetic(n_places=n_places)
    path = cache_dir / f"synthetic-{n_facts}-{n_places}-{_cache_key(n_facts, n_places)}.db"
    if path.exists():
        return path, syn, True
    partial = _fresh_partial(path)
    await write_build(partial, build_rows(syn, n_facts))
    partial.rename(path)
    return path, syn, False
