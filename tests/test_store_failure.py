"""A change the store cannot make for a reason outside the request: here, a full disk.

SQLite is made to hit a real SQLITE_FULL by capping the write connection's database size at its
current page count (``PRAGMA max_page_count``), which is what a full disk looks like to it. The
moderator must be told in one line that nothing was saved and why; nothing may be half-saved (a
fact without its log entry); and reads must go on answering."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from fakediscord import FakeDiscord

from bot.discord.app import SitrepBot
from bot.domain.errors import StoreFailure
from bot.engine import Engine
from bot.services.moderation import ModerationService
from tests.test_discord_moderation import add_source, say
from tests.test_discord_moderation import server as server

GUILD, MOD = 111, 5
HEADROOM_PAGES = 4
"""Pages the capped store may still grow by: far fewer than 500 facts of 250 characters need."""


def _counts(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        facts = conn.execute("SELECT count(*) FROM facts WHERE guild_id <> 0").fetchone()[0]
        changes = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    return int(facts), int(changes)


async def _fill(service: ModerationService) -> None:
    """Cap the store a few pages above the pages it has: the first writes fit whatever room the
    shipped data happens to leave in its last pages, and a write that needs a page past the cap
    finds the disk full."""
    rows = list(await service.writer.db.conn.execute_fetchall("PRAGMA page_count"))  # type: ignore[attr-defined]
    cap = rows[0][0] + HEADROOM_PAGES
    await service.writer.db.conn.execute(f"PRAGMA max_page_count = {cap}")  # type: ignore[attr-defined]


@pytest.mark.sqlite_only  # a full disk, simulated with SQLite's page cap
async def test_a_full_disk_saves_nothing_and_says_so(shipped: Engine) -> None:
    service = await ModerationService.open(shipped)
    try:
        db = shipped.store.path  # type: ignore[attr-defined]
        source = (await service.add_source(GUILD, MOD, title="Wire", outlet="Wire",
                                           published="2 March 2020")).key
        await _fill(service)
        saved = 0
        with pytest.raises(StoreFailure) as failure:
            for i in range(500):
                before = _counts(db)
                await service.add_fact(GUILD, MOD, place="Mosul", date_text="1 March 2020",
                                       source=source, summary=f"Fact number {i} " + "x" * 250)
                saved += 1
        assert failure.value.public == "the disk holding the store is full"
        assert "is full: nothing was saved" in str(failure.value)
        assert _counts(db) == before  # the failed change left nothing behind
        assert saved > 0  # it was the cap that stopped it, not a refusal
        answer = await shipped.status("Mosul", GUILD)  # reads go on answering
        assert answer.place is not None and answer.place.id == "mosul"
        await service.writer.db.conn.execute("PRAGMA max_page_count = 1073741823")  # type: ignore[attr-defined]
        change = await service.add_fact(GUILD, MOD, place="Mosul", date_text="1 March 2020",
                                        source=source, summary="Room again.")
        assert change.key in {f.id for f in (await shipped.timeline("Mosul", GUILD)).facts}
    finally:
        await service.close()


@pytest.mark.sqlite_only
async def test_a_moderator_on_discord_is_told_nothing_was_saved(
        server: FakeDiscord, bot: SitrepBot, store: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="sitrep.errors")
    source = await add_source(server)
    await _fill(bot.service)
    before = _counts(store)
    for i in range(500):
        reply = await say(server, f"!fact add place: Mosul date: 1 March 2020 source: {source} "
                                  f"summary: Fact number {i} {'x' * 250}")
        if "added" not in reply["content"]:
            break
        before = _counts(store)
    assert reply["content"] == "Nothing was saved: the disk holding the store is full."
    assert _counts(store) == before
    status = await say(server, "!status Mosul", server.member_id)
    assert status["embeds"] and "Mosul" in status["embeds"][0]["title"]
    # the same change by slash command needs the same new page, so it fails the same way
    rec = await server.invoke_slash(server.guild_id, server.channel_id, server.moderator_id,
                                    "fact", {"place": "Mosul", "date": "1 March 2020",
                                             "source": source,
                                             "summary": f"Fact by slash {'x' * 250}"}, ("add",))
    assert rec.ephemeral and rec.content == "Nothing was saved: the disk holding the store is full."
    assert _counts(store) == before
    # the operator's log has the cause with the file's details, once per failed command
    causes = [r.getMessage() for r in caplog.records if r.name == "sitrep.errors"]
    assert len(causes) == 2 and all(c.startswith("the store failed: ") and
                                    "is full: nothing was saved" in c for c in causes), causes
