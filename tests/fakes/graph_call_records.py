"""What the fake Graph API records of each call, and how it is told to fail the next ones."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.fakes.graph_request_checks import GraphError

VERSION_PATTERN = re.compile(r"v\d+\.\d+")
"""A Graph API version in a path, such as "v19.0"."""
_DEFAULT_ERRORS: dict[int, tuple[int, str]] = {
    500: (1, "An unknown error has occurred."),
    502: (2, "Service temporarily unavailable"),
    503: (2, "Service temporarily unavailable"),
    429: (4, "(#4) Application request limit reached"),
    403: (10, "(#10) This message is sent outside of allowed window."),
}
_CODE_MESSAGES: dict[int, str] = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


@dataclass
class RecordedCall:
    """One call the fake received (control endpoints excluded).

    Attributes:
        method: "GET" or "POST".
        path: the path with the version, for example "/v19.0/me/messages".
        query: the query parameters, the access token included.
        json: the parsed JSON body, None when there was none (or it was not JSON).
        status: the HTTP status answered; None while the answer is still pending (delay).
            For a call carried out before a delayed answer (``applied``), what it answers.
        response: the JSON answered, once answered (or decided, as for `status`).
        at: when the call arrived (Unix time).
        applied: whether the call took effect (a message delivered, a reply posted, a read
            served), whatever was answered: True for a call carried out and then answered
            late or with an injected error.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int | None = None
    response: Any = None
    at: float = field(default_factory=time.time)
    applied: bool = False

    @property
    def endpoint(self) -> str:
        """The path without the version: "me/messages", "{comment_id}/comments", "{psid}"."""
        parts = self.path.strip("/").split("/", 1)
        if len(parts) == 2 and VERSION_PATTERN.fullmatch(parts[0]):
            return parts[1]
        return self.path.strip("/")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (as served by ``GET /_calls``)."""
        return asdict(self)


@dataclass(frozen=True)
class FailureSpec:
    """How one upcoming call fails.

    Attributes:
        status: the HTTP status to answer, or None to answer normally (after `delay`).
        code: Graph's ``error.code``; a sensible one for the status when None.
        delay: seconds to wait before answering.
        message: Graph's ``error.message``; a realistic one when None.
        path: only calls whose path contains this string are affected. None: any call but
            the reads a client makes to check whether an earlier call landed (``GET`` of
            ``me``, of ``.../conversations`` and of ``.../comments``), which are affected
            only when named here, so that ``fail_next(2, 500)`` still fails the next two
            attempts of a call.
        method: only calls with this HTTP method are affected (None: any method).
        applied: carry the call out first (deliver, post, record) and only then wait
            `delay` and answer: with status None the real answer comes late (Graph did it,
            the client may have given up waiting); with a status, Graph did it and still
            answered an error. When False, nothing is carried out before the answer.
    """

    status: int | None = 500
    code: int | None = None
    delay: float = 0.0
    message: str | None = None
    path: str | None = None
    method: str | None = None
    applied: bool = False

    def matches(self, method: str, path: str, lookup: bool) -> bool:
        """Whether this spec applies to a call (`lookup`: one of the check reads)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return not lookup
        return self.path in path

    def error(self) -> GraphError | None:
        """The Graph error to answer, if this spec fails the call."""
        if self.status is None:
            return None
        default_code, default_message = _DEFAULT_ERRORS.get(
            self.status, (1, "An unknown error has occurred.")
        )
        code = self.code if self.code is not None else default_code
        message = self.message or _CODE_MESSAGES.get(code, default_message)
        return GraphError(message, code=code, status=self.status)
