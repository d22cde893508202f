"""Routes answer with and without their trailing slash: a path that matches no route but
would with a `/` appended is served as that route, whatever the method, with no redirect.

Django's `APPEND_SLASH` answers such a request with a 301, which clients follow as a GET: a
`POST /api/v1/profiles` would create nothing and get an empty body. Serving the slashed route
in place keeps the method and the body; every URL DIX writes (links, `next`, the OpenAPI
paths) keeps the slash, so the request is read as if it had been sent with it.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

# A view class attribute: the view answers paths no other route matches (a protocol's own
# 404), so matching it does not make a path a route.
FALLBACK_ATTRIBUTE = "answers_unknown_paths"


def _route(path: str, urlconf: Any) -> bool:
    """Whether `path` matches a route other than a fallback."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    view_class = getattr(match.func, "view_class", None)
    return not getattr(view_class, FALLBACK_ATTRIBUTE, False)


class OptionalSlashMiddleware:
    """Before URL resolution: add the trailing slash a path lacks when only the slashed form
    is a route."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        if path and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not _route(path, urlconf) and _route(f"{path}/", urlconf):
                request.path_info = f"{path}/"
                request.path = f"{request.path}/"
        return self.get_response(request)
