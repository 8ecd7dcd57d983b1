"""The morning report's charts and HTML, on the hand-worked figures of metrics/test_figures."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from bot.desk.report_page import report_section, standalone_page
from bot.hours import OfficeCalendar
from bot.metrics.charts import NIGHT, PERSON, draw_all
from bot.metrics.figures import compute
from bot.settings import get_brand
from tests.unit.metrics.test_figures import LANGUAGES, MESSAGES, NOW, SINCE, TICKETS, UNTIL

IMAGE = re.compile(r'<img src="data:image/png;base64,([^"]+)"[^>]*alt="([^"]*)"')


def calendar() -> OfficeCalendar:
    return OfficeCalendar.from_brand(get_brand())


@pytest.fixture(scope="module")
def figures():
    return compute(MESSAGES, TICKETS, calendar(), SINCE, UNTIL, NOW, languages=LANGUAGES)


@pytest.fixture(scope="module")
def quiet_night():
    return compute([], [], calendar(), SINCE, UNTIL, NOW, languages=LANGUAGES)


def pixels_of(png: bytes, colour: str) -> int:
    """How many pixels of the image have (nearly) this colour."""
    image = imread(io.BytesIO(png))[..., :3]
    return int((np.abs(image - np.array(to_rgb(colour))).max(axis=2) < 0.02).sum())


def test_three_png_charts_of_the_night(figures):
    charts = {chart.name: chart for chart in draw_all(figures)}
    assert list(charts) == ["night_volume", "handoffs_by_reason", "first_response_times"]
    for chart in charts.values():
        assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert imread(io.BytesIO(chart.png)).shape[:2] == (320, 720)
    assert pixels_of(charts["night_volume"].png, NIGHT) > 500  # the bars at 22:00 and 03:00
    assert pixels_of(charts["handoffs_by_reason"].png, PERSON) > 500
    assert charts["night_volume"].description == (
        "4 customer messages after hours and 1 in office hours; "
        "the busiest night hour starts at 22:00")
    assert charts["handoffs_by_reason"].description == "human request: 1; complaint: 1"
    assert "3.0 s average" in charts["first_response_times"].description
    assert "420.0 min average" in charts["first_response_times"].description  # 7 h


def test_a_quiet_night_draws_empty_charts_that_say_so(quiet_night):
    charts = {chart.name: chart for chart in draw_all(quiet_night)}
    assert pixels_of(charts["night_volume"].png, NIGHT) == 0
    assert pixels_of(charts["handoffs_by_reason"].png, PERSON) == 0
    assert charts["handoffs_by_reason"].description == "no handoffs"


def test_the_html_report_embeds_the_charts_and_the_figures(figures):
    zone = calendar().timezone
    section = report_section(figures, draw_all(figures), zone)
    images = IMAGE.findall(section)
    assert len(images) == 3
    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data, _ in images)
    assert images[1][1] == "human request: 1; complaint: 1"
    assert "Sun 22 Nov 2026 19:00 → Mon 23 Nov 2026 11:00 (Europe/Rome)" in section
    assert "<td>80%</td>" in section  # all messages answered: 4 of 5
    assert "7 h 00 min" in section  # a person's first reply after the handoff
    assert "7 h 30 min" in section  # time to resolution
    page = standalone_page("Morning report", section)
    assert page.startswith("<!doctype html>") and "<style>" in page


def test_the_report_splits_volume_containment_and_fallbacks_by_language(figures, quiet_night):
    from bot.metrics.report import as_text

    section = report_section(figures, draw_all(figures), calendar().timezone)
    table = section[section.index("<caption>By language</caption>"):]
    table = table[:table.index("</table>")]
    rows = re.findall(r'<tr data-language="(\w+)">(.*?)</tr>', table)
    assert [code for code, _ in rows] == ["it", "en"]  # the brand's default first
    cells = {code: re.findall(r"<td>([^<]*)</td>", row) for code, row in rows}
    # messages, not understood, conversations, settled by the bot, needed a person, tickets
    assert cells == {"it": ["3", "33%", "1", "0%", "100%", "1"],
                     "en": ["2", "0%", "2", "50%", "50%", "1"]}
    assert "Italian" in dict(rows)["it"] and ">IT</span>" in dict(rows)["it"]
    text = as_text(figures)
    assert ("Italian (it)      3 messages, fallback 33%; 1 conversations: settled by the bot "
            "0%, needed a person 100%; tickets 1") in text
    assert "English (en)      2 messages, fallback 0%; 2 conversations: settled by the bot " \
        "50%, needed a person 50%; tickets 1" in text
    quiet = report_section(quiet_night, draw_all(quiet_night), calendar().timezone)
    assert '<tr data-language="en">' in quiet and "<td>—</td>" in quiet
