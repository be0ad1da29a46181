"""Posts a change owes: the mod-log and watch messages, as rules without any I/O.

Why a domain module: which channels a change is announced in, how often a failed post is tried
again and when the bot gives up are rules, and the store (which records the posts owed in the same
transaction as the change, the outbox) and the Discord front end (which sends them) must agree on
them. The store resolves the channels; the front end sends; this module says what both mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.changes import Change

MAX_ATTEMPTS = 4
"""Tries of one post before it is given up: a channel that was deleted, or in which the bot may
not write, must not be retried for ever; a passing failure (Discord's 5xx, a restart) is over
long before the fourth try."""
RETRY_FIRST = 30.0
"""Seconds before the second try; each following one waits four times longer (30 s, 2 min, 8 min)."""
LEASE = 60.0
"""Seconds a process holds the posts it claimed: long enough to send a batch through Discord's
rate limits, short enough that a crashed process's posts go out a minute later from whoever
holds the server's shard next."""
NONCE_MAX = 25
"""Discord's limit on a message nonce."""


def watched_places(change: Change) -> set[str]:
    """The places whose watching channels hear of this change: a fact's (before and after an
    edit that moved it), and none for names, places or sources, which watchers do not follow."""
    return change.place_ids if change.kind == "fact" else set()


def retry_delay(attempts: int, first: float = RETRY_FIRST) -> float | None:
    """Seconds to wait after the ``attempts``-th try failed, or None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return first * float(4 ** max(0, attempts - 1))


def may_try(attempts: int) -> bool:
    """Whether a claimed post (``attempts`` counts this claim) may still be sent: a post whose
    every try ended in a crash, never marked failed, is not tried for ever either."""
    return attempts <= MAX_ATTEMPTS


def nonce(post_id: int) -> str:
    """The message nonce of a post: the same on every try, so that Discord drops a second send of
    a post that went out before a crash kept it from being marked sent."""
    text = f"sitrep{post_id}"
    assert len(text) <= NONCE_MAX
    return text


@dataclass(frozen=True, slots=True)
class Post:
    """One message owed: the change, to this channel of its server, on its ``attempts``-th try."""

    id: int
    guild: int
    channel: int
    change: Change
    attempts: int


class Undeliverable(Exception):
    """A post could not be sent this time (the front end's words for why)."""
