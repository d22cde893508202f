"""Standard Webhooks signatures: the `webhook-signature` header of a body."""

import functools
from collections.abc import Iterable
from datetime import datetime

from standardwebhooks.webhooks import Webhook


@functools.lru_cache(maxsize=65536)
def _signer(secret: str) -> Webhook:
    """The signer of one secret, made once per process (it decodes the secret)."""
    return Webhook(secret)


def sign(webhook_id: str, timestamp: datetime, body: str, secrets: Iterable[str]) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated."""
    return " ".join(_signer(secret).sign(webhook_id, timestamp, body) for secret in secrets)
