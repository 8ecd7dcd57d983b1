"""Loading a new model into the running Rasa server while it keeps answering.

Rasa's own ``PUT /model`` loads the model on the server's event loop: every conversation waits
until the load is over (tens of seconds, a minute on a busy machine). This channel, mounted by
`credentials.yml` as ``bot.runtime.model_channel.ModelLoaderInput``, offers
``POST /webhooks/models/load?token=<RASA_AUTH_TOKEN>`` with ``{"model_file": "<path>"}``: the
model is loaded in a worker thread, with the server's endpoints (tracker store, action server),
and swapped in at once when ready; messages arriving meanwhile are answered by the old model.
The answer is 204, or 401 (token), 400 (no such file) or 500 (the model cannot be loaded),
each with ``{"error": ...}``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings

logger = logging.getLogger(__name__)


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _load(model_file: Path, endpoints_file: Path) -> Any:
    """Loads the agent as Rasa does at start (in its own event loop: this is a worker thread)."""
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
    return asyncio.run(load_agent(model_path=str(model_file), endpoints=endpoints))


class ModelLoaderInput(InputChannel):
    """The channel that loads models without stopping the conversations."""

    @classmethod
    def name(cls) -> str:
        """Rasa's name for the channel (and its URL prefix)."""
        return "models"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ModelLoaderInput:
        """Built from its `credentials.yml` entry (no settings of its own)."""
        return cls()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The load route."""
        models = Blueprint("models", __name__)
        loading = asyncio.Lock()

        @models.route("/load", methods=["POST"])
        async def load(request: Request) -> HTTPResponse:
            settings = get_settings()
            if not hmac.compare_digest(str(request.args.get("token") or ""),
                                       settings.rasa_auth_token):
                return _error(401, "the token is missing or wrong")
            body = request.json if isinstance(request.json, dict) else {}
            model_file = Path(str(body.get("model_file") or ""))
            if not model_file.name or not model_file.is_file():
                return _error(400, f"there is no model file {str(model_file)!r}")
            async with loading:  # one load at a time
                try:
                    agent = await asyncio.to_thread(
                        _load, model_file, settings.project_dir / "endpoints.yml")
                except Exception as error:  # the old model keeps answering
                    logger.error("model load failed (%s)", type(error).__name__)
                    return _error(500, f"the model cannot be loaded ({type(error).__name__})")
                if agent is None or not agent.is_ready():
                    return _error(500, "the model cannot be loaded")
                agent.lock_store = request.app.ctx.agent.lock_store
                request.app.ctx.agent = agent
            logger.info("model %s is now loaded", model_file.name)
            return response.empty(status=204)

        return models
