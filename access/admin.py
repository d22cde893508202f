"""The secretariat's read-only support view of access requests, cut by the same `visible_to`
as the API for the staff member."""

from django.contrib import admin
from django.http import HttpRequest

from intel.admin import ReadOnlyAdmin
from intel.models import AccessRequest


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "organisation", "owner", "target_type", "target_id", "status")
    list_filter = ("status", "target_type")

    def audit_read(self, request: HttpRequest, obj: AccessRequest) -> None:
        """Not recorded, as in the API: a request carries no label, and its decisions are."""
