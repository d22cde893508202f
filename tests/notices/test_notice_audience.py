"""Who receives a published notice: its audience scope and TLP label, member by member."""

from collections.abc import Callable
from typing import Any

import pytest

from intel.models import TLP
from tests.conftest import Network
from tests.helpers.notices import Api, Extra, audience, everyone

# --- Audience and TLP ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"audience": {"scope": "network"}},
            {
                "alice",
                "olga",
                "felix",
                "cora",
                "audrey",
                "bob",
                "bruno",
                "charlie",
                "dave",
                "erin",
                "emil",
            },
            id="GREEN-network",
        ),
        pytest.param(
            {"audience": {"scope": "organisations", "organisations": ["be-desk"]}},
            {"alice", "olga", "felix", "cora", "bob", "bruno"},
            id="GREEN-organisations",
        ),
        pytest.param(
            {"audience": {"scope": "countries", "countries": ["BE"]}},
            {"alice", "olga", "felix", "cora", "bob", "bruno", "erin", "emil"},
            id="GREEN-countries",
        ),
        pytest.param(
            {"audience": {"scope": "network"}, "tlp": TLP.AMBER},
            {"alice", "felix", "cora", "audrey", "bob", "bruno", "charlie", "dave", "erin", "emil"},
            id="AMBER-network",
        ),
        pytest.param(
            {
                "audience": {"scope": "organisations", "organisations": ["be-desk"]},
                "tlp": TLP.AMBER,
            },
            {"alice", "felix", "cora", "bob", "bruno", "dave", "erin", "emil"},
            id="AMBER-organisations",
        ),
        pytest.param(
            {
                "audience": {"scope": "organisations", "organisations": ["be-desk"]},
                "tlp": TLP.AMBER_STRICT,
            },
            {"alice", "felix", "cora", "bruno"},
            id="STRICT-organisations",
        ),
    ],
)
def test_who_receives_a_published_notice(
    network: Network,
    extra: Extra,
    api: Api,
    issue: Callable[..., dict[str, Any]],
    fields: dict[str, Any],
    expected: set[str],
) -> None:
    """olga (GREEN clearance) never receives AMBER; AMBER reaches the authorities a named
    organisation sponsors (erin, emil), AMBER+STRICT does not (emil, cleared for it, still
    not); charlie's desk is never named; GREEN to organisations does not reach sponsored
    authorities. The secretariat's coordinator, who may publish any notice, sees each."""
    notice = issue(**fields)
    assert audience(api, everyone(network, extra), notice["id"]) == expected
