"""Our Rasa input channel for the local web chat, which looks and behaves like Messenger.

Configured in `credentials.yml` as ``bot.webchat.channel.WebChatInput:``; Rasa mounts it at
``/webhooks/webchat/``:

* ``GET /webhooks/webchat/``: the chat page, with the brand's bot name, avatar, welcome
  text, ice breakers and menu from `brand.yml`.
* ``GET /webhooks/webchat/static/<file>``: its stylesheet and script.
* ``GET /webhooks/webchat/session``: the browser's conversation, ``{"conversation": id}``;
  a browser without a valid session cookie gets a new session (and its cookie) first.
  ``POST`` to the same path always starts a new one (the page's "New chat"); a browser's
  POST whose ``Origin`` is another site is refused (403).
* ``POST /webhooks/webchat/webhook``: one message (see `bot.webchat.chat_request`): typed
  ``message`` text, read as words even when it starts with "/", or a tapped button's
  ``payload``, which must trigger an intent of the model's domain; the answer is the list
  of the bot's messages, in Rasa's REST shape (``text``, ``buttons``, ``image``,
  ``custom``). A bad request gets 400, a body over the limit 413, each with ``{"error": ...}``.
  Without a valid session cookie the message opens a new session, whose cookie comes with
  the answer, so a fresh visitor just works.
* ``GET /webhooks/webchat/agent_messages?after=N``: a person's replies from the desk to the
  cookie's conversation stored after message N (`bot.webchat.agent_messages`), as
  ``{"messages": [{"id", "text", "at"}]}``; the page asks every few seconds. Without a valid
  session cookie: 401.

The conversation is never the client's to name: Rasa keys conversations by sender id
alone, whatever the channel, so a page that chose its own id could write into a Messenger
customer's conversation and read the bot's answers. The server makes each browser's id
(`bot.webchat.sessions`) and keeps it by the HttpOnly, SameSite=Lax cookie
``nightdesk_webchat`` (path ``/webhooks/webchat``, 30 days, refreshed as the chat is used).
A request that names a conversation anyway (``"sender"`` in the body, ``?sender=`` in the
query) gets 400. The cookie is ``Secure`` when the request came over HTTPS: Sanic's
``request.scheme`` (TLS here, or a proxy Sanic was told to trust) or an ``X-Forwarded-Proto:
https`` header (taken at its word, since all it can do is make the client's own cookie
stricter).

Nothing about the customer or the token is logged here; the message goes to Rasa, whose
logs are redacted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.app_context import Services, acquire_shared, release_shared
from bot.observability.metrics import count_received, observe_answer
from bot.settings import get_brand
from bot.understanding.typed_text import is_intent_payload
from bot.webchat.agent_messages import WEBCHAT_CHANNEL, AgentMessageBox
from bot.webchat.chat_request import (
    ChatRequestError,
    parse_chat_request,
    refuse_client_conversation,
)
from bot.webchat.page import load_static_files, page_language, render_page
from bot.webchat.sessions import COOKIE_NAME, MAX_IDLE, OpenedSession, WebChatSessions

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 16384
MOUNT_PATH = "/webhooks/webchat"
COOKIE_MAX_AGE_SECONDS = int(MAX_IDLE.total_seconds())

NO_SESSION = ("no chat session: the conversation comes from the chat's session cookie;"
              " open the chat page (or GET session) first")


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _same_site(request: Request) -> bool:
    """Whether a POST comes from our own pages.

    A browser's ``Origin``, when it sends one, must name this host: another site's form
    cannot reset a visitor's chat.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site request (browsers send Origin on POST)
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()


def _is_our_payload(request: Request, payload: str) -> bool:
    """Whether a tapped payload triggers an intent of the loaded model's domain.

    Without a loaded model there is no domain to check against, and no bot to answer:
    only the payload's shape (checked already) counts then.
    """
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    intents = getattr(domain, "intents", None)
    return is_intent_payload(payload, set(intents) if intents else None)


def _over_https(request: Request) -> bool:
    """Whether the request came over HTTPS (directly, or by a proxy saying so)."""
    forwarded = request.headers.get("x-forwarded-proto", "")
    proto = forwarded.split(",")[0].strip().lower()
    try:
        scheme = request.scheme
    except Exception:  # noqa: BLE001 - an odd request line: not known to be https
        scheme = ""
    return scheme == "https" or proto == "https"


def _set_session_cookie(request: Request, answer: HTTPResponse, token: str) -> HTTPResponse:
    """Puts the session token in the HttpOnly, SameSite=Lax cookie of the web chat's paths."""
    answer.cookies[COOKIE_NAME] = token
    cookie = answer.cookies[COOKIE_NAME]
    cookie["path"] = MOUNT_PATH
    cookie["max-age"] = COOKIE_MAX_AGE_SECONDS
    cookie["httponly"] = True
    cookie["samesite"] = "Lax"
    if _over_https(request):
        cookie["secure"] = True
    return answer


class _SessionUnavailable(Exception):
    """The sessions table could not be read or written (the details are in the log)."""


class WebChatInput(InputChannel):
    """The web chat channel.

    Args:
        max_body_bytes: the largest request accepted (credentials key ``max_body_bytes``).
    """

    @classmethod
    def name(cls) -> str:
        """Rasa's name for the channel (and its URL prefix)."""
        return WEBCHAT_CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        """Built from its `credentials.yml` entry."""
        credentials = credentials or {}
        return cls(max_body_bytes=int(credentials.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)))

    def __init__(self, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        self.max_body_bytes = max_body_bytes
        brand = get_brand()
        self.pages = {code: render_page(brand, MOUNT_PATH, code) for code in brand.languages}
        self.static_files = load_static_files()
        self._agent_messages: AgentMessageBox | None = None
        self._sessions: WebChatSessions | None = None
        self._sessions_lock: asyncio.Lock | None = None
        self._built: Services | None = None
        self._build_lock: asyncio.Lock | None = None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The page, its files, the session and the message routes."""
        webchat = Blueprint("webchat", __name__)

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            language = page_language(get_brand(), request.args.get("lang"),
                                     request.headers.get("accept-language"))
            answer = response.html(self.pages[language], headers={
                "Cache-Control": "no-cache", "Content-Language": language,
                "Vary": "Accept-Language"})
            token = request.cookies.get(COOKIE_NAME)
            try:  # a returning browser's cookie lives on; the script opens a new one
                if token and await self._conversation_of(token):
                    _set_session_cookie(request, answer, token)
            except _SessionUnavailable:
                pass  # the page still loads; the script will ask again
            return answer

        @webchat.route("/static/<file_name>", methods=["GET"])
        async def static_file(_: Request, file_name: str) -> HTTPResponse:
            found = self.static_files.get(file_name)
            if found is None:
                return _error(404, f"no static file {file_name!r}")
            return response.raw(found.body, content_type=found.content_type)

        @webchat.route("/session", methods=["GET", "POST"])
        async def session(request: Request) -> HTTPResponse:
            return await self._session(request)

        @webchat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @webchat.route("/agent_messages", methods=["GET"])
        async def agent_messages(request: Request) -> HTTPResponse:
            return await self._agent_messages_after(request)

        @webchat.listener("before_server_stop")
        async def close_services(_: Any, __: Any) -> None:
            await self._close()

        return webchat

    # ------------------------------------------------------------------ the database

    async def _services(self) -> Services:
        """The process's services (`bot.app_context`), built off the event loop on first use."""
        if self._built is not None:
            return self._built
        if self._build_lock is None:
            self._build_lock = asyncio.Lock()
        async with self._build_lock:
            if self._built is None:
                self._built = await asyncio.to_thread(acquire_shared)
        return self._built

    async def _close(self) -> None:
        """Lets go of the shared services, if it took them (the server stops).

        A first request still building them is waited for, so that its hold is let go too.
        """
        if self._build_lock is not None:
            async with self._build_lock:
                built, self._built = self._built, None
        else:
            built, self._built = self._built, None
        if built is not None:
            await release_shared()

    async def _box(self) -> AgentMessageBox:
        if self._agent_messages is None:
            self._agent_messages = AgentMessageBox((await self._services()).engine)
        return self._agent_messages

    async def _session_store(self) -> WebChatSessions:
        """The sessions, their table made first if the database has none yet (once)."""
        if self._sessions is not None:
            return self._sessions
        if self._sessions_lock is None:
            self._sessions_lock = asyncio.Lock()
        async with self._sessions_lock:
            if self._sessions is None:
                store = WebChatSessions((await self._services()).engine)
                await asyncio.to_thread(store.ensure_table)
                self._sessions = store
        return self._sessions

    async def _conversation_of(self, token: str | None) -> str | None:
        """The conversation of a cookie's token, or None; `_SessionUnavailable` on failure."""
        if not token:
            return None
        try:
            store = await self._session_store()
            return await asyncio.to_thread(store.conversation_of, token)
        except Exception as error:
            logger.error("web chat: a session could not be read (%s)", type(error).__name__)
            raise _SessionUnavailable from None

    async def _open_session(self) -> OpenedSession:
        """A new session; `_SessionUnavailable` on failure."""
        try:
            store = await self._session_store()
            return await asyncio.to_thread(store.open)
        except Exception as error:
            logger.error("web chat: a session could not be opened (%s)", type(error).__name__)
            raise _SessionUnavailable from None

    async def _session_or_new(self, request: Request,
                              fresh: bool = False) -> tuple[str, str]:
        """The cookie's (token, conversation), or a new session's.

        A new one when the cookie holds no valid session, or when `fresh`;
        `_SessionUnavailable` on failure.
        """
        token = request.cookies.get(COOKIE_NAME)
        conversation = None if fresh else await self._conversation_of(token)
        if conversation is None or token is None:
            opened = await self._open_session()
            return opened.token, opened.conversation_id
        return token, conversation

    # ------------------------------------------------------------------ routes

    async def _session(self, request: Request) -> HTTPResponse:
        """GET: the cookie's conversation (a new session without one); POST: a new session."""
        try:
            refuse_client_conversation(request.args)
        except ChatRequestError as error:
            return _error(400, str(error))
        if request.method == "POST" and not _same_site(request):
            return _error(403, "a new chat can only be started from the chat's own page")
        try:
            token, conversation = await self._session_or_new(
                request, fresh=request.method == "POST")
        except _SessionUnavailable:
            return _error(503, "the chat's session cannot be opened right now")
        answer = response.json({"conversation": conversation},
                               headers={"Cache-Control": "no-store"})
        return _set_session_cookie(request, answer, token)

    async def _agent_messages_after(self, request: Request) -> HTTPResponse:
        try:
            refuse_client_conversation(request.args)
        except ChatRequestError as error:
            return _error(400, str(error))
        after = request.args.get("after") or "0"
        if not after.isdigit() or len(after) > 18:
            return _error(400, "'after' must be a message number (0 for all)")
        try:
            conversation = await self._conversation_of(request.cookies.get(COOKIE_NAME))
        except _SessionUnavailable:
            return _error(503, "people's messages cannot be read right now")
        if conversation is None:
            return _error(401, NO_SESSION)
        try:
            box = await self._box()
            found = await asyncio.to_thread(box.after, conversation, int(after))
        except Exception as error:  # the page keeps asking; details stay in the log
            logger.error("web chat: people's messages could not be read (%s)",
                         type(error).__name__)
            return _error(503, "people's messages cannot be read right now")
        return response.json({"messages": [message.as_json() for message in found]},
                             headers={"Cache-Control": "no-store"})

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        arrived = time.perf_counter()
        raw = request.body or b""
        if len(raw) > self.max_body_bytes:
            return _error(413, f"the request is larger than {self.max_body_bytes} bytes")
        try:
            refuse_client_conversation(request.args)
            chat = parse_chat_request(raw)
        except ChatRequestError as error:
            return _error(400, str(error))
        if chat.payload is not None and not _is_our_payload(request, chat.payload):
            return _error(400, "'payload' is not one of the bot's buttons")
        try:
            token, conversation = await self._session_or_new(request)
        except _SessionUnavailable:
            return _error(503, "the chat's session cannot be opened right now; please try again")
        collector = CollectingOutputChannel()
        count_received(self.name())
        try:
            await on_new_message(
                UserMessage(
                    chat.text, collector, conversation,
                    input_channel=self.name(), metadata=chat.metadata(),
                )
            )
        except Exception as error:  # the page shows an error bubble; details stay in the log
            logger.error("web chat: the bot failed on a message (%s)", type(error).__name__)
            return _set_session_cookie(request, _error(
                500, "the bot could not answer this message; please try again"), token)
        headers = {}
        language = await self._conversation_language(request, conversation)
        if language:
            headers["X-Conversation-Language"] = language
        if collector.messages:
            observe_answer(self.name(), time.perf_counter() - arrived)
        return _set_session_cookie(request, response.json(collector.messages, headers=headers),
                                   token)

    @staticmethod
    async def _conversation_language(request: Request, conversation: str) -> str | None:
        """The conversation's language slot after the bot answered, for the page's texts."""
        agent = getattr(request.app.ctx, "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return None
        try:
            tracker = await store.retrieve(conversation)
        except Exception as error:  # the answer still goes out; the page keeps its language
            logger.warning("web chat: the conversation's language is unknown (%s)",
                           type(error).__name__)
            return None
        value = tracker.get_slot("language") if tracker is not None else None
        return value if isinstance(value, str) and value in get_brand().languages else None
