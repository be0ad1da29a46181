"""The review queue: candidate facts proposed from an ingested article, waiting for a moderator.

Ingesting registers the article as a source (with its text, so quotes stay checkable) and queues
its candidates, in one transaction. Approving a candidate turns it into a fact through the same
path as ``fact add`` (same checks, same change log); rejecting only marks it. Candidates belong to
one server, like everything a moderator adds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.domain.model import DateSpec, Fact, Modality, Source, Status
from bot.store.db import transaction

if TYPE_CHECKING:
    from bot.services.ingest import Candidate as Proposal

from bot.store.writes import Change, WriteError, _add_fact, _add_source, now, revised


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    source_id: str
    place_id: str
    place_name: str
    quote: str
    summary: str
    attribution: str | None
    hedged: bool
    event: DateSpec
    status: str | None
    hints: dict[str, Any]
    state: str
    fact_id: str | None

    def as_fact(self) -> Fact:
        return Fact(id="draft", place=self.place_id, source=self.source_id, quote=self.quote,
                    summary=self.summary, attribution=self.attribution, hedged=self.hedged,
                    modality=Modality.REPORTED, event=self.event,
                    status=Status(self.status) if self.status else None)


def _candidate(row: sqlite3.Row) -> Candidate:
    return Candidate(row["id"], row["source_id"], row["place_id"], row["place_name"], row["quote"],
                     row["summary"], row["attribution"], bool(row["hedged"]),
                     DateSpec.model_validate_json(row["event"]), row["status"],
                     json.loads(row["hints"]), row["state"], row["fact_id"])


SELECT = ("SELECT c.*, p.name || coalesce(' (' || p.governorate || ', ' || p.country || ')', "
          "' (' || p.country || ')', '') AS place_name "
          "FROM candidates c JOIN places p ON p.id = c.place_id WHERE c.guild_id = :g")


async def ingest(conn: aiosqlite.Connection, guild: int, actor: int, source: Source, body: str,
                 drafts: Sequence[Proposal]) -> tuple[Change, int]:
    """Register the article and queue its candidates; returns the source's change and how many
    candidates were queued."""
    async with transaction(conn):
        change = await _add_source(conn, guild, actor, source, body)
        at = now()
        await conn.executemany(
            "INSERT INTO candidates(guild_id, source_id, place_id, quote, position, summary, "
            "attribution, hedged, hints, event, status, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(guild, change.key, d.place_id, d.quote, d.position, d.summary, d.attribution,
              int(bool(d.hedges)), json.dumps({"name": d.matched_name, "date": d.date_text,
                                               "hedges": list(d.hedges)}),
              d.event.model_dump_json(), d.status_hint.value if d.status_hint else None, at,
              actor)
             for d in drafts])
        return change, len(drafts)


async def pending(conn: aiosqlite.Connection, guild: int, limit: int = 25) -> list[Candidate]:
    rows = await conn.execute_fetchall(
        f"{SELECT} AND c.state = 'pending' ORDER BY c.id LIMIT :n", {"g": guild, "n": limit})
    return [_candidate(r) for r in rows]


async def count_pending(conn: aiosqlite.Connection, guild: int) -> int:
    rows = await conn.execute_fetchall(
        "SELECT count(*) FROM candidates WHERE guild_id = ? AND state = 'pending'", (guild,))
    return int(next(iter(rows))[0])


async def get(conn: aiosqlite.Connection, guild: int, candidate_id: int) -> Candidate | None:
    rows = list(await conn.execute_fetchall(f"{SELECT} AND c.id = :id",
                                            {"g": guild, "id": candidate_id}))
    return _candidate(rows[0]) if rows else None


async def _pending_one(conn: aiosqlite.Connection, guild: int, candidate_id: int) -> Candidate:
    candidate = await get(conn, guild, candidate_id)
    if candidate is None:
        raise WriteError(f"No candidate #{candidate_id} here.")
    if candidate.state != "pending":
        raise WriteError(f"Candidate #{candidate_id} was already {candidate.state}.")
    return candidate


async def approve(conn: aiosqlite.Connection, guild: int, actor: int, candidate_id: int,
                  updates: dict[str, Any] | None = None) -> Change:
    """Turn a candidate (with a moderator's edits, if any) into a fact; the quote stays the
    article's own words, checked against its text like any other fact."""
    async with transaction(conn):
        candidate = await _pending_one(conn, guild, candidate_id)
        draft = revised(candidate.as_fact(), updates or {})
        change = await _add_fact(conn, guild, actor, draft, "review.approve")
        await conn.execute(
            "UPDATE candidates SET state = 'approved', decided_at = ?, decided_by = ?, "
            "fact_id = ? WHERE id = ?", (now(), actor, change.key, candidate_id))
        return change


async def reject(conn: aiosqlite.Connection, guild: int, actor: int, candidate_id: int) -> None:
    async with transaction(conn):
        await _pending_one(conn, guild, candidate_id)
        await conn.execute(
            "UPDATE candidates SET state = 'rejected', decided_at = ?, decided_by = ? WHERE id = ?",
            (now(), actor, candidate_id))
