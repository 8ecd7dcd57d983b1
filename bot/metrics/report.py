"""The morning report: the figures of a period, for the CLI (`nightdesk report`) and the desk.

"yesterday" (or "today", or a date ``YYYY-MM-DD``) means that whole day in the brand's time
zone; today's report runs until now. Volume, containment and fallbacks are also given per
language (`by_language`, in the order of brand.yml's languages). `retention` counts what the
retention job erased in the period (`bot.privacy.retention`). `as_text` is the report for a
terminal; the desk draws its own page from the same figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.hours import OfficeCalendar
from bot.language.names import language_name
from bot.metrics.figures import compute, stored_messages, ticket_rows
from bot.privacy.retention import runs_between


class PeriodError(ValueError):
    """The period is not understood; the message says what is."""


def period(since: str, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) of "yesterday", "today" or a date, in UTC."""
    today = now.astimezone(zone).date()
    if since == "yesterday":
        day = today - timedelta(days=1)
    elif since == "today":
        day = today
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
        try:
            day = date.fromisoformat(since)
        except ValueError:
            raise PeriodError(f"{since!r} is not a date") from None
    else:
        raise PeriodError(f"--since takes yesterday, today or YYYY-MM-DD, not {since!r}")
    start = datetime.combine(day, time(0), zone)
    end = min(datetime.combine(day + timedelta(days=1), time(0), zone), now)
    if end <= start:
        raise PeriodError(f"{since} has not started yet")
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def figures_for(engine: Engine, calendar: OfficeCalendar, since: str,
                now: datetime | None = None, *, languages: Sequence[str]) -> dict[str, object]:
    """The figures of one period, as JSON-ready data; `languages` are the brand's."""
    now = now or datetime.now(timezone.utc)
    start, end = period(since, calendar.timezone, now)
    figures = compute(stored_messages(engine, start, end), ticket_rows(engine), calendar,
                      start, end, now, languages=languages)
    runs = runs_between(engine, start, end)
    figures["retention"] = {"runs": len(runs),
                            "conversations_erased": sum(run.conversations for run in runs),
                            "rows_erased": sum(run.rows for run in runs)}
    return figures


def _minutes(seconds: object) -> str:
    return "—" if seconds is None else f"{float(seconds) / 60:.1f} min"


def _share(value: object) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f}%"


def as_text(figures: dict[str, object]) -> str:
    """The report for a terminal."""
    lines = [f"Report {figures['since']} → {figures['until']}"]
    for name, label in (("all", "All"), ("after_hours", "After hours"),
                        ("office_hours", "Office hours")):
        part = figures[name]
        lines.append(
            f"{label:<13} {part['customer_messages']:>5} messages, "
            f"answered {_share(part['response_rate'])}, bot's first answer "
            f"{part['bot_first_response_avg_s'] or '—'} s avg / "
            f"{part['bot_first_response_median_s'] or '—'} s median, "
            f"fallback {_share(part['fallback_rate'])}"
        )
    lines += [
        f"Conversations {figures['conversations']}: needed a person "
        f"{_share(figures['needed_a_person'])}, settled by the bot "
        f"{_share(figures['containment'])}",
        f"Tickets {figures['tickets']} {figures['tickets_by_reason']}; a person's first reply "
        f"{_minutes(figures['person_first_response_avg_s'])} avg / "
        f"{_minutes(figures['person_first_response_median_s'])} median after the handoff; "
        f"resolution {_minutes(figures['resolution_avg_s'])} avg; missed the 24 h window: "
        f"{figures['tickets_missed_24h_window']}",
        "Top intents: " + ", ".join(f"{n} ({c})" for n, c in figures["top_intents"]),
    ]
    retention = figures.get("retention")
    if isinstance(retention, dict):
        erased, runs = retention["conversations_erased"], retention["runs"]
        lines.append(f"Retention: {erased} old conversation{'s' if erased != 1 else ''} "
                     f"erased ({retention['rows_erased']} rows) in {runs} "
                     f"run{'s' if runs != 1 else ''}")
    lines.append("By language:")
    for code, part in figures["by_language"].items():
        label = f"{language_name(code)} ({code})"
        lines.append(
            f"{label:<13} {part['customer_messages']:>5} messages, fallback "
            f"{_share(part['fallback_rate'])}; {part['conversations']} conversations: settled "
            f"by the bot {_share(part['containment'])}, needed a person "
            f"{_share(part['needed_a_person'])}; tickets {part['tickets']}"
        )
    return "\n".join(lines)
