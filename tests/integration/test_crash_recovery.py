"""Crashes, end to end: kill -9 of the receiver, the action server and the Rasa server.

A stack of its own (receiver, action server, Rasa; SQLite; the fake Graph API) whose processes
this module kills and starts again, as a supervisor would. What must hold: every customer
message is answered exactly once (no reply sent twice, no turn run twice, nothing lost),
and while the bot is down each waiting customer gets one holding message and a case.
Small on purpose (tens of messages); the large figures are in bench/crash_recovery.py.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.orders.seed import seed_demo_shop
from bot.runtime.processes import (
    ManagedProcess,
    start_action_server,
    start_messenger_ingress,
    start_rasa_server,
    wait_until_ready,
)
from bot.settings import Settings, load_settings
from bot.store import create_db_engine
from tests import messenger_payloads as payloads
from tests.fakes.fake_graph import FakeGraphApi
from tests.integration.conftest import messenger_environment, port, stack_environment
from tests.integration.test_messenger_webhook import (
    matches,
    messages_to,
    post,
    quiet,
    rows,
    texts_to,
    wait_until,
)

pytestmark = pytest.mark.e2e

HOLDING = "utter_holding_message"


@dataclass
class CrashStack:
    """A stack whose processes the tests kill and start again."""

    settings: Settings
    environ: dict[str, str]
    log_dir: Path
    model: Path
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def start(self, name: str) -> float:
        """Starts one process and waits until it answers; the seconds it took."""
        starters = {
            "actions": lambda: start_action_server(self.settings, self.log_dir / "actions.log"),
            "rasa": lambda: start_rasa_server(self.settings, self.model,
                                              self.log_dir / "rasa.log"),
            "ingress": lambda: start_messenger_ingress(self.settings,
                                                       self.log_dir / "ingress.log"),
        }
        self.processes[name] = starters[name]()
        return wait_until_ready(self.processes[name], 400)

    def kill(self, name: str) -> None:
        """kill -9, and reaps it."""
        process = self.processes[name].process
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        for managed in reversed(list(self.processes.values())):
            managed.stop()


@pytest.fixture(scope="module")
def crash_stack(
    tmp_path_factory: pytest.TempPathFactory, model_path: Path, fake_graph: FakeGraphApi
) -> Iterator[CrashStack]:
    tmp = tmp_path_factory.mktemp("crash")
    environ = stack_environment(
        tmp, port(15505), port(15555), **messenger_environment(fake_graph, port(15506)),
        MESSENGER_HOLDING_AFTER_SECONDS="2",
    )
    settings = load_settings(environ)
    seed_demo_shop(create_db_engine(settings.database_url), settings.clock()())
    stack = CrashStack(settings, environ, tmp / "logs", model_path)
    try:
        for name in ("actions", "rasa", "ingress"):
            stack.start(name)
        yield stack
    finally:
        stack.stop()
        fake_graph.clear_failures()


def deliver(stack: CrashStack, body: dict[str, Any]) -> int:
    return post(stack, *payloads.signed(body))[0]  # type: ignore[arg-type]


def inbox_statuses(stack: CrashStack, psids: list[str]) -> Counter:
    found = rows(stack, "select conversation_id, status from messenger_inbox")  # type: ignore
    return Counter(row["status"] for row in found if row["conversation_id"] in psids)


def tracker_events(stack: CrashStack, psid: str) -> list[dict[str, Any]]:
    found = rows(stack, "select data from events where sender_id = :s order by id",  # type: ignore
                 s=psid)
    return [json.loads(row["data"]) for row in found]


def mid_turn(stack: CrashStack, graph: FakeGraphApi, psids: list[str]) -> bool:
    """Whether a conversation has been sent more bot texts than its tracker holds yet."""
    busy = {row["conversation_id"] for row in rows(  # type: ignore[arg-type]
        stack, "select conversation_id from messenger_inbox where status = 'processing'")}
    for psid in busy.intersection(psids):
        saved = [e for e in tracker_events(stack, psid) if e["event"] == "bot" and e.get("text")]
        if len(texts_to(graph, psid)) > len(saved):
            return True
    return False


def answers_are_exactly_once(stack: CrashStack, graph: FakeGraphApi, psid: str) -> None:
    """Every user message once in the tracker, and no more bot texts sent than it holds."""
    events = tracker_events(stack, psid)
    mids = [e.get("message_id") for e in events if e["event"] == "user"]
    assert len(mids) == len(set(mids)), f"a turn ran twice: {Counter(mids).most_common(2)}"
    bot_texts = [e["text"] for e in events if e["event"] == "bot" and e.get("text")]
    sent = [t for t in texts_to(graph, psid) if not matches([t], HOLDING)]
    assert len(sent) == len(bot_texts), (sent, bot_texts)


def test_the_receiver_killed_loses_nothing_and_metas_retries_are_answered_once(
    crash_stack: CrashStack, fake_graph: FakeGraphApi
):
    psid = payloads.new_psid()
    body = payloads.dm("hi, what are your shipping costs to Germany?", psid)
    crash_stack.kill("ingress")
    with pytest.raises(OSError):
        deliver(crash_stack, body)  # Meta sees no answer, and retries later
    crash_stack.start("ingress")
    assert deliver(crash_stack, body) == 200
    assert deliver(crash_stack, body) == 200  # Meta's retry of a delivery it saw time out
    wait_until(lambda: messages_to(fake_graph, psid), what="the answer")
    quiet(fake_graph, psid)
    assert inbox_statuses(crash_stack, [psid]) == Counter({"done": 1})
    answers_are_exactly_once(crash_stack, fake_graph, psid)


def test_the_action_server_killed_never_leaves_the_customer_in_silence(
    crash_stack: CrashStack, fake_graph: FakeGraphApi
):
    crash_stack.kill("actions")
    try:
        psid = payloads.new_psid()
        assert deliver(crash_stack, payloads.dm("where is my order 10023?", psid)) == 200
        wait_until(lambda: messages_to(fake_graph, psid), timeout=120, what="any answer")
        quiet(fake_graph, psid)
        texts = texts_to(fake_graph, psid)
        ticket = rows(crash_stack, "select reason from handoff_tickets where "  # type: ignore
                      "conversation_id = :c", c=psid)
        # either the dialogue still answered, or a person took over and the customer was told
        assert texts and (not matches(texts, HOLDING) or ticket)
    finally:
        crash_stack.start("actions")
    later = payloads.new_psid()
    assert deliver(crash_stack, payloads.dm("hello", later)) == 200
    wait_until(lambda: messages_to(fake_graph, later), timeout=120, what="the bot is back")


def test_rasa_killed_mid_load_answers_every_message_exactly_once_with_a_holding_message(
    crash_stack: CrashStack, fake_graph: FakeGraphApi
):
    psids = [payloads.new_psid() for _ in range(8)]
    words = ["hi", "how long does shipping to Italy take?", "thanks!"]
    start = payloads.now_ms(600)
    bodies = [payloads.dm(text, psid, start + number * 1000 + index)
              for number, text in enumerate(words) for index, psid in enumerate(psids)]
    fake_graph.fail_next(200, None, delay=0.4, path="me/messages")  # slow sends: long turns
    for body in bodies:
        assert deliver(crash_stack, body) == 200
        assert deliver(crash_stack, body) == 200  # every delivery arrives twice
    # the kill lands in the middle of turns: replies sent, the turn not yet saved by Rasa
    wait_until(lambda: inbox_statuses(crash_stack, psids)["done"] >= 2
               and mid_turn(crash_stack, fake_graph, psids), timeout=300,
               what="a turn that has sent a reply and is not finished")
    crash_stack.kill("rasa")
    killed_at = time.monotonic()
    fake_graph.clear_failures()
    waiting = [p for p in psids if inbox_statuses(crash_stack, [p])["done"] < len(words)]
    # the receiver, still up, tells the waiting customers while the bot is down
    wait_until(lambda: all(matches(texts_to(fake_graph, p), HOLDING) for p in waiting),
               timeout=60, what="a holding message for each waiting customer")
    crash_stack.start("rasa")
    wait_until(lambda: inbox_statuses(crash_stack, psids)["done"] == len(bodies),
               timeout=300, what="every message answered after the restart")
    print(f"kill -9 to every message answered: {time.monotonic() - killed_at:.1f} s")
    for psid in psids:
        quiet(fake_graph, psid, 1.0)
    assert inbox_statuses(crash_stack, psids) == Counter({"done": len(bodies)})
    for psid in psids:
        answers_are_exactly_once(crash_stack, fake_graph, psid)
        holding = [t for t in texts_to(fake_graph, psid) if matches([t], HOLDING)]
        assert len(holding) == (1 if psid in waiting else 0)


def junk_body(senders: list[str], first_ms: int, count: int) -> dict[str, Any]:
    """One body carrying `count` junk DMs spread over `senders`."""
    body = payloads.dm("placeholder", senders[0], first_ms)
    template = body["entry"][0]["messaging"][0]
    items = []
    for number in range(count):
        item = json.loads(json.dumps(template))
        item["sender"]["id"] = senders[number % len(senders)]
        item["timestamp"] = first_ms + number
        item["message"]["mid"] = f"m_junk_{uuid.uuid4().hex}"
        item["message"]["text"] = JUNK[number % len(JUNK)]
        items.append(item)
    body["entry"][0]["messaging"] = items
    return body


JUNK = ["asdfgh jkl", "🤖🤖🤖🤖", "qwe rty uio pas", "zzzzzzzz", "x" * 300, "?????", "kkkkk lol"]


def test_a_new_customer_is_answered_before_a_backlog_of_a_thousand_junk_messages(
    crash_stack: CrashStack, fake_graph: FakeGraphApi
):
    # more flooding senders than the Rasa process has workers (8)
    floods = [payloads.new_psid() for _ in range(12)]
    first = payloads.now_ms(1800)
    for number in range(20):  # 20 bodies of 50 events: 1,000 junk messages
        assert deliver(crash_stack, junk_body(floods, first + number * 100, 50)) == 200
    customer = payloads.new_psid()
    assert deliver(crash_stack, payloads.dm("hi, where is my order 10023?", customer,
                                            first + 5000)) == 200
    wait_until(lambda: messages_to(fake_graph, customer), timeout=300, what="the new customer")
    junk_done = inbox_statuses(crash_stack, floods)["done"]
    # the bound: answered before a tenth of the backlog was (it waited for all of it before)
    assert junk_done < 100, junk_done


def test_a_message_of_120000_characters_is_answered_and_kept_whole(
    crash_stack: CrashStack, fake_graph: FakeGraphApi
):
    psid = payloads.new_psid()
    text = ("Buonasera, vi scrivo per il mio ordine 10023 che non è ancora arrivato. " * 1700
            )[:120_000]
    body = payloads.dm(text, psid)
    assert len(json.dumps(body)) < 256 * 1024
    assert deliver(crash_stack, body) == 200
    # the bot's own answer (a holding message may come first when the bot is behind)
    wait_until(lambda: any(e["event"] == "user" for e in tracker_events(crash_stack, psid)),
               timeout=180, what="the message in the conversation")
    wait_until(lambda: messages_to(fake_graph, psid), timeout=120, what="an answer")
    (said,) = [e["text"] for e in tracker_events(crash_stack, psid) if e["event"] == "user"]
    assert said == text  # NLU read the first 2,000 characters; the conversation keeps it all
    later = payloads.new_psid()
    assert deliver(crash_stack, payloads.dm("ciao", later)) == 200
    wait_until(lambda: messages_to(fake_graph, later), timeout=60, what="the bot still answers")
