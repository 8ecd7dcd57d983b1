"""Process entry point for the Rasa server and the action server, with log redaction on.

`python -m bot.runtime.serve rasa run ...` and `python -m bot.runtime.serve actions ...`
install personal-data redaction on every log record, then hand over to Rasa's own CLI (or,
for the actions, to `bot.runtime.action_server`, which listens on loopback and checks the
shared secret), so nothing a customer wrote reaches a log in clear text. A Rasa process
loads its models for answering without Rasa's training step (`bot.understanding.model_loading`),
checks the action server's answers with a validator built once
(`bot.runtime.action_answer_check`) and times its model's runs for the metrics
(`bot.understanding.model_timing`).
"""

from __future__ import annotations

import sys

from bot.handoff.log_redaction import install_log_redaction


def main(argv: list[str]) -> None:
    """Runs `rasa <args>` (for `rasa ...`) or the Rasa SDK action server (for `actions ...`)."""
    install_log_redaction()
    if not argv or argv[0] not in {"rasa", "actions"}:
        raise SystemExit("usage: python -m bot.runtime.serve rasa|actions [arguments]")
    if argv[0] == "actions":
        from bot.runtime.action_server import main as serve_actions

        serve_actions(argv[1:])  # on ACTION_SERVER_HOST, with ACTION_SERVER_TOKEN
        return
    from bot.runtime.action_answer_check import install_action_answer_check
    from bot.understanding.model_loading import install_inference_loading
    from bot.understanding.model_timing import install_model_timing

    install_inference_loading()
    install_action_answer_check()
    install_model_timing()
    sys.argv = ["rasa", *argv[1:]]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
