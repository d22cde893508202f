"""Ties a serializer that only describes a body rendered by hand to the renderer's field list,
so that the list is written once, in the renderer, and the schema cannot drift from it."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

S = TypeVar("S", bound=type[serializers.Serializer[Any]])


def describes(*names: str) -> Callable[[S], S]:
    """Class decorator: the serializer's fields are exactly `names`, in that order, or the
    module fails to import. A renderer that gains a field fails at once until the schema gains
    it too."""

    def check(serializer_class: S) -> S:
        declared = tuple(serializer_class().fields)
        if declared != names:
            raise ImproperlyConfigured(
                f"{serializer_class.__name__} describes {declared}, but the body it documents "
                f"is rendered with {names}."
            )
        return serializer_class

    return check
