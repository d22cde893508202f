"""Load the demo network and the founding case's profiles. Running it again adds nothing."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Permission
from django.core.management.base import CommandParser
from django.db import transaction
from django.db.models import Q

from intel import accounts, services
from intel.management.base import DixCommand
from intel.models import ApiToken, DeviceProfile, Member, Organisation
from intel.models.network import hash_token
from intel.shapes.profiles import DeviceProfileWriteSerializer, profile_input
from mail.destination import mail_destination
from notices import services as notice_services
from notices.models import Notice
from operations import demo
from seizures import services as seizures
from seizures.models import SeizureReport


def _published_notice(item: dict[str, Any], keys: dict[str, int]) -> bool:
    """Draft and publish one demo notice through the notices services; False if present."""
    if Notice.objects.filter(title=item["title"]).exists():
        return False
    author = Member.objects.get(username=item["author"])
    notice = notice_services.notice_create_draft(
        author=author,
        data=notice_services.NoticeInput(
            fields={
                "notice_type": item["type"],
                "title": item["title"],
                "summary": item["summary"],
                "body": item["body"],
                "action_requested": item["action_requested"],
                "audience_scope": item["audience_scope"],
                "tlp": item["tlp"],
                "restricted_data_available": item["restricted_data_available"],
                "review_due_at": item["review_due_at"],
            },
            profiles=list(DeviceProfile.objects.filter(pk__in=[keys[k] for k in item["profiles"]])),
        ),
    )
    notice_services.notice_publish(notice_id=notice.pk, author=author)
    return True


def _seizure_report(item: dict[str, Any], keys: dict[str, int], notices: dict[str, str]) -> bool:
    """File one demo seizure report through the seizure service; False if present (the same
    organisation, country, day and facility type)."""
    organisation = Organisation.objects.get(slug=item["organisation"])
    seized_on = date.fromisoformat(item["seized_on"])
    if SeizureReport.objects.filter(
        organisation=organisation,
        country=item["country"],
        seized_on=seized_on,
        facility_type=item["facility_type"],
    ).exists():
        return False
    lines = [
        seizures.SeizureLineInput(
            profile=DeviceProfile.objects.get(pk=keys[line["profile"]])
            if line.get("profile")
            else None,
            item_type=line.get("item_type", ""),
            quantity=line["quantity"],
        )
        for line in item["lines"]
    ]
    notice = item.get("notice")
    seizures.seizure_report_create(
        reporter=Member.objects.get(username=item["author"]),
        data=seizures.SeizureInput(
            country=item["country"],
            seized_on=seized_on,
            facility_type=item["facility_type"],
            facilities_searched=item.get("facilities_searched"),
            notice=Notice.objects.get(title=notices[notice]) if notice else None,
            operation=item.get("operation", ""),
            detection_method=item.get("detection_method", ""),
            cash_amount=Decimal(item["cash_amount"]) if item.get("cash_amount") else None,
            cash_currency=item.get("cash_currency", ""),
            negative_result=item.get("negative_result", False),
            notes=item.get("notes", ""),
            tlp=item["tlp"],
            lines=lines,
        ),
    )
    return True


FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "demo.json"


class Command(DixCommand):
    help = "Load the demo data (Operation Prison Break) and print the demo personas' tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="Do not print the personas")

    @transaction.atomic
    def handle(self, *args: Any, **opts: Any) -> None:
        data = json.loads(FIXTURE.read_text())
        created = 0
        for item in data["organisations"]:
            if not Organisation.objects.filter(slug=item["slug"]).exists():
                sponsor = item.get("sponsor")
                accounts.organisation_create(
                    slug=item["slug"],
                    name=item["name"],
                    kind=item["kind"],
                    country=item["country"],
                    sponsor=Organisation.objects.get(slug=sponsor) if sponsor else None,
                    access_policy=item.get("access_policy"),
                )
                created += 1
        for item in data["members"]:
            member = Member.objects.filter(username=item["username"]).first()
            if member is None:
                member = accounts.member_create(
                    organisation=Organisation.objects.get(slug=item["organisation"]),
                    username=item["username"],
                    role=item["role"],
                    clearance=item["clearance"],
                    email=item.get("email", ""),
                    password=item.get("password"),
                    is_staff=item.get("staff", False),
                )
                created += 1
            if item.get("email") and not member.email:
                # Demo databases made before the personas had addresses get them too.
                member.email = item["email"]
                member.save(update_fields=["email"])
            if item.get("staff"):
                # The demo's secretariat staff may browse DIX's models in the admin, edit
                # organisations' names and revoke tokens; entitlements (an organisation's
                # kind, sponsor and country included) stay a superuser's job.
                member.user_permissions.set(
                    Permission.objects.filter(
                        Q(
                            content_type__app_label="intel",
                            codename__in=[
                                "view_organisation",
                                "change_organisation",
                                "view_member",
                                "view_apitoken",
                                "change_apitoken",
                                "view_deviceprofile",
                                "view_profilerevision",
                                "view_attachment",
                                "view_accessrequest",
                            ],
                        )
                        # The support view: notices, endpoints and reports, read-only.
                        | Q(content_type__app_label="notices", codename="view_notice")
                        | Q(content_type__app_label="notices", codename="view_noticeversion")
                        | Q(content_type__app_label="webhooks", codename="view_subscription")
                        | Q(content_type__app_label="seizures", codename="view_seizurereport")
                    )
                )
            demo.give_sign_in(member)
            if not ApiToken.objects.filter(key_hash=hash_token(item["token"])).exists():
                accounts.token_issue(member=member, name="demo", known_secret=item["token"])
        keys: dict[str, int] = {}
        for item in data["profiles"]:
            owner = Organisation.objects.get(slug=item["owner"])
            existing = DeviceProfile.objects.filter(owner=owner, name=item["name"]).first()
            if existing is not None:
                keys[item["key"]] = existing.pk
                continue
            author = Member.objects.get(username=item["author"])
            payload = {k: v for k, v in item.items() if k not in ("key", "owner", "author")}
            if "parent" in payload:
                payload["parent"] = keys[payload["parent"]]
            form = DeviceProfileWriteSerializer(data=payload)
            form.fields["parent"].queryset = DeviceProfile.objects.all()  # type: ignore[attr-defined]
            form.is_valid(raise_exception=True)
            profile = services.profile_create(
                author=author, data=profile_input(form.validated_data)
            )
            keys[item["key"]] = profile.pk
            created += 1
        created += sum(_published_notice(item, keys) for item in data.get("notices", []))
        notice_titles = {n["key"]: n["title"] for n in data.get("notices", []) if "key" in n}
        created += sum(
            _seizure_report(item, keys, notice_titles) for item in data.get("seizure_reports", [])
        )
        self.stdout.write(f"Demo data loaded ({created} new records).")
        if not opts["quiet"]:
            self.stdout.write("Demo personas (API: Authorization: Bearer <token>):")
            for persona in demo.personas():
                self.stdout.write(f"  {persona.username:<18} {persona.token}  {persona.label}")
            self.stdout.write(f"E-mails to the personas go to {mail_destination()}.")
            self.stdout.write(
                f"Portal (demo only): every persona's password is {demo.DEMO_PASSWORD!r}; "
                "those cleared above TLP:GREEN also type a code from an authenticator app "
                "set up with their key:"
            )
            for persona in demo.personas():
                if persona.totp_secret:
                    self.stdout.write(f"  {persona.username:<18} {persona.totp_secret}")
