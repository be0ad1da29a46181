"""Dates as moderators type them (bot.services.dates): every accepted form with the precision,
qualifier and basis it implies, relative phrases resolved against the source's publication date,
and the refusals with the messages moderators see."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from bot.domain.model import DateBasis, DateSpec, Precision, Qualifier
from bot.services.dates import MAX_CHARS, DateInputError, parse_user_date

MONDAY = date(2016, 3, 14)
"""The publication date of the examples: Monday 14 March 2016."""

D, W, M, Y = Precision.DAY, Precision.WEEK, Precision.MONTH, Precision.YEAR
ON, BY, SINCE, ABOUT = Qualifier.ON, Qualifier.BY, Qualifier.SINCE, Qualifier.ABOUT


def _fields(spec: DateSpec) -> tuple[date | None, date | None, Precision, Qualifier, DateBasis]:
    return spec.start, spec.end, spec.precision, spec.qualifier, spec.basis


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "qualifier"),
    [
        ("2016-03-14", date(2016, 3, 14), date(2016, 3, 14), D, ON),
        ("2016-03", date(2016, 3, 1), date(2016, 3, 31), M, ON),
        ("2016", date(2016, 1, 1), date(2016, 12, 31), Y, ON),
        ("2016-03-08/2016-03-13", date(2016, 3, 8), date(2016, 3, 13), W, ON),
        ("2016-01-20/2016-03-05", date(2016, 1, 20), date(2016, 3, 5), Precision.RANGE, ON),
        ("by 2016-03", date(2016, 3, 1), date(2016, 3, 31), M, BY),
        ("since 2016-02", date(2016, 2, 1), date(2016, 2, 29), M, SINCE),
        ("~2016-03", date(2016, 3, 1), date(2016, 3, 31), M, ABOUT),
        ("about 2015", date(2015, 1, 1), date(2015, 12, 31), Y, ABOUT),
        ("in 2015", date(2015, 1, 1), date(2015, 12, 31), Y, ON),
    ],
)
def test_compact_curation_forms_are_read_as_stated(
    text: str, start: date, end: date, precision: Precision, qualifier: Qualifier
) -> None:
    spec = parse_user_date(text, relative_to=MONDAY)
    assert _fields(spec) == (start, end, precision, qualifier, DateBasis.STATED)


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "qualifier"),
    [
        ("14 March 2016", date(2016, 3, 14), date(2016, 3, 14), D, ON),
        ("March 14, 2016", date(2016, 3, 14), date(2016, 3, 14), D, ON),
        ("14th March 2016", date(2016, 3, 14), date(2016, 3, 14), D, ON),
        ("Saturday, 12 March 2016", date(2016, 3, 12), date(2016, 3, 12), D, ON),
        ("March 2016", date(2016, 3, 1), date(2016, 3, 31), M, ON),
        ("Feb 2016", date(2016, 2, 1), date(2016, 2, 29), M, ON),
        ("by March 2016", date(2016, 3, 1), date(2016, 3, 31), M, BY),
        ("since 2 March 2016", date(2016, 3, 2), date(2016, 3, 2), D, SINCE),
        ("around March 2016", date(2016, 3, 1), date(2016, 3, 31), M, ABOUT),
        ("about March 2016", date(2016, 3, 1), date(2016, 3, 31), M, ABOUT),
        ("c. March 2016", date(2016, 3, 1), date(2016, 3, 31), M, ABOUT),
        ("circa 2015", date(2015, 1, 1), date(2015, 12, 31), Y, ABOUT),
        ("~March 2016", date(2016, 3, 1), date(2016, 3, 31), M, ABOUT),
        ("in March 2016", date(2016, 3, 1), date(2016, 3, 31), M, ON),
        ("late March 2016", date(2016, 3, 1), date(2016, 3, 31), M, ON),
    ],
)
def test_written_dates_keep_exactly_the_precision_of_their_words(
    text: str, start: date, end: date, precision: Precision, qualifier: Qualifier
) -> None:
    spec = parse_user_date(text)
    assert _fields(spec) == (start, end, precision, qualifier, DateBasis.STATED)


@pytest.mark.parametrize("relative_to", [None, date(2016, 3, 14), date(2016, 3, 31), date(2019, 7, 1)])
def test_a_month_never_becomes_a_day_whatever_the_base(relative_to: date | None) -> None:
    spec = parse_user_date("March 2016", relative_to=relative_to)
    assert (spec.start, spec.end, spec.precision, spec.label) == (
        date(2016, 3, 1), date(2016, 3, 31), Precision.MONTH, "Mar 2016")


@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("last Saturday", date(2016, 3, 12), date(2016, 3, 12), D),
        ("yesterday", date(2016, 3, 13), date(2016, 3, 13), D),
        ("today", date(2016, 3, 14), date(2016, 3, 14), D),
        ("two days ago", date(2016, 3, 12), date(2016, 3, 12), D),
        ("3 days ago", date(2016, 3, 11), date(2016, 3, 11), D),
        ("Saturday", date(2016, 3, 12), date(2016, 3, 12), D),
        ("on Saturday", date(2016, 3, 12), date(2016, 3, 12), D),
        ("last week", date(2016, 3, 7), date(2016, 3, 13), W),
        ("two weeks ago", date(2016, 2, 29), date(2016, 3, 6), W),
        ("last month", date(2016, 2, 1), date(2016, 2, 29), M),
        ("last year", date(2015, 1, 1), date(2015, 12, 31), Y),
        ("Oct 17", date(2015, 10, 17), date(2015, 10, 17), D),
        ("June", date(2015, 6, 1), date(2015, 6, 30), M),
        ("in March", date(2016, 3, 1), date(2016, 3, 31), M),
    ],
)
def test_relative_phrases_resolve_against_the_publication_date(
    text: str, start: date, end: date, precision: Precision
) -> None:
    spec = parse_user_date(text, relative_to=MONDAY)
    assert _fields(spec) == (start, end, precision, ON, DateBasis.RELATIVE)


def test_relative_phrases_move_with_the_publication_date() -> None:
    later = parse_user_date("last Saturday", relative_to=date(2016, 3, 23))
    assert (later.start, later.basis) == (date(2016, 3, 19), DateBasis.RELATIVE)


def test_a_weekday_in_a_report_is_the_latest_such_day_on_or_before_publication() -> None:
    assert parse_user_date("on Monday", relative_to=MONDAY).start == MONDAY
    assert parse_user_date("Sunday", relative_to=MONDAY).start == date(2016, 3, 13)
    assert parse_user_date("Tuesday", relative_to=MONDAY).start == date(2016, 3, 8)
    assert parse_user_date("last Monday", relative_to=MONDAY).start == date(2016, 3, 7)


def test_this_week_stops_at_the_publication_day() -> None:
    spec = parse_user_date("this week", relative_to=date(2016, 3, 16))
    assert (spec.start, spec.end, spec.precision) == (date(2016, 3, 14), date(2016, 3, 16), W)


def test_qualifiers_apply_to_relative_phrases_too() -> None:
    spec = parse_user_date("since last week", relative_to=MONDAY)
    assert _fields(spec) == (date(2016, 3, 7), date(2016, 3, 13), W, SINCE, DateBasis.RELATIVE)


def test_unknown_is_an_undated_spec() -> None:
    assert parse_user_date("unknown") == DateSpec()
    assert parse_user_date(" Unknown ").precision is Precision.UNKNOWN


def test_control_and_zero_width_characters_and_quotes_are_ignored() -> None:
    spec = parse_user_date("\u200b14\u00a0March\u200d 2016\x00\n")
    assert (spec.start, spec.precision) == (date(2016, 3, 14), D)
    assert parse_user_date("“last Saturday”", relative_to=MONDAY).start == date(2016, 3, 12)


def test_a_relative_phrase_without_publication_date_is_refused() -> None:
    with pytest.raises(DateInputError) as err:
        parse_user_date("last Saturday")
    assert str(err.value) == (
        "Date: “last Saturday” is relative, and a relative date needs the source's publication date.")


@pytest.mark.parametrize("text", ["banana", "32 March 2016", "2016-13", "2016-02-30", "03/04/2016",
                                  "2017-03-13/2017-03-08", "by", "Mosul", "14 March 2016 and 5"])
def test_unreadable_dates_say_which_forms_are_accepted(text: str) -> None:
    with pytest.raises(DateInputError) as err:
        parse_user_date(text, relative_to=MONDAY)
    assert str(err.value) == (
        f"Date: “{text}” is not a date I can read; use 2016-03-14, 14 March 2016, March 2016, 2016, "
        "by/since 2016-03, or “last Saturday” (relative to the source's date).")


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b"])
def test_an_empty_date_lists_the_accepted_forms(text: str) -> None:
    with pytest.raises(DateInputError, match=r"^Date: use 2016-03-14, 14 March 2016, .*source's date\)\.$"):
        parse_user_date(text)


def test_input_is_bounded() -> None:
    assert parse_user_date(" " * 100 + "2016").precision is Y
    with pytest.raises(DateInputError, match=rf"^Date: at most {MAX_CHARS} characters; use "):
        parse_user_date("14 March 2016 " * 5)
    with pytest.raises(DateInputError, match="at most"):
        parse_user_date("x" * 100_000)


def test_an_event_after_the_source_was_published_is_refused() -> None:
    with pytest.raises(DateInputError) as err:
        parse_user_date("15 March 2016", latest=MONDAY)
    assert str(err.value) == "Date: 15 Mar 2016 is after the source was published (14 Mar 2016)."
    with pytest.raises(DateInputError, match="after the source was published"):
        parse_user_date("tomorrow", relative_to=MONDAY, latest=MONDAY)


def test_latest_compares_the_start_so_a_month_under_way_is_accepted() -> None:
    assert parse_user_date("2016-03", latest=MONDAY).end == date(2016, 3, 31)
    assert parse_user_date("14 March 2016", latest=MONDAY).start == MONDAY


def test_importing_the_module_does_not_import_dateparser() -> None:
    code = "import sys, bot.services.dates; print('dateparser' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
