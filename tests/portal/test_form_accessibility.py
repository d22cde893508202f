"""Forms a screen reader can follow: every input's `aria-describedby` names elements that are
on the page (its help and its errors), and an input with an error is marked invalid and
described by the error's text."""

import re
from html.parser import HTMLParser
from io import StringIO

from django.core.management import call_command
from django.test import Client

from tests.portal.conftest import PASSWORD, with_authenticator
from tests.portal.test_compose_pages import composed
from tests.portal.test_profile_editor import body
from tests.portal.test_subscription_pages import EVENTS


class Page(HTMLParser):
    """The ids on a page, the text inside each element that has one, and each form
    control's attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.texts: dict[str, str] = {}
        self.controls: list[dict[str, str]] = []
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "id" in found:
            self.ids.add(found["id"])
            self.texts[found["id"]] = ""
        if tag in ("input", "select", "textarea", "fieldset") and found.get("type") != "hidden":
            self.controls.append({"tag": tag, **found})
        if tag not in ("input", "br", "meta", "link", "img", "hr"):
            self._open.append((tag, found.get("id")))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            opened, _ = self._open.pop()
            if opened == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id is not None:
                self.texts[element_id] += data

    def dangling_references(self) -> list[str]:
        return [
            f"{control.get('id') or control.get('name')} -> {reference}"
            for control in self.controls
            for reference in control.get("aria-describedby", "").split()
            if reference not in self.ids
        ]

    def control(self, element_id: str) -> dict[str, str]:
        (found,) = (control for control in self.controls if control.get("id") == element_id)
        return found

    def description(self, element_id: str) -> str:
        references = self.control(element_id).get("aria-describedby", "").split()
        return " ".join(self.texts[reference] for reference in references)


def test_the_sign_in_form_points_at_its_errors(client: Client, db: None) -> None:
    page = Page(client.post("/login/", {"username": "", "password": ""}).content.decode())

    assert page.dangling_references() == []
    for name in ("id_username", "id_password"):
        assert page.control(name).get("aria-invalid") == "true"
        assert "This field is required." in page.description(name)


def test_the_code_form_points_at_its_error(client: Client, network) -> None:
    with_authenticator(network.bob)
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    page = Page(client.post("/login/verify/", {"code": "123456"}).content.decode())

    assert page.dangling_references() == []
    assert page.control("id_code").get("aria-invalid") == "true"
    assert "This code is wrong" in page.description("id_code")


def test_a_password_form_points_at_its_help_and_its_errors(client: Client, network) -> None:
    out = StringIO()
    call_command("invite_member", "olga", stdout=out)
    found = re.search(r"http://\S+", out.getvalue())
    assert found is not None
    path = found.group(0).split("8000", 1)[1]
    page = Page(
        client.post(path, {"new_password1": "1234", "new_password2": "1234"}).content.decode()
    )

    assert page.dangling_references() == []
    # Django's password rules are the first field's help; the refusal is the second's error.
    assert "at least" in page.description("id_new_password1")
    assert page.control("id_new_password2").get("aria-invalid") == "true"
    assert "too short" in page.description("id_new_password2")


def test_the_composer_points_at_its_errors(network, portal) -> None:
    page = Page(
        portal(network.alice)
        .post("/notices/new/", composed(title="", countries="BE, XX"))
        .content.decode()
    )

    assert page.dangling_references() == []
    assert page.control("id_title").get("aria-invalid") == "true"
    assert "may not be blank" in page.description("id_title")
    assert "XX" in page.description("id_countries")


def test_the_profile_editor_points_at_its_errors(network, portal) -> None:
    answer = portal(network.alice).post("/profiles/new/", body(weight_g="heavy"))
    page = Page(answer.content.decode())

    assert page.dangling_references() == []
    assert page.control("id_weight_g").get("aria-invalid") == "true"
    assert page.description("id_weight_g").strip()


def test_the_subscription_form_points_at_its_errors(network, portal) -> None:
    answer = portal(network.alice).post(
        "/subscriptions/", {"url": "http://127.0.0.1:9/hook", "event_types": EVENTS}
    )
    page = Page(answer.content.decode())

    assert page.dangling_references() == []
    assert page.control("id_url").get("aria-invalid") == "true"
    assert page.description("id_url").strip()
