"""Controlled values are shown by their label in the member's language, never as the API's
code: a submitted notice's review box says "Soumis à validation" to a French reader."""

from portal import labels
from tests.helpers.notices import draft


def test_the_review_box_names_the_status_in_french(network, portal, api) -> None:
    notice = draft(api(network.alice), title="Pour validation")
    alice = portal(network.alice)
    assert alice.post(f"/notices/{notice['id']}/submit/").status_code == 302

    french = alice.get(f"/notices/{notice['id']}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    english = alice.get(f"/notices/{notice['id']}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Statut : Soumis à validation" in french
    assert "Status: Submitted for review" in english
    assert "submitted" not in french.split('class="review-actions"')[1].split("</section>")[0]


def test_every_label_a_page_shows_is_marked_for_translation() -> None:
    shown = {str(text) for choices in labels.LISTS.values() for _, text in choices.choices}
    assert shown - set(labels.MARKED) == set()


def test_a_value_newer_than_the_list_is_shown_as_it_is() -> None:
    assert labels.label("notice_status", "archived") == "archived"
