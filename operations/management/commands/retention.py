"""`manage.py retention [--dry-run]`: delete what is past its retention period (never audit
events) and print what was deleted, per model. The scheduler runs the same thing daily."""

from typing import Any

from django.core.management.base import CommandParser

from intel.management.base import DixCommand
from operations import retention


class Command(DixCommand):
    help = (
        "Delete rows past their retention period (DIX_RETENTION_*_DAYS) and print the counts "
        "per model. The audit trail is never deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be deleted; change nothing and record no audit event.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = retention.run(dry_run=options["dry_run"])
        verb = "Would delete" if report.dry_run else "Deleted"
        for label, count in report.counts.items():
            self.stdout.write(f"{verb} {count} {label}")
        kept = sorted({rule.name for rule in retention.RULES} - set(report.cutoffs))
        for label in kept:
            self.stdout.write(f"Kept all {label} (retention period 0: for ever)")
        self.stdout.write(f"{verb} {report.total} rows in all; audit events are never deleted.")
