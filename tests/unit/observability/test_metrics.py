"""The process's metrics: own registry, HELP texts, label values, scrape-time collectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.observability import metrics as m

NOW = datetime(2026, 3, 4, 23, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Pending:
    events: int
    oldest_age_seconds: float


def families(metrics: m.Metrics) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}


def test_each_metrics_has_its_own_registry_with_the_process_collector() -> None:
    one, two = m.Metrics(), m.Metrics()
    one.handoffs.labels("abuse").inc()
    assert one.sample("nightdesk_handoffs_total", {"reason": "abuse"}) == 1
    assert two.sample("nightdesk_handoffs_total", {"reason": "abuse"}) is None
    assert one.sample("process_start_time_seconds") is not None


def test_every_nightdesk_metric_has_help_text_and_known_labels_start_at_zero() -> None:
    metrics = m.Metrics()
    metrics.expect_handoff_reasons(["human_request"])
    found = families(metrics)
    ours = {name: f for name, f in found.items() if name.startswith("nightdesk_")}
    assert set(ours) >= {"nightdesk_answer_latency_seconds", "nightdesk_messages_received",
                         "nightdesk_handoffs", "nightdesk_send_failures",
                         "nightdesk_inbox_events", "nightdesk_model_seconds",
                         "nightdesk_model_runs"}
    assert all(f.documentation for f in ours.values())
    assert metrics.sample("nightdesk_send_failures_total", {"kind": "undeliverable"}) == 0
    assert metrics.sample("nightdesk_inbox_events_total", {"outcome": "quarantined"}) == 0
    assert metrics.sample("nightdesk_handoffs_total", {"reason": "human_request"}) == 0
    assert metrics.sample("nightdesk_model_runs_total", {"part": "next_action"}) == 0


def test_the_recording_functions_go_to_the_current_metrics(fresh_metrics) -> None:
    m.count_handoff("complaint")
    m.count_send_failure("refused")
    m.count_inbox_event("processed")
    m.count_received("webchat", 2)
    m.observe_answer("rest", 0.3)
    m.observe_model_run("understanding", 0.007)
    m.observe_model_run("next_action", 0.005)
    m.observe_model_run("next_action", 0.006)
    assert fresh_metrics.sample("nightdesk_handoffs_total", {"reason": "complaint"}) == 1
    assert fresh_metrics.sample("nightdesk_send_failures_total", {"kind": "refused"}) == 1
    assert fresh_metrics.sample("nightdesk_inbox_events_total", {"outcome": "processed"}) == 1
    assert fresh_metrics.sample("nightdesk_messages_received_total", {"channel": "webchat"}) == 2
    assert fresh_metrics.sample("nightdesk_answer_latency_seconds_count",
                                {"channel": "rest"}) == 1
    assert fresh_metrics.sample("nightdesk_answer_latency_seconds_bucket",
                                {"channel": "rest", "le": "0.25"}) == 0
    assert fresh_metrics.sample("nightdesk_answer_latency_seconds_bucket",
                                {"channel": "rest", "le": "0.5"}) == 1
    assert fresh_metrics.sample("nightdesk_model_runs_total", {"part": "next_action"}) == 2
    assert fresh_metrics.sample("nightdesk_model_seconds_total",
                                {"part": "next_action"}) == pytest.approx(0.011)
    assert fresh_metrics.sample("nightdesk_model_runs_total", {"part": "understanding"}) == 1


def test_latency_since_a_stored_arrival_uses_the_metrics_clock() -> None:
    metrics = m.Metrics(now=lambda: NOW)
    previous = m.use(metrics)
    try:
        m.observe_answer_since("messenger", NOW - timedelta(seconds=4))
        m.observe_answer_since("messenger", None)
    finally:
        m.use(previous)
    assert metrics.sample("nightdesk_answer_latency_seconds_sum", {"channel": "messenger"}) == 4
    assert metrics.sample("nightdesk_answer_latency_seconds_count",
                          {"channel": "messenger"}) == 1


def test_the_inbox_gauges_are_read_at_scrape_time_and_a_failure_leaves_them_out() -> None:
    metrics = m.Metrics(process_collector=False)
    state = {"pending": Pending(3, 125.0)}

    def summary() -> Pending:
        if state["pending"] is None:
            raise RuntimeError("database down")
        return state["pending"]

    metrics.watch_inbox(summary)
    metrics.watch_inbox(summary)  # replaced, not registered twice
    assert metrics.sample("nightdesk_inbox_pending_events") == 3
    assert metrics.sample("nightdesk_inbox_oldest_pending_age_seconds") == 125
    state["pending"] = Pending(0, 0.0)
    assert metrics.sample("nightdesk_inbox_pending_events") == 0
    state["pending"] = None
    assert "nightdesk_inbox_pending_events" not in metrics.exposition().decode()
    assert "nightdesk_handoffs" in metrics.exposition().decode()


def test_the_model_info_names_the_model_served_now() -> None:
    metrics = m.Metrics(process_collector=False)
    served = {"model": None}
    metrics.watch_model(lambda: served["model"])
    assert metrics.sample("nightdesk_model_info", {"model": "x.tar.gz"}) is None
    served["model"] = "nightdesk-20261201.tar.gz"
    assert metrics.sample("nightdesk_model_info",
                          {"model": "nightdesk-20261201.tar.gz"}) == 1
