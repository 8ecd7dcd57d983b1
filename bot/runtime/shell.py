"""`nightdesk shell`: a terminal chat with the running bot through its REST channel.

Buttons (quick replies) are shown numbered; typing the number sends that choice.
Passing `--name` sends the first name in the message metadata, as Messenger would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def send(
    rasa_url: str, sender: str, text: str, first_name: str | None, language: str | None = None,
    *, token: str | None = None,
) -> list[dict[str, Any]]:
    """Sends one message to the REST channel and returns the bot's replies.

    `language` is the channel's hint for a new conversation's language (as the web chat
    page sends its own); the customer's words decide after that. `token` is the REST
    channel's secret (REST_CHANNEL=token), sent as a bearer token.
    """
    body: dict[str, Any] = {"sender": sender, "message": text}
    metadata = {key: value for key, value in (("first_name", first_name),
                                               ("language", language)) if value}
    if metadata:
        body["metadata"] = metadata
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"[]")


def render(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Prints the replies; returns the buttons offered by the last one."""
    buttons: list[dict[str, str]] = []
    for reply in replies:
        if reply.get("text"):
            print(f"Bot: {reply['text']}")
        buttons = reply.get("buttons") or []
        for number, button in enumerate(buttons, start=1):
            print(f"     [{number}] {button.get('title')}")
    return buttons


def _refusal(error: urllib.error.HTTPError) -> str:
    try:
        said = json.loads(error.read() or b"{}").get("error")
    except (ValueError, AttributeError):
        said = None
    return f"HTTP {error.code}" + (f": {said}" if isinstance(said, str) else "")


def run_shell(rasa_url: str, first_name: str | None, sender: str | None,
              token: str | None = None) -> int:
    """The interactive loop; ends on an empty line with Ctrl-D, or on Ctrl-C."""
    sender = sender or f"shell-{uuid.uuid4().hex[:8]}"
    print(f"Talking to {rasa_url} as conversation {sender}. Ctrl-D or Ctrl-C to leave.")
    buttons: list[dict[str, str]] = []
    while True:
        try:
            text = input("You: ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            buttons = render(send(rasa_url, sender, text, first_name, token=token))
        except urllib.error.HTTPError as error:
            print(f"The REST channel refused the message ({_refusal(error)}); see REST_CHANNEL "
                  "in .env.")
            return 1
        except (urllib.error.URLError, ConnectionError) as error:
            print(f"The bot is not reachable at {rasa_url} ({error}). Is `make run` running?")
            return 1
