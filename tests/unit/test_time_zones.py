"""An account's time zone is a real IANA name, and dates read in words in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.time_zones import check_time_zone, in_words, parse_when


@pytest.mark.parametrize(("given_name", "stored"), [("Europe/Amsterdam", "Europe/Amsterdam"), ("UTC", "UTC"),
                                                    (" america/new_york ", "America/New_York"), ("utc", "UTC")])
def test_a_known_zone_is_stored_as_the_database_spells_it(given_name: str, stored: str) -> None:
    assert check_time_zone(given_name) == stored


@pytest.mark.parametrize("bad", ["", "  ", "Mars/Olympus", "Europe/", "../etc/passwd", "/etc/localtime", "localtime",
                                 "x" * 65, 5, None])
def test_anything_else_is_refused_naming_the_setting(bad: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_time_zone(bad)
    assert refused.value.reason == "time_zone.unknown" and refused.value.field == "time_zone"


def test_dates_read_in_words_across_daylight_saving() -> None:
    assert in_words(datetime(2026, 12, 3, 13, 5, tzinfo=UTC), "Europe/Amsterdam") == "3 December 2026, 14:05 (Europe/Amsterdam)"
    assert in_words(datetime(2026, 7, 1, 13, 5, tzinfo=UTC), "Europe/Amsterdam") == "1 July 2026, 15:05 (Europe/Amsterdam)"
    assert in_words(datetime(2026, 1, 1, 0, 30), "America/New_York") == "31 December 2025, 19:30 (America/New_York)"
    assert in_words(datetime(2026, 1, 1, 0, 30, tzinfo=UTC), "Gone/Zone") == "1 January 2026, 00:30 (UTC)"
    assert in_words(datetime.max.replace(tzinfo=UTC), "Pacific/Chatham") == "31 December 9999, 23:59 (UTC)"


def test_stored_moments_parse_or_say_they_are_none() -> None:
    assert parse_when("2026-12-03T13:05:00+00:00") == datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    assert parse_when("2026-12-03 13:05") == datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    assert parse_when("yesterday") is None and parse_when(None) is None


@given(st.datetimes(timezones=st.just(UTC)), st.sampled_from(["UTC", "Europe/Amsterdam", "Asia/Kolkata", "Pacific/Chatham"]))
def test_any_moment_reads_with_its_zone_named(moment: datetime, zone: str) -> None:
    text = in_words(moment, zone)
    assert text.endswith((f"({zone})", "(UTC)")) and ", " in text
