"""Telling the running Rasa server that a conversation is the bot's again.

A handed-off conversation is paused by the `handoff_case` slot; handing it back clears
that slot through Rasa's HTTP API (`POST /conversations/{id}/tracker/events`), so the
pause and its end are both recorded in the conversation's own history.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp

PAUSE_SLOTS_CLEARED = [
    {"event": "slot", "name": "handoff_case", "value": None},
    {"event": "slot", "name": "handoff_reminded", "value": False},
]


class RasaUnavailableError(RuntimeError):
    """The Rasa server did not accept the events."""


async def pause_bot(rasa_url: str, auth_token: str, conversation_id: str, case_number: int) -> None:
    """Pauses one conversation for a case opened outside the dialogue (e.g. by a channel).

    Raises:
        RasaUnavailableError: Rasa is down or refused.
    """
    events = [
        {"event": "slot", "name": "handoff_case", "value": str(case_number)},
        {"event": "slot", "name": "handoff_reminded", "value": False},
    ]
    await _post_events(rasa_url, auth_token, conversation_id, events)


async def resume_bot(rasa_url: str, auth_token: str, conversation_id: str) -> None:
    """Clears the pause slots of one conversation on the Rasa server.

    Raises:
        RasaUnavailableError: Rasa is down or refused (the ticket stays as it was recorded).
    """
    await _post_events(rasa_url, auth_token, conversation_id, PAUSE_SLOTS_CLEARED)


async def _post_events(
    rasa_url: str, auth_token: str, conversation_id: str, events: list[dict[str, object]]
) -> None:
    """Appends events to a conversation through Rasa's HTTP API."""
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='')}/tracker/events"
    params = {"token": auth_token, "include_events": "NONE"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            async with session.post(url, params=params, json=events) as response:
                if response.status != 200:
                    raise RasaUnavailableError(f"Rasa answered HTTP {response.status}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise RasaUnavailableError(f"Rasa unreachable: {type(error).__name__}") from error
