"""What the engine answers: one type per command, and one for a question it cannot answer.

Every front end (the console, ``sitrep ask``, Discord) renders these and nothing else, with a
``match`` over ``Answer`` that ends in ``assert_never``: a new answer type is then a mypy error in
every renderer that does not handle it yet, instead of a silently wrong reply.

The answers carry data (facts, counts, dates, names); the sentences people read are the renderers'
wording, except ``message`` and ``notes``, which the engine words because the ``--json`` contract
carries them as they are. The engine builds answers per request with ``model_construct`` (no
re-validation: what it puts in came validated from the store).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar, assert_never

from pydantic import BaseModel, Field

from bot.domain.model import FactView, PlaceCounts, PlaceRef, SourceRef
from bot.engine.commands import Command


class ErrorCode(StrEnum):
    """Why a question got no answer; the ``error`` of the ``--json`` contract."""

    UNKNOWN_PLACE = "unknown_place"
    NOT_A_PLACE = "not_a_place"
    AMBIGUOUS = "ambiguous"
    NO_FACTS = "no_facts"
    NO_RESULTS = "no_results"
    UNKNOWN_SOURCE = "unknown_source"
    BAD_INPUT = "bad_input"
    TOO_BROAD = "too_broad"


class _Answered(BaseModel):
    """What every answer that succeeded has. ``error`` is always None here, so that code asking
    "did it fail?" (``sitrep ask``'s exit status) can ask any answer."""

    command: ClassVar[Command]
    query: str
    message: str

    @property
    def error(self) -> None:
        return None


class StatusAnswer(_Answered):
    """The situation in a place: the headline fact first, then the most relevant others."""

    command: ClassVar[Command] = Command.STATUS
    place: PlaceRef
    as_of: date
    headline: str | None
    """None when the store has only background about the place (no report on its situation)."""
    facts: list[FactView]
    sources: list[SourceRef]
    """The facts' sources in footnote order: ``sources[0]`` is [1]."""
    notes: list[str] = Field(default_factory=list)


class TimelineAnswer(_Answered):
    """Every fact about a place (up to the engine's cap), oldest event first."""

    command: ClassVar[Command] = Command.TIMELINE
    place: PlaceRef
    as_of: date
    facts: list[FactView]
    sources: list[SourceRef]
    notes: list[str] = Field(default_factory=list)


class SearchHit(BaseModel):
    fact: FactView
    snippet: str
    """The matching text, with the matched words between ``**``."""


class SearchAnswer(_Answered):
    """Facts matching some words, best first."""

    command: ClassVar[Command] = Command.SEARCH
    hits: list[SearchHit]
    sources: list[SourceRef]

    @property
    def facts(self) -> list[FactView]:
        return [hit.fact for hit in self.hits]


class ListedSource(SourceRef):
    """A source in a listing, with how many of the facts counted there come from it."""

    fact_count: int


class SourcesAnswer(_Answered):
    """Every source the server sees, oldest first."""

    command: ClassVar[Command] = Command.SOURCES
    sources: list[ListedSource]


class PlaceSourcesAnswer(_Answered):
    """The sources that speak about one place, oldest first; ``fact_count`` counts the facts
    about that place (the Sources button under a status)."""

    command: ClassVar[Command] = Command.SOURCES
    place: PlaceRef
    sources: list[ListedSource]


class SourceAnswer(_Answered):
    """One source, how many facts the server sees from it, and the places they are about."""

    command: ClassVar[Command] = Command.SOURCE
    source: SourceRef
    fact_count: int
    places: list[str]
    """The names of the places, in the store's order."""


class PlacesAnswer(_Answered):
    """The places that have facts, with how many and the latest report's date."""

    command: ClassVar[Command] = Command.PLACES
    places: list[PlaceCounts]


class HelpEntry(BaseModel):
    usage: str
    """Without the prefix: ``"status <place>"``."""
    summary: str


class HelpAnswer(_Answered):
    """The commands, with the prefix they are typed with."""

    command: ClassVar[Command] = Command.HELP
    prefix: str
    commands: list[HelpEntry]


class FailureAnswer(BaseModel):
    """A question that got no answer, why, and the places it may have meant."""

    command: Command | None
    """The command asked, or None when the line was not a command at all."""
    query: str
    error: ErrorCode
    message: str
    place: PlaceRef | None = None
    """The place, when it is known but has no facts (``no_facts``)."""
    suggestions: list[PlaceRef] = Field(default_factory=list)

    @property
    def facts(self) -> list[FactView]:
        """A failure shows no facts: whoever reads any answer's facts reads an empty list."""
        return []

    @property
    def notes(self) -> list[str]:
        return []


Answer = (StatusAnswer | TimelineAnswer | SearchAnswer | SourcesAnswer | PlaceSourcesAnswer
          | SourceAnswer | PlacesAnswer | HelpAnswer | FailureAnswer)
"""Whatever the engine answers."""


def place_of(answer: Answer) -> PlaceRef | None:
    """The place an answer is about, if it is about one (a failure: the place without facts)."""
    match answer:
        case StatusAnswer() | TimelineAnswer() | PlaceSourcesAnswer() | FailureAnswer():
            return answer.place
        case SearchAnswer() | SourcesAnswer() | SourceAnswer() | PlacesAnswer() | HelpAnswer():
            return None
        case _:
            assert_never(answer)
