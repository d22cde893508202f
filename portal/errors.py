"""Error pages: the portal's own pages for portal paths, the API's problem bodies elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core import problems

MACHINE_PATHS = ("/api/", "/taxii2/", "/healthz", "/readyz")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(MACHINE_PATHS):
        return problems.not_found_view(request, exception)
    return render(request, "portal/404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A page or form the member's role does not give (the API answers 403 to the same)."""
    if request.path.startswith(MACHINE_PATHS):
        return problems.permission_denied_view(request, exception)
    return render(request, "portal/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(MACHINE_PATHS):
        return problems.server_error_view(request)
    return render(request, "portal/500.html", status=500)
