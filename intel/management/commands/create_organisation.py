"""`manage.py create_organisation`: adds an organisation to the network."""

from typing import Any

from django.core.management.base import CommandError, CommandParser

from core.errors import ApplicationError
from intel import accounts
from intel.management.base import DixCommand
from intel.models import Organisation, OrganisationKind


class Command(DixCommand):
    help = "Create an organisation of the network."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Stable short id, e.g. fr-desk")
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=OrganisationKind.values)
        parser.add_argument("--country", default="", help="ISO 3166-1 alpha-2")
        parser.add_argument("--sponsor", help="Slug of the sponsoring desk (authorities only)")

    def handle(self, *args: Any, **opts: Any) -> None:
        sponsor = None
        if opts["sponsor"]:
            sponsor = Organisation.objects.filter(slug=opts["sponsor"]).first()
            if sponsor is None:
                raise CommandError(f"No organisation {opts['sponsor']!r}.")
        try:
            org = accounts.organisation_create(
                slug=opts["slug"],
                name=opts["name"],
                kind=opts["kind"],
                country=opts["country"],
                sponsor=sponsor,
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.detail} {exc.errors}") from exc
        self.stdout.write(f"Created organisation {org.slug} (id {org.pk}).")
