"""Our Rasa input channel for the local web chat, which looks and behaves like Messenger.

Configured in `credentials.yml` as ``bot.webchat.channel.WebChatInput:``; Rasa mounts it at
``/webhooks/webchat/``:

* ``GET /webhooks/webchat/``: the chat page, with the brand's bot name, avatar, welcome
  text, ice breakers and menu from `brand.yml`.
* ``GET /webhooks/webchat/static/<file>``: its stylesheet and script.
* ``POST /webhooks/webchat/webhook``: one message (see `bot.webchat.chat_request`): typed
  ``message`` text, read as words even when it starts with "/", or a tapped button's
  ``payload``, which must trigger an intent of the model's domain; the answer is the list
  of the bot's messages, in Rasa's REST shape (``text``, ``buttons``, ``image``,
  ``custom``). A bad request gets 400, a body over the limit 413, each with ``{"error": ...}``.
* ``GET /webhooks/webchat/agent_messages?sender=S&after=N``: a person's replies from the desk
  to that conversation stored after message N (`bot.webchat.agent_messages`), as
  ``{"messages": [{"id", "text", "at"}]}``; the page asks every few seconds.

Nothing about the customer is logged here; the message goes to Rasa, whose logs are redacted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_brand, get_settings
from bot.understanding.typed_text import is_intent_payload
from bot.webchat.agent_messages import WEBCHAT_CHANNEL, AgentMessageBox
from bot.webchat.chat_request import SENDER_PATTERN, ChatRequestError, parse_chat_request
from bot.webchat.page import load_static_files, page_language, render_page

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 16384
MOUNT_PATH = "/webhooks/webchat"


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _is_our_payload(request: Request, payload: str) -> bool:
    """Whether a tapped payload triggers an intent of the loaded model's domain.

    Without a loaded model there is no domain to check against, and no bot to answer:
    only the payload's shape (checked already) counts then.
    """
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    intents = getattr(domain, "intents", None)
    return is_intent_payload(payload, set(intents) if intents else None)


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

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The page, its files and the message route."""
        webchat = Blueprint("webchat", __name__)

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            language = page_language(get_brand(), request.args.get("lang"),
                                     request.headers.get("accept-language"))
            return response.html(self.pages[language], headers={
                "Cache-Control": "no-cache", "Content-Language": language,
                "Vary": "Accept-Language"})

        @webchat.route("/static/<file_name>", methods=["GET"])
        async def static_file(_: Request, file_name: str) -> HTTPResponse:
            found = self.static_files.get(file_name)
            if found is None:
                return _error(404, f"no static file {file_name!r}")
            return response.raw(found.body, content_type=found.content_type)

        @webchat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @webchat.route("/agent_messages", methods=["GET"])
        async def agent_messages(request: Request) -> HTTPResponse:
            return await self._agent_messages_after(request)

        return webchat

    def _box(self) -> AgentMessageBox:
        if self._agent_messages is None:
            from bot.store import create_db_engine

            self._agent_messages = AgentMessageBox(create_db_engine(get_settings().database_url))
        return self._agent_messages

    async def _agent_messages_after(self, request: Request) -> HTTPResponse:
        sender = request.args.get("sender") or ""
        after = request.args.get("after") or "0"
        if not SENDER_PATTERN.fullmatch(sender):
            return _error(400, "'sender' must be 8 to 64 letters, digits, '-' or '_'")
        if not after.isdigit() or len(after) > 18:
            return _error(400, "'after' must be a message number (0 for all)")
        try:
            found = await asyncio.to_thread(self._box().after, sender, int(after))
        except Exception as error:  # the page keeps asking; details stay in the log
            logger.error("web chat: people's messages could not be read (%s)",
                         type(error).__name__)
            return _error(503, "people's messages cannot be read right now")
        return response.json({"messages": [message.as_json() for message in found]},
                             headers={"Cache-Control": "no-store"})

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        raw = request.body or b""
        if len(raw) > self.max_body_bytes:
            return _error(413, f"the request is larger than {self.max_body_bytes} bytes")
        try:
            chat = parse_chat_request(raw)
        except ChatRequestError as error:
            return _error(400, str(error))
        if chat.payload is not None and not _is_our_payload(request, chat.payload):
            return _error(400, "'payload' is not one of the bot's buttons")
        collector = CollectingOutputChannel()
        try:
            await on_new_message(
                UserMessage(
                    chat.text, collector, chat.sender,
                    input_channel=self.name(), metadata=chat.metadata(),
                )
            )
        except Exception as error:  # the page shows an error bubble; details stay in the log
            logger.error("web chat: the bot failed on a message (%s)", type(error).__name__)
            return _error(500, "the bot could not answer this message; please try again")
        headers = {}
        language = await self._conversation_language(request, chat.sender)
        if language:
            headers["X-Conversation-Language"] = language
        return response.json(collector.messages, headers=headers)

    @staticmethod
    async def _conversation_language(request: Request, sender: str) -> str | None:
        """The conversation's language slot after the bot answered, for the page's texts."""
        agent = getattr(request.app.ctx, "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return None
        try:
            tracker = await store.retrieve(sender)
        except Exception as error:  # the answer still goes out; the page keeps its language
            logger.warning("web chat: the conversation's language is unknown (%s)",
                           type(error).__name__)
            return None
        value = tracker.get_slot("language") if tracker is not None else None
        return value if isinstance(value, str) and value in get_brand().languages else None
