"""The morning report: its page (charts and figures of a period) and its figures as JSON."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from bot.desk.web.blocking import run_blocking
from bot.desk.web.rendering import page
from bot.desk.web.request_data import services_of
from bot.desk.web.strings import STRINGS


async def api_report(request: web.Request) -> web.Response:
    """The figures of a period as JSON (``?since=yesterday|today|YYYY-MM-DD``)."""
    from bot.metrics.report import PeriodError

    report = services_of(request).report
    if report is None:
        return web.json_response({"error": STRINGS.no_report_json}, status=404)
    try:
        figures = await run_blocking(report, request.query.get("since", "yesterday"))
    except PeriodError as error:
        return web.json_response({"error": str(error)}, status=400)
    return web.json_response(figures)


async def report_view(request: web.Request) -> web.Response:
    """The morning report: charts (matplotlib, embedded) and figures of a period."""
    from bot.desk.report_page import report_section
    from bot.metrics.charts import draw_all
    from bot.metrics.report import PeriodError

    services = services_of(request)
    report = services.report
    since = request.query.get("since", "yesterday")
    if report is None:
        return page(request, "report.html", 404, title=STRINGS.report_title, missing=True)

    def build() -> str:
        figures = report(since)
        return report_section(figures, draw_all(figures), services.zone)

    try:
        section = await run_blocking(build)
    except PeriodError as error:
        return page(request, "report.html", 400, title=STRINGS.report_title, day="",
                    error=str(error))
    return page(request, "report.html", title=STRINGS.report_title, since=since,
                day=since if since[:1].isdigit() else "", section=Markup(section))
