"""The desk's people: roles, password hashing, the directory and its audit log, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.desk.agents import AgentDirectory, AgentError
from bot.desk.passwords import (
    WeakPasswordError,
    hash_password,
    one_time_password,
    verify_password,
)
from bot.desk.roles import Permission, Role
from bot.store import AgentRow
from bot.store.audit import AuditLog

PROJECT_DIR = Path(__file__).resolve().parents[3]
GOOD = "correct horse battery"


def test_roles_may_what_their_job_needs():
    assert Role.AGENT.may(Permission.WORK_TICKETS) and not Role.AGENT.may(Permission.TRAIN)
    assert Role.TRAINER.may(Permission.TRAIN) and not Role.TRAINER.may(Permission.WORK_TICKETS)
    assert Role.TRAINER.may(Permission.READ_TICKETS)
    assert not Role.AGENT.may(Permission.MANAGE_AGENTS)
    assert all(Role.ADMIN.may(p) for p in Permission)


def test_passwords_are_hashed_with_argon2id_and_checked():
    stored = hash_password(GOOD)
    assert stored.startswith("$argon2id$") and GOOD not in stored
    assert verify_password(stored, GOOD)
    assert not verify_password(stored, GOOD + "!")
    assert not verify_password(None, GOOD)  # no such login
    assert not verify_password("not a hash", GOOD)
    with pytest.raises(WeakPasswordError):
        hash_password("short")
    assert len({one_time_password() for _ in range(50)}) == 50
    assert len(one_time_password()) >= 20


def test_adding_and_logging_in(engine):
    directory = AgentDirectory(engine)
    anna = directory.add("Anna", "  Anna   Rossi ", "agent", GOOD, by="cli:root")
    assert (anna.login, anna.name, anna.role, anna.first_name) == (
        "anna", "Anna Rossi", Role.AGENT, "Anna")
    assert directory.authenticate("ANNA ", GOOD) == anna
    assert directory.authenticate("anna", "wrong password!!") is None
    assert directory.authenticate("nobody", GOOD) is None
    with engine.connect() as connection:
        stored = connection.execute(select(AgentRow.password_hash)).scalar_one()
    assert GOOD not in stored


@pytest.mark.parametrize(
    ("login", "name", "role", "password", "complaint"),
    [
        ("a", "Anna", "agent", GOOD, "2 to 64 characters"),
        ("anna rossi", "Anna", "agent", GOOD, "2 to 64 characters"),
        ("anna", "   ", "agent", GOOD, "a name is"),
        ("anna", "Anna", "boss", GOOD, "unknown role 'boss'"),
        ("anna", "Anna", "agent", "short", "at least 12 characters"),
    ],
)
def test_bad_people_are_refused_with_the_reason(engine, login, name, role, password, complaint):
    directory = AgentDirectory(engine)
    with pytest.raises(AgentError, match=complaint):
        directory.add(login, name, role, password, by="cli:root")
    assert directory.all() == []
    assert AuditLog(engine).recent() == []


def test_a_login_is_taken_once(engine):
    directory = AgentDirectory(engine)
    directory.add("marco", "Marco Bianchi", "trainer", GOOD, by="admin")
    with pytest.raises(AgentError, match="taken"):
        directory.add("Marco", "Another Marco", "agent", GOOD, by="admin")
    assert [a.name for a in directory.all()] == ["Marco Bianchi"]


def test_every_change_is_audited_without_the_password(engine):
    directory = AgentDirectory(engine)
    directory.add("lea", "Lea Verdi", "admin", GOOD, by="cli:root")
    directory.set_password("lea", "another long password", by="lea")
    directory.deactivate("lea", by="cli:root")
    entries = AuditLog(engine).recent(target="agent:lea")
    assert [(e.actor, e.action) for e in entries] == [
        ("cli:root", "agent.deactivate"), ("lea", "agent.password"), ("cli:root", "agent.add")]
    assert entries[-1].detail == {"role": "admin"}
    assert all("password" not in str(e.detail) for e in entries)
    assert directory.authenticate("lea", "another long password") is None  # deactivated
    assert not directory.any_admin()
    with pytest.raises(AgentError, match="no one has the login 'ghost'"):
        directory.deactivate("ghost", by="cli:root")


# ------------------------------------------------------------------ the CLI


def nightdesk(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "NIGHTDESK_HOME": str(PROJECT_DIR),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}"}
    return subprocess.run([sys.executable, "-m", "bot.cli", "agents", *args], input=stdin,
                          env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)


def test_the_cli_adds_lists_and_deactivates(tmp_path):
    added = nightdesk(tmp_path, "add", "giulia", "--name", "Giulia Neri", "--role", "agent")
    assert added.returncode == 0, added.stderr
    assert "Added Giulia Neri (giulia) as agent." in added.stdout
    password = added.stdout.split("One-time password (shown once, hand it over privately): ")[1]
    password = password.strip()
    from bot.store import create_db_engine

    directory = AgentDirectory(create_db_engine(f"sqlite:///{tmp_path / 'desk.db'}"))
    assert directory.authenticate("giulia", password).name == "Giulia Neri"

    chosen = nightdesk(tmp_path, "add", "paolo", "--name", "Paolo Rizzi", "--role", "admin",
                       "--password-stdin", stdin="a password of my own\n")
    assert chosen.returncode == 0 and "One-time password" not in chosen.stdout
    assert directory.authenticate("paolo", "a password of my own") is not None

    listing = nightdesk(tmp_path, "list")
    assert listing.stdout.splitlines() == [
        "giulia              agent    Giulia Neri", "paolo               admin    Paolo Rizzi"]
    assert nightdesk(tmp_path, "deactivate", "giulia").returncode == 0
    assert "(deactivated)" in nightdesk(tmp_path, "list").stdout
    actors = {e.actor for e in directory.audit.recent()}
    assert len(actors) == 1 and actors.pop().startswith("cli")


def test_the_cli_refuses_bad_input_clearly(tmp_path):
    taken = nightdesk(tmp_path, "add", "x1", "--name", "X", "--role", "agent")
    assert taken.returncode == 0
    again = nightdesk(tmp_path, "add", "x1", "--name", "Y", "--role", "agent")
    assert again.returncode == 2 and "the login 'x1' is taken" in again.stderr
    weak = nightdesk(tmp_path, "add", "x2", "--name", "Y", "--role", "agent",
                     "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "at least 12 characters" in weak.stderr
    role = nightdesk(tmp_path, "add", "x3", "--name", "Y", "--role", "boss")
    assert role.returncode == 2 and "invalid choice" in role.stderr
    assert nightdesk(tmp_path, "password", "ghost").returncode == 2
