"""Does a turn cost more late in a conversation? The tracker store and the action server's load.

Each turn Rasa retrieves the conversation from its tracker store (every event since the
session started: `session_expiration_time` is 60 minutes, so a busy hour is one session),
replays those events into a tracker, saves the new ones (after counting the stored ones),
and sends the action server the whole tracker as JSON. This builds conversations of 5, 50
and 200 turns of realistic events (the customer's message with its parse data, the action,
the bot's answer, a slot) in the product's own tracker store (`ProductTrackerStore`, SQLite
here, or BENCH_DATABASE_URL) and prints, for each length: events retrieved, the time of a
retrieve and of one turn's save (median of 15 turns added one by one, so a conversation of
200 turns is measured from its 200th to its 215th), and the size of the action server's
request after them.

Run: `.venv/bin/python bench/turn_growth.py`. Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity  # noqa: E402

LENGTHS = (5, 50, 200)
REPEATS = 15


def turn(number: int, at: float) -> list:
    """One turn: the customer's message as NLU read it, the action, the answer, a slot."""
    parse = {"text": f"where is my order 100{number % 90 + 10}?",
             "intent": {"name": "order_status", "confidence": 0.97},
             "entities": [{"entity": "order_number", "value": f"100{number % 90 + 10}",
                           "start": 18, "end": 23}],
             "intent_ranking": [{"name": "order_status", "confidence": 0.97},
                                {"name": "shipping_info", "confidence": 0.02}],
             "language": "en"}
    return [
        ActionExecuted("action_listen", timestamp=at),
        UserUttered(parse["text"], parse["intent"], parse["entities"], parse, timestamp=at + 0.1,
                    message_id=f"m_{number}"),
        SlotSet("order_number", parse["entities"][0]["value"], timestamp=at + 0.2),
        ActionExecuted("action_order_status", timestamp=at + 0.3),
        BotUttered("Your order is on its way with BRT: it should arrive on Thursday.",
                   {"elements": None, "quick_replies": None}, timestamp=at + 0.4),
    ]


async def measure(store, domain: Domain, length: int,
                  sender: str) -> tuple[int, float, float, int]:
    start = time.time() - 3000
    events = [ActionExecuted("action_session_start", timestamp=start),
              SessionStarted(timestamp=start + 0.01)]
    for number in range(length):
        events.extend(turn(number, start + 1 + number))
    await store.save(DialogueStateTracker.from_events(sender, events, domain.slots))
    retrieves, saves = [], []
    tracker = None
    for _ in range(REPEATS):
        began = time.perf_counter()
        tracker = await store.retrieve(sender)
        retrieves.append(time.perf_counter() - began)
        for event in turn(length, time.time()):
            tracker.update(event)
        began = time.perf_counter()
        await store.save(tracker)
        saves.append(time.perf_counter() - began)
    payload = len(json.dumps(tracker.current_state(EventVerbosity.ALL)).encode())
    return (len(tracker.events), statistics.median(retrieves) * 1000,
            statistics.median(saves) * 1000, payload)


async def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="nightdesk-bench-growth-"))
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{home / 'trackers.db'}")
    from bot.store.tracker_store import ProductTrackerStore

    domain = Domain.load(str(PROJECT / "domain.yml"))
    for held, label in ((0, "read from the database each turn (Rasa's way)"),
                        (64, "held between turns (TRACKER_CACHE_CONVERSATIONS)")):
        store = ProductTrackerStore(domain=domain, cached_conversations=held)
        print(f"\ntracker store on {store.engine.dialect.name}, {label}; "
              f"{REPEATS} turns at each length")
        print(f"{'turns':>6} {'events at the end':>18} {'retrieve':>10} {'save':>9} "
              f"{'to actions':>11}")
        for length in LENGTHS:
            events, retrieve_ms, save_ms, payload = await measure(
                store, domain, length, f"growth-{held}-{length}")
            print(f"{length:>6} {events:>18} {retrieve_ms:>8.2f}ms {save_ms:>7.2f}ms "
                  f"{payload / 1024:>9.0f}KB")


if __name__ == "__main__":
    asyncio.run(main())
