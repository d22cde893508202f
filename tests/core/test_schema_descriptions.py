"""The OpenAPI document is written for a reader: every object has a description of its own
(its serializer's docstring, never a base class's or a mixin's, which are written for DIX's
developers), and every property of every object says what it holds."""

import inspect
from typing import Any

from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from core.schema import own_docstring

GENERATOR = SchemaGenerator()
SCHEMA = GENERATOR.get_schema(request=None, public=True)
COMPONENTS: dict[str, Any] = SCHEMA["components"]["schemas"]
# Each object's serializer (a page of a list is registered under its items' serializer, and is
# described by the paginator: core.pagination).
SERIALIZERS = {
    name: (value if inspect.isclass(value) else type(value))
    for (name, kind), component in GENERATOR.registry._components.items()
    if kind == "schemas"
    and not name.startswith("Paginated")
    and (value := component.object) is not None
    and isinstance(value, (serializers.BaseSerializer, type))
    and issubclass(value if inspect.isclass(value) else type(value), serializers.BaseSerializer)
}


def descriptions(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every `description` in the document, with where it is."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                found.append((path, value))
            else:
                found.extend(descriptions(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(descriptions(value, f"{path}/{index}"))
    return found


def inherited_docstrings() -> dict[str, str]:
    """The docstring of every base class and mixin of a serializer the document describes
    that is not itself described by the document, by docstring."""
    own = {cls for cls in SERIALIZERS.values()}
    found: dict[str, str] = {}
    for cls in own:
        for base in cls.__mro__[1:]:
            doc = own_docstring(base)
            if doc and base not in own:
                found[doc] = base.__qualname__
    return found


def test_no_description_is_a_base_class_or_mixin_docstring():
    inherited = inherited_docstrings()

    copied = [
        f"{path}: {inherited[text]}'s docstring"
        for path, text in descriptions(SCHEMA)
        if text.strip() in inherited
    ]

    assert copied == []


def test_every_object_is_described_by_its_own_serializer():
    wrong = {
        name: COMPONENTS[name].get("description")
        for name, cls in SERIALIZERS.items()
        if name in COMPONENTS
        and COMPONENTS[name].get("type") == "object"
        and COMPONENTS[name].get("description") != own_docstring(cls)
    }
    undescribed = sorted(
        name
        for name, schema in COMPONENTS.items()
        if "properties" in schema and not schema.get("description")
    )

    assert wrong == {}
    assert undescribed == []


def test_every_property_of_every_object_is_described():
    undescribed = sorted(
        f"{name}.{field}"
        for name, schema in COMPONENTS.items()
        for field, property_schema in schema.get("properties", {}).items()
        if not property_schema.get("description")
    )

    assert undescribed == []
