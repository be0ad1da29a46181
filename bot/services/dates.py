"""Dates as moderators type them: "2016-03", "14 March 2016", "since March 2016", "last Saturday".

Moderators add facts from a chat box, so they type dates the way people write them, not in the
compact curation form of ``data/facts.yaml``. :func:`parse_user_date` accepts both and returns the
same :class:`~bot.domain.model.DateSpec` a curator would have written, with the precision the words carry
and never more: "March 2016" is the whole month, not a day the parser made up.

How it reads a date, and why:

1. **Clean and bound** the input (control and zero-width characters out, whitespace collapsed,
   surrounding quotes dropped, at most :data:`MAX_CHARS`), because it comes straight from a chat
   message and may have been pasted.
2. **Qualifier words** in front ("by", "since", "around"/"about"/"c."/"circa"/"~") become the
   :class:`~bot.domain.model.Qualifier`; "on", "in", "during", "early", "late", "mid-" are dropped since
   they say nothing about the interval.
3. **Digits only**: the compact curation form, read by :meth:`DateSpec.parse_text` and nothing
   else, so that "2016-13" is an error rather than dateparser's guess (13 March), and an ambiguous
   "03/04/2016" is refused rather than read one way.
4. **Words**: dateparser (``get_date_data``) gives a date and a *period* (day, week, month, year);
   the interval is built from the period alone, so the day and month dateparser fills in from its
   base never leak into a month or a year.
5. **Relative or absolute**: the text is read against two unrelated base dates; if the interval
   moves, the words depend on when they were written ("last Saturday", "Oct 17", "June"), so they
   are resolved against the source's publication date (``relative_to``) with basis
   ``relative``; otherwise the basis is ``stated``. This catches every relative form dateparser
   knows without a list of relative words to keep in step with it.
6. **A bare weekday** ("Saturday", "on Saturday") in a report is the most recent such day on or
   before publication (a Monday dispatch saying "on Monday" means that day), where dateparser
   would go back a full week.

dateparser takes about a quarter of a second to import and a few hundred milliseconds to load its
English data on first use, so it is imported lazily and its parsers are cached: ``RELATIVE_BASE``
is fixed when a ``DateDataParser`` is built, so there is one parser per base date (the two probes
plus recent publication dates), each a few microseconds to build once the data is loaded. After
that a call takes about 1 ms for words and 10 µs for the compact form.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain.model import DateBasis, DateSpec, Precision, Qualifier

__all__ = ["MAX_CHARS", "DateInputError", "parse_user_date"]

MAX_CHARS = 64
"""Longest date accepted, after cleaning: the longest real date ("Saturday, 15 October 2016") is
well under half of it, and a bound keeps pasted paragraphs away from the parser."""

FORMS = ("use 2016-03-14, 14 March 2016, March 2016, 2016, by/since 2016-03, or “last Saturday” "
         "(relative to the source's date)")
"""The accepted forms, as every "cannot read" message lists them."""

_PROBES = (date(2001, 1, 1), date(2010, 7, 15))
"""Two base dates differing in year, month, day and weekday: text that reads the same against
both is absolute."""

_PREFIX = re.compile(
    r"^(?:(?P<q>by|since|around|about|circa)\s+|(?P<sym>~|c\.)\s*)?"
    r"(?:(?:on|in|during|early|late)\s+|mid-\s*)?(?P<core>.+)$",
    re.IGNORECASE,
)
_QUALIFIERS = {"by": Qualifier.BY, "since": Qualifier.SINCE, "around": Qualifier.ABOUT,
               "about": Qualifier.ABOUT, "circa": Qualifier.ABOUT, "~": Qualifier.ABOUT,
               "c.": Qualifier.ABOUT}
_WEEKDAYS = {name: i for i, names in enumerate((
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
    ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun"),
)) for name in names}
_LETTER = re.compile(r"[^\W\d_]")
_QUOTES = "\"'“”‘’«»"

Interval = tuple[date, date, Precision]


class DateInputError(ValueError):
    """A date that cannot be accepted; the message is one short sentence for the moderator that
    names what is expected."""


def parse_user_date(text: str, *, relative_to: date | None = None, latest: date | None = None) -> DateSpec:
    """Read a date as a moderator types it into a :class:`DateSpec` (see the module docstring).

    ``relative_to`` is the source's publication date, needed only for relative phrases;
    ``latest`` the last day the source can have been published, after which nothing it reports can
    have started. Raises :class:`DateInputError` with a user-facing message.
    """
    cleaned = _typed_date_text(text)
    if not cleaned:
        raise DateInputError(f"Date: {FORMS}.")
    if cleaned.lower() in {"unknown", "undated"}:
        return DateSpec()
    spec = _read(cleaned, relative_to)
    if latest is not None and spec.start is not None and spec.start > latest:
        published = DateSpec.single_day(latest).label
        raise DateInputError(f"Date: {spec.label} is after the source was published ({published}).")
    return spec


def _typed_date_text(text: str) -> str:
    """Chat input without control or zero-width characters, whitespace collapsed and surrounding
    quotes dropped (moderators copy “last Saturday” from the help text, quotes and all)."""
    if len(text) > 4 * MAX_CHARS:
        raise DateInputError(f"Date: at most {MAX_CHARS} characters; {FORMS}.")
    kept = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or unicodedata.category(ch) not in {"Cc", "Cf"})
    cleaned = " ".join(kept.split()).strip(_QUOTES).strip()
    if len(cleaned) > MAX_CHARS:
        raise DateInputError(f"Date: at most {MAX_CHARS} characters; {FORMS}.")
    return cleaned


def _unreadable(shown: str) -> DateInputError:
    return DateInputError(f"Date: “{shown}” is not a date I can read; {FORMS}.")


def _read(cleaned: str, relative_to: date | None) -> DateSpec:
    """Split off the qualifier words, then read the rest as the compact form or as words."""
    m = _PREFIX.match(cleaned)
    if m is None:  # pragma: no cover - the pattern matches any non-empty text
        raise _unreadable(cleaned)
    qualifier = _QUALIFIERS.get((m["q"] or m["sym"] or "").lower(), Qualifier.ON)
    core = m["core"].strip()
    if not _LETTER.search(core):
        return _compact(core, qualifier, cleaned)
    return _natural(core, qualifier, relative_to, cleaned)


def _compact(core: str, qualifier: Qualifier, shown: str) -> DateSpec:
    """The curation form (2016-03-14, 2016-03, 2016, A/B) through ``DateSpec.parse_text`` only."""
    try:
        fields = DateSpec.parse_text(core)
        if fields["precision"] is Precision.UNKNOWN:
            raise ValueError("no date")
        return DateSpec(**{**fields, "qualifier": qualifier, "basis": DateBasis.STATED})
    except ValueError:
        raise _unreadable(shown) from None


def _natural(core: str, qualifier: Qualifier, relative_to: date | None, shown: str) -> DateSpec:
    """Words, through dateparser; relative when the interval moves with the base date."""
    first, second = (_interval(core, base) for base in _PROBES)
    if first is None or second is None:
        raise _unreadable(shown)
    if first == second:
        return _spec(first, qualifier, DateBasis.STATED)
    if relative_to is None:
        raise DateInputError(
            f"Date: “{shown}” is relative, and a relative date needs the source's publication date.")
    resolved = _interval(core, relative_to)
    if resolved is None:  # pragma: no cover - read against both probes, so readable against any base
        raise _unreadable(shown)
    return _spec(resolved, qualifier, DateBasis.RELATIVE)


def _spec(interval: Interval, qualifier: Qualifier, basis: DateBasis) -> DateSpec:
    start, end, precision = interval
    return DateSpec(start=start, end=end, precision=precision, qualifier=qualifier, basis=basis)


def _interval(core: str, base: date) -> Interval | None:
    """The interval the words mean when written on ``base``, or None when dateparser cannot read
    them."""
    weekday = _WEEKDAYS.get(core.lower())
    if weekday is not None:
        day = base - timedelta(days=(base.weekday() - weekday) % 7)
        return day, day, Precision.DAY
    data = _parser(base).get_date_data(core)
    found: datetime | None = data.date_obj
    if found is None:
        return None
    return _period_interval(found.date(), str(data.period), base)


def _period_interval(day: date, period: str, base: date) -> Interval | None:
    """Only the parts the period vouches for: a month keeps no day, a year keeps no month. A week
    is the Monday-to-Sunday week, cut at the base day ("this week" cannot reach past the report; on
    a Monday that leaves the day itself)."""
    if period == "day":
        return day, day, Precision.DAY
    if period == "week":
        start = day - timedelta(days=day.weekday())
        end = min(start + timedelta(days=6), max(base, start))
        return start, end, (Precision.DAY if start == end else Precision.WEEK)
    if period == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last), Precision.MONTH
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31), Precision.YEAR
    return None


@functools.lru_cache(maxsize=32)
def _parser(base: date) -> Any:
    """One English ``DateDataParser`` per base date (``RELATIVE_BASE`` is fixed at construction).

    ``PREFER_DATES_FROM=past`` because a report speaks of what has happened: "June" in an October
    dispatch is the June before it. dateparser is imported here, not at module level, because
    importing it costs about a quarter of a second that most callers of this module never need.
    """
    from dateparser.date import DateDataParser

    settings = {"RELATIVE_BASE": datetime.combine(base, datetime.min.time()),
                "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": False}
    return DateDataParser(languages=["en"], settings=settings)
