"""`manage.py issue_token`: a new API token for a member, shown once."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError

from core.durations import validity
from intel import accounts
from intel.management.base import DixCommand
from intel.models import Member


class Command(DixCommand):
    help = "Issue an API token for a member and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for")
        parser.add_argument("--days", type=int, help="Expire after this many days")
        parser.add_argument(
            "--expires-at", help="Expire at this time (RFC 3339); instead of --days"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        member = Member.objects.filter(username=opts["username"], is_active=True).first()
        if member is None:
            raise CommandError(f"No active member {opts['username']!r}.")
        moment = None
        if opts["expires_at"] is not None:
            moment = parse_datetime(opts["expires_at"])
            if moment is None or moment.tzinfo is None:
                raise CommandError("--expires-at: an RFC 3339 time with its offset.")
        try:
            expires = validity(days=opts["days"], expires_at=moment, default=None)
        except ValidationError as refused:
            raise CommandError(_options(refused.detail)) from None
        issued = accounts.token_issue(member=member, name=opts["name"], expires_at=expires)
        self.stdout.write(issued.secret)
        self.stderr.write("Store this token now: DIX keeps only its hash and cannot show it again.")


def _options(detail: Any) -> str:
    """A body refusal in the command's words: `--days: …`."""
    items = detail.items() if isinstance(detail, dict) else []
    return " ".join(
        f"--{name.replace('_', '-')}: {' '.join(str(m) for m in messages)}"
        for name, messages in items
    )
