"""What a server sees, asked every way it can be asked.

The rule is one: a server sees the shared facts minus those it retired, plus its own live facts,
and nothing of another server. Every read path (answers, moderator listings, autocomplete,
exports) must agree on it after every kind of change a server can make; a path that restated the
rule on its own once counted a retired fact in ``sources``."""

from __future__ import annotations

import re

from fakediscord import FakeDiscord

from bot.discord.app import SitrepBot
from tests.test_discord_e2e import embed_text
from tests.test_discord_moderation import say, second_guild
from tests.test_discord_moderation import server as server

SHARED_FACT = "mosul-attack-timetable-000"
ITS_SOURCE = "000_c4c1ae3a7b28d96c"


async def _source_count(server: FakeDiscord, channel: int | None = None) -> int:
    reply = await say(server, "!sources", server.member_id, channel)
    text = " ".join(embed_text(e) for e in reply["embeds"])
    found = re.search(rf"· (\d+) fact\(s\) · `{ITS_SOURCE}`", text)
    assert found, text
    return int(found[1])


async def test_sources_counts_one_fewer_after_a_server_retires_a_shared_fact(
        server: FakeDiscord, bot: SitrepBot) -> None:
    """End to end through discord.py: a moderator retires one shared fact of a source; that
    server's ``!sources`` counts one fewer for it, the other server's count does not move."""
    _, other_channel = second_guild(server)
    before = await _source_count(server)
    assert await _source_count(server, other_channel) == before
    reply = await say(server, f"!fact retire {SHARED_FACT}")
    assert f"fact `{SHARED_FACT}` retired" in reply["content"]
    assert await _source_count(server) == before - 1
    assert await _source_count(server, other_channel) == before
    await say(server, f"!fact restore {SHARED_FACT}")
    assert await _source_count(server) == before
