"""The controlled lists of the API (vocabularies): each list's values with their labels and
one-line descriptions, as `GET /api/v1/vocabularies/`, the docs' tables and the portal's
forms read them.

Each list is written once, as a model's `TextChoices`: the values and labels come from it,
and the module that defines it registers it here with a description of each value, next to
the class (`vocabulary(...)`). An app that uses another app's list in a field of its own says
so with `used_by(...)`, so that a list names every field it is read in without the lower app
knowing the higher one.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class Value:
    """One allowed value: what a client sends, what a person reads, what it means."""

    value: str
    label: str
    description: str


@dataclass(frozen=True)
class Vocabulary:
    """A controlled list and the fields that take it (`<collection>: <field path>`)."""

    name: str
    title: str
    description: str
    used_by: tuple[str, ...]
    values: tuple[Value, ...]


@dataclass(frozen=True)
class _Entry:
    choices: type[models.TextChoices]
    title: str
    description: str
    fields: tuple[str, ...]
    descriptions: Mapping[str, str]


_entries: dict[str, _Entry] = {}
_used_by: dict[str, list[str]] = {}


def vocabulary(
    name: str,
    choices: type[models.TextChoices],
    *,
    title: str,
    description: str,
    fields: Iterable[str],
    values: Mapping[str, str],
) -> None:
    """Register `choices` as the list `name`: `values` maps each value to its one-line
    description; `fields` names where the defining app reads it. Registering the same name
    again replaces it (a module imported twice)."""
    _entries[name] = _Entry(
        choices=choices,
        title=title,
        description=description,
        fields=tuple(fields),
        descriptions={str(key): text for key, text in values.items()},
    )


def used_by(name: str, *fields: str) -> None:
    """Say that `fields` (of a higher app) take the list `name` too."""
    known = _used_by.setdefault(name, [])
    known.extend(field for field in fields if field not in known)


def _built(name: str, entry: _Entry) -> Vocabulary:
    described = entry.descriptions
    pairs = [(str(value), str(label)) for value, label in entry.choices.choices]
    return Vocabulary(
        name=name,
        title=entry.title,
        description=entry.description,
        used_by=(*entry.fields, *(f for f in _used_by.get(name, ()) if f not in entry.fields)),
        values=tuple(
            Value(value=value, label=label, description=described.get(value, ""))
            for value, label in pairs
        ),
    )


def vocabularies() -> list[Vocabulary]:
    """Every registered list, by name. Complete once the apps are loaded (each registers
    when its models module is imported)."""
    return [_built(name, _entries[name]) for name in sorted(_entries)]


def gaps() -> dict[str, list[str]]:
    """What a list's registration gets wrong, by list name: values without a description,
    descriptions of values the list does not have. Empty when every list is complete."""
    found: dict[str, list[str]] = {}
    for name, entry in sorted(_entries.items()):
        values = [str(value) for value in entry.choices.values]
        problems = [
            f"{value!r} has no description" for value in values if not entry.descriptions.get(value)
        ]
        problems += [
            f"{key!r} is described but is no value"
            for key in sorted(set(entry.descriptions) - set(values))
        ]
        if problems:
            found[name] = problems
    return found
