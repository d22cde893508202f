"""Session and CSRF cookies are HTTPS-only unless the service runs as the demo or in debug
mode: a deployment that forgets `DIX_SECURE_COOKIES` is secure anyway."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps([settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE]))"
)


def cookie_flags(**env: str) -> list[bool]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIX_")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    answer = subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert answer.returncode == 0, answer.stderr
    flags: list[bool] = json.loads(answer.stdout.strip().splitlines()[-1])
    return flags


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({}, True),
        ({"DIX_DEMO": "true"}, False),
        ({"DIX_DEBUG": "true"}, False),
        ({"DIX_DEMO": "true", "DIX_SECURE_COOKIES": "true"}, True),
        ({"DIX_SECURE_COOKIES": "false"}, False),
    ],
)
def test_cookies_are_secure_unless_the_demo_or_debug_runs(env: dict[str, str], secure: bool):
    assert cookie_flags(**env) == [secure, secure]
