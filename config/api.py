"""Every `/api/v1/` route: one router for the resources, then the routes of other shapes.

`config/urls.py` includes this module once; each view lives in the app that owns it."""

from django.urls import include, path

from access.api import AccessRequestViewSet
from core.strict import StrictRouter
from exchange.stix import views as stix_views
from intel.api.audit import AuditEventViewSet
from intel.api.imei import ImeiCheckView
from intel.api.me import MeView
from intel.api.organisations import OrganisationViewSet
from intel.api.profiles import DeviceProfileViewSet
from intel.api.tokens import ApiTokenViewSet
from intel.api.vocabularies import VocabularyListView
from mail.api import EmailPreferencesView
from notices.api.views import NoticeViewSet
from seizures.api import ProfileSeizureStatsView, SeizureReportViewSet
from seizures.api_stats import SeizureStatsView
from webhooks.api.views import SubscriptionViewSet

router = StrictRouter(trailing_slash=True)
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("profiles", DeviceProfileViewSet, basename="profile")
router.register("audit", AuditEventViewSet, basename="audit")
router.register("access-requests", AccessRequestViewSet, basename="access-request")
router.register("notices", NoticeViewSet, basename="notice")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("seizures", SeizureReportViewSet, basename="seizure-report")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("me/email-preferences/", EmailPreferencesView.as_view(), name="me-email-preferences"),
    path("imei-checks/", ImeiCheckView.as_view(), name="imei-check"),
    path("vocabularies/", VocabularyListView.as_view(), name="vocabularies"),
    path("profiles/<str:pk>/stix/", stix_views.ProfileStixView.as_view(), name="profile-stix"),
    path(
        "stix/schemas/x-dix-device-profile.json",
        stix_views.ProfileSchemaView.as_view(),
        name="stix-profile-schema",
    ),
    path("notices/<str:pk>/stix/", stix_views.NoticeStixView.as_view(), name="notice-stix"),
    # The router's `profiles/` routes have none of this shape.
    path(
        "profiles/<str:pk>/seizure-stats/",
        ProfileSeizureStatsView.as_view(),
        name="profile-seizure-stats",
    ),
    # Before the router's `seizures/{id}/`, which would take `stats` for an id.
    path("seizures/stats/", SeizureStatsView.as_view(), name="seizure-stats"),
    path("", include(router.urls)),
]
