"""The portal in English and French: picked from the browser, or chosen by the member; every
catalogue complete and compiled, and each one a language of the portal."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.portal.conftest import with_password

LOCALE = Path(__file__).resolve().parents[2] / "portal" / "locale"
CATALOGUES = sorted(path.name for path in LOCALE.iterdir() if (path / "LC_MESSAGES").is_dir())


def test_the_browsers_language_is_used(client: Client, db: None) -> None:
    french = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr-BE,fr;q=0.9,en;q=0.5")
    assert '<html lang="fr">' in french.content.decode()
    assert "Connexion à DIX" in french.content.decode()
    english = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-GB")
    assert "Sign in to DIX" in english.content.decode()


def test_a_member_chooses_french_and_keeps_it(client: Client, network) -> None:
    with_password(network.olga)
    client.post("/login/", {"username": "olga", "password": "correct horse battery staple 7"})
    client.post("/account/language/", {"language": "fr", "next": "/"}, HTTP_ACCEPT_LANGUAGE="en")
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Profils d’appareils" in home
    assert "Se déconnecter" in home


def test_a_saved_language_follows_the_member_to_a_new_session(network, portal) -> None:
    first = portal(network.olga)
    answer = first.post(
        "/account/language/",
        {"language": "fr", "next": "/account/"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 302
    network.olga.refresh_from_db()
    assert network.olga.language == "fr"
    # Another browser, which prefers English and has no language cookie.
    elsewhere = portal(network.olga)
    assert "Se déconnecter" in elsewhere.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Before signing in, the browser's language still applies.
    assert "Sign in to DIX" in Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_following_the_browser_again_forgets_the_choice(network, portal) -> None:
    client = portal(network.olga)
    client.post("/account/language/", {"language": "fr", "next": "/"})
    client.post("/account/language/", {"language": "", "next": "/"})
    network.olga.refresh_from_db()
    assert network.olga.language == ""
    assert "Sign out" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Se déconnecter" in client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_an_unknown_language_is_not_saved(network, portal) -> None:
    client = portal(network.olga)
    answer = client.post("/account/language/", {"language": "xx", "next": "/"})
    assert answer.status_code == 302
    network.olga.refresh_from_db()
    assert network.olga.language == ""
    assert "Sign out" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_every_catalogue_is_a_language_of_the_portal() -> None:
    """Adding a language is adding its catalogue: settings list every compiled one."""
    assert "fr" in CATALOGUES
    assert [code for code, _ in settings.LANGUAGES] == ["en", *CATALOGUES]
    assert dict(settings.LANGUAGES)["fr"] == "Français"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("language", CATALOGUES)
def test_each_catalogue_is_complete_and_compiled(language: str, tmp_path: Path) -> None:
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    check = subprocess.run(
        ["msgfmt", "--statistics", "-c", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in check.stderr, check.stderr
    assert "fuzzy" not in check.stderr, check.stderr
    committed = (LOCALE / language / "LC_MESSAGES" / "django.mo").read_bytes()
    assert committed == (tmp_path / "django.mo").read_bytes(), "run msgfmt: the .mo is stale"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("language", CATALOGUES)
def test_every_portal_string_is_in_each_catalogue(language: str, tmp_path: Path) -> None:
    """makemessages over the portal finds no string a catalogue lacks."""
    portal = LOCALE.parent
    copy = tmp_path / "portal"
    shutil.copytree(portal, copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            sys.executable,
            str(portal.parent / "manage.py"),
            "makemessages",
            "-l",
            language,
            "--no-location",
        ],
        cwd=copy,
        capture_output=True,
        check=True,
    )
    fresh = (copy / "locale" / language / "LC_MESSAGES" / "django.po").read_text()
    check = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", "-"],
        input=fresh,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in check.stderr, check.stderr
    assert "fuzzy" not in check.stderr, check.stderr


def test_dates_cannot_be_misread_in_either_language() -> None:
    """English days come before months, with the month in words: 6 Dec, never 12/06."""
    from datetime import UTC, datetime

    from django.utils import translation

    from portal.templatetags.portal import day, when

    moment = datetime(2026, 12, 6, 14, 5, tzinfo=UTC)
    with translation.override("en"):
        assert when(moment.isoformat()) == "6 Dec 2026, 14:05"
        assert day("2025-05-20") == "20 May 2025"
    with translation.override("fr"):
        assert when(moment) == "06/12/2026 14:05"
        assert day("2025-05-20") == "20/05/2025"
