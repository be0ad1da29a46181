"""The checks every way into the store shares: ``sitrep check`` on the curated files, a
moderator's change and an imported document. Each is written once here, so the three can never
disagree about what a valid fact is. Problems are short strings ("field: reason") that the caller
addresses to its file, entry or field."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.domain.model import Fact, Source

M = TypeVar("M", bound=BaseModel)
K = TypeVar("K", bound=Hashable)


def fact_source_problems(fact: Fact, source: Source, text: str | None) -> list[str]:
    """What is wrong between a fact and its source, each as "field: reason": the quote must be
    the source's own words (where its text is known) and the event cannot come after the report."""
    problems = []
    if fact.quote and text is not None and fact.quote not in text:
        problems.append("quote: not an exact substring of the source's text")
    start = fact.event.start
    if start is not None and start > source.latest_publication:
        problems.append(f"date: {fact.event.label} is after the source was published "
                        f"({source.published_label})")
    return problems


def text_altered(source: Source, text: str | bytes) -> bool:
    """Whether ``text`` is not the article the source's recorded sha256 was taken of. The
    fingerprint is what lets a quote checked against the text be trusted as the original's words;
    a source without one cannot tell, and is not called altered."""
    if source.sha256 is None:
        return False
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest() != source.sha256


def validation_problems(exc: ValidationError) -> list[str]:
    """Every problem pydantic found, as "field: reason" (``entry`` when it is the whole entry)."""
    return [f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: "
            f"{err['msg'].removeprefix('Value error, ')}" for err in exc.errors()]


def validated(model: type[M], raw: Any) -> tuple[M | None, list[str]]:
    """``raw`` as a ``model``, or None and every reason it is not one."""
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, validation_problems(exc)


def duplicates(keys: Iterable[K]) -> dict[K, int]:
    """The keys that occur more than once, with how often."""
    return {key: n for key, n in Counter(keys).items() if n > 1}


def parent_loops(place_id: str, parents: Mapping[str, str | None]) -> bool:
    """Whether following ``parents`` up from ``place_id`` comes back to a place already seen."""
    seen, parent = {place_id}, parents.get(place_id)
    while parent is not None and parent in parents:
        if parent in seen:
            return True
        seen.add(parent)
        parent = parents[parent]
    return False


def link_problems(fact: Fact, known: Callable[[str], bool]) -> list[str]:
    """A fact's ``contradicts``/``supersedes`` links must name other facts that exist."""
    problems = []
    for link in (*fact.contradicts, *fact.supersedes):
        if link == fact.id:
            problems.append("links to itself")
        elif not known(link):
            problems.append(f"links to unknown fact {link!r}")
    return problems
