"""Tests for bot.hours: opening times, holidays, DST and the human wait phrase."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.hours import OfficeCalendar
from bot.language import Phrasing, load_wording
from bot.settings.brand import Shift, load_brand

ROME = ZoneInfo("Europe/Rome")
UTC = timezone.utc
REAL_BRAND = Path(__file__).resolve().parents[3] / "brand.yml"


def shift(text: str) -> Shift:
    start, end = text.split("-")
    return Shift(time.fromisoformat(start), time.fromisoformat(end))


WORKDAY = (shift("09:00-13:00"), shift("14:00-18:00"))
WEEK = {
    0: WORKDAY,
    1: WORKDAY,
    2: WORKDAY,
    3: WORKDAY,
    4: (shift("09:00-13:00"), shift("14:00-17:00")),
    5: (shift("10:00-13:00"),),
    6: (),
}
HOLIDAYS = frozenset(
    {
        date(2026, 12, 8),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 6),
    }
)


@pytest.fixture
def calendar() -> OfficeCalendar:
    return OfficeCalendar(ROME, WEEK, HOLIDAYS)


def rome(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ROME)


# Monday 4 January 2027 is an ordinary week: Mon 4 ... Sat 9, Sun 10.


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (rome(2027, 1, 4, 8, 59, 59), False),
        (rome(2027, 1, 4, 9, 0), True),
        (rome(2027, 1, 4, 12, 59, 59), True),
        (rome(2027, 1, 4, 13, 0), False),
        (rome(2027, 1, 4, 13, 59), False),
        (rome(2027, 1, 4, 14, 0), True),
        (rome(2027, 1, 4, 17, 59), True),
        (rome(2027, 1, 4, 18, 0), False),
        (rome(2027, 1, 8, 16, 59), True),
        (rome(2027, 1, 8, 17, 0), False),
        (rome(2027, 1, 9, 9, 59), False),
        (rome(2027, 1, 9, 10, 0), True),
        (rome(2027, 1, 9, 12, 59), True),
        (rome(2027, 1, 9, 13, 0), False),
        (rome(2027, 1, 9, 15, 0), False),
        (rome(2027, 1, 10, 11, 0), False),
        (rome(2027, 1, 4, 0, 0), False),
    ],
)
def test_is_open_at_boundaries(calendar: OfficeCalendar, at: datetime, expected: bool) -> None:
    assert calendar.is_open(at) is expected


@pytest.mark.parametrize(
    "day",
    [date(2026, 12, 8), date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)],
)
def test_holidays_are_closed_all_day(calendar: OfficeCalendar, day: date) -> None:
    for hour in range(24):
        assert not calendar.is_open(datetime.combine(day, time(hour, 30), tzinfo=ROME))


@pytest.mark.parametrize(
    ("at", "opening"),
    [
        # before opening, in the lunch gap, at the exact closing minute
        (rome(2027, 1, 4, 7, 0), rome(2027, 1, 4, 9, 0)),
        (rome(2027, 1, 4, 13, 0), rome(2027, 1, 4, 14, 0)),
        (rome(2027, 1, 4, 13, 30), rome(2027, 1, 4, 14, 0)),
        (rome(2027, 1, 4, 18, 0), rome(2027, 1, 5, 9, 0)),
        # Friday evening to Saturday morning, Saturday afternoon over Sunday
        (rome(2027, 1, 8, 17, 0), rome(2027, 1, 9, 10, 0)),
        (rome(2027, 1, 9, 13, 0), rome(2027, 1, 11, 9, 0)),
        (rome(2027, 1, 10, 23, 59), rome(2027, 1, 11, 9, 0)),
        # a single holiday (Tue 8 Dec 2026)
        (rome(2026, 12, 7, 18, 30), rome(2026, 12, 9, 9, 0)),
        # 24-26 Dec 2026 (Thu-Sat), then Sunday: Wednesday evening to Monday
        (rome(2026, 12, 23, 18, 0), rome(2026, 12, 28, 9, 0)),
        (rome(2026, 12, 25, 10, 0), rome(2026, 12, 28, 9, 0)),
        # 31 Dec (Thu) and 1 Jan (Fri) closed, Saturday 2 Jan opens
        (rome(2026, 12, 30, 18, 0), rome(2027, 1, 2, 10, 0)),
        # Epiphany (Wed 6 Jan 2027)
        (rome(2027, 1, 5, 20, 0), rome(2027, 1, 7, 9, 0)),
    ],
)
def test_next_opening(calendar: OfficeCalendar, at: datetime, opening: datetime) -> None:
    found = calendar.next_opening(at)
    assert found == opening
    assert found is not None
    assert found.tzinfo == ROME
    assert (found.hour, found.minute) == (opening.hour, opening.minute)
    assert calendar.is_open(found)


def test_next_opening_when_open_is_the_moment_itself(calendar: OfficeCalendar) -> None:
    at = datetime(2027, 1, 4, 10, 15, tzinfo=UTC)
    assert calendar.next_opening(at) is at


# ------------------------------------------------------------------------------ DST
# Europe/Rome: clocks go forward on Sun 28 Mar 2027 (02:00 -> 03:00) and
# back on Sun 31 Oct 2027 (03:00 -> 02:00).


@pytest.mark.parametrize("first_day", [date(2027, 3, 22), date(2027, 10, 25)])
def test_openings_stay_at_wall_time_through_dst_weeks(
    calendar: OfficeCalendar, first_day: date
) -> None:
    for offset in range(14):
        day = first_day + timedelta(days=offset)
        at = datetime.combine(day, time(6, 0), tzinfo=ROME)
        opening = calendar.next_opening(at)
        assert opening is not None
        local = opening.astimezone(ROME)
        assert local.weekday() != 6
        expected = time(10, 0) if local.weekday() == 5 else time(9, 0)
        assert local.time() == expected, local
        assert opening.utcoffset() == ROME.utcoffset(local.replace(tzinfo=None))


def test_spring_forward_weekend(calendar: OfficeCalendar) -> None:
    opening = calendar.next_opening(rome(2027, 3, 27, 13, 0))
    assert opening == rome(2027, 3, 29, 9, 0)
    assert opening is not None
    assert opening.astimezone(UTC) == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)


def test_fall_back_weekend(calendar: OfficeCalendar) -> None:
    opening = calendar.next_opening(rome(2027, 10, 30, 13, 0))
    assert opening == rome(2027, 11, 1, 9, 0)
    assert opening is not None
    assert opening.astimezone(UTC) == datetime(2027, 11, 1, 8, 0, tzinfo=UTC)


def test_shift_starting_in_the_spring_forward_gap_opens_when_clocks_jump() -> None:
    night = OfficeCalendar(ROME, {6: (shift("02:30-04:00"),)}, frozenset())
    opening = night.next_opening(rome(2027, 3, 28, 1, 0))
    assert opening is not None
    # 02:30 never shows on the clock that night; the first moment after it is 03:00 CEST.
    assert opening.astimezone(UTC) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert opening.astimezone(ROME).time() == time(3, 0)
    assert night.is_open(opening)
    assert not night.is_open(opening.astimezone(UTC) - timedelta(seconds=1))


def test_a_skipped_wall_time_given_as_input_is_read_as_the_real_instant() -> None:
    night = OfficeCalendar(ROME, {6: (shift("03:15-04:00"),)}, frozenset())
    # 02:30 on 28 Mar 2027 does not exist; Python reads it as 01:30 UTC, i.e. 03:30 CEST.
    assert night.is_open(rome(2027, 3, 28, 2, 30))


def test_shift_wholly_inside_the_gap_is_skipped_that_night() -> None:
    night = OfficeCalendar(ROME, {6: (shift("02:15-02:45"),)}, frozenset())
    assert night.next_opening(rome(2027, 3, 28, 1, 0)) == rome(2027, 4, 4, 2, 15)


def test_shift_in_the_repeated_fall_back_hour_opens_the_first_time() -> None:
    night = OfficeCalendar(ROME, {6: (shift("02:30-03:30"),)}, frozenset())
    opening = night.next_opening(rome(2027, 10, 31, 0, 0))
    assert opening is not None
    assert opening.astimezone(UTC) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "start", [datetime(2027, 3, 25, tzinfo=UTC), datetime(2027, 10, 28, tzinfo=UTC)]
)
def test_next_opening_is_consistent_with_is_open_every_quarter_hour(
    calendar: OfficeCalendar, start: datetime
) -> None:
    for step in range(7 * 24 * 4):
        at = start + timedelta(minutes=15 * step)
        opening = calendar.next_opening(at)
        assert opening is not None
        if calendar.is_open(at):
            assert opening is at
        else:
            assert opening > at
            assert calendar.is_open(opening)
            assert not calendar.is_open(opening.astimezone(UTC) - timedelta(seconds=1))


# ------------------------------------------------------------------------ time zones


def test_input_in_utc(calendar: OfficeCalendar) -> None:
    # 08:30 UTC is 09:30 in Rome in winter.
    assert calendar.is_open(datetime(2027, 1, 4, 8, 30, tzinfo=UTC))
    assert not calendar.is_open(datetime(2027, 1, 4, 7, 30, tzinfo=UTC))
    assert calendar.next_opening(datetime(2027, 1, 4, 7, 30, tzinfo=UTC)) == datetime(
        2027, 1, 4, 8, 0, tzinfo=UTC
    )


def test_input_in_another_zone(calendar: OfficeCalendar) -> None:
    new_york = ZoneInfo("America/New_York")
    tokyo = ZoneInfo("Asia/Tokyo")
    # 03:00 in New York is 09:00 in Rome.
    assert calendar.is_open(datetime(2027, 1, 4, 3, 0, tzinfo=new_york))
    # Tuesday 01:00 in Tokyo is still Monday 17:00 in Rome.
    assert calendar.is_open(datetime(2027, 1, 5, 1, 0, tzinfo=tokyo))
    # Sunday 16:00 in Tokyo is Sunday 08:00 in Rome: closed until Monday.
    at = datetime(2027, 1, 10, 16, 0, tzinfo=tokyo)
    assert not calendar.is_open(at)
    assert calendar.next_opening(at) == rome(2027, 1, 11, 9, 0)
    # A fixed offset works too.
    plus_five = timezone(timedelta(hours=5))
    assert calendar.is_open(datetime(2027, 1, 4, 19, 30, tzinfo=plus_five))


def test_days_are_counted_in_the_brand_zone(calendar: OfficeCalendar) -> None:
    # Tuesday 03:00 in Tokyo is Monday 19:00 in Rome, so Tuesday 09:00 is "tomorrow".
    at = datetime(2027, 1, 5, 3, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert human_wait(calendar, at) == "tomorrow at 9:00"


def test_naive_datetimes_are_rejected(calendar: OfficeCalendar) -> None:
    naive = datetime(2027, 1, 4, 10, 0)
    with pytest.raises(ValueError):
        calendar.is_open(naive)
    with pytest.raises(ValueError):
        calendar.next_opening(naive)


# ------------------------------------------------------------------------ human_wait

WORDING = load_wording(Path(__file__).resolve().parents[3] / "wording.yml", ["en", "it"])


def human_wait(calendar: OfficeCalendar, at: datetime, language: str = "en") -> str:
    """When a person answers, as the customer reads it in `language`."""
    return Phrasing(WORDING, language, calendar.timezone).wait(
        calendar.next_opening(at), at, open_now=calendar.is_open(at)
    )


@pytest.mark.parametrize(
    ("at", "phrase"),
    [
        (rome(2027, 1, 4, 10, 0), "now"),
        (rome(2027, 1, 4, 13, 30), "today at 14:00"),
        (rome(2027, 1, 4, 6, 0), "today at 9:00"),
        (rome(2027, 1, 4, 19, 0), "tomorrow at 9:00"),
        (rome(2027, 1, 8, 17, 30), "tomorrow at 10:00"),
        (rome(2027, 1, 9, 14, 0), "on Monday at 9:00"),
        (rome(2026, 12, 23, 19, 0), "on Monday at 9:00"),
        (rome(2026, 12, 30, 19, 0), "on Saturday at 10:00"),
    ],
)
def test_human_wait(calendar: OfficeCalendar, at: datetime, phrase: str) -> None:
    assert human_wait(calendar, at) == phrase


def test_human_wait_gives_a_date_a_week_or_more_ahead() -> None:
    thursdays = OfficeCalendar(ROME, {3: (shift("09:00-12:00"),)}, frozenset())
    # Thursday 31 Dec 2026 after closing: next Thursday is 7 January.
    assert human_wait(thursdays, rome(2026, 12, 31, 13, 0)) == "on 7 January at 9:00"
    # Six days ahead still uses the weekday.
    assert human_wait(thursdays, rome(2027, 1, 1, 8, 0)) == "on Thursday at 9:00"


@pytest.mark.parametrize(
    ("at", "phrase"),
    [
        (rome(2027, 1, 4, 10, 0), "subito"),
        (rome(2027, 1, 4, 13, 30), "oggi alle 14:00"),
        (rome(2027, 1, 4, 19, 0), "domani alle 9:00"),
        (rome(2027, 1, 9, 14, 0), "lunedì alle 9:00"),
        (rome(2026, 12, 30, 19, 0), "sabato alle 10:00"),
    ],
)
def test_human_wait_in_italian(calendar: OfficeCalendar, at: datetime, phrase: str) -> None:
    assert human_wait(calendar, at, "it") == phrase


def test_a_date_a_week_or_more_ahead_in_italian() -> None:
    thursdays = OfficeCalendar(ROME, {3: (shift("09:00-12:00"),)}, frozenset())
    assert human_wait(thursdays, rome(2026, 12, 31, 13, 0), "it") == "il 7 gennaio alle 9:00"


def test_human_wait_pads_minutes_but_not_hours() -> None:
    odd = OfficeCalendar(ROME, {0: (shift("08:05-12:00"), shift("14:30-16:00"))}, frozenset())
    assert human_wait(odd, rome(2027, 1, 4, 7, 0)) == "today at 8:05"
    assert human_wait(odd, rome(2027, 1, 4, 13, 0)) == "today at 14:30"


# -------------------------------------------------------------------- no openings


def test_calendar_with_no_shifts() -> None:
    empty = OfficeCalendar(ROME, {}, frozenset())
    at = rome(2027, 1, 4, 10, 0)
    assert not empty.is_open(at)
    assert empty.next_opening(at) is None
    assert human_wait(empty, at) == "as soon as possible"


def test_lookahead_stops_after_a_year() -> None:
    mondays = {date(2027, 1, 4) + timedelta(weeks=week) for week in range(53)}
    calendar = OfficeCalendar(ROME, {0: (shift("09:00-10:00"),)}, frozenset(mondays))
    assert calendar.next_opening(rome(2027, 1, 3, 12, 0)) is None
    fewer = OfficeCalendar(ROME, {0: (shift("09:00-10:00"),)}, frozenset(sorted(mondays)[:-1]))
    assert fewer.next_opening(rome(2027, 1, 3, 12, 0)) == rome(2028, 1, 3, 9, 0)


def test_bad_weekday_number_is_rejected() -> None:
    with pytest.raises(ValueError):
        OfficeCalendar(ROME, {7: (shift("09:00-10:00"),)}, frozenset())


# ------------------------------------------------------------------------ real brand


def test_from_brand_uses_the_brand_facts() -> None:
    brand = load_brand(REAL_BRAND)
    calendar = OfficeCalendar.from_brand(brand)
    assert calendar.timezone == brand.timezone
    assert calendar.holidays == brand.holidays
    at = datetime(2027, 2, 1, 3, 0, tzinfo=UTC)
    opening = calendar.next_opening(at)
    assert opening is not None and calendar.is_open(opening)
    assert human_wait(calendar, at) == "today at 9:00"  # Monday 1 Feb 2027, 04:00 in Rome
