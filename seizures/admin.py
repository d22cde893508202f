"""The secretariat's read-only support view of seizure reports, cut by the same `visible_to`
as the API for the staff member."""

from django.contrib import admin
from django.http import HttpRequest

from intel import audit
from intel.admin import ReadOnlyAdmin
from seizures.models import SeizureReport


@admin.register(SeizureReport)
class SeizureReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "organisation", "country", "seized_on", "tlp", "negative_result")
    list_filter = ("tlp", "country", "negative_result")
    # The notice a report answers may be hidden from the reader: the API masks it.
    exclude = ("notice",)

    def audit_read(self, request: HttpRequest, obj: SeizureReport) -> None:
        audit.record_read(
            actor=request.user,  # type: ignore[arg-type]  # the admin's user is a Member
            object_type="seizure_report",
            object_id=obj.pk,
            object_tlp=obj.tlp,
            detail={"via": "admin"},
        )
