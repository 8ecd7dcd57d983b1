"""The composition root builds every process's services from the settings, once."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import inspect

import bot.app_context
from bot.app_context import (
    acquire_shared,
    build,
    desk_services,
    holding_replies,
    messenger_context,
    release_shared,
)
from bot.desk.services import DeskServices
from bot.orders.http_backend import HttpOrderBackend
from bot.orders.sql_backend import SqlOrderBackend
from bot.settings import PROJECT_DIR, load_settings

MESSENGER = {"PAGE_ACCESS_TOKEN": "token", "APP_SECRET": "secret", "VERIFY_TOKEN": "verify"}


def _settings(tmp_path: Path, **environ: str):
    return load_settings({"NIGHTDESK_HOME": str(PROJECT_DIR),
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'root.db'}", **environ})


def test_build_makes_the_schema_and_the_demo_shop_back_end(tmp_path):
    services = build(_settings(tmp_path))
    assert {"handoff_tickets", "shop_orders"} <= set(inspect(services.engine).get_table_names())
    assert isinstance(services.orders, SqlOrderBackend)
    assert services.graph is None  # Messenger is not configured
    assert services.tickets is not None and services.audit is not None
    assert services.language_of("nonsense") == services.brand.language
    asyncio.run(services.close())


def test_the_shop_api_back_end_when_the_settings_name_it(tmp_path):
    services = build(_settings(tmp_path, ORDERS_BACKEND="http",
                               SHOP_API_URL="http://127.0.0.1:9"))
    assert isinstance(services.orders, HttpOrderBackend)
    asyncio.run(services.close())


def test_the_desk_gets_its_services_from_the_root(tmp_path):
    services = build(_settings(tmp_path))
    desk = desk_services(services)
    assert isinstance(desk, DeskServices)
    assert desk.tickets is services.tickets and desk.orders is services.orders
    assert desk.languages == services.brand.languages
    asyncio.run(services.close())


def test_without_messenger_there_are_no_holding_replies_and_no_worker_context(tmp_path):
    services = build(_settings(tmp_path))
    assert holding_replies(services, {}) is None
    with pytest.raises(RuntimeError, match="not configured"):
        messenger_context(services, handle_message=None, parse=None,  # type: ignore[arg-type]
                          responses=dict, tracker_holds=None)  # type: ignore[arg-type]
    asyncio.run(services.close())


def test_with_messenger_the_worker_shares_the_graph_client_and_the_stores(tmp_path):
    services = build(_settings(tmp_path, **MESSENGER))
    assert services.graph is not None

    async def nothing(*_: object) -> None:
        return None

    context = messenger_context(services, handle_message=nothing, parse=nothing,
                                responses=dict, tracker_holds=nothing)
    assert context.graph is services.graph and context.tickets is services.tickets
    assert context.holding is not None and context.holding.graph is services.graph
    asyncio.run(services.close())


def test_the_channels_of_one_process_share_one_set_of_services(tmp_path, monkeypatch):
    built = []
    closed = []

    def build_once():
        services = build(_settings(tmp_path))
        built.append(services)
        real_close = services.close

        async def close():
            closed.append(services)
            await real_close()

        object.__setattr__(services, "close", close)
        return services

    monkeypatch.setattr(bot.app_context, "build", build_once)
    messenger, webchat = acquire_shared(), acquire_shared()
    assert messenger is webchat and len(built) == 1
    asyncio.run(release_shared())
    assert closed == []  # the web chat still uses them
    with webchat.engine.connect():
        pass
    asyncio.run(release_shared())
    assert closed == [webchat]
    asyncio.run(release_shared())  # a stop listener running twice closes nothing more
    assert closed == [webchat]
    assert acquire_shared() is not webchat and len(built) == 2  # a new start builds anew
    asyncio.run(release_shared())
