"""The network's directory in STIX: the organisations, and which of them an export names."""

from collections.abc import Iterable, Mapping
from typing import Any

from exchange.stix import objects
from exchange.stix.mapping.audience import Collector, Scope
from exchange.stix.objects.values import choice_label
from intel.models import Organisation, OrganisationKind


def add_organisations(scope: Scope, out: Collector) -> None:
    """Add the organisations in scope: all of them, or only those the export names."""
    if scope.organisation_ids == frozenset():
        return
    named = referenced(e.obj for e in out.entries)
    organisations = Organisation.objects.all()
    if scope.organisation_ids is not None:
        organisations = organisations.filter(pk__in=scope.organisation_ids)
    for org in organisations.order_by("id").values(
        "id", "slug", "name", "kind", "country", "created_at"
    ):
        obj = objects.organisation_identity(
            pk=org["id"],
            slug=org["slug"],
            name=org["name"],
            kind_label=choice_label(OrganisationKind, org["kind"]),
            country=org["country"],
            created=org["created_at"],
        )
        if scope.directory or obj["id"] in named:
            out.add(obj, org["created_at"])


def referenced(objs: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every STIX id these objects point at."""
    found: set[str] = set()
    for obj in objs:
        found |= objects.references(obj)
    return found
