from django.urls import include, path

from intel.api import views
from intel.api.access import AccessRequestViewSet
from intel.api.audit import AuditEventViewSet
from intel.api.imei import ImeiCheckView
from intel.api.strict import StrictRouter
from intel.stix import views as stix_views

router = StrictRouter(trailing_slash=True)
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("tokens", views.ApiTokenViewSet, basename="token")
router.register("profiles", views.DeviceProfileViewSet, basename="profile")
router.register("audit", AuditEventViewSet, basename="audit")
router.register("access-requests", AccessRequestViewSet, basename="access-request")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("imei-checks/", ImeiCheckView.as_view(), name="imei-check"),
    path("profiles/<str:pk>/stix/", stix_views.ProfileStixView.as_view(), name="profile-stix"),
    path(
        "stix/schemas/x-dix-device-profile.json",
        stix_views.ProfileSchemaView.as_view(),
        name="stix-profile-schema",
    ),
    path("", include(router.urls)),
]
