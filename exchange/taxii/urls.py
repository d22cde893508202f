"""`/taxii2/`: discovery, one API root (`api/`), its collections and status (docs/taxii.md).
Every TAXII URL ends with a slash (§3.1)."""

from django.urls import path, re_path

from exchange.taxii import views

app_name = "taxii"

collection = "api/collections/<str:collection>/"

urlpatterns = [
    path("", views.DiscoveryView.as_view(), name="discovery"),
    path("api/", views.ApiRootView.as_view(), name="api-root"),
    path("api/status/<str:status_id>/", views.StatusView.as_view(), name="status"),
    path("api/collections/", views.CollectionsView.as_view(), name="collections"),
    path(collection, views.CollectionView.as_view(), name="collection"),
    path(collection + "manifest/", views.ManifestView.as_view(), name="manifest"),
    path(collection + "objects/", views.ObjectsView.as_view(), name="objects"),
    path(collection + "objects/<str:object_id>/", views.ObjectView.as_view(), name="object"),
    path(
        collection + "objects/<str:object_id>/versions/",
        views.VersionsView.as_view(),
        name="versions",
    ),
    re_path(r"^(?P<rest>.*)$", views.UnknownView.as_view(), name="unknown"),
]
