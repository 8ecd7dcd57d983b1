"""Every way text reaches a log goes through redaction: warnings, other libraries, tracebacks.

Run in a child interpreter, as a server process starts: `install_log_redaction` first, then
logging configured the way Rasa does it, then a Rasa warning quoting the customer, a
third-party logger's line, a logged traceback and an uncaught one, all into stderr.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[3]
EMAIL = "mario.rossi@example.com"
PHONE = "0039 349 1234567"
ADDRESS = "Piazza Navona 6, 00186 Roma"

CHILD = textwrap.dedent(
    f"""
    import logging, sys, threading, warnings
    from bot.handoff.log_redaction import install_log_redaction

    install_log_redaction()
    logging.basicConfig(format="%(name)s %(levelname)s %(message)s", stream=sys.stderr,
                        level=logging.INFO)
    typed = "/ Call me at {PHONE} or write to {EMAIL}, I live at {ADDRESS}"

    from rasa.shared.utils.io import raise_warning
    raise_warning(f"Failed to parse arguments in line '{{typed}}'.")
    warnings.warn(f"plain warning {{typed}}", UserWarning)
    warnings.warn_explicit(f"explicit {{typed}}", UserWarning, "x.py", 1)
    warnings.showwarning(f"to a file {{typed}}", UserWarning, "y.py", 2, sys.stderr)
    logging.captureWarnings(True)
    warnings.warn(f"captured {{typed}}", RuntimeWarning)
    logging.getLogger("sanic.error").error("third party got %s", typed)
    try:
        raise ValueError(f"no account for {EMAIL}")
    except ValueError:
        logging.getLogger("aiohttp.server").exception("handler failed")
    thread = threading.Thread(target=lambda: 1 / 0 if False else (_ for _ in ()).throw(
        KeyError("{EMAIL}")))
    thread.start(); thread.join()
    print("MARKER", file=sys.stderr, flush=True)
    raise RuntimeError("uncaught for {EMAIL} at {PHONE}")
    """
)


def test_warnings_third_party_lines_and_tracebacks_come_out_redacted():
    result = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=PROJECT, capture_output=True, text=True,
        timeout=120, env={"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false",
                          "PYTHONPATH": str(PROJECT)},
    )
    output = result.stdout + result.stderr
    assert "MARKER" in result.stderr, output
    for secret in (EMAIL, "mario.rossi", PHONE, "349 1234567", "Piazza Navona"):
        assert secret not in output, output
    for line in ("Failed to parse arguments", "plain warning", "explicit", "to a file",
                 "captured", "third party got", "handler failed", "Traceback",
                 "ValueError: no account for [email]", "KeyError", "Exception in thread",
                 "RuntimeError: uncaught for [email] at [phone]"):
        assert line in output, (line, output)
    assert output.count("[email]") >= 9 and "[address]" in output
    assert result.returncode == 1
