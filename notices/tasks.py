"""Celery tasks of notices: thin, they call the service."""

from celery import shared_task

from notices.reminders import reminders_send


@shared_task(name="notices.tasks.send_reminders", ignore_result=True)
def send_reminders() -> int:
    """Run by beat every few minutes: remind the audience organisations that have not
    acknowledged a notice whose `respond_by` has passed (once each)."""
    return reminders_send()
