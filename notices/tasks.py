"""Celery tasks: thin, they call the delivery engine. Retries are rows in the database
(`Delivery.next_attempt_at`), never long countdowns held by the broker."""

from celery import shared_task

from notices import delivery
from notices.models import Delivery


@shared_task(name="notices.tasks.deliver_due", ignore_result=True)
def deliver_due() -> int:
    """Deliver due deliveries in batches until none is due (or a minute has passed)."""
    return delivery.deliver_due()


@shared_task(name="notices.tasks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> bool:
    """Run by beat every few seconds: if anything is due — a retry whose time has come, or a
    delivery whose message or worker was lost — ask a worker to deliver it."""
    if Delivery.objects.due().exists():
        deliver_due.delay()
        return True
    return False
