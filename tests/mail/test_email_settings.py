"""DIX_EMAIL_URL names the mail backend in one URL; a wrong one stops start-up naming it."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_email


def test_smtp_with_starttls(monkeypatch):
    monkeypatch.setenv("DIX_EMAIL_URL", "smtp://desk%40dix:s3cret@mail.example.org:587?tls=true")
    conf = env_email("DIX_EMAIL_URL", "console://")
    assert conf["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert conf["EMAIL_HOST"] == "mail.example.org"
    assert conf["EMAIL_PORT"] == 587
    assert conf["EMAIL_HOST_USER"] == "desk@dix"
    assert conf["EMAIL_HOST_PASSWORD"] == "s3cret"
    assert conf["EMAIL_USE_TLS"] is True


def test_file_and_console(monkeypatch, tmp_path):
    monkeypatch.setenv("DIX_EMAIL_URL", f"file://{tmp_path}/mail")
    conf = env_email("DIX_EMAIL_URL", "console://")
    assert conf["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert conf["EMAIL_FILE_PATH"] == f"{tmp_path}/mail"
    monkeypatch.delenv("DIX_EMAIL_URL")
    assert env_email("DIX_EMAIL_URL", "console://")["EMAIL_BACKEND"] == (
        "django.core.mail.backends.console.EmailBackend"
    )


@pytest.mark.parametrize("url", ["memory://", "https://mail.example.org", "file://relative"])
def test_a_wrong_url_is_refused_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("DIX_EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DIX_EMAIL_URL"):
        env_email("DIX_EMAIL_URL", "console://")
