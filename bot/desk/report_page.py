"""The morning report as HTML: the figures in tables and the charts embedded as PNG data.

`report_section` is the report itself, shared by the desk's /report page and by
`nightdesk report --html FILE`; `standalone_page` wraps it in a whole document with its own
styles, to keep or send as one file. Both are templates of the desk's
(``bot/desk/web/templates/report_*.html``); this module turns the figures into what they
show.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.desk.web.rendering import render
from bot.metrics.charts import Chart

_PARTS = (("after_hours", "after_hours"), ("office_hours", "office_hours"), ("all", "all_hours"))


def _share(value: object) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f}%"


def _seconds(value: object) -> str:
    return "—" if value is None else f"{float(value):.1f} s"


def _duration(value: object) -> str:
    """Seconds as hours and minutes, for times people take."""
    if value is None:
        return "—"
    if float(value) < 60:
        return f"{float(value):.0f} s"
    minutes = round(float(value) / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _number(value: object) -> str:
    return "—" if value is None else f"{value}"


def period_label(figures: Mapping[str, Any], zone: ZoneInfo) -> str:
    """"Sun 22 Nov 00:00 → Mon 23 Nov 00:00 (Europe/Rome)"."""
    def shown(moment: str) -> str:
        return datetime.fromisoformat(moment).astimezone(zone).strftime("%a %d %b %Y %H:%M")

    return f"{shown(figures['since'])} → {shown(figures['until'])} ({zone.key})"


def _people(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The "Conversations and people" table's rows: the label's key, the figure."""
    items = [
        ("conversations", _number(figures["conversations"])),
        ("needed_a_person", _share(figures["needed_a_person"])),
        ("settled_by_bot", _share(figures["containment"])),
        ("tickets_opened", _number(figures["tickets"])),
        ("person_first_reply_avg", _duration(figures["person_first_response_avg_s"])),
        ("median", _duration(figures["person_first_response_median_s"])),
        ("resolution_avg", _duration(figures["resolution_avg_s"])),
        ("replies_to_resolution_avg", _number(figures["replies_to_resolution_avg"])),
        ("missed_24h_window", _number(figures["tickets_missed_24h_window"])),
    ]
    retention = figures.get("retention")
    if isinstance(retention, Mapping):
        items.append(("retention_erased", _number(retention["conversations_erased"])))
    return items


def report_section(figures: Mapping[str, Any], charts: Sequence[Chart], zone: ZoneInfo) -> str:
    """The report: period, charts, then the figures in tables (by language among them)."""
    return render(
        "report_section.html", period=period_label(figures, zone), charts=charts,
        parts=[(key, figures[part]) for part, key in _PARTS],
        people=_people(figures), by_language=list(figures["by_language"].items()),
        top_intents=[(str(name), count) for name, count in figures["top_intents"]],
        share=_share, seconds=_seconds,
        png=lambda chart: base64.b64encode(chart.png).decode("ascii"),
    )


def standalone_page(title: str, section: str) -> str:
    """A whole HTML document around the report (styles inside: it is a single file)."""
    style = (files("bot.desk.web") / "static" / "report.css").read_text(encoding="utf-8")
    return render("report_standalone.html", title=title, style=Markup(style),
                  section=Markup(section))
