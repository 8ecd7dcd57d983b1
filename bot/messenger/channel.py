"""Our Rasa input channel for a Facebook Page: the webhook Meta calls, and its inbox worker.

Configured in `credentials.yml` as ``bot.messenger.channel.MessengerInput:``; Rasa mounts it
at ``/webhooks/messenger/``. Secrets come from `.env` (PAGE_ACCESS_TOKEN, APP_SECRET,
VERIFY_TOKEN); without them the webhook answers 503 and the rest of the bot runs.

* ``GET /webhooks/messenger/webhook``: Meta's verification handshake.
* ``POST /webhooks/messenger/webhook``: the checks of `bot.messenger.webhook`, then every
  event stored in the durable inbox; the 200 goes back before any NLU. Rasa's event loop
  also runs the NLU, so under load this route's 200 waits for it: Meta should call the
  dedicated receiver (`bot.messenger.ingress`, same checks), which wakes the worker here
  through ``POST /webhooks/messenger/wake``.
* The inbox worker (`bot.messenger.worker`) starts with the server, takes over events left
  unprocessed by a previous run, and processes events in order per conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.app_context import Services, acquire_shared, messenger_context, release_shared
from bot.messenger.group_commit import GroupCommit
from bot.messenger.inbox import Inbox
from bot.messenger.processor import EventProcessor
from bot.messenger.signature import SIGNATURE_HEADER
from bot.messenger.webhook import (
    DEFAULT_MAX_BODY_BYTES,
    WebhookAnswer,
    receive,
    too_large,
    verify_handshake,
)
from bot.messenger.worker import InboxWorker
from bot.settings import get_settings

logger = logging.getLogger(__name__)


def _as_response(answer: WebhookAnswer) -> HTTPResponse:
    if isinstance(answer.body, str):
        return response.text(answer.body, status=answer.status)
    return response.json(answer.body, status=answer.status)


class MessengerInput(InputChannel):
    """The Messenger webhook channel.

    Args:
        max_body_bytes: the largest body accepted (credentials key ``max_body_bytes``).
    """

    @classmethod
    def name(cls) -> str:
        """Rasa's name for the channel (and its URL prefix)."""
        return "messenger"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MessengerInput:
        """Built from its `credentials.yml` entry; secrets come from `.env`."""
        credentials = credentials or {}
        return cls(max_body_bytes=int(credentials.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)))

    def __init__(self, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        self.max_body_bytes = max_body_bytes
        self.settings = get_settings()
        self.inbox: Inbox | None = None
        self.intake: GroupCommit | None = None
        self.worker: InboxWorker | None = None
        self.services: Services | None = None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The webhook routes, and the worker's start and stop."""
        webhook = Blueprint("messenger_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json(
                {"status": "ok", "configured": self.settings.messenger.configured}
            )

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self._verify(request)

        @webhook.route("/webhook", methods=["POST"])
        async def receive_webhook(request: Request) -> HTTPResponse:
            return await self._receive(request)

        @webhook.route("/wake", methods=["POST"])
        async def wake(_: Request) -> HTTPResponse:
            # the webhook receiver stored events: look now rather than at the next poll
            if self.worker is not None:
                await self.worker.notify()
            return response.json({"woken": self.worker is not None})

        @webhook.listener("after_server_start")
        async def start_worker(app: Any, _: Any) -> None:
            await self._start(app, on_new_message)

        @webhook.listener("before_server_stop")
        async def stop_worker(_: Any, __: Any) -> None:
            await self._stop()

        return webhook

    # ---------------------------------------------------------------- webhook

    def _verify(self, request: Request) -> HTTPResponse:
        """Meta's handshake."""
        return _as_response(verify_handshake(
            self.settings.messenger, request.args.get("hub.mode"),
            request.args.get("hub.verify_token"), request.args.get("hub.challenge"),
        ))

    async def _receive(self, request: Request) -> HTTPResponse:
        """Checks, stores, acknowledges; wakes the worker."""
        declared = request.headers.get("content-length") or ""
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return _as_response(too_large(self.max_body_bytes))
        answer = await receive(
            self.settings.messenger, self.intake, request.body or b"",
            request.headers.get(SIGNATURE_HEADER), self.max_body_bytes,
            content_encoding=request.headers.get("content-encoding"),
        )
        if answer.new_event_ids and self.worker is not None:
            await self.worker.notify()
        return _as_response(answer)

    # ----------------------------------------------------------------- worker

    async def _start(
        self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Builds the services (`bot.app_context`), starts the inbox worker (if configured)."""
        settings = self.settings
        messenger = settings.messenger
        if not messenger.configured:
            logger.info("messenger: not configured; the webhook answers 503")
            return
        services = await asyncio.to_thread(acquire_shared)
        self.services = services
        self.inbox = services.inbox
        self.intake = GroupCommit(self.inbox)

        async def parse(text: str) -> dict[str, Any]:
            return await app.ctx.agent.parse_message(text)

        async def tracker_holds(sender_id: str, message_id: str) -> bool:
            tracker = await app.ctx.agent.tracker_store.retrieve(sender_id)
            return tracker is not None and any(
                isinstance(event, UserUttered) and event.message_id == message_id
                for event in tracker.events
            )

        context = messenger_context(
            services, handle_message=on_new_message, parse=parse,
            responses=lambda: app.ctx.agent.domain.responses, tracker_holds=tracker_holds,
        )
        processor = EventProcessor(context)
        self.worker = InboxWorker(
            self.inbox, processor.process,
            concurrency=messenger.inbox_workers,
            # one process per SQLite file: nothing else is working on what it left behind
            recover_on_start=services.engine.dialect.name == "sqlite",
            on_quarantine=processor.quarantined,
            heartbeat_seconds=messenger.heartbeat_seconds,
        )
        recovered = await self.worker.start()
        logger.info("messenger: inbox worker started (%d recovered)", recovered)

    async def _stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        if self.services is not None:
            self.services = None
            await release_shared()
