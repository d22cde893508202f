"""Admin views for the secretariat. Revisions are read-only; tokens can only be revoked
(issuing happens through the API or `manage.py issue_token`, which show the secret once)."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from intel import services
from intel.models import ApiToken, Attachment, DeviceProfile, Member, Organisation, ProfileRevision


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("name", "slug", "kind", "country", "sponsor")
    list_filter = ("kind", "country")
    search_fields = ("name", "slug")


@admin.register(Member)
class MemberAdmin(UserAdmin[Member]):
    list_display = ("username", "organisation", "role", "clearance", "is_active")
    list_filter = ("role", "clearance", "organisation__kind", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("DIX", {"fields": ("organisation", "role", "clearance")}),
    )
    # What decides what a member may see or do. Only a platform superuser sets these; a
    # secretariat officer with "change member" must not be able to raise anyone's
    # entitlement, least of all their own.
    ENTITLEMENT = (
        "organisation",
        "clearance",
        "role",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return (*super().get_readonly_fields(request, obj), *self.ENTITLEMENT, "password")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new member's organisation and clearance are entitlement: create_member or a
        # superuser.
        return bool(request.user.is_superuser)


@admin.action(description="Revoke the selected tokens", permissions=["change"])
def revoke_tokens(modeladmin: Any, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
    for token in queryset:
        services.token_revoke(token=token)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "member", "key_prefix", "created_at", "expires_at", "revoked_at")
    readonly_fields = (
        "member",
        "name",
        "key_prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
        "expires_at",
    )
    actions = (revoke_tokens,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Shared intelligence is read-only here and cut by the same `visible_to` as the API:
    the admin is one more read path, not a way around TLP."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model.objects.visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DeviceProfile)
class DeviceProfileAdmin(ReadOnlyAdmin):
    """Profiles change through the API, which keeps revisions and checks If-Match."""

    list_display = ("name", "device_class", "owner", "tlp", "version", "retired_at")
    # The parent may be hidden from the reader; the API masks it, the admin leaves it out.
    exclude = ("parent",)
    list_filter = ("tlp", "device_class", "owner")
    search_fields = ("name",)


@admin.register(ProfileRevision)
class ProfileRevisionAdmin(ReadOnlyAdmin):
    list_display = ("profile", "number", "action", "tlp", "author", "created_at")
    # Diffs and snapshots name parents the reader may not see: read them through the API,
    # which masks them.
    exclude = ("changes", "snapshot")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("title", "profile", "kind", "tlp", "content_type", "size")
