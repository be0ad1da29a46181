"""Which shard a server lives on, and which shards a process holds: Discord's rule, kept here once.

Discord sends a server's events only on the gateway connection of shard
``(guild_id >> 22) % shard_count``, and direct messages only on shard 0. A process holds a set of
shards (``SITREP_SHARD_IDS`` of ``SITREP_SHARD_COUNT``); anything it does on a server's behalf
without an event from Discord (posting a watch or mod-log message owed by a change another process
made) it does only for the servers of its own shards, so that every server is served by one process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SHARDS = 4096
"""Far beyond any bot sitrep is for (Discord's largest bots run a few thousand shards): a bound
that turns a typo ("40000") into a clear refusal instead of thousands of connections."""

DM_SHARD = 0
"""Direct messages reach shard 0 only."""


def shard_of(guild_id: int, count: int) -> int:
    """The shard a server lives on among ``count`` shards."""
    return (guild_id >> 22) % count


@dataclass(frozen=True, slots=True)
class Shards:
    """The shards one process holds (``ids``) out of all of them (``count``)."""

    count: int
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(f"the shard count must be between 1 and {MAX_SHARDS}")
        if not self.ids:
            raise ValueError("a process must hold at least one shard")
        outside = [i for i in self.ids if not 0 <= i < self.count]
        if outside:
            raise ValueError(f"shard {outside[0]} does not exist: with {self.count} shards "
                             f"they are numbered 0 to {self.count - 1}")
        if list(self.ids) != sorted(set(self.ids)):
            raise ValueError("each shard is named once, in order")

    @classmethod
    def every(cls, count: int = 1) -> Shards:
        return cls(count, tuple(range(count)))

    @property
    def holds_every(self) -> bool:
        """One process holding every shard: the only sharded set-up SQLite allows."""
        return len(self.ids) == self.count

    @property
    def holds_dms(self) -> bool:
        return DM_SHARD in self.ids

    def holds(self, guild_id: int | None) -> bool:
        """Whether this process serves the server (None: a direct message)."""
        if guild_id is None:
            return self.holds_dms
        return shard_of(guild_id, self.count) in self.ids

    def __str__(self) -> str:
        return f"{format_ids(self.ids)} of {self.count}"


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_ids(text: str, count: int) -> tuple[int, ...]:
    """``SITREP_SHARD_IDS``: ``all``, or shard numbers and ranges separated by commas
    (``0-3``, ``4,5``, ``0-1,6``), each naming shards that exist among ``count``."""
    text = text.strip().lower()
    if text in ("", "all"):
        return tuple(range(count))
    ids: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not a shard or a range: use e.g. 0-3 or 4,5")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ValueError(f"the range {part!r} runs backwards: write it as {last}-{first}")
        ids.update(range(first, last + 1))
    return Shards(count, tuple(sorted(ids))).ids


def format_ids(ids: tuple[int, ...]) -> str:
    """The shortest ``parse_ids`` text for ``ids`` (``0-3,6``)."""
    parts: list[str] = []
    start = prev = None
    for i in ids:
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)
