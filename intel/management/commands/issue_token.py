"""`manage.py issue_token`: a new API token for a member, shown once."""

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from intel import accounts
from intel.management.base import DixCommand
from intel.models import Member


class Command(DixCommand):
    help = "Issue an API token for a member and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for")
        parser.add_argument("--days", type=int, help="Expire after this many days")

    def handle(self, *args: Any, **opts: Any) -> None:
        member = Member.objects.filter(username=opts["username"], is_active=True).first()
        if member is None:
            raise CommandError(f"No active member {opts['username']!r}.")
        expires = timezone.now() + timedelta(days=opts["days"]) if opts["days"] else None
        issued = accounts.token_issue(member=member, name=opts["name"], expires_at=expires)
        self.stdout.write(issued.secret)
        self.stderr.write("Store this token now: DIX keeps only its hash and cannot show it again.")
