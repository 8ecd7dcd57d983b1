"""Which model is live, what the gate said about a candidate, and putting a model live.

`models/live.json` names the live model, who put it there and when, and the model before it
(for `nightdesk rollback`); `models/<model>.gate.json` keeps the gate's verdict on a
candidate against the live model of that moment, with its figures by language. Putting a
model live loads it into every running Rasa server, one after the other, through
`bot.runtime.model_channel` (with the servers' auth token), which loads it beside the old one,
so the bot keeps answering throughout; only when all have it is the record changed. When one
refuses or cannot be reached, those that took it already get the live model back, and the
error names the server (and any that could not be put back). A restarted bot (`nightdesk
up`) serves the live model too, not a newer candidate that has not been through the gate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

LIVE_FILE = "live.json"


class PromotionError(RuntimeError):
    """The model was not put live; the message says why."""


@dataclass(frozen=True)
class LiveRecord:
    """The live model (a file name in `models/`), who made it live and when, and the one before."""

    model: str
    promoted_by: str
    promoted_at: str
    previous: str | None = None


def _write_json(path: Path, data: object) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


class ModelShelf:
    """The records kept beside the models in `models/`."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir

    def live(self) -> LiveRecord | None:
        """The live model's record, None before any."""
        path = self.models_dir / LIVE_FILE
        if not path.exists():
            return None
        return LiveRecord(**json.loads(path.read_text(encoding="utf-8")))

    def record_live(self, model: Path, by: str, at: datetime | None = None) -> LiveRecord:
        """Notes `model` as live; the model live until now becomes the previous one."""
        current = self.live()
        previous = current.previous if current and current.model == model.name else (
            current.model if current else None)
        record = LiveRecord(model.name, by, (at or datetime.now(timezone.utc)).isoformat(),
                            previous)
        _write_json(self.models_dir / LIVE_FILE, asdict(record))
        return record

    def save_gate(self, candidate: Path, live_model: str, passed: bool, report: str,
                  figures: dict[str, object] | None = None) -> None:
        """Keeps the gate's verdict on a candidate (against the named live model).

        Args:
            candidate: the model the gate judged.
            live_model: the live model it was compared with.
            passed: the verdict.
            report: the report as printed.
            figures: the figures (`GateReport.as_json`: by language, and the stories').
        """
        _write_json(self.models_dir / f"{candidate.name}.gate.json",
                    {"live": live_model, "passed": passed, "report": report,
                     **({"figures": figures} if figures is not None else {}),
                     "at": datetime.now(timezone.utc).isoformat()})

    def gate(self, candidate: Path) -> dict[str, object] | None:
        """The gate's verdict on the candidate, None when it never went through the gate."""
        path = self.models_dir / f"{candidate.name}.gate.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def model_to_serve(shelf: ModelShelf, model_of_data: Path, by: str,
                   take_latest: bool = False) -> tuple[Path, str]:
    """The model a (re)started bot loads, recorded as live, and a line saying why.

    The live model stays live across restarts: a candidate trained since goes live only
    through the gate and `nightdesk promote`. The model of the current data is loaded when
    nothing is live yet, when the live model's file is gone, or when asked (`take_latest`).
    """
    live = shelf.live()
    if live is not None and live.model == model_of_data.name:
        return model_of_data, f"Live model: {live.model} (the model of the current data)."
    live_path = shelf.models_dir / live.model if live is not None else None
    if live_path is not None and live_path.exists() and not take_latest:
        return live_path, (
            f"Live model: {live.model} (promoted by {live.promoted_by}). The data has changed "
            f"since: the candidate {model_of_data.name} goes live after `nightdesk gate` and "
            "`nightdesk promote` (or start with `nightdesk up --latest`).")
    why = ("asked for" if take_latest and live is not None else
           "nothing was live yet" if live is None else f"{live.model} is no longer in models/")
    shelf.record_live(model_of_data, by)
    return model_of_data, (f"Live model: {model_of_data.name}, the model of the current data "
                           f"({why}).")


async def load_into_rasa(rasa_url: str, token: str, model: Path, timeout: float = 600) -> None:
    """Has the running Rasa server load `model` beside the old one, which answers meanwhile."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.post(f"{rasa_url}/webhooks/models/load", params={"token": token},
                                 json={"model_file": str(model.resolve())}) as answer:
                if answer.status != 204:
                    text = (await answer.text())[:300]
                    raise PromotionError(f"the Rasa server at {rasa_url} refused the model "
                                     f"(HTTP {answer.status}): {text}")
    except aiohttp.ClientError as error:
        raise PromotionError(f"the Rasa server at {rasa_url} cannot be reached "
                             f"({type(error).__name__})") from None


async def promote(shelf: ModelShelf, candidate: Path, by: str, rasa_urls: Sequence[str],
                  token: str) -> LiveRecord:
    """Puts a candidate that passed the gate against the live model live.

    Into every Rasa server of `rasa_urls`, or into none.
    """
    if not candidate.exists():
        raise PromotionError(f"there is no model {candidate.name}: run `nightdesk train`")
    live = shelf.live()
    if live is not None and live.model == candidate.name:
        raise PromotionError(f"{candidate.name} is live already")
    verdict = shelf.gate(candidate)
    if verdict is None:
        raise PromotionError(f"{candidate.name} has not been through the gate: run "
                             "`nightdesk gate`")
    if live is not None and verdict["live"] != live.model:
        raise PromotionError(f"the gate compared {candidate.name} with {verdict['live']}, but "
                             f"{live.model} is live now: run `nightdesk gate` again")
    if not verdict["passed"]:
        raise PromotionError(f"the gate refused {candidate.name}: see `nightdesk gate`")
    await load_into_every_rasa(rasa_urls, token, candidate, _live_path(shelf, live))
    return shelf.record_live(candidate, by)


def _live_path(shelf: ModelShelf, live: LiveRecord | None) -> Path | None:
    """The live model's file, to put back where a new one went in when another server failed."""
    if live is None:
        return None
    path = shelf.models_dir / live.model
    return path if path.exists() else None


async def load_into_every_rasa(rasa_urls: Sequence[str], token: str, model: Path,
                               put_back: Path | None) -> None:
    """Loads `model` into each Rasa server in turn: into all of them, or back out again.

    Args:
        rasa_urls: every running Rasa server (instance 0 first).
        token: their auth token.
        model: the model to put live.
        put_back: the model they served before, loaded again into the servers that took
            `model` when a later one fails (None when there is none to go back to).

    Raises:
        PromotionError: a server refused or could not be reached; the message names it, says
            which servers have the old model again and which could not be put back.
    """
    if not rasa_urls:
        raise PromotionError("no Rasa server to load the model into")
    loaded: list[str] = []
    for url in rasa_urls:
        try:
            await load_into_rasa(url, token, model)
        except PromotionError as error:
            raise PromotionError(f"{error}; {await _put_back(loaded, token, put_back)}"
                                 ) from None
        loaded.append(url)


async def _put_back(loaded: list[str], token: str, put_back: Path | None) -> str:
    """Loads the old model again into the servers that took the new one; what happened."""
    if not loaded:
        return "no server had taken it: nothing changed"
    if put_back is None:
        return (f"{', '.join(loaded)} took it and there is no previous model to put back "
                "there: the servers now serve different models")
    failed: list[str] = []
    for url in loaded:
        try:
            await load_into_rasa(url, token, put_back)
        except PromotionError:
            failed.append(url)
    back = [url for url in loaded if url not in failed]
    said = f"{put_back.name} is back in {', '.join(back)}" if back else ""
    if failed:
        said += (("; " if said else "") + f"{', '.join(failed)} could not be given "
                 f"{put_back.name} back and serve the new model: run the command again or "
                 "restart them")
    return said


async def rollback(shelf: ModelShelf, by: str, rasa_urls: Sequence[str],
                   token: str) -> LiveRecord:
    """Puts the model live before the current one back (into every Rasa server, or none)."""
    live = shelf.live()
    if live is None or live.previous is None:
        raise PromotionError("there is no previous model to go back to")
    previous = shelf.models_dir / live.previous
    if not previous.exists():
        raise PromotionError(f"the previous model {live.previous} is no longer in models/")
    await load_into_every_rasa(rasa_urls, token, previous, _live_path(shelf, live))
    return shelf.record_live(previous, by)
