"""Tiny typed readers for environment settings (after healthchecks' hc/settings.py).

Every setting DIX reads is named in the README's settings table; a malformed value stops
start-up with a message naming the variable rather than failing later.
"""

import ipaddress
import os
import urllib.parse
from typing import Any

import dj_email_url
from django.core.exceptions import ImproperlyConfigured

# One JSON object per log line, shared by Django's LOGGING and gunicorn's logconfig_dict.
JSON_LOG_FORMATTER = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(
    name: str, default: list[str], *, keywords: tuple[str, ...] = ()
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Addresses or CIDR networks, comma-separated (`10.0.0.5,192.168.0.0/24,::1`). Items
    in `keywords` are allowed (any case) and left out: the caller reads them with
    `env_list`."""
    networks = []
    for item in env_list(name, default):
        if item.lower() in keywords:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            allowed = "".join(f", or {word!r}" for word in keywords)
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks{allowed}, not {item!r}"
            ) from None
    return networks


# The backends DIX_EMAIL_URL may name; dj-email-url knows a few more (memory, dummy) that
# would lose every e-mail in production.
EMAIL_SCHEMES = ("smtp", "submission", "console", "file")


def env_email(name: str, default: str) -> dict[str, Any]:
    """Django's EMAIL_* settings from one URL (dj-email-url): `smtp://user:pass@host:587?tls=true`
    (`ssl=true` for implicit TLS; `submission://` is SMTP with STARTTLS on 587),
    `console://` (printed by the worker) or `file:///absolute/folder` (a file per batch sent)."""
    raw = env_str(name, "") or default
    parsed = urllib.parse.urlparse(raw)
    if parsed.scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(s + '://' for s in EMAIL_SCHEMES)}, "
            f"not {raw!r}"
        )
    try:
        conf: dict[str, Any] = dj_email_url.parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid e-mail URL: {exc}") from None
    if parsed.scheme == "file":
        # dj-email-url drops the path's leading slash: a folder is named by its absolute path.
        folder = urllib.parse.unquote(parsed.path)
        if not folder.startswith("/") or folder == "/":
            raise ImproperlyConfigured(f"{name} must name an absolute folder: file:///path")
        conf["EMAIL_FILE_PATH"] = folder
    return {key: value for key, value in conf.items() if value is not None}
