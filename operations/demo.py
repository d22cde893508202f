"""The demo personas' sign-in: one published password, and for each persona cleared above
TLP:GREEN an authenticator key derived from their name, so that anyone can sign in to the
demo portal by typing the key into an authenticator app (or by computing the code).

Demo only: `load_demo` creates them, and the sign-in page lists them only when `DIX_DEMO` is on
(`make run` turns it on).
"""

import hashlib
import json
from base64 import b32encode
from dataclasses import dataclass
from pathlib import Path

from intel import accounts
from intel.models import Authenticator, Member

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "demo.json"
DEMO_PASSWORD = "operation-prison-break-demo"  # noqa: S105 - published with the demo


@dataclass(frozen=True)
class Persona:
    username: str
    label: str
    token: str
    password: str
    totp_secret: str  # base32, as authenticator apps take it; empty: no second factor


def _key(username: str) -> bytes:
    # 20 bytes, the key length authenticator apps expect; a published demo key, not a secret.
    return hashlib.sha256(f"dix-demo-authenticator:{username}".encode()).digest()[:20]


def personas() -> list[Persona]:
    found = []
    for item in json.loads(FIXTURE.read_text())["members"]:
        secret = ""
        if accounts.needs_second_factor(item["clearance"]):
            secret = b32encode(_key(item["username"])).decode().rstrip("=")
        found.append(
            Persona(
                username=item["username"],
                label=item["persona"],
                token=item["token"],
                password=item.get("password", DEMO_PASSWORD),
                totp_secret=secret,
            )
        )
    return found


def give_sign_in(member: Member) -> None:
    """The demo password, and a confirmed authenticator with the derived key when the
    member's clearance asks for one (kept if the member already has one)."""
    if not member.has_usable_password():
        member.set_password(DEMO_PASSWORD)
        member.save(update_fields=["password"])
    needs_one = accounts.needs_second_factor(member.clearance)
    if needs_one and not Authenticator.objects.filter(user=member, confirmed=True).exists():
        device = Authenticator(user=member, name="demo authenticator", confirmed=True)
        device.set_key(_key(member.username))  # encrypted at rest like every member's key
        device.save()
