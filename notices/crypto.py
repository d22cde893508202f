"""Signing secrets at rest: encrypted with Fernet under `DIX_ENCRYPTION_KEY` (by default a key
derived from the Django secret key), so a database dump alone does not hold them."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["InvalidToken", "decrypt", "encrypt"]
from django.conf import settings


@cache
def _fernet(key_material: str) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(key_material.encode()).digest())
    return Fernet(key)


def encrypt(secret: str) -> str:
    return _fernet(settings.DIX_ENCRYPTION_KEY).encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.DIX_ENCRYPTION_KEY).decrypt(token.encode()).decode()
