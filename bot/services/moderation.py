"""Moderation: the one place where what moderators type becomes a change to the store.

The Discord cog and the command line only collect fields and show results. This service cleans and
checks the input (``inputs``, ``dates``), resolves places and sources as the server sees them,
asks the domain's rules (``bot.domain.moderation``) what the change is, carries it out with the
store's write primitives in one transaction, and then tells the engine to forget what changed. The
posts a change owes (mod-log, watches) are written by the store in the change's own transaction
(the outbox); after the commit this service only wakes their delivery (``on_commit``,
``bot.services.delivery``). It holds no SQL and no connection.

A change is acknowledged only after its transaction committed, with ``synchronous=FULL``: a
committed change survives the process being killed (tested with SIGKILL) and a power cut. A change
the store itself cannot make (a full disk) raises ``StoreFailure`` and leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from bot.domain import moderation as rules
from bot.domain.changes import (
    Change,
    describe,
    fact_subject,
    name_subject,
    place_subject,
    source_subject,
)
from bot.domain.checks import fact_source_problems
from bot.domain.errors import Invalid, NotFound
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
    SourceRef,
)
from bot.domain.moderation import StoredFact, StoredSource
from bot.domain.review import ReviewItem, ReviewState, pending_item
from bot.domain.watches import Watch, room_for_watch
from bot.engine import Engine
from bot.services import inputs
from bot.services.dates import DateInputError, parse_user_date
from bot.services.inputs import InputError, field_text, optional
from bot.store.base import ModerationStore, Writer

if TYPE_CHECKING:
    from bot.store.exchange import ImportReport

log = logging.getLogger("sitrep.moderation")


@dataclass(frozen=True, slots=True)
class Ingested:
    source: Change
    candidates: int


class ModerationService:
    """Moderator actions for every server, through one writer shared by all of them."""

    def __init__(self, engine: Engine, store: ModerationStore, writer: Writer) -> None:
        self.engine = engine
        self.store = store
        self.records = store.records
        self.writer = writer
        self.on_commit: Callable[[], None] = lambda: None
        """Called after each commit that logged changes: the runtime wakes delivery with it."""

    @classmethod
    async def open(cls, engine: Engine, store: ModerationStore | None = None
                   ) -> ModerationService:
        """``store``: the engine's own store when not given."""
        store = store or cast(ModerationStore, engine.store)
        return cls(engine, store, await store.open_writer())

    async def close(self) -> None:
        await self.writer.close()

    async def _done(self, guild: int, changes: list[Change], *, names: bool = False) -> None:
        """After a commit: drop the server's cached answers (and resolver, if names changed),
        then wake the delivery of the posts the changes owe (already in the outbox)."""
        self.engine.invalidate(guild, names=names)
        for change in changes:
            log.info("guild=%s actor=%s %s", guild, change.actor, describe(change))
        self.on_commit()

    async def _logged(self, tx: Writer, guild: int, actor: int, action: str, subject: str,
                      before: dict[str, Any] | None, reverts: int | None = None) -> Change:
        """Log a change with the subject's state as it is now, after the change."""
        after = await tx.subject_state(guild, subject)
        return await tx.log(guild, actor, action, subject, before, after, reverts)

    # --------------------------------------------------------------------- resolving input
    async def place(self, guild: int, text: str | None) -> PlaceRef:
        """A place the server knows, by exact name or id. Unlike a question, a change never goes
        to a fuzzy match: a near miss is refused with the likely place named."""
        query = field_text("place", text, required=True)
        by_id = await self.store.place_by_id(query, guild)
        if by_id is not None:
            return by_id
        res = (await self.engine.resolver(guild)).resolve(query)
        if res.kind == "exact" and res.place_id:
            place = await self.store.place_by_id(res.place_id, guild)
            if place is not None:
                return place
        guesses = [res.place_id] if res.place_id else []
        guesses += list(res.suggestions)
        named = await self.store.places_by_ids(guesses[:3], guild)
        hint = f" Did you mean {', '.join(f'{p.name} (`{p.id}`)' for p in named)}?" if named else ""
        raise InputError(f"Place: “{query}” is not a place I know by that exact name.{hint}")

    async def places(self, guild: int, place_ids: list[str]) -> list[PlaceRef]:
        """Places by id as the server sees them (for naming them in posts about a change)."""
        return await self.store.places_by_ids(place_ids, guild)

    async def place_by_id(self, guild: int, place_id: str) -> PlaceRef | None:
        """The place with this id as the server sees it, or None (another server's place looks
        like no place at all)."""
        return await self.store.place_by_id(place_id, guild)

    async def source(self, guild: int, text: str | None) -> StoredSource:
        """A source by id, or by the unique start of its id."""
        query = field_text("source", text, required=True)
        found = await self.records.get_source(guild, query)
        if found is not None:
            return found
        ids = [i for i in await self.records.source_ids(guild)
               if i.casefold().startswith(query.casefold())]
        if len(ids) == 1:
            found = await self.records.get_source(guild, ids[0])
            if found is not None:
                return found
        if ids:
            raise InputError(f"Source: “{query}” matches {len(ids)} sources; give more of the id.")
        raise InputError(f"Source: no source “{query}”; `sources` lists them, `source add` adds one.")

    async def sources(self, guild: int) -> list[SourceRef]:
        """Every source the server sees, newest first: the one a moderator is after when adding
        a fact is usually the article registered last (for autocomplete)."""
        return [source for source, _ in reversed(await self.store.sources(guild))]

    @staticmethod
    def date(text: str | None, source: Source) -> DateSpec:
        """The event date as typed, relative phrases read against the source's publication,
        which must then be known to the day: counting back from the middle of a month would
        invent the day."""
        try:
            spec = parse_user_date(field_text("date", text, required=True),
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
            spec = parse_user_date(field_text("date", text, required=True),
                                   relative_to=date.today())
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
    @staticmethod
    async def _checked(tx: Writer, guild: int, fact: Fact) -> StoredSource:
        """The fact's place and source exist for this server, its quote is in the source's text
        (when the store has the text) and its date is not after the report."""
        if await tx.get_place(guild, fact.place) is None:
            raise NotFound(f"Place: no place `{fact.place}` here.")
        stored = await tx.get_source(guild, fact.source)
        if stored is None:
            raise NotFound(f"Source: no source `{fact.source}` here; add it with `article add`.")
        for problem in fact_source_problems(fact, stored.source, stored.body):
            field, _, reason = problem.partition(": ")
            raise Invalid(f"{field.capitalize()}: {reason}.")
        return stored

    async def _add_fact(self, tx: Writer, guild: int, actor: int, draft: Fact,
                        action: str = "fact.add") -> Change:
        """Add a server's own fact (its id is assigned by the store) and log it."""
        source = await self._checked(tx, guild, draft)
        fact = await tx.insert_fact(guild, actor, draft, source)
        return await self._logged(tx, guild, actor, action, fact_subject(fact.id), None)

    async def _set_live(self, tx: Writer, guild: int, actor: int, stored: StoredFact,
                        live: bool) -> Change:
        before = rules.fact_state(stored)
        await tx.set_fact_live(guild, stored, live)
        return await tx.log(guild, actor, "fact.restore" if live else "fact.retire",
                            fact_subject(stored.fact.id), before, {**before, "live": live})

    async def add_fact(self, guild: int, actor: int, *, place: str | None, date_text: str | None,
                       summary: str | None, source: str | None, quote: str | None = None,
                       status: str | None = None, attribution: str | None = None,
                       hedged: str | None = None) -> Change:
        src = await self.source(guild, source)
        fact = Fact(id="draft", place=(await self.place(guild, place)).id, source=src.source.id,
                    summary=field_text("summary", summary, required=True),
                    quote=field_text("quote", quote),
                    attribution=optional("attribution", attribution),
                    hedged=bool(inputs.parse_yes_no("hedged", hedged)),
                    modality=Modality.REPORTED, event=self.date(date_text, src.source),
                    status=inputs.parse_status(status))
        async with self.writer.transaction() as tx:
            change = await self._add_fact(tx, guild, actor, fact)
        await self._done(guild, [change])
        return change

    async def edit_fact(self, guild: int, actor: int, fact_id: str, **fields: str | None
                        ) -> list[Change]:
        """Change the given fields (None = keep). ``date`` is read against the (new) source."""
        fact_id = field_text("fact", fact_id, required=True)
        stored = rules.fact_here(fact_id, await self.records.get_fact(guild, fact_id))
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
                updates[name] = field_text(name, fields[name], required=name == "summary")
        if fields.get("attribution") is not None:
            updates["attribution"] = optional("attribution", fields["attribution"])
        if fields.get("status") is not None:
            updates["status"] = inputs.parse_status(fields["status"])
        if fields.get("hedged") is not None:
            updates["hedged"] = bool(inputs.parse_yes_no("hedged", fields["hedged"]))
        if not updates:
            raise InputError("Give at least one field to change, e.g. `summary: ...`.")
        async with self.writer.transaction() as tx:
            current = await tx.get_fact(guild, fact_id)
            new = rules.edited(fact_id, current, updates)
            assert current is not None
            if rules.copy_on_edit(current):
                retired = await self._set_live(tx, guild, actor, current, False)
                added = await self._add_fact(tx, guild, actor, new, "fact.edit")
                await tx.copy_links(fact_id, added.key)
                changes = [retired, added]
            else:
                source = await self._checked(tx, guild, new)
                before = rules.fact_state(current)
                await tx.update_fact(new, source)
                changes = [await self._logged(tx, guild, actor, "fact.edit",
                                              fact_subject(fact_id), before)]
        await self._done(guild, changes)
        return changes

    async def set_live(self, guild: int, actor: int, fact_id: str, live: bool) -> Change:
        """Retire (``live=False``) or restore a fact for this server. A soft delete: a shared
        fact is hidden for the server only and can always be restored."""
        fact_id = field_text("fact", fact_id, required=True)
        async with self.writer.transaction() as tx:
            stored = rules.check_live_change(fact_id, await tx.get_fact(guild, fact_id), live)
            change = await self._set_live(tx, guild, actor, stored, live)
        await self._done(guild, [change])
        return change

    async def history(self, guild: int, fact_id: str) -> list[Change]:
        await self.fact(guild, fact_id)
        return await self.records.history(guild, fact_subject(field_text("fact", fact_id)))

    async def fact(self, guild: int, fact_id: str) -> StoredFact:
        fact_id = field_text("fact", fact_id, required=True)
        return rules.fact_here(fact_id, await self.records.get_fact(guild, fact_id))

    # --------------------------------------------------------------------- names, places, sources
    async def add_alias(self, guild: int, actor: int, place: str | None, name: str | None) -> Change:
        """Another name for a place, known in this server only."""
        alias = field_text("name", name, required=True)
        target = await self.place(guild, place)
        async with self.writer.transaction() as tx:
            if await tx.get_place(guild, target.id) is None:
                raise NotFound(f"Place: no place `{target.id}` here.")
            if await tx.has_name(guild, target.id, alias):
                raise rules.name_taken(alias)
            await tx.insert_name(guild, target.id, alias)
            change = await tx.log(guild, actor, "name.add", name_subject(target.id, alias), None,
                                  rules.name_state(target.id, alias))
        await self._done(guild, [change], names=True)
        return change

    async def remove_alias(self, guild: int, actor: int, name: str | None) -> Change:
        """Remove a name this server added (shared names cannot be removed)."""
        alias = field_text("name", name, required=True)
        async with self.writer.transaction() as tx:
            found = await tx.own_name(guild, alias)
            if found is None:
                raise rules.not_own_name(alias)
            place_id, stored_name = found
            await tx.delete_name(guild, place_id, stored_name)
            change = await tx.log(guild, actor, "name.remove",
                                  name_subject(place_id, stored_name),
                                  rules.name_state(place_id, stored_name), None)
        await self._done(guild, [change], names=True)
        return change

    async def add_place(self, guild: int, actor: int, *, name: str | None, kind: str | None = None,
                        country: str | None = None, governorate: str | None = None,
                        coordinates: str | None = None) -> Change:
        lat, lon = inputs.parse_coordinates(coordinates)
        place = Place(id="draft", name=field_text("name", name, required=True),
                      kind=inputs.parse_kind(kind), country=inputs.parse_country(country),
                      governorate=optional("governorate", governorate), lat=lat, lon=lon)
        async with self.writer.transaction() as tx:
            place_id = await tx.insert_place(guild, place)
            change = await self._logged(tx, guild, actor, "place.add", place_subject(place_id),
                                        None)
        await self._done(guild, [change], names=True)
        return change

    def _source_model(self, *, title: str | None, outlet: str | None, url: str | None,
                      published: str | None, genre: str | None, author: str | None,
                      body: str | None) -> Source:
        """An ingested article must be dated to the day: its sentences' "on Monday" and undated
        reports are read against that day."""
        return Source(id="draft", outlet=field_text("outlet", outlet, required=True),
                      title=field_text("title", title, required=True),
                      author=optional("author", author),
                      url=inputs.parse_url(url), genre=inputs.parse_genre(genre),
                      published=self.published(published, to_the_day=body is not None),
                      sha256=hashlib.sha256(body.encode()).hexdigest() if body else None)

    async def _add_source(self, tx: Writer, guild: int, actor: int, source: Source,
                          body: str | None) -> Change:
        source_id = await tx.insert_source(guild, source, body)
        return await self._logged(tx, guild, actor, "source.add", source_subject(source_id), None)

    async def add_source(self, guild: int, actor: int, *, title: str | None, outlet: str | None,
                         published: str | None, url: str | None = None, genre: str | None = None,
                         author: str | None = None) -> Change:
        source = self._source_model(title=title, outlet=outlet, url=url, published=published,
                                    genre=genre, author=author, body=None)
        async with self.writer.transaction() as tx:
            change = await self._add_source(tx, guild, actor, source, None)
        await self._done(guild, [change])
        return change

    # --------------------------------------------------------------------- undo
    async def undo(self, guild: int, actor: int) -> Change:
        """Revert this moderator's latest change that is not yet reverted, unless someone
        changed the same subject since."""
        async with self.writer.transaction() as tx:
            latest = await tx.latest_undoable(guild, actor)
            change = rules.undoable(latest, latest is not None and await tx.changed_since(latest))
            current = await tx.subject_state(guild, change.subject)
            await self._revert(tx, guild, change)
            undone = await self._logged(tx, guild, actor, "undo", change.subject, current,
                                        reverts=change.id)
        await self._done(guild, [undone], names=undone.touches_names)
        return undone

    async def _revert(self, tx: Writer, guild: int, change: Change) -> None:
        match rules.undo_step(change):
            case rules.Retire():
                stored = await tx.get_fact(guild, change.key)
                if stored is None:
                    raise rules.gone(change.key)
                await tx.set_fact_live(guild, stored, False)
            case rules.Revert(fact=fact, live=live):
                stored = await tx.get_fact(guild, change.key)
                if stored is None:
                    raise rules.gone(change.key)
                if not stored.shared:
                    await tx.update_fact(fact, await self._checked(tx, guild, fact))
                await tx.set_fact_live(guild, stored, live)
            case rules.RemoveName(place_id=place_id, name=name):
                await tx.delete_name(guild, place_id, name)
            case rules.AddName(place_id=place_id, name=name):
                await tx.insert_name(guild, place_id, name)
            case rules.RemoveUnused(kind=kind, key=key):
                if await tx.in_use(kind, key):
                    raise rules.still_used(kind, key)
                await tx.remove_unused(guild, kind, key)

    async def recent(self, guild: int, limit: int = 15) -> list[Change]:
        return await self.records.recent_changes(guild, limit)

    # --------------------------------------------------------------------- ingest and review
    async def ingest(self, guild: int, actor: int, *, text: str | None, title: str | None,
                     outlet: str | None, published: str | None, url: str | None = None,
                     genre: str | None = None, author: str | None = None) -> Ingested:
        """Register an article with its text and queue the facts it seems to state."""
        from bot.services.ingest import propose

        body = field_text("text", text, required=True, multiline=True)
        source = self._source_model(title=title, outlet=outlet, url=url, published=published,
                                    genre=genre, author=author, body=body)
        names = await self.names(guild)
        friends = [t for t, _, _ in await self.store.false_friends()]
        found = await asyncio.to_thread(propose, body, source.as_of, names, not_places=friends,
                                        latest=source.latest_publication)
        items = [{"place_id": p.place_id, "quote": p.quote, "position": p.position,
                  "summary": p.summary, "attribution": p.attribution, "hedged": bool(p.hedges),
                  "hints": {"name": p.matched_name, "date": p.date_text, "hedges": list(p.hedges)},
                  "event": p.event, "status": p.status_hint.value if p.status_hint else None}
                 for p in found if len(p.quote) <= inputs.LIMITS["quote"]]
        async with self.writer.transaction() as tx:
            change = await self._add_source(tx, guild, actor, source, body)
            count = await tx.queue(guild, actor, change.key, items)
        await self._done(guild, [change])
        return Ingested(change, count)

    async def names(self, guild: int) -> list[tuple[str, str]]:
        """(name, place id) for every place name the server knows, for the ingest to look for."""
        def ranked() -> list[tuple[str, str]]:
            # Best place first for a name several places share (curated places with facts, then
            # by population), as the resolver ranks them: the ingest keeps the first it sees.
            entries = sorted(self.store.name_entries(guild),
                             key=lambda e: (-e.priority, -e.population))
            return [(e.name, e.place_id) for e in entries]

        return await asyncio.to_thread(ranked)

    async def pending(self, guild: int) -> list[ReviewItem]:
        return await self.records.review_items(guild)

    async def count_pending(self, guild: int) -> int:
        return await self.records.count_pending(guild)

    async def candidate(self, guild: int, candidate_id: int) -> ReviewItem:
        found = await self.records.review_item(guild, candidate_id)
        if found is None:
            raise NotFound(f"No candidate #{candidate_id} here.")
        return found

    async def approve(self, guild: int, actor: int, candidate_id: int,
                      fields: dict[str, str | None] | None = None) -> Change:
        """Approve a candidate, with the moderator's edits (summary, date, status, attribution,
        hedged) if any; the date is read against the article's publication date. The quote stays
        the article's own words, checked against its text like any other fact's."""
        candidate = await self.candidate(guild, candidate_id)
        updates: dict[str, Any] = {}
        fields = fields or {}
        if fields.get("summary") is not None:
            updates["summary"] = field_text("summary", fields["summary"], required=True)
        if fields.get("date") is not None:
            src = await self.source(guild, candidate.source_id)
            updates["event"] = self.date(fields["date"], src.source)
        if fields.get("status") is not None:
            updates["status"] = inputs.parse_status(fields["status"])
        if fields.get("attribution") is not None:
            updates["attribution"] = optional("attribution", fields["attribution"])
        if fields.get("hedged") is not None:
            updates["hedged"] = bool(inputs.parse_yes_no("hedged", fields["hedged"]))
        async with self.writer.transaction() as tx:
            item = pending_item(candidate_id, await tx.review_item(guild, candidate_id))
            draft = rules.revised(item.as_fact(), updates)
            change = await self._add_fact(tx, guild, actor, draft, "review.approve")
            await tx.decide(candidate_id, actor, ReviewState.APPROVED, change.key)
        await self._done(guild, [change])
        return change

    async def reject(self, guild: int, actor: int, candidate_id: int) -> None:
        async with self.writer.transaction() as tx:
            pending_item(candidate_id, await tx.review_item(guild, candidate_id))
            await tx.decide(candidate_id, actor, ReviewState.REJECTED)

    # --------------------------------------------------------------------- watches, mod-log
    async def watch(self, guild: int, actor: int, channel_id: int, place: str | None
                    ) -> tuple[PlaceRef, bool]:
        target = await self.place(guild, place)
        async with self.writer.transaction() as tx:
            room_for_watch(await tx.count_watches(guild))
            added = await tx.add_watch(guild, channel_id, target.id, actor)
        return target, added

    async def unwatch(self, guild: int, channel_id: int, place: str | None) -> tuple[PlaceRef, bool]:
        target = await self.place(guild, place)
        async with self.writer.transaction() as tx:
            removed = await tx.remove_watch(guild, channel_id, target.id)
        return target, removed

    async def watches(self, guild: int) -> list[Watch]:
        return await self.records.watches(guild)

    async def watching(self, guild: int, place_ids: set[str]) -> dict[int, list[str]]:
        return await self.records.watching(guild, place_ids)

    async def set_modlog(self, guild: int, channel_id: int | None) -> None:
        async with self.writer.transaction() as tx:
            await tx.set_modlog_channel(guild, channel_id)

    async def modlog(self, guild: int) -> int | None:
        return await self.records.modlog_channel(guild)

    # --------------------------------------------------------------------- export, import
    async def export(self, guild: int, fmt: str) -> bytes:
        """The server's own layer as JSON, or everything it sees as CSV (for an upload)."""
        if fmt not in {"json", "csv"}:
            raise InputError("Format: json or csv.")
        if fmt == "json":
            return json.dumps(await self.export_document(guild), ensure_ascii=False,
                              indent=1).encode()
        return (await self.export_csv(guild)).encode()

    async def export_document(self, guild: int) -> dict[str, Any]:
        """The server's own layer as a JSON document (``sitrep export``), re-importable. Read in
        one snapshot on the writer, under its lock: consistent, without holding the answers'
        connection, and never colliding with a change or another export."""
        from bot.store import exchange

        async with self.writer.snapshot() as snap:
            return await exchange.export_json(snap, guild)

    async def export_csv(self, guild: int) -> str:
        from bot.store import exchange

        async with self.writer.snapshot() as snap:
            return await exchange.export_csv(snap, guild)

    async def import_document(self, guild: int, actor: int, data: object) -> ImportReport:
        """Apply an export to a server's own layer in one transaction, or nothing of it (raises
        ``ImportProblems`` listing every problem)."""
        from bot.store import exchange

        async with self.writer.transaction() as tx:
            report = await exchange.import_json(tx, guild, data, actor)
        self.engine.invalidate(guild, names=True)
        self.on_commit()
        return report
