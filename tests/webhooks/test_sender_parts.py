"""The sender's parts on their own, no network and no database: the URL guard, the URL as
libcurl takes it, Retry-After, signatures and the feed."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks.webhooks import Webhook

from webhooks.sender import Feed, Outgoing, UnsafeDestination, check_url, sign
from webhooks.sender.guard import ascii_url, refusal
from webhooks.sender.transfer import retry_after_seconds

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize(
    ("url", "allow_loopback", "refused"),
    [
        ("https://8.8.8.8/hook", False, None),
        ("http://8.8.8.8/hook", False, "Only https URLs are allowed."),
        ("http://127.0.0.1:9/hook", True, None),
        ("https://127.0.0.1/hook", False, "127.0.0.1 is a loopback address"),
        ("https://[::ffff:10.0.0.1]/hook", False, "::ffff:10.0.0.1 is a private"),
        ("https://user:pw@8.8.8.8/hook", False, "Credentials in the URL are not allowed."),
        ("https://8.8.8.8:99999/hook", False, "The URL's port is not a valid port number."),
        ("ftp://8.8.8.8/hook", False, "Only https URLs are allowed."),
    ],
)
def test_refusal_says_why_a_url_may_not_be_called(
    url: str, allow_loopback: bool, refused: str | None
) -> None:
    reason = refusal(url, allow_loopback)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None
        assert reason.startswith(refused)


def test_check_url_refuses_a_url_before_any_name_is_resolved() -> None:
    with pytest.raises(UnsafeDestination, match="no host"):
        check_url("https:///hook", allow_loopback=False, resolve=False)
    check_url("https://example.org/hook", allow_loopback=False, resolve=False)


def test_ascii_url_encodes_the_host_in_idna_and_the_rest_in_percent() -> None:
    assert ascii_url("https://example.org/a?b=c") == "https://example.org/a?b=c"
    assert ascii_url("https://bücher.example:8443/ä?q=é") == (
        "https://xn--bcher-kva.example:8443/%C3%A4?q=%C3%A9"
    )


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=600), usegmt=True)
    seconds = retry_after_seconds(later)
    assert seconds is not None
    assert 590 <= seconds <= 600


def test_a_signature_verifies_with_every_secret_it_was_made_with() -> None:
    other = "whsec_" + "QkFTRTY0U0VDUkVUU0VDUkVUU0VDUkVUMTIzNA=="
    when = datetime.now(UTC)
    header = sign("msg_1", when, '{"a":1}', [SECRET, other])
    assert len(header.split(" ")) == 2
    for secret in (SECRET, other):
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": header,
        }
        assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}


def test_a_feed_wakes_a_hungry_sender_and_says_when_it_is_closed() -> None:
    feed = Feed()
    feed.hungry = True
    item = Outgoing(
        key=1, endpoint=1, url="https://8.8.8.8/", webhook_id="m", body="{}", secrets=()
    )
    feed.put(item)
    assert feed.arrived.is_set()
    assert not feed.hungry
    assert list(feed.pending) == [item]
    feed.arrived.clear()
    feed.close()
    assert feed.closed
    assert feed.arrived.is_set()
