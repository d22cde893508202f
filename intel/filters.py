"""Filters for the profile list and the directory. Each works on a queryset already cut by
`visible_to`, and is named after the field of the read shape it filters (docs/concepts.md)."""

import django_filters
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from core.strict import BooleanFilter, CountryFilter, FilterId, IdFilter, SlugFilter
from intel.models import DeviceProfile, Identifier, Organisation
from intel.models.profiles import DeviceClass
from intel.models.tlp import TLP


class DeviceProfileFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no types
    device_class = django_filters.MultipleChoiceFilter(
        choices=DeviceClass.choices, help_text="Device class; repeat for several."
    )
    manufacturer_country = CountryFilter(
        help_text="The manufacturer's country (`manufacturer_country`, ISO 3166-1 alpha-2)."
    )
    owner_country = CountryFilter(
        field_name="owner__country",
        help_text="The owner organisation's country (`owner.country`, ISO 3166-1 alpha-2).",
    )
    tlp = django_filters.MultipleChoiceFilter(choices=TLP.choices, help_text="TLP label(s).")
    owner = SlugFilter(
        field_name="owner__slug", help_text="The owner organisation's slug (`owner.slug`)."
    )
    tac_prefix = django_filters.CharFilter(
        method="filter_tac_prefix",
        help_text="1 to 8 digits: profiles with a TAC or TAC range covering any TAC that starts "
        "with these digits.",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Free text over names, aliases, notes, identifiers and supplier names.",
    )
    retired = BooleanFilter(
        method="filter_retired",
        help_text="`false` (default): current profiles; `true`: retired ones only.",
    )
    parent = IdFilter(
        method="filter_parent", help_text="Variants of this profile (an id you may see)."
    )

    class Meta:
        model = DeviceProfile
        fields: list[str] = []

    @property
    def qs(self) -> QuerySet[DeviceProfile]:
        queryset: QuerySet[DeviceProfile] = super().qs
        if self.form.cleaned_data.get("retired") is None:
            queryset = queryset.filter(retired_at__isnull=True)
        return queryset

    def filter_retired(
        self, queryset: QuerySet[DeviceProfile], name: str, value: bool
    ) -> QuerySet[DeviceProfile]:
        return queryset.filter(retired_at__isnull=not value)

    def filter_parent(
        self, queryset: QuerySet[DeviceProfile], name: str, value: FilterId
    ) -> QuerySet[DeviceProfile]:
        """Variants of a parent the member may see; a hidden parent matches nothing, exactly
        like one that does not exist."""
        member = self.request.user if self.request else None
        visible = DeviceProfile.objects.visible_to(member).values("id")  # type: ignore[arg-type]
        return queryset.filter(parent_id=value, parent_id__in=visible)

    def filter_tac_prefix(
        self, queryset: QuerySet[DeviceProfile], name: str, value: str
    ) -> QuerySet[DeviceProfile]:
        if not (value.isascii() and value.isdigit()) or len(value) > 8:
            raise ValidationError({"tac_prefix": ["Give 1 to 8 digits."]})
        low, high = value.ljust(8, "0"), value.ljust(8, "9")
        # Interval overlap: the identifier's [start, end] meets [low, high].
        hits = Identifier.objects.filter(
            tac_start__lte=high, tac_end__gte=low, kind__in=("tac", "tac_range")
        ).values("profile_id")
        return queryset.filter(id__in=hits)

    def filter_q(
        self, queryset: QuerySet[DeviceProfile], name: str, value: str
    ) -> QuerySet[DeviceProfile]:
        terms = value.lower().split()
        condition = Q()
        for term in terms:
            condition &= Q(search_text__contains=term)
        return queryset.filter(condition)


# Former names of the profile list's filters, for the refusal of an old one.
PROFILE_FILTERS_RENAMED = {"country": "`manufacturer_country`"}


class OrganisationFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter ships no types
    country = CountryFilter(help_text="The organisation's country (ISO 3166-1 alpha-2).")

    class Meta:
        model = Organisation
        fields = ("kind", "country")
