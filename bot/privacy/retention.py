"""Retention: what is older than the brand's `retention_days` is erased.

* A conversation whose every row (tracker events, tickets, inbox, outbox, web chat...) is
  older than the cut-off is erased whole, as `bot.privacy.customer_data` erases a person;
  one with a ticket still open is kept, whatever its age, so no case is lost unanswered.
* Messenger inbox rows (with their sends) received before the cut-off are erased in a
  conversation that goes on: they are the transport's log, the conversation is in Rasa's.
* Agents' failed logins and login sessions last seen before the cut-off go too, and web
  chat sessions idle longer than their cookie lives (`bot.webchat.sessions.MAX_IDLE`).
* Log files under the log folder last written before the cut-off are deleted.

One transaction for the database, with one audit entry ``retention.run`` holding the counts;
the morning report shows the runs of its period (`runs_between`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from bot.privacy.customer_data import AuditRecorder
from bot.privacy.holdings import BY_PARENT, Holdings, chunks
from bot.store.tables import AuditRow
from bot.webchat.sessions import MAX_IDLE

RETENTION_ACTION = "retention.run"
RETENTION_ACTOR = "retention"
LOG_SUFFIXES = (".log",)
OPEN_TICKET = "open"
RETENTION_EVERY = timedelta(days=1)
"""How often `nightdesk up` runs retention (first at start)."""


@dataclass(frozen=True)
class RetentionRun:
    """What one run erased."""

    cutoff: datetime
    conversations: int
    kept_open: int
    rows: dict[str, int] = field(default_factory=dict)
    log_files: int = 0

    def as_detail(self) -> dict[str, object]:
        """The audit entry's detail (counts only)."""
        return {"cutoff": self.cutoff.isoformat(), "conversations": self.conversations,
                "kept_open": self.kept_open, "rows": self.rows, "log_files": self.log_files}

    def summary(self) -> str:
        """One line for a terminal."""
        return (f"Retention (older than {self.cutoff:%Y-%m-%d %H:%M} UTC): "
                f"{self.conversations} conversations erased, {sum(self.rows.values())} rows, "
                f"{self.log_files} log files; {self.kept_open} old conversations kept for "
                "their open ticket")


def run_retention(engine: Engine, *, days: int, now: datetime, audit: AuditRecorder,
                  log_dir: Path | None = None) -> RetentionRun:
    """Erases what is older than `days` before `now` (see the module's description)."""
    if days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = now - timedelta(days=days)
    holdings = Holdings(engine)
    with engine.begin() as connection:
        latest = holdings.last_activity(connection)
        old = sorted(cid for cid, at in latest.items() if at < cutoff)
        kept = _with_open_ticket(holdings, connection, old)
        erased_ids = [cid for cid in old if cid not in kept]
        rows = holdings.erase(connection, erased_ids)
        for name, count in _old_transport_and_logins(holdings, connection, cutoff,
                                                     now - MAX_IDLE).items():
            rows[name] = rows.get(name, 0) + count
        log_files = _old_log_files(log_dir, cutoff)
        run = RetentionRun(cutoff, len(erased_ids), len(kept),
                           {name: count for name, count in sorted(rows.items()) if count},
                           len(log_files))
        audit.record(RETENTION_ACTOR, RETENTION_ACTION, "retention", run.as_detail(),
                     connection=connection)
    for path in log_files:  # after the commit: a failed transaction deletes no file
        path.unlink(missing_ok=True)
    return run


def _with_open_ticket(holdings: Holdings, connection: Connection,
                      conversation_ids: list[str]) -> set[str]:
    tickets = holdings.table("handoff_tickets")
    if tickets is None:
        return set()
    kept: set[str] = set()
    for part in chunks(conversation_ids):
        query = select(tickets.c.conversation_id).where(
            tickets.c.conversation_id.in_(part), tickets.c.status == OPEN_TICKET)
        kept |= {row.conversation_id for row in connection.execute(query)}
    return kept


def _old_transport_and_logins(holdings: Holdings, connection: Connection,
                              cutoff: datetime, sessions_cutoff: datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    sessions = holdings.table("webchat_sessions")
    if sessions is not None:  # a cookie no browser can still hold
        counts["webchat_sessions"] = connection.execute(
            delete(sessions).where(sessions.c.last_seen_at < max(cutoff, sessions_cutoff))
        ).rowcount
    inbox, sends = holdings.table("messenger_inbox"), holdings.table("messenger_sends")
    sends_key = next(h for h in BY_PARENT if h.table == "messenger_sends")
    if inbox is not None:
        old_events = select(inbox.c.event_id).where(inbox.c.received_at < cutoff,
                                                     inbox.c.status != "pending")
        if sends is not None:
            counts["messenger_sends"] = connection.execute(
                delete(sends).where(sends.c[sends_key.column].in_(old_events))).rowcount
        counts["messenger_inbox"] = connection.execute(
            delete(inbox).where(inbox.c.received_at < cutoff,
                                inbox.c.status != "pending")).rowcount
    for name, column in (("desk_login_failures", "at"), ("desk_sessions", "last_seen_at")):
        table = holdings.table(name)
        if table is not None:
            counts[name] = connection.execute(
                delete(table).where(table.c[column] < cutoff)).rowcount
    return counts


def _old_log_files(log_dir: Path | None, cutoff: datetime) -> list[Path]:
    if log_dir is None or not log_dir.is_dir():
        return []
    limit = cutoff.timestamp()
    return sorted(path for path in log_dir.iterdir()
                  if path.is_file() and any(path.name.endswith(s) or f"{s}." in path.name
                                            for s in LOG_SUFFIXES)
                  and path.stat().st_mtime < limit)


@dataclass(frozen=True)
class RunSeen:
    """One retention run, as the audit log keeps it."""

    at: datetime
    conversations: int
    rows: int


def runs_between(engine: Engine, start: datetime, end: datetime) -> list[RunSeen]:
    """The retention runs audited in [start, end), oldest first."""
    table = AuditRow.__table__
    query = (select(table.c.at, table.c.detail)
             .where(table.c.action == RETENTION_ACTION, table.c.at >= start, table.c.at < end)
             .order_by(table.c.id))
    runs = []
    with engine.connect() as connection:
        for at, detail in connection.execute(query):
            try:
                facts = json.loads(detail or "{}")
            except ValueError:
                facts = {}
            rows = facts.get("rows") if isinstance(facts.get("rows"), dict) else {}
            runs.append(RunSeen(at, int(facts.get("conversations") or 0),
                                sum(int(v) for v in rows.values() if isinstance(v, int))))
    return runs


class RetentionSchedule:
    """Runs retention at start and then every `every` (as `nightdesk up` does), in a thread.

    Args:
        job: one run (it reads the clock and the settings itself).
        every: the pause between two runs.
        report: told each run's outcome line, or the failure (the job is tried again later).
    """

    def __init__(self, job: Callable[[], RetentionRun], every: timedelta,
                 report: Callable[[str], None]) -> None:
        self._job = job
        self._every = every
        self._report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)

    def start(self) -> None:
        """Starts the thread (the first run is now)."""
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Asks the thread to end, and waits for a run in progress."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._report(self._job().summary())
            except Exception as error:  # noqa: BLE001 - a failed run must not stop the bot
                self._report(f"Retention failed ({type(error).__name__}); trying again later")
            self._stop.wait(self._every.total_seconds())
