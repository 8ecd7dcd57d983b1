"""A fake Graph API on loopback, for tests and for running the bot without Facebook.

:class:`FakeGraphApi` is an aiohttp application that accepts the calls
:class:`bot.messenger.graph_client.GraphClient` makes (Send API, private and public replies,
user profile, Handover Protocol, Messenger Profile, and the reads that check whether a call
landed: ``GET /me``, the Conversations API, a comment's replies), checks the token and the
shapes like Graph does, answers like Graph, records every call, and can be told to fail (5xx,
rate limits, slow answers, or "carried out but answered too late") so retries can be tested.

What the page posted is kept like Graph keeps it: messages sent to a customer (and private
replies) are in the page's conversation with that customer, ``GET
/me/conversations?platform=messenger&user_id={psid}&fields=messages.limit(N){...}``; public
replies are under their comment, ``GET /{comment-id}/comments``; a second private reply to a
comment is refused with "(#10900) Activity already replied to".

Control endpoints, for another process:

- ``GET /_calls[?since=N]``: ``{"count": total, "calls": [...]}``, the recorded calls from
  number N on;
- ``DELETE /_calls``: forgets the recorded calls;
- ``POST /_fail`` with ``{"status": 503, "code": null, "times": 2, "delay": 0.0}`` (and
  optionally ``"message"``, ``"path"``, ``"method"`` and ``"applied"``): the next calls fail
  that way; ``{"status": null, "delay": 1.0, "applied": true}`` carries the call out at once
  and answers it only after the delay (Graph did it, the client gave up waiting);
- ``DELETE /_fail``: cancels pending failures;
- ``POST /_reset``: forgets calls, failures, replied comments and what the page posted.

:class:`tests.fakes.fake_graph_server.FakeGraphServer` runs it on 127.0.0.1, inside a running
event loop or in a background thread. By hand: ``python -m tests.fakes.fake_graph --port 8095``.
What Graph refuses is checked in :mod:`tests.fakes.graph_request_checks`; the recorded calls
and the failures to come are :mod:`tests.fakes.graph_call_records`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from tests.fakes.graph_call_records import VERSION_PATTERN, FailureSpec, RecordedCall
from tests.fakes.graph_request_checks import (
    GraphError,
    check_ice_breakers,
    check_localized,
    check_message,
    check_persistent_menu,
    json_object,
    required_recipient_id,
    required_text,
)

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "test-page-token"
DEFAULT_PAGE_ID = "104857293746251"
DEFAULT_PAGE_NAME = "Nightdesk Test Page"
DEFAULT_PROFILE: dict[str, str] = {
    "first_name": "Alex",
    "last_name": "Tester",
    "profile_pic": "https://127.0.0.1/profile.png",
}
MESSAGE_TAGS = frozenset(
    {"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}
)
MESSENGER_PROFILE_FIELDS = frozenset(
    {"get_started", "greeting", "ice_breakers", "persistent_menu", "whitelisted_domains",
     "account_linking_url", "home_url", "commands", "title", "description"}
)
_FIELD = re.compile(r"(?P<name>\w+)(?:\.limit\((?P<limit>\d+)\))?(?:\{(?P<sub>[\w,]*)\})?")
_MESSAGE_FIELDS = ("id", "message", "from", "to", "created_time")
_CONVERSATION_FIELDS = ("id", "updated_time", "messages", "participants")
_COMMENT_FIELDS = ("id", "message", "from", "created_time")
_PAGE_FIELDS = ("id", "name")
_COMMENT_ORDERS = frozenset({"chronological", "reverse_chronological"})


def _graph_time(at: float) -> str:
    """A Unix time as Graph writes ``created_time``: 2026-11-22T23:00:05+0000."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(at))


def _split_fields(spec: str) -> list[str]:
    """A ``fields`` value split at the commas outside braces and parentheses."""
    items, depth, current = [], 0, ""
    for char in spec:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return [item.strip() for item in items if item.strip()]


def _fields(
    query: Any, node: str, known: Sequence[str], default: Sequence[str]
) -> dict[str, tuple[int | None, list[str] | None]]:
    """The requested fields of a node: name -> (``.limit(n)``, ``{sub,fields}``).

    Raises a Graph 400 for a field the node does not have, as Graph does.
    """
    spec = query.get("fields")
    if spec is None:
        return {name: (None, None) for name in default}
    result: dict[str, tuple[int | None, list[str] | None]] = {"id": (None, None)}
    for item in _split_fields(spec):
        match = _FIELD.fullmatch(item)
        if match is None:
            raise GraphError(f"(#100) Syntax error in the fields parameter near: {item[:40]}")
        name = match["name"]
        if name not in known:
            raise GraphError(f"(#100) Tried accessing nonexisting field ({name}) on node type "
                             f"({node})")
        limit = int(match["limit"]) if match["limit"] is not None else None
        sub = [f for f in match["sub"].split(",") if f] if match["sub"] is not None else None
        result[name] = (limit, sub)
    return result


def _limit(value: Any, default: int = 25) -> int:
    """A ``limit`` parameter: a positive number, else a Graph 400."""
    if value is None:
        return default
    if not str(value).isdigit() or not 0 < int(value) <= 100:
        raise GraphError("(#100) param limit must be a number between 1 and 100")
    return int(value)


def _conversation_id(psid: str) -> str:
    """A stable conversation id for the page's thread with one customer."""
    return "t_" + str(int(hashlib.sha256(f"thread:{psid}".encode()).hexdigest()[:13], 16))


def _psid_for_comment(comment_id: str) -> str:
    """A stable, numeric-looking PSID for the author of a comment."""
    return str(int(hashlib.sha256(comment_id.encode()).hexdigest()[:13], 16))


class FakeGraphApi:
    """The fake Graph API: state, recorded calls, failure injection and the aiohttp app.

    Args:
        page_access_token: the token every call must carry; None accepts any non-empty one.
        profiles: user profiles by PSID, as Graph returns them.
        default_profile: the profile of any other PSID; None makes unknown PSIDs an error,
            as on Graph.
        page_id: the Page the token is for (``GET /me``, ``from`` of what the page posts).
        page_name: its name.
    """

    def __init__(
        self,
        page_access_token: str | None = DEFAULT_TOKEN,
        profiles: dict[str, dict[str, Any]] | None = None,
        default_profile: dict[str, Any] | None = DEFAULT_PROFILE,
        *,
        page_id: str = DEFAULT_PAGE_ID,
        page_name: str = DEFAULT_PAGE_NAME,
    ) -> None:
        self.page_access_token = page_access_token
        self.page_id = page_id
        self.page_name = page_name
        self.profiles: dict[str, dict[str, Any]] = dict(profiles or {})
        self.default_profile = default_profile
        self.calls: list[RecordedCall] = []
        self.messenger_profile: dict[str, Any] = {}
        self.thread_owners: dict[str, str] = {}
        self.base_url: str | None = None
        """Where a `FakeGraphServer` serves this API, once started."""
        self._replied_comments: set[str] = set()
        self._conversations: dict[str, list[dict[str, Any]]] = {}
        """The page's messages to each customer (PSID), oldest first."""
        self._comment_replies: dict[str, list[dict[str, Any]]] = {}
        """The page's public replies under each comment, oldest first."""
        self._failures: list[FailureSpec] = []
        self._held: set[asyncio.Task[Any]] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # ---------------------------------------------------------------- test API

    def fail_next(
        self,
        times: int = 1,
        status: int | None = 500,
        code: int | None = None,
        delay: float = 0.0,
        message: str | None = None,
        path: str | None = None,
        *,
        method: str | None = None,
        applied: bool = False,
    ) -> None:
        """Makes the next `times` calls (whose path contains `path`, if given) fail or lag.

        Examples: ``fail_next(2, 503)``; ``fail_next(1, 429)``; ``fail_next(3, 400, code=613)``;
        ``fail_next(1, None, delay=2.0)`` (slow, carried out after the wait);
        ``fail_next(1, None, delay=2.0, applied=True)`` (carried out at once, answered after
        the wait: "succeeded but answered too late"); ``fail_next(1, 500, applied=True)``
        (carried out, answered 500); ``fail_next(1, 500, path="/comments", method="GET")``
        (a check read fails). See :class:`FailureSpec`. Successive calls queue up.
        """
        if times < 0 or delay < 0:
            raise ValueError("times and delay cannot be negative")
        spec = FailureSpec(status=status, code=code, delay=delay, message=message, path=path,
                           method=method, applied=applied)
        with self._lock:
            self._failures.extend([spec] * times)

    def clear_failures(self) -> None:
        """Cancels every pending failure."""
        with self._lock:
            self._failures.clear()

    @property
    def pending_failures(self) -> int:
        """How many calls are still set to fail or lag."""
        with self._lock:
            return len(self._failures)

    def reset(self) -> None:
        """Forgets calls, failures, replied comments, what the page posted, owners, profile."""
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._replied_comments.clear()
            self._conversations.clear()
            self._comment_replies.clear()
            self.thread_owners.clear()
            self.messenger_profile.clear()

    def calls_to(self, endpoint: str, method: str | None = None) -> list[RecordedCall]:
        """Recorded calls to one endpoint ("me/messages", "{comment_id}/comments", ...)."""
        with self._lock:
            calls = list(self.calls)
        return [c for c in calls if c.endpoint == endpoint and method in (None, c.method)]

    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of Send API calls that delivered a message (sender actions excluded).

        A call carried out but answered late or with an injected error counts: the message
        reached the customer.
        """
        return [
            call.json for call in self.calls_to("me/messages", "POST")
            if call.applied and isinstance(call.json, dict) and "message" in call.json
        ]

    def comment_replies(self, comment_id: str) -> list[str]:
        """The texts of the public replies the page posted under one comment, in order."""
        with self._lock:
            return [reply["message"] for reply in self._comment_replies.get(comment_id, [])]

    def sent_texts(self) -> list[str]:
        """The texts of delivered text messages, in order."""
        return [m["message"]["text"] for m in self.sent_messages() if "text" in m["message"]]

    def app(self) -> web.Application:
        """A new aiohttp application serving this fake."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_get("/_calls", self._get_calls)
        app.router.add_delete("/_calls", self._delete_calls)
        app.router.add_post("/_fail", self._post_fail)
        app.router.add_delete("/_fail", self._delete_fail)
        app.router.add_post("/_reset", self._post_reset)
        app.router.add_route("*", "/{tail:.*}", self._graph)
        return app

    # ------------------------------------------------------------- control API

    async def _get_calls(self, request: web.Request) -> web.Response:
        try:
            since = max(int(request.query.get("since", "0")), 0)
        except ValueError:
            return web.json_response({"error": "since must be an integer"}, status=400)
        with self._lock:
            calls = [call.as_dict() for call in self.calls[since:]]
            count = len(self.calls)
        return web.json_response({"count": count, "calls": calls})

    async def _delete_calls(self, request: web.Request) -> web.Response:
        with self._lock:
            self.calls.clear()
        return web.json_response({"count": 0})

    async def _post_fail(self, request: web.Request) -> web.Response:
        try:
            spec = json.loads(await request.text() or "{}")
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
            status = spec.get("status", 500)
            self.fail_next(
                times=int(spec.get("times", 1)),
                status=None if status in (None, 0, 200) else int(status),
                code=None if spec.get("code") is None else int(spec["code"]),
                delay=float(spec.get("delay") or 0.0),
                message=spec.get("message"),
                path=spec.get("path"),
                method=spec.get("method"),
                applied=bool(spec.get("applied", False)),
            )
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad failure spec: {exc}"}, status=400)
        return web.json_response({"pending": self.pending_failures})

    async def _delete_fail(self, request: web.Request) -> web.Response:
        self.clear_failures()
        return web.json_response({"pending": 0})

    async def _post_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})

    # --------------------------------------------------------------- Graph API

    def _is_lookup(self, method: str, endpoint: str) -> bool:
        """Whether a call is one of the reads that check whether an earlier call landed."""
        segments = endpoint.split("/")
        return method == "GET" and (
            (len(segments) == 1 and segments[0] in ("me", self.page_id))
            or (len(segments) == 2 and segments[1] in ("conversations", "comments"))
        )

    def _take_failure(self, method: str, path: str, endpoint: str) -> FailureSpec | None:
        """The first pending failure that applies to a call, removed from the queue."""
        lookup = self._is_lookup(method, endpoint)
        with self._lock:
            for index, spec in enumerate(self._failures):
                if spec.matches(method, path, lookup):
                    return self._failures.pop(index)
        return None

    async def _graph(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
            malformed = False
        except ValueError:
            body, malformed = None, True
        call = RecordedCall(request.method, request.path, dict(request.query), body)
        with self._lock:
            self.calls.append(call)
        spec = self._take_failure(request.method, request.path, call.endpoint)
        if spec is not None and spec.applied:
            return await self._apply_then_answer(call, malformed, spec)
        try:
            if spec is not None:
                if spec.delay:
                    await self._wait(spec.delay)
                error = spec.error()
                if error is not None:
                    raise error
            answer = self._carry_out(call, malformed)
        except GraphError as error:
            call.status, call.response = error.status, error.payload()
            return web.json_response(call.response, status=error.status)
        call.status, call.response = 200, answer
        return web.json_response(answer, status=200)

    async def _apply_then_answer(
        self, call: RecordedCall, malformed: bool, spec: FailureSpec
    ) -> web.Response:
        """Carries a call out now; answers (its answer or the injected error) after the delay."""
        try:
            answer, status = self._carry_out(call, malformed), 200
        except GraphError as error:
            answer, status = error.payload(), error.status
        injected = spec.error()
        if injected is not None:
            answer, status = injected.payload(), injected.status
        call.status, call.response = status, answer
        if spec.delay:
            await self._wait(spec.delay)
        return web.json_response(answer, status=status)

    async def _wait(self, seconds: float) -> None:
        """Holds an answer back; :meth:`drain` waits for answers held back."""
        task = asyncio.current_task()
        if task is not None:
            self._held.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._held.discard(task)

    async def drain(self, timeout: float = 2.0) -> None:
        """Waits (up to `timeout` seconds) for the answers still held back by a delay.

        A client that timed out no longer waits for them, so the server would not either.
        """
        loop = asyncio.get_running_loop()
        held = [task for task in list(self._held) if task.get_loop() is loop and not task.done()]
        if held:
            await asyncio.wait(held, timeout=timeout)

    def _carry_out(self, call: RecordedCall, malformed: bool) -> dict[str, Any]:
        """Checks and carries out one call; Graph's answer, or a GraphError."""
        if malformed:
            raise GraphError("(#100) The request body is not valid JSON")
        self._check_token(call.query)
        answer = self._dispatch(call.method, call.endpoint, call.path, call.query, call.json)
        call.applied = True
        return answer

    def _check_token(self, query: Any) -> None:
        token = query.get("access_token")
        if not token:
            raise GraphError("An active access token must be used to query information about "
                             "the current user.", code=2500)
        if self.page_access_token is not None and token != self.page_access_token:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)

    def _dispatch(
        self, method: str, endpoint: str, path: str, query: Any, body: Any
    ) -> dict[str, Any]:
        version = path.strip("/").split("/", 1)[0]
        if not VERSION_PATTERN.fullmatch(version) or not endpoint:
            raise GraphError(f"Unknown path components: {path}", code=2500)
        segments = endpoint.split("/")
        if method == "POST":
            body = json_object(body, "body") if body is not None else {}
            if endpoint == "me/messages":
                return self._messages(body)
            if endpoint == "me/pass_thread_control":
                return self._pass_thread_control(body)
            if endpoint == "me/take_thread_control":
                return self._take_thread_control(body)
            if endpoint == "me/messenger_profile":
                return self._set_messenger_profile(body)
            if len(segments) == 2 and segments[1] == "comments":
                return self._public_reply(segments[0], body)
        elif method == "GET":
            if len(segments) == 1 and segments[0] in ("me", self.page_id):
                return self._page(query)
            if len(segments) == 2 and segments[1] == "conversations":
                if segments[0] not in ("me", self.page_id):
                    raise GraphError("(#100) conversations can only be read for the page of "
                                     "the access token", subcode=33)
                return self._read_conversations(query)
            if len(segments) == 2 and segments[1] == "comments":
                return self._read_comment_replies(segments[0], query)
            if len(segments) == 1:
                return self._profile(segments[0], query)
        raise GraphError(
            f"Unsupported {method.lower()} request. Please read the Graph API documentation",
            code=100, subcode=33,
        )

    def _message_id(self) -> str:
        return f"m_{next(self._ids):06d}{secrets.token_hex(6)}"

    def _messages(self, body: dict[str, Any]) -> dict[str, Any]:
        recipient = json_object(body.get("recipient"), "recipient")
        comment_id = recipient.get("comment_id")
        has_message, has_action = "message" in body, "sender_action" in body
        if has_message == has_action:
            raise GraphError("(#100) Must send either message or sender_action")
        if has_action:
            if body["sender_action"] not in ("mark_seen", "typing_on", "typing_off"):
                raise GraphError("(#100) param sender_action must be one of {MARK_SEEN, "
                                 "TYPING_ON, TYPING_OFF}")
            if comment_id is not None:
                raise GraphError("(#100) sender_action cannot be sent to a comment")
            return {"recipient_id": required_recipient_id(body)}
        kind = body.get("messaging_type")
        tag = body.get("tag")
        if comment_id is None or kind is not None:
            if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
                raise GraphError("(#100) param messaging_type must be one of {RESPONSE, UPDATE, "
                                 "MESSAGE_TAG}")
            if (kind == "MESSAGE_TAG") != (tag is not None):
                raise GraphError("(#100) A tag is required with messaging_type MESSAGE_TAG, "
                                 "and only then")
            if tag is not None and tag not in MESSAGE_TAGS:
                raise GraphError("(#100) param tag must be a valid message tag")
        check_message(body["message"])
        if comment_id is not None:
            if "id" in recipient or not isinstance(comment_id, str) or not comment_id:
                raise GraphError("(#100) recipient must have exactly one of id, comment_id")
            with self._lock:
                if comment_id in self._replied_comments:
                    raise GraphError("(#10900) Activity already replied to", code=10900)
                self._replied_comments.add(comment_id)
            psid = _psid_for_comment(comment_id)
            return {"recipient_id": psid, "message_id": self._deliver(psid, body["message"])}
        psid = required_recipient_id(body)
        return {"recipient_id": psid, "message_id": self._deliver(psid, body["message"])}

    def _deliver(self, psid: str, message: dict[str, Any]) -> str:
        """Puts a message from the page into its conversation with `psid`; the message id.

        As in the Conversations API, ``message`` is the text; messages that are only an
        attachment (templates, media) have an empty one.
        """
        message_id = self._message_id()
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        with self._lock:
            self._conversations.setdefault(psid, []).append({
                "id": message_id, "message": text, "at": time.time(),
                "from": {"name": self.page_name, "id": self.page_id},
                "to": {"data": [{"name": "Customer", "id": psid}]},
            })
        return message_id

    def _public_reply(self, comment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        text = required_text(body.get("message"), "message", 8000)
        reply_id = f"{comment_id}_{next(self._ids)}"
        with self._lock:
            self._comment_replies.setdefault(comment_id, []).append({
                "id": reply_id, "message": text, "at": time.time(),
                "from": {"name": self.page_name, "id": self.page_id},
            })
        return {"id": reply_id}

    def _page(self, query: Any) -> dict[str, Any]:
        """``GET /me`` with a Page token: the page."""
        fields = _fields(query, "Page", _PAGE_FIELDS, _PAGE_FIELDS)
        node = {"id": self.page_id, "name": self.page_name}
        return {name: node[name] for name in fields}

    def _read_conversations(self, query: Any) -> dict[str, Any]:
        """``GET /me/conversations``: the page's conversations, or the one with ``user_id``."""
        platform = query.get("platform", "messenger")
        if platform not in ("messenger", "instagram"):
            raise GraphError("(#100) param platform must be one of {MESSENGER, INSTAGRAM}")
        fields = _fields(query, "Conversation", _CONVERSATION_FIELDS, ("id", "updated_time"))
        user_id = query.get("user_id")
        with self._lock:
            threads = {psid: list(messages) for psid, messages in self._conversations.items()
                       if messages and user_id in (None, psid)}
        if platform == "instagram":
            threads = {}
        data = []
        for psid, messages in sorted(threads.items(), key=lambda t: -t[1][-1]["at"]):
            node: dict[str, Any] = {"id": _conversation_id(psid)}
            if "updated_time" in fields:
                node["updated_time"] = _graph_time(messages[-1]["at"])
            if "participants" in fields:
                node["participants"] = {"data": [{"name": "Customer", "id": psid},
                                                 {"name": self.page_name, "id": self.page_id}]}
            if "messages" in fields:
                limit, sub = fields["messages"]
                node["messages"] = self._listing(
                    list(reversed(messages)), limit, sub, "Message", _MESSAGE_FIELDS,
                    ("id", "created_time"),
                )
            data.append(node)
        return {"data": data[:_limit(query.get("limit"))]}

    def _read_comment_replies(self, comment_id: str, query: Any) -> dict[str, Any]:
        """``GET /{comment-id}/comments``: the replies under a comment (the page's, here)."""
        order = query.get("order", "chronological")
        if order not in _COMMENT_ORDERS:
            raise GraphError("(#100) param order must be one of {CHRONOLOGICAL, "
                             "REVERSE_CHRONOLOGICAL}")
        fields = _fields(query, "Comment", _COMMENT_FIELDS, _COMMENT_FIELDS)
        with self._lock:
            replies = list(self._comment_replies.get(comment_id, []))
        if order == "reverse_chronological":
            replies.reverse()
        return self._listing(replies, _limit(query.get("limit")), list(fields), "Comment",
                             _COMMENT_FIELDS, _COMMENT_FIELDS)

    @staticmethod
    def _listing(
        items: list[dict[str, Any]], limit: int | None, fields: list[str] | None, node: str,
        known: Sequence[str], default: Sequence[str],
    ) -> dict[str, Any]:
        """A Graph list of messages or comments: ``{"data": [...], "paging": {...}}``."""
        names = ["id", *(fields if fields is not None else default)]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise GraphError(f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node "
                             f"type ({node})")
        page = items[: limit or 25]
        data = [
            {name: (_graph_time(item["at"]) if name == "created_time" else item[name])
             for name in dict.fromkeys(names) if name == "created_time" or name in item}
            for item in page
        ]
        listing: dict[str, Any] = {"data": data}
        if data:
            listing["paging"] = {"cursors": {"before": secrets.token_hex(8),
                                             "after": secrets.token_hex(8)}}
        return listing

    def _profile(self, psid: str, query: Any) -> dict[str, Any]:
        profile = self.profiles.get(psid, self.default_profile)
        if profile is None:
            raise GraphError(
                f"Unsupported get request. Object with ID '{psid}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                code=100, subcode=33,
            )
        fields = [f for f in query.get("fields", "first_name,last_name").split(",") if f]
        answer = {name: profile[name] for name in fields if name in profile}
        answer["id"] = psid
        return answer

    def _pass_thread_control(self, body: dict[str, Any]) -> dict[str, Any]:
        psid = required_recipient_id(body)
        target = body.get("target_app_id")
        if isinstance(target, bool) or not str(target or "").isdigit():
            raise GraphError("(#100) param target_app_id must be a valid app id")
        self._check_metadata(body)
        with self._lock:
            self.thread_owners[psid] = str(target)
        return {"success": True}

    def _take_thread_control(self, body: dict[str, Any]) -> dict[str, Any]:
        psid = required_recipient_id(body)
        self._check_metadata(body)
        with self._lock:
            self.thread_owners[psid] = "page"
        return {"success": True}

    @staticmethod
    def _check_metadata(body: dict[str, Any]) -> None:
        metadata = body.get("metadata")
        if metadata is not None and (not isinstance(metadata, str) or len(metadata) > 1000):
            raise GraphError("(#100) param metadata must be a string of at most 1000 characters")

    def _set_messenger_profile(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body:
            raise GraphError("(#100) You must set at least one Messenger Profile field")
        unknown = sorted(set(body) - MESSENGER_PROFILE_FIELDS)
        if unknown:
            raise GraphError(f"(#100) Unknown Messenger Profile field: {unknown[0]}")
        greeting = body.get("greeting")
        if greeting is not None:
            for index, item in enumerate(check_localized(greeting, "greeting")):
                required_text(item.get("text"), f"greeting[{index}][text]", 160)
        get_started = body.get("get_started")
        if get_started is not None:
            required_text(json_object(get_started, "get_started").get("payload"),
                           "get_started[payload]", 1000)
        if body.get("ice_breakers") is not None:
            check_ice_breakers(body["ice_breakers"])
        if body.get("persistent_menu") is not None:
            check_persistent_menu(body["persistent_menu"])
            with self._lock:
                has_get_started = get_started is not None or "get_started" in self.messenger_profile
            if not has_get_started:
                raise GraphError("(#100) You must set a Get Started button if you also wish to "
                                 "use persistent menu.")
        with self._lock:
            self.messenger_profile.update(body)
        return {"result": "success"}


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the fake Graph API by hand until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.fake_graph", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=8095, help="port (default 8095)")
    parser.add_argument("--token", default=DEFAULT_TOKEN,
                        help=f"page access token to accept (default {DEFAULT_TOKEN!r})")
    parser.add_argument("--any-token", action="store_true", help="accept any non-empty token")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    api = FakeGraphApi(page_access_token=None if args.any_token else args.token)
    print(f"Fake Graph API on http://{args.host}:{args.port} (GET /_calls, POST /_fail)",
          flush=True)
    web.run_app(api.app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
