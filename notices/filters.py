"""Filters for the notice inbox. Each works on a queryset already cut by `visible_to`, and is
named after the field of the read shape it filters (docs/concepts.md)."""

import base64
import binascii
from datetime import UTC, datetime

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from rest_framework.exceptions import ValidationError

from core.strict import BooleanFilter, CountryFilter, FilterId, IdFilter, SlugFilter
from intel.models import DeviceProfile
from notices.models import Notice, NoticeCountry, NoticeReceipt, NoticeStatus, NoticeType


def encode_since(moment: datetime) -> str:
    return base64.urlsafe_b64encode(moment.isoformat().encode()).decode().rstrip("=")


def decode_since(token: str) -> datetime:
    try:
        padded = token + "=" * (-len(token) % 4)
        moment = datetime.fromisoformat(base64.urlsafe_b64decode(padded).decode())
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)  # out-of-range dates fail here, not in the query
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ValidationError({"since": ["Not a `since` token from an earlier answer."]}) from None
    if moment.tzinfo is None:
        raise ValidationError({"since": ["Not a `since` token from an earlier answer."]})
    return moment


# Former names of the inbox's filters, for the refusal of an old one.
NOTICE_FILTERS_RENAMED = {"country": "`issuer_country` or `audience_country`"}


class NoticeFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no types
    type = django_filters.MultipleChoiceFilter(
        field_name="notice_type", choices=NoticeType.choices, help_text="Notice type(s)."
    )
    status = django_filters.MultipleChoiceFilter(
        choices=NoticeStatus.choices, help_text="Status(es)."
    )
    profile = IdFilter(
        method="filter_profile", help_text="Notices concerning this profile id (one you may see)."
    )
    issuer = SlugFilter(
        field_name="issuer__slug", help_text="The issuing organisation's slug (`issuer.slug`)."
    )
    issuer_country = CountryFilter(
        field_name="issuer__country",
        help_text="The issuing organisation's country (`issuer.country`, ISO 3166-1 alpha-2).",
    )
    audience_country = CountryFilter(
        method="filter_audience_country",
        help_text="Addressed to this country by name (one of `audience.countries`, ISO 3166-1 "
        "alpha-2).",
    )
    acknowledged = BooleanFilter(
        method="filter_acknowledged", help_text="Acknowledged by your organisation, or not."
    )
    since = django_filters.CharFilter(
        method="filter_since",
        help_text="The `DIX-Since` token of your last pull: only what was published, updated "
        "or withdrawn after it.",
    )

    class Meta:
        model = Notice
        fields: list[str] = []

    def filter_profile(
        self, queryset: QuerySet[Notice], name: str, value: FilterId
    ) -> QuerySet[Notice]:
        """A profile the member may not see matches nothing, exactly like a missing one."""
        visible = DeviceProfile.objects.visible_to(self.request.user).values("id")
        concerned = Notice.profiles.through.objects.filter(
            deviceprofile_id=value, deviceprofile_id__in=visible
        ).values("notice_id")
        return queryset.filter(id__in=concerned)

    def filter_audience_country(
        self, queryset: QuerySet[Notice], name: str, value: str
    ) -> QuerySet[Notice]:
        addressed = NoticeCountry.objects.filter(country=value)
        return queryset.filter(id__in=addressed.values("notice_id"))

    def filter_acknowledged(
        self, queryset: QuerySet[Notice], name: str, value: bool
    ) -> QuerySet[Notice]:
        member = self.request.user if self.request else None
        org_id = getattr(member, "organisation_id", None)
        if org_id is None:  # no organisation, no acknowledgements
            return queryset.none() if value else queryset
        acked = NoticeReceipt.objects.filter(
            notice=OuterRef("pk"), organisation_id=org_id, acknowledged_at__isnull=False
        )
        return queryset.filter(Exists(acked)) if value else queryset.exclude(Exists(acked))

    def filter_since(self, queryset: QuerySet[Notice], name: str, value: str) -> QuerySet[Notice]:
        return queryset.filter(changed_at__gt=decode_since(value))
