"""The rules of changing the store from a server, decided here and carried out by the services.

- A server changes only its own layer. A shared fact (server 0, from the curated files) is never
  changed: retiring it hides it for that server only, and editing it gives the server its own
  edited copy while the shared one is hidden there.
- Nothing is deleted: a fact is retired and can be restored. Only undoing the addition of a place
  or a source removes it, and only while nothing live uses it.
- ``undo`` reverts a moderator's own latest change, unless someone changed the same subject since
  (then the moderator should edit instead of clobbering it).
- Every refusal is a typed error (``bot.domain.errors``) whose message the moderator reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.domain.changes import JSON, SHARED, Change, describe
from bot.domain.checks import validation_problems
from bot.domain.errors import Conflict, Invalid, NotFound
from bot.domain.model import Fact, Place, Source


@dataclass(frozen=True, slots=True)
class StoredFact:
    """A fact as one server has it: whose it is and whether it is live there."""

    fact: Fact
    origin: str
    owner: int
    """``SHARED`` for a shared fact, else the server that added it."""
    live: bool
    """Shown in the server: not retired there."""

    @property
    def shared(self) -> bool:
        return self.owner == SHARED


@dataclass(frozen=True, slots=True)
class StoredSource:
    source: Source
    body: str | None
    """The article's text when the store has it (curated and ingested sources): quotes are then
    checked against it word for word."""
    owner: int


MAX_NAME = 80
"""The longest name a server may give a place, typed or imported."""

EDITABLE = frozenset({"place", "source", "quote", "summary", "attribution", "hedged",
                      "modality", "event", "status"})
"""The fields a moderator may change; the id, the rank and the links are the curators'."""


def fact_state(stored: StoredFact) -> JSON:
    """What the log keeps of a fact: every field a moderator can change, and whether it is live."""
    return {**stored.fact.model_dump(mode="json", exclude={"contradicts", "supersedes"}),
            "live": stored.live, "origin": stored.origin}


def fact_from_state(state: JSON) -> Fact:
    return Fact.model_validate({k: v for k, v in state.items() if k not in {"live", "origin"}})


def place_state(place: Place) -> JSON:
    return {"place": place.id, "name": place.name, "kind": place.kind.value,
            "country": place.country, "governorate": place.governorate, "lat": place.lat,
            "lon": place.lon}


def source_state(stored: StoredSource) -> JSON:
    return {**stored.source.model_dump(mode="json"), "has_text": stored.body is not None}


def name_state(place_id: str, name: str) -> JSON:
    return {"place": place_id, "name": name}


def describe_validation(exc: ValidationError) -> str:
    """The first validation problem as one sentence naming the field."""
    field, _, reason = validation_problems(exc)[0].partition(": ")
    return f"{(field if field != 'entry' else 'input').capitalize()}: {reason}."


def revised(fact: Fact, updates: dict[str, Any]) -> Fact:
    """``fact`` with ``updates`` applied, validated again as a whole."""
    unknown = set(updates) - EDITABLE
    if unknown:
        raise Invalid(f"Cannot edit {', '.join(sorted(unknown))}.")
    try:
        return Fact.model_validate({**fact.model_dump(), **updates})
    except ValidationError as exc:
        raise Invalid(describe_validation(exc)) from None


def editable_text(fact: Fact) -> dict[str, str]:
    """A fact's editable fields as a moderator edits them in a form: the text to start from."""
    return {"date": fact.event.compact, "summary": fact.summary, "quote": fact.quote,
            "attribution": fact.attribution or "",
            "status": fact.status.value if fact.status else "none"}


def changed_fields(shown: Mapping[str, str], typed: Mapping[str, str | None]) -> dict[str, str]:
    """What a moderator changed in a form filled with the current values: the fields whose text
    differs from what was shown (unchanged ones must not count as edits)."""
    return {k: v for k, v in typed.items() if v is not None and v != shown.get(k)}


def fact_here(fact_id: str, stored: StoredFact | None) -> StoredFact:
    if stored is None:
        raise NotFound(f"No fact `{fact_id}` here.")
    return stored


def edited(fact_id: str, stored: StoredFact | None, updates: dict[str, Any]) -> Fact:
    """The fact as an edit leaves it. Refused when there is no such fact here, when it is
    retired (restore it first), or when nothing would change. For a shared fact the result is the
    server's own copy (``copy_on_edit``); the shared one is not touched."""
    stored = fact_here(fact_id, stored)
    if not stored.live:
        raise Conflict(f"Fact `{fact_id}` is retired; `fact restore {fact_id}` first.")
    new = revised(stored.fact, updates)
    if new == stored.fact:
        raise Invalid("Nothing to change: the new values are the same as the old ones.")
    return new


def copy_on_edit(stored: StoredFact) -> bool:
    """Editing a shared fact hides it for the server and adds the server's own edited copy (two
    log entries, so ``undo`` takes them back one at a time)."""
    return stored.shared


def hideable(stored: StoredFact | None) -> bool:
    """Whether a server may hide this fact for itself, as an import's ``hidden`` list asks: only a
    shared fact is hidden; a server's own fact is retired instead (and exported as such)."""
    return stored is not None and stored.shared


def check_live_change(fact_id: str, stored: StoredFact | None, live: bool) -> StoredFact:
    """Retiring (``live=False``) or restoring a fact: refused when it is already so."""
    stored = fact_here(fact_id, stored)
    if stored.live == live:
        raise Conflict(f"Fact `{fact_id}` is already {'live' if live else 'retired'}.")
    return stored


def name_taken(name: str) -> Invalid:
    return Invalid(f"Name: “{name}” is already a name of that place.")


def not_own_name(name: str) -> NotFound:
    return NotFound(f"Name: this server has not added the name “{name}”.")


# ------------------------------------------------------------------------------ undo
def undoable(change: Change | None, changed_since: bool) -> Change:
    """The change ``undo`` reverts: the moderator's latest one still standing, unless the same
    subject was changed again since."""
    if change is None:
        raise NotFound("Nothing to undo: you have no change left to revert here.")
    if changed_since:
        raise Conflict(f"Cannot undo your last change ({describe(change)}): it was changed "
                       "again since. Look at its history and edit it instead.")
    return change


@dataclass(frozen=True, slots=True)
class Retire:
    """Undo a fact's addition: retire it (nothing is deleted)."""


@dataclass(frozen=True, slots=True)
class Revert:
    """Put a fact back as it was: its fields (the server's own facts only: a shared fact's
    fields never change) and whether it is live."""

    fact: Fact
    live: bool


@dataclass(frozen=True, slots=True)
class RemoveName:
    place_id: str
    name: str


@dataclass(frozen=True, slots=True)
class AddName:
    place_id: str
    name: str


@dataclass(frozen=True, slots=True)
class RemoveUnused:
    """Undo a place's or source's addition: remove it, refused while anything live uses it."""

    kind: str
    key: str


UndoStep = Retire | Revert | RemoveName | AddName | RemoveUnused


def undo_step(change: Change) -> UndoStep:
    """What undoing ``change`` does to its subject: bring back its ``before`` state."""
    state = change.before
    if change.kind == "fact":
        if state is None:
            return Retire()
        return Revert(fact_from_state(state), bool(state["live"]))
    if change.kind == "name":
        place_id, _, name = change.key.partition(":")
        return RemoveName(place_id, name) if state is None else AddName(place_id, name)
    if change.kind in {"place", "source"}:
        if state is not None:
            raise Conflict("Cannot restore a removed place or source.")
        return RemoveUnused(change.kind, change.key)
    raise ValueError(f"unknown subject {change.subject!r}")


def gone(fact_id: str) -> Conflict:
    """Undo of a fact that no longer exists (a shared fact a rebuild removed, or one removed with
    its source)."""
    return Conflict(f"Cannot undo: fact `{fact_id}` no longer exists.")


def still_used(kind: str, key: str) -> Conflict:
    return Conflict(f"Cannot undo adding {kind} `{key}` yet: live facts or pending "
                    "candidates use it. Retire or reject them first, then `undo` again.")
