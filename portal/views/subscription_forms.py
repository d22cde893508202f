"""The subscription pages' forms: choices from the vocabulary service, and the API's
serializer errors (URL refusals among them) mapped onto the fields they name."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from core.vocabularies import vocabularies
from intel.models import TLP


def vocabulary_choices(name: str, *, leave_out: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The values and labels of the controlled list `name`, as `GET /api/v1/vocabularies/`."""
    for listed in vocabularies():
        if listed.name == name:
            return [(v.value, v.label) for v in listed.values if v.value not in leave_out]
    raise LookupError(name)


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class SubscriptionForm(forms.Form):
    """A new webhook endpoint; each field is one of the API's (`POST /api/v1/subscriptions/`)."""

    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        help_text=_("Where DIX POSTs the events: an HTTPS address your organisation runs."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("A note to recognise the endpoint by, e.g. case system gateway."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events to receive"), widget=forms.CheckboxSelectMultiple
    )
    max_tlp = forms.ChoiceField(
        label=_("Most restricted label sent"),
        required=False,
        help_text=_("Never above your own clearance; TLP:RED is never sent."),
    )
    notice_types = forms.MultipleChoiceField(
        label=_("Only these notice types (none: every type)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    device_classes = forms.MultipleChoiceField(
        label=_("Only these device classes (none: every class)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    countries = forms.CharField(
        label=_("Only these countries (none: every country)"),
        required=False,
        help_text=_("Two-letter codes separated by commas, e.g. BE, FR."),
    )
    tac_prefixes = forms.CharField(
        label=_("Only TACs starting with (none: any)"),
        required=False,
        help_text=_("1 to 8 digits each, separated by commas."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = self.fields
        choices["event_types"].choices = vocabulary_choices("event_type")  # type: ignore[attr-defined]
        choices["notice_types"].choices = vocabulary_choices("notice_type")  # type: ignore[attr-defined]
        choices["device_classes"].choices = vocabulary_choices("device_class")  # type: ignore[attr-defined]
        choices["max_tlp"].choices = [  # type: ignore[attr-defined]
            ("", _("Default (TLP:AMBER+STRICT or your clearance)")),
            *vocabulary_choices("tlp", leave_out=(TLP.RED,)),
        ]

    def api_data(self) -> dict[str, Any]:
        """The body the API would receive, for its serializer."""
        data = self.cleaned_data
        body: dict[str, Any] = {
            "url": data["url"],
            "description": data["description"],
            "event_types": data["event_types"],
            "notice_types": data["notice_types"],
            "device_classes": data["device_classes"],
            "countries": [code.upper() for code in _listed(data["countries"])],
            "tac_prefixes": _listed(data["tac_prefixes"]),
        }
        if data["max_tlp"]:
            body["max_tlp"] = data["max_tlp"]
        return body


class RecoverForm(forms.Form):
    """`POST /api/v1/subscriptions/{id}/recover/`: the start of the window to requeue."""

    since = forms.DateTimeField(
        label=_("Failed or cancelled since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"since": timezone.localtime() - timedelta(days=1)})
        super().__init__(*args, **kwargs)


def _messages(errors: Any) -> list[str]:
    """A serializer's errors for one field, flattened (list fields answer by index)."""
    if isinstance(errors, Mapping):
        return [text for value in errors.values() for text in _messages(value)]
    if isinstance(errors, list | tuple):
        return [text for value in errors for text in _messages(value)]
    return [str(errors)]


def show_errors(form: forms.Form, errors: Mapping[str, Any]) -> None:
    """Put the API's errors (a serializer's, or an `ApplicationError`'s) at their fields."""
    for field, found in errors.items():
        form.add_error(field if field in form.fields else None, " ".join(_messages(found)))


def show_refusal(form: forms.Form, exc: ApplicationError) -> None:
    if exc.errors:
        show_errors(form, exc.errors)
    else:
        form.add_error(None, str(exc.detail))
