"""The Prometheus metrics of one process, on a registry of its own.

`Metrics` holds every metric definition (names prefixed ``nightdesk_``, each with its HELP
text) on its own `CollectorRegistry`, with the process collector (start time, CPU, memory):
nothing goes to prometheus_client's global default registry, so tests make fresh ones.
The process's instance is `current()`; tests swap it with `use()`. The code records through
the one-line functions below (`count_handoff`, `count_send_failure`, ...).

Gauges that describe shared state (the inbox) are computed at scrape time by collectors a
process registers once (`watch_inbox`, `watch_model`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Literal, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

ANSWER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 45.0, 60.0)
"""Seconds from a customer's message received to the bot's reply sent."""

CHANNELS = ("messenger", "webchat", "rest")
SEND_FAILURE_KINDS = ("refused", "failed", "undeliverable")
"""refused: Graph answered with a refusal (4xx); failed: Graph unreachable, timed out or 5xx
after the retries; undeliverable: outside Messenger's window (never sent)."""
INBOX_OUTCOMES = ("processed", "failed", "quarantined", "lost")
MODEL_PARTS = ("understanding", "next_action")
"""understanding: the NLU pipeline on one message; next_action: the policies choosing one
action (`bot.understanding.model_timing`)."""

SendFailureKind = Literal["refused", "failed", "undeliverable"]
InboxOutcome = Literal["processed", "failed", "quarantined", "lost"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


class PendingEvents(Protocol):
    """What the inbox says about its pending events (`Inbox.pending_summary`)."""

    @property
    def events(self) -> int:
        """How many events are pending."""

    @property
    def oldest_age_seconds(self) -> float:
        """How long the oldest pending event has waited (0 when none)."""


class _InboxCollector(Collector):
    """The inbox's depth and oldest pending age, asked of the database at each scrape."""

    def __init__(self, summary: Callable[[], PendingEvents]) -> None:
        self.summary = summary

    def collect(self) -> Iterator[Metric]:
        try:
            pending = self.summary()
        except Exception as error:  # noqa: BLE001 - a scrape must not fail with the database
            logger.warning("metrics: the inbox could not be read (%s)", type(error).__name__)
            return
        yield GaugeMetricFamily("nightdesk_inbox_pending_events",
                                "Messenger events stored and waiting to be processed.",
                                value=pending.events)
        yield GaugeMetricFamily("nightdesk_inbox_oldest_pending_age_seconds",
                                "How long the oldest pending Messenger event has waited "
                                "(0 when none is pending).", value=pending.oldest_age_seconds)

    def describe(self) -> Iterable[Metric]:
        return []


class _ModelCollector(Collector):
    """The model the Rasa process serves now (it changes on `nightdesk promote`)."""

    def __init__(self, model_file: Callable[[], str | None]) -> None:
        self.model_file = model_file

    def collect(self) -> Iterator[Metric]:
        name = self.model_file()
        family = GaugeMetricFamily("nightdesk_model_info",
                                   "The model file this Rasa process serves (value 1).",
                                   labels=["model"])
        if name:
            family.add_metric([name], 1)
        yield family

    def describe(self) -> Iterable[Metric]:
        return []


class Metrics:
    """Every metric of one process, on its own registry.

    Args:
        process_collector: adds the process and platform collectors (start time, CPU,
            memory, Python version).
        now: the current aware time, for latencies from a stored arrival time.
    """

    def __init__(
        self,
        process_collector: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.now = now
        if process_collector:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        self.answer_latency = Histogram(
            "nightdesk_answer_latency_seconds",
            "Seconds from a customer's message received (Messenger: stored in the inbox; web "
            "chat and REST: the request) to the bot's reply sent, by channel.",
            ["channel"], buckets=ANSWER_BUCKETS, registry=self.registry)
        self.received = Counter(
            "nightdesk_messages_received",
            "Customers' messages received, by channel (Messenger: new events a customer "
            "wrote, stored by the webhook; web chat and REST: requests).",
            ["channel"], registry=self.registry)
        self.handoffs = Counter(
            "nightdesk_handoffs", "Tickets opened for a person, by handoff reason.",
            ["reason"], registry=self.registry)
        self.send_failures = Counter(
            "nightdesk_send_failures",
            "Messages to Messenger customers not delivered, by kind: refused (Graph refused "
            "it), failed (Graph unreachable or 5xx after retries), undeliverable (outside "
            "the messaging window, never sent).", ["kind"], registry=self.registry)
        self.inbox_events = Counter(
            "nightdesk_inbox_events",
            "Inbox events the worker finished, by outcome: processed, failed (a try failed; "
            "retried once), quarantined (given to a person, never run again), lost (another "
            "process took the event over: this one had stopped renewing its claim).",
            ["outcome"], registry=self.registry)
        self.model_seconds = Counter(
            "nightdesk_model_seconds",
            "Seconds the model ran in this process, by part: understanding (the NLU pipeline "
            "on a customer's message), next_action (the policies choosing an action). The "
            "process's event loop waits meanwhile.", ["part"], registry=self.registry)
        self.model_runs = Counter(
            "nightdesk_model_runs", "Times the model ran in this process, by part.",
            ["part"], registry=self.registry)
        for part in MODEL_PARTS:
            self.model_seconds.labels(part)
            self.model_runs.labels(part)
        for channel in CHANNELS:
            self.answer_latency.labels(channel)
            self.received.labels(channel)
        for kind in SEND_FAILURE_KINDS:
            self.send_failures.labels(kind)
        for outcome in INBOX_OUTCOMES:
            self.inbox_events.labels(outcome)
        self._watched: dict[str, Collector] = {}

    def expect_handoff_reasons(self, reasons: Iterable[str]) -> None:
        """Makes each reason's counter exist at 0, so rates work from the first handoff."""
        for reason in reasons:
            self.handoffs.labels(reason)

    def _watch(self, key: str, collector: Collector) -> None:
        previous = self._watched.pop(key, None)
        if previous is not None:
            self.registry.unregister(previous)
        self.registry.register(collector)
        self._watched[key] = collector

    def watch_inbox(self, summary: Callable[[], PendingEvents]) -> None:
        """Exposes the inbox's depth and oldest age, read at each scrape (replaces any)."""
        self._watch("inbox", _InboxCollector(summary))

    def watch_model(self, model_file: Callable[[], str | None]) -> None:
        """Exposes the model file served now, read at each scrape (replaces any)."""
        self._watch("model", _ModelCollector(model_file))

    def exposition(self) -> bytes:
        """The registry in Prometheus text format (blocking: collectors read the database)."""
        return generate_latest(self.registry)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """One sample's value now (None when absent)."""
        return self.registry.get_sample_value(name, labels or {})


_process: Metrics | None = None


def current() -> Metrics:
    """The process's metrics, made on first use."""
    global _process
    if _process is None:
        _process = Metrics()
    return _process


def use(metrics: Metrics | None) -> Metrics | None:
    """Makes `metrics` the process's (tests); returns the one it replaces."""
    global _process
    previous, _process = _process, metrics
    return previous


def count_handoff(reason: str) -> None:
    """A ticket was opened for this handoff reason."""
    current().handoffs.labels(reason).inc()


def count_send_failure(kind: SendFailureKind) -> None:
    """A message to a Messenger customer was not delivered."""
    current().send_failures.labels(kind).inc()


def count_inbox_event(outcome: InboxOutcome) -> None:
    """The inbox worker finished a try of an event with this outcome."""
    current().inbox_events.labels(outcome).inc()


def count_received(channel: str, messages: int = 1) -> None:
    """Customers' messages came in on a channel."""
    if messages > 0:
        current().received.labels(channel).inc(messages)


def observe_answer(channel: str, seconds: float) -> None:
    """The bot's reply went out `seconds` after the customer's message arrived."""
    current().answer_latency.labels(channel).observe(max(seconds, 0.0))


def observe_answer_since(channel: str, received_at: datetime | None) -> None:
    """The bot's reply went out now, for a message stored at `received_at` (aware, UTC)."""
    if received_at is None:
        return
    metrics = current()
    observe_answer(channel, (metrics.now() - received_at).total_seconds())


def observe_model_run(part: str, seconds: float) -> None:
    """The model ran once (`part`: understanding or next_action) for `seconds`."""
    metrics = current()
    metrics.model_seconds.labels(part).inc(max(seconds, 0.0))
    metrics.model_runs.labels(part).inc()
