"""The morning report's charts, drawn with matplotlib as PNG images.

Three charts from the figures of `bot.metrics.figures.compute`: the night's volume by hour,
handoffs by reason, and first response times (the bot's, and a person's from the handoff).
Each comes with a sentence that says what it shows, for the image's alternative text.
Drawing uses matplotlib's object API on the Agg canvas (no pyplot, no screen); one chart
is drawn at a time, since matplotlib's font and text caches are shared.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402 - after choosing the backend
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

NIGHT = "#3b4a8f"
DAY = "#c9d3f2"
PERSON = "#c25e00"
_DRAWING = threading.Lock()
# The night runs across midnight: hours are shown from noon to noon so it stays in one piece.
HOURS_NOON_TO_NOON = [*range(12, 24), *range(12)]


@dataclass(frozen=True)
class Chart:
    """One drawn chart: its PNG bytes and a sentence saying what it shows."""

    name: str
    title: str
    png: bytes
    description: str


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _new_figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(7.2, 3.2), dpi=100, layout="tight")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _nothing(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes,
              color="#65676b")
    axes.set_xticks([])
    axes.set_yticks([])


def night_volume(figures: Mapping[str, Any]) -> Chart:
    """Customer messages by hour, after hours stacked under office hours."""
    every = figures["volume_by_hour"]
    night = figures["after_hours_volume_by_hour"]
    after = [night[str(h)] for h in HOURS_NOON_TO_NOON]
    office = [every[str(h)] - night[str(h)] for h in HOURS_NOON_TO_NOON]
    figure, axes = _new_figure()
    labels = [f"{h:02d}" for h in HOURS_NOON_TO_NOON]
    if sum(after) + sum(office) == 0:
        _nothing(axes, "No customer messages in this period")
    else:
        axes.bar(labels, after, color=NIGHT, label="after hours")
        axes.bar(labels, office, bottom=after, color=DAY, label="office hours")
        axes.set_xlabel("hour (brand's time zone)")
        axes.set_ylabel("customer messages")
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.legend(frameon=False)
    busiest = max(range(24), key=lambda i: after[i]) if sum(after) else None
    description = (
        f"{sum(after)} customer messages after hours and {sum(office)} in office hours"
        + (f"; the busiest night hour starts at {labels[busiest]}:00"
           if busiest is not None else "")
    )
    return Chart("night_volume", "Night volume by hour", _png(figure), description)


def handoffs_by_reason(figures: Mapping[str, Any]) -> Chart:
    """Tickets opened in the period, one bar per reason, most frequent on top."""
    reasons = sorted(figures["tickets_by_reason"].items(), key=lambda item: (item[1], item[0]))
    figure, axes = _new_figure()
    if not reasons:
        _nothing(axes, "No handoffs in this period")
    else:
        names = [name.replace("_", " ") for name, _ in reasons]
        counts = [count for _, count in reasons]
        axes.barh(names, counts, color=PERSON)
        axes.set_xlabel("tickets")
        axes.xaxis.get_major_locator().set_params(integer=True)
        for y, count in enumerate(counts):
            axes.text(count, y, f" {count}", va="center")
    description = ("; ".join(f"{name.replace('_', ' ')}: {count}"
                             for name, count in reversed(reasons)) or "no handoffs")
    return Chart("handoffs_by_reason", "Handoffs by reason", _png(figure), description)


def _seconds(value: object) -> float | None:
    return None if value is None else float(value)


def first_response_times(figures: Mapping[str, Any]) -> Chart:
    """The bot's first answer (seconds) and a person's first reply after the handoff (minutes)."""
    figure = Figure(figsize=(7.2, 3.2), dpi=100, layout="tight")
    bot_axes, person_axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    bars = {
        "after hours": (_seconds(figures["after_hours"]["bot_first_response_avg_s"]),
                        _seconds(figures["after_hours"]["bot_first_response_median_s"])),
        "office hours": (_seconds(figures["office_hours"]["bot_first_response_avg_s"]),
                         _seconds(figures["office_hours"]["bot_first_response_median_s"])),
    }
    person = (_seconds(figures["person_first_response_avg_s"]),
              _seconds(figures["person_first_response_median_s"]))
    for axes in (bot_axes, person_axes):
        axes.spines[["top", "right"]].set_visible(False)
    if all(v is None for pair in bars.values() for v in pair):
        _nothing(bot_axes, "The bot answered nobody")
    else:
        positions = range(len(bars))
        averages = [pair[0] or 0 for pair in bars.values()]
        medians = [pair[1] or 0 for pair in bars.values()]
        bot_axes.bar([p - 0.2 for p in positions], averages, width=0.4, color=NIGHT,
                     label="average")
        bot_axes.bar([p + 0.2 for p in positions], medians, width=0.4, color=DAY,
                     label="median")
        bot_axes.set_xticks(list(positions), list(bars))
        bot_axes.set_ylabel("seconds")
        bot_axes.legend(frameon=False)
    bot_axes.set_title("the bot's first answer", fontsize=10)
    if person[0] is None:
        _nothing(person_axes, "No person's reply yet")
    else:
        person_axes.bar(["average", "median"], [person[0] / 60, (person[1] or 0) / 60],
                        color=PERSON)
        person_axes.set_ylabel("minutes")
    person_axes.set_title("a person's, from the handoff", fontsize=10)

    def said(pair: tuple[float | None, float | None], unit: float, name: str) -> str:
        if pair[0] is None:
            return "none"
        return f"{pair[0] / unit:.1f} {name} average, {(pair[1] or 0) / unit:.1f} median"

    description = (f"The bot's first answer after hours: {said(bars['after hours'], 1, 's')}; "
                   f"in office hours: {said(bars['office hours'], 1, 's')}; a person's first "
                   f"reply after the handoff: {said(person, 60, 'min')}")
    return Chart("first_response_times", "First response times", _png(figure), description)


def draw_all(figures: Mapping[str, Any]) -> list[Chart]:
    """The report's three charts, in the order the report shows them."""
    with _DRAWING:
        return [night_volume(figures), handoffs_by_reason(figures),
                first_response_times(figures)]
