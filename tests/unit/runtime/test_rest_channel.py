"""The guarded REST channel over real HTTP: open (loopback only), token, off.

Each test serves the channel's blueprint as Rasa mounts it (`rasa.core.channels.channel.
register`, at /webhooks/rest/) on a Sanic server bound to a socket of ours, and talks to it
with aiohttp. The bot is a stub that records each message and answers "echo: <text>".
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.runtime.rest_channel import GuardedRestInput, Refusal, refusal
from bot.settings import Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parents[3]
TOKEN = "s3cret-rest-token-for-tests"
_apps = itertools.count()


@pytest.fixture(autouse=True)
def _sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets one process start several Sanic apps (Sanic 21.12 touches methods up only once)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


def _settings(tmp_path: Path, **environ: str) -> Settings:
    return load_settings({"NIGHTDESK_HOME": str(tmp_path), **environ})


class _Bot:
    """Stands in for Rasa's agent: records the messages, echoes each."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id,
                                                       f"echo: {message.text}")


def _socket(host: str = "127.0.0.1") -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def _serve(
    channel: GuardedRestInput,
    talk: Callable[[aiohttp.ClientSession, str], Awaitable[Any]],
    host: str = "127.0.0.1",
) -> tuple[_Bot, Any]:
    """Serves the channel as Rasa does, runs `talk(session, base_url)`, stops the server."""
    bot = _Bot()

    async def main() -> Any:
        app = Sanic(f"rest_channel_test_{next(_apps)}")
        app.ctx.agent = type("Agent", (), {"handle_message": staticmethod(bot)})()
        register([channel], app, route="/webhooks/")
        sock = _socket(host)
        port = sock.getsockname()[1]
        server = await app.create_server(sock=sock, return_asyncio_server=True,
                                         access_log=False)
        assert server is not None
        await server.startup()
        await server.start_serving()
        netloc = f"[{host}]" if ":" in host else host
        try:
            async with aiohttp.ClientSession() as session:
                return await talk(session, f"http://{netloc}:{port}/webhooks/rest")
        finally:
            server.close()
            await server.wait_closed()
            sock.close()

    return bot, asyncio.run(main())


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    async with session.post(url, json=body, headers=headers or {}) as answer:
        return answer.status, await answer.json(content_type=None), answer.headers


async def _get(session: aiohttp.ClientSession, url: str,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with session.get(url, headers=headers or {}) as answer:
        return answer.status, await answer.json(content_type=None)


MESSAGE = {"sender": "1234567890123456", "message": "hello",
           "metadata": {"first_name": "Anna"}}


# --- the decision, as a pure function ---------------------------------------------------


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_open_serves_loopback_peers(peer: str) -> None:
    assert refusal("open", None, peer, None) is None


@pytest.mark.parametrize("peer", ["10.0.0.5", "203.0.113.7", "2001:db8::1", "0.0.0.0", "",
                                  "::ffff:10.0.0.5", "not-an-ip"])
def test_open_refuses_every_other_peer(peer: str) -> None:
    refused = refusal("open", None, peer, None)
    assert refused is not None and refused.status == 403


def test_open_refuses_a_proxied_request_even_from_loopback() -> None:
    refused = refusal("open", None, "127.0.0.1", None, proxied=True)
    assert refused is not None and refused.status == 403 and "proxy" in refused.message


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Basic czNjcmV0", f"Bearer {TOKEN}x", f"Token {TOKEN}",
    "Bearer wrong", "Bearer ünïcode",
])
def test_token_refuses_a_missing_or_wrong_token(authorization: str | None) -> None:
    assert refusal("token", TOKEN, "127.0.0.1", authorization) == Refusal(
        401, "the REST channel needs 'Authorization: Bearer <token>' with the right token")


@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}", f"bearer {TOKEN}",
                                           f"  Bearer   {TOKEN}  "])
def test_token_serves_the_right_token_from_anywhere(authorization: str) -> None:
    assert refusal("token", TOKEN, "203.0.113.7", authorization) is None


def test_token_mode_without_a_token_refuses_everything() -> None:
    assert refusal("token", None, "127.0.0.1", "Bearer ")
    assert refusal("token", "", "127.0.0.1", "Bearer x")


@pytest.mark.parametrize("mode", ["off", "OFF", "bogus", ""])
def test_off_and_anything_unknown_is_404(mode: str) -> None:
    refused = refusal(mode, TOKEN, "127.0.0.1", f"Bearer {TOKEN}")
    assert refused is not None and refused.status == 404 and "off" in refused.message


# --- over HTTP ----------------------------------------------------------------------------


def test_open_mode_answers_a_loopback_client_as_rasas_rest_channel(tmp_path: Path) -> None:
    channel = GuardedRestInput(_settings(tmp_path))

    async def talk(session: aiohttp.ClientSession, base: str) -> Any:
        return await _get(session, f"{base}/"), await _post(session, f"{base}/webhook", {
            **MESSAGE, "input_channel": "messenger"})

    bot, (health, (status, replies, _)) = _serve(channel, talk)
    assert health == (200, {"status": "ok"})
    assert status == 200
    assert replies == [{"recipient_id": MESSAGE["sender"], "text": "echo: hello"}]
    [message] = bot.messages
    assert message.sender_id == MESSAGE["sender"] and message.text == "hello"
    assert message.metadata == {"first_name": "Anna"}
    assert message.input_channel == "rest"  # the body's "messenger" is not believed


def test_an_answered_message_is_counted_with_its_latency_a_refused_one_is_not(
    tmp_path: Path, fresh_metrics
) -> None:
    def talk_through(channel: GuardedRestInput) -> None:
        async def talk(session: aiohttp.ClientSession, base: str) -> Any:
            return await _post(session, f"{base}/webhook", MESSAGE)

        _serve(channel, talk)

    talk_through(GuardedRestInput(_settings(tmp_path)))
    talk_through(GuardedRestInput(_settings(tmp_path), peer_of=lambda _request: "203.0.113.7"))
    assert fresh_metrics.sample("nightdesk_messages_received_total", {"channel": "rest"}) == 1
    assert fresh_metrics.sample("nightdesk_answer_latency_seconds_count",
                                {"channel": "rest"}) == 1


def test_open_mode_refuses_a_non_loopback_peer_with_403(tmp_path: Path) -> None:
    channel = GuardedRestInput(_settings(tmp_path), peer_of=lambda _request: "203.0.113.7")

    async def talk(session: aiohttp.ClientSession, base: str) -> Any:
        return await _post(session, f"{base}/webhook", MESSAGE), await _get(session, f"{base}/")

    bot, ((status, body, _), health) = _serve(channel, talk)
    assert status == 403 and "this machine only" in body["error"]
    assert health[0] == 403
    assert bot.messages == []


def test_open_mode_refuses_a_request_through_a_proxy(tmp_path: Path) -> None:
    channel = GuardedRestInput(_settings(tmp_path))

    async def talk(session: aiohttp.ClientSession, base: str) -> Any:
        return [await _post(session, f"{base}/webhook", MESSAGE, {name: "127.0.0.1"})
                for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP")]

    bot, answers = _serve(channel, talk)
    assert [status for status, _, _ in answers] == [403, 403, 403]
    assert bot.messages == []


def _non_loopback_address() -> str | None:
    """One of this machine's own non-loopback IPv4 addresses, if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_open_mode_refuses_a_real_non_loopback_socket_peer(tmp_path: Path) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    channel = GuardedRestInput(_settings(tmp_path))  # the real socket peer, nothing injected

    async def talk(session: aiohttp.ClientSession, base: str) -> Any:
        return await _post(session, f"{base}/webhook", MESSAGE)

    bot, (status, body, _) = _serve(channel, talk, host=address)
    assert status == 403 and "this machine only" in body["error"]
    assert bot.messages == []


def test_token_mode_needs_the_bearer_token(tmp_path: Path) -> None:
    channel = GuardedRestInput(_settings(tmp_path, REST_CHANNEL="token",
                                         REST_CHANNEL_TOKEN=TOKEN),
                               peer_of=lambda _request: "203.0.113.7")

    async def talk(session: aiohttp.ClientSession, base: str) -> Any:
        url = f"{base}/webhook"
        return (await _post(session, url, MESSAGE),
                await _post(session, url, MESSAGE, {"Authorization": "Bearer nope"}),
                await _get(session, f"{base}/"),
                await _post(session, url, MESSAGE, {"Authorization": f"Bearer {TOKEN}"}))

    bot, (missing, wrong, health, right) = _serve(channel, talk)
    assert missing[0] == 401 and "Bearer" in missing[1]["error"]
    assert missing[2]["WWW-Authenticate"].startswith("Bearer")
    assert wrong[0] == 401
    assert health[0] == 401
    assert right[0] == 200 and right[1] == [
        {"recipient_id": MESSAGE["sender"], "text": "echo: hello"}]
    assert len(bot.messages) == 1
    assert TOKEN not in str(missing[1]) + str(wrong[1])


def test_off_mode_answers_404_on_every_route(tmp_path: Path) -> None:
    channel = GuardedRestInput(_settings(tmp_path, REST_CHANNEL="off",
                                         REST_CHANNEL_TOKEN=TOKEN))

    async def talk(session: aiohttp.ClientSession, base: str) -> Any:
        return (await _post(session, f"{base}/webhook", MESSAGE),
                await _post(session, f"{base}/webhook?stream=true", MESSAGE,
                            {"Authorization": f"Bearer {TOKEN}"}),
                await _get(session, f"{base}/"))

    bot, (post, streamed, health) = _serve(channel, talk)
    for status, body in (post[:2], streamed[:2], health):
        assert status == 404
        assert body == {"error": "the REST channel is off (REST_CHANNEL=off)"}
    assert bot.messages == []


# --- configuration -------------------------------------------------------------------------


def test_credentials_use_the_guarded_channel_not_rasas_plain_rest() -> None:
    credentials = yaml.safe_load((PROJECT_DIR / "credentials.yml").read_text(encoding="utf-8"))
    assert "rest" not in credentials
    assert "bot.runtime.rest_channel.GuardedRestInput" in credentials


def test_the_channel_keeps_rasas_name_and_reads_the_settings_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.runtime.rest_channel as rest_channel

    monkeypatch.setattr(rest_channel, "get_settings",
                        lambda: _settings(tmp_path, REST_CHANNEL="off"))
    channel = GuardedRestInput.from_credentials(None)
    assert channel.name() == "rest" and channel.url_prefix() == "rest"
    assert channel.settings.rest_channel == "off"


def test_the_shell_sends_the_token_and_says_why_it_was_refused(tmp_path: Path, capsys) -> None:
    from bot.runtime.shell import run_shell, send

    channel = GuardedRestInput(_settings(tmp_path, REST_CHANNEL="token",
                                         REST_CHANNEL_TOKEN=TOKEN),
                               peer_of=lambda _request: "203.0.113.7")

    async def talk(_: aiohttp.ClientSession, base: str) -> Any:
        rasa_url = base.removesuffix("/webhooks/rest")
        answered = await asyncio.to_thread(send, rasa_url, "shell-1", "hello", None,
                                           token=TOKEN)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("builtins.input", lambda _prompt: "hello")
            refused = await asyncio.to_thread(run_shell, rasa_url, None, "shell-2", None)
        return answered, refused

    bot, (answered, refused) = _serve(channel, talk)
    assert answered == [{"recipient_id": "shell-1", "text": "echo: hello"}]
    assert refused == 1 and len(bot.messages) == 1
    said = capsys.readouterr().out
    assert "The REST channel refused the message (HTTP 401: " in said and "REST_CHANNEL" in said
