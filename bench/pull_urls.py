"""The product's URLs plus the two anchors bench/pull.py measures beside the inbox, served by
the same gunicorn, settings and middleware (mounted only here, never in the product's URLs):

- `/bench/bare/`: a bare Django view returning a small JsonResponse;
- `/bench/plain-drf/`: a plain DRF ListAPIView with a ModelSerializer over the same notice
  rows, with the project's default DRF settings (bearer token, permission, throttle, cursor
  page of 50). The serializer lists the notice's own columns: a `fields = "__all__"` one would
  also run three queries per row for the many-to-many fields, an anchor nobody would write.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework import generics, serializers

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as product_urlpatterns
from notices.models import Notice


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "service": "dix"})


class NoticeRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notice
        fields = (
            "id",
            "reference",
            "notice_type",
            "status",
            "version",
            "title",
            "summary",
            "body",
            "action_requested",
            "tlp",
            "issuer",
            "audience_scope",
            "restricted_data_available",
            "review_due_at",
            "published_at",
            "changed_at",
        )


class PlainNoticeList(generics.ListAPIView):
    """What a straightforward DRF endpoint does: the rows as stored, nobody's view of them."""

    queryset = Notice.objects.all()
    serializer_class = NoticeRowSerializer


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/plain-drf/", PlainNoticeList.as_view()),
    *product_urlpatterns,
]
