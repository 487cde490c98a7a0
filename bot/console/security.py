"""Password hashing, random tokens and constant-time comparisons for the console."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a login takes as long for a missing account as for a real one.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    """The password does not meet the console's minimum."""


def check_password_strength(password: str) -> None:
    """Refuse passwords shorter than 12 characters or made of one repeated character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("the password must not be made of one or two repeated characters")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; runs a full verification even without a hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The sha256 hex digest stored instead of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time equality of two tokens; missing tokens never match."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
