"""`nightdesk report`: the morning report in a terminal, as JSON, or as the desk's page.

`--since yesterday` (or `today`, or a date ``YYYY-MM-DD``) means that whole day in the
brand's time zone (`bot.metrics.report`). `--html FILE` also writes the report with its
charts as one HTML file, the desk's report page (`bot.desk.report_page`) standing alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.metrics.report import PeriodError, as_text, figures_for


def cmd_report(args: argparse.Namespace) -> int:
    """`nightdesk report --since yesterday [--json]`."""
    from bot.commands.context import command_services

    services = command_services()
    calendar = services.calendar
    try:
        figures = figures_for(services.engine, calendar, args.since,
                              languages=services.brand.languages)
    except PeriodError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    if args.html:
        try:
            write_html(args.html, figures, calendar.timezone)
        except OSError as error:
            print(f"nightdesk: cannot write {args.html}: {error.strerror}", file=sys.stderr)
            return 1
        print(f"Report with charts written to {args.html}", file=sys.stderr)
    print(json.dumps(figures, indent=2) if args.json else as_text(figures))
    return 0


def write_html(target: Path, figures: dict[str, object], zone: ZoneInfo) -> None:
    """Writes the report with its charts embedded, as one HTML file (whole or not at all)."""
    from bot.desk.report_page import period_label, report_section, standalone_page
    from bot.metrics.charts import draw_all

    page = standalone_page(f"Morning report, {period_label(figures, zone)}",
                           report_section(figures, draw_all(figures), zone))
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, target)


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `report` to the `nightdesk` parser."""
    report = sub.add_parser("report", help="the night's figures (the morning report)")
    report.add_argument("--since", default="yesterday",
                        help="yesterday (default), today or YYYY-MM-DD, in the brand's zone")
    report.add_argument("--json", action="store_true", help="the figures as JSON")
    report.add_argument("--html", type=Path, metavar="FILE",
                        help="also write the report with its charts (matplotlib) to FILE")
    report.set_defaults(func=cmd_report)
