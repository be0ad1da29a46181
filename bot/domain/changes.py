"""The change log's vocabulary: one entry per change a moderator makes, with the subject's state
before and after, and how a change reads in one line.

A subject is ``kind:key``: ``fact:m3fa9c1``, ``place:qaraqosh_1a2b3c``, ``source:…``, and
``name:<place id>:<name>`` for a name of a place. A state is a small JSON document (what the log
keeps of the subject), so one mechanism serves history and undo for every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
SHARED = 0
"""The server id of the shared, curated layer: rebuilt from the curated files, never changed
from Discord; a server only hides its facts for itself."""


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log."""

    id: int
    guild: int
    at: str
    actor: int
    action: str
    subject: str
    before: JSON | None
    after: JSON | None
    reverts: int | None = None

    @property
    def kind(self) -> str:
        return self.subject.split(":", 1)[0]

    @property
    def key(self) -> str:
        """The subject without its kind: a fact id, a place id, "place:name" for a name."""
        return self.subject.split(":", 1)[1]

    @property
    def place_ids(self) -> set[str]:
        """The places this change is about (for watches)."""
        return {s["place"] for s in (self.before, self.after) if s and s.get("place")}

    @property
    def touches_names(self) -> bool:
        """A change of the places or names a server's resolver knows."""
        return subject_touches_names(self.subject)

    @property
    def leaves_live_fact(self) -> bool:
        """A change after which its fact is live: the one a moderator may want to look at."""
        return self.kind == "fact" and bool(self.after and self.after.get("live"))


def subject_touches_names(subject: str) -> bool:
    return subject.split(":", 1)[0] in {"name", "place"}


def fact_subject(fact_id: str) -> str:
    return f"fact:{fact_id}"


def name_subject(place_id: str, name: str) -> str:
    return f"name:{place_id}:{name}"


def place_subject(place_id: str) -> str:
    return f"place:{place_id}"


def source_subject(source_id: str) -> str:
    return f"source:{source_id}"


ACTION_WORDS = {"fact.add": "added", "fact.edit": "edited", "fact.retire": "retired",
                "fact.restore": "restored", "name.add": "added", "name.remove": "removed",
                "place.add": "added", "source.add": "added", "undo": "reverted",
                "import": "imported", "review.approve": "approved"}


def describe(change: Change) -> str:
    """"fact m12 edited", "name “Mossul” of mosul added": one line for replies and the mod-log."""
    verb = ACTION_WORDS.get(change.action, change.action)
    if change.kind == "name":
        place_id, _, name = change.key.partition(":")
        return f"name “{name}” of `{place_id}` {verb}"
    return f"{change.kind} `{change.key}` {verb}"
