"""The webhook receiver Meta calls: check, store, acknowledge, and wake the bot. Nothing else.

Rasa runs its NLU and dialogue on its own event loop, so a webhook served by the Rasa process
waits behind whatever the bot is computing. This small aiohttp server does only the work of
`bot.messenger.webhook` (size, signature, JSON, store in the inbox), so Meta gets its 200 in
milliseconds whatever the load, then tells the Rasa process(es) to look at the inbox
(``POST {RASA_URL}/webhooks/messenger/wake``, fire and forget; the workers also poll).

It is also the one part that stays up when the bot is down, so it runs the holding watch
(`bot.messenger.holding`): when Rasa does not answer its status URL while customers' messages
have waited MESSENGER_HOLDING_AFTER_SECONDS, each of them gets one honest holding message and
a case; the bot answers the messages itself once it is back.

Run it with ``python -m bot.messenger.ingress`` (`nightdesk up` does when Messenger is
configured); it listens on MESSENGER_INGRESS_HOST:MESSENGER_INGRESS_PORT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import yaml
from aiohttp import hdrs, web

from bot.app_context import build, holding_replies, service_checks
from bot.handoff.log_redaction import install_log_redaction
from bot.messenger.group_commit import GroupCommit
from bot.messenger.holding import HoldingReplies, HoldingWatch
from bot.messenger.inbox import Inbox
from bot.messenger.signature import SIGNATURE_HEADER
from bot.messenger.webhook import (
    DEFAULT_MAX_BODY_BYTES,
    WebhookAnswer,
    receive,
    too_large,
    verify_handshake,
)
from bot.observability.aiohttp_probes import add_probe_routes
from bot.observability.health import Check, Readiness, condition_check
from bot.observability.metrics import Metrics, current
from bot.observability.probes import Probes
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/messenger/webhook"

_SETTINGS = web.AppKey("settings", Settings)
_INTAKE = web.AppKey("intake", GroupCommit)
_SESSION = web.AppKey("session", aiohttp.ClientSession)
_TASKS = web.AppKey("tasks", set)
_WAKE = web.AppKey("wake", object)
_HOLDING = web.AppKey("holding", object)


def _as_response(answer: WebhookAnswer) -> web.Response:
    if isinstance(answer.body, str):
        return web.Response(text=answer.body, status=answer.status)
    return web.json_response(answer.body, status=answer.status)


def _unread_body_refused(answer: WebhookAnswer) -> web.Response:
    """A refusal sent before the body was read, closing the connection.

    Otherwise the unread body would be taken for the next request on a kept-alive
    connection (measured: that request hung until the client's timeout).
    """
    response = _as_response(answer)
    response.force_close()
    return response


async def _verify(request: web.Request) -> web.Response:
    query = request.query
    return _as_response(verify_handshake(
        request.app[_SETTINGS].messenger, query.get("hub.mode"), query.get("hub.verify_token"),
        query.get("hub.challenge"),
    ))


async def _receive(request: web.Request) -> web.Response:
    app = request.app
    limit = DEFAULT_MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > limit:
        return _unread_body_refused(too_large(limit))
    encoding = request.headers.get(hdrs.CONTENT_ENCODING)
    if encoding:
        # refused before reading: aiohttp would inflate the body while reading it
        return _unread_body_refused(await receive(
            app[_SETTINGS].messenger, app[_INTAKE], b"", request.headers.get(SIGNATURE_HEADER),
            limit, content_encoding=encoding,
        ))
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _unread_body_refused(too_large(limit))
    answer = await receive(
        app[_SETTINGS].messenger, app[_INTAKE], raw, request.headers.get(SIGNATURE_HEADER), limit
    )
    if answer.new_event_ids:
        wake = app[_WAKE]
        if wake.in_flight:
            wake.again = True  # one more once the current wake-up is answered
        else:
            wake.in_flight = True
            task = asyncio.create_task(_wake(app))
            app[_TASKS].add(task)
            task.add_done_callback(app[_TASKS].discard)
    return _as_response(answer)


@dataclass
class _WakeState:
    """At most one wake-up request in flight; a burst of webhooks makes one or two."""

    in_flight: bool = False
    again: bool = False


async def _wake(app: web.Application) -> None:
    """Tells the Rasa process to claim now; it would find the events at its next poll anyway."""
    url = f"{app[_SETTINGS].rasa_url}/webhooks/messenger/wake"
    wake = app[_WAKE]
    try:
        while True:
            wake.again = False
            try:
                async with app[_SESSION].post(url) as answer:
                    await answer.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                logger.debug("could not wake the bot: %s", type(error).__name__)
            if not wake.again:
                return
    finally:
        wake.in_flight = False


async def _health(request: web.Request) -> web.Response:
    return web.json_response(
        {"status": "ok", "configured": request.app[_SETTINGS].messenger.configured}
    )


async def _open_session(app: web.Application) -> None:
    app[_SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2))
    watch = app[_HOLDING]
    if isinstance(watch, HoldingWatch):
        task = asyncio.create_task(watch.run(), name="holding-watch")
        app[_TASKS].add(task)
        task.add_done_callback(app[_TASKS].discard)


async def _close_session(app: web.Application) -> None:
    for task in list(app[_TASKS]):
        task.cancel()
    await app[_SESSION].close()
    watch = app[_HOLDING]
    if isinstance(watch, HoldingWatch):
        await watch.holding.graph.close()


def bot_ready_check(app: web.Application) -> object:
    """Whether Rasa answers its status URL now (the model is loaded and it serves)."""
    settings = app[_SETTINGS]
    url = f"{settings.rasa_url}/status"

    async def ready() -> bool:
        try:
            async with app[_SESSION].get(url, params={"token": settings.rasa_auth_token}) as got:
                return got.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    return ready


def create_app(
    settings: Settings,
    inbox: Inbox,
    holding: HoldingReplies | None = None,
    check_seconds: float = 5.0,
    checks: Iterable[Check] = (),
    metrics: Metrics | None = None,
) -> web.Application:
    """The receiver's aiohttp application; with `holding`, the holding watch runs in it.

    `checks` are the readiness checks of its services (`bot.app_context.service_checks`);
    `metrics` the process's (`bot.observability.metrics.current` by default), which gets the
    inbox's depth and oldest pending age.
    """
    app = web.Application(client_max_size=DEFAULT_MAX_BODY_BYTES)
    app[_SETTINGS] = settings
    app[_INTAKE] = GroupCommit(inbox)
    app[_TASKS] = set()
    app[_WAKE] = _WakeState()
    app[_HOLDING] = None
    if holding is not None:
        app[_HOLDING] = HoldingWatch(
            inbox, holding, bot_ready_check(app),  # type: ignore[arg-type]
            timedelta(seconds=settings.messenger.holding_after_seconds),
            check_seconds=check_seconds,  # the inbox's real clock: waits are real time
        )
    app.on_startup.append(_open_session)
    app.on_cleanup.append(_close_session)
    app.router.add_get(WEBHOOK_PATH, _verify)
    app.router.add_post(WEBHOOK_PATH, _receive)
    app.router.add_get("/health", _health)
    metrics = metrics or current()
    metrics.watch_inbox(inbox.pending_summary)
    built = condition_check("services", lambda: _INTAKE in app, "not built")
    add_probe_routes(app, Probes(Readiness([built, *checks]), metrics))
    return app


def _domain_responses(settings: Settings) -> dict[str, list[dict[str, object]]]:
    """The responses of the project's `domain.yml` (the holding replies' texts)."""
    domain = yaml.safe_load((settings.project_dir / "domain.yml").read_text(encoding="utf-8"))
    return domain.get("responses") or {}


def main(argv: Sequence[str] | None = None) -> None:
    """Serves the receiver until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", help="override MESSENGER_INGRESS_HOST")
    parser.add_argument("--port", type=int, help="override MESSENGER_INGRESS_PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - "
                                                   "%(message)s")
    install_log_redaction()
    settings = get_settings()
    services = build(settings)
    messenger = settings.messenger
    if not messenger.configured:
        logger.warning("Messenger is not configured: every webhook POST gets 503")
    holding = (holding_replies(services, _domain_responses(settings))
               if messenger.configured else None)
    app = create_app(settings, services.inbox, holding, checks=service_checks(services))

    async def close_services(_: web.Application) -> None:
        await services.close()

    app.on_cleanup.append(close_services)
    web.run_app(
        app,
        host=args.host or messenger.ingress_host,
        port=args.port or messenger.ingress_port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
