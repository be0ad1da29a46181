"""Every answer's query has a time budget: one that would run too long is stopped (SQLite's
progress handler, PostgreSQL's statement_timeout), holds no connection past it, and the answers
beside it do not wait for it (a pool of connections on both engines)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.domain.errors import OverBudget
from bot.engine.answers import ErrorCode, FailureAnswer
from bot.runtime import open_at
from bot.store import db
from tests.conftest import TODAY, StoreAt

BUDGET = 0.5
ENDLESS = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
              "SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(30)",
}


async def test_a_query_past_its_budget_is_stopped_and_others_do_not_wait(
        fixture_copy: StoreAt) -> None:
    rt = await open_at(fixture_copy, today=lambda: TODAY, query_budget=BUDGET)
    try:
        kind = "sqlite" if isinstance(fixture_copy, Path) else "postgresql"
        started = time.monotonic()
        endless = asyncio.create_task(rt.store.db.fetch(ENDLESS[kind]))
        await asyncio.sleep(0.05)  # it holds a connection now
        answer = await rt.engine.status("Mosul")
        assert answer.place is not None and answer.place.id == "mosul"
        assert not endless.done()  # answered beside it, not after it
        with pytest.raises(OverBudget):
            await endless
        assert time.monotonic() - started < 10 * BUDGET  # stopped, not run to its end
        # the connection it held serves again
        assert (await rt.engine.timeline("Ramadi")).place is not None
    finally:
        await rt.close()


@pytest.mark.sqlite_only
async def test_a_search_past_its_budget_says_add_words(fixture_copy: StoreAt,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # a budget no query can meet, checked at every step: the first check stops the search
    monkeypatch.setattr(db, "PROGRESS_EVERY", 1)
    rt = await open_at(fixture_copy, today=lambda: TODAY, query_budget=BUDGET)
    try:
        for reader in rt.store.pool.readers:  # type: ignore[attr-defined]
            reader.budget = 1e-9
        answer = await rt.engine.search("surrounded")
        assert isinstance(answer, FailureAnswer)
        assert answer.error == ErrorCode.TOO_BROAD
        assert "add words" in answer.message
    finally:
        await rt.close()
