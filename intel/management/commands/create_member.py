"""`manage.py create_member`: adds a member to an organisation."""

from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.errors import ApplicationError
from intel import accounts
from intel.management.base import DixCommand
from intel.models import TLP, Organisation, Role


class Command(DixCommand):
    help = "Create a member of an organisation (no password: tokens only, unless --password)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--organisation", required=True, help="Organisation slug")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--clearance", required=True, choices=TLP.values)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Enables session login (admin, browsable API)")
        parser.add_argument("--staff", action="store_true", help="May sign in to the admin")

    def handle(self, *args: Any, **opts: Any) -> None:
        org = Organisation.objects.filter(slug=opts["organisation"]).first()
        if org is None:
            raise CommandError(f"No organisation {opts['organisation']!r}.")
        try:
            member = accounts.member_create(
                organisation=org,
                username=opts["username"],
                role=opts["role"],
                clearance=opts["clearance"],
                email=opts["email"],
                password=opts["password"],
                is_staff=opts["staff"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.detail} {exc.errors}") from exc
        self.stdout.write(f"Created member {member.username} of {org.slug} (id {member.pk}).")
