"""Unlock a client address or an account locked by repeated failed authentication."""

import ipaddress
from typing import Any

from django.core.management.base import CommandError, CommandParser

from intel import auth_limits
from intel.management.base import DixCommand
from intel.models.audit import canonical_address


class Command(DixCommand):
    help = (
        "End the lock on a client address or an account after repeated failed "
        "authentication, and forget its failures (recorded as authentication.unlocked)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--address",
            help="Client address, e.g. 203.0.113.7 or 2001:db8::7, or 'unknown' (clients "
            "whose address is not known, behind a Unix socket)",
        )
        parser.add_argument("--account", help="Username, as the client sent it")

    def handle(self, *args: Any, **opts: Any) -> None:
        address, account = opts["address"], opts["account"]
        if not address and not account:
            raise CommandError("Name an --address, an --account, or both.")
        if address == auth_limits.UNKNOWN_ADDRESS:
            pass  # the clients whose address is not known (a Unix socket's, say)
        elif address:
            canonical = canonical_address(address)
            if canonical is None:
                raise CommandError(f"Not an IP address: {address!r}.")
            address = canonical
            if ipaddress.ip_address(address).version == 6:
                self.stdout.write(f"IPv6 addresses are counted by their /64: {address}/64.")
        was_locked = auth_limits.unlock(address=address, account=account)
        for kind, name in (("address", address), ("account", account)):
            if name:
                state = "was locked" if kind in was_locked else "was not locked"
                self.stdout.write(
                    f"{kind.capitalize()} {name} {state}; its failures are forgotten."
                )
