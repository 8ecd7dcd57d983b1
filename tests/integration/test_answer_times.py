"""The handoff promise at fixed instants: the action server runs with its clock frozen there.

Each instant gets its own action server (its clock is set when the process starts), so the
promise a customer reads is checked at night, just before opening, in the lunch break, on a
Saturday, on a holiday eve and across the change to summer time, whatever hour CI runs at.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import text

from bot.runtime.processes import running_action_server
from bot.settings import load_settings
from bot.store import create_db_engine
from tests.integration.conftest import port, stack_environment
from tests.integration.test_action_server import call, tracker_before

pytestmark = pytest.mark.e2e

# (instant in Rome, the reply after the acknowledgement, what it promises in English and in
# Italian, when in UTC)
INSTANTS = {
    "night": ("2026-12-02T23:00:00+01:00", "utter_handoff_after_hours",
              "tomorrow at 9:00", "domani alle 9:00", "2026-12-03T08:00:00+00:00"),
    "before_opening": ("2026-12-03T08:57:00+01:00", "utter_handoff_after_hours",
                       "today at 9:27", "oggi alle 9:27", "2026-12-03T08:27:00+00:00"),
    "open": ("2026-12-03T10:00:00+01:00", "utter_handoff_open_now",
             "today at 10:30", "oggi alle 10:30", "2026-12-03T09:30:00+00:00"),
    "lunch_break": ("2026-12-03T13:20:00+01:00", "utter_handoff_after_hours",
                    "today at 14:00", "oggi alle 14:00", "2026-12-03T13:00:00+00:00"),
    "saturday_afternoon": ("2026-12-05T15:00:00+01:00", "utter_handoff_after_hours",
                           "on Monday at 9:00", "lunedì alle 9:00",
                           "2026-12-07T08:00:00+00:00"),
    "holiday_eve": ("2026-12-07T19:00:00+01:00", "utter_handoff_after_hours",
                    "on Wednesday at 9:00", "mercoledì alle 9:00", "2026-12-09T08:00:00+00:00"),
    "summer_time_weekend": ("2027-03-27T20:00:00+01:00", "utter_handoff_after_hours",
                            "on Monday at 9:00", "lunedì alle 9:00",
                            "2027-03-29T07:00:00+00:00"),
}


@pytest.fixture(scope="module", params=sorted(INSTANTS), ids=sorted(INSTANTS))
def frozen_action_server(request, tmp_path_factory) -> Iterator[tuple[str, Any, tuple]]:
    """An action server whose clock is frozen at one of `INSTANTS`."""
    name = request.param
    tmp = tmp_path_factory.mktemp(f"clock-{name}")
    environ = stack_environment(tmp, port(15107), port(15157),
                                NIGHTDESK_FROZEN_NOW=INSTANTS[name][0])
    settings = load_settings(environ)
    with running_action_server(settings, tmp / "actions.log"):
        yield settings.action_server_url, create_db_engine(settings.database_url), INSTANTS[name]


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_handoff_promise_follows_the_frozen_clock(frozen_action_server, language):
    url, engine, (_, reply, english, italian, answer_at) = frozen_action_server
    tracker = tracker_before("human_request", "action_handoff")
    tracker["sender_id"] = f"{tracker['sender_id']}-{language}"
    tracker["slots"]["language"] = language
    status, answer = call(url, "action_handoff", tracker)
    assert status == 200
    told = answer["responses"][1]
    promise = english if language == "en" else italian
    assert told["response"] == reply and told["answer_time"] == promise
    with engine.connect() as connection:
        row = connection.execute(text("select expected_answer_at from handoff_tickets "
                                      "where id = :id"), {"id": told["case_number"]}).one()
    expected = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
    expected = expected.replace(tzinfo=expected.tzinfo or timezone.utc)
    assert expected == datetime.fromisoformat(answer_at)
