"""Keep personal data out of every log line the process writes.

`install_log_redaction` is called once at start-up. From then on every log record,
from any logger, is created already redacted: the record factory formats the
message once, passes it through `bot.handoff.redaction.redact` and stores the
result as the record's message with no arguments left, so handlers that third-party
code adds later see only redacted text. A traceback is redacted at creation too
(stored as ``exc_text``, which standard formatters use instead of formatting the
exception again), and so is ``stack_info``.

As a second line of defence, `RedactingFormatter` redacts the final formatted
output, tracebacks included, and `install_log_redaction` wraps ``format`` of every
handler already attached to the root logger in the same way.

Nothing here raises inside logging: whatever cannot be formatted or redacted is
logged as ``[unloggable message]``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from bot.handoff.redaction import redact

__all__ = ["RedactingFormatter", "describe_failure", "install_log_redaction"]

_UNLOGGABLE = "[unloggable message]"
_MARKER = "_nightdesk_redacting"
_install_lock = threading.Lock()
_traceback_formatter = logging.Formatter()

_ExcInfo = tuple[type[BaseException], BaseException, "TracebackType | None"]


def _safe_redact(text: object) -> str:
    """Redact ``str(text)``, or give the unloggable placeholder if that fails."""
    try:
        return redact(str(text))
    except Exception:
        return _UNLOGGABLE


def _redact_record(record: logging.LogRecord) -> None:
    """Replace a fresh record's message, traceback and stack with redacted text."""
    try:
        try:
            message = redact(record.getMessage())
        except Exception:
            message = _UNLOGGABLE
        record.msg = message
        record.args = ()
        exc_info = record.exc_info
        if exc_info and exc_info[1] is not None and not record.exc_text:
            record.exc_text = _safe_redact(_traceback_formatter.formatException(exc_info))
        if record.stack_info:
            record.stack_info = _safe_redact(record.stack_info)
    except Exception:
        try:
            record.msg = _UNLOGGABLE
            record.args = ()
        except Exception:  # pragma: no cover - a record that refuses attributes
            pass


def _is_redacting(func: Callable[..., Any]) -> bool:
    """Whether ``func`` is, or wraps, one of this module's wrappers."""
    seen = 0
    while func is not None and seen < 32:
        if getattr(func, _MARKER, False):
            return True
        func = getattr(func, "__wrapped__", None)
        seen += 1
    return False


def _redacting_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., Any]:
    """Wrap a log record factory so the records it makes are redacted."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    setattr(factory, _MARKER, True)
    factory.__wrapped__ = previous  # type: ignore[attr-defined]
    return factory


def _wrap_handler_format(handler: logging.Handler) -> None:
    """Make a handler redact whatever its ``format`` returns (once only)."""
    current = handler.format
    if _is_redacting(current):
        return

    def format(record: logging.LogRecord) -> str:
        try:
            return redact(current(record))
        except Exception:
            return _UNLOGGABLE

    setattr(format, _MARKER, True)
    format.__wrapped__ = current  # type: ignore[attr-defined]
    handler.format = format  # type: ignore[method-assign]


def install_log_redaction() -> None:
    """Redact personal data in every log record the process creates from now on.

    Wraps the current log record factory (unless it is already ours) and wraps
    ``format`` of every handler attached to the root logger right now. Calling it
    again is harmless, and also picks up root handlers added since the last call.
    """
    with _install_lock:
        current = logging.getLogRecordFactory()
        if not _is_redacting(current):
            logging.setLogRecordFactory(_redacting_factory(current))
        for handler in list(logging.getLogger().handlers):
            _wrap_handler_format(handler)


class RedactingFormatter(logging.Formatter):
    """A `logging.Formatter` whose output, tracebacks included, is redacted.

    Tracebacks and stacks are redacted as they are formatted, so the copy the
    base class caches on the record (``exc_text``) is redacted too and other
    handlers reusing it see no personal data either. Never raises: a record that
    cannot be formatted comes out as ``[unloggable message]``.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Format a record as the base class does, then redact the result.

        Args:
            record: The record to format.

        Returns:
            The redacted log line.
        """
        try:
            return redact(super().format(record))
        except Exception:
            return _UNLOGGABLE

    def formatException(self, ei: _ExcInfo | tuple[None, None, None]) -> str:
        """Format and redact an exception's traceback.

        Args:
            ei: An exception triple as returned by `sys.exc_info`.

        Returns:
            The redacted traceback text.
        """
        try:
            return redact(super().formatException(ei))
        except Exception:
            return _UNLOGGABLE

    def formatStack(self, stack_info: str) -> str:
        """Format and redact a stack as logged with ``stack_info=True``.

        Args:
            stack_info: The stack text.

        Returns:
            The redacted stack text.
        """
        return _safe_redact(super().formatStack(stack_info))


def describe_failure(error: BaseException, limit: int = 200) -> str:
    """What went wrong, for a log line or a status column: class and cause, redacted.

    The cause is the first line of the message, cut to `limit` characters. For a database
    error it is the driver's own message (SQLAlchemy's text would add the statement's
    parameters, which can quote the customer); what still holds personal data loses it to
    redaction.
    """
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    first = _safe_redact(lines[0].strip()) if lines else ""
    name = type(error).__name__
    text = f"{name}: {first}" if first else name
    return text[:limit]
