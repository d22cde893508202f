"""The profiles and the notice the seizure tests report on.

Unless a test says otherwise, reports answer `alert`: a TLP:GREEN notice to the whole network
issued by the secretariat (eurojust), about the GREEN profile `mini`; alice (fr-desk analyst,
RED clearance) files them.
"""

from collections.abc import Callable

import pytest

from intel.models import TLP, DeviceProfile
from notices.models import Notice
from tests.conftest import Network
from tests.helpers.seizures import published


@pytest.fixture
def mini(make_profile: Callable[..., DeviceProfile]) -> DeviceProfile:
    return make_profile(tlp=TLP.GREEN, name="Oportik mini phone")


@pytest.fixture
def annex(make_profile: Callable[..., DeviceProfile], network: Network) -> DeviceProfile:
    """AMBER, for fr-desk and its named recipient be-desk (not de-desk)."""
    return make_profile(tlp=TLP.AMBER, recipients=[network.be_desk], name="Restricted annex")


@pytest.fixture
def alert(network: Network, mini: DeviceProfile) -> Notice:
    return published(network.cora, network.cora, profiles=[mini])
