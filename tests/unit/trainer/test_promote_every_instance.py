"""`promote` and `rollback` under several Rasa servers: every one gets the model, or none keeps it.

Three loopback aiohttp servers stand for the Rasa servers' model loaders (each records the
files it was told to load, and refuses or is away when the test says so).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.runtime.rasa_instances import (
    forget_instances,
    rasa_instances,
    record_instances,
)
from bot.settings import SettingsError, load_settings
from bot.trainer.models import ModelShelf, PromotionError, promote, rollback

TOKEN = "secret-token"


class Loader:
    """One Rasa server's model loader: 204 and the file noted, or 500 when told to refuse."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.refuse = False

    async def load_model(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return web.json_response({"error": "unauthorized"}, status=401)
        model = (await request.json())["model_file"]
        if self.refuse:
            return web.json_response({"error": "cannot load"}, status=500)
        self.loaded.append(Path(model).name)
        return web.Response(status=204)


def run_with_loaders(loaders: list[Loader], scenario, away: int | None = None):
    """Runs `scenario(urls)` with a server per loader; `away`: that one's URL leads nowhere."""

    async def main():
        servers = []
        for loader in loaders:
            app = web.Application()
            app.router.add_post("/webhooks/models/load", loader.load_model)
            server = TestServer(app)
            await server.start_server()
            servers.append(server)
        urls = [str(server.make_url("")).rstrip("/") for server in servers]
        if away is not None:
            await servers[away].close()
        try:
            return await scenario(urls)
        finally:
            for server in servers:
                await server.close()

    return asyncio.run(main())


@pytest.fixture()
def shelf(tmp_path) -> ModelShelf:
    for name in ("first.tar.gz", "second.tar.gz"):
        (tmp_path / name).write_bytes(b"model")
    shelf = ModelShelf(tmp_path)
    shelf.record_live(tmp_path / "first.tar.gz", "nightdesk up")
    shelf.save_gate(tmp_path / "second.tar.gz", "first.tar.gz", passed=True, report="PASSED")
    return shelf


def test_promote_and_rollback_reach_every_server(shelf):
    loaders = [Loader(), Loader(), Loader()]

    async def scenario(urls):
        await promote(shelf, shelf.models_dir / "second.tar.gz", "tina", urls, TOKEN)
        await rollback(shelf, "tina", urls, TOKEN)

    run_with_loaders(loaders, scenario)
    assert [loader.loaded for loader in loaders] == [["second.tar.gz", "first.tar.gz"]] * 3
    assert shelf.live().model == "first.tar.gz"


def test_one_server_refusing_puts_the_live_model_back_into_the_others(shelf):
    loaders = [Loader(), Loader(), Loader()]
    loaders[2].refuse = True

    async def scenario(urls):
        with pytest.raises(PromotionError) as refused:
            await promote(shelf, shelf.models_dir / "second.tar.gz", "tina", urls, TOKEN)
        return urls, str(refused.value)

    urls, message = run_with_loaders(loaders, scenario)
    assert f"the Rasa server at {urls[2]} refused the model (HTTP 500)" in message
    assert f"first.tar.gz is back in {urls[0]}, {urls[1]}" in message
    assert [loader.loaded for loader in loaders] == [["second.tar.gz", "first.tar.gz"]] * 2 + [[]]
    assert shelf.live().model == "first.tar.gz" and shelf.live().previous is None


def test_the_first_server_away_changes_nothing_anywhere(shelf):
    loaders = [Loader(), Loader()]

    async def scenario(urls):
        with pytest.raises(PromotionError) as refused:
            await promote(shelf, shelf.models_dir / "second.tar.gz", "tina", urls, TOKEN)
        return urls, str(refused.value)

    urls, message = run_with_loaders(loaders, scenario, away=0)
    assert f"the Rasa server at {urls[0]} cannot be reached" in message
    assert "no server had taken it: nothing changed" in message
    assert [loader.loaded for loader in loaders] == [[], []]
    assert shelf.live().model == "first.tar.gz"


def test_a_rollback_that_fails_on_one_server_leaves_the_live_model_everywhere(shelf):
    loaders = [Loader(), Loader()]

    async def scenario(urls):
        await promote(shelf, shelf.models_dir / "second.tar.gz", "tina", urls, TOKEN)
        loaders[1].refuse = True
        with pytest.raises(PromotionError) as refused:
            await rollback(shelf, "tina", urls, TOKEN)
        return urls, str(refused.value)

    urls, message = run_with_loaders(loaders, scenario)
    assert f"{urls[1]} refused" in message and f"second.tar.gz is back in {urls[0]}" in message
    assert loaders[0].loaded == ["second.tar.gz", "first.tar.gz", "second.tar.gz"]
    assert loaders[1].loaded == ["second.tar.gz"]
    assert shelf.live().model == "second.tar.gz"


def test_a_server_that_cannot_be_put_back_is_named(shelf):
    loaders = [Loader(), Loader(), Loader()]

    class RefusesTheOldModel(Loader):
        async def load_model(self, request: web.Request) -> web.Response:
            self.refuse = bool(self.loaded)
            return await super().load_model(request)

    loaders[1] = RefusesTheOldModel()
    loaders[2].refuse = True

    async def scenario(urls):
        with pytest.raises(PromotionError) as refused:
            await promote(shelf, shelf.models_dir / "second.tar.gz", "tina", urls, TOKEN)
        return urls, str(refused.value)

    urls, message = run_with_loaders(loaders, scenario)
    assert f"first.tar.gz is back in {urls[0]}" in message
    assert f"{urls[1]} could not be given first.tar.gz back and serve the new model" in message
    assert shelf.live().model == "first.tar.gz"


def _settings(tmp_path: Path, **extra: str):
    return load_settings({"NIGHTDESK_HOME": str(tmp_path), "RASA_URL": "http://127.0.0.1:5005",
                          **extra})


def test_the_servers_are_the_listed_ones_else_those_up_runs_else_rasa_url(tmp_path):
    settings = _settings(tmp_path)
    assert rasa_instances(settings) == ("http://127.0.0.1:5005",)
    path = record_instances(settings, ["http://127.0.0.1:5005", "http://127.0.0.1:5105"])
    assert json.loads(path.read_text())["rasa_servers"][1] == "http://127.0.0.1:5105"
    assert rasa_instances(settings) == ("http://127.0.0.1:5005", "http://127.0.0.1:5105")
    listed = _settings(tmp_path, NIGHTDESK_RASA_INSTANCES=" http://a:1/, http://b:2 ")
    assert rasa_instances(listed) == ("http://a:1", "http://b:2")
    forget_instances(settings)
    assert rasa_instances(settings) == ("http://127.0.0.1:5005",)


@pytest.mark.parametrize("raw", ["127.0.0.1:5005", "http://a:1,http://a:1"])
def test_a_wrong_list_of_servers_is_refused(tmp_path, raw):
    with pytest.raises(SettingsError, match="NIGHTDESK_RASA_INSTANCES"):
        _settings(tmp_path, NIGHTDESK_RASA_INSTANCES=raw)
