"""The other events by e-mail: an access request to those who decide it and its decision to
the asker; a draft submitted for review to the reviewers; a reminder to the reminded
organisation; each as the member may see it."""

from mail import outbox, sending
from notices.models import Notice
from tests.helpers.access import NOTICES, REQUESTS, analysts_decide, annex, ask, notice, publish
from tests.mail.conftest import recipients

__all__ = ["analysts_decide", "annex", "notice"]  # fixtures used by name


def test_an_access_request_reaches_the_deciders_and_its_decision_the_asker(
    network, api, mailboxes, mailoutbox, annex, notice, analysts_decide
):
    sending.send_due()
    mailoutbox.clear()
    created = ask(api(network.charlie), "profile", annex.pk, via_notice=notice["id"])
    assert created.status_code == 201, created.content
    assert mailoutbox == []
    sending.send_due()
    # fr-desk decides, through its analyst alice as it lets its analysts (olga, an officer,
    # is no decider).
    assert recipients(mailoutbox) == {"alice"}
    (message,) = mailoutbox
    assert f"/api/v1/access-requests/{created.json()['id']}/" in message.body
    assert "Check our prisons" not in message.body  # the purpose stays behind the link
    mailoutbox.clear()

    approved = api(network.alice).post(
        f"{REQUESTS}{created.json()['id']}/approve/", {"days": 10}, format="json"
    )
    assert approved.status_code == 200, approved.content
    sending.send_due()
    assert recipients(mailoutbox) == {"charlie"}
    assert "Approved" in mailoutbox[0].body


def test_a_submitted_draft_reaches_the_reviewers_who_may_read_it(network, api, felix, mailoutbox):
    draft = api(network.alice).post(
        NOTICES, {"type": "alert", "title": "Please review", "tlp": "TLP:AMBER"}, format="json"
    )
    assert draft.status_code == 201, draft.content
    # The notice service that submits emits `notice.submitted`; its e-mail listener is this.
    outbox.enqueue("notice.submitted", notice=Notice.objects.get(pk=draft.json()["id"]))
    sending.send_due()
    # fr-desk's coordinator and the secretariat's; not the drafter, not other desks.
    assert recipients(mailoutbox) == {"felix", "cora"}
    assert all("waits for your review" in m.body for m in mailoutbox)


def test_a_reminder_reaches_the_reminded_organisation_only(network, api, mailboxes, mailoutbox):
    notice_id = publish(network, api, title="Respond please")["id"]
    sending.send_due()
    mailoutbox.clear()
    outbox.enqueue(
        "notice.reminder", notice=Notice.objects.get(pk=notice_id), organisation=network.be_desk
    )
    sending.send_due()
    assert recipients(mailoutbox) == {"bob"}
    assert "not acknowledged" in mailoutbox[0].body
