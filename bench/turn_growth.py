"""Does a turn cost more late in a conversation? The tracker store, the action call, the model.

Stock Rasa, each turn, retrieves the conversation from its tracker store (every event since
the session started: `session_expiration_time` is 60 minutes, so a busy hour is one
session), replays those events into a tracker, saves the new ones (after counting the
stored ones), and sends the action server the whole tracker and the domain as JSON. Ours
holds the tracker between turns (`bot.store.tracker_cache`) and hands Rasa a long
session's recent window (`bot.store.tracker_window`).

This builds conversations of 5, 50 and 200 turns of realistic events (the customer's
message with its parse data, the action, the bot's answer, a slot) in the product's own
tracker store (`ProductTrackerStore`, SQLite here, or BENCH_DATABASE_URL) and in Rasa's own
`SQLTrackerStore`, and prints for each length:
- the events in the tracker Rasa is handed, the time of a retrieve and of one turn's save
  (median of 15 turns added one by one: a conversation of 200 turns is measured from its
  200th to its 215th);
- the bytes of one action call, stock and ours;
- with a trained model in models/, the model's own next-action prediction on each tracker.

Run: `.venv/bin/python bench/turn_growth.py`. Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import logging
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
                  sender: str) -> tuple[int, float, float, DialogueStateTracker]:
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
    return (len(tracker.events), statistics.median(retrieves) * 1000,
            statistics.median(saves) * 1000, tracker)


def action_call(tracker: DialogueStateTracker, domain: Domain | None) -> int:
    """The bytes of one action call carrying `tracker` (and the domain when given)."""
    call = {"next_action": "action_order_status", "sender_id": tracker.sender_id,
            "tracker": tracker.current_state(EventVerbosity.ALL)}
    if domain is not None:
        call["domain"] = domain.as_dict()
    return len(json.dumps(call).encode())


async def predictions(trackers: dict[str, dict[int, DialogueStateTracker]]
                      ) -> dict[str, dict[int, float]] | None:
    """The model's own next-action prediction (every policy) on each tracker, in ms."""
    from rasa.core.agent import Agent
    from rasa.exceptions import ModelNotFound
    from rasa.model import get_local_model
    from rasa.utils.log_utils import configure_structlog

    try:
        model = get_local_model(str(PROJECT / "models"))  # the newest
    except ModelNotFound:
        return None
    configure_structlog(logging.WARNING)  # as a server does (the policies debug-log states)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    agent = Agent.load(model)
    figures: dict[str, dict[int, float]] = {}
    for label, by_length in trackers.items():
        figures[label] = {}
        for length, tracker in by_length.items():
            agent.processor.predict_next_with_tracker(tracker)  # the first call builds graphs
            times = []
            for _ in range(REPEATS):
                began = time.perf_counter()
                agent.processor.predict_next_with_tracker(tracker)
                times.append(time.perf_counter() - began)
            figures[label][length] = statistics.median(times) * 1000
    return figures


def stock_store(domain: Domain):  # noqa: ANN201
    """Rasa's own SQL tracker store on the same database."""
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["DATABASE_URL"])
    return SQLTrackerStore(domain=domain, dialect=url.drivername, host=url.host,
                           port=url.port, db=url.database, username=url.username,
                           password=url.password)


async def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="nightdesk-bench-growth-"))
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or (
        f"sqlite:///{home / 'trackers.db'}")
    from bot.store.tracker_store import ProductTrackerStore

    domain = Domain.load(str(PROJECT / "domain.yml"))
    trackers: dict[str, dict[int, DialogueStateTracker]] = {}
    stores = {"stock": stock_store(domain), "ours": ProductTrackerStore(domain=domain)}
    labels = {"stock": "Rasa's SQLTrackerStore (reads and replays the session each turn)",
              "ours": "ours (held between turns, a long session cut to its recent window)"}
    for name, store in stores.items():
        print(f"\n{labels[name]}, on {store.engine.dialect.name}; {REPEATS} turns at each "
              "length")
        print(f"{'turns':>6} {'events to Rasa':>15} {'retrieve':>10} {'save':>9}")
        trackers[name] = {}
        for length in LENGTHS:
            events, retrieve_ms, save_ms, tracker = await measure(
                store, domain, length, f"growth-{name}-{length}")
            trackers[name][length] = tracker
            print(f"{length:>6} {events:>15} {retrieve_ms:>8.2f}ms {save_ms:>7.2f}ms")

    print("\none action call, JSON: stock Rasa (the whole tracker and the domain) vs ours "
          "(the window; the domain only to the actions marked send_domain)")
    for length in LENGTHS:
        stock = action_call(trackers["stock"][length], domain)
        ours = action_call(trackers["ours"][length], None)
        print(f"{length:>6} turns {stock / 1024:>8.0f}KB {ours / 1024:>8.0f}KB "
              f"(x{stock / ours:.1f} smaller)")

    figures = await predictions(trackers)
    if figures is None:
        print("\nno trained model in models/: the prediction figures need one")
        return
    print(f"\nthe model's next-action prediction (every policy), median of {REPEATS}: "
          "Rasa featurizes the whole tracker it is given")
    print(f"{'turns':>6} {'stock':>9} {'ours':>9}")
    for length in LENGTHS:
        print(f"{length:>6} {figures['stock'][length]:>7.1f}ms "
              f"{figures['ours'][length]:>7.1f}ms")


if __name__ == "__main__":
    asyncio.run(main())
