"""Desk sessions (cookie token, CSRF, expiry, logout) and the login rate limit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.desk.agents import AgentDirectory
from bot.desk.login_limit import LoginLimit
from bot.desk.sessions import SessionStore
from bot.store import DeskSessionRow

PASSWORD = "a long enough password"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_a_session_is_found_by_its_token_and_only_its_hash_is_stored(engine):
    agent = AgentDirectory(engine).add("anna", "Anna Rossi", "agent", PASSWORD, by="t")
    sessions = SessionStore(engine)
    token = sessions.open(agent, address="127.0.0.1")
    found = sessions.find(token)
    assert found is not None and found.agent == agent
    assert found.csrf_ok(found.csrf_token)
    assert not found.csrf_ok(found.csrf_token[:-1] + "x") and not found.csrf_ok(None)
    assert sessions.find(token + "x") is None and sessions.find(None) is None
    with engine.connect() as connection:
        stored = connection.execute(select(DeskSessionRow.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
    other = sessions.open(agent, address="127.0.0.1")
    assert sessions.find(other).csrf_token != found.csrf_token


def test_idle_old_closed_and_deactivated_sessions_do_not_count(engine):
    clock = Clock()
    directory = AgentDirectory(engine, clock)
    agent = directory.add("anna", "Anna Rossi", "agent", PASSWORD, by="t")
    sessions = SessionStore(engine, clock, idle_timeout=timedelta(hours=1),
                            max_age=timedelta(hours=3))
    idle = sessions.open(agent, address="127.0.0.1")
    clock.now += timedelta(minutes=61)
    assert sessions.find(idle) is None

    busy = sessions.open(agent, address="127.0.0.1")
    for _ in range(4):  # used every 50 minutes: never idle, but too old after 3 hours
        clock.now += timedelta(minutes=50)
        found = sessions.find(busy)
    assert found is None

    closed = sessions.open(agent, address="127.0.0.1")
    sessions.close(closed)
    assert sessions.find(closed) is None

    renewed = sessions.open(agent, address="127.0.0.1")
    directory.set_password("anna", "a brand new password", by="anna")
    assert sessions.find(renewed) is None  # a new password logs every browser out
    gone = sessions.open(agent, address="127.0.0.1")
    directory.deactivate("anna", by="admin")
    assert sessions.find(gone) is None


def test_a_login_is_locked_after_five_failures_from_one_address_twenty_from_any(engine):
    clock = Clock()
    limit = LoginLimit(engine, clock)
    for _ in range(4):
        limit.failed("anna", "10.0.0.1")
    assert not limit.blocked("Anna", "10.0.0.1")
    limit.failed("anna", "10.0.0.1")
    assert limit.blocked("anna", "10.0.0.1")  # guessing from that address waits
    assert not limit.blocked("anna", "10.0.0.9")  # not from another address
    assert not limit.blocked("marco", "10.0.0.1")  # nor her colleagues behind that address
    for n in range(15):
        limit.failed("anna", f"10.0.1.{n}")
    assert limit.blocked("anna", "10.0.0.9")  # from many addresses: whoever tries, it waits
    assert not limit.blocked("marco", "10.0.0.9")
    clock.now += timedelta(minutes=16)
    assert not limit.blocked("anna", "10.0.0.9")  # the window has passed


def test_an_address_is_locked_after_a_hundred_failures_of_any_logins(engine):
    limit = LoginLimit(engine)
    for n in range(99):
        limit.failed(f"user{n}", "10.6.6.6")
    assert not limit.blocked("someone", "10.6.6.6")
    limit.failed("user99", "10.6.6.6")
    assert limit.blocked("someone", "10.6.6.6") and not limit.blocked("someone", "10.0.0.1")


def test_a_correct_password_clears_the_logins_failures(engine):
    limit = LoginLimit(engine)
    for _ in range(4):
        limit.failed("anna", "10.0.0.1")
    limit.succeeded("ANNA")
    for _ in range(4):
        limit.failed("anna", "10.0.0.1")
    assert not limit.blocked("anna", "10.0.0.1")
