"""The outbound half of the Messenger channel: an aiohttp client for Meta's Graph API.

It speaks the real Messenger Platform HTTP shapes (Send API, private and public replies to
comments, user profile, Handover Protocol, Messenger Profile) against any base URL, so the
same code talks to ``https://graph.facebook.com`` and to the local fake in
:mod:`tests.fakes.fake_graph`.

Failed calls are retried with exponential backoff and jitter when Graph says "later" (HTTP
5xx, 429, rate-limit error codes 4, 17, 32 and 613) or when the connection fails or times
out; other 4xx answers are final.

Calls that change nothing when repeated (profile reads, sender actions, thread control, the
Messenger Profile) are simply sent again. Calls that would post twice (Send API messages,
private replies, public replies) are sent again without a second thought only after a clear
"not processed" (429, a rate-limit code, a connection that never opened). After an ambiguous
failure (a timeout, a connection dropped once the request was out, HTTP 5xx) the client first
finds out whether the call landed after all:

- a public reply: the comment's replies (``GET /{comment-id}/comments``) are searched for one
  from the page with the same text; its id is the result, nothing is posted again;
- a Send API text: the page's most recent messages to that customer (the Conversations API,
  ``GET /me/conversations?platform=messenger&user_id=...``) are searched for the same text sent
  since the first attempt began; that message is the result;
- a private reply: Graph allows one per comment, so the retry itself is the check: its "(#10900)
  Activity already replied to" after our own ambiguous attempt means that attempt landed.

A check is one Graph read with the same time limit as the calls. When the check itself fails,
or the message cannot be recognised (templates and media carry no text to compare), the call
is sent again (a duplicate is better than silence) and the unknown outcome is logged.

Nothing personal (a PSID, a comment id, the text sent, the access token) ever goes into a log
line or an exception message; Graph's own error text is kept, scrubbed of those.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000
MAX_BUTTON_TEMPLATE_TEXT = 640
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ELEMENT_TITLE = 80
MAX_ELEMENT_SUBTITLE = 80
MAX_METADATA = 1000
SENDER_ACTIONS = frozenset({"mark_seen", "typing_on", "typing_off"})
MEDIA_TYPES = frozenset({"image", "audio", "video", "file"})
MESSAGING_TYPES = frozenset({"RESPONSE", "UPDATE", "MESSAGE_TAG"})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
ALREADY_REPLIED_CODE = 10900
"""Graph's error code for a private reply to a comment that already received one."""
PAGE_INBOX_APP_ID = 263902037430900
"""The app id of the Page Inbox (Meta Business Suite), the usual handover target."""
PROFILE_FIELDS = "first_name,last_name,profile_pic"
PROFILE_TTL_SECONDS = 24 * 3600.0
_PROFILE_CACHE_SIZE = 10_000
CHECK_MESSAGES = 10
"""How many of a conversation's most recent messages a delivery check reads."""
CHECK_REPLIES = 25
"""How many of a comment's most recent replies a public-reply check reads."""
CLOCK_SKEW_SECONDS = 2.0
"""How much earlier than our first attempt Graph's clock may date the message it posted."""
_SENT_IDS_KEPT = 1000
_ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_LONG_NUMBER = re.compile(r"\d{5,}")
_STRUCTURAL = frozenset(
    {*SENDER_ACTIONS, *MESSAGING_TYPES, "HUMAN_AGENT", "text", "template", "button", "generic",
     "postback", "web_url", "phone_number", PROFILE_FIELDS}
)
"""Values of request bodies that say nothing about the customer (kept in error details)."""


class GraphSendError(RuntimeError):
    """A Graph API call failed for good (after retries when the failure was transient).

    The message never contains personal data: no PSID, comment id, text or token.

    Attributes:
        status: the HTTP status of the last answer, None when no answer came (connection
            error or timeout).
        code: Graph's ``error.code``, None when the answer had none.
        message: what went wrong, safe to log.
        subcode: Graph's ``error.error_subcode``, if any.
        error_type: Graph's ``error.type``, if any (for example "OAuthException").
        attempts: how many attempts were made.
        operation: which call failed ("send", "profile", "public_reply", ...).
        sent_message_ids: for a text split into several messages, the ids of the parts that
            were delivered before the failure.
    """

    def __init__(
        self,
        status: int | None,
        code: int | None,
        message: str,
        *,
        subcode: int | None = None,
        error_type: str | None = None,
        attempts: int = 1,
        operation: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.error_type = error_type
        self.attempts = attempts
        self.operation = operation
        self.sent_message_ids: list[str] = []

    @property
    def rate_limited(self) -> bool:
        """True when Graph refused the call because of a rate limit."""
        return self.status == 429 or self.code in RATE_LIMIT_CODES


@dataclass(frozen=True)
class SentMessage:
    """Graph's answer to a send: who received it and the new message's id."""

    recipient_id: str
    message_id: str


@dataclass(frozen=True)
class _Failure:
    """One failed attempt, as Graph (or the connection) reported it.

    Attributes:
        detail: what went wrong, not yet scrubbed of personal data.
        retryable: whether trying again may succeed.
        ambiguous: whether Graph may have carried the call out all the same (a timeout, a
            connection lost once the request was sent, HTTP 5xx); False for a clear "not
            processed" (429, a rate-limit code, a connection that never opened) and for
            refusals.
    """

    status: int | None
    code: int | None
    subcode: int | None
    error_type: str | None
    detail: str
    retryable: bool
    ambiguous: bool = False


class _CheckFailed(Exception):
    """A "did it land?" check could not tell; the message is already scrubbed."""


Check = Callable[[float], Awaitable[dict[str, Any] | None]]
"""A "did it land?" check: given when the first attempt began (Unix time), Graph's answer to
use when the call landed, None when it did not; raises :class:`_CheckFailed` when it cannot
tell."""


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with "…" when it was cut.

    Cuts at the last space of the allowed part when there is one in its second half.
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip() + _ELLIPSIS


def _cut_point(text: str, limit: int) -> int:
    """Where to end the next part of a text longer than `limit`: an index in 1..limit.

    Prefers, among boundaries in the second half of the allowed part: a paragraph break, a
    line break, the end of a sentence, a space; with none, a hard cut at `limit`.
    """
    floor = max(limit // 2, 1)
    window = text[: limit + 1]
    for separator in ("\n\n", "\n"):
        index = window.rfind(separator, floor, limit + 1)
        if index >= floor:
            return index
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window) if floor <= m.end() <= limit]
    if sentence_ends:
        return sentence_ends[-1]
    for index in range(limit, floor - 1, -1):
        if window[index].isspace():
            return index
    return limit


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """`text` split into parts of at most `limit` characters, at natural boundaries.

    Args:
        text: the message; leading and trailing white space is dropped.
        limit: the longest part allowed (Messenger's limit by default).

    Returns:
        The parts in order; one part when the text fits. White space at a cut is dropped, so
        joining the parts with single spaces gives the text back up to white space.

    Raises:
        ValueError: the text is empty or only white space.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    if not rest:
        raise ValueError("cannot send an empty text")
    parts: list[str] = []
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts


def _quick_replies(quick_replies: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Messenger quick replies: at most 13, titles and payloads cut to Messenger's limits."""
    items = list(quick_replies)
    if len(items) > MAX_QUICK_REPLIES:
        logger.warning(
            "Dropping %d quick replies over Messenger's limit of %d",
            len(items) - MAX_QUICK_REPLIES,
            MAX_QUICK_REPLIES,
        )
    result = []
    for title, payload in items[:MAX_QUICK_REPLIES]:
        if not title.strip() or not payload:
            raise ValueError("a quick reply needs a title and a payload")
        result.append(
            {
                "content_type": "text",
                "title": shorten(title.strip(), MAX_QUICK_REPLY_TITLE),
                "payload": payload[:MAX_QUICK_REPLY_PAYLOAD],
            }
        )
    return result


def _button(button: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a Messenger button with its title cut to 20 characters."""
    result = dict(button)
    if "type" not in result:
        raise ValueError("a button needs a type (postback, web_url, phone_number)")
    if isinstance(result.get("title"), str):
        result["title"] = shorten(result["title"], MAX_BUTTON_TITLE)
    return result


def _scrub(detail: str, secrets: Iterable[str], token: str) -> str:
    """Graph's error message without anything we sent it and without long numbers (ids)."""
    detail = detail.replace(token, "<token>")
    personal = {s for s in secrets if len(s) >= 3 and s not in _STRUCTURAL}
    for secret in sorted(personal, key=len, reverse=True):
        detail = detail.replace(secret, "<redacted>")
    detail = _LONG_NUMBER.sub("<id>", detail)
    return shorten(" ".join(detail.split()), 200)


def _strings(value: Any) -> Iterable[str]:
    """Every string inside a JSON-like value (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _as_int(value: Any) -> int | None:
    """An int from Graph's answer, or None."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _items(value: Any) -> list[dict[str, Any]]:
    """The objects of a Graph list (``{"data": [...]}``); anything else is skipped."""
    data = value.get("data") if isinstance(value, Mapping) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _from_id(item: Mapping[str, Any]) -> str:
    """The id in an object's ``from`` (who wrote a message or a comment), or ""."""
    sender = item.get("from")
    return str(sender.get("id") or "") if isinstance(sender, Mapping) else ""


def _same_text(value: Any, text: str) -> bool:
    """Whether Graph's copy of a text is the text we sent, white space aside."""
    return isinstance(value, str) and value.split() == text.split()


def _graph_time(value: Any) -> float | None:
    """Unix time from Graph's ``created_time`` (ISO 8601 such as 2026-11-22T23:00:05+0000)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    if value.isdigit():
        return float(value)
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def _already_replied(failure: _Failure) -> dict[str, Any] | None:
    """For a private reply: Graph's "already replied" as a send answer (ids unknown)."""
    if failure.code == ALREADY_REPLIED_CODE:
        return {"recipient_id": "", "message_id": ""}
    return None


class GraphClient:
    """A Graph API client for one Facebook Page.

    One aiohttp session is opened on the first call and closed by :meth:`close` (or by
    leaving ``async with``). Safe to share between concurrent conversations.

    Args:
        base_url: ``https://graph.facebook.com`` or the fake's URL, without the version.
        page_access_token: the Page access token.
        api_version: the Graph API version in the path, such as "v19.0".
        max_attempts: attempts per call, the first included (at least 1).
        backoff_seconds: the wait before the second attempt; it doubles each time, plus up
            to 50 % random jitter, and never exceeds `max_backoff_seconds`.
        timeout_seconds: the time limit of one attempt.
        max_backoff_seconds: the longest wait between two attempts.
        profile_ttl_seconds: how long a user profile stays cached.
        app_secret: when given, every call carries ``appsecret_proof`` (needed when the Meta
            app requires it).
        page_id: the Page's id, to recognise the page's own messages and replies when
            checking whether a call landed; when None it is asked of Graph (``GET /me``) the
            first time a check needs it.
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
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not page_access_token:
            raise ValueError("a page access token is required")
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version.strip("/")
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.profile_ttl_seconds = profile_ttl_seconds
        self._token = page_access_token
        self._auth = {"access_token": page_access_token}
        if app_secret:
            self._auth["appsecret_proof"] = hmac.new(
                app_secret.encode(), page_access_token.encode(), hashlib.sha256
            ).hexdigest()
        self._session: aiohttp.ClientSession | None = None
        self._profiles: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._page_id = page_id or None
        self._sent_ids: OrderedDict[str, None] = OrderedDict()
        """Ids of messages Graph confirmed, so a check never takes one of them for a retry's."""

    async def __aenter__(self) -> GraphClient:
        """The client itself; the session still opens lazily."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Closes the session."""
        await self.close()

    async def close(self) -> None:
        """Closes the HTTP session, if one was opened. The client may be used again after."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

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
        replies = _quick_replies(quick_replies) if quick_replies else []
        ids: list[str] = []
        for number, part in enumerate(parts, start=1):
            message: dict[str, Any] = {"text": part}
            if replies and number == len(parts):
                message["quick_replies"] = replies
            body = self._send_body({"id": psid}, message, tag, messaging_type)
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
            "buttons": [_button(button) for button in buttons],
        }
        message = {"attachment": {"type": "template", "payload": payload}}
        body = self._send_body({"id": psid}, message, tag, messaging_type)
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
        body = self._send_body({"id": psid}, message, tag, messaging_type)
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
        body = self._send_body({"id": psid}, message, tag, messaging_type)
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

    # ---------------------------------------------------------------- comments

    async def private_reply(self, comment_id: str, text: str) -> SentMessage:
        """Answers a comment privately, which opens a Messenger conversation with its author.

        Messenger allows one private reply per comment, so the text is cut (not split) to
        2000 characters. When an attempt timed out or failed with a 5xx and the retry is
        refused with "(#10900) Activity already replied to", the first attempt landed: that
        counts as success. The same refusal to a first attempt is an error (someone else,
        or an earlier run, already replied).

        Returns:
            The author's PSID (`recipient_id`) and the message id; both empty when the reply
            is known to have landed only from Graph's "already replied" (Graph does not say
            them again).

        Raises:
            GraphSendError: Graph refused the reply or could not be reached.
        """
        if not text.strip():
            raise ValueError("cannot send an empty text")
        body = {
            "recipient": {"comment_id": comment_id},
            "message": {"text": shorten(text.strip(), MAX_TEXT_LENGTH)},
        }
        answer = await self._call(
            "POST", "me/messages", "private_reply", json=body, idempotent=False,
            landed_if=_already_replied,
        )
        return SentMessage(str(answer.get("recipient_id", "")), str(answer.get("message_id", "")))

    async def public_reply(self, comment_id: str, text: str) -> str:
        """Replies publicly under a comment.

        After a timeout or a 5xx, the comment's replies are read first: a reply from the page
        with the same text means the attempt landed, and it is not posted again.

        Returns:
            The id of the new comment (or of the one found by the check).

        Raises:
            GraphSendError: Graph refused the reply or could not be reached.
        """
        message = text.strip()
        if not message:
            raise ValueError("cannot send an empty text")
        edge = f"{quote(comment_id, safe='')}/comments"

        async def check(started: float) -> dict[str, Any] | None:
            page_id = await self._known_page_id()
            answer = await self._read(
                edge, "public_reply check",
                {"fields": "from,message,created_time", "order": "reverse_chronological",
                 "limit": str(CHECK_REPLIES)},
                personal=(comment_id, message),
            )
            for reply in _items(answer):
                if _from_id(reply) == page_id and _same_text(reply.get("message"), message):
                    return {"id": str(reply.get("id", ""))}
            return None

        answer = await self._call(
            "POST", edge, "public_reply", json={"message": message}, personal=(comment_id,),
            idempotent=False, check=check,
        )
        return str(answer.get("id", ""))

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
        except _CheckFailed as error:
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

    # ---------------------------------------------------------- thread control

    async def pass_thread_control(
        self, psid: str, target_app_id: int | str, metadata: str | None = None
    ) -> bool:
        """Hands the conversation to another app, usually the Page Inbox (a person).

        Args:
            psid: the customer's page-scoped id.
            target_app_id: the receiving app, :data:`PAGE_INBOX_APP_ID` for the Page Inbox.
            metadata: a note for the receiving app (cut to 1000 characters).

        Returns:
            Graph's ``success`` flag.

        Raises:
            GraphSendError: Graph refused the call or could not be reached.
        """
        app_id = str(target_app_id)
        body: dict[str, Any] = {
            "recipient": {"id": psid},
            "target_app_id": int(app_id) if app_id.isdigit() else app_id,
        }
        if metadata:
            body["metadata"] = metadata[:MAX_METADATA]
        answer = await self._call("POST", "me/pass_thread_control", "pass_thread_control",
                                  json=body)
        return bool(answer.get("success"))

    async def take_thread_control(self, psid: str, metadata: str | None = None) -> bool:
        """Takes the conversation back from the app that holds it (needs the primary role).

        Returns:
            Graph's ``success`` flag.

        Raises:
            GraphSendError: Graph refused the call or could not be reached.
        """
        body: dict[str, Any] = {"recipient": {"id": psid}}
        if metadata:
            body["metadata"] = metadata[:MAX_METADATA]
        answer = await self._call("POST", "me/take_thread_control", "take_thread_control",
                                  json=body)
        return bool(answer.get("success"))

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

    # ----------------------------------------------------------------- plumbing

    def backoff_delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based), jitter included."""
        base = self.backoff_seconds * (2 ** (attempt - 1))
        return min(base + random.uniform(0, base / 2), self.max_backoff_seconds)

    @staticmethod
    def _send_body(
        recipient: dict[str, str], message: dict[str, Any], tag: str | None, messaging_type: str
    ) -> dict[str, Any]:
        """A Send API body with the right `messaging_type` and `tag`."""
        if tag:
            return {"recipient": recipient, "messaging_type": "MESSAGE_TAG", "tag": tag,
                    "message": message}
        if messaging_type not in MESSAGING_TYPES or messaging_type == "MESSAGE_TAG":
            raise ValueError(f"messaging_type {messaging_type!r} needs a tag or is unknown")
        return {"recipient": recipient, "messaging_type": messaging_type, "message": message}

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
            for conversation in _items(answer):
                for message in _items(conversation.get("messages")):
                    message_id = str(message.get("id") or "")
                    created = _graph_time(message.get("created_time"))
                    if (_from_id(message) == page_id and _same_text(message.get("message"), text)
                            and created is not None and created >= since
                            and message_id not in self._sent_ids):
                        return {"recipient_id": psid, "message_id": message_id}
            return None

        return check

    async def _known_page_id(self) -> str:
        """The Page's id: given to the constructor, or asked of Graph once and kept."""
        if self._page_id is None:
            answer = await self._read("me", "page id", {"fields": "id"})
            page_id = str(answer.get("id") or "")
            if not page_id:
                raise _CheckFailed("Graph did not say the page id")
            self._page_id = page_id
        return self._page_id

    async def _read(
        self, path: str, operation: str, params: dict[str, str], personal: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """One GET for a check, without retries; raises :class:`_CheckFailed` on failure."""
        outcome = await self._attempt(
            self._session_for_calls(), "GET", f"{self.base_url}/{self.api_version}/{path}",
            {**params, **self._auth}, None,
        )
        if isinstance(outcome, _Failure):
            raise _CheckFailed(f"{operation}: {self._describe(outcome, personal)}")
        return outcome

    def _describe(self, failure: _Failure, secrets: Iterable[str]) -> str:
        """A failure as "HTTP s, error code c (subcode x): detail", safe to log."""
        subcode = f" (subcode {failure.subcode})" if failure.subcode is not None else ""
        secrets = [*secrets, *self._auth.values()]
        return (f"HTTP {failure.status}, error code {failure.code}{subcode}: "
                f"{_scrub(failure.detail, secrets, self._token)}")

    def _session_for_calls(self) -> aiohttp.ClientSession:
        """The shared session, opened on first use."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds)
            )
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        personal: tuple[str, ...] = (),
        idempotent: bool = True,
        check: Check | None = None,
        landed_if: Callable[[_Failure], dict[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        """One Graph call with retries; Graph's JSON answer on success.

        Args:
            method: "GET" or "POST".
            path: the path after the version, already URL-quoted.
            operation: a name for logs and errors, never personal.
            json: the JSON body.
            params: query parameters besides the token.
            personal: ids in the path, kept out of error messages like the body's strings.
            idempotent: whether sending the call twice does no harm. When False, an
                ambiguous failure (timeout, connection lost, 5xx) is followed by `check`
                before anything else.
            check: for a call that is not idempotent, finds out whether an attempt landed
                (one Graph read per ambiguous failure); its answer is returned when it did.
            landed_if: for a call Graph refuses to repeat: turns a refusal that follows an
                ambiguous failure of ours into the answer to return (the first attempt
                landed); None for a refusal that stays an error.

        Raises:
            GraphSendError: a final answer that is not a success, or the last attempt failed.
        """
        url = f"{self.base_url}/{self.api_version}/{path}"
        query = {**(params or {}), **self._auth}
        secrets = [*_strings(json), *_strings(params), *personal]
        session = self._session_for_calls()
        started = time.time()
        ambiguous_before = False
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(session, method, url, query, json)
            if not isinstance(outcome, _Failure):
                if attempt > 1:
                    logger.info("Graph %s succeeded on attempt %d", operation, attempt)
                return outcome
            failure = outcome
            if ambiguous_before and landed_if is not None:
                landed = landed_if(failure)
                if landed is not None:
                    logger.info(
                        "Graph %s attempt %d/%d was refused as done already (%s): an earlier "
                        "attempt had landed, so it counts as sent",
                        operation, attempt, self.max_attempts, self._describe(failure, secrets),
                    )
                    return landed
            if failure.ambiguous and not idempotent:
                ambiguous_before = True
                landed = await self._landed(operation, attempt, failure, secrets, started,
                                            check, retry_tells=landed_if is not None)
                if landed is not None:
                    return landed
            last = attempt >= self.max_attempts
            if not failure.retryable or last:
                logger.error(
                    "Graph %s failed for good on attempt %d/%d%s: %s",
                    operation, attempt, self.max_attempts,
                    "" if failure.retryable else " (not retried)",
                    self._describe(failure, secrets),
                )
                raise GraphSendError(
                    failure.status,
                    failure.code,
                    f"Graph API {operation} failed after {attempt} attempt"
                    f"{'s' if attempt != 1 else ''}: {self._describe(failure, secrets)}",
                    subcode=failure.subcode,
                    error_type=failure.error_type,
                    attempts=attempt,
                    operation=operation,
                )
            delay = self.backoff_delay(attempt)
            logger.warning(
                "Graph %s attempt %d/%d failed: %s; retrying in %.2f s",
                operation, attempt, self.max_attempts, self._describe(failure, secrets), delay,
            )
            await asyncio.sleep(delay)

    async def _landed(
        self,
        operation: str,
        attempt: int,
        failure: _Failure,
        secrets: list[str],
        started: float,
        check: Check | None,
        *,
        retry_tells: bool,
    ) -> dict[str, Any] | None:
        """After an ambiguous failure: the answer to return if the call landed, else None."""
        where = f"Graph {operation} attempt {attempt}/{self.max_attempts}"
        if check is None:
            if retry_tells:
                logger.info("%s may have landed (%s); a retry will tell",
                            where, self._describe(failure, secrets))
            else:
                logger.warning(
                    "%s may have landed (%s) and this kind of call cannot be checked: the "
                    "outcome is unknown, it is sent again if attempts remain (a duplicate is "
                    "better than silence)", where, self._describe(failure, secrets),
                )
            return None
        try:
            answer = await check(started)
        except _CheckFailed as exc:
            logger.warning(
                "%s may have landed (%s) and checking failed (%s): the outcome is unknown, it "
                "is sent again if attempts remain (a duplicate is better than silence)",
                where, self._describe(failure, secrets), exc,
            )
            return None
        if answer is None:
            logger.info("%s did not land (checked after: %s)", where,
                        self._describe(failure, secrets))
            return None
        logger.warning("%s had landed although %s; not sent again", where,
                       self._describe(failure, secrets))
        return answer

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        query: dict[str, str],
        json: dict[str, Any] | None,
    ) -> dict[str, Any] | _Failure:
        """One HTTP exchange: Graph's answer on success, else what went wrong."""
        try:
            async with session.request(method, url, params=query, json=json) as response:
                status = response.status
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
        except asyncio.TimeoutError:
            return _Failure(None, None, None, None,
                            f"timed out: no answer within {self.timeout_seconds:g} s", True,
                            ambiguous=True)
        except aiohttp.ClientConnectorError as exc:
            # The request never left: nothing can have happened on Graph's side.
            return _Failure(None, None, None, None,
                            f"connection failed ({type(exc).__name__}): {str(exc) or 'no detail'}",
                            True)
        except aiohttp.ClientError as exc:
            return _Failure(None, None, None, None,
                            f"connection lost ({type(exc).__name__}): {str(exc) or 'no detail'}",
                            True, ambiguous=True)
        error = answer.get("error") if isinstance(answer, dict) else None
        if 200 <= status < 300 and isinstance(answer, dict) and not error:
            return answer
        if not isinstance(error, dict):
            error = {}
        code = _as_int(error.get("code"))
        not_processed = status == 429 or code in RATE_LIMIT_CODES
        retryable = status >= 500 or not_processed
        detail = str(error.get("message") or f"HTTP {status} without a Graph error")
        error_type = error.get("type")
        return _Failure(status, code, _as_int(error.get("error_subcode")),
                        str(error_type) if error_type else None, detail, retryable,
                        ambiguous=status >= 500 and not not_processed)
