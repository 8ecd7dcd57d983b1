"""How a Graph call fails: the error callers see, one failed attempt, safe error text.

Error text never carries personal data: what we sent, long numbers (ids) and the token are
taken out of Graph's messages before they reach a log line or an exception.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.messenger.graph_limits import (
    MESSAGING_TYPES,
    PROFILE_FIELDS,
    RATE_LIMIT_CODES,
    SENDER_ACTIONS,
)
from bot.messenger.message_text import shorten

_LONG_NUMBER = re.compile(r"\d{5,}")
_STRUCTURAL = frozenset(
    {*SENDER_ACTIONS, *MESSAGING_TYPES, "HUMAN_AGENT", "text", "template", "button", "generic",
     "postback", "web_url", "phone_number", PROFILE_FIELDS}
)
"""Values of request bodies that say nothing about the customer (kept in error details)."""


class GraphSendError(RuntimeError):
    """A Graph API call failed for good (after retries when the failure was transient).

    The message never contains personal data: no PSID, comment id, text or token.

    Attributes:
        status: the HTTP status of the last answer, None when no answer came (connection
            error or timeout).
        code: Graph's ``error.code``, None when the answer had none.
        message: what went wrong, safe to log.
        subcode: Graph's ``error.error_subcode``, if any.
        error_type: Graph's ``error.type``, if any (for example "OAuthException").
        attempts: how many attempts were made.
        operation: which call failed ("send", "profile", "public_reply", ...).
        sent_message_ids: for a text split into several messages, the ids of the parts that
            were delivered before the failure.
    """

    def __init__(
        self,
        status: int | None,
        code: int | None,
        message: str,
        *,
        subcode: int | None = None,
        error_type: str | None = None,
        attempts: int = 1,
        operation: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.error_type = error_type
        self.attempts = attempts
        self.operation = operation
        self.sent_message_ids: list[str] = []

    @property
    def rate_limited(self) -> bool:
        """True when Graph refused the call because of a rate limit."""
        return self.status == 429 or self.code in RATE_LIMIT_CODES


def failure_kind(error: GraphSendError) -> Literal["refused", "failed"]:
    """"refused" when Graph answered with a refusal (4xx, not a rate limit), else "failed"."""
    refused = error.status is not None and 400 <= error.status < 500 and not error.rate_limited
    return "refused" if refused else "failed"


@dataclass(frozen=True)
class AttemptFailure:
    """One failed attempt, as Graph (or the connection) reported it.

    Attributes:
        detail: what went wrong, not yet scrubbed of personal data.
        retryable: whether trying again may succeed.
        ambiguous: whether Graph may have carried the call out all the same (a timeout, a
            connection lost once the request was sent, HTTP 5xx); False for a clear "not
            processed" (429, a rate-limit code, a connection that never opened) and for
            refusals.
    """

    status: int | None
    code: int | None
    subcode: int | None
    error_type: str | None
    detail: str
    retryable: bool
    ambiguous: bool = False

    @property
    def rate_limited(self) -> bool:
        """Graph said too many calls (HTTP 429 or a rate-limit code): a pause for the page."""
        return self.status == 429 or self.code in RATE_LIMIT_CODES


class CheckFailed(Exception):
    """A "did it land?" check could not tell; the message is already scrubbed."""


Check = Callable[[float], Awaitable[dict[str, Any] | None]]
"""A "did it land?" check: given when the first attempt began (Unix time), Graph's answer to
use when the call landed, None when it did not; raises :class:`CheckFailed` when it cannot
tell."""


def scrub(detail: str, secrets: Iterable[str], token: str) -> str:
    """Graph's error message without anything we sent it and without long numbers (ids)."""
    detail = detail.replace(token, "<token>")
    personal = {s for s in secrets if len(s) >= 3 and s not in _STRUCTURAL}
    for secret in sorted(personal, key=len, reverse=True):
        detail = detail.replace(secret, "<redacted>")
    detail = _LONG_NUMBER.sub("<id>", detail)
    return shorten(" ".join(detail.split()), 200)


def strings_in(value: Any) -> Iterable[str]:
    """Every string inside a JSON-like value (keys excluded)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)
