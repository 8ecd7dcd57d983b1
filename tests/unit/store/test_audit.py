"""Each audited change and its audit entry are committed together, or neither is.

For the stores that write their own entry (sessions, tickets, the trainers' marks): the entry
names who did it; a change that is refused leaves no entry; and when writing the entry fails,
the change is rolled back with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.desk.agents import AgentDirectory
from bot.desk.sessions import SessionStore
from bot.handoff.reasons import HandoffReason, Priority
from bot.handoff.tickets import HandoffRequest, TicketError, TicketService
from bot.hours import OfficeCalendar
from bot.store import DeskSessionRow, TrainerMarkRow
from bot.store.audit import AuditLog
from bot.trainer.review import ReviewInbox
from bot.trainer.settings import TrainerSettings

PASSWORD = "a long enough password"
WRITTEN = datetime(2026, 11, 22, 22, 0, tzinfo=timezone.utc)


class AuditDown(RuntimeError):
    """The audit entry could not be written."""


def _break_audit(monkeypatch) -> None:
    """From now on every audit entry is written, then the write fails."""
    record = AuditLog.record

    def written_then_failed(self, *args, **kwargs):
        record(self, *args, **kwargs)
        raise AuditDown("the audit log is down")

    monkeypatch.setattr(AuditLog, "record", written_then_failed)


def _actions(engine, target: str) -> list[tuple[str, str]]:
    return [(entry.actor, entry.action) for entry in AuditLog(engine).recent(target=target)]


def _count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _tickets(engine, brand) -> TicketService:
    return TicketService(engine, OfficeCalendar.from_brand(brand), timedelta(minutes=30))


def _open_case(tickets: TicketService, conversation: str = "c-audit") -> int:
    return tickets.open_ticket(HandoffRequest(
        conversation_id=conversation, channel="messenger", customer_name="Ugo",
        reason=HandoffReason.HUMAN_REQUEST, transcript=[],
    )).case_number


def _anna(engine):
    return AgentDirectory(engine).add("anna", "Anna Rossi", "agent", PASSWORD, by="test")


def test_a_login_is_audited_with_its_address_in_the_sessions_transaction(engine):
    agent = _anna(engine)
    sessions = SessionStore(engine)
    token = sessions.open(agent, address="10.0.0.7")
    assert sessions.find(token) is not None
    (entry,) = [e for e in AuditLog(engine).recent() if e.action == "session.login"]
    assert (entry.actor, entry.target, entry.detail) == (
        "anna", "agent:anna", {"address": "10.0.0.7"})


def test_a_login_whose_audit_entry_fails_opens_no_session(engine, monkeypatch):
    agent = _anna(engine)
    _break_audit(monkeypatch)
    with pytest.raises(AuditDown):
        SessionStore(engine).open(agent, address="10.0.0.7")
    assert _count(engine, DeskSessionRow.__table__) == 0
    assert ("anna", "session.login") not in _actions(engine, "agent:anna")


def test_a_logout_is_audited_under_the_sessions_agent(engine):
    agent = _anna(engine)
    sessions = SessionStore(engine)
    token = sessions.open(agent, address="10.0.0.7")
    sessions.close(token)
    sessions.close(token)  # already closed: nothing more to record
    sessions.close("not a token")
    assert sessions.find(token) is None
    assert _actions(engine, "agent:anna")[:2] == [("anna", "session.logout"),
                                                   ("anna", "session.login")]
    assert [a for _, a in _actions(engine, "agent:anna")].count("session.logout") == 1


def test_a_logout_whose_audit_entry_fails_keeps_the_session(engine, monkeypatch):
    agent = _anna(engine)
    sessions = SessionStore(engine)
    token = sessions.open(agent, address="10.0.0.7")
    _break_audit(monkeypatch)
    with pytest.raises(AuditDown):
        sessions.close(token)
    assert sessions.find(token) is not None
    assert ("anna", "session.logout") not in _actions(engine, "agent:anna")


def test_a_priority_change_is_audited_with_who_and_what(engine, brand):
    tickets = _tickets(engine, brand)
    case = _open_case(tickets)
    tickets.set_priority(case, Priority.URGENT, by="anna")
    (entry,) = AuditLog(engine).recent(target=f"ticket:{case}")
    assert (entry.actor, entry.action, entry.detail) == (
        "anna", "ticket.priority", {"from": "normal", "to": "urgent"})


def test_a_refused_or_failed_priority_change_leaves_no_entry(engine, brand, monkeypatch):
    tickets = _tickets(engine, brand)
    case = _open_case(tickets)
    with pytest.raises(TicketError):
        tickets.set_priority(999999, Priority.URGENT, by="anna")
    assert AuditLog(engine).recent() == []
    _break_audit(monkeypatch)
    with pytest.raises(AuditDown):
        tickets.set_priority(case, Priority.URGENT, by="anna")
    assert tickets.get(case).priority is Priority.NORMAL
    assert AuditLog(engine).recent(target=f"ticket:{case}") == []


@pytest.mark.parametrize(("resolved", "action"), [(False, "ticket.handback"),
                                                  (True, "ticket.resolve")])
def test_a_hand_back_is_audited_in_its_transaction(engine, brand, resolved, action):
    tickets = _tickets(engine, brand)
    case = _open_case(tickets)
    tickets.hand_back(case, by="anna", resolved=resolved)
    assert _actions(engine, f"ticket:{case}") == [("anna", action)]
    with pytest.raises(TicketError, match="not open"):
        tickets.hand_back(case, by="marco", resolved=resolved)
    assert _actions(engine, f"ticket:{case}") == [("anna", action)]


def test_a_hand_back_whose_audit_entry_fails_leaves_the_case_open(engine, brand, monkeypatch):
    tickets = _tickets(engine, brand)
    case = _open_case(tickets)
    _break_audit(monkeypatch)
    with pytest.raises(AuditDown):
        tickets.hand_back(case, by="anna", resolved=True)
    assert tickets.get(case).status == "open"
    assert AuditLog(engine).recent(target=f"ticket:{case}") == []


def _inbox(engine) -> ReviewInbox:
    return ReviewInbox(engine, TrainerSettings(), clock=lambda: WRITTEN,
                       languages=("it", "en"))


def test_a_mark_for_training_is_audited_on_its_ticket_and_line(engine):
    inbox = _inbox(engine)
    inbox.mark("c-mark", WRITTEN, "can you gift wrap it?", by="anna", case_number=7, line=2)
    inbox.mark("c-other", WRITTEN, "gift wrap?", by="tina")
    (entry,) = AuditLog(engine).recent(target="ticket:7")
    assert (entry.actor, entry.action, entry.detail) == (
        "anna", "ticket.mark_for_training", {"line": 2})
    assert _actions(engine, "review") == [("tina", "review.mark")]
    assert _count(engine, TrainerMarkRow.__table__) == 2


def test_a_mark_whose_audit_entry_fails_is_not_kept(engine, monkeypatch):
    inbox = _inbox(engine)
    _break_audit(monkeypatch)
    with pytest.raises(AuditDown):
        inbox.mark("c-mark", WRITTEN, "can you gift wrap it?", by="anna", case_number=7, line=2)
    assert _count(engine, TrainerMarkRow.__table__) == 0
    assert AuditLog(engine).recent() == []
