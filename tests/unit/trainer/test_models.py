"""Putting a model live through the Rasa server's model loader (a loopback stand-in that
records the calls), keeping the previous one for rollback, refusing what the gate did not pass.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.trainer.models import ModelShelf, PromotionError, model_to_serve, promote, rollback

TOKEN = "secret-token"


class FakeRasa:
    """The model loader's route with the token: 204, unless told to refuse; records the files."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.refuse = False

    async def load_model(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            return web.json_response({"message": "unauthorized"}, status=401)
        if self.refuse:
            return web.json_response({"message": "broken model"}, status=500)
        self.loaded.append((await request.json())["model_file"])
        return web.Response(status=204)


def run_with_rasa(rasa: FakeRasa, scenario):
    async def main():
        app = web.Application()
        app.router.add_post("/webhooks/models/load", rasa.load_model)
        server = TestServer(app)
        await server.start_server()
        try:
            return await scenario(str(server.make_url("")).rstrip("/"))
        finally:
            await server.close()

    return asyncio.run(main())


@pytest.fixture()
def shelf(tmp_path) -> ModelShelf:
    for name in ("first.tar.gz", "second.tar.gz", "third.tar.gz"):
        (tmp_path / name).write_bytes(b"model")
    shelf = ModelShelf(tmp_path)
    shelf.record_live(tmp_path / "first.tar.gz", "nightdesk up")
    return shelf


def test_a_passed_candidate_goes_live_and_rollback_brings_the_previous_back(shelf):
    rasa = FakeRasa()
    second = shelf.models_dir / "second.tar.gz"
    shelf.save_gate(second, "first.tar.gz", passed=True, report="PASSED")

    async def scenario(url):
        record = await promote(shelf, second, "tina", [url], TOKEN)
        assert (record.model, record.previous, record.promoted_by) == (
            "second.tar.gz", "first.tar.gz", "tina")
        back = await rollback(shelf, "admin", [url], TOKEN)
        assert (back.model, back.previous) == ("first.tar.gz", "second.tar.gz")

    run_with_rasa(rasa, scenario)
    assert rasa.loaded == [str(second.resolve()), str((shelf.models_dir / "first.tar.gz")
                                                      .resolve())]
    assert shelf.live().model == "first.tar.gz"


@pytest.mark.parametrize("prepare, complaint", [
    (lambda shelf, third: None, "has not been through the gate"),
    (lambda shelf, third: shelf.save_gate(third, "first.tar.gz", False, "REFUSED"),
     "the gate refused"),
    (lambda shelf, third: shelf.save_gate(third, "zeroth.tar.gz", True, "PASSED"),
     "run `nightdesk gate` again"),
    (lambda shelf, third: third.unlink(), "there is no model"),
])
def test_no_gate_a_refusal_or_a_stale_gate_keeps_the_live_model(shelf, prepare, complaint):
    rasa = FakeRasa()
    third = shelf.models_dir / "third.tar.gz"
    prepare(shelf, third)

    async def scenario(url):
        with pytest.raises(PromotionError, match=complaint):
            await promote(shelf, third, "tina", [url], TOKEN)

    run_with_rasa(rasa, scenario)
    assert rasa.loaded == [] and shelf.live().model == "first.tar.gz"


def test_when_rasa_refuses_or_is_away_nothing_changes(shelf):
    rasa = FakeRasa()
    second = shelf.models_dir / "second.tar.gz"
    shelf.save_gate(second, "first.tar.gz", passed=True, report="PASSED")

    async def scenario(url):
        rasa.refuse = True
        with pytest.raises(PromotionError, match="HTTP 500"):
            await promote(shelf, second, "tina", [url], TOKEN)
        with pytest.raises(PromotionError, match="HTTP 401"):
            await promote(shelf, second, "tina", [url], "wrong")
        with pytest.raises(PromotionError, match="cannot be reached"):
            await promote(shelf, second, "tina", ["http://127.0.0.1:9"], TOKEN)
        with pytest.raises(PromotionError, match="no previous model"):
            await rollback(shelf, "tina", [url], TOKEN)

    run_with_rasa(rasa, scenario)
    assert shelf.live().model == "first.tar.gz" and shelf.live().previous is None


def test_the_live_record_survives_on_disk(tmp_path: Path):
    shelf = ModelShelf(tmp_path)
    assert shelf.live() is None
    shelf.record_live(tmp_path / "a.tar.gz", "nightdesk up")
    shelf.record_live(tmp_path / "b.tar.gz", "tina")
    again = ModelShelf(tmp_path).live()
    assert (again.model, again.previous, again.promoted_by) == ("b.tar.gz", "a.tar.gz", "tina")
    assert not list(tmp_path.glob(".*.partial"))


def test_a_restart_serves_the_live_model_not_a_candidate_that_skipped_the_gate(tmp_path):
    shelf = ModelShelf(tmp_path)
    first = tmp_path / "first.tar.gz"
    first.write_bytes(b"model")
    model, why = model_to_serve(shelf, first, "nightdesk up")
    assert model == first and "nothing was live yet" in why
    assert shelf.live().model == first.name and shelf.live().promoted_by == "nightdesk up"
    shelf.record_live(first, "tina")

    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"model")
    model, why = model_to_serve(shelf, candidate, "nightdesk up")
    assert model == first and "nightdesk gate" in why and "promoted by tina" in why
    assert shelf.live().model == first.name  # nothing changed

    model, why = model_to_serve(shelf, candidate, "nightdesk up", take_latest=True)
    assert model == candidate and "asked for" in why
    assert shelf.live().model == candidate.name and shelf.live().previous == first.name


def test_a_live_model_whose_file_is_gone_gives_way_to_the_model_of_the_data(tmp_path):
    shelf = ModelShelf(tmp_path)
    shelf.record_live(tmp_path / "deleted.tar.gz", "tina")
    current = tmp_path / "current.tar.gz"
    current.write_bytes(b"model")
    model, why = model_to_serve(shelf, current, "nightdesk up")
    assert model == current and "deleted.tar.gz is no longer in models/" in why
    model, why = model_to_serve(shelf, current, "nightdesk up")
    assert model == current and "the model of the current data" in why
