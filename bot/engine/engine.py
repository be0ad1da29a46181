"""The answer engine: status, timeline, search, sources, source, places and help, each as its
own answer type (``bot.engine.answers``).

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
from typing import assert_never

from bot.domain.errors import OverBudget
from bot.domain.model import FactView, PlaceRef, SourceRef
from bot.domain.search import search_terms
from bot.engine.answers import (
    Answer,
    ErrorCode,
    FailureAnswer,
    HelpAnswer,
    HelpEntry,
    ListedSource,
    PlacesAnswer,
    PlaceSourcesAnswer,
    SearchAnswer,
    SearchHit,
    SourceAnswer,
    SourcesAnswer,
    StatusAnswer,
    TimelineAnswer,
)
from bot.engine.commands import COMMANDS, Command, ParsedCommand, parse_command
from bot.engine.ranking import (
    after_headline,
    age_note,
    caveats,
    headline_fact,
    headline_text,
    number_sources,
)
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

@dataclass(slots=True)
class _Resolved:
    place: PlaceRef | None
    ids: list[str]
    resolution: Resolution
    failure: FailureAnswer | None


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
        self._answers: OrderedDict[tuple[Command, str, int, date], Answer] = OrderedDict()
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

    async def refresh(self, *, full_collection: bool = True) -> None:
        """Reload the names and the place hierarchy after the store changed."""
        self.invalidate()
        self._children = await self.store.child_places()
        self._resolvers.clear()
        self._own_names.clear()
        await self.resolver(0)
        # The resolver is hundreds of thousands of long-lived objects: move them out of the
        # cyclic collector's reach, or every full collection walks them all (~200 ms at 200k
        # names, measured) and stalls the event loop. At start a full collection first, so that
        # nothing dead is frozen; on a reload while serving (``bot.engine.follow``), the young
        # generations only: the new resolver is young, and a full collection of a big heap
        # would hold the loop for longer than the reload itself.
        gc.collect(generation=2 if full_collection else 1)
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

    async def _resolve(self, command: Command, query: str, guild: int,
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

        def fail(error: ErrorCode, message: str) -> _Resolved:
            return _Resolved(None, [], res, FailureAnswer.model_construct(
                command=command, query=query, error=error, message=message,
                suggestions=suggestions))

        if res.kind == "bad_input":
            return fail(ErrorCode.BAD_INPUT, f"Give a place name, for example "
                                             f"`{self.prefix}{command} Mosul`.")
        if res.kind == "not_a_place":
            return fail(ErrorCode.NOT_A_PLACE, f"“{query}” is not a place"
                        + (f": {res.note}." if res.note else "."))
        if res.kind == "ambiguous":
            return fail(ErrorCode.AMBIGUOUS,
                        f"“{query}” could be more than one place: which one?")
        if res.kind == "none" or res.place_id is None:
            hint = " Did you mean one of these?" if suggestions else ""
            return fail(ErrorCode.UNKNOWN_PLACE,
                        f"No facts: “{query}” is not a place I know.{hint}")
        place = await self.store.place_by_id(res.place_id, guild)
        if place is None:  # a name whose place was removed since the resolver was built
            return fail(ErrorCode.UNKNOWN_PLACE, f"No facts: “{query}” is not a place I know.")
        return _Resolved(place, self._descendants(place.id), res, None)

    def _no_facts(self, command: Command, query: str, r: _Resolved) -> FailureAnswer:
        assert r.place is not None
        where = ", ".join(x for x in (r.place.governorate, _country(r.place.country)) if x)
        closest = f" (the closest match to “{query.strip()[:MAX_QUERY]}”)" \
            if r.resolution.kind == "fuzzy" else ""
        return FailureAnswer.model_construct(
            command=command, query=query, place=r.place, error=ErrorCode.NO_FACTS,
            message=f"{r.place.name}{f' ({where})' if where else ''}{closest} is a "
                    "place I know, but the store has no facts about it yet.")

    def _fuzzy_note(self, query: str, r: _Resolved) -> list[str]:
        if r.resolution.kind == "fuzzy" and r.place is not None:
            return [f"Showing {r.place.name} for “{query.strip()[:MAX_QUERY]}”."]
        return []

    async def status(self, query: str, guild: int = 0, *,
                     place_id: str | None = None) -> StatusAnswer | FailureAnswer:
        r = await self._resolve(Command.STATUS, query, guild, place_id)
        if r.failure:
            return r.failure
        assert r.place is not None
        facts = await self.store.latest_facts(r.ids, guild, STATUS_CANDIDATES)
        if not facts:
            return self._no_facts(Command.STATUS, query, r)
        total = await self._total(facts, STATUS_CANDIDATES, r.ids, guild)
        message = f"{total} fact(s) about {r.place.name}."
        head = headline_fact(facts)
        if head is None:  # only background (where a place lies, what it is): no situation to lead
            shown = facts[:STATUS_FACTS]
            return StatusAnswer.model_construct(
                query=query, place=r.place, as_of=shown[0].as_of, headline=None, facts=shown,
                sources=number_sources(shown),
                notes=[*self._fuzzy_note(query, r),
                       f"The store has only background about {r.place.name}, "
                       "no report on its situation.", *self._age_note(shown[0])],
                message=message)
        shown = [head, *after_headline(head, facts)][:STATUS_FACTS]
        return StatusAnswer.model_construct(
            query=query, place=r.place, as_of=head.as_of, headline=headline_text(head),
            facts=shown, sources=number_sources(shown),
            notes=self._fuzzy_note(query, r) + self._caveats(head), message=message)

    async def _total(self, facts: list[FactView], cap: int, ids: list[str], guild: int) -> int:
        """How many facts there are: ``len(facts)`` unless the query stopped at its cap."""
        if len(facts) < cap:
            return len(facts)
        return await self.store.count_facts(ids, guild)

    def _age_note(self, newest: FactView) -> list[str]:
        return age_note(newest, self.today(), self.stale_after_days)

    def _caveats(self, head: FactView) -> list[str]:
        return caveats(head, self.today(), self.stale_after_days)

    async def timeline(self, query: str, guild: int = 0, *,
                       place_id: str | None = None) -> TimelineAnswer | FailureAnswer:
        r = await self._resolve(Command.TIMELINE, query, guild, place_id)
        if r.failure:
            return r.failure
        assert r.place is not None
        facts = await self.store.timeline_facts(r.ids, guild, TIMELINE_LIMIT)
        if not facts:
            return self._no_facts(Command.TIMELINE, query, r)
        notes = self._fuzzy_note(query, r)
        total = await self._total(facts, TIMELINE_LIMIT, r.ids, guild)
        if total > len(facts):
            notes.append(f"Showing the oldest {len(facts)} of {total} facts; `search` narrows "
                         "them down.")
        return TimelineAnswer.model_construct(
            query=query, place=r.place, as_of=max(f.as_of for f in facts), facts=facts,
            sources=number_sources(facts), notes=notes,
            message=f"{total} fact(s) about {r.place.name}, oldest first.")

    async def search(self, text: str, guild: int = 0) -> SearchAnswer | FailureAnswer:
        text = text.strip()[:MAX_QUERY]
        terms = search_terms(text)
        if terms is None:
            return FailureAnswer.model_construct(
                command=Command.SEARCH, query=text, error=ErrorCode.BAD_INPUT,
                message=f"Give some words to search for, for example "
                        f"`{self.prefix}search surrounded`.")
        try:
            hits = await self.store.search_facts(terms, guild, SEARCH_RESULTS)
        except OverBudget:
            return FailureAnswer.model_construct(
                command=Command.SEARCH, query=text, error=ErrorCode.TOO_BROAD,
                message=f"Too many matches for “{text}”: add words to narrow it, for example "
                        f"`{self.prefix}search Mosul surrounded`.")
        if not hits:
            return FailureAnswer.model_construct(
                command=Command.SEARCH, query=text, error=ErrorCode.NO_RESULTS,
                message=f"No fact mentions “{text}”.")
        return SearchAnswer.model_construct(
            query=text, hits=[SearchHit.model_construct(fact=f, snippet=snip) for f, snip in hits],
            sources=number_sources(f for f, _ in hits),
            message=f"{len(hits)} fact(s) match “{text}”, best first.")

    async def sources(self, guild: int = 0) -> SourcesAnswer:
        rows = await self.store.sources(guild)
        return SourcesAnswer.model_construct(
            query="", sources=[_listed(s, n) for s, n in rows],
            message=f"{len(rows)} source(s), oldest first.")

    async def place_sources(self, query: str, guild: int = 0, *,
                            place_id: str | None = None) -> PlaceSourcesAnswer | FailureAnswer:
        """The sources that speak about one place, oldest first, with how many facts each gives."""
        line = await self.timeline(query, guild, place_id=place_id)
        if isinstance(line, FailureAnswer):
            return line.model_copy(update={"command": Command.SOURCES})
        counts: dict[str, int] = {}
        for fact in line.facts:
            counts[fact.source.id] = counts.get(fact.source.id, 0) + 1
        ordered = sorted(line.sources, key=lambda s: s.published)
        return PlaceSourcesAnswer.model_construct(
            query=query, place=line.place, sources=[_listed(s, counts[s.id]) for s in ordered],
            message=f"{len(ordered)} source(s) speak about {line.place.name}.")

    async def source(self, source_id: str, guild: int = 0) -> SourceAnswer | FailureAnswer:
        source_id = source_id.strip()[:MAX_QUERY]
        rows = await self.store.sources(guild)
        wanted = source_id.casefold()
        matches = [(s, n) for s, n in rows if s.id.casefold() == wanted] or \
                  [(s, n) for s, n in rows if wanted and s.id.casefold().startswith(wanted)]
        if len(matches) != 1:
            return FailureAnswer.model_construct(
                command=Command.SOURCE, query=source_id, error=ErrorCode.UNKNOWN_SOURCE,
                message=f"No source “{source_id}”. Try `{self.prefix}sources`."
                if not matches else f"“{source_id}” matches several sources.")
        src, count = matches[0]
        places = await self.store.source_places(src.id, guild)
        return SourceAnswer.model_construct(
            query=source_id, source=src, fact_count=count, places=places,
            message=f"{count} fact(s) about {len(places)} place(s).")

    async def places(self, guild: int = 0) -> PlacesAnswer:
        rows = await self.store.places_with_facts(guild)
        return PlacesAnswer.model_construct(query="", places=rows,
                                            message=f"{len(rows)} place(s) have facts.")

    def help(self) -> HelpAnswer:
        return HelpAnswer.model_construct(
            query="", prefix=self.prefix,
            commands=[HelpEntry.model_construct(usage=c.usage, summary=c.summary)
                      for c in COMMANDS.values()],
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
        # a long timeline would hold megabytes (status and search hold a handful of facts);
        # one computed while the store changed may be stale
        if (isinstance(answer, TimelineAnswer) and len(answer.facts) > CACHE_FACTS_AT_MOST) \
                or self._epoch(guild) != epoch:
            return answer
        self._answers[key] = answer
        if len(self._answers) > ANSWER_CACHE:
            self._answers.popitem(last=False)
        return answer

    async def _run(self, cmd: ParsedCommand, guild: int) -> Answer:
        match cmd.name:
            case Command.STATUS:
                return await self.status(cmd.argument, guild)
            case Command.TIMELINE:
                return await self.timeline(cmd.argument, guild)
            case Command.SEARCH:
                return await self.search(cmd.argument, guild)
            case Command.SOURCES:
                return await self.sources(guild)
            case Command.SOURCE:
                return await self.source(cmd.argument, guild)
            case Command.PLACES:
                return await self.places(guild)
            case Command.HELP:
                return self.help()
            case _:
                assert_never(cmd.name)

    async def ask(self, text: str, guild: int = 0, *, require_prefix: bool = False) -> Answer:
        parsed = parse_command(text, self.prefix, require_prefix=require_prefix)
        if isinstance(parsed, str):
            return FailureAnswer.model_construct(command=None, query=text.strip()[:MAX_QUERY],
                                                 error=ErrorCode.BAD_INPUT, message=parsed)
        return await self.run(parsed, guild)


def _listed(source: SourceRef, fact_count: int) -> ListedSource:
    return ListedSource.model_construct(**dict(source), fact_count=fact_count)


COUNTRY_NAMES = {"IQ": "Iraq", "SY": "Syria", "JO": "Jordan", "TR": "Turkey", "LB": "Lebanon",
                 "IR": "Iran", "SA": "Saudi Arabia", "KW": "Kuwait", "US": "United States",
                 "RU": "Russia", "LY": "Libya", "EG": "Egypt", "IL": "Israel", "YE": "Yemen"}


def _country(code: str | None) -> str | None:
    return COUNTRY_NAMES.get(code, code) if code else None


def place_context(place: PlaceRef) -> str:
    """"Iraq, Nineveh": where a place is, for titles."""
    return ", ".join(x for x in (_country(place.country), place.governorate) if x)
