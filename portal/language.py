"""The portal's language: a signed-in member's saved choice wins over the browser's preferred
language, and choosing one in the header saves it for the member's next sessions."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from intel.models import Member


def portal_languages() -> set[str]:
    return {code for code, _ in settings.LANGUAGES}


class MemberLanguageMiddleware:
    """After the session's member is known: their saved language, when they have one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen = getattr(user, "language", "") if user is not None else ""
        if chosen and chosen in portal_languages():
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)


def save_language(member: Member, language: str) -> None:
    """The member's choice, or "" to follow the browser; an unknown code is not saved."""
    if language == "" or language in portal_languages():
        member.language = language
        member.save(update_fields=["language"])


@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    """The header's language picker: Django's `set_language` (a cookie, for the sign-in pages
    and visitors), and the member's saved choice when someone is signed in."""
    chosen = request.POST.get("language", "")
    if request.user.is_authenticated and isinstance(request.user, Member):
        save_language(request.user, chosen)
    response = set_language(request)
    if chosen == "":
        # Following the browser again: no earlier choice may linger in the cookie.
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH)
    return response
