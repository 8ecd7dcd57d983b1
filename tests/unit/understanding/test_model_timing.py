"""The model's runs are timed into the metrics, by part, and what they return is untouched.

Rasa's two model calls are stood in for by slow fakes (a real model is timed end to end by
`tests/integration/test_messenger_webhook.py`); the fakes advance a fake clock, so the test
reads exact seconds and never the wall clock.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.processor import MessageProcessor

from bot.understanding import model_timing


class FakeClock:
    """`time.perf_counter` that moves only when a fake model call says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(model_timing.time, "perf_counter", fake)
    return fake


@pytest.fixture
def timed_fakes(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Any:
    def parse(self: Any, message: str, tracker: Any = None) -> dict[str, Any]:
        clock.now += 0.012
        return {"text": message, "intent": {"name": "order_status"}}

    def predict(self: Any, tracker: Any) -> str:
        clock.now += 0.005
        if tracker == "broken":
            raise RuntimeError("the policies failed")
        return "action_listen"

    for name in ("_parse_message_with_graph", "_predict_next_with_tracker"):
        # undone last: Rasa's own methods are back whatever the fakes left
        monkeypatch.setattr(MessageProcessor, name, MessageProcessor.__dict__[name])
    monkeypatch.setattr(model_timing, "_RASAS", {
        "_parse_message_with_graph": parse, "_predict_next_with_tracker": predict})
    model_timing.install_model_timing()
    yield
    model_timing.uninstall_model_timing()


def test_each_run_is_counted_with_its_time_by_part(fresh_metrics, timed_fakes) -> None:
    assert MessageProcessor._parse_message_with_graph(None, "where is 10042") == {
        "text": "where is 10042", "intent": {"name": "order_status"}}
    for _ in range(3):
        assert MessageProcessor._predict_next_with_tracker(None, "tracker") == "action_listen"
    assert fresh_metrics.sample("nightdesk_model_runs_total", {"part": "understanding"}) == 1
    assert fresh_metrics.sample("nightdesk_model_seconds_total",
                                {"part": "understanding"}) == pytest.approx(0.012)
    assert fresh_metrics.sample("nightdesk_model_runs_total", {"part": "next_action"}) == 3
    assert fresh_metrics.sample("nightdesk_model_seconds_total",
                                {"part": "next_action"}) == pytest.approx(0.015)


def test_a_run_that_raises_is_timed_and_raises_unchanged(fresh_metrics, timed_fakes) -> None:
    with pytest.raises(RuntimeError, match="the policies failed"):
        MessageProcessor._predict_next_with_tracker(None, "broken")
    assert fresh_metrics.sample("nightdesk_model_runs_total", {"part": "next_action"}) == 1
    assert fresh_metrics.sample("nightdesk_model_seconds_total",
                                {"part": "next_action"}) == pytest.approx(0.005)


def test_uninstalling_gives_rasas_methods_back() -> None:
    rasas = (MessageProcessor.__dict__["_parse_message_with_graph"],
             MessageProcessor.__dict__["_predict_next_with_tracker"])
    model_timing.install_model_timing()
    assert MessageProcessor.__dict__["_predict_next_with_tracker"] is not rasas[1]
    model_timing.uninstall_model_timing()
    assert (MessageProcessor.__dict__["_parse_message_with_graph"],
            MessageProcessor.__dict__["_predict_next_with_tracker"]) == rasas
