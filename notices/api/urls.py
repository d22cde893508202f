from django.urls import include, path

from intel.api.strict import StrictRouter
from intel.stix.views import NoticeStixView
from notices.api import seizures, views

router = StrictRouter(trailing_slash=True)
router.register("notices", views.NoticeViewSet, basename="notice")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("seizures", seizures.SeizureReportViewSet, basename="seizure-report")

urlpatterns = [
    path("notices/<str:pk>/stix/", NoticeStixView.as_view(), name="notice-stix"),
    # Under intel's `profiles/` router (included first), which has no route of this shape.
    path(
        "profiles/<str:profile_id>/seizure-stats/",
        seizures.ProfileSeizureStatsView.as_view(),
        name="profile-seizure-stats",
    ),
    path("", include(router.urls)),
]
