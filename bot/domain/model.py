"""The fact model: sources, places, facts, dates, and the views of them that answers carry.

These pydantic models are the one vocabulary every part of sitrep speaks: the curated YAML files are
validated against them, the store is compiled from them and returns them, and every answer
(``bot.engine.answers``) is made of them.
The design borrows from ACLED/UCDP (an event date is an interval with a precision, distinct from the
report date) and Wikidata (rank, attribution, links between claims that contradict or supersede).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
"""Ids of places and facts are slugs so that they can be typed in commands and used in URLs."""


class Frozen(BaseModel):
    """Base for value objects: immutable, and strict about unknown keys so that typos in YAML fail."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Precision(StrEnum):
    """How exactly a date is known. ``week`` is a window of up to seven days (an inferred
    publication date), ``range`` a longer explicit window ("in the last several weeks")."""

    DAY = "day"
    WEEK = "week"
    RANGE = "range"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class Qualifier(StrEnum):
    """How the event relates to the interval: on it, by its end (some time before), since its start,
    or roughly about it."""

    ON = "on"
    BY = "by"
    SINCE = "since"
    ABOUT = "about"


class DateBasis(StrEnum):
    """Why the date is what it is: stated in the text, relative to publication ("on Saturday",
    "a few days ago"), inferred from context, the publication date itself, or unknown."""

    STATED = "stated"
    RELATIVE = "relative"
    INFERRED = "inferred"
    PUBLICATION = "publication"
    UNKNOWN = "unknown"


class Genre(StrEnum):
    NEWS = "news"
    WIRE = "wire"
    ANALYSIS = "analysis"
    OPINION = "opinion"
    BLOG = "blog"


class Modality(StrEnum):
    """What kind of statement a fact is; replies label anything but ``reported``."""

    REPORTED = "reported"
    BACKGROUND = "background"
    ANALYSIS = "analysis"
    OPINION = "opinion"
    SPECULATION = "speculation"


class Status(StrEnum):
    """The fixed vocabulary of situation labels. Only claims that speak to the situation carry one."""

    ISIS_CONTROL = "isis_control"
    ISIS_ADVANCE = "isis_advance"
    ISIS_WITHDREW = "isis_withdrew"
    ISIS_PRESENCE = "isis_presence"
    RECAPTURED = "recaptured"
    GOVERNMENT_CONTROL = "government_control"
    BESIEGED = "besieged"
    SURROUNDED = "surrounded"
    CONTESTED = "contested"
    UNDER_ATTACK = "under_attack"
    OFFENSIVE_LAUNCHED = "offensive_launched"
    OFFENSIVE_PLANNED = "offensive_planned"
    CLEARANCE = "clearance"
    THREATENED = "threatened"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.ISIS_CONTROL: "Held by ISIS",
    Status.ISIS_ADVANCE: "ISIS advancing",
    Status.ISIS_WITHDREW: "ISIS withdrew",
    Status.ISIS_PRESENCE: "ISIS presence",
    Status.RECAPTURED: "Recaptured",
    Status.GOVERNMENT_CONTROL: "Government control",
    Status.BESIEGED: "Besieged",
    Status.SURROUNDED: "Surrounded",
    Status.CONTESTED: "Contested",
    Status.UNDER_ATTACK: "Under attack",
    Status.OFFENSIVE_LAUNCHED: "Offensive launched",
    Status.OFFENSIVE_PLANNED: "Offensive planned",
    Status.CLEARANCE: "Clearance operations",
    Status.THREATENED: "Threatened",
}


class Rank(StrEnum):
    PREFERRED = "preferred"
    NORMAL = "normal"
    DEPRECATED = "deprecated"


class PlaceKind(StrEnum):
    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    DISTRICT = "district"
    NEIGHBOURHOOD = "neighbourhood"
    GOVERNORATE = "governorate"
    COUNTRY = "country"
    REGION = "region"
    LAKE = "lake"
    RIVER = "river"
    VALLEY = "valley"
    DAM = "dam"
    AIRPORT = "airport"
    BRIDGE = "bridge"
    BASE = "base"
    BUILDING = "building"
    POPULATED_PLACE = "populated_place"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE_TEXT = re.compile(
    r"^(?:(?P<q>by|since|~|about)\s*)?"
    r"(?P<a>\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:/(?P<b>\d{4}-\d{2}-\d{2}))?$"
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _format(d: date, precision: Precision) -> str:
    if precision is Precision.YEAR:
        return str(d.year)
    if precision is Precision.MONTH:
        return f"{MONTHS[d.month - 1]} {d.year}"
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


class DateSpec(Frozen):
    """An interval in which something happened, how exactly that is known, and why.

    Curators write it compactly: ``"2016-10-29"`` (a day), ``"2017-01"`` (a month), ``"2016"``,
    ``"2017-03-08/2017-03-13"`` (a window, precision week), prefixed by ``by``, ``since`` or ``~``,
    or ``"unknown"``. The interval is always spelled out in the store so that sorting and the
    "no event after its report" check need no parsing. A day is never invented: a month stays a
    month from the first to the last day.
    """

    start: date | None = None
    end: date | None = None
    precision: Precision = Precision.UNKNOWN
    qualifier: Qualifier = Qualifier.ON
    basis: DateBasis = DateBasis.UNKNOWN
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, date | int):  # YAML reads 2016-10-29 as a date and 2016 as an int
            value = str(value)
        if isinstance(value, str):
            return cls.parse_text(value)
        if isinstance(value, dict) and "date" in value:
            rest = {k: v for k, v in value.items() if k != "date"}
            return {**cls.parse_text(str(value["date"])), **rest}
        return value

    @staticmethod
    def parse_text(text: str) -> dict[str, Any]:
        """Turn the compact curation form into the interval fields; raise ValueError if malformed."""
        text = text.strip()
        if text.lower() in {"unknown", "undated", ""}:
            return {"precision": Precision.UNKNOWN}
        m = _DATE_TEXT.match(text)
        if not m:
            raise ValueError(f"cannot read date {text!r}: use YYYY, YYYY-MM, YYYY-MM-DD or A/B")
        try:
            return DateSpec._interval(m, text)
        except ValueError as exc:
            raise ValueError(f"cannot read date {text!r}: {exc}") from None

    @staticmethod
    def _interval(m: re.Match[str], text: str) -> dict[str, Any]:
        q = {"by": Qualifier.BY, "since": Qualifier.SINCE, "~": Qualifier.ABOUT,
             "about": Qualifier.ABOUT}.get(m["q"] or "", Qualifier.ON)
        a, b = m["a"], m["b"]
        parts = [int(p) for p in a.split("-")]
        if b:
            if len(parts) != 3:
                raise ValueError(f"a window needs two full dates: {text!r}")
            start, end = date(*parts), date.fromisoformat(b)
            span = Precision.WEEK if (end - start).days <= 7 else Precision.RANGE
            return {"start": start, "end": end, "precision": span, "qualifier": q}
        if len(parts) == 1:
            return {"start": date(parts[0], 1, 1), "end": date(parts[0], 12, 31),
                    "precision": Precision.YEAR, "qualifier": q}
        if len(parts) == 2:
            return {"start": date(parts[0], parts[1], 1), "end": _month_end(*parts),
                    "precision": Precision.MONTH, "qualifier": q}
        day = date(*parts)
        return {"start": day, "end": day, "precision": Precision.DAY, "qualifier": q}

    @model_validator(mode="after")
    def _consistent(self) -> DateSpec:
        if self.precision is Precision.UNKNOWN:
            if self.start or self.end:
                raise ValueError("an unknown date has no interval")
            return self
        if self.start is None or self.end is None:
            raise ValueError("a known date needs start and end")
        if self.start > self.end:
            raise ValueError(f"date interval runs backwards: {self.start} > {self.end}")
        return self

    @property
    def label(self) -> str:
        """A human label whose exactness matches the precision: "14 Mar 2016", "Jan 2017",
        "by Jul 2019", "since Jan 2017", "~Mar 2017", "8–13 Mar 2017", "undated"."""
        if self.precision is Precision.UNKNOWN or self.start is None or self.end is None:
            return "undated"
        if self.precision in (Precision.WEEK, Precision.RANGE):
            s, e = self.start, self.end
            if (s.year, s.month) == (e.year, e.month):
                core = f"{s.day}–{e.day} {MONTHS[e.month - 1]} {e.year}"
            elif s.year == e.year:
                core = f"{s.day} {MONTHS[s.month - 1]} – {_format(e, Precision.DAY)}"
            else:
                core = f"{_format(s, Precision.DAY)} – {_format(e, Precision.DAY)}"
            if self.qualifier is Qualifier.BY:
                return f"by {_format(e, Precision.MONTH)}"
        else:
            anchor = self.end if self.qualifier is Qualifier.BY else self.start
            core = _format(anchor, self.precision)
        prefix = {Qualifier.ON: "", Qualifier.BY: "by ", Qualifier.SINCE: "since ",
                  Qualifier.ABOUT: "~"}[self.qualifier]
        return prefix + core

    @property
    def compact(self) -> str:
        """The compact form curators write and ``parse_text`` reads back: "2016-10", "by 2016",
        "2017-03-08/2017-03-13", "unknown"."""
        if self.precision is Precision.UNKNOWN or self.start is None or self.end is None:
            return "unknown"
        if self.precision in (Precision.WEEK, Precision.RANGE):
            core = f"{self.start.isoformat()}/{self.end.isoformat()}"
        elif self.precision is Precision.YEAR:
            core = str(self.start.year)
        elif self.precision is Precision.MONTH:
            core = self.start.isoformat()[:7]
        else:
            core = self.start.isoformat()
        prefix = {Qualifier.ON: "", Qualifier.BY: "by ", Qualifier.SINCE: "since ",
                  Qualifier.ABOUT: "~"}[self.qualifier]
        return prefix + core

    def sort_key(self, fallback: date) -> str:
        """ISO date used to order a timeline: ``by`` sorts at its end, unknown at the report date."""
        if self.precision is Precision.UNKNOWN or self.start is None or self.end is None:
            return fallback.isoformat()
        if self.qualifier is Qualifier.BY:
            return min(self.end, fallback).isoformat()
        return self.start.isoformat()

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "precision": self.precision.value,
            "label": self.label,
        }

    @classmethod
    def single_day(cls, day: date, basis: DateBasis = DateBasis.STATED) -> DateSpec:
        return cls(start=day, end=day, precision=Precision.DAY, basis=basis)

    @property
    def middle(self) -> date:
        """The day a report speaks for: the day itself, or the middle of an inferred window."""
        if self.start is None or self.end is None:
            raise ValueError("an unknown date has no middle")
        return self.start + (self.end - self.start) / 2

    @property
    def publication_label(self) -> str:
        """How a publication date reads: "14 Mar 2016", or "c. 10 Mar 2017" for a window."""
        if self.precision is Precision.WEEK:
            return "c. " + _format(self.middle, Precision.DAY)
        return self.label


Slug = Annotated[str, Field(pattern=SLUG, max_length=80)]


class Source(Frozen):
    """One article. Its id is the seed file's stem; ``sha256`` pins the exact bytes."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
    outlet: str
    title: str
    author: str | None = None
    url: str | None = None
    genre: Genre
    published: DateSpec
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    note: str | None = None

    @property
    def published_label(self) -> str:
        return self.published.publication_label

    @property
    def as_of(self) -> date:
        """The date a report speaks for: its publication day, or the middle of an inferred window
        (shown as "c. 10 Mar 2017")."""
        return self.published.middle

    @property
    def latest_publication(self) -> date:
        """The last day the source can have been published: nothing it reports happened later."""
        if self.published.end is None:
            raise ValueError(f"source {self.id} has no publication date")
        return self.published.end


class Place(Frozen):
    """A place and every name it goes by (article spellings with their slips, transliterations,
    the Arabic script). ``parent`` links a part to its whole: east Mosul to Mosul."""

    id: Slug
    name: str
    kind: PlaceKind
    parent: Slug | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    governorate: str | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    geonames_id: int | None = None
    names: list[str] = Field(default_factory=list)
    note: str | None = None

    @field_validator("names")
    @classmethod
    def _names_not_blank(cls, names: list[str]) -> list[str]:
        if any(not n.strip() for n in names):
            raise ValueError("a name is blank")
        return names


class FalseFriend(Frozen):
    """A string that looks like a place but is not one, recorded so that it never resolves."""

    text: str
    kind: Literal["person", "operation", "organisation", "other"]
    not_place: Slug | None = None
    note: str | None = None


class Fact(Frozen):
    """One claim about one place, traceable to a verbatim quote of its source."""

    id: Slug
    place: Slug
    source: str
    quote: str = Field(default="", max_length=1000)
    """Verbatim from the source. Curated facts always have one (``sitrep check``); a moderator may
    add a fact without one, and answers then say that no quote was recorded."""
    summary: str = Field(min_length=3, max_length=300)
    attribution: str | None = None
    hedged: bool = False
    modality: Modality = Modality.REPORTED
    event: DateSpec = Field(default_factory=DateSpec)
    status: Status | None = None
    status_basis: str | None = Field(default=None, min_length=3, max_length=300)
    """The curator's note on why ``status`` holds when the quote lacks the wording the label
    needs (``bot.domain.checks.STATUS_CUES``): which words of the article say it. Only
    ``sitrep check`` reads it; the store does not keep it."""
    rank: Rank = Rank.NORMAL
    contradicts: list[Slug] = Field(default_factory=list)
    supersedes: list[Slug] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _flat_event(cls, value: Any) -> Any:
        """Curators write ``event: by 2017-03`` with ``event_basis`` and ``event_note`` beside it."""
        if not isinstance(value, dict) or not ({"event_basis", "event_note"} & value.keys()):
            return value
        value = dict(value)
        event = value.get("event", "unknown")
        event = dict(event) if isinstance(event, dict) else {"date": str(event)}
        if "event_basis" in value:
            event["basis"] = value.pop("event_basis")
        if "event_note" in value:
            event["note"] = value.pop("event_note")
        value["event"] = event
        return value


class PlaceRef(BaseModel):
    id: str
    name: str
    country: str | None = None
    governorate: str | None = None
    kind: str | None = None


class SourceRef(BaseModel):
    id: str
    outlet: str
    title: str
    genre: str
    author: str | None = None
    url: str | None = None
    published: str
    published_label: str


class FactView(BaseModel):
    """A fact as an answer shows it: denormalised, with its place and source attached."""

    id: str
    place: PlaceRef
    summary: str
    quote: str
    status: str | None
    attribution: str | None
    hedged: bool
    modality: str
    event_date: DateSpec
    as_of: date
    source: SourceRef
    rank: str = "normal"
    origin: str = "curated"
    contradicts: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlaceCounts:
    """A place with facts, for ``places``: how many the server sees and the latest report's date."""

    place: PlaceRef
    facts: int
    latest: date | None

