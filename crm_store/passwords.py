"""Password hashing for console users: Argon2id via argon2-cffi, with its
recommended parameters (RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """An Argon2id hash string (salt and parameters included) for storing."""
    if not password:
        raise ValueError("empty passwords are not allowed")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored hash; False for a mismatch or a
    malformed hash (never raises on user input)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's; rehash on the
    next successful login."""
    return _HASHER.check_needs_rehash(password_hash)
