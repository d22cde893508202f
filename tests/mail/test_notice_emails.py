"""Publishing a notice writes e-mails for its audience; the workers send them, once, carrying
no more than each member may see at the notice's label."""

from django.core import mail

from intel.models import TLP
from mail import sending
from mail.models import EmailMessage
from tests.helpers.access import NOTICES, publish
from tests.mail.conftest import PREFERENCES, recipients

SUMMARY = "Low-metal phones pass walk-through detectors."
BODY = "Seen in three prisons of the Paris region."


def choose(client, event_type, delivery):
    response = client.put(
        PREFERENCES,
        {"preferences": [{"event_type": event_type, "delivery": delivery}]},
        format="json",
    )
    assert response.status_code == 200, response.content


def test_the_audience_gets_one_email_each_sent_by_the_worker_not_the_request(
    network, api, mailboxes, mailoutbox
):
    choose(api(network.charlie), "notice.published", "none")
    notice = publish(network, api, title="Mini phones", summary=SUMMARY, body=BODY)
    # Written with the publication, sent by nobody yet.
    assert mailoutbox == []
    queued = EmailMessage.objects.filter(notice_id=notice["id"])
    assert {row.member.username for row in queued} == {
        "cora",
        "audrey",
        "alice",
        "bob",
        "dave",
        "erin",
    }  # charlie chose none, olga has no address

    assert sending.send_due() == 6
    assert recipients(mailoutbox) == {"cora", "audrey", "alice", "bob", "dave", "erin"}
    to_bob = next(m for m in mailoutbox if m.to == ["bob@example.org"])
    assert to_bob.subject == "[TLP:GREEN] Published – Alert: Mini phones"
    assert SUMMARY in to_bob.body
    assert BODY not in to_bob.body  # the body stays behind the link
    assert f"/api/v1/notices/{notice['id']}/" in to_bob.body

    # A second run (or a second worker) sends nothing again.
    assert sending.send_due() == 0
    assert len(mailoutbox) == 6


def test_an_amber_notice_reaches_its_audience_only(network, api, mailboxes, mailoutbox):
    publish(
        network,
        api,
        title="Belgian case",
        summary=SUMMARY,
        tlp=TLP.AMBER,
        audience={"scope": "organisations", "organisations": ["be-desk"]},
    )
    sending.send_due()
    # The issuer and the audience, and the authority be-desk sponsors (AMBER); never the
    # outsider de-desk, nor the secretariat that is no audience.
    assert recipients(mailoutbox) == {"alice", "bob", "erin", "dave"}
    assert all(SUMMARY in m.body for m in mailoutbox)


def test_a_red_notice_email_says_title_type_label_and_link_only(network, api, felix, mailoutbox):
    draft = api(network.alice).post(
        NOTICES,
        {
            "type": "warning",
            "title": "Named only",
            "summary": SUMMARY,
            "body": BODY,
            "action_requested": "Call the French desk.",
            "tlp": TLP.RED,
            "audience": {"members": ["audrey", "felix"]},
        },
        format="json",
    )
    assert draft.status_code == 201, draft.content
    published = api(felix).post(f"{NOTICES}{draft.json()['id']}/publish/")
    assert published.status_code == 200, published.content
    sending.send_due()
    assert recipients(mailoutbox) == {"alice", "audrey", "felix"}
    for message in mailoutbox:
        assert message.subject == "[TLP:RED] Published – Warning: Named only"
        assert "Named only" in message.body
        assert "TLP:RED" in message.body
        assert "Warning" in message.body
        assert f"/api/v1/notices/{draft.json()['id']}/" in message.body
        for secret in (SUMMARY, BODY, "Call the French desk", draft.json()["reference"]):
            assert secret not in message.body
            assert secret not in message.subject


def test_digest_rows_wait_and_go_out_as_one_email_a_day(network, api, mailboxes, mailoutbox):
    choose(api(network.bob), "notice.published", "digest")
    publish(network, api, title="First alert", summary=SUMMARY)
    publish(network, api, title="Second alert", summary=SUMMARY)
    sending.send_due()
    assert "bob" not in recipients(mailoutbox)
    mailoutbox.clear()

    assert sending.send_digests() == 1
    (digest,) = mailoutbox
    assert digest.to == ["bob@example.org"]
    assert "2 events" in digest.body
    assert "First alert" in digest.body
    assert "Second alert" in digest.body
    assert sending.send_digests() == 0  # each row goes out once


def test_a_member_who_may_no_longer_see_the_notice_is_not_told(network, api, mailboxes, mailoutbox):
    notice = publish(
        network,
        api,
        title="For Belgium",
        tlp=TLP.AMBER,
        audience={"scope": "organisations", "organisations": ["be-desk"]},
    )
    network.bob.clearance = TLP.GREEN
    network.bob.save(update_fields=["clearance"])
    sending.send_due()
    assert "bob" not in recipients(mailoutbox)
    assert EmailMessage.objects.get(notice_id=notice["id"], member=network.bob).status == (
        "dropped"
    )


def test_a_failing_mail_server_leaves_the_email_to_retry(
    network, api, mailboxes, mailoutbox, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens, the connection is refused
    settings.EMAIL_TIMEOUT = 2
    notice = publish(network, api, title="Unsent")
    assert sending.send_due() == 0
    row = EmailMessage.objects.get(notice_id=notice["id"], member=network.bob)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at > row.created_at
    assert mail.outbox == []


def test_the_publication_audits_webhook_deliveries_only(network, api, mailboxes, mailoutbox):
    """E-mails are written by the event hook's second listener; the count the publication
    records stays the webhook deliveries' (none here: nobody subscribed)."""
    notice = publish(network, api, title="Counted")
    assert EmailMessage.objects.filter(notice_id=notice["id"]).count() == 7
    events = api(network.audrey).get("/api/v1/audit/", {"action": "notice.published"})
    assert events.status_code == 200, events.content
    (event,) = [e for e in events.json()["results"] if e["object_id"] == str(notice["id"])]
    assert event["detail"]["deliveries"] == 0
