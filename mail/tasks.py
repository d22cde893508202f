"""Celery tasks of the e-mail outbox: thin, they call `mail.sending`."""

from celery import shared_task

from mail import sending
from mail.outbox import SEND_DUE_TASK


@shared_task(name=SEND_DUE_TASK, ignore_result=True)
def send_due() -> int:
    """Send the immediate e-mails that are due (beat every 30 s, and after each commit that
    writes some)."""
    return sending.send_due()


@shared_task(name="mail.tasks.send_digests", ignore_result=True)
def send_digests() -> int:
    """Send the daily digests (beat, at DIX_EMAIL_DIGEST_HOUR UTC)."""
    return sending.send_digests()
