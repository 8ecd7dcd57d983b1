"""Rasa's REST channel, guarded: loopback only, a Bearer token, or off (REST_CHANNEL).

Rasa's stock ``rest`` channel accepts any ``sender`` from anyone who reaches the Rasa port,
so it can write into any customer's conversation (Rasa keys a conversation by its sender id
alone: a Messenger PSID works too). It is for development and tests (`nightdesk shell`, the
end-to-end tests). This channel, configured in `credentials.yml` as
``bot.runtime.rest_channel.GuardedRestInput:`` instead of ``rest:``, keeps Rasa's name
("rest"), URLs (``GET /webhooks/rest/`` and ``POST /webhooks/rest/webhook``) and request
shape, and puts a check in front of every route, from `Settings.rest_channel`:

* ``open`` (the default, for development): no token, but only a loopback socket peer is
  served; any other gets 403. The peer is the socket's (`Request.ip`), never a header; a
  request that carries a proxy header (Forwarded, X-Forwarded-For, X-Real-IP) is refused
  too, since a proxy on this machine would make every client look like loopback.
* ``token``: every request needs ``Authorization: Bearer <REST_CHANNEL_TOKEN>``, else 401.
* ``off`` (production): every route answers 404 ``{"error": ...}``.

The message's ``input_channel`` is always "rest": a caller cannot claim to be Messenger.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.observability.metrics import count_received, observe_answer
from bot.runtime.exposure import is_loopback
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
"""Headers a reverse proxy adds: their presence means the socket peer is not the client."""


@dataclass(frozen=True)
class Refusal:
    """Why a request is not served: the HTTP status and a message safe to show."""

    status: int
    message: str


def _bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def refusal(
    mode: str,
    expected_token: str | None,
    peer: str,
    authorization: str | None,
    proxied: bool = False,
) -> Refusal | None:
    """Decides whether one request to the REST channel is refused (None: it is served).

    Args:
        mode: REST_CHANNEL, "open", "token" or "off" (anything else is treated as off).
        expected_token: REST_CHANNEL_TOKEN (token mode refuses everything without one).
        peer: the socket peer's IP address.
        authorization: the request's Authorization header, if any.
        proxied: whether the request carries a proxy header (`PROXY_HEADERS`).
    """
    if mode == "open":
        if proxied:
            return Refusal(403, "the REST channel is open to this machine only and this "
                                "request came through a proxy; set REST_CHANNEL=token")
        if not is_loopback(peer):
            return Refusal(403, "the REST channel is open to this machine only; "
                                "set REST_CHANNEL=token to use it from elsewhere")
        return None
    if mode == "token":
        given = _bearer(authorization)
        if not expected_token or given is None or not hmac.compare_digest(
            given.encode("utf-8"), expected_token.encode("utf-8")
        ):
            return Refusal(401, "the REST channel needs 'Authorization: Bearer <token>' "
                                "with the right token")
        return None
    return Refusal(404, "the REST channel is off (REST_CHANNEL=off)")


def socket_peer(request: Request) -> str:
    """The IP address of the connection's other end (no header is believed)."""
    return request.ip or ""


class GuardedRestInput(RestInput):
    """Rasa's REST channel behind the REST_CHANNEL check (see the module's docstring).

    Args:
        settings: where the mode and token come from; `get_settings()` by default.
        peer_of: the peer address of a request; the socket's by default (tests inject one).
    """

    @classmethod
    def name(cls) -> str:
        """Rasa's name for the channel (and its URL prefix), as the stock one: "rest"."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GuardedRestInput:
        """Built from its `credentials.yml` entry (no keys: everything comes from settings)."""
        return cls()

    def __init__(
        self,
        settings: Settings | None = None,
        peer_of: Callable[[Request], str] = socket_peer,
    ) -> None:
        # settings are read now, at Rasa's start, so a bad REST_CHANNEL stops it at once
        self.settings = settings or get_settings()
        self.peer_of = peer_of

    def _extract_input_channel(self, req: Request) -> str:
        """Always "rest": the body's ``input_channel`` is not believed."""
        return self.name()

    def check(self, request: Request) -> Refusal | None:
        """The refusal for this request, or None when it is served."""
        return refusal(
            self.settings.rest_channel,
            self.settings.rest_channel_token,
            self.peer_of(request),
            request.headers.get("authorization"),
            proxied=any(name in request.headers for name in PROXY_HEADERS),
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's REST routes, each behind `check`."""
        rest = super().blueprint(on_new_message)
        mode = self.settings.rest_channel
        logger.info("REST channel: %s", {
            "open": "open to loopback peers only (development)",
            "token": "Bearer token required",
        }.get(mode, "off"))

        @rest.middleware("request")
        async def note_arrival(request: Request) -> None:
            request.ctx.nightdesk_arrived = time.perf_counter()

        @rest.middleware("response")
        async def time_answer(request: Request, answer: HTTPResponse) -> None:
            arrived = getattr(request.ctx, "nightdesk_arrived", None)
            if arrived is None or request.method != "POST" or answer.status != 200:
                return
            count_received(self.name())
            if (answer.body or b"[]").strip() != b"[]":  # a paused bot answers nothing
                observe_answer(self.name(), time.perf_counter() - arrived)

        @rest.middleware("request")
        async def guard(request: Request) -> HTTPResponse | None:
            refused = self.check(request)
            if refused is None:
                return None
            if refused.status != 404:
                logger.warning("REST channel: request refused (%d)", refused.status)
            headers = ({"WWW-Authenticate": 'Bearer realm="nightdesk-rest"'}
                       if refused.status == 401 else {})
            return response.json({"error": refused.message}, status=refused.status,
                                 headers=headers)

        return rest
