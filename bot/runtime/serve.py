"""Process entry point for the Rasa server and the action server, with log redaction on.

`python -m bot.runtime.serve rasa run ...` and `python -m bot.runtime.serve actions ...`
install personal-data redaction on every log record, then hand over to Rasa's own CLI, so
nothing a customer wrote reaches a log in clear text, whatever Rasa itself logs.
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
        sys.argv = ["rasa", "run", "actions", *argv[1:]]
    else:
        sys.argv = ["rasa", *argv[1:]]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
