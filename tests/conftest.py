"""Named personas (after healthchecks' alice/bob/charlie) and an API client per persona.

secretariat   eurojust         coordinator "cora" (AMBER+STRICT), auditor "audrey" (RED)
owner desk    fr-desk          analyst "alice" (RED), officer "olga" (GREEN clearance)
partner desk  be-desk          officer "bob" (AMBER), named recipient of AMBER profiles
outsider desk de-desk          officer "charlie" (AMBER), never a recipient
sponsored     fr-prison-admin  officer "dave" (AMBER), sponsored by the owner desk
partner's     be-customs       officer "erin" (AMBER), sponsored by the partner desk
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from intel import services
from intel.audit_details import DETAIL_KEYS
from intel.models import TLP, DeviceProfile, Member, Organisation
from tests.factories import ApiTokenFactory, MemberFactory, OrganisationFactory
from webhooks.engine import notice_payload


@dataclass
class Network:
    eurojust: Organisation
    fr_desk: Organisation
    be_desk: Organisation
    de_desk: Organisation
    fr_prison: Organisation
    be_customs: Organisation
    cora: Member
    audrey: Member
    alice: Member
    olga: Member
    bob: Member
    charlie: Member
    dave: Member
    erin: Member


def pytest_report_header() -> str:
    """One line when the portal's browser tests cannot run here."""
    from tests.portal.browser import CHROMIUM, NO_BROWSER

    return f"browser tests: {'Chromium at ' + CHROMIUM if CHROMIUM else 'skipped, ' + NO_BROWSER}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` (PostgreSQL-only raw SQL and locks) run only on PostgreSQL."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if item.get_closest_marker("postgres") and "postgresql" not in engine:
        pytest.skip("PostgreSQL only: set DATABASE_URL=postgres://… (README, Tests)")


@pytest.fixture(autouse=True)
def _test_settings(tmp_path: Any) -> Iterator[None]:
    """Private media per test, no throttling unless a test asks, failed-authentication counters
    that start empty (the test clients all come from 127.0.0.1, and the shared cache outlives
    each test), and WhiteNoise finding static files per request instead of scanning them all
    for every new test client (seconds each)."""
    auth_limits = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": f"auth-limits-{uuid.uuid4()}",
    }
    with override_settings(
        CACHES={**settings.CACHES, "auth_limits": auth_limits},
        MEDIA_ROOT=str(tmp_path / "media"),
        DIX_THROTTLE_RATE="100000/min",
        WHITENOISE_AUTOREFRESH=True,
    ):
        yield


# Actions the chain tests append with detail of their own (numbers, times, concurrency marks).
TEST_ACTIONS = ("test.event", "test.values", "test.concurrent", "test.nothing_happened")


@pytest.fixture(autouse=True)
def _test_audit_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chain tests' own actions may carry any detail; every real action keeps the keys
    intel/audit_details.py allows, refused otherwise (`DIX_AUDIT_STRICT_DETAIL` in tests)."""
    for action in TEST_ACTIONS:
        monkeypatch.setitem(DETAIL_KEYS, action, None)


@pytest.fixture(autouse=True)
def _fresh_notice_contents() -> Iterator[None]:
    """No notice content kept by this process from an earlier test. A delivering process
    keeps each published version's content under (notice id, number), and a notice's content
    under its id and the shared-data counter (`webhooks.engine.notice_payload`): right as long as an id
    is never given twice, which holds for committed rows on every database (PostgreSQL's
    sequences ignore rollbacks; Django creates SQLite's keys AUTOINCREMENT). A test's rows
    are rolled back, though, and SQLite rolls its id counter back with them, so the next
    test's notice gets the same id and would be sent with the earlier test's version."""
    yield
    notice_payload._versions.clear()
    notice_payload._contents.clear()


@pytest.fixture
def network(db: None) -> Network:
    org, member = OrganisationFactory, MemberFactory
    eurojust = org(slug="eurojust", name="Eurojust", secretariat=True)
    fr = org(slug="fr-desk", name="French Desk", country="FR")
    be = org(slug="be-desk", name="Belgian Desk", country="BE")
    de = org(slug="de-desk", name="German Desk", country="DE")
    fr_prison = org(
        slug="fr-prison-admin", name="French prison administration", authority=True, sponsor=fr
    )
    be_customs = org(
        slug="be-customs", name="Belgian customs", authority=True, country="BE", sponsor=be
    )
    return Network(
        eurojust=eurojust,
        fr_desk=fr,
        be_desk=be,
        de_desk=de,
        fr_prison=fr_prison,
        be_customs=be_customs,
        cora=member(
            username="cora", organisation=eurojust, role="coordinator", clearance=TLP.AMBER_STRICT
        ),
        audrey=member(username="audrey", organisation=eurojust, role="auditor", clearance=TLP.RED),
        alice=member(username="alice", organisation=fr, role="analyst", clearance=TLP.RED),
        olga=member(username="olga", organisation=fr, clearance=TLP.GREEN),
        bob=member(username="bob", organisation=be),
        charlie=member(username="charlie", organisation=de),
        dave=member(username="dave", organisation=fr_prison),
        erin=member(username="erin", organisation=be_customs),
    )


@pytest.fixture
def api() -> Callable[[Member | None], APIClient]:
    """`api(member)`: a client sending that member's fresh bearer token; `api(None)`: anonymous."""

    def client_for(member: Member | None) -> APIClient:
        client = APIClient()
        if member is not None:
            secret = ApiTokenFactory(member=member, name="test").secret
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for


@pytest.fixture
def make_profile(network: Network) -> Callable[..., DeviceProfile]:
    """`make_profile(tlp=..., recipients=[orgs], members=[members], author=alice, **fields)`
    files a profile through the service, as the API would."""

    def make(
        *,
        tlp: str = TLP.AMBER,
        recipients: list[Organisation] | None = None,
        members: list[Member] | None = None,
        author: Member | None = None,
        identifiers: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> DeviceProfile:
        fields.setdefault("name", f"Mini phone {tlp}")
        fields.setdefault("device_class", "mini_phone")
        fields["tlp"] = tlp
        return services.profile_create(
            author=author or network.alice,
            data=services.ProfileInput(
                fields=fields,
                recipient_organisations=recipients or [],
                recipient_members=members or [],
                identifiers=[
                    {"note": "", **item}
                    | (
                        {"value": f"{item['range_start']}-{item['range_end']}"}
                        if item.get("kind") == "tac_range"
                        else {}
                    )
                    for item in (identifiers or [])
                ],
            ),
        )

    return make
