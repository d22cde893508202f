"""The secretariat's read-only support view of webhook subscriptions and their delivery
health (failed and pending deliveries, the last success), cut by the same `visible_to` as the
API for the staff member. Secrets are never shown."""

from datetime import datetime

from django.contrib import admin
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest

from intel.admin import ReadOnlyAdmin
from webhooks.models import DeliveryState, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "organisation",
        "url",
        "enabled",
        "failing_since",
        "failed_deliveries",
        "pending_deliveries",
        "last_success",
    )
    list_filter = ("enabled",)
    exclude = ("secret_encrypted", "previous_secret_encrypted")
    # `url` read-only: no form field is built for it (the admin changes nothing here).
    readonly_fields = ("url", "failed_deliveries", "pending_deliveries", "last_success")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscription]:
        visible: QuerySet[Subscription] = super().get_queryset(request)
        return visible.annotate(
            failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
            pending=Count(
                "deliveries",
                filter=Q(deliveries__state__in=[DeliveryState.PENDING, DeliveryState.SENDING]),
            ),
            succeeded_at=Max(
                "deliveries__completed_at",
                filter=Q(deliveries__state=DeliveryState.SUCCEEDED),
            ),
        )

    @admin.display(description="failed deliveries")
    def failed_deliveries(self, obj: Subscription) -> int:
        return int(getattr(obj, "failed", 0))

    @admin.display(description="pending deliveries")
    def pending_deliveries(self, obj: Subscription) -> int:
        return int(getattr(obj, "pending", 0))

    @admin.display(description="last success")
    def last_success(self, obj: Subscription) -> datetime | None:
        moment: datetime | None = getattr(obj, "succeeded_at", None)
        return moment

    def audit_read(self, request: HttpRequest, obj: Subscription) -> None:
        """Not recorded, as in the API: an endpoint carries no label, and its changes are."""
