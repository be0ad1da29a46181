"""The outbox on both engines: a change and the posts it owes commit together; claims are
exclusive across processes, limited to the claimer's shards, leased, and retried a bounded
number of times; delivery sends each post once. (Through discord.py: test_discord_outbox.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bot.domain import delivery as rules
from bot.domain.delivery import MAX_ATTEMPTS, Post, Undeliverable
from bot.domain.shards import Shards, shard_of
from bot.runtime import Runtime, open_at
from bot.services.delivery import Delivery
from bot.store.outbox import pick
from bot.store.sql import Database
from bot.store.sqlstore import SqlStore
from bot.store.stores import open_store
from bot.store.writes import SqlWriter
from tests.conftest import TODAY, StoreAt, location, store_summary

A, B = 111 << 22, 222 << 22
"""Two servers (on shards 111 % n and 222 % n)."""
MOD = 5
MODLOG, WATCHING, ELSEWHERE = 900, 901, 902
EVERY = Shards.every()


@pytest.fixture
async def rt(shipped_copy: StoreAt) -> AsyncIterator[Runtime]:
    runtime = await open_at(shipped_copy, today=lambda: TODAY)
    yield runtime
    await runtime.close()


@contextlib.asynccontextmanager
async def opened(where: StoreAt) -> AsyncIterator[tuple[SqlStore, SqlWriter]]:
    """A store and its writer: what another process has."""
    store = await open_store(location(where))
    writer = await store.open_writer()
    try:
        yield store, writer
    finally:
        await writer.close()
        await store.close()


async def rows(db: Database, where: str = "1 = 1") -> list[tuple[int, int, int, str, int]]:
    """(change, guild, channel, state, attempts) of the outbox's rows, in order."""
    found = await db.fetch(f"SELECT change_id, guild_id, channel_id, state, attempts FROM outbox "
                           f"WHERE {where} ORDER BY id")
    return [(int(r[0]), int(r[1]), int(r[2]), str(r[3]), int(r[4])) for r in found]


async def owe(writer: SqlWriter, guilds: Sequence[int], channel: int = MODLOG) -> list[int]:
    """One post per server (a change to a server whose mod-log is ``channel``); the change ids."""
    ids = []
    async with writer.transaction() as tx:
        for guild in guilds:
            await tx.set_modlog_channel(guild, channel)
            ids.append((await tx.log(guild, MOD, "test", f"source:s{guild}", None, {})).id)
    return ids


async def age_leases(db: Database, seconds: float) -> None:
    """As if ``seconds`` had passed for every lease (a process that died holding them)."""
    await db.execute("UPDATE outbox SET claimed_until = claimed_until - ?",
                     (round(seconds * 1000),))


# ------------------------------------------------------------------------------ enqueue
async def test_a_change_owes_the_mod_log_and_the_channels_watching_its_places(
        rt: Runtime) -> None:
    mod = rt.moderation
    await mod.watch(A, MOD, WATCHING, "Mosul")
    await mod.watch(A, MOD, ELSEWHERE, "Ramadi")
    await mod.watch(A, MOD, MODLOG, "Mosul")  # the mod-log also watches: one post, not two
    await mod.watch(B, MOD, 999, "Mosul")  # another server's watch
    source = await mod.add_source(A, MOD, title="Wire", outlet="Test Wire",
                                  published="2 March 2020", url="https://example.org/w",
                                  genre="wire")
    assert await rows(rt.store.db) == []  # no mod-log yet, and watchers hear of facts only
    await mod.set_modlog(A, MODLOG)
    fact = await mod.add_fact(A, MOD, place="Mosul", date_text="1 March 2020",
                              summary="Owed twice.", source=source.key)
    alias = await mod.add_alias(A, MOD, "Mosul", "Mosulopolis")
    undone = await mod.undo(A, MOD)
    assert await rows(rt.store.db) == [
        (fact.id, A, MODLOG, "pending", 0), (fact.id, A, WATCHING, "pending", 0),
        (alias.id, A, MODLOG, "pending", 0), (undone.id, A, MODLOG, "pending", 0)]
    edits = await mod.edit_fact(A, MOD, fact.key, place="Ramadi")  # moved: both places hear
    assert [r[2] for r in await rows(rt.store.db, f"change_id = {edits[0].id}")] == [
        MODLOG, WATCHING, ELSEWHERE]


async def test_a_failed_change_owes_nothing(shipped_copy: StoreAt) -> None:
    async with opened(shipped_copy) as (store, writer):
        await owe(writer, [A])
        before = await store_summary(store)
        with pytest.raises(RuntimeError):
            async with writer.transaction() as tx:
                await tx.log(A, MOD, "test", "source:x", None, {})
                assert len(await rows(tx.db)) == 2  # written in the change's own transaction
                raise RuntimeError("the change fails after its log entry")
        assert await store_summary(store) == before


async def test_an_import_owes_its_posts_too(rt: Runtime) -> None:
    """``sitrep import`` logs through the same writer: the mod-log hears of every row."""
    await rt.moderation.add_place(B, MOD, name="Newtown", kind="town", country="IQ")
    await rt.moderation.add_alias(B, MOD, "Mosul", "Mosulopolis")
    document = await rt.moderation.export_document(B)
    await rt.moderation.set_modlog(A, MODLOG)
    report = await rt.moderation.import_document(A, MOD, document)
    assert [(r[0], r[2]) for r in await rows(rt.store.db)] == [
        (c.id, MODLOG) for c in report.changes]
    assert report.changes


# ------------------------------------------------------------------------------ claims
async def test_two_processes_never_claim_the_same_post(shipped_copy: StoreAt) -> None:
    async with opened(shipped_copy) as (one, writer), opened(shipped_copy) as (two, _):
        await owe(writer, [(g << 22) + 1 for g in range(60)])
        # many claims at once from both processes: on PostgreSQL truly concurrent
        claims = await asyncio.gather(*(
            store.outbox.claim(EVERY, name, limit=4)
            for _ in range(12) for store, name in ((one, "one"), (two, "two"))))
        ids = [p.id for posts in claims for p in posts]
        assert len(ids) == len(set(ids)) == 60
        assert not await one.outbox.has_due(EVERY)
        assert await two.outbox.claim(EVERY, "two") == []


@pytest.mark.parametrize("count", [1, 3, 16])
async def test_a_claim_takes_only_the_servers_of_its_shards(shipped_copy: StoreAt,
                                                            count: int) -> None:
    rng = random.Random(count)
    guilds = [rng.randrange(1 << 22, 1 << 62) for _ in range(40)] + [A, B, 1 << 22]
    async with opened(shipped_copy) as (store, writer):
        await owe(writer, guilds)
        held = Shards(count, tuple(range(0, count, 2)))
        claimed = await store.outbox.claim(held, "me", limit=100)
        assert sorted(p.guild for p in claimed) == sorted(
            g for g in guilds if shard_of(g, count) in held.ids)
        rest = await store.outbox.claim(Shards.every(count), "me", limit=100)
        assert {p.guild for p in rest} == set(guilds) - {p.guild for p in claimed}


async def test_a_lease_keeps_a_post_until_it_runs_out(shipped_copy: StoreAt) -> None:
    async with opened(shipped_copy) as (one, writer), opened(shipped_copy) as (two, _):
        [change] = await owe(writer, [A])
        [post] = await one.outbox.claim(EVERY, "one")
        assert (post.change.id, post.channel, post.attempts) == (change, MODLOG, 1)
        assert post.change.action == "test" and post.change.subject == f"source:s{A}"
        await age_leases(one.db, 59)
        assert await two.outbox.claim(EVERY, "two") == []  # one still holds it
        await age_leases(one.db, 2)  # "one" died: its lease ran out
        [again] = await two.outbox.claim(EVERY, "two")
        assert (again.id, again.attempts) == (post.id, 2)
        await two.outbox.mark_sent([again.id])
        await age_leases(one.db, 120)
        assert await one.outbox.claim(EVERY, "one") == []  # sent is sent
        assert await rows(one.db) == [(change, A, MODLOG, "sent", 2)]


async def test_claiming_is_a_range_of_the_index_of_posts_owed(shipped_copy: StoreAt) -> None:
    async with opened(shipped_copy) as (store, _):
        query = pick(store.db.dialect, Shards(4, (1, 2))).replace(":limit", "10")
        if isinstance(shipped_copy, Path):
            plan = " | ".join(str(r[-1]) for r in await store.db.fetch(
                f"EXPLAIN QUERY PLAN {query}"))
            assert "USING INDEX outbox_due" in plan and "TEMP B-TREE" not in plan, plan
        else:
            async with store.db.row_transaction() as tx:  # the planner's choice on an empty table
                await tx.execute("SET LOCAL enable_seqscan = off")  # is no test; the index's is
                plan = " | ".join(str(r[0]) for r in await tx.fetch(f"EXPLAIN {query}"))
            assert "outbox_due" in plan and "Sort" not in plan, plan


# ------------------------------------------------------------------------------ delivery
class Channel:
    """A ``send`` that fails the first ``failures`` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[Post] = []
        self.tries = 0

    async def __call__(self, post: Post) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise Undeliverable("Discord answered 403: Missing Access")
        self.sent.append(post)


async def test_a_failing_post_is_tried_again_then_given_up(shipped_copy: StoreAt) -> None:
    async with opened(shipped_copy) as (store, writer):
        [flaky, dead] = await owe(writer, [A, B])
        delivery = Delivery(store.outbox, retry_first=0)
        channel = Channel(failures=1)
        assert await delivery.deliver_due(Shards(2, (shard_of(A, 2),)), channel) == 1
        assert [p.change.id for p in channel.sent] == [flaky]
        assert await rows(store.db, f"change_id = {flaky}") == [(flaky, A, MODLOG, "sent", 2)]

        never = Channel(failures=100)
        assert await delivery.deliver_due(EVERY, never) == 0
        assert never.tries == MAX_ATTEMPTS
        assert await rows(store.db, f"change_id = {dead}") == [
            (dead, B, MODLOG, "failed", MAX_ATTEMPTS)]
        error = await store.db.fetchrow(f"SELECT last_error FROM outbox WHERE change_id = {dead}")
        assert error is not None and "403" in error[0]
        assert not await store.outbox.has_due(EVERY)


async def test_a_post_whose_every_try_crashed_is_given_up_unsent(shipped_copy: StoreAt) -> None:
    async with opened(shipped_copy) as (store, writer):
        await owe(writer, [A])
        for _ in range(MAX_ATTEMPTS):  # claimed, then the process died, each time
            assert await store.outbox.claim(EVERY, "crashing")
            await age_leases(store.db, 120)
        channel = Channel()
        assert await Delivery(store.outbox).deliver_due(EVERY, channel) == 0
        assert channel.tries == 0
        assert [r[3] for r in await rows(store.db)] == ["failed"]


async def test_delivered_posts_are_pruned_after_some_days(shipped_copy: StoreAt) -> None:
    async with opened(shipped_copy) as (store, writer):
        [old, owed, recent] = await owe(writer, [A, B, A + 1])
        for post in await store.outbox.claim(EVERY, "me"):
            if post.change.id != owed:
                await store.outbox.mark_sent([post.id])
        await store.db.execute("UPDATE outbox SET created_at = created_at - ? "
                               "WHERE change_id IN (?, ?)", (8 * 86_400_000, old, owed))
        assert await store.outbox.prune(keep_days=7) == 1
        assert [r[0] for r in await rows(store.db)] == [owed, recent]


async def test_the_rules_of_retries_and_nonces() -> None:
    assert [rules.retry_delay(n, 30) for n in range(1, MAX_ATTEMPTS + 1)] == [
        30, 120, 480, None]
    assert rules.may_try(MAX_ATTEMPTS) and not rules.may_try(MAX_ATTEMPTS + 1)
    assert len(rules.nonce((1 << 63) - 1)) <= rules.NONCE_MAX
    assert rules.nonce(7) != rules.nonce(17)
