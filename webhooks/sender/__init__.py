"""The webhook sender: signs and POSTs items over libcurl's multi interface, refusing any
destination off the public internet. It knows nothing of DIX's models or settings.

libcurl's multi interface (pycurl) drives many transfers over reused connections from one
thread, with the HTTP work in C and the GIL released. Every address libcurl is about to
connect to, after resolving a name itself (asynchronously, within the connect timeout), is
checked first (`CURLOPT_OPENSOCKETFUNCTION`): loopback, private, link-local, CGNAT,
multicast, reserved and transition addresses get no socket. The check is on the very address
connected to, so neither a resolver's answer (DNS rebinding) nor a way of writing the host
(percent-encoded, dotted, numeric) can lead anywhere else. Proxies from the environment are
ignored, redirects are not followed, and only HTTP(S) is spoken.
"""

from webhooks.sender.client import Sender, send_all
from webhooks.sender.guard import UnsafeDestination, check_url, forbidden_reason
from webhooks.sender.items import Feed, Outcome, Outgoing, SenderSettings
from webhooks.sender.signing import sign
from webhooks.sender.transfer import RESPONSE_BODY_CAP

__all__ = [
    "RESPONSE_BODY_CAP",
    "Feed",
    "Outcome",
    "Outgoing",
    "Sender",
    "SenderSettings",
    "UnsafeDestination",
    "check_url",
    "forbidden_reason",
    "send_all",
    "sign",
]
