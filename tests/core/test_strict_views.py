"""Every API view reads its input strictly, and TAXII refuses unknown parameters in its own error
format."""

import pytest
from django.urls import get_resolver

from core.strict import StrictRequestMixin
from tests.helpers.strict_input import views_of

# --- Every view, and TAXII -------------------------------------------------------------------


def test_every_api_view_is_strict():
    api_views = [(route, view) for route, view in views_of(get_resolver().url_patterns)]
    checked = [(r, v) for r, v in api_views if r.startswith("api/v1/")]
    assert len(checked) > 20
    assert [r for r, v in checked if not issubclass(v, StrictRequestMixin)] == []


TAXII = "application/taxii+json;version=2.1"


@pytest.mark.parametrize(
    "url",
    [
        "/taxii2/",
        "/taxii2/api/",
        "/taxii2/api/collections/",
        "/taxii2/api/collections/dix-everything/objects/",
        "/taxii2/api/collections/dix-everything/manifest/",
    ],
)
def test_taxii_refuses_unknown_parameters_in_its_own_error_format(network, api, url):
    response = api(network.alice).get(url, {"limt": "5"}, HTTP_ACCEPT=TAXII)
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "invalid-parameter"
    assert response.json()["details"] == {"parameter": "limt"}
