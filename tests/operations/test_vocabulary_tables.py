"""docs/vocabularies.md is generated from the code: it fails here as soon as a list, a label or
a description changes without `python manage.py vocabulary_tables` being run."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.vocabularies import vocabularies
from operations.management.commands.vocabulary_tables import DEFAULT_PATH, render


def test_docs_vocabularies_md_is_up_to_date_with_the_code():
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(), (
        "docs/vocabularies.md is out of date: run `python manage.py vocabulary_tables`."
    )


def test_every_value_has_its_row():
    text = render()

    for vocabulary in vocabularies():
        assert f"## `{vocabulary.name}`" in text
        for value in vocabulary.values:
            assert f"| `{value.value}` | {value.label} |" in text


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path):
    stale = tmp_path / "vocabularies.md"
    stale.write_text("# Vocabularies\n", encoding="utf-8")

    with pytest.raises(CommandError, match="out of date"):
        call_command("vocabulary_tables", "--check", "--output", str(stale))
    call_command("vocabulary_tables", "--output", str(stale))
    call_command("vocabulary_tables", "--check", "--output", str(stale))
