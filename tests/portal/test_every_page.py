"""Every portal page as every persona, generated from portal/urls.py so that a new page cannot
escape: a page answers 200 exactly when the same member's API answers 200 for its object, and
the portal's 404 page otherwise (never 500, never 403 for a hidden object); a page shows no
title and links no object the member's API does not return; every POST needs its CSRF token
and changes nothing without it; a missing or foreign id answers 404 to GET and POST; odd
filter values answer 200 or 400 with the message at the field."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver
from rest_framework.test import APIClient

from intel import policies as profile_policies
from intel.filters import DeviceProfileFilter
from intel.models import (
    AccessRequest,
    ApiToken,
    AuditEvent,
    DeviceProfile,
    Member,
    ProfileRevision,
)
from notices import policies as notice_policies
from notices.filters import NoticeFilter
from notices.models import Notice, NoticeReceipt, NoticeStatus
from portal import urls as portal_urls
from portal.profile_forms import SECTIONS
from portal.views.access_requests import FORMS as ACCESS_ACTIONS
from portal.views.audit import FILTERS as AUDIT_FILTERS
from seizures import policies as seizure_policies
from seizures.api import SeizureReportFilter
from seizures.models import SeizureReport, SeizureStatus
from tests.portal.walk_world import API_DETAIL, MISSING, PERSONAS, World, world
from webhooks import policies as webhook_policies
from webhooks.models import Delivery, Subscription

__all__ = ["world"]  # the fixture, used by name

NOT_FOUND_TEXT = "Back to your home page"
NOT_ALLOWED_TEXT = "<h1>Not allowed</h1>"
# Links to an object's page: each must be an object the member's API answers.
LINKS = {
    "notice": re.compile(r'href="/notices/(\d+)/"'),
    "profile": re.compile(r'href="/profiles/(\d+)/"'),
    "subscription": re.compile(r'href="/subscriptions/(\d+)/"'),
    "seizure": re.compile(r'href="/seizures/(\d+)/"'),
    "access_request": re.compile(r'href="/access-requests/(\d+)/"'),
}
# What an id parameter names, by the URL's first segments.
KIND_BY_PREFIX = {
    "notices/": "notice",
    "profiles/": "profile",
    "subscriptions/": "subscription",
    "seizures/": "seizure",
    "access-requests/": "access_request",
    "account/tokens/": "token",
}


# --- The URL patterns ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    name: str
    route: str
    params: tuple[str, ...]


def portal_patterns() -> list[Pattern]:
    """Every named pattern of portal/urls.py, includes followed."""
    found: list[Pattern] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            else:
                assert isinstance(entry, URLPattern)
                route = prefix + str(entry.pattern)
                assert entry.name, f"portal URL {route} has no name"
                params = tuple(entry.pattern.converters)
                found.append(Pattern(entry.name, route, params))

    walk(portal_urls.urlpatterns, "")
    return found


def kind_of(pattern: Pattern) -> str:
    for prefix, kind in KIND_BY_PREFIX.items():
        if pattern.route.startswith(prefix):
            return kind
    raise AssertionError(f"{pattern.route}: which object does its id name? (KIND_BY_PREFIX)")


def fill(pattern: Pattern, world: World) -> Iterator[dict[str, Any]]:
    """Values for the pattern's parameters: every object of its kind in the world and a
    missing id; every choice of a word parameter and one that does not exist."""
    choices: dict[str, list[Any]] = {}
    for param in pattern.params:
        if param == "pk":
            choices[param] = [*world.of(kind_of(pattern)).values(), MISSING]
        elif param == "delivery_id":
            choices[param] = ["delivery"]  # filled per subscription below
        elif param == "section":
            choices[param] = [*SECTIONS, "nothing"]
        elif param == "action":
            choices[param] = [*ACCESS_ACTIONS, "explode"]
        elif param in ("uid", "token"):
            choices[param] = ["invitation"]  # a real link and a made-up one, below
        else:
            raise AssertionError(f"{pattern.route}: how should the walk fill <{param}>?")
    for values in product(*choices.values()):
        kwargs = dict(zip(choices, values, strict=True))
        if kwargs.get("delivery_id") == "delivery":
            own = [d for s, d in world.deliveries if s == kwargs["pk"]]
            for delivery in [*own[:1], MISSING]:
                yield kwargs | {"delivery_id": delivery}
        elif kwargs.get("uid") == "invitation":
            uid, token = world.invitation.strip("/").split("/")[1:3]
            yield {"uid": uid, "token": token}
            yield {"uid": "Mw", "token": "made-up-token"}
        else:
            yield kwargs


def path_of(pattern: Pattern, kwargs: dict[str, Any]) -> str:
    path = "/" + pattern.route
    for name, value in kwargs.items():
        path = re.sub(rf"<(\w+:)?{name}>", str(value), path)
    assert "<" not in path, path
    return path


# --- What the member's API answers --------------------------------------------------------------


@dataclass
class Reader:
    """One persona: the portal client, the API client, and what the API answered so far."""

    member: Member
    browser: Client
    api: APIClient
    world: World
    answers: dict[str, Any] = field(default_factory=dict)
    pages: list[tuple[str, str]] = field(default_factory=list)

    def api_get(self, path: str) -> Any:
        if path not in self.answers:
            self.answers[path] = self.api.get(path)
        return self.answers[path]

    def api_status(self, path: str) -> int:
        return int(self.api_get(path).status_code)

    def sees(self, kind: str, pk: int) -> bool:
        if kind == "token":
            return pk in self.api_ids("/api/v1/tokens/")
        if kind == "subscription" and self.reads_deleted_log(pk):
            return True
        return self.api_status(API_DETAIL[kind].format(pk)) == 200

    def reads_deleted_log(self, pk: int) -> bool:
        """A deleted endpoint the member reads as the API lets them: its delivery log."""
        deleted = Subscription.objects.filter(pk=pk, deleted_at__isnull=False).exists()
        return deleted and self.api_status(f"/api/v1/subscriptions/{pk}/deliveries/") == 200

    def api_ids(self, path: str) -> set[int]:
        answer = self.api_get(path)
        assert answer.status_code == 200, (path, answer.content)
        body = answer.json()
        rows = body["results"] if isinstance(body, dict) else body
        assert not (isinstance(body, dict) and body.get("next")), f"{path}: more than a page"
        return {row["id"] for row in rows}

    def api_text(self) -> str:
        """Everything the member's API returned in this walk (markers found there may be shown)."""
        return "\n".join(
            answer.content.decode() for answer in self.answers.values() if answer.status_code == 200
        )


# --- What each page should answer ------------------------------------------------------------

Expect = Callable[[Reader, dict[str, Any]], int]


def always(status: int) -> Expect:
    return lambda reader, kwargs: status


def like_api(template: str) -> Expect:
    """The status of the same member's API call for the page's object."""
    return lambda reader, kwargs: reader.api_status(template.format(**kwargs))


def for_role(policy: Callable[[Member], bool]) -> Expect:
    """A page of a form the member's role does not give: 403, as the API refuses the write."""
    return lambda reader, kwargs: 200 if policy(reader.member) else 403


def editor_of(kind: str, may: Callable[[Member, Any], bool], model: Any) -> Expect:
    """An object's editor: 404 when the API hides the object, 403 when the member sees it but
    may not change it (as the API's write answers), else 200."""

    def expect(reader: Reader, kwargs: dict[str, Any]) -> int:
        if not reader.sees(kind, kwargs["pk"]):
            return 404
        return 200 if may(reader.member, model.objects.get(pk=kwargs["pk"])) else 403

    return expect


def notice_editor(reader: Reader, kwargs: dict[str, Any]) -> int:
    """Drafts only: a submitted or published notice has no editor (404), as the API's edit
    answers a conflict."""
    if not reader.sees("notice", kwargs["pk"]):
        return 404
    notice = Notice.objects.get(pk=kwargs["pk"])
    if notice.status != NoticeStatus.DRAFT:
        return 404
    return 200 if notice_policies.may_edit_draft(reader.member, notice) else 403


def seizure_editor(reader: Reader, kwargs: dict[str, Any]) -> int:
    """A report's amend and withdraw forms: as an editor (`editor_of`), and a withdrawn report
    has none (404), as the API answers a conflict."""
    if not reader.sees("seizure", kwargs["pk"]):
        return 404
    report = SeizureReport.objects.get(pk=kwargs["pk"])
    if report.status == SeizureStatus.WITHDRAWN:
        return 404
    return 200 if seizure_policies.may_change(reader.member, report) else 403


def revision_pair(reader: Reader, kwargs: dict[str, Any], query: str) -> int:
    numbers = dict(re.findall(r"(from|to)=(\d+)", query))
    if not reader.sees("profile", kwargs["pk"]) or len(numbers) < 2:
        return 404
    base = API_DETAIL["profile"].format(kwargs["pk"])
    statuses = {reader.api_status(f"{base}revisions/{n}/") for n in numbers.values()}
    return 200 if statuses == {200} else 404


@dataclass
class Page:
    expect: Expect
    # Query strings walked besides none; `revision_pair` and the like read them.
    queries: tuple[str, ...] = ()
    by_query: Callable[[Reader, dict[str, Any], str], int] | None = None
    # The API list whose ids the page's links must equal (or only be among, `subset`), and
    # the page's query string that lists the same.
    listed: tuple[str, tuple[str, ...]] | None = None
    listed_query: str = ""
    # A 404 page of its own (an invitation link that is used or made up says so).
    own_404: bool = False
    subset: bool = False


POST_ONLY = always(405)

PAGES: dict[str, Page] = {
    "home": Page(always(200)),
    "sign_in": Page(always(302)),  # a signed-in member goes on
    "verify": Page(always(302)),  # nobody half signed in
    "enrol": Page(always(200)),  # a new authenticator, to replace the one in use
    "sign_out": Page(POST_ONLY),
    "invitation": Page(lambda r, kw: 404 if kw["token"] == "made-up-token" else 200, own_404=True),
    "recovery_codes": Page(always(302)),  # shown once, right after they are made
    "settings": Page(always(200)),
    "token_issue": Page(POST_ONLY),
    "language": Page(POST_ONLY),
    "token_revoke": Page(POST_ONLY),
    "recovery_renew": Page(POST_ONLY),
    "notices": Page(
        always(200),
        queries=("status=draft&status=submitted&status=published&status=withdrawn",),
        listed=("notice", ("/api/v1/notices/?page_size=200",)),
    ),
    "notice": Page(like_api(API_DETAIL["notice"].replace("{}", "{pk}"))),
    "acknowledge": Page(POST_ONLY),
    "notice_new": Page(for_role(notice_policies.may_draft)),
    "notice_profile_choices": Page(
        for_role(notice_policies.may_draft),
        listed=("profile", ("/api/v1/profiles/?page_size=200",)),
        subset=True,
    ),
    "notice_body_preview": Page(POST_ONLY),
    "notice_edit": Page(notice_editor),
    "notice_audience": Page(like_api("/api/v1/notices/{pk}/audience/")),
    "notice_submit": Page(POST_ONLY),
    "notice_publish": Page(POST_ONLY),
    "notice_return": Page(POST_ONLY),
    "notice_receipts": Page(like_api("/api/v1/notices/{pk}/receipts/")),
    "profiles": Page(
        always(200),
        queries=("retired=true",),
        listed=("profile", ("/api/v1/profiles/?page_size=200",)),
    ),
    "imei_check": Page(always(200)),
    "audit": Page(like_api("/api/v1/audit/")),
    "profile": Page(like_api(API_DETAIL["profile"].replace("{}", "{pk}"))),
    "subscriptions": Page(
        lambda r, kw: 200 if r.member.organisation_id else 404,
        listed=("subscription", ("/api/v1/subscriptions/?page_size=200",)),
    ),
    # A live endpoint as the API reads it, a deleted one with its log (read-only).
    "subscription": Page(lambda r, kw: 200 if r.sees("subscription", kw["pk"]) else 404),
    "subscription_rotate": Page(POST_ONLY),
    "subscription_test": Page(POST_ONLY),
    "subscription_enabled": Page(POST_ONLY),
    "subscription_delete": Page(
        lambda r, kw: (
            404
            if r.reads_deleted_log(kw["pk"])  # deleted already: no action, as in the API
            else editor_of(
                "subscription",
                lambda m, s: webhook_policies.may_manage_subscriptions(m),
                Subscription,
            )(r, kw)
        )
    ),
    "delivery_resend": Page(POST_ONLY),
    "subscription_recover": Page(POST_ONLY),
    "profile_new": Page(for_role(profile_policies.may_file_profiles)),
    "profile_edit": Page(editor_of("profile", profile_policies.may_change_profile, DeviceProfile)),
    "editor_row": Page(lambda r, kw: 200 if kw["section"] in SECTIONS else 404),
    "attachment_add": Page(POST_ONLY),
    "revisions": Page(like_api("/api/v1/profiles/{pk}/revisions/")),
    "revision_diff": Page(
        always(404),  # without two revision numbers
        queries=("from=1&to=2", "from=1&to=3", "from=x&to=1"),
        by_query=revision_pair,
    ),
    "seizures": Page(
        always(200),
        queries=("organisation=",),
        listed=("seizure", ("/api/v1/seizures/?page_size=200",)),
        listed_query="organisation=",
    ),
    "seizure_new": Page(for_role(seizure_policies.may_report)),
    "seizure_stats": Page(always(200)),
    "seizure": Page(like_api(API_DETAIL["seizure"].replace("{}", "{pk}"))),
    "seizure_amend": Page(seizure_editor),
    "seizure_withdraw": Page(seizure_editor),
    "access_requests": Page(
        always(200),
        # Waiting for the member's decision, and sent by or for the organisation.
        listed=(
            "access_request",
            (
                "/api/v1/access-requests/?role=received&page_size=200",
                "/api/v1/access-requests/?role=sent&page_size=200",
            ),
        ),
    ),
    "access_request_new": Page(
        always(404),  # without the notice it comes from
        queries=("via_notice={network_alert}", "via_notice={draft_memo}", f"via_notice={MISSING}"),
        by_query=lambda r, kw, q: r.api_status(f"/api/v1/access-requests/requestable/?{q}"),
    ),
    "access_request": Page(like_api(API_DETAIL["access_request"].replace("{}", "{pk}"))),
    "access_request_act": Page(POST_ONLY),
}


def with_names(query: str, world: World) -> str:
    notices = world.of("notice")
    return query.format(
        network_alert=notices["Walk network alert"], draft_memo=notices["Walk draft memo"]
    )


# --- The walk ----------------------------------------------------------------------------------


@pytest.fixture
def reader_of(world: World, portal: Callable[[Member], Client]) -> Callable[[str], Reader]:
    def make(persona: str) -> Reader:
        member = getattr(world.network, persona)
        return Reader(member=member, browser=portal(member), api=world.api(member), world=world)

    return make


def shown_markers(html: str, world: World) -> set[str]:
    return {marker for marker in world.markers() if marker in html}


def linked(html: str) -> dict[str, set[int]]:
    return {kind: {int(pk) for pk in rx.findall(html)} for kind, rx in LINKS.items()}


def is_portal_404(answer: Any) -> bool:
    return (
        answer.status_code == 404
        and "text/html" in answer["Content-Type"]
        and NOT_FOUND_TEXT in answer.content.decode()
    )


def check_page(reader: Reader, path: str, expected: int, page: Page, problems: list[str]) -> None:
    try:
        answer = reader.browser.get(path)
    except Exception as exc:  # a 500: the test client raises the view's exception
        problems.append(f"GET {path}: {exc!r}")
        return
    if answer.status_code != expected:
        problems.append(f"GET {path}: {answer.status_code}, expected {expected}")
        return
    if expected == 404 and not page.own_404 and not is_portal_404(answer):
        problems.append(f"GET {path}: a 404 that is not the portal's page")
    if expected == 403 and NOT_ALLOWED_TEXT not in answer.content.decode():
        problems.append(f"GET {path}: a 403 that is not the portal's page")
    if answer.status_code != 200 or "text/html" not in answer.get("Content-Type", ""):
        return
    html = answer.content.decode()
    for kind, ids in linked(html).items():
        hidden = {
            pk for pk in ids if pk in reader.world.of(kind).values() and not reader.sees(kind, pk)
        }
        if hidden:
            problems.append(f"GET {path}: links {kind} {sorted(hidden)} the API hides")
    if page.listed is not None and path.partition("?")[2] == page.listed_query:
        kind, api_list = page.listed
        on_page = linked(html)[kind] if kind in LINKS else set()
        if kind == "profile" and page.subset:  # the composer's checkboxes
            on_page = {int(pk) for pk in re.findall(r'name="profile_ids" value="(\d+)"', html)}
        through_api = set().union(*(reader.api_ids(path) for path in api_list))
        if kind == "subscription":  # deleted endpoints, listed apart with their logs
            through_api |= {
                pk for pk in reader.world.of(kind).values() if reader.reads_deleted_log(pk)
            }
        if page.subset and not on_page <= through_api:
            problems.append(
                f"GET {path}: {kind} {sorted(on_page - through_api)} not in the API list"
            )
        if not page.subset and on_page != through_api:
            problems.append(f"GET {path}: lists {sorted(on_page)}, the API {sorted(through_api)}")
    # Titles: kept until every API answer of the walk is known (`check_markers`).
    reader.pages.append((path, html))


def check_markers(reader: Reader, problems: list[str]) -> None:
    """No page shows the title of an object the member's API never returned."""
    for kind, rows in reader.world.ids.items():  # every object's API answer, for its title
        if kind in API_DETAIL:
            for pk in rows.values():
                reader.sees(kind, pk)
    reader.api_ids("/api/v1/tokens/")
    if reader.api_status("/api/v1/audit/") == 200:
        reader.api_get("/api/v1/audit/?page_size=500")
    allowed = shown_markers(reader.api_text(), reader.world)
    # A deleted endpoint's name and URL stay with its log, which the member's API reads.
    allowed |= {
        m for m, pk in reader.world.of("subscription").items() if reader.reads_deleted_log(pk)
    }
    for path, html in reader.pages:
        leaked = shown_markers(html, reader.world) - allowed
        if leaked:
            problems.append(f"GET {path}: shows {sorted(leaked)}, which the API never returned")


def walk(reader: Reader) -> tuple[set[str], list[str]]:
    """Every GET of every pattern; the pattern names walked and the problems found."""
    walked: set[str] = set()
    problems: list[str] = []
    for pattern in portal_patterns():
        page = PAGES[pattern.name]
        for kwargs in fill(pattern, reader.world):
            path = path_of(pattern, kwargs)
            check_page(reader, path, page.expect(reader, kwargs), page, problems)
            for query in page.queries:
                query = with_names(query, reader.world)
                expected = (
                    page.by_query(reader, kwargs, query)
                    if page.by_query
                    else page.expect(reader, kwargs)
                )
                check_page(reader, f"{path}?{query}", expected, page, problems)
            walked.add(pattern.name)
    check_markers(reader, problems)
    return walked, problems


def test_every_pattern_is_walked() -> None:
    """A new URL in portal/urls.py fails here until the walk knows what it should answer."""
    names = [p.name for p in portal_patterns()]
    assert len(names) == len(set(names)), "two portal URLs share a name"
    assert set(names) - set(PAGES) == set(), "portal URLs the walk does not know (PAGES)"
    assert set(PAGES) - set(names) == set(), "PAGES names URLs portal/urls.py no longer has"


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_answers_what_the_api_answers(persona, reader_of) -> None:
    reader = reader_of(persona)
    walked, problems = walk(reader)
    assert walked == set(PAGES)
    assert problems == [], "\n".join(problems)


# --- POST: the CSRF token, missing and foreign ids ---------------------------------------------


def rows() -> dict[str, list[dict[str, Any]]]:
    """The main tables, row by row."""
    models = (
        DeviceProfile,
        ProfileRevision,
        Notice,
        NoticeReceipt,
        AccessRequest,
        SeizureReport,
        Subscription,
        Delivery,
        ApiToken,
        Member,
        AuditEvent,
    )
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def every_path(world: World) -> Iterator[tuple[Pattern, dict[str, Any], str]]:
    for pattern in portal_patterns():
        for kwargs in fill(pattern, world):
            yield pattern, kwargs, path_of(pattern, kwargs)


def test_every_post_needs_its_csrf_token(world, portal) -> None:
    """Django's CSRF check runs before any view: one member's walk covers every form."""
    signed_in = portal(world.network.alice)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = signed_in.cookies
    before = rows()
    refused = {}
    for pattern, _kwargs, path in every_path(world):
        answer = strict.post(path, {"purpose": "x", "name": "x", "url": "https://x.example/"})
        refused.setdefault(pattern.name, set()).add(answer.status_code)
    assert refused == {name: {403} for name in PAGES}
    assert rows() == before
    assert strict.get("/").status_code == 200  # still signed in: the sign-out was refused too


@pytest.mark.parametrize("persona", PERSONAS)
def test_missing_and_foreign_ids_answer_the_portals_404(persona, reader_of) -> None:
    reader = reader_of(persona)
    hidden = []
    for pattern, kwargs, path in every_path(reader.world):
        if "pk" not in kwargs:
            continue
        missing = MISSING in (kwargs["pk"], kwargs.get("delivery_id"))
        if missing or not reader.sees(kind_of(pattern), kwargs["pk"]):
            hidden.append((pattern, path))
    before = rows()  # after the API's answers, which record reads of their own
    problems = []
    tried = set()
    for pattern, path in hidden:
        tried.add(pattern.name)
        for method in ("get", "post"):
            try:
                answer = getattr(reader.browser, method)(path, {})
            except Exception as exc:
                problems.append(f"{method.upper()} {path}: {exc!r}")
                continue
            if method == "get" and PAGES[pattern.name].expect is POST_ONLY:
                if answer.status_code != 405:  # says nothing of the object
                    problems.append(f"GET {path}: {answer.status_code}, expected 405")
            elif not is_portal_404(answer):
                problems.append(f"{method.upper()} {path}: {answer.status_code}, not the 404 page")
    assert tried == {p.name for p in portal_patterns() if "pk" in p.params}
    assert problems == [], "\n".join(problems)
    assert rows() == before


# --- Odd filter values -----------------------------------------------------------------------

ODD = ("", "x" * 3000, "abc", "-1", "1.5", "99999999999999999999999", "\x00", "unknown-choice")
# Each list page, the API list it filters like, and its parameters (the API's filters and the
# page's own cursor).
FILTERED = {
    "/notices/": ("/api/v1/notices/", ["before", *NoticeFilter.base_filters]),
    "/profiles/": ("/api/v1/profiles/", ["before", *DeviceProfileFilter.base_filters]),
    "/seizures/": ("/api/v1/seizures/", list(SeizureReportFilter.base_filters)),
    "/audit/": ("/api/v1/audit/", ["before_id", *AUDIT_FILTERS]),
    "/seizures/stats/": (None, ["group_by", "scope", "country"]),  # the page takes none
}


def at_field(html: str, name: str) -> bool:
    """A message for the field: under its input (`id="f-<name>-error"`), or in the list's
    filter errors (`<p><name>: …`)."""
    return f'id="f-{name}-error"' in html or f"<p>{name}: " in html


@pytest.mark.parametrize("path", sorted(FILTERED))
def test_odd_filter_values_answer_200_or_400_at_the_field(path, network, portal, api) -> None:
    """Never a 500; a value the API refuses is refused with the API's message."""
    member = network.audrey if path == "/audit/" else network.alice
    browser, through_api = portal(member), api(member)
    api_list, names = FILTERED[path]
    problems = []
    for name, value in product(names, ODD):
        shown = f"{name}={value[:20]!r}"
        try:
            answer = browser.get(path, {name: value})
        except Exception as exc:  # a 500
            problems.append(f"{shown}: {exc!r}")
            continue
        if answer.status_code not in (200, 400):
            problems.append(f"{shown}: {answer.status_code}")
            continue
        # A value the API's filters refuse (not its input layer's refusal of a NUL
        # character, which the pages' filters take in their stride) is refused at its field.
        if api_list is None or "\x00" in value or name in ("before", "before_id"):
            continue
        refused = through_api.get(api_list, {name: value})
        if refused.status_code == 400 and not at_field(answer.content.decode(), name):
            problems.append(f"{shown}: the API refuses it; the page shows no message at the field")
    assert problems == [], "\n".join(problems)
