"""Where the workers' e-mails go, in one line for the operator (`run_all`, `load_demo`)."""

from django.conf import settings

_BACKENDS = "django.core.mail.backends."


def mail_destination() -> str:
    """E.g. `files in /srv/dix/var/mail/`, `SMTP mail.example.org:587 (STARTTLS)`."""
    backend = str(settings.EMAIL_BACKEND)
    if backend == f"{_BACKENDS}filebased.EmailBackend":
        return f"files in {settings.EMAIL_FILE_PATH}/ (DIX_EMAIL_URL)"
    if backend == f"{_BACKENDS}console.EmailBackend":
        return "the worker's output (DIX_EMAIL_URL)"
    if backend == f"{_BACKENDS}smtp.EmailBackend":
        security = (
            " (TLS)" if settings.EMAIL_USE_SSL else " (STARTTLS)" if settings.EMAIL_USE_TLS else ""
        )
        return f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}{security}"
    return backend
