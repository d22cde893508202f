"""Two workers sending at once send each e-mail once: the lease (`SKIP LOCKED` on
PostgreSQL, IMMEDIATE transactions on SQLite) gives every row to one of them."""

import threading

import pytest
from django.db import connection

from mail import sending
from mail.models import EmailMessage
from tests.helpers.access import publish
from tests.mail.conftest import recipients


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_email_once(network, api, mailboxes, mailoutbox):
    for n in range(3):
        publish(network, api, title=f"Alert {n}")
    queued = EmailMessage.objects.count()
    assert queued == 21  # 3 notices × 7 members with an address

    counts: list[int] = []

    def worker() -> None:
        try:
            counts.append(sending.send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == queued
    assert len(mailoutbox) == queued
    assert len({(m.to[0], m.subject) for m in mailoutbox}) == queued
    assert recipients(mailoutbox) == {"cora", "audrey", "alice", "bob", "charlie", "dave", "erin"}
