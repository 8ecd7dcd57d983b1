"""Claims: one agent per ticket, the second claim refused with who holds it, races included."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.desk.agents import AgentDirectory
from bot.desk.claims import ClaimBook, ClaimError
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, TicketService
from bot.hours import OfficeCalendar
from bot.settings import get_brand
from bot.store.audit import AuditLog

PASSWORD = "a long enough password"


@pytest.fixture()
def world(engine):
    tickets = TicketService(engine, OfficeCalendar.from_brand(get_brand()), timedelta(minutes=30))
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-1", channel="messenger", reason=HandoffReason.COMPLAINT,
        transcript=[], customer_name="Piera",
    )).case_number
    directory = AgentDirectory(engine)
    people = {login: directory.add(login, name, role, PASSWORD, by="test") for login, name, role
              in (("anna", "Anna Rossi", "agent"), ("marco", "Marco Bianchi", "agent"),
                  ("lea", "Lea Verdi", "admin"))}
    return ClaimBook(engine), tickets, case, people, engine


def test_one_agent_holds_a_ticket_and_the_second_is_told_who(world):
    book, _, case, people, engine = world
    claim = book.claim(case, people["anna"])
    assert (claim.login, claim.name) == ("anna", "Anna Rossi")
    with pytest.raises(ClaimError, match=f"case #{case} is already claimed by Anna Rossi"):
        book.claim(case, people["marco"])
    with pytest.raises(ClaimError, match="already claimed by you"):
        book.claim(case, people["anna"])
    assert book.holder(case).login == "anna"
    assert [e.action for e in AuditLog(engine).recent(target=f"ticket:{case}")] == [
        "ticket.claim"]


def test_only_the_holder_or_an_admin_gives_it_back(world):
    book, _, case, people, engine = world
    book.claim(case, people["anna"])
    with pytest.raises(ClaimError, match="claimed by Anna Rossi, not by you"):
        book.unclaim(case, people["marco"])
    book.unclaim(case, people["lea"], force=True)
    assert book.holder(case) is None
    with pytest.raises(ClaimError, match="is not claimed"):
        book.unclaim(case, people["anna"])
    book.claim(case, people["marco"])
    book.unclaim(case, people["marco"])
    entries = AuditLog(engine).recent(target=f"ticket:{case}")
    assert entries[-2].detail == {"held_by": "anna"} and entries[-2].actor == "lea"


def test_unknown_and_closed_cases_cannot_be_claimed(world):
    book, tickets, case, people, _ = world
    with pytest.raises(ClaimError, match="there is no case #9999"):
        book.claim(9999, people["anna"])
    tickets.hand_back(case, by="anna")
    with pytest.raises(ClaimError, match="not open"):
        book.claim(case, people["anna"])


def test_two_claims_at_the_same_moment_one_wins(world):
    book, _, case, people, _ = world
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def try_claim(login: str) -> None:
        start.wait()
        try:
            book.claim(case, people[login])
            outcomes[login] = "won"
        except ClaimError as error:
            outcomes[login] = str(error)

    threads = [threading.Thread(target=try_claim, args=(login,)) for login in ("anna", "marco")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values())[-1] == "won"
    assert list(outcomes.values()).count("won") == 1
    loser = next(login for login, outcome in outcomes.items() if outcome != "won")
    assert "already claimed by" in outcomes[loser]
    assert book.holder(case).login != loser
