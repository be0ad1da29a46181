"""Moderation: the one place where what moderators type becomes a change to the store.

The Discord cog and the command line only collect fields and show results; everything else lives
here: cleaning and checking the input (``inputs``, ``dates``), resolving places and sources as the
server sees them, writing through ``bot.store.writes`` on a connection of its own (so that readers
never see a half-made change), then telling the engine to forget what changed and the listeners
(mod-log, watches) what happened.

A change is acknowledged only after its transaction committed, on a connection with
``synchronous=FULL``: a committed change survives the process being killed (tested with SIGKILL)
and a power cut.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.domain.model import (
    DateBasis,
    DateSpec,
    Fact,
    Modality,
    Place,
    PlaceRef,
    Precision,
    Qualifier,
    Source,
)
from bot.engine import Engine
from bot.services import inputs
from bot.services.dates import DateInputError, parse_user_date
from bot.services.inputs import InputError, clean, optional
from bot.store import queries, review, watches, writes
from bot.store.db import connect
from bot.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from bot.store.exchange import ImportReport
from bot.store.writes import Change, StoredSource

log = logging.getLogger("sitrep.moderation")

Listener = Callable[[Change], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Ingested:
    source: Change
    candidates: int


class Moderation:
    """Moderator actions for every server, on one write connection shared by all of them."""

    def __init__(self, engine: Engine, store: SqliteStore, conn: aiosqlite.Connection) -> None:
        """``conn`` is for writes only; reads go through the store's connection, which sees
        each change once it is committed and never a half-made one."""
        self.engine = engine
        self.store = store
        self.conn = conn
        self.listeners: list[Listener] = []
        self._write = asyncio.Lock()

    @classmethod
    async def open(cls, engine: Engine, store: SqliteStore | None = None) -> Moderation:
        """``store``: the engine's own store when not given."""
        if store is None:
            assert isinstance(engine.store, SqliteStore)
            store = engine.store
        conn = await connect(store.path)
        # A moderator is told "done" only after the commit; FULL makes that commit survive a power
        # cut too, not just the process dying (NORMAL's guarantee). Changes are rare, so the
        # extra fsync per change costs nothing anyone notices.
        await conn.execute("PRAGMA synchronous = FULL")
        return cls(engine, store, conn)

    async def close(self) -> None:
        await self.conn.close()

    async def _done(self, guild: int, changes: list[Change], *, names: bool = False) -> None:
        """After a commit: drop the server's cached answers (and resolver, if names changed),
        then tell the listeners. A listener failing (Discord down) never undoes a change."""
        self.engine.invalidate(guild, names=names)
        for change in changes:
            log.info("guild=%s actor=%s %s", guild, change.actor, writes.describe(change))
            for listener in self.listeners:
                try:
                    await listener(change)
                except Exception:
                    log.warning("a change listener failed", exc_info=True)

    # --------------------------------------------------------------------- resolving input
    async def place(self, guild: int, text: str | None) -> PlaceRef:
        """A place the server knows, by exact name or id. Unlike a question, a change never goes
        to a fuzzy match: a near miss is refused with the likely place named."""
        query = clean("place", text, required=True)
        by_id = await queries.place_by_id(self.store.conn, query, guild)
        if by_id is not None:
            return by_id
        res = (await self.engine.resolver(guild)).resolve(query)
        if res.kind == "exact" and res.place_id:
            place = await queries.place_by_id(self.store.conn, res.place_id, guild)
            if place is not None:
                return place
        guesses = [res.place_id] if res.place_id else []
        guesses += list(res.suggestions)
        named = await queries.places_by_ids(self.store.conn, guesses[:3], guild)
        hint = f" Did you mean {', '.join(f'{p.name} (`{p.id}`)' for p in named)}?" if named else ""
        raise InputError(f"Place: “{query}” is not a place I know by that exact name.{hint}")

    async def source(self, guild: int, text: str | None) -> StoredSource:
        """A source by id, or by the unique start of its id."""
        query = clean("source", text, required=True)
        found = await writes.get_source(self.store.conn, guild, query)
        if found is not None:
            return found
        ids = [s.id for s, _ in await queries.sources(self.store.conn, guild)
               if s.id.casefold().startswith(query.casefold())]
        if len(ids) == 1:
            found = await writes.get_source(self.store.conn, guild, ids[0])
            if found is not None:
                return found
        if ids:
            raise InputError(f"Source: “{query}” matches {len(ids)} sources; give more of the id.")
        raise InputError(f"Source: no source “{query}”; `sources` lists them, `source add` adds one.")

    @staticmethod
    def date(text: str | None, source: Source) -> DateSpec:
        """The event date as typed, relative phrases read against the source's publication,
        which must then be known to the day: counting back from the middle of a month would
        invent the day."""
        try:
            spec = parse_user_date(clean("date", text, required=True),
                                   relative_to=source.as_of, latest=source.latest_publication)
        except DateInputError as exc:
            raise InputError(str(exc)) from None
        if spec.basis is DateBasis.RELATIVE and source.published.precision is not Precision.DAY:
            raise InputError(f"Date: the source is dated only {source.published_label}, so a "
                             "relative date cannot be counted from it; give the date itself.")
        return spec

    @staticmethod
    def published(text: str | None, *, to_the_day: bool = False) -> DateSpec:
        try:
            spec = parse_user_date(clean("date", text, required=True), relative_to=date.today())
        except DateInputError as exc:
            raise InputError(str(exc).replace("Date:", "Published:", 1)) from None
        allowed = {Precision.DAY} if to_the_day else {Precision.DAY, Precision.MONTH}
        if spec.precision not in allowed or spec.qualifier is not Qualifier.ON:
            raise InputError("Published: give the day the article appeared"
                             + ("." if to_the_day else " (or at least its month)."))
        if spec.start is not None and spec.start > date.today():
            raise InputError("Published: that date is in the future.")
        return spec.model_copy(update={"basis": DateBasis.STATED})

    # --------------------------------------------------------------------- facts
    async def add_fact(self, guild: int, actor: int, *, place: str | None, date_text: str | None,
                       summary: str | None, source: str | None, quote: str | None = None,
                       status: str | None = None, attribution: str | None = None,
                       hedged: str | None = None) -> Change:
        src = await self.source(guild, source)
        fact = Fact(id="draft", place=(await self.place(guild, place)).id, source=src.source.id,
                    summary=clean("summary", summary, required=True),
                    quote=clean("quote", quote), attribution=optional("attribution", attribution),
                    hedged=bool(inputs.parse_yes_no("hedged", hedged)),
                    modality=Modality.REPORTED, event=self.date(date_text, src.source),
                    status=inputs.parse_status(status))
        async with self._write:
            change = await writes.add_fact(self.conn, guild, actor, fact)
        await self._done(guild, [change])
        return change

    async def edit_fact(self, guild: int, actor: int, fact_id: str, **fields: str | None
                        ) -> list[Change]:
        """Change the given fields (None = keep). ``date`` is read against the (new) source."""
        fact_id = clean("fact", fact_id, required=True)
        stored = await writes.get_fact(self.store.conn, guild, fact_id)
        if stored is None:
            raise InputError(f"No fact `{fact_id}` here.")
        updates: dict[str, Any] = {}
        if fields.get("place") is not None:
            updates["place"] = (await self.place(guild, fields["place"])).id
        src = await self.source(guild, fields.get("source") or stored.fact.source)
        if fields.get("source") is not None:
            updates["source"] = src.source.id
        if fields.get("date") is not None:
            updates["event"] = self.date(fields["date"], src.source)
        for name in ("summary", "quote"):
            if fields.get(name) is not None:
                updates[name] = clean(name, fields[name], required=name == "summary")
        if fields.get("attribution") is not None:
            updates["attribution"] = optional("attribution", fields["attribution"])
        if fields.get("status") is not None:
            updates["status"] = inputs.parse_status(fields["status"])
        if fields.get("hedged") is not None:
            updates["hedged"] = bool(inputs.parse_yes_no("hedged", fields["hedged"]))
        if not updates:
            raise InputError("Give at least one field to change, e.g. `summary: ...`.")
        async with self._write:
            changes = await writes.edit_fact(self.conn, guild, actor, fact_id, updates)
        await self._done(guild, changes)
        return changes

    async def set_live(self, guild: int, actor: int, fact_id: str, live: bool) -> Change:
        fact_id = clean("fact", fact_id, required=True)
        async with self._write:
            change = await writes.set_fact_live(self.conn, guild, actor, fact_id, live)
        await self._done(guild, [change])
        return change

    async def history(self, guild: int, fact_id: str) -> list[Change]:
        fact_id = clean("fact", fact_id, required=True)
        if await writes.get_fact(self.store.conn, guild, fact_id) is None:
            raise InputError(f"No fact `{fact_id}` here.")
        return await writes.history(self.store.conn, guild, f"fact:{fact_id}")

    async def fact(self, guild: int, fact_id: str) -> writes.StoredFact:
        fact_id = clean("fact", fact_id, required=True)
        stored = await writes.get_fact(self.store.conn, guild, fact_id)
        if stored is None:
            raise InputError(f"No fact `{fact_id}` here.")
        return stored

    # --------------------------------------------------------------------- names, places, sources
    async def add_alias(self, guild: int, actor: int, place: str | None, name: str | None) -> Change:
        alias = clean("name", name, required=True)
        target = await self.place(guild, place)
        async with self._write:
            change = await writes.add_name(self.conn, guild, actor, target.id, alias)
        await self._done(guild, [change], names=True)
        return change

    async def remove_alias(self, guild: int, actor: int, name: str | None) -> Change:
        alias = clean("name", name, required=True)
        async with self._write:
            change = await writes.remove_name(self.conn, guild, actor, alias)
        await self._done(guild, [change], names=True)
        return change

    async def add_place(self, guild: int, actor: int, *, name: str | None, kind: str | None = None,
                        country: str | None = None, governorate: str | None = None,
                        coordinates: str | None = None) -> Change:
        lat, lon = inputs.parse_coordinates(coordinates)
        place = Place(id="draft", name=clean("name", name, required=True),
                      kind=inputs.parse_kind(kind), country=inputs.parse_country(country),
                      governorate=optional("governorate", governorate), lat=lat, lon=lon)
        async with self._write:
            change = await writes.add_place(self.conn, guild, actor, place)
        await self._done(guild, [change], names=True)
        return change

    def _source_model(self, *, title: str | None, outlet: str | None, url: str | None,
                      published: str | None, genre: str | None, author: str | None,
                      body: str | None) -> Source:
        """An ingested article must be dated to the day: its sentences' "on Monday" and undated
        reports are read against that day."""
        return Source(id="draft", outlet=clean("outlet", outlet, required=True),
                      title=clean("title", title, required=True), author=optional("author", author),
                      url=inputs.parse_url(url), genre=inputs.parse_genre(genre),
                      published=self.published(published, to_the_day=body is not None),
                      sha256=hashlib.sha256(body.encode()).hexdigest() if body else None)

    async def add_source(self, guild: int, actor: int, *, title: str | None, outlet: str | None,
                         published: str | None, url: str | None = None, genre: str | None = None,
                         author: str | None = None) -> Change:
        source = self._source_model(title=title, outlet=outlet, url=url, published=published,
                                    genre=genre, author=author, body=None)
        async with self._write:
            change = await writes.add_source(self.conn, guild, actor, source)
        await self._done(guild, [change])
        return change

    # --------------------------------------------------------------------- undo
    async def undo(self, guild: int, actor: int) -> Change:
        async with self._write:
            change = await writes.undo(self.conn, guild, actor)
        await self._done(guild, [change], names=change.kind in {"name", "place"})
        return change

    async def recent(self, guild: int, limit: int = 15) -> list[Change]:
        return await writes.recent_changes(self.store.conn, guild, limit)

    # --------------------------------------------------------------------- ingest and review
    async def ingest(self, guild: int, actor: int, *, text: str | None, title: str | None,
                     outlet: str | None, published: str | None, url: str | None = None,
                     genre: str | None = None, author: str | None = None) -> Ingested:
        """Register an article with its text and queue the facts it seems to state."""
        from bot.services.ingest import propose

        body = clean("text", text, required=True, multiline=True)
        source = self._source_model(title=title, outlet=outlet, url=url, published=published,
                                    genre=genre, author=author, body=body)
        names = await self.names(guild)
        friends = [t for t, _, _ in await queries.false_friends(self.store.conn)]
        found = await asyncio.to_thread(propose, body, source.as_of, names, not_places=friends,
                                        latest=source.latest_publication)
        drafts = [c for c in found if len(c.quote) <= inputs.LIMITS["quote"]]
        async with self._write:
            change, count = await review.ingest(self.conn, guild, actor, source, body, drafts)
        await self._done(guild, [change])
        return Ingested(change, count)

    async def names(self, guild: int) -> list[tuple[str, str]]:
        """(name, place id) for every place name the server knows, for the ingest to look for."""
        def ranked() -> list[tuple[str, str]]:
            # Best place first for a name several places share (curated places with facts, then
            # by population), as the resolver ranks them: the ingest keeps the first it sees.
            entries = sorted(queries.iter_name_entries(self.store.path, guild),
                             key=lambda e: (-e.priority, -e.population))
            return [(e.name, e.place_id) for e in entries]

        return await asyncio.to_thread(ranked)

    async def pending(self, guild: int) -> list[review.Candidate]:
        return await review.pending(self.store.conn, guild)

    async def count_pending(self, guild: int) -> int:
        return await review.count_pending(self.store.conn, guild)

    async def candidate(self, guild: int, candidate_id: int) -> review.Candidate:
        found = await review.get(self.store.conn, guild, candidate_id)
        if found is None:
            raise InputError(f"No candidate #{candidate_id} here.")
        return found

    async def approve(self, guild: int, actor: int, candidate_id: int,
                      fields: dict[str, str | None] | None = None) -> Change:
        """Approve a candidate, with the moderator's edits (summary, date, status, attribution,
        hedged) if any; the date is read against the article's publication date."""
        candidate = await self.candidate(guild, candidate_id)
        updates: dict[str, Any] = {}
        fields = fields or {}
        if fields.get("summary") is not None:
            updates["summary"] = clean("summary", fields["summary"], required=True)
        if fields.get("date") is not None:
            src = await self.source(guild, candidate.source_id)
            updates["event"] = self.date(fields["date"], src.source)
        if fields.get("status") is not None:
            updates["status"] = inputs.parse_status(fields["status"])
        if fields.get("attribution") is not None:
            updates["attribution"] = optional("attribution", fields["attribution"])
        if fields.get("hedged") is not None:
            updates["hedged"] = bool(inputs.parse_yes_no("hedged", fields["hedged"]))
        async with self._write:
            change = await review.approve(self.conn, guild, actor, candidate_id, updates)
        await self._done(guild, [change])
        return change

    async def reject(self, guild: int, actor: int, candidate_id: int) -> None:
        async with self._write:
            await review.reject(self.conn, guild, actor, candidate_id)

    # --------------------------------------------------------------------- watches, mod-log
    async def watch(self, guild: int, actor: int, channel_id: int, place: str | None
                    ) -> tuple[PlaceRef, bool]:
        target = await self.place(guild, place)
        async with self._write:
            added = await watches.add_watch(self.conn, guild, channel_id, target.id, actor)
        return target, added

    async def unwatch(self, guild: int, channel_id: int, place: str | None) -> tuple[PlaceRef, bool]:
        target = await self.place(guild, place)
        async with self._write:
            removed = await watches.remove_watch(self.conn, guild, channel_id, target.id)
        return target, removed

    async def watches(self, guild: int) -> list[watches.Watch]:
        return await watches.list_watches(self.store.conn, guild)

    async def watching(self, guild: int, place_ids: set[str]) -> dict[int, list[str]]:
        return await watches.watching(self.store.conn, guild, place_ids)

    async def export(self, guild: int, fmt: str) -> bytes:
        """The server's own layer as JSON, or everything it sees as CSV. Read in one transaction
        on the write connection, under the write lock: a consistent snapshot that neither holds
        the answers' connection nor collides with another export."""
        from bot.store import exchange

        async with self._write:
            if fmt == "json":
                return json.dumps(await exchange.export_json(self.conn, guild),
                                  ensure_ascii=False, indent=1).encode()
            return (await exchange.export_csv(self.conn, guild)).encode()

    async def export_document(self, guild: int) -> dict[str, Any]:
        """The server's own layer as a JSON document (``sitrep export``), read the same way."""
        from bot.store import exchange

        async with self._write:
            return await exchange.export_json(self.conn, guild)

    async def export_csv(self, guild: int) -> str:
        from bot.store import exchange

        async with self._write:
            return await exchange.export_csv(self.conn, guild)

    async def import_document(self, guild: int, actor: int, data: object) -> ImportReport:
        """Apply an export to a server's own layer in one transaction, or nothing of it (raises
        ``ImportProblems`` listing every problem)."""
        from bot.store import exchange

        async with self._write:
            report = await exchange.import_json(self.conn, guild, data, actor)
        self.engine.invalidate(guild, names=True)
        return report

    async def set_modlog(self, guild: int, channel_id: int | None) -> None:
        async with self._write:
            await watches.set_modlog_channel(self.conn, guild, channel_id)

    async def modlog(self, guild: int) -> int | None:
        return await watches.modlog_channel(self.store.conn, guild)
