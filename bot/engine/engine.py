"""The answer engine: status, timeline, search, sources, source, places and help, as ``Answer``s.

This is the one place where questions are answered. The Discord cogs, the console and
``sitrep ask`` all call ``Engine`` and only render differently, so a fix here fixes every front end.
Rules the answers keep: a place's answer only ever shows facts about that place (or its parts, which
are named); an unknown name gets "no facts" and suggestions, never a nearby place's facts; the
source, its date and any hedge or opinion label travel with every fact.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from bot.domain.model import Answer, FactView, PlaceRef, SourceRef, Status
from bot.domain.search import search_terms
from bot.engine.commands import COMMANDS, ParsedCommand, parse_command
from bot.resolve import Resolution, Resolver
from bot.store.base import Store

STATUS_FACTS = 6
STATUS_CANDIDATES = 24
"""Newest facts a status looks at: enough to find the newest report's situation and fill the
answer, few enough that a place with thousands of facts costs no more than one with ten."""
TIMELINE_LIMIT = 1000
SEARCH_RESULTS = 10
ANSWER_CACHE = 128
CACHE_FACTS_AT_MOST = 60
RESOLVERS_KEPT = 8
"""Resolvers kept in memory: the shared one plus those of the servers that added names lately."""
MAX_QUERY = 100
"""Echoed queries are cut to this many characters: enough for any place name."""

SUBSTANTIVE_MODALITIES = {"reported", "analysis", "opinion", "speculation"}


@dataclass(slots=True)
class _Resolved:
    place: PlaceRef | None
    ids: list[str]
    resolution: Resolution
    failure: Answer | None


def _ago(then: date, today: date) -> str:
    days = (today - then).days
    if days >= 730:
        return f"{days // 365} years old"
    if days >= 60:
        return f"{days // 30} months old"
    return f"{days} days old"


def number_sources(facts: Iterable[FactView]) -> list[SourceRef]:
    """The distinct sources of ``facts`` in order of first appearance: footnote [1], [2], ..."""
    seen: dict[str, SourceRef] = {}
    for fact in facts:
        seen.setdefault(fact.source.id, fact.source)
    return list(seen.values())


def _is_substantive(fact: FactView) -> bool:
    return fact.status is not None or fact.modality in SUBSTANTIVE_MODALITIES


def _headline_fact(facts: list[FactView]) -> FactView | None:
    """The fact that best states the current situation: from the newest report that says something
    substantive, preferring a fact with a status label, then a preferred rank, then the latest
    event."""
    substantive = [f for f in facts if _is_substantive(f)]
    if not substantive:
        return None
    newest = max(f.as_of for f in substantive)
    candidates = [f for f in substantive if f.as_of == newest]
    return max(candidates, key=lambda f: (f.status is not None, f.rank == "preferred",
                                          f.event_date.sort_key(f.as_of)))


def describe_source(source: SourceRef) -> str:
    """"an opinion column (The Duran)" — how a reply names the kind of source in a caveat."""
    kind = {"opinion": "an opinion column", "blog": "a blog post", "analysis": "an analysis",
            "wire": "a wire report", "news": "a news report"}.get(source.genre, "a report")
    return f"{kind} ({source.outlet})"


def release_free_memory() -> None:
    """Hand memory freed after building the resolver back to the OS (glibc keeps it otherwise,
    and the container's memory limit counts it). A no-op where glibc's malloc_trim is missing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Engine:
    """Answers questions from an open store. One per process; safe to share between tasks."""

    def __init__(self, store: Store, *, stale_after_days: int = 365,
                 today: Callable[[], date] = date.today, prefix: str = "!") -> None:
        self.store = store
        self.stale_after_days = stale_after_days
        self.today = today
        self.prefix = prefix
        self._resolvers: dict[int, Resolver] = {}
        self._own_names: dict[int, bool] = {}
        # Bumped by ``invalidate``: an answer or resolver computed while the store changed under
        # it is returned but not kept, so a change can never be hidden by a stale cache entry.
        self._epochs: dict[int, int] = {}
        self._epoch_all = 0
        self._answers: OrderedDict[tuple[str, str, int, date], Answer] = OrderedDict()
        self._children: dict[str, list[str]] = {}
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, store: Store, *, stale_after_days: int = 365,
                   today: Callable[[], date] = date.today, prefix: str = "!") -> Engine:
        """An engine over an open store, with the shared resolver built. The store stays the
        caller's to close."""
        engine = cls(store, stale_after_days=stale_after_days, today=today, prefix=prefix)
        await engine.refresh()
        return engine

    def invalidate(self, guild: int | None = None, *, names: bool = False) -> None:
        """Forget cached answers (of one server, or all); every write to the store must call this.
        ``names``: the server's place names changed too, so its resolver is rebuilt on next use."""
        if guild is None:
            self._epoch_all += 1
            self._answers.clear()
        else:
            self._epochs[guild] = self._epochs.get(guild, 0) + 1
            for key in [k for k in self._answers if k[2] == guild]:
                del self._answers[key]
        if names and guild:
            self._resolvers.pop(guild, None)
            self._own_names.pop(guild, None)

    async def refresh(self) -> None:
        """Reload the names and the place hierarchy after the store changed."""
        self.invalidate()
        self._children = await self.store.child_places()
        self._resolvers.clear()
        self._own_names.clear()
        await self.resolver(0)
        # The resolver is hundreds of thousands of long-lived objects: move them out of the
        # cyclic collector's reach, or every full collection walks them all (~200 ms at 200k
        # names, measured) and stalls the event loop.
        gc.collect()
        gc.freeze()
        release_free_memory()

    async def resolver(self, guild: int) -> Resolver:
        """The resolver for a server: the shared one, unless the server has added places or names
        of its own, in which case it gets one built from both (kept while those stay the same).
        Built off the event loop: 200k names take long enough to stall it."""
        if guild and not await self._has_own_names(guild):
            guild = 0
        if guild not in self._resolvers:
            async with self._lock:
                if guild not in self._resolvers:
                    epoch = self._epoch(guild)
                    friends = await self.store.false_friends()
                    built = await asyncio.to_thread(
                        lambda: Resolver(self.store.name_entries(guild), friends))
                    if self._epoch(guild) != epoch:
                        return built  # names changed while building: use it once, keep none
                    self._resolvers[guild] = built
                    while len(self._resolvers) > RESOLVERS_KEPT:
                        oldest = next(k for k in self._resolvers if k != 0)
                        del self._resolvers[oldest]
        return self._resolvers[guild]

    def _epoch(self, guild: int) -> tuple[int, int]:
        return self._epoch_all, self._epochs.get(guild, 0)

    async def _has_own_names(self, guild: int) -> bool:
        own = self._own_names.get(guild)
        if own is None:
            epoch = self._epoch(guild)
            own = await self.store.has_own_names(guild)
            if self._epoch(guild) == epoch:
                self._own_names[guild] = own
        return own

    def _descendants(self, place_id: str) -> list[str]:
        out, todo = [place_id], [place_id]
        while todo:
            for child in self._children.get(todo.pop(), []):
                if child not in out:
                    out.append(child)
                    todo.append(child)
        return out

    async def _suggestions(self, ids: Iterable[str], guild: int) -> list[PlaceRef]:
        return await self.store.places_by_ids(list(dict.fromkeys(ids))[:5], guild)

    async def _resolve(self, command: str, query: str, guild: int,
                       place_id: str | None = None) -> _Resolved:
        query = query.strip()[:MAX_QUERY]
        if place_id is not None:  # a button or autocomplete choice that already names the place
            place = await self.store.place_by_id(place_id, guild)
            if place is not None:
                exact = Resolution("exact", place.id, 100.0, place.name, ())
                return _Resolved(place, self._descendants(place.id), exact, None)
        resolver = await self.resolver(guild)
        res = resolver.resolve(query)
        suggested = list(res.suggestions)
        if res.kind == "none" and len(query) >= 2:
            # nothing close enough to guess: names that start like the query come first
            prefixed = [pid for pid, _ in resolver.complete(query, 5)]
            suggested = list(dict.fromkeys([*prefixed, *suggested]))[:5]
        suggestions = await self._suggestions(suggested, guild)

        def fail(error: str, message: str) -> _Resolved:
            return _Resolved(None, [], res, Answer(command=command, query=query, error=error,
                                                   message=message, suggestions=suggestions))

        if res.kind == "bad_input":
            return fail("bad_input", f"Give a place name, for example `{self.prefix}{command} "
                                     "Mosul`.")
        if res.kind == "not_a_place":
            return fail("not_a_place", f"“{query}” is not a place"
                        + (f": {res.note}." if res.note else "."))
        if res.kind == "ambiguous":
            return fail("ambiguous", f"“{query}” could be more than one place: which one?")
        if res.kind == "none" or res.place_id is None:
            hint = " Did you mean one of these?" if suggestions else ""
            return fail("unknown_place", f"No facts: “{query}” is not a place I know.{hint}")
        place = await self.store.place_by_id(res.place_id, guild)
        if place is None:  # a name whose place was removed since the resolver was built
            return fail("unknown_place", f"No facts: “{query}” is not a place I know.")
        return _Resolved(place, self._descendants(place.id), res, None)

    def _no_facts(self, command: str, query: str, r: _Resolved) -> Answer:
        assert r.place is not None
        where = ", ".join(x for x in (r.place.governorate, _country(r.place.country)) if x)
        closest = f" (the closest match to “{query.strip()[:MAX_QUERY]}”)" \
            if r.resolution.kind == "fuzzy" else ""
        return Answer(command=command, query=query, place=r.place, error="no_facts",
                      message=f"{r.place.name}{f' ({where})' if where else ''}{closest} is a "
                              "place I know, but the store has no facts about it yet.")

    def _fuzzy_note(self, query: str, r: _Resolved) -> list[str]:
        if r.resolution.kind == "fuzzy" and r.place is not None:
            return [f"Showing {r.place.name} for “{query.strip()[:MAX_QUERY]}”."]
        return []

    async def status(self, query: str, guild: int = 0, *, place_id: str | None = None) -> Answer:
        r = await self._resolve("status", query, guild, place_id)
        if r.failure:
            return r.failure
        assert r.place is not None
        facts = await self.store.latest_facts(r.ids, guild, STATUS_CANDIDATES)
        if not facts:
            return self._no_facts("status", query, r)
        total = await self._total(facts, STATUS_CANDIDATES, r.ids, guild)
        message = f"{total} fact(s) about {r.place.name}."
        head = _headline_fact(facts)
        if head is None:  # only background (where a place lies, what it is): no situation to lead
            shown = facts[:STATUS_FACTS]
            return Answer(command="status", query=query, place=r.place, as_of=shown[0].as_of,
                          facts=shown, sources=number_sources(shown),
                          notes=[*self._fuzzy_note(query, r),
                                 f"The store has only background about {r.place.name}, "
                                 "no report on its situation.", *self._age_note(shown[0])],
                          message=message)
        # After the headline: newer reports first and, within a report, the facts that speak to
        # the situation (a status label) before the rest; the query already gives article order.
        others = sorted((f for f in facts if f.id != head.id),
                        key=lambda f: (f.source.id != head.source.id, -f.as_of.toordinal(),
                                       f.status is None))
        shown = [head, *others][:STATUS_FACTS]
        notes = self._fuzzy_note(query, r) + self._caveats(head)
        return Answer(command="status", query=query, place=r.place, as_of=head.as_of,
                      headline=self._headline(head), facts=shown, sources=number_sources(shown),
                      notes=notes, message=message)

    async def _total(self, facts: list[FactView], cap: int, ids: list[str], guild: int) -> int:
        """How many facts there are: ``len(facts)`` unless the query stopped at its cap."""
        if len(facts) < cap:
            return len(facts)
        return await self.store.count_facts(ids, guild)

    def _headline(self, fact: FactView) -> str:
        label = Status(fact.status).label if fact.status else None
        return f"{label}: {fact.summary}" if label else fact.summary

    def _age_note(self, newest: FactView) -> list[str]:
        if (self.today() - newest.as_of).days <= self.stale_after_days:
            return []
        return [f"The newest information is from {newest.source.published_label}, "
                f"{_ago(newest.as_of, self.today())}: the situation may have changed."]

    def _caveats(self, head: FactView) -> list[str]:
        notes = self._age_note(head)
        if head.source.genre in {"opinion", "blog"} or head.modality in {"opinion",
                                                                          "speculation"}:
            notes.append(f"This comes from {describe_source(head.source)}.")
        if head.hedged:
            notes.append("The source hedges this claim.")
        if head.contradicts:
            notes.append("Other reports contradict this; see the timeline.")
        return notes

    async def timeline(self, query: str, guild: int = 0, *,
                       place_id: str | None = None) -> Answer:
        r = await self._resolve("timeline", query, guild, place_id)
        if r.failure:
            return r.failure
        assert r.place is not None
        facts = await self.store.timeline_facts(r.ids, guild, TIMELINE_LIMIT)
        if not facts:
            return self._no_facts("timeline", query, r)
        notes = self._fuzzy_note(query, r)
        total = await self._total(facts, TIMELINE_LIMIT, r.ids, guild)
        if total > len(facts):
            notes.append(f"Showing the oldest {len(facts)} of {total} facts; `search` narrows "
                         "them down.")
        return Answer(command="timeline", query=query, place=r.place,
                      as_of=max(f.as_of for f in facts), facts=facts,
                      sources=number_sources(facts), notes=notes,
                      message=f"{total} fact(s) about {r.place.name}, oldest first.")

    async def search(self, text: str, guild: int = 0) -> Answer:
        text = text.strip()[:MAX_QUERY]
        terms = search_terms(text)
        if terms is None:
            return Answer(command="search", query=text, error="bad_input",
                          message=f"Give some words to search for, for example "
                                  f"`{self.prefix}search surrounded`.")
        hits = await self.store.search_facts(terms, guild, SEARCH_RESULTS)
        if not hits:
            return Answer(command="search", query=text, error="no_results",
                          message=f"No fact mentions “{text}”.")
        facts = [f for f, _ in hits]
        return Answer(command="search", query=text, facts=facts, sources=number_sources(facts),
                      lines=[snip for _, snip in hits],
                      message=f"{len(facts)} fact(s) match “{text}”, best first.")

    async def sources(self, guild: int = 0) -> Answer:
        rows = await self.store.sources(guild)
        return Answer(command="sources", query="", sources=[s for s, _ in rows],
                      lines=[f"{n} fact(s)" for _, n in rows],
                      message=f"{len(rows)} source(s), oldest first.")

    async def place_sources(self, query: str, guild: int = 0, *,
                            place_id: str | None = None) -> Answer:
        """The sources that speak about one place, oldest first, with how many facts each gives."""
        line = await self.timeline(query, guild, place_id=place_id)
        if line.error:
            return line.model_copy(update={"command": "sources"})
        counts: dict[str, int] = {}
        for fact in line.facts:
            counts[fact.source.id] = counts.get(fact.source.id, 0) + 1
        ordered = sorted(line.sources, key=lambda s: s.published)
        assert line.place is not None
        return Answer(command="sources", query=query, place=line.place, sources=ordered,
                      lines=[f"{counts[s.id]} fact(s) about {line.place.name}" for s in ordered],
                      message=f"{len(ordered)} source(s) speak about {line.place.name}.")

    async def source(self, source_id: str, guild: int = 0) -> Answer:
        source_id = source_id.strip()[:MAX_QUERY]
        rows = await self.store.sources(guild)
        wanted = source_id.casefold()
        matches = [(s, n) for s, n in rows if s.id.casefold() == wanted] or \
                  [(s, n) for s, n in rows if wanted and s.id.casefold().startswith(wanted)]
        if len(matches) != 1:
            return Answer(command="source", query=source_id, error="unknown_source",
                          message=f"No source “{source_id}”. Try `{self.prefix}sources`."
                          if not matches else f"“{source_id}” matches several sources.")
        src, count = matches[0]
        places = await self.store.source_places(src.id, guild)
        return Answer(command="source", query=source_id, sources=[src],
                      lines=places, message=f"{count} fact(s) about {len(places)} place(s).")

    async def places(self, guild: int = 0) -> Answer:
        rows = await self.store.places_with_facts(guild)
        return Answer(command="places", query="",
                      suggestions=[r.place for r in rows],
                      lines=[f"{r.facts} fact(s), latest report "
                             f"{r.latest.isoformat() if r.latest else '-'}" for r in rows],
                      message=f"{len(rows)} place(s) have facts.")

    def help(self) -> Answer:
        lines = [f"{self.prefix}{c.usage} — {c.summary}" for c in COMMANDS.values()]
        return Answer(command="help", query="", lines=lines,
                      message="Answers come from a curated store of sourced, dated facts.")

    async def run(self, cmd: ParsedCommand, guild: int = 0) -> Answer:
        """Dispatch a parsed command; the one entry point every front end uses.

        Answers are cached per (command, query, server, day): popular questions repeat, and the
        store changes only through this process (which then calls ``invalidate``) or a rebuild at
        start. The day is in the key because "N years old" notes depend on it."""
        key = (cmd.name, " ".join(cmd.argument.casefold().split()), guild, self.today())
        cached = self._answers.get(key)
        if cached is not None:
            self._answers.move_to_end(key)
            return cached
        epoch = self._epoch(guild)
        answer = await self._run(cmd, guild)
        if len(answer.facts) > CACHE_FACTS_AT_MOST or self._epoch(guild) != epoch:
            return answer  # a long timeline would hold megabytes; a raced one may be stale
        self._answers[key] = answer
        if len(self._answers) > ANSWER_CACHE:
            self._answers.popitem(last=False)
        return answer

    async def _run(self, cmd: ParsedCommand, guild: int) -> Answer:
        match cmd.name:
            case "status":
                return await self.status(cmd.argument, guild)
            case "timeline":
                return await self.timeline(cmd.argument, guild)
            case "search":
                return await self.search(cmd.argument, guild)
            case "sources":
                return await self.sources(guild)
            case "source":
                return await self.source(cmd.argument, guild)
            case "places":
                return await self.places(guild)
            case _:
                return self.help()

    async def ask(self, text: str, guild: int = 0, *, require_prefix: bool = False) -> Answer:
        parsed = parse_command(text, self.prefix, require_prefix=require_prefix)
        if isinstance(parsed, str):
            return Answer(command="", query=text.strip()[:MAX_QUERY], error="bad_input",
                          message=parsed)
        return await self.run(parsed, guild)


COUNTRY_NAMES = {"IQ": "Iraq", "SY": "Syria", "JO": "Jordan", "TR": "Turkey", "LB": "Lebanon",
                 "IR": "Iran", "SA": "Saudi Arabia", "KW": "Kuwait", "US": "United States",
                 "RU": "Russia", "LY": "Libya", "EG": "Egypt", "IL": "Israel", "YE": "Yemen"}


def _country(code: str | None) -> str | None:
    return COUNTRY_NAMES.get(code, code) if code else None


def place_context(place: PlaceRef) -> str:
    """"Iraq, Nineveh": where a place is, for titles."""
    return ", ".join(x for x in (_country(place.country), place.governorate) if x)
