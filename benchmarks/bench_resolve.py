#!/usr/bin/env python3
"""Benchmark place resolution at scale: the real gazetteer plus 200,000 synthetic names.

Not a test (timings vary by machine); run it when the resolver changes and compare:

    .venv/bin/python benchmarks/bench_resolve.py [--names 200000] [--queries 2000]

It prints the build time, the memory the resolver itself retains (tracemalloc: what it allocates
beyond the NameEntry list it is given), p50/p99 latencies in microseconds for exact, typo,
several-word, Arabic and hostile queries and for autocomplete, and the RSS of a bot-like process
(discord.py and friends imported, then the resolver built from streamed entries or from a list).
The budget: exact well under 1 ms, a typo at most about 3 ms at p99, the whole bot <= 100 MB RSS
at 200k names.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.curation.gazetteer import read_gazetteer  # noqa: E402
from bot.resolve import NameEntry, Resolver  # noqa: E402

CURATED: dict[str, tuple[int, list[str]]] = {
    "mosul": (3, ["Mosul", "Mawsil", "Al-Mawsil", "الموصل"]),
    "east-mosul": (3, ["East Mosul", "eastern Mosul"]),
    "ramadi": (3, ["Ramadi", "Ar-Ramadi", "الرمادي"]),
    "hit": (2, ["Hit", "Heet", "هيت"]),
    "deir-ez-zor": (3, ["Deir Ezzor", "Deir ez-Zor", "Dayr az-Zawr", "دير الزور"]),
    "palmyra": (3, ["Palmyra", "Tadmur", "تدمر"]),
    "fallujah": (3, ["Fallujah", "Falluja", "الفلوجة"]),
    "tal-afar": (2, ["Tal Afar", "Tall Afar", "Tel Afar", "تلعفر"]),
}
FALSE_FRIENDS = [
    ("Abu Bakr al-Baghdadi", "a person, the ISIS leader"),
    ("Baghdadi", "usually Abu Bakr al-Baghdadi, a person"),
    ("Operation Damascus", "a military operation"),
]

_ONSET_TEXT = "b t th j h kh d dh r z s sh f q k l m n w y g"
_ONSETS = _ONSET_TEXT.split()
_VOWELS = ["a", "i", "u", "aa", "ee", "ou", "ay", "e", "o"]
_PREFIXES = ["", "", "", "", "Al-", "Tell ", "Kafr ", "Deir ", "Ain ", "Umm ", "Abu ", "Bir "]
_ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def synthetic_entries(count: int, seed: int = 42) -> list[NameEntry]:
    """``count`` pseudo-names over ``count // 4`` places, deterministic for a seed: transliteration-
    like syllables with the prefixes real villages have, and one Arabic-script name in four."""
    return list(iter_synthetic(count, seed))


def iter_synthetic(count: int, seed: int = 42) -> Iterator[NameEntry]:
    """:func:`synthetic_entries` one at a time, as a store streaming its rows would give them."""
    rng = random.Random(seed)
    made = 0
    place = 0
    while made < count:
        pid = f"syn-{place}"
        place += 1
        pop = int(rng.paretovariate(1.2) * 300)
        prio = 1 if pop >= 100_000 else 0
        base = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4))
        ).capitalize()
        prefix = rng.choice(_PREFIXES)
        names = [prefix + base, base + rng.choice(["", "ah", "iyah", "a"]), base.lower() + "i"]
        names.append("".join(rng.choice(_ARABIC) for _ in range(rng.randint(3, 8))))
        for n in names[: count - made]:
            made += 1
            yield NameEntry(pid, n, prio, pop)


def iter_places(count: int, seed: int = 42) -> Iterator[NameEntry]:
    """``count`` places with one pseudo-name each (as the gazetteer-scale store has them), ids
    like the store's, streamed."""
    rng = random.Random(seed)
    for i in range(count):
        body = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4)))
        pop = int(rng.paretovariate(1.2) * 300)
        yield NameEntry(f"p{i:06d}", rng.choice(_PREFIXES) + body.capitalize(), 0, pop)


def real_entries() -> list[NameEntry]:
    out = [NameEntry(pid, n, prio, 100_000) for pid, (prio, ns) in CURATED.items() for n in ns]
    for g in read_gazetteer(ROOT / "data" / "gazetteer" / "iq_sy.tsv"):
        prio = 1 if g.population >= 100_000 else 0
        out.extend(NameEntry(f"gn-{g.geonames_id}", n, prio, g.population) for n in g.all_names)
    return out


def typo(rng: random.Random, name: str) -> str:
    """One random edit (substitute, delete, insert, transpose) away from ``name``."""
    i = rng.randrange(1, len(name) - 1)
    op = rng.randrange(4)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if op == 0:
        return name[:i] + letter + name[i + 1 :]
    if op == 1:
        return name[:i] + name[i + 1 :]
    if op == 2:
        return name[:i] + letter + name[i:]
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]


def timed(fn: Callable[[str], object], queries: Sequence[str]) -> tuple[float, float, float]:
    """p50, p99 and max of ``fn`` over ``queries``, in microseconds (after one warm-up pass)."""
    for q in queries[:50]:
        fn(q)
    samples = []
    for q in queries:
        t0 = time.perf_counter_ns()
        fn(q)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99, samples[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--names", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--no-rss", action="store_true", help="skip the bot-like RSS measurement")
    parser.add_argument("--rss-child", choices=["list", "stream", "places"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.names, args.rss_child)
        return
    rng = random.Random(7)

    real = real_entries()
    syn = synthetic_entries(args.names)
    entries = real + syn
    print(f"names: {len(entries)} ({len(real)} curated+gazetteer, {len(syn)} synthetic)")

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    resolver = Resolver(entries, FALSE_FRIENDS)
    build = time.perf_counter() - t0
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    # Build again untraced: tracemalloc slows allocation-heavy code several times over.
    del resolver
    gc.collect()
    t0 = time.perf_counter()
    resolver = Resolver(entries, FALSE_FRIENDS)
    build_untraced = time.perf_counter() - t0
    print(f"build: {build_untraced * 1000:.0f} ms ({build * 1000:.0f} ms under tracemalloc)")
    print(
        f"resolver memory (tracemalloc): retained {retained / 2**20:.1f} MiB, "
        f"peak during build {peak / 2**20:.1f} MiB"
    )

    n = args.queries
    syn_latin = [e.name for e in syn if e.name.isascii()]
    syn_arabic = [e.name for e in syn if not e.name.isascii()]
    real_latin = [e.name for e in real if e.name.isascii() and len(e.name) > 3]
    real_arabic = [e.name for e in real if not e.name.isascii() and "ا" in e.name]
    harakat = "\u064e\u0650\u064f\u0652"

    def with_marks(s: str) -> str:
        return "".join(c + (rng.choice(harakat) if rng.random() < 0.5 else "") for c in s)

    exact = [rng.choice(syn_latin) for _ in range(n // 2)]
    exact += [rng.choice(real_latin) for _ in range(n // 2)]
    owner = {e.name: e.place_id for e in entries}
    typo_src = [rng.choice([s for s in syn_latin if len(s) >= 6]) for _ in range(n // 2)]
    typo_src += [rng.choice([s for s in real_latin if len(s) >= 6]) for _ in range(n // 2)]
    typos = [typo(rng, s) for s in typo_src]
    templates = ["what is happening in {}", "{}, Iraq", "the city of {}", "status {} today"]
    words = [rng.choice(templates).format(rng.choice(real_latin + syn_latin)) for _ in range(n)]
    arabic = [rng.choice(real_arabic + syn_arabic) for _ in range(n // 2)]
    arabic += [with_marks(rng.choice(real_arabic)) for _ in range(n // 2)]
    prefixes = [rng.choice(real_latin + syn_latin)[: rng.randint(0, 4)] for _ in range(n)]
    hostile = [
        "<@123>",
        "@everyone",
        "'; DROP TABLE places;--",
        "\u200b\u202e",
        "🔥" * 50,
        "x" * 10_000,
        "a b c d e f g h i j k l m n o p q r s t u v w x y z " * 3,
    ]

    kinds: dict[str, dict[str, int]] = {}
    print(f"\n{'queries':<22}{'p50 µs':>9}{'p99 µs':>9}{'max µs':>9}   kinds")
    for label, qs in [
        ("exact", exact),
        ("typo (1 edit)", typos),
        ("several words", words),
        ("arabic (+harakat)", arabic),
        ("hostile", hostile * (n // len(hostile))),
    ]:
        p50, p99, worst = timed(resolver.resolve, qs)
        counts: dict[str, int] = {}
        for q in qs:
            k = resolver.resolve(q).kind
            counts[k] = counts.get(k, 0) + 1
        kinds[label] = counts
        print(f"{label:<22}{p50:>9.1f}{p99:>9.1f}{worst:>9.1f}   {counts}")
    right = offered = 0
    for src, q in zip(typo_src, typos, strict=True):
        res = resolver.resolve(q)
        right += res.place_id == owner[src]
        offered += res.place_id == owner[src] or owner[src] in res.suggestions
    print(
        f"{'':<22}typos resolved to the intended place: {right / len(typos):.0%}, "
        f"intended place answered or suggested: {offered / len(typos):.0%}"
    )
    p50, p99, worst = timed(resolver.complete, prefixes)
    print(f"{'complete (0-4 chars)':<22}{p50:>9.1f}{p99:>9.1f}{worst:>9.1f}")

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis process, peak RSS: {rss:.0f} MiB (test data, query lists, tracemalloc)")
    if not args.no_rss:
        for mode in ("stream", "list", "places"):
            out = subprocess.run(
                [sys.executable, __file__, "--rss-child", mode, "--names", str(args.names)],
                capture_output=True,
                text=True,
                check=True,
            )
            print(out.stdout.strip())


def rss_child(names: int, mode: str) -> None:
    """What the bot's process would hold: its heavy imports, then the resolver built from
    NameEntry rows either streamed one at a time or first gathered in a list that is dropped
    afterwards (freed memory mostly stays with the process, so the list costs RSS for good); or
    streamed as ``names`` places of one name each, the store's shape at gazetteer scale."""
    import aiosqlite  # noqa: F401
    import discord  # noqa: F401
    import pydantic_settings  # noqa: F401

    def rss_mib(field: str = "VmRSS") -> float:
        # /proc rather than getrusage: ru_maxrss survives exec, so a child started from this
        # benchmark would report the parent's peak; VmHWM starts afresh.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    imported = rss_mib()
    if mode == "places":
        resolver = Resolver(chain(real_entries(), iter_places(names)), FALSE_FRIENDS)
    elif mode == "stream":
        resolver = Resolver(chain(real_entries(), iter_synthetic(names)), FALSE_FRIENDS)
    else:
        entries = real_entries() + synthetic_entries(names)
        resolver = Resolver(entries, FALSE_FRIENDS)
        del entries
    gc.collect()
    after = rss_mib()
    resolver.resolve("Mosul")
    peak = rss_mib("VmHWM")
    how = {"stream": "streamed", "list": "in a list", "places": f"{names} one-name places streamed"}
    print(
        f"bot-like process, entries {how[mode]}: "
        f"RSS {imported:.0f} MiB after importing discord.py, aiosqlite, rapidfuzz, "
        f"pydantic-settings; {after:.0f} MiB with the resolver built (peak {peak:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
