"""The ``--json`` contract: exactly these keys, which other tools rely on.

``AnswerContract`` is the contract: ``render_json`` prints one, ``sitrep schema`` prints its JSON
Schema, and ``docs/answer.schema.json`` is that schema as published (a test keeps it current). The
README's "From scripts: sitrep ask" section says what the keys mean. Only the contract's keys are
emitted, whatever an answer carries besides; adding a key is a contract change, to be made in the
model, the schema file and the README together.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict

from bot.domain.model import FactView, PlaceRef, Precision
from bot.engine.answers import (
    Answer,
    ErrorCode,
    FailureAnswer,
    HelpAnswer,
    PlacesAnswer,
    PlaceSourcesAnswer,
    SearchAnswer,
    SourceAnswer,
    SourcesAnswer,
    StatusAnswer,
    TimelineAnswer,
)
from bot.engine.commands import Command


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ContractPlace(_Contract):
    """The place the answer is about."""

    id: str
    name: str
    country: str | None
    """ISO 3166 alpha-2 code, e.g. "IQ"."""


class ContractEventDate(_Contract):
    """When the event happened, as precisely as the source allows."""

    start: date | None
    end: date | None
    precision: Precision
    label: str
    """As people read it: "14 Mar 2016", "Jan 2017", "by Jul 2019"."""


class ContractSource(_Contract):
    """The article a fact comes from."""

    id: str
    outlet: str
    title: str
    published: str
    """The publication date (ISO 8601)."""


class ContractFact(_Contract):
    """One sourced fact, with the verbatim quote it rests on."""

    id: str
    summary: str
    quote: str
    status: str | None
    attribution: str | None
    hedged: bool
    event_date: ContractEventDate
    source: ContractSource


class ContractSuggestion(_Contract):
    """A place the question may have meant (for ``places``: a place that has facts)."""

    id: str
    name: str


class AnswerContract(_Contract):
    """What ``sitrep ask --json`` prints: one answer. For ``timeline`` the facts are
    chronological; for ``status`` the most relevant come first."""

    model_config = ConfigDict(title="sitrep answer", extra="forbid",
                              use_attribute_docstrings=True)

    command: Command | Literal[""]
    """The command answered; "" when the line was not a command."""
    query: str
    place: ContractPlace | None
    as_of: date | None
    headline: str | None
    facts: list[ContractFact]
    suggestions: list[ContractSuggestion]
    message: str
    error: ErrorCode | None
    """null when answered; otherwise why not."""


def _fact(fact: FactView) -> ContractFact:
    when, src = fact.event_date, fact.source
    return ContractFact.model_construct(
        id=fact.id, summary=fact.summary, quote=fact.quote, status=fact.status,
        attribution=fact.attribution, hedged=fact.hedged,
        event_date=ContractEventDate.model_construct(start=when.start, end=when.end,
                                                     precision=when.precision, label=when.label),
        source=ContractSource.model_construct(id=src.id, outlet=src.outlet, title=src.title,
                                              published=src.published))


def _place(place: PlaceRef | None) -> ContractPlace | None:
    if place is None:
        return None
    return ContractPlace.model_construct(id=place.id, name=place.name, country=place.country)


def _contract(answer: Answer, *, place: PlaceRef | None = None, as_of: date | None = None,
              headline: str | None = None, facts: list[FactView] | None = None,
              suggestions: list[PlaceRef] | None = None, notes: list[str] | None = None,
              error: ErrorCode | None = None) -> AnswerContract:
    message = answer.message
    if notes:
        message = " ".join([message, *notes]).strip()
    return AnswerContract.model_construct(
        command=answer.command or "", query=answer.query, place=_place(place), as_of=as_of,
        headline=headline, facts=[_fact(f) for f in facts or []],
        suggestions=[ContractSuggestion.model_construct(id=s.id, name=s.name)
                     for s in suggestions or []],
        message=message, error=error)


def to_contract(answer: Answer) -> AnswerContract:
    match answer:
        case StatusAnswer():
            return _contract(answer, place=answer.place, as_of=answer.as_of,
                             headline=answer.headline, facts=answer.facts, notes=answer.notes)
        case TimelineAnswer():
            return _contract(answer, place=answer.place, as_of=answer.as_of, facts=answer.facts,
                             notes=answer.notes)
        case SearchAnswer():
            return _contract(answer, facts=answer.facts)
        case PlaceSourcesAnswer():
            return _contract(answer, place=answer.place)
        case PlacesAnswer():
            return _contract(answer, suggestions=[row.place for row in answer.places])
        case SourcesAnswer() | SourceAnswer() | HelpAnswer():
            return _contract(answer)
        case FailureAnswer():
            return _contract(answer, place=answer.place, suggestions=answer.suggestions,
                             error=answer.error)
        case _:
            assert_never(answer)


def render_json(answer: Answer) -> str:
    return json.dumps(to_contract(answer).model_dump(mode="json"), ensure_ascii=False)


def contract_schema() -> dict[str, Any]:
    """The JSON Schema of ``AnswerContract``: what ``sitrep schema`` prints."""
    schema = AnswerContract.model_json_schema()
    # the enum's docstring speaks to the engine's code; the schema speaks to the contract's readers
    schema["$defs"]["Command"]["description"] = "A query command."
    return schema


def schema_text() -> str:
    """The schema as ``sitrep schema`` prints it and ``docs/answer.schema.json`` holds it."""
    return json.dumps(contract_schema(), ensure_ascii=False, indent=2) + "\n"
