"""`manage.py invite_member`: prints a member's one-time link to set their portal password."""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from intel.management.base import DixCommand
from intel.models import Member
from portal.invitations import invitation_link


class Command(DixCommand):
    help = (
        "Print a one-time link with which a member sets their portal password (first sign-in "
        "or reset). Hand it over through a channel you trust; DIX never e-mails passwords."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="An existing member (see create_member)")

    def handle(self, *args: Any, **opts: Any) -> None:
        member = Member.objects.filter(username=opts["username"], is_active=True).first()
        if member is None:
            raise CommandError(f"No active member {opts['username']!r}.")
        link = invitation_link(member)
        self.stdout.write(
            f"One-time link for {member.username} (valid until used, at most "
            f"{settings.DIX_INVITE_DAYS} days):\n{link}"
        )
