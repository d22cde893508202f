"""`manage.py audit_verify`: walk the audit chain and report the first broken link."""

from typing import Any

from django.core.management.base import CommandError, CommandParser

from intel import audit
from intel.management.base import DixCommand
from intel.models import AuditEvent


class Command(DixCommand):
    help = (
        "Verify the audit trail's hash chain; exit 1 at the first broken link. Prints the "
        "chain's head: keep it outside DIX and pass it later as --anchor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="HASH",
            help="An event hash printed by an earlier run (repeatable): fail unless it is "
            "still in the chain. The chain alone cannot show that its newest events were "
            "removed; an anchor kept elsewhere can.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = audit.verify()
        if broken is not None:
            raise CommandError(
                f"Audit chain broken at event {broken.event_id}: {broken.reason} "
                f"({checked} events before it verified)."
            )
        for anchor in options["anchor"]:
            if not AuditEvent.objects.filter(hash=anchor.strip().lower()).exists():
                raise CommandError(
                    f"Anchor {anchor} is not in the audit chain: events up to it were removed "
                    f"or the chain was replaced ({checked} events verified)."
                )
        last = audit.head()
        where = f" Head: event {last.pk}, hash {last.hash}." if last is not None else ""
        self.stdout.write(f"Audit chain intact: {checked} events verified.{where}")
