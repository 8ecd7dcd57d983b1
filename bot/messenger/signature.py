"""Webhook signatures: checking Meta's `X-Hub-Signature-256` header, and signing test bodies.

Meta signs every webhook POST with an HMAC-SHA256 of the exact raw request body, keyed with
the app secret, and sends it as ``X-Hub-Signature-256: sha256=<64 lowercase hex digits>``.
The check must run on the raw bytes (before any JSON parsing) and compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import string

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="
_HEX_LENGTH = hashlib.sha256().digest_size * 2
_HEX_DIGITS = frozenset(string.hexdigits)


def _digest(app_secret: str, raw_body: bytes) -> str:
    """The lowercase hex HMAC-SHA256 of a body."""
    if not app_secret:
        raise ValueError("the Meta app secret is empty; set it before handling webhooks")
    return hmac.new(app_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).hexdigest()


def sign(app_secret: str, raw_body: bytes) -> str:
    """The `X-Hub-Signature-256` header value Meta would send for a body.

    Args:
        app_secret: the Meta app secret.
        raw_body: the exact bytes of the request body.

    Returns:
        ``"sha256=<hex>"``.

    Raises:
        ValueError: when the app secret is empty.
    """
    return _PREFIX + _digest(app_secret, raw_body)


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Whether an `X-Hub-Signature-256` header matches the body.

    A missing header, another algorithm (such as the old ``sha1=``), or a value that is not
    64 hex digits is simply False; the digests are compared with `hmac.compare_digest`.

    Args:
        app_secret: the Meta app secret.
        raw_body: the exact bytes of the request body, before any decoding.
        header: the header value as received, or None when it was absent.

    Returns:
        True only for a well-formed header carrying the right signature.

    Raises:
        ValueError: when the app secret is empty (a configuration error, never a pass).
    """
    expected = _digest(app_secret, raw_body)
    if not header:
        return False
    value = header.strip()
    if value[: len(_PREFIX)].lower() != _PREFIX:
        return False
    received = value[len(_PREFIX) :]
    if len(received) != _HEX_LENGTH or not _HEX_DIGITS.issuperset(received):
        return False
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode("ascii"))
