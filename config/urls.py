"""The root URLconf: health checks, admin, the OpenAPI documents, `/api/v1/` and `/taxii2/`."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from operations import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/v1/", include("config.api")),
    path("taxii2/", include("exchange.taxii.urls")),
]

handler400 = "core.problems.bad_request_view"
handler403 = "core.problems.permission_denied_view"
handler404 = "core.problems.not_found_view"
handler500 = "core.problems.server_error_view"
