"""The Django admin, for the secretariat only (and platform superusers)."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class DixAdminSite(AdminSite):
    site_header = "DIX administration (secretariat)"
    site_title = "DIX admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        from intel.models.network import OrganisationKind  # models load after the admin app

        organisation = getattr(user, "organisation", None)
        return organisation is not None and organisation.kind == OrganisationKind.SECRETARIAT


class DixAdminConfig(AdminConfig):
    default_site = "intel.admin_site.DixAdminSite"
