"""Secrets DIX must read back (webhook signing secrets, authenticator keys) kept encrypted in
the database: Fernet under `DIX_ENCRYPTION_KEY` (by default a key derived from the Django
secret key), so that a database dump alone does not hold them."""

import base64
import hashlib
from functools import cache, lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt"]


@cache
def _fernet(key_material: str) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(key_material.encode()).digest())
    return Fernet(key)


def encrypt(secret: str) -> str:
    """A token that only `decrypt`, under the same `DIX_ENCRYPTION_KEY`, turns back into
    `secret`; a new token each call (random IV)."""
    return _fernet(settings.DIX_ENCRYPTION_KEY).encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The secret in `token`; `InvalidToken` if `DIX_ENCRYPTION_KEY` is not the key it was
    encrypted under."""
    return _decrypt(settings.DIX_ENCRYPTION_KEY, token)


@lru_cache(maxsize=32768)
def _decrypt(key_material: str, token: str) -> str:
    """Kept per process: a delivery worker signs with the same endpoints' secrets batch after
    batch, and decrypting each one every time would be a large share of its work. A token
    never changes meaning (a new secret is a new token), and a process that can decrypt
    holds the key anyway; an unreadable token raises every time (exceptions are not kept)."""
    return _fernet(key_material).decrypt(token.encode()).decode()
