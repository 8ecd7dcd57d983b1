"""How long the model runs in a Rasa process: reading each message, choosing each next action.

Rasa runs its model synchronously on the process's event loop: the NLU pipeline once per
customer message (`MessageProcessor._parse_message_with_graph`) and the policies once per
action it chooses (`MessageProcessor._predict_next_with_tracker`). While either runs the
event loop waits, so their time is the model's own share of a turn; the rest of the turn is
the tracker store, the action server, the channel and the inbox.

`install_model_timing` times each run and adds it to the process's metrics
(`nightdesk_model_seconds_total` and `nightdesk_model_runs_total`, by part: "understanding",
"next_action"). An operator reads from them what part of a process's time the model takes;
`bench/messenger_load.py` reads the model's own cost per message from them.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.processor import MessageProcessor

from bot.observability.metrics import observe_model_run

_PARTS = {"_parse_message_with_graph": "understanding",
          "_predict_next_with_tracker": "next_action"}
"""Rasa's model methods, by name: the part of the metrics each is counted in."""

_RASAS = {name: MessageProcessor.__dict__[name] for name in _PARTS}
"""Rasa's own methods, by name."""

Result = TypeVar("Result")


def _timed(part: str, run: Callable[..., Result]) -> Callable[..., Result]:
    """`run`, its time added to the metrics as `part` (also when it raises)."""

    @functools.wraps(run)
    def timed(*args: Any, **kwargs: Any) -> Result:
        started = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            observe_model_run(part, time.perf_counter() - started)

    return timed


def install_model_timing() -> None:
    """Times every NLU run and every next-action prediction of this process."""
    for name, rasas in _RASAS.items():
        setattr(MessageProcessor, name, _timed(_PARTS[name], rasas))


def uninstall_model_timing() -> None:
    """Rasa's own methods again."""
    for name, rasas in _RASAS.items():
        setattr(MessageProcessor, name, rasas)
