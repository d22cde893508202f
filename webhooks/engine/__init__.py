"""The delivery engine: leases due deliveries, re-checks entitlement, renders, signs, sends
through `webhooks.sender` and records every attempt; its public names are importable here.

A batch goes lease → load → order → entitle → render → send → record; `pipeline` reads in
that order and each step is a module of its own.
"""

from webhooks.engine.lease import lease_due, leased_test_delivery
from webhooks.engine.load import load_leased
from webhooks.engine.payloads import Renderer, payload_bodies
from webhooks.engine.pipeline import deliver_due, send_now
from webhooks.engine.record import next_delay
from webhooks.engine.sweeper import sweep

__all__ = [
    "Renderer",
    "deliver_due",
    "lease_due",
    "leased_test_delivery",
    "load_leased",
    "next_delay",
    "payload_bodies",
    "send_now",
    "sweep",
]
