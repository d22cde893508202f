from django.urls import include, path
from rest_framework.routers import DefaultRouter

from notices.api import views

router = DefaultRouter(trailing_slash=True)
router.register("notices", views.NoticeViewSet, basename="notice")
router.register("subscriptions", views.SubscriptionViewSet, basename="subscription")

urlpatterns = [path("", include(router.urls))]
