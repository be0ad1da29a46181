"""Which shard a server lives on and which shards a process holds (``bot.domain.shards``)."""

from __future__ import annotations

import pytest

from bot.domain.shards import Shards, format_ids, parse_ids, shard_of

# a real-looking snowflake: its shard is (id >> 22) % count
GUILD = 1_165_000_000_000_000_000


def test_a_server_lives_on_the_shard_of_its_id_s_timestamp_bits() -> None:
    assert shard_of(GUILD, 1) == 0
    assert shard_of(GUILD, 4) == (GUILD >> 22) % 4
    neighbours = {shard_of(GUILD + (n << 22), 4) for n in range(4)}
    assert neighbours == {0, 1, 2, 3}  # consecutive timestamps spread over every shard


@pytest.mark.parametrize(("text", "count", "ids"), [
    ("all", 4, (0, 1, 2, 3)), ("", 2, (0, 1)), ("0-3", 8, (0, 1, 2, 3)), ("4,5", 8, (4, 5)),
    (" 0-1, 6 ", 8, (0, 1, 6)), ("3,1,2", 4, (1, 2, 3)), ("2", 3, (2,)),
])
def test_shard_ids_are_numbers_and_ranges(text: str, count: int, ids: tuple[int, ...]) -> None:
    assert parse_ids(text, count) == ids
    assert parse_ids(format_ids(ids), count) == ids


@pytest.mark.parametrize(("text", "count", "said"), [
    ("4", 4, "shard 4 does not exist: with 4 shards they are numbered 0 to 3"),
    ("3-1", 4, "runs backwards"), ("a", 4, "is not a shard or a range"), ("1-", 4, "not a shard"),
    ("-1", 4, "not a shard"),
])
def test_bad_shard_ids_say_what_is_wrong(text: str, count: int, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_ids(text, count)


def test_a_process_holds_its_servers_and_shard_0_holds_direct_messages() -> None:
    one, other = Shards(2, (0,)), Shards(2, (1,))
    guilds = [GUILD + (n << 22) for n in range(6)]
    assert all(one.holds(g) != other.holds(g) for g in guilds)  # each server exactly once
    assert one.holds(None) and not other.holds(None)
    assert Shards.every(3).holds_every and not one.holds_every
    assert str(Shards(8, (0, 1, 2, 5))) == "0-2,5 of 8"


def test_a_shard_count_out_of_bounds_is_refused() -> None:
    for count in (0, 5000):
        with pytest.raises(ValueError, match="between 1 and"):
            Shards.every(count)
