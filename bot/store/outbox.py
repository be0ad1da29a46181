"""The outbox: every mod-log and watch message a change owes, as a row, until it is sent.

Why rows rather than posting after the commit: a post must survive the process dying between the
commit and the send, and a change made by another process (a second bot process, ``sitrep
import``) must be announced too, by exactly one process, the one holding the server's shard.

* ``enqueue`` runs inside the change's own transaction (``SqlWriter.log``, which every change
  goes through), so a change and its posts commit together or not at all. The channels are
  resolved then, from the server's mod-log setting and its watches (``bot.domain.delivery``
  says which changes watchers hear of).
* ``SqlOutbox.claim`` takes up to N due posts of the servers of some shards in one short
  transaction and leases them to the claimer; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps two
  claimers off the same row without either waiting. A lease that runs out (its process died) makes
  the post claimable again. ``mark_sent`` and ``mark_failed`` end a try; ``prune`` drops old
  delivered and given-up posts, so the table stays as small as a few days of posts.

The claims and marks are bookkeeping, not changes: they run in ``row_transaction()``, which on
PostgreSQL takes no ``WRITE_LOCK`` (a poster never queues behind a moderator's change) and sends
no notice (which would wake every process's poster for nothing).

Times are milliseconds on the database's clock (``Dialect.clock_ms``): processes on several
machines compare leases on one clock. The outbox is delivery state of this store's deployment:
``sitrep export`` leaves it out (a server's export is its data, and the posts it owed were owed
to its channels here); ``sitrep copy-store`` copies it like every table, so posts still owed
when a community moves its store are sent from the new one.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.changes import Change
from bot.domain.delivery import LEASE, Post, watched_places
from bot.domain.shards import Shards
from bot.store.queries import change_from_row, on_shards
from bot.store.sql import Database, Dialect

KEEP_DAYS = 7.0
"""Delivered and given-up posts are kept this long (for "was it sent?"), then pruned."""
ERROR_MAX = 500
"""Characters of a failure kept in ``last_error``."""
DAY_MS = 86_400_000


async def enqueue(db: Database, change: Change) -> int:
    """Record the posts ``change`` owes, in the caller's transaction: one to the server's
    mod-log, one to each channel watching its places (a channel both gets one). Returns how
    many."""
    clock = db.dialect.clock_ms
    places = sorted(watched_places(change))
    params: dict[str, object] = {"change": change.id, "guild": change.guild}
    params.update({f"p{i}": p for i, p in enumerate(places)})
    watching = ""
    if places:
        marks = ", ".join(f":p{i}" for i in range(len(places)))
        watching = (f" UNION SELECT channel_id FROM watches WHERE guild_id = :guild "
                    f"AND place_id IN ({marks})")
    return await db.execute(
        f"INSERT INTO outbox(change_id, guild_id, channel_id, created_at, due_at) "
        f"SELECT :change, :guild, channel_id, {clock}, {clock} FROM ("
        f"SELECT modlog_channel AS channel_id FROM guild_settings "
        f"WHERE guild_id = :guild AND modlog_channel IS NOT NULL{watching}) targets "
        f"ORDER BY channel_id", params)


def due(dialect: Dialect, shards: Shards) -> str:
    """The posts a holder of ``shards`` may claim now: owed, due, and not leased to anyone (or
    leased by a process that did not finish in time). ``state = 'pending'`` is the partial
    index's own condition, so the scan stays within the posts owed, however long the log."""
    clock = dialect.clock_ms
    return (f"state = 'pending' AND due_at <= {clock} "
            f"AND (claimed_until IS NULL OR claimed_until <= {clock}) "
            f"AND {on_shards('guild_id', shards)}")


def pick(dialect: Dialect, shards: Shards) -> str:
    """The ids a claim takes (``:limit`` of them), oldest first: a range of ``outbox_due``."""
    return (f"SELECT id FROM outbox WHERE {due(dialect, shards)} "
            f"ORDER BY due_at, id LIMIT :limit {dialect.skip_locked}")


class SqlOutbox:
    """The outbox over any ``Database`` (the store's pool: claims need no writer of their own)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def has_due(self, shards: Shards) -> bool:
        """Whether a claim would find anything: a read, so that looking costs no transaction."""
        return await self.db.fetchrow(
            f"SELECT 1 FROM outbox WHERE {due(self.db.dialect, shards)} LIMIT 1") is not None

    async def claim(self, shards: Shards, by: str, *, limit: int = 10,
                    lease: float = LEASE) -> list[Post]:
        """Lease up to ``limit`` due posts of the servers on ``shards`` to ``by`` for ``lease``
        seconds, oldest first, counting the try; with their changes."""
        async with self.db.row_transaction() as tx:
            claimed = await tx.fetch(
                f"WITH picked AS ({pick(tx.dialect, shards)}) "
                f"UPDATE outbox SET claimed_until = {tx.dialect.clock_ms} + :lease, "
                f"claimed_by = :by, attempts = attempts + 1 "
                f"WHERE id IN (SELECT id FROM picked) RETURNING id",
                {"limit": limit, "lease": round(lease * 1000), "by": by})
            if not claimed:
                return []
            ids = [int(r[0]) for r in claimed]
            marks = ", ".join("?" * len(ids))
            rows = await tx.fetch(
                f"SELECT o.id AS post_id, o.channel_id, o.attempts, c.* FROM outbox o "
                f"JOIN changes c ON c.id = o.change_id WHERE o.id IN ({marks}) "
                f"ORDER BY o.due_at, o.id", ids)
        return [Post(int(r["post_id"]), int(r["guild_id"]), int(r["channel_id"]),
                     change_from_row(r), int(r["attempts"])) for r in rows]

    async def mark_sent(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        marks = ", ".join("?" * len(ids))
        async with self.db.row_transaction() as tx:
            await tx.execute(
                f"UPDATE outbox SET state = 'sent', sent_at = {tx.dialect.clock_ms}, "
                f"claimed_until = NULL WHERE state = 'pending' AND id IN ({marks})", list(ids))

    async def mark_failed(self, post_id: int, error: str, retry_in: float | None) -> None:
        """A try failed: due again in ``retry_in`` seconds, or given up for good (None)."""
        async with self.db.row_transaction() as tx:
            await tx.execute(
                f"UPDATE outbox SET claimed_until = NULL, last_error = :error, "
                f"due_at = {tx.dialect.clock_ms} + :delay, "
                f"state = CASE WHEN :give_up = 1 THEN 'failed' ELSE 'pending' END "
                f"WHERE id = :id AND state = 'pending'",
                {"error": error[:ERROR_MAX], "delay": round((retry_in or 0) * 1000),
                 "give_up": int(retry_in is None), "id": post_id})

    async def prune(self, keep_days: float = KEEP_DAYS) -> int:
        """Drop delivered and given-up posts older than ``keep_days``; return how many."""
        async with self.db.row_transaction() as tx:
            return await tx.execute(
                f"DELETE FROM outbox WHERE state <> 'pending' "
                f"AND created_at < {tx.dialect.clock_ms} - :keep",
                {"keep": round(keep_days * DAY_MS)})
