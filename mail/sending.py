"""Sending the outbox, in the workers: lease due rows, render each for its member, send through
Django's mail framework, record the outcome. Immediate rows go one e-mail each (`send_due`);
digest rows one e-mail per member a day (`send_digests`).

A lease (`leased_until`, `lease`) is taken in a short transaction of its own, with
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's IMMEDIATE transactions queue the
writers instead), so two workers never take the same row; a worker that dies leaves its rows
due again once the lease has passed. Outcomes are written only under the worker's own lease.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core import mail as django_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from mail.content import Item, digest_body, item_of
from mail.models import Delivery, EmailMessage, EmailStatus

log = logging.getLogger("dix.mail")

# Rows a worker takes at once: few enough to be sent well within a lease by a slow SMTP relay.
BATCH = 50


def send_due() -> int:
    """Send the immediate e-mails that are due, batch after batch; returns how many were sent."""
    sent = 0
    while True:
        token, rows = _lease(EmailMessage.objects.filter(delivery=Delivery.IMMEDIATE), BATCH)
        if not rows:
            return sent
        with _connection() as connection:
            for row in rows:
                item = item_of(row)
                if item is None:
                    _finish(token, [row], EmailStatus.DROPPED)
                    continue
                message = django_mail.EmailMessage(
                    subject=item.subject,
                    body=item.body(),
                    to=[row.member.email],
                    connection=connection,
                )
                sent += _send(token, [row], message)


def send_digests() -> int:
    """Send each member with digest rows waiting one e-mail listing them; returns how many
    e-mails were sent. A digest that fails waits for the next run."""
    sent = 0
    waiting = EmailMessage.objects.filter(delivery=Delivery.DIGEST, status=EmailStatus.PENDING)
    for member_id in waiting.values_list("member_id", flat=True).distinct().order_by():
        token, rows = _lease(
            EmailMessage.objects.filter(member_id=member_id, delivery=Delivery.DIGEST)
        )
        if not rows:
            continue
        items: list[Item] = []
        kept: list[EmailMessage] = []
        for row in rows:
            item = item_of(row)
            if item is None:
                _finish(token, [row], EmailStatus.DROPPED)
            else:
                items.append(item)
                kept.append(row)
        if not items:
            continue
        subject, body = digest_body(kept[0].member, items)
        message = django_mail.EmailMessage(subject=subject, body=body, to=[kept[0].member.email])
        sent += _send(token, kept, message)
    return sent


@contextmanager
def _connection() -> Iterator[BaseEmailBackend]:
    """One connection to the mail server for a batch. A server out of reach is not an error
    here: each send tries again and records its own failure (`_send`)."""
    connection = django_mail.get_connection()
    try:
        connection.open()
    except Exception:
        log.warning("mail server out of reach", exc_info=True)
    try:
        yield connection
    finally:
        try:
            connection.close()
        except Exception:
            log.warning("mail server connection not closed cleanly", exc_info=True)


def _lease(
    rows: QuerySet[EmailMessage], limit: int | None = None
) -> tuple[str, list[EmailMessage]]:
    """Take the pending rows of `rows` that are due and held by nobody; returns the lease's
    token and the rows, oldest first."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        due = (
            rows.filter(status=EmailStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .order_by("next_attempt_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        ids = list(due[:limit] if limit is not None else due)
        EmailMessage.objects.filter(pk__in=ids).update(
            leased_until=now + timedelta(seconds=settings.DIX_EMAIL_LEASE_SECONDS), lease=token
        )
    taken = EmailMessage.objects.filter(pk__in=ids, lease=token).select_related(
        "member__organisation__sponsor"
    )
    return token, list(taken.order_by("next_attempt_at", "id"))


def _send(token: str, rows: list[EmailMessage], message: django_mail.EmailMessage) -> int:
    """Send one e-mail standing for `rows`, and record the outcome on them; 1 if sent."""
    try:
        message.send()
    except Exception as exc:  # any failure of the backend: an SMTP refusal, a network error
        log.warning("e-mail not sent", extra={"emails": [r.pk for r in rows], "error": str(exc)})
        _retry_later(token, rows, str(exc))
        return 0
    _finish(token, rows, EmailStatus.SENT)
    return 1


def _finish(token: str, rows: list[EmailMessage], status: str) -> None:
    now = timezone.now()
    EmailMessage.objects.filter(pk__in=[r.pk for r in rows], lease=token).update(
        status=status,
        sent_at=now if status == EmailStatus.SENT else None,
        attempts=F("attempts") + (1 if status == EmailStatus.SENT else 0),
        leased_until=None,
        lease="",
    )


def _retry_later(token: str, rows: list[EmailMessage], error: str) -> None:
    """After a failure: due again after the schedule's next wait, or failed after its last."""
    schedule: list[int] = settings.DIX_EMAIL_RETRY_SCHEDULE
    now = timezone.now()
    by_attempts: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_attempts[row.attempts + 1].append(row.pk)
    for attempts, ids in by_attempts.items():
        exhausted = attempts > len(schedule)
        wait = 0 if exhausted else schedule[attempts - 1]
        EmailMessage.objects.filter(pk__in=ids, lease=token).update(
            status=EmailStatus.FAILED if exhausted else EmailStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=wait),
            last_error=error[:1000],
            leased_until=None,
            lease="",
        )
