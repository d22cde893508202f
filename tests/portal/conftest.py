"""Portal personas with passwords and authenticators, and a signed-in browser client each."""

import time
from collections.abc import Callable

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice

from intel.models import Authenticator, Member
from tests.portal.browser import browser  # noqa: F401 - the browser tests' fixture

PASSWORD = "correct horse battery staple 7"


def code_for(device: Authenticator, *, later: int = 0) -> str:
    """The code the member's app shows now (or `later` steps from now)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + later * device.step
    return f"{totp.token():0{device.digits}d}"


def waited(member: Member) -> None:
    """As if the member waited out django-otp's delay after a wrong code (it doubles with
    each failure)."""
    for devices in (Authenticator.objects, StaticDevice.objects):
        devices.filter(user=member).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )


def with_password(member: Member) -> Member:
    member.set_password(PASSWORD)
    member.save(update_fields=["password"])
    return member


def with_authenticator(member: Member) -> Authenticator:
    with_password(member)
    return Authenticator.objects.create(user=member, name="phone", confirmed=True)


@pytest.fixture
def portal(network: object) -> Callable[[Member], Client]:
    """`portal(member)`: a client signed in through the portal's own pages (password, then
    a code for members who need one)."""

    def signed_in(member: Member) -> Client:
        client = Client()
        device = Authenticator.objects.filter(user=member, confirmed=True).first()
        if device is None and member.clearance not in ("TLP:CLEAR", "TLP:GREEN"):
            device = with_authenticator(member)
        else:
            with_password(member)
        answer = client.post("/login/", {"username": member.username, "password": PASSWORD})
        assert answer.status_code == 302, answer.content
        if device is not None:
            answer = client.post("/login/verify/", {"code": code_for(device)})
            assert answer.status_code == 302, answer.content
        return client

    return signed_in
