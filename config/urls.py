"""The root URLconf: health checks, admin, the OpenAPI documents, `/api/v1/`, `/taxii2/` and
the portal at `/`."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from operations import health

# Every browser sign-in goes through the portal's, which asks for the second factor: the
# admin's and the browsable API's own sign-in pages send there (with `next`).
to_portal_sign_in = RedirectView.as_view(url="/login/", query_string=True)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/login/", to_portal_sign_in),
    path("admin/", admin.site.urls),
    path("api-auth/login/", to_portal_sign_in, name="api-sign-in"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include("config.api")),
    path("taxii2/", include("exchange.taxii.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portal.urls")),
]

handler400 = "core.problems.bad_request_view"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
