"""Password hashing for desk logins: argon2id through argon2-cffi, never a password stored.

`verify` also tells when a stored hash was made with weaker parameters than today's, so the
login can store a fresh one.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12

_HASHER = PasswordHasher()


@cache
def _unknown_login_hash() -> str:
    """A hash to check against when the login does not exist.

    A wrong login then takes as long as a wrong password, so timing does not tell which
    logins exist.
    """
    return _HASHER.hash(secrets.token_urlsafe(16))


class WeakPasswordError(ValueError):
    """The password is too short to protect customers' conversations."""


def hash_password(password: str) -> str:
    """The argon2id hash to store for a password of at least MIN_PASSWORD_LENGTH characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"a desk password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no stored hash (no such login) always False."""
    try:
        return _HASHER.verify(stored_hash or _unknown_login_hash(), password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _HASHER.check_needs_rehash(stored_hash)


def one_time_password() -> str:
    """A random password to hand over once (20 URL-safe characters, about 120 bits)."""
    return secrets.token_urlsafe(15)
