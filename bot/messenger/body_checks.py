r"""The bounds a signed webhook body must keep before any of it is parsed into events.

A signature proves a body came from someone who holds the app secret, not that it is sane:
a leaked secret, a bug at Meta or a fuzzer must never turn into a 500 (Meta retries those for
hours) or into a process that eats memory. `decode_body` turns the raw bytes into plain JSON
values and refuses, with a 4xx and a message naming the limit, what no page webhook looks
like: a `Content-Encoding` (Meta signs and sends plain JSON), bytes that are not UTF-8, JSON
that does not parse, nesting deeper than `MAX_DEPTH`, more than `MAX_NODES` values, or the
literals NaN and Infinity.

What can be mended without changing the meaning of a good event is mended, so one odd value
costs only its own event: a lone UTF-16 surrogate (``"\ud800"``, valid JSON but not text any
database can store) becomes U+FFFD, and a number too large for a float (``1e400``) or an
integer of more than `MAX_INT_DIGITS` digits (Python refuses to read one of more than 4,300 at
all) becomes null, which the parser then treats as a missing value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
"""Levels of nesting a body may have; Meta's deepest page webhooks have about ten."""

MAX_NODES = 20_000
"""JSON values (objects, arrays, strings, numbers...) one body may hold."""

MAX_EVENTS_PER_BODY = 200
"""Events one body may carry; Meta batches a few, never thousands."""

MAX_INT_DIGITS = 100
"""Digits an integer may have; Meta's ids and times have at most about twenty."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyRejected(ValueError):
    """A body refused as a whole, with the HTTP status to answer and why (safe to show).

    Attributes:
        status: the 4xx to answer.
        reason: the message, naming the limit; it never quotes the body.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def refuse_content_encoding(content_encoding: str | None) -> None:
    """Meta sends plain JSON; a compressed body would not match its signature anyway.

    Raises:
        BodyRejected: 415 for any encoding other than identity.
    """
    encoding = (content_encoding or "").strip().lower()
    if encoding not in ("", "identity"):
        raise BodyRejected(415, f"Content-Encoding {encoding[:40]!r} is not accepted: "
                                "send the JSON body uncompressed")


def decode_body(raw: bytes) -> Any:
    """The body's JSON value, within the bounds, with surrogates and huge numbers mended.

    Raises:
        BodyRejected: 400 for bytes that are not UTF-8 JSON, NaN/Infinity literals or nesting
            deeper than `MAX_DEPTH`; 413 for more than `MAX_NODES` values.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyRejected(400, f"the body is not UTF-8 (byte {error.start})") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int)
    except RecursionError:
        raise BodyRejected(400, f"the body nests deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise BodyRejected(400, f"the body is not valid JSON (JSONDecodeError at position "
                                f"{error.pos})") from None
    except _Constant as error:
        raise BodyRejected(400, f"the body holds the non-JSON literal {error}") from None
    return _mended(value)


class _Constant(ValueError):
    """NaN, Infinity or -Infinity written in the body."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _bounded_int(literal: str) -> int | None:
    """An integer literal's value, or None for one longer than `MAX_INT_DIGITS` digits."""
    if len(literal) - literal.startswith("-") > MAX_INT_DIGITS:
        return None
    return int(literal)


def _mend_scalar(value: Any) -> Any:
    """A string without lone surrogates; an infinite float as None; anything else as is."""
    if isinstance(value, str):
        if value.isascii():
            return value
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _mended(value: Any) -> Any:
    """A copy of `value` within `MAX_DEPTH` and `MAX_NODES`, built without recursion."""
    if not isinstance(value, (dict, list)):
        return _mend_scalar(value)
    nodes = 1
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while stack:
        source, target, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BodyRejected(400, f"the body nests deeper than {MAX_DEPTH} levels")
        nodes += len(source)
        if nodes > MAX_NODES:
            raise BodyRejected(413, f"the body holds more than {MAX_NODES} JSON values")
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in pairs:
            if isinstance(child, (dict, list)):
                copy: Any = {} if isinstance(child, dict) else []
                stack.append((child, copy, depth + 1))
            else:
                copy = _mend_scalar(child)
            if isinstance(target, dict):
                target[_mend_scalar(key)] = copy
            else:
                target.append(copy)
    return root


def check_event_count(count: int) -> None:
    """Refuses a body that would create more events than one body may.

    Raises:
        BodyRejected: 413 above `MAX_EVENTS_PER_BODY`.
    """
    if count > MAX_EVENTS_PER_BODY:
        raise BodyRejected(413, f"the body carries {count} events; at most "
                                f"{MAX_EVENTS_PER_BODY} are accepted in one body")
