"""Office hours: whether a person is on duty and when one will answer.

Re-exports :class:`OfficeCalendar`; depends only on the brand settings types.
"""

from bot.hours.calendar import LOOKAHEAD_DAYS, OfficeCalendar

__all__ = ["LOOKAHEAD_DAYS", "OfficeCalendar"]
