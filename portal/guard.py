"""Who may open a portal page: a signed-in member, whose session passed the second factor when
their clearance is above TLP:GREEN (sessions are only created after it, see views/account)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase

from intel.models import Member

View = Callable[..., HttpResponseBase]


def member_page(view: View) -> View:
    """The page for a signed-in member; anyone else goes to the sign-in page and back."""

    @wraps(view)
    def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return page


def member(request: HttpRequest) -> Member:
    """The signed-in member (after `member_page`)."""
    user = request.user
    assert isinstance(user, Member)
    return user


def posted(request: HttpRequest, *, files: bool = False) -> tuple[Any, ...]:
    """A form's data: the POST (even an empty one, which is then invalid), or nothing on GET."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)
