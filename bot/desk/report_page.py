"""The morning report as HTML: the figures in tables and the charts embedded as PNG data.

`report_section` is the report itself, shared by the desk's /report page and by
`nightdesk report --html FILE`; `standalone_page` wraps it in a whole document with its own
styles, to keep or send as one file.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.desk.languages import language_label
from bot.metrics.charts import Chart

_PARTS = (("after_hours", "After hours"), ("office_hours", "Office hours"), ("all", "All"))


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


def _messages_table(figures: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th scope=\"row\">{label}</th>"
        f"<td>{figures[part]['customer_messages']}</td>"
        f"<td>{_share(figures[part]['response_rate'])}</td>"
        f"<td>{_seconds(figures[part]['bot_first_response_avg_s'])}</td>"
        f"<td>{_seconds(figures[part]['bot_first_response_median_s'])}</td>"
        f"<td>{_share(figures[part]['fallback_rate'])}</td></tr>"
        for part, label in _PARTS
    )
    return ("<table class=\"figures\"><caption>Customer messages</caption><thead><tr><th></th>"
            "<th>Messages</th><th>Answered</th><th>Bot's first answer (avg)</th>"
            "<th>(median)</th><th>Not understood</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _people_table(figures: Mapping[str, Any]) -> str:
    items = (
        ("Conversations", _number(figures["conversations"])),
        ("Needed a person", _share(figures["needed_a_person"])),
        ("Settled by the bot alone", _share(figures["containment"])),
        ("Tickets opened", _number(figures["tickets"])),
        ("A person's first reply after the handoff (avg)",
         _duration(figures["person_first_response_avg_s"])),
        ("(median)", _duration(figures["person_first_response_median_s"])),
        ("Time to resolution (avg)", _duration(figures["resolution_avg_s"])),
        ("Replies to resolution (avg)", _number(figures["replies_to_resolution_avg"])),
        ("Tickets that missed the 24 h window", _number(figures["tickets_missed_24h_window"])),
    )
    retention = figures.get("retention")
    if isinstance(retention, Mapping):
        items += (("Old conversations erased (retention)",
                   _number(retention["conversations_erased"])),)
    rows = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>'
                   for label, value in items)
    return f'<table class="figures"><caption>Conversations and people</caption>{rows}</table>'


def _languages_table(figures: Mapping[str, Any]) -> str:
    """Volume, containment and fallbacks per language, the brand's default first."""
    rows = "".join(
        f'<tr data-language="{html.escape(code)}"><th scope="row">{language_label(code)}</th>'
        f"<td>{part['customer_messages']}</td><td>{_share(part['fallback_rate'])}</td>"
        f"<td>{part['conversations']}</td><td>{_share(part['containment'])}</td>"
        f"<td>{_share(part['needed_a_person'])}</td><td>{part['tickets']}</td></tr>"
        for code, part in figures["by_language"].items()
    )
    return ('<table class="figures languages"><caption>By language</caption><thead><tr>'
            "<th>Language</th><th>Messages</th><th>Not understood</th><th>Conversations</th>"
            "<th>Settled by the bot alone</th><th>Needed a person</th><th>Tickets</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def _intents_table(figures: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(name))}</td><td>{count}</td></tr>"
                   for name, count in figures["top_intents"])
    rows = rows or '<tr><td colspan="2">None</td></tr>'
    return ('<table class="figures"><caption>Top intents</caption><thead><tr><th>Intent</th>'
            f"<th>Messages</th></tr></thead><tbody>{rows}</tbody></table>")


def _chart(chart: Chart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (f'<figure id="{chart.name}"><figcaption>{html.escape(chart.title)}</figcaption>'
            f'<img src="data:image/png;base64,{data}" width="720" height="320" '
            f'alt="{html.escape(chart.description)}"></figure>')


def report_section(figures: Mapping[str, Any], charts: Sequence[Chart], zone: ZoneInfo) -> str:
    """The report: period, charts, then the figures in tables (by language among them)."""
    return (
        '<section class="report">'
        f"<p class=\"period\">{html.escape(period_label(figures, zone))}</p>"
        + "".join(_chart(chart) for chart in charts)
        + _messages_table(figures) + _people_table(figures) + _languages_table(figures)
        + _intents_table(figures)
        + "</section>"
    )


_STANDALONE_STYLE = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 760px; padding: 20px;
  color: #1c1e21; }
figure { margin: 0 0 24px; } figcaption { font-weight: 600; margin-bottom: 4px; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin-bottom: 24px; }
caption { text-align: left; font-weight: 600; padding: 6px 0; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eee; }
.period { color: #65676b; }
.lang { display: inline-block; font-size: 11px; font-weight: 600; padding: 0 5px;
  border: 1px solid #8a8d91; border-radius: 3px; }
"""


def standalone_page(title: str, section: str) -> str:
    """A whole HTML document around the report (styles inside: it is a single file)."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_STANDALONE_STYLE}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{section}</body></html>\n")
