"""The outbound half of the Messenger channel: an aiohttp client for Meta's Graph API.

It speaks the real Messenger Platform HTTP shapes (Send API, private and public replies to
comments, user profile, Handover Protocol, Messenger Profile) against any base URL, so the
same code talks to ``https://graph.facebook.com`` and to the local fake in
:mod:`tests.fakes.fake_graph`.

:class:`GraphClient` holds the Send API, profile and Messenger Profile calls; the replies to
comments are in :mod:`bot.messenger.graph_comments`, thread control in
:mod:`bot.messenger.graph_handover`, and how every call is sent, retried and checked in their
base, :class:`bot.messenger.graph_http.GraphHttp`. Graph's limits are in
:mod:`bot.messenger.graph_limits`, the pieces of Send API bodies in
:mod:`bot.messenger.send_payloads` and :mod:`bot.messenger.message_text`.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

from bot.messenger.graph_answers import SentMessage, from_id, graph_items, graph_time, same_text
from bot.messenger.graph_comments import CommentReplyCalls
from bot.messenger.graph_errors import Check, CheckFailed, GraphSendError
from bot.messenger.graph_handover import HandoverCalls
from bot.messenger.graph_limits import (
    CHECK_MESSAGES,
    CLOCK_SKEW_SECONDS,
    MAX_BUTTON_TEMPLATE_TEXT,
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    MAX_ELEMENT_SUBTITLE,
    MAX_ELEMENT_TITLE,
    MEDIA_TYPES,
    PROFILE_FIELDS,
    PROFILE_TTL_SECONDS,
    SENDER_ACTIONS,
)
from bot.messenger.graph_pause import GraphPause
from bot.messenger.message_text import shorten, split_text
from bot.messenger.send_payloads import button_item, quick_reply_items, send_body

logger = logging.getLogger(__name__)

_PROFILE_CACHE_SIZE = 10_000
_SENT_IDS_KEPT = 1000


class GraphClient(CommentReplyCalls, HandoverCalls):
    """A Graph API client for one Facebook Page.

    One aiohttp session is opened on the first call and closed by :meth:`close` (or by
    leaving ``async with``). Safe to share between concurrent conversations.

    Args:
        profile_ttl_seconds: how long a user profile stays cached; the other arguments are
            the HTTP core's (:class:`bot.messenger.graph_http.GraphHttp`: the URL, token and
            version, attempts and backoff, time limits, app secret, page id and the
            rate-limit pause).
    """

    def __init__(
        self,
        base_url: str,
        page_access_token: str,
        api_version: str = "v19.0",
        max_attempts: int = 4,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 10,
        *,
        max_backoff_seconds: float = 30.0,
        profile_ttl_seconds: float = PROFILE_TTL_SECONDS,
        app_secret: str | None = None,
        page_id: str | None = None,
        pause: GraphPause | None = None,
    ) -> None:
        super().__init__(
            base_url,
            page_access_token,
            api_version,
            max_attempts,
            backoff_seconds,
            timeout_seconds,
            max_backoff_seconds=max_backoff_seconds,
            app_secret=app_secret,
            page_id=page_id,
            pause=pause,
        )
        self.profile_ttl_seconds = profile_ttl_seconds
        self._profiles: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._sent_ids: OrderedDict[str, None] = OrderedDict()
        """Ids of messages Graph confirmed, so a check never takes one of them for a retry's."""

    async def __aenter__(self) -> GraphClient:
        """The client itself; the session still opens lazily."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Closes the session."""
        await self.close()

    # ----------------------------------------------------------------- Send API

    async def send_text(
        self,
        psid: str,
        text: str,
        quick_replies: list[tuple[str, str]] | None = None,
        tag: str | None = None,
        *,
        messaging_type: str = "RESPONSE",
    ) -> list[str]:
        """Sends a text, split into several messages when longer than 2000 characters.

        Args:
            psid: the customer's page-scoped id.
            text: the text; split at paragraph, line, sentence or word boundaries.
            quick_replies: (title, payload) pairs, put on the last message only; at most 13
                are sent, titles are cut to 20 characters and payloads to 1000.
            tag: a message tag (``HUMAN_AGENT`` for a person answering after 24 hours);
                sets `messaging_type` to MESSAGE_TAG. Never for bot messages.
            messaging_type: RESPONSE (the default) or UPDATE when there is no tag.

        Returns:
            The message ids, one per part.

        Raises:
            GraphSendError: a part could not be sent; `sent_message_ids` holds the ids of
                the parts sent before it.
            ValueError: empty text or a malformed quick reply.
        """
        parts = split_text(text)
        replies = quick_reply_items(quick_replies) if quick_replies else []
        ids: list[str] = []
        for number, part in enumerate(parts, start=1):
            message: dict[str, Any] = {"text": part}
            if replies and number == len(parts):
                message["quick_replies"] = replies
            body = send_body({"id": psid}, message, tag, messaging_type)
            try:
                ids.append((await self._send(body)).message_id)
            except GraphSendError as error:
                error.sent_message_ids = list(ids)
                raise
        return ids

    async def send_buttons(
        self,
        psid: str,
        text: str,
        buttons: list[dict[str, Any]],
        *,
        tag: str | None = None,
        messaging_type: str = "RESPONSE",
    ) -> str:
        """Sends a button template: a text (cut to 640 characters) with 1 to 3 buttons.

        Args:
            psid: the customer's page-scoped id.
            text: the text above the buttons.
            buttons: Messenger button objects, for example ``{"type": "postback", "title":
                "Talk to a person", "payload": "/handoff"}`` or ``{"type": "web_url",
                "title": "Track", "url": "https://..."}``; titles are cut to 20 characters.
            tag: a message tag, as for :meth:`send_text`.
            messaging_type: as for :meth:`send_text`.

        Returns:
            The message id.

        Raises:
            ValueError: no buttons, more than 3, or a button without a type.
            GraphSendError: Graph refused the message or could not be reached.
        """
        if not buttons or len(buttons) > MAX_BUTTONS:
            raise ValueError(f"a button template needs 1 to {MAX_BUTTONS} buttons")
        if not text.strip():
            raise ValueError("a button template needs a text")
        payload = {
            "template_type": "button",
            "text": shorten(text.strip(), MAX_BUTTON_TEMPLATE_TEXT),
            "buttons": [button_item(button) for button in buttons],
        }
        message = {"attachment": {"type": "template", "payload": payload}}
        body = send_body({"id": psid}, message, tag, messaging_type)
        return (await self._send(body)).message_id

    async def send_order_card(
        self,
        psid: str,
        title: str,
        subtitle: str,
        image_url: str | None,
        tracking_url: str,
        *,
        button_title: str = "Track order",
        tag: str | None = None,
        messaging_type: str = "RESPONSE",
    ) -> str:
        """Sends an order as a generic template: image, title, subtitle and a tracking button.

        Args:
            psid: the customer's page-scoped id.
            title: for example "Order 20001"; cut to 80 characters.
            subtitle: for example "Shipped with DHL, arrives Tuesday"; cut to 80 characters.
            image_url: a product image, or None for a card without an image.
            tracking_url: where the one ``web_url`` button leads.
            button_title: the button's label, cut to 20 characters.
            tag: a message tag, as for :meth:`send_text`.
            messaging_type: as for :meth:`send_text`.

        Returns:
            The message id.

        Raises:
            GraphSendError: Graph refused the message or could not be reached.
        """
        element: dict[str, Any] = {"title": shorten(title.strip(), MAX_ELEMENT_TITLE)}
        if subtitle.strip():
            element["subtitle"] = shorten(subtitle.strip(), MAX_ELEMENT_SUBTITLE)
        if image_url:
            element["image_url"] = image_url
        element["buttons"] = [
            {
                "type": "web_url",
                "url": tracking_url,
                "title": shorten(button_title, MAX_BUTTON_TITLE),
            }
        ]
        payload = {"template_type": "generic", "elements": [element]}
        message = {"attachment": {"type": "template", "payload": payload}}
        body = send_body({"id": psid}, message, tag, messaging_type)
        return (await self._send(body)).message_id

    async def send_media(
        self,
        psid: str,
        media_type: str,
        url: str,
        *,
        tag: str | None = None,
        messaging_type: str = "RESPONSE",
    ) -> str:
        """Sends an image, audio, video or file by URL.

        Returns:
            The message id.

        Raises:
            ValueError: an unknown media type or an empty URL.
            GraphSendError: Graph refused the message or could not be reached.
        """
        if media_type not in MEDIA_TYPES:
            raise ValueError(f"unknown media type {media_type!r}")
        if not url.strip():
            raise ValueError("a media message needs a URL")
        message = {"attachment": {"type": media_type, "payload": {"url": url.strip()}}}
        body = send_body({"id": psid}, message, tag, messaging_type)
        return (await self._send(body)).message_id

    async def sender_action(self, psid: str, action: str) -> None:
        """Shows `mark_seen`, `typing_on` or `typing_off` to the customer.

        Raises:
            ValueError: an unknown action.
            GraphSendError: Graph refused the call or could not be reached.
        """
        if action not in SENDER_ACTIONS:
            raise ValueError(f"unknown sender action {action!r}")
        await self._call("POST", "me/messages", "sender_action",
                         json={"recipient": {"id": psid}, "sender_action": action})

    async def _send(self, body: dict[str, Any], operation: str = "send") -> SentMessage:
        """POSTs a Send API message to a PSID (not idempotent) and reads Graph's answer."""
        answer = await self._call("POST", "me/messages", operation, json=body,
                                  idempotent=False, check=self._delivery_check(body))
        sent = SentMessage(str(answer.get("recipient_id", "")), str(answer.get("message_id", "")))
        if sent.message_id:
            self._sent_ids[sent.message_id] = None
            while len(self._sent_ids) > _SENT_IDS_KEPT:
                self._sent_ids.popitem(last=False)
        return sent

    def _delivery_check(self, body: dict[str, Any]) -> Check | None:
        """The "did it land?" check of a Send API text; None for what has no text to compare.

        It reads the page's conversation with the customer through the Conversations API and
        looks, among the most recent messages, for one from the page with the same text,
        created since the first attempt began (less :data:`CLOCK_SKEW_SECONDS`) and not one
        Graph already confirmed to this client.
        """
        psid = str((body.get("recipient") or {}).get("id") or "")
        text = (body.get("message") or {}).get("text")
        if not psid or not isinstance(text, str) or not text.strip():
            return None

        async def check(started: float) -> dict[str, Any] | None:
            page_id = await self._known_page_id()
            answer = await self._read(
                "me/conversations", "send check",
                {"platform": "messenger", "user_id": psid,
                 "fields": f"messages.limit({CHECK_MESSAGES}){{id,message,from,created_time}}"},
                personal=(psid, text),
            )
            since = int(started) - CLOCK_SKEW_SECONDS
            for conversation in graph_items(answer):
                for message in graph_items(conversation.get("messages")):
                    message_id = str(message.get("id") or "")
                    created = graph_time(message.get("created_time"))
                    if (from_id(message) == page_id and same_text(message.get("message"), text)
                            and created is not None and created >= since
                            and message_id not in self._sent_ids):
                        return {"recipient_id": psid, "message_id": message_id}
            return None

        return check

    # ----------------------------------------------------------------- profile

    async def text_landed(self, psid: str, text: str, since: float) -> bool | None:
        """Whether the page sent `text` to the customer since `since` (epoch seconds).

        For a message whose outcome is unknown because the process that sent it died (the
        same Conversations API read as the check before a retry).

        Returns:
            True when Graph shows the message, False when it does not, None when Graph could
            not be asked.
        """
        check = self._delivery_check({"recipient": {"id": psid}, "message": {"text": text}})
        if check is None:
            return None
        try:
            return await check(since) is not None
        except CheckFailed as error:
            logger.warning("Graph send check failed: %s", error)
            return None

    async def user_profile(self, psid: str) -> dict[str, Any]:
        """The customer's first name, last name and picture URL, cached for 24 hours.

        Returns:
            A copy of Graph's answer, for example ``{"first_name": "Anna", "last_name":
            "Rossi", "profile_pic": "https://...", "id": "..."}``; fields the customer does not
            share are missing.

        Raises:
            GraphSendError: Graph refused the call or could not be reached (not cached).
        """
        now = time.monotonic()
        cached = self._profiles.get(psid)
        if cached is not None and cached[0] > now:
            self._profiles.move_to_end(psid)
            return dict(cached[1])
        answer = await self._call(
            "GET", quote(psid, safe=""), "profile", params={"fields": PROFILE_FIELDS},
            personal=(psid,),
        )
        self._profiles[psid] = (time.monotonic() + self.profile_ttl_seconds, dict(answer))
        self._profiles.move_to_end(psid)
        while len(self._profiles) > _PROFILE_CACHE_SIZE:
            self._profiles.popitem(last=False)
        return dict(answer)

    def forget_profile(self, psid: str) -> None:
        """Drops one cached profile (for example when the customer asks to be forgotten)."""
        self._profiles.pop(psid, None)

    # ------------------------------------------------------- Messenger Profile

    async def set_messenger_profile(self, profile: dict[str, Any]) -> None:
        """Sets the page's Messenger Profile fields, sent as given.

        Args:
            profile: fields such as ``get_started``, ``greeting``, ``ice_breakers`` and
                ``persistent_menu``, in Graph's shapes.

        Raises:
            ValueError: an empty profile.
            GraphSendError: Graph refused the profile or could not be reached.
        """
        if not profile:
            raise ValueError("an empty Messenger Profile would change nothing")
        await self._call("POST", "me/messenger_profile", "messenger_profile", json=profile)
