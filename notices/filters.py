"""Filters for the notice inbox. Each works on a queryset already cut by `visible_to`, and is
named after the field of the read shape it filters (docs/concepts.md)."""

import base64
import binascii
import re
from datetime import UTC, datetime

import django_filters
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework.exceptions import ValidationError

from core.strict import BooleanFilter, CountryFilter, FilterId, IdFilter, SlugFilter
from intel.models import DeviceProfile
from notices.models import Notice, NoticeCountry, NoticeReceipt, NoticeStatus, NoticeType


def encode_since(moment: datetime) -> str:
    return base64.urlsafe_b64encode(moment.isoformat().encode()).decode().rstrip("=")


SINCE_INVALID = (
    "Neither an RFC 3339 time (e.g. 2026-05-01T00:00:00Z) nor a `since` token from an earlier "
    "answer."
)
# An RFC 3339 date-time; a token never starts with digits and a dash (it is base64 of one).
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_since(value: str) -> datetime:
    """An RFC 3339 time (with its offset), or the `DIX-Since` token of an earlier answer."""
    if not RFC3339.fullmatch(value):
        return decode_since(value)
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError({"since": [SINCE_INVALID]}) from None


def decode_since(token: str) -> datetime:
    try:
        padded = token + "=" * (-len(token) % 4)
        moment = datetime.fromisoformat(base64.urlsafe_b64decode(padded).decode())
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)  # out-of-range dates fail here, not in the query
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise ValidationError({"since": [SINCE_INVALID]}) from None
    if moment.tzinfo is None:
        raise ValidationError({"since": [SINCE_INVALID]})
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
        method="filter_acknowledged",
        help_text="`true`: acknowledged by your organisation; `false`: what your organisation "
        "still has to acknowledge (its own notices, which it issued, are left out).",
    )
    since = django_filters.CharFilter(
        method="filter_since",
        help_text="Only what was published, updated or withdrawn after this: the `DIX-Since` "
        "token of your last pull, or an RFC 3339 time (`2026-05-01T00:00:00Z`).",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=200,
        help_text="Words searched in the title, summary and body (every word must match).",
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
        if value:
            return queryset.filter(Exists(acked))
        # An issuer follows its own notices on their receipts; it does not acknowledge them.
        return queryset.exclude(Exists(acked)).exclude(issuer_id=org_id)

    def filter_since(self, queryset: QuerySet[Notice], name: str, value: str) -> QuerySet[Notice]:
        return queryset.filter(changed_at__gt=parse_since(value))

    def filter_q(self, queryset: QuerySet[Notice], name: str, value: str) -> QuerySet[Notice]:
        return search(queryset, value)


def search(queryset: QuerySet[Notice], text: str) -> QuerySet[Notice]:
    """The notices whose title, summary or body hold every word of `text`. On PostgreSQL,
    full-text search with the `simple` configuration (no stemming: notices are written in
    many languages); elsewhere (SQLite), each word as a case-insensitive substring."""
    words = text.split()
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        vector = SearchVector("title", "summary", "body", config="simple")
        query = SearchQuery(" ".join(words), config="simple", search_type="plain")
        return queryset.annotate(search=vector).filter(search=query)
    for word in words:
        queryset = queryset.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
        )
    return queryset
