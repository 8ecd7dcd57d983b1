"""Office-hours calendar: is a person on duty, and when will one answer.

Works in the brand's own time zone with wall-clock shifts, closed days and
holidays, and stays correct across daylight-saving changes by letting
:mod:`zoneinfo` place each opening on the calendar. Knows nothing about Rasa, nor about
words: `bot.language.Phrasing` says its moments in the customer's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.settings.brand import Brand, Shift

__all__ = ["LOOKAHEAD_DAYS", "OfficeCalendar"]

_UTC = timezone.utc

LOOKAHEAD_DAYS = 366
"""How many days after the given day :meth:`OfficeCalendar.next_opening` searches."""

class OfficeCalendar:
    """When the brand's team is on duty.

    Attributes:
        timezone: The brand's time zone; shifts are wall-clock times there.
        office_hours: Shifts per weekday (0 = Monday ... 6 = Sunday), sorted by
            start; every weekday is present, an empty tuple means closed.
        holidays: Dates (in the brand's zone) the team is closed all day.
    """

    def __init__(
        self,
        timezone: ZoneInfo,
        office_hours: Mapping[int, Iterable[Shift]],
        holidays: Iterable[date] = frozenset(),
    ) -> None:
        """Build a calendar.

        Args:
            timezone: The brand's time zone.
            office_hours: Shifts per weekday number (0 = Monday); missing days
                are closed.
            holidays: Dates the team is closed all day.

        Raises:
            ValueError: If a weekday number is outside 0-6 or a shift does not
                end after it starts.
        """
        unknown = sorted(day for day in office_hours if day not in range(7))
        if unknown:
            raise ValueError(f"weekday numbers must be 0 (Monday) to 6 (Sunday), got {unknown}")
        self.timezone = timezone
        self.office_hours: dict[int, tuple[Shift, ...]] = {}
        for day in range(7):
            shifts = tuple(sorted(office_hours.get(day, ()), key=lambda shift: shift.start))
            for shift in shifts:
                if shift.end <= shift.start:
                    raise ValueError(f"shift {shift} does not end after it starts")
            self.office_hours[day] = shifts
        self.holidays = frozenset(holidays)

    @classmethod
    def from_brand(cls, brand: Brand) -> OfficeCalendar:
        """Build the calendar described by the brand's facts.

        Args:
            brand: The loaded brand.yml.

        Returns:
            The brand's office calendar.
        """
        return cls(brand.timezone, brand.office_hours, brand.holidays)

    def is_open(self, at: datetime) -> bool:
        """Tell whether a person is on duty at a moment.

        Args:
            at: An aware datetime, in any time zone.

        Returns:
            True inside a shift (start inclusive, end exclusive) on a day that
            is not a holiday.

        Raises:
            ValueError: If ``at`` is naive.
        """
        local = self._local(at)
        if local.date() in self.holidays:
            return False
        moment = local.time()
        return any(shift.contains(moment) for shift in self.office_hours[local.weekday()])

    def next_opening(self, at: datetime) -> datetime | None:
        """Find when a person is next on duty.

        Args:
            at: An aware datetime, in any time zone.

        Returns:
            ``at`` itself when the team is open; otherwise the start of the
            next shift after ``at``, as an aware datetime in the brand's zone.
            ``None`` when no shift starts within :data:`LOOKAHEAD_DAYS` days
            (for example when no shifts are configured).

        Raises:
            ValueError: If ``at`` is naive.
        """
        if self.is_open(at):
            return at
        today = self._local(at).date()
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = today + timedelta(days=offset)
            if day in self.holidays:
                continue
            for shift in self.office_hours[day.weekday()]:
                opening = self._opening(day, shift)
                if opening is not None and opening > at:
                    return opening
        return None

    def _local(self, at: datetime) -> datetime:
        """Convert an aware datetime to the brand's zone; refuse naive ones."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"expected a datetime with a time zone, got naive {at.isoformat()}")
        # Going through UTC also settles wall times the clock skips (DST gaps).
        return at.astimezone(_UTC).astimezone(self.timezone)

    def _opening(self, day: date, shift: Shift) -> datetime | None:
        """The instant a shift starts on a given day, in the brand's zone.

        A start that falls in a daylight-saving gap (the clock jumps over it)
        opens at the first moment the clock shows a later time. A shift lying
        wholly inside such a gap never opens that day, so ``None``.
        """
        wall = datetime.combine(day, shift.start)
        opening = wall.replace(tzinfo=self.timezone)
        if _exists(opening):
            return opening
        opening = _first_instant_showing(wall, self.timezone)
        if opening.date() != day or opening.time() >= shift.end:
            return None
        return opening


def _exists(moment: datetime) -> bool:
    """Tell whether an aware wall-clock time is shown by the clock at all."""
    back = datetime.fromtimestamp(moment.timestamp(), moment.tzinfo)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _first_instant_showing(wall: datetime, zone: ZoneInfo) -> datetime:
    """Find the first instant whose local time is at or after a skipped wall time.

    Args:
        wall: A naive wall-clock time that the zone skips (a DST gap).
        zone: The time zone.

    Returns:
        The aware instant, in ``zone``, right after the clock jumps forward.
    """
    # Read with either offset, the skipped time lands on both sides of the jump.
    bounds = sorted(wall.replace(tzinfo=zone, fold=fold).timestamp() for fold in (0, 1))
    low, high = int(bounds[0]) - 1, int(bounds[1]) + 1
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, zone)
