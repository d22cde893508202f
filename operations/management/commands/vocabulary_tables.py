"""`manage.py vocabulary_tables [--check]`: write docs/vocabularies.md, the tables of every
controlled list, from the same definitions as `GET /api/v1/vocabularies/` (core.vocabularies),
so the docs cannot drift from the code. `--check` writes nothing and fails when the file is
out of date (a test runs it)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.vocabularies import Vocabulary, vocabularies

DEFAULT_PATH = Path(settings.BASE_DIR) / "docs" / "vocabularies.md"

HEADER = """\
# Vocabularies

<!-- Generated from the code by `python manage.py vocabulary_tables`: edit the lists and
their descriptions where they are defined (next to each model's choices), not this file. -->

Every field of the API that takes one of a fixed set of values takes the values of one of
the lists below. A client reads the same lists, with the same labels and descriptions, from
`GET /api/v1/vocabularies/` (docs/api-quickstart.md); a value that is not in the list is
refused with a 400 that names the allowed values (docs/errors.md). Each list says where the
API takes it, as `<collection>: <field path>` (`[]` marks the items of a list).

| list | title | values |
|---|---|---|
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(vocabulary: Vocabulary) -> str:
    used = ", ".join(f"`{field}`" for field in vocabulary.used_by) or "webhook payloads only"
    rows = "".join(
        f"| `{_cell(value.value)}` | {_cell(value.label)} | {_cell(value.description)} |\n"
        for value in vocabulary.values
    )
    return (
        f"## `{vocabulary.name}`\n\n"
        f"**{vocabulary.title}.** {vocabulary.description}\n\n"
        f"Used by: {used}.\n\n"
        "| value | label | description |\n|---|---|---|\n"
        f"{rows}"
    )


def render() -> str:
    """docs/vocabularies.md as the code defines it now."""
    lists = vocabularies()
    index = "".join(
        f"| [`{item.name}`](#{item.name}) | {_cell(item.title)} | {len(item.values)} |\n"
        for item in lists
    )
    return HEADER + index + "\n" + "\n".join(_section(item) for item in lists)


class Command(BaseCommand):
    help = (
        "Write docs/vocabularies.md (the tables of every controlled list) from the code; "
        "with --check, fail if the file is out of date instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit non-zero if the file differs from the code.",
        )
        parser.add_argument(
            "--output", default=str(DEFAULT_PATH), help="Where to write (default: %(default)s)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["output"])
        text = render()
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                raise CommandError(
                    f"{path} is out of date with the code: run `python manage.py "
                    "vocabulary_tables` and commit the result."
                )
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path} ({len(vocabularies())} lists).")
