from intel.models import TLP


def test_owner_reads_own_amber_profile_and_outsider_gets_404(network, api, make_profile):
    profile = make_profile(tlp=TLP.AMBER, recipients=[network.be_desk])
    assert api(network.alice).get(f"/api/v1/profiles/{profile.pk}/").status_code == 200
    assert api(network.bob).get(f"/api/v1/profiles/{profile.pk}/").status_code == 200
    response = api(network.charlie).get(f"/api/v1/profiles/{profile.pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
