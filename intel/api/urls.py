from django.urls import include, path
from rest_framework.routers import DefaultRouter

from intel.api import views

router = DefaultRouter(trailing_slash=True)
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("tokens", views.ApiTokenViewSet, basename="token")
router.register("profiles", views.DeviceProfileViewSet, basename="profile")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
