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

Two paths reach a log file without a log record, and `install_log_redaction` covers
both. Python warnings (Rasa's ``UserWarning: Failed to parse arguments in line '...'``
quotes what the customer typed) are shown by a redacting ``warnings.showwarning``: a
warning for the default place becomes a record of the ``py.warnings`` logger, as
`logging.captureWarnings` would make it, so it is redacted like any record; one for
an explicit file is redacted before it is written. An exception nobody caught, in the
main thread or another one, is printed by a redacting ``sys.excepthook`` and
``threading.excepthook``.

Nothing here raises inside logging: whatever cannot be formatted or redacted is
logged as ``[unloggable message]``.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
import warnings
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


_warnings_logger = logging.getLogger("py.warnings")


def _redacting_showwarning(previous: Callable[..., Any]) -> Callable[..., Any]:
    """A ``warnings.showwarning`` that lets no personal data through.

    The warning is formatted with whatever ``warnings.formatwarning`` is at the time
    (Rasa swaps in its own for a moment). Without a file it becomes a ``py.warnings``
    record, made redacted by the record factory; with one, its redacted text is
    written there.
    """

    def showwarning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        try:
            text = warnings.formatwarning(message, category, filename, lineno, line)
        except Exception:
            text = _UNLOGGABLE
        if file is None:
            _warnings_logger.warning("%s", text.rstrip("\n"))
            return
        try:
            file.write(_safe_redact(text))
        except OSError:  # like the standard one: a closed or broken stream loses it
            pass

    setattr(showwarning, _MARKER, True)
    showwarning.__wrapped__ = previous  # type: ignore[attr-defined]
    return showwarning


def _write_redacted_traceback(
    kind: type[BaseException] | None,
    error: BaseException | None,
    trace: TracebackType | None,
    heading: str = "",
) -> None:
    """Print an uncaught exception's traceback to stderr, redacted."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        text = "".join(traceback.format_exception(kind, error, trace))
    except Exception:
        text = _UNLOGGABLE + "\n"
    try:
        stream.write(heading + _safe_redact(text))
        stream.flush()
    except (OSError, ValueError):
        pass


def _redacting_excepthook(previous: Callable[..., Any]) -> Callable[..., Any]:
    """A ``sys.excepthook`` that prints the traceback redacted."""

    def excepthook(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        _write_redacted_traceback(kind, error, trace)

    setattr(excepthook, _MARKER, True)
    excepthook.__wrapped__ = previous  # type: ignore[attr-defined]
    return excepthook


def _redacting_thread_excepthook(previous: Callable[..., Any]) -> Callable[..., Any]:
    """A ``threading.excepthook`` that prints the traceback redacted."""

    def excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else threading.get_ident()
        _write_redacted_traceback(
            args.exc_type, args.exc_value, args.exc_traceback,
            f"Exception in thread {name}:\n",
        )

    setattr(excepthook, _MARKER, True)
    excepthook.__wrapped__ = previous  # type: ignore[attr-defined]
    return excepthook


def install_log_redaction() -> None:
    """Redact personal data in everything the process logs from now on.

    Wraps the current log record factory (unless it is already ours) and wraps
    ``format`` of every handler attached to the root logger right now. Python
    warnings and uncaught exceptions, which reach stderr without a log record, get
    redacting ``warnings.showwarning``, ``sys.excepthook`` and ``threading.excepthook``.
    Calling it again is harmless, and also picks up root handlers added since the last
    call and puts back hooks that something replaced since.
    """
    with _install_lock:
        current = logging.getLogRecordFactory()
        if not _is_redacting(current):
            logging.setLogRecordFactory(_redacting_factory(current))
        for handler in list(logging.getLogger().handlers):
            _wrap_handler_format(handler)
        if not _is_redacting(warnings.showwarning):
            warnings.showwarning = _redacting_showwarning(warnings.showwarning)
        if not _is_redacting(sys.excepthook):
            sys.excepthook = _redacting_excepthook(sys.excepthook)
        if not _is_redacting(threading.excepthook):
            threading.excepthook = _redacting_thread_excepthook(threading.excepthook)


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
