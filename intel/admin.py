"""Admin views for the secretariat. Revisions are read-only; tokens can only be revoked
(issuing happens through the API or `manage.py issue_token`, which show the secret once).

Every write made here is recorded in the audit trail like its API twin, and opening an
AMBER+ profile, revision or attachment is recorded as a read. What decides who sees what
(an organisation's kind, sponsor and country; a member's organisation, role, clearance and
active flag) is shown read-only to staff: only a platform superuser changes it here, and
each such save says so in its event (`<object>.entitlements_changed`, old and new values).
The trail itself is shown read-only, to auditors and platform superusers: nothing here adds, changes or deletes an
event. Members' authenticators are listed without their keys; a platform superuser removes one
so that the member enrols again."""

from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_totp.models import TOTPDevice

from intel import accounts, audit
from intel.models import (
    ApiToken,
    Attachment,
    AuditEvent,
    Authenticator,
    DeviceProfile,
    Member,
    Organisation,
    ProfileRevision,
    Role,
)


def _actor(request: HttpRequest) -> Member:
    return cast(Member, request.user)


def _changed(form: ModelForm[Any]) -> list[str]:
    """Names of the fields the form changed; any password field is named `password`."""
    return sorted({"password" if "password" in name else name for name in form.changed_data})


class AuditedAdmin(admin.ModelAdmin[Any]):
    """Records `<object_type>.created|changed|entitlements_changed|deleted` for writes made
    through the admin. `ENTITLEMENT` names the fields that decide what someone may see or do:
    read-only unless the user is a platform superuser, and adding or deleting a row (which
    sets or drops them all) is a superuser's job too."""

    object_type = ""
    ENTITLEMENT: tuple[str, ...] = ()

    def describe(self, obj: Any) -> dict[str, Any]:
        return {}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return (*super().get_readonly_fields(request, obj), *self.ENTITLEMENT)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changed = _changed(form)
        before = accounts.entitlements_of(type(obj).objects.get(pk=obj.pk)) if change else {}
        entitlements = [name for name in changed if name in self.ENTITLEMENT]
        if entitlements and not request.user.is_superuser:
            # The form shows them read-only and ignores what is posted for them; this is the
            # backstop should a form ever let one through.
            raise PermissionDenied("Only a platform superuser changes entitlements.")
        super().save_model(request, obj, form, change)
        verb = "created" if not change else "entitlements_changed" if entitlements else "changed"
        detail: dict[str, Any] = {"via": "admin", "fields": changed, **self.describe(obj)}
        if change and entitlements:
            detail["entitlements"] = accounts.entitlement_changes(before, obj)
        audit.record(
            action=f"{self.object_type}.{verb}",
            actor=_actor(request),
            object_type=self.object_type,
            object_id=obj.pk,
            detail=detail,
        )

    # Recorded after the delete: the chain lock is taken last in the transaction, after the
    # row locks (intel/audit.py explains why).
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        gone = [(obj.pk, self.describe(obj))]
        super().delete_model(request, obj)
        self._audit_deleted(request, gone)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        gone = [(obj.pk, self.describe(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)
        self._audit_deleted(request, gone)

    def _audit_deleted(self, request: HttpRequest, gone: list[tuple[Any, dict[str, Any]]]) -> None:
        for pk, described in gone:
            audit.record(
                action=f"{self.object_type}.deleted",
                actor=_actor(request),
                object_type=self.object_type,
                object_id=pk,
                detail={"via": "admin", **described},
            )


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    object_type = "organisation"
    ENTITLEMENT = accounts.ORGANISATION_ENTITLEMENTS
    readonly_fields = ("created_at",)
    list_display = ("name", "slug", "kind", "country", "sponsor")
    list_filter = ("kind", "country")
    search_fields = ("name", "slug")

    def describe(self, obj: Any) -> dict[str, Any]:
        return accounts.entitlements_of(obj) | {"slug": obj.slug}


@admin.register(Member)
class MemberAdmin(UserAdmin[Member], AuditedAdmin):
    object_type = "member"
    list_display = ("username", "organisation", "role", "clearance", "is_active")
    list_filter = ("role", "clearance", "organisation__kind", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("DIX", {"fields": ("organisation", "role", "clearance")}),
    )
    # What decides what a member may see or do. Only a platform superuser sets these; a
    # secretariat officer with "change member" must not be able to raise anyone's
    # entitlement, least of all their own.
    ENTITLEMENT = (*accounts.MEMBER_ENTITLEMENTS, "groups", "user_permissions")

    def describe(self, obj: Any) -> dict[str, Any]:
        return accounts.entitlements_of(obj) | {"username": obj.username}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return (*super().get_readonly_fields(request, obj), "password")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # saved
            audit.record(
                action="member.password_changed",
                actor=_actor(request),
                object_type="member",
                object_id=unquote(id),
                detail={"via": "admin"},
            )
        return response


@admin.action(description="Revoke the selected tokens", permissions=["change"])
def revoke_tokens(modeladmin: Any, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
    for token in queryset.select_related("member"):
        accounts.token_revoke(token=token, actor=_actor(request))


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


# django-otp's own TOTP devices keep their keys in clear and DIX does not use them (migration
# intel 0008 moved every one to `Authenticator`): nobody makes one here.
admin.site.unregister(TOTPDevice)


@admin.action(
    description="Remove the selected authenticators (the member enrols again)",
    permissions=["reset"],
)
def reset_second_factors(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Authenticator]
) -> None:
    for member_id in set(queryset.values_list("user_id", flat=True)):
        accounts.second_factor_reset(member=Member.objects.get(pk=member_id), actor=_actor(request))


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin[Authenticator]):
    """Who has an authenticator app and when it was last used, never its key (docs/operations.md,
    "Changing the encryption key"). Removing one goes through `accounts.second_factor_reset`,
    recorded in the audit trail, for platform superusers only."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    actions = (reset_second_factors,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False

    def has_reset_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Shared intelligence is read-only here and cut by the same `visible_to` as the API:
    the admin is one more read path, not a way around TLP, and opening an AMBER+ object is
    recorded like its API detail read."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        visible: QuerySet[Any] = self.model.objects.visible_to(request.user)
        return visible

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                self.audit_read(request, obj)
        return response

    def audit_read(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError


@admin.register(DeviceProfile)
class DeviceProfileAdmin(ReadOnlyAdmin):
    """Profiles change through the API, which keeps revisions and checks If-Match."""

    list_display = ("name", "device_class", "owner", "tlp", "retired_at")
    # The parent may be hidden from the reader; the API masks it, the admin leaves it out,
    # and with it the version and time, which count changes to that parent too.
    exclude = ("parent", "version", "updated_at")
    list_filter = ("tlp", "device_class", "owner")
    search_fields = ("name",)

    def audit_read(self, request: HttpRequest, obj: DeviceProfile) -> None:
        audit.record_read(
            actor=_actor(request),
            object_type="profile",
            object_id=obj.pk,
            object_tlp=obj.tlp,
            detail={"version": obj.version, "via": "admin"},
        )


@admin.register(ProfileRevision)
class ProfileRevisionAdmin(ReadOnlyAdmin):
    list_display = ("profile", "number", "action", "tlp", "author", "created_at")
    # Diffs and snapshots name parents the reader may not see: read them through the API,
    # which masks them.
    exclude = ("changes", "snapshot")

    def audit_read(self, request: HttpRequest, obj: ProfileRevision) -> None:
        audit.record_read(
            actor=_actor(request),
            action="profile.revision_read",
            object_type="profile",
            object_id=obj.profile_id,
            object_tlp=obj.tlp,
            detail={"revision": obj.number, "via": "admin"},
        )


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("title", "profile", "kind", "tlp", "content_type", "size")

    def audit_read(self, request: HttpRequest, obj: Attachment) -> None:
        audit.record_read(
            actor=_actor(request),
            object_type="attachment",
            object_id=obj.pk,
            object_tlp=obj.tlp,
            detail={"profile": obj.profile_id, "via": "admin"},
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """The trail, strictly read-only, for auditors (and platform superusers), as in the API.
    No add, change or delete permission and no actions: there is nothing here to press."""

    list_display = (
        "id",
        "created_at",
        "action",
        "actor_username",
        "organisation_slug",
        "object_type",
        "object_id",
        "object_tlp",
        "client_address",
    )
    list_filter = ("object_type",)
    search_fields = ("action", "actor_username", "organisation_slug", "object_id")
    readonly_fields = (
        "created_at",
        "actor_id",
        "actor_username",
        "organisation_id",
        "organisation_slug",
        "action",
        "object_type",
        "object_id",
        "object_tlp",
        "justification",
        "client_address",
        "detail",
        "previous_hash",
        "hash",
    )
    actions = None
    show_full_result_count = False  # no COUNT(*) over the whole trail on every page

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        user = request.user
        return bool(
            user.is_active and (user.is_superuser or getattr(user, "role", "") == Role.AUDITOR)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
