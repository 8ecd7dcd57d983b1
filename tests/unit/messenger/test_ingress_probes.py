"""The receiver's /healthz, /readyz and /metrics through its real aiohttp app."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app_context import service_checks
from bot.messenger.inbox import Inbox
from bot.messenger.ingress import WEBHOOK_PATH, create_app
from bot.observability.health import database_check
from bot.observability.metrics import Metrics
from bot.settings import MessengerSettings, load_settings
from bot.store import create_db_engine, ensure_schema
from tests.messenger_payloads import APP_SECRET, VERIFY_TOKEN, dm, signed


def _settings(tmp_path: Path):
    settings = load_settings({"NIGHTDESK_HOME": str(tmp_path), "RASA_URL": "http://127.0.0.1:9"})
    return dataclasses.replace(settings, messenger=MessengerSettings(
        page_access_token="token", app_secret=APP_SECRET, verify_token=VERIFY_TOKEN))


async def _talk(app, scenario):
    async with TestClient(TestServer(app)) as client:
        return await scenario(client)


def test_healthz_readyz_and_metrics_with_the_inbox_depth(tmp_path: Path, fresh_metrics) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    ensure_schema(engine)
    metrics = Metrics()
    app = create_app(_settings(tmp_path), Inbox(engine), checks=[database_check(engine)],
                     metrics=metrics)

    async def scenario(client):
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
        raw, headers = signed(dm("hello", "9100000000000001"))
        posted = await client.post(WEBHOOK_PATH, data=raw, headers=headers)
        scraped = await client.get("/metrics")
        return (alive.status, await alive.json(), ready.status, await ready.json(),
                posted.status, scraped.headers["Content-Type"], await scraped.text())

    alive, alive_body, ready, ready_body, posted, content_type, text = asyncio.run(
        _talk(app, scenario))
    assert (alive, alive_body) == (200, {"alive": True})
    assert ready == 200
    assert ready_body == {"ready": True, "checks": {"services": "ok", "database": "ok"}}
    assert posted == 200 and content_type.startswith("text/plain")
    samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
               if not s.labels}
    assert samples["nightdesk_inbox_pending_events"] == 1
    assert samples["nightdesk_inbox_oldest_pending_age_seconds"] >= 0
    assert "process_start_time_seconds" in samples
    assert fresh_metrics.sample("nightdesk_messages_received_total",
                                {"channel": "messenger"}) == 1


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    inbox_engine = create_db_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    ensure_schema(inbox_engine)
    settings = dataclasses.replace(
        _settings(tmp_path),
        database_url="postgresql://nightdesk:pw@127.0.0.1:17997/nightdesk",
        redis_url="redis://127.0.0.1:17996/12")
    down = create_db_engine(settings.database_url)
    services = type("Services", (), {"engine": down, "settings": settings})()
    app = create_app(settings, Inbox(inbox_engine), checks=service_checks(services),
                     metrics=Metrics())

    async def scenario(client):
        ready = await client.get("/readyz")
        return ready.status, await ready.json()

    status, body = asyncio.run(_talk(app, scenario))
    assert status == 503 and body["ready"] is False
    assert body["checks"]["services"] == "ok"
    assert body["checks"]["database"].startswith("failed: ")
    assert body["checks"]["redis"].startswith("failed: ")
    assert "17997" not in str(body) and "nightdesk:pw" not in str(body)
