from datetime import date

import pytest
from pydantic import ValidationError

from bot.domain.model import DateSpec, Fact, Precision, Qualifier, Source


@pytest.mark.parametrize(
    ("text", "label", "precision", "start", "end"),
    [
        ("2016-10-29", "29 Oct 2016", Precision.DAY, date(2016, 10, 29), date(2016, 10, 29)),
        ("2017-01", "Jan 2017", Precision.MONTH, date(2017, 1, 1), date(2017, 1, 31)),
        ("2016-02", "Feb 2016", Precision.MONTH, date(2016, 2, 1), date(2016, 2, 29)),
        ("2014", "2014", Precision.YEAR, date(2014, 1, 1), date(2014, 12, 31)),
        ("by 2017-03", "by Mar 2017", Precision.MONTH, date(2017, 3, 1), date(2017, 3, 31)),
        ("since 2017-01", "since Jan 2017", Precision.MONTH, date(2017, 1, 1), date(2017, 1, 31)),
        ("~2017-03", "~Mar 2017", Precision.MONTH, date(2017, 3, 1), date(2017, 3, 31)),
        ("2017-03-08/2017-03-13", "8–13 Mar 2017", Precision.WEEK, date(2017, 3, 8),
         date(2017, 3, 13)),
        ("2015-04-20/2015-05-05", "20 Apr – 5 May 2015", Precision.RANGE, date(2015, 4, 20),
         date(2015, 5, 5)),
        ("unknown", "undated", Precision.UNKNOWN, None, None),
    ],
)
def test_compact_dates_become_intervals_with_matching_labels(
    text: str, label: str, precision: Precision, start: date | None, end: date | None
) -> None:
    spec = DateSpec.model_validate(text)
    assert (spec.label, spec.precision, spec.start, spec.end) == (label, precision, start, end)


def test_yaml_dates_and_years_are_accepted() -> None:
    assert DateSpec.model_validate(date(2016, 3, 14)).label == "14 Mar 2016"
    assert DateSpec.model_validate(2016).precision is Precision.YEAR


@pytest.mark.parametrize("bad", ["2016-13", "2016-02-30", "March 2016", "2017-03-13/2017-03-08",
                                 "by", "20166"])
def test_bad_dates_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        DateSpec.model_validate(bad)


def test_sort_key_places_by_dates_at_their_report_and_unknown_at_report() -> None:
    report = date(2017, 3, 10)
    assert DateSpec.model_validate("by 2017-03").sort_key(report) == "2017-03-10"
    assert DateSpec.model_validate("unknown").sort_key(report) == "2017-03-10"
    assert DateSpec.model_validate("2016-12").sort_key(report) == "2016-12-01"
    assert DateSpec.model_validate("since 2017-01").qualifier is Qualifier.SINCE


def test_week_precision_source_is_shown_as_circa_its_middle() -> None:
    src = Source.model_validate({
        "id": "x", "outlet": "The Duran", "title": "t", "genre": "opinion",
        "published": "2017-03-08/2017-03-13"})
    assert src.as_of == date(2017, 3, 10)
    assert src.latest_publication == date(2017, 3, 13)
    assert src.published_label == "c. 10 Mar 2017"


def test_fact_accepts_flat_event_basis_and_rejects_unknown_status_and_keys() -> None:
    base = {"id": "a-b", "place": "mosul", "source": "s", "quote": "abc", "summary": "abc",
            "event": "2016-10", "event_basis": "relative", "event_note": "in October"}
    fact = Fact.model_validate(base)
    assert fact.event.basis.value == "relative" and fact.event.note == "in October"
    with pytest.raises(ValidationError):
        Fact.model_validate({**base, "status": "liberated-ish"})
    with pytest.raises(ValidationError):
        Fact.model_validate({**base, "sumary": "typo"})
    with pytest.raises(ValidationError):
        Fact.model_validate({**base, "id": "Not A Slug"})


@pytest.mark.parametrize("text", ["2016-10-17", "2016-10", "2016", "by 2017-03", "since 2017-01",
                                  "~2017-03", "2017-03-08/2017-03-13", "2016-01-01/2016-03-31",
                                  "unknown"])
def test_compact_form_reads_back_as_itself(text: str) -> None:
    spec = DateSpec.model_validate(text)
    assert spec.compact == text
    assert DateSpec.model_validate(spec.compact) == spec
