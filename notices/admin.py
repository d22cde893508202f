"""The secretariat's read-only support view of notices and their published versions: what a
desk sees, cut by the same `visible_to` as the API for the staff member."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from intel import audit
from intel.admin import ReadOnlyAdmin
from intel.models import TLP
from notices.models import Notice, NoticeVersion


class NoticeVersionInline(admin.TabularInline[NoticeVersion, Notice]):
    """The published versions the staff member is cleared for, as published."""

    model = NoticeVersion
    extra = 0
    can_delete = False
    # The profiles a version names may be hidden from the reader: the API masks them.
    fields = ("number", "tlp", "title", "change_note", "published_by", "published_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[NoticeVersion]:
        cleared = TLP.at_most(getattr(request.user, "clearance", TLP.CLEAR))
        return super().get_queryset(request).filter(tlp__in=cleared)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "issuer", "notice_type", "tlp", "status", "version")
    list_filter = ("status", "tlp", "notice_type")
    search_fields = ("reference", "title")
    # Profiles and the successor may be hidden from the reader: the API masks them.
    exclude = ("profiles", "superseded_by")
    inlines = (NoticeVersionInline,)

    def audit_read(self, request: HttpRequest, obj: Notice) -> None:
        audit.record_read(
            actor=request.user,  # type: ignore[arg-type]  # the admin's user is a Member
            object_type="notice",
            object_id=obj.pk,
            object_tlp=obj.tlp,
            detail={"reference": obj.reference, "version": obj.version, "via": "admin"},
        )
