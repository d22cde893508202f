"""The seizure report's forms: every field `POST /api/v1/seizures/` takes, with the controlled
lists as choices; the JSON body they make for the API's serializers, the same body read back
from a report (to prefill an amendment and to send only what it changes), and the API's
refusals put at the field they name."""

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ValidationError

from core.errors import ApplicationError
from intel.models import TLP, DeviceProfile, Member, Organisation
from notices.models import PUBLIC_STATES, Notice
from portal.forms import choices_of, field_errors, show_errors

LINES = 3
# How many notices the report form offers to answer: the newest, plus one already chosen.
NOTICE_CHOICES = 100
# List fields the API answers item by item (`tacs_observed.2`): shown at the field itself.
LIST_FIELDS = ("tacs_observed", "recipient_organisations")


def _words(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


class ReportForm(forms.Form):
    seized_on = forms.DateField(
        label=gettext_lazy("Date of the search"), widget=forms.DateInput(attrs={"type": "date"})
    )
    country = forms.CharField(
        label=gettext_lazy("Country (ISO code)"),
        max_length=2,
        required=False,
        help_text=gettext_lazy("Two letters, e.g. FR; empty for your organisation's country."),
    )
    facility_type = forms.ChoiceField(label=gettext_lazy("Facility type"))
    facilities_searched = forms.IntegerField(
        label=gettext_lazy("Facilities searched"), min_value=1, required=False
    )
    detection_method = forms.ChoiceField(label=gettext_lazy("Detection method"), required=False)
    notice = forms.TypedChoiceField(
        label=gettext_lazy("Notice this report answers"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy("Its issuer receives the report."),
    )
    operation = forms.CharField(label=gettext_lazy("Operation"), max_length=200, required=False)
    concealment_method = forms.CharField(
        label=gettext_lazy("How the devices were hidden"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("A few words, never personal data."),
    )
    negative_result = forms.BooleanField(
        label=gettext_lazy("Searched, nothing found (no lines)"), required=False
    )
    tacs_observed = forms.CharField(
        label=gettext_lazy("TACs read on the devices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "The first 8 digits of each IMEI, separated by commas or spaces; never whole IMEIs."
        ),
    )
    cash_amount = forms.DecimalField(
        label=gettext_lazy("Cash seized"), max_digits=14, decimal_places=2, required=False
    )
    cash_currency = forms.CharField(
        label=gettext_lazy("Currency of the cash (ISO code, e.g. EUR)"),
        max_length=3,
        required=False,
    )
    recipient_organisations = forms.MultipleChoiceField(
        label=gettext_lazy("Send the report to"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy(
            "Organisations that receive it; the answered notice's issuer is added. A report "
            "sent stays sent."
        ),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes (no personal data)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Phone numbers, e-mail addresses, IMSIs and full IMEIs are refused."
        ),
    )
    tlp = forms.ChoiceField(label=gettext_lazy("Label"), initial=TLP.GREEN)

    def __init__(self, *args: Any, reporter: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["facility_type"].choices = choices_of("facility_type")
        fields["detection_method"].choices = choices_of("detection_method", blank="—")
        fields["tlp"].choices = [(value, label) for value, label in TLP.choices if value != TLP.RED]
        # The notices the API's serializer accepts (visible) that a report may answer
        # (published: the service refuses a draft).
        # The newest ones, and the one already chosen: a network holds thousands.
        answerable = Notice.objects.visible_to(reporter).filter(status__in=PUBLIC_STATES)
        notices = list(
            answerable.order_by("-published_at", "-id").values_list("id", "reference", "title")[
                :NOTICE_CHOICES
            ]
        )
        chosen = str(self.data.get(self.add_prefix("notice")) or self.initial.get("notice") or "")
        if chosen.isdigit() and int(chosen) not in {pk for pk, _, _ in notices}:
            notices += list(
                answerable.filter(pk=int(chosen)).values_list("id", "reference", "title")
            )
        fields["notice"].choices = [("", "—")] + [
            (pk, f"{reference} — {title}") for pk, reference, title in notices
        ]
        organisations = Organisation.objects.exclude(pk=reporter.organisation_id or 0)
        fields["recipient_organisations"].choices = [
            (slug, f"{name} ({country})" if country else name)
            for slug, name, country in organisations.order_by("name").values_list(
                "slug", "name", "country"
            )
        ]

    def body(self, lines: Any) -> dict[str, Any]:
        """The report as the API's JSON body (values kept as Python types)."""
        data = self.cleaned_data
        body: dict[str, Any] = {
            name: data[name]
            for name in (
                "seized_on",
                "facility_type",
                "facilities_searched",
                "notice",
                "detection_method",
                "operation",
                "concealment_method",
                "negative_result",
                "cash_amount",
                "notes",
                "tlp",
                "recipient_organisations",
            )
        }
        body["tacs_observed"] = _words(data["tacs_observed"])
        body["cash_currency"] = data["cash_currency"].strip().upper()
        if data["country"]:
            body["country"] = data["country"].upper()
        body["lines"] = [line for line in (f.body() for f in lines.forms) if line is not None]
        return body


class AmendForm(ReportForm):
    # The reason first: it names the version, as a commit message does.
    field_order = ["reason"]

    reason = forms.CharField(
        label=gettext_lazy("Why you amend the report"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept with the new version; never personal data."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why you withdraw the report"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown with the report, e.g. a double count."),
    )


class LineForm(forms.Form):
    profile = forms.TypedChoiceField(
        label=gettext_lazy("Device profile"), coerce=int, empty_value=None, required=False
    )
    item_type = forms.CharField(
        label=gettext_lazy("Or an item type without a profile"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("For example: other_mobile_phone."),
    )
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, required=False)

    def __init__(self, *args: Any, profiles: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = [("", "—"), *profiles]  # type: ignore[attr-defined]

    def body(self) -> dict[str, Any] | None:
        """The line as the API takes it; None for a line left empty."""
        data = self.cleaned_data if self.is_valid() else {}
        if not any(data.get(name) for name in ("profile", "item_type", "quantity")):
            return None
        line: dict[str, Any] = {"quantity": data.get("quantity")}
        if data.get("profile") is not None:
            line["profile"] = data["profile"]
        if data.get("item_type"):
            line["item_type"] = data["item_type"]
        return line


LineFormSet = forms.formset_factory(LineForm, extra=LINES, max_num=100)


def profile_choices(member: Member, keep: Collection[int] = ()) -> list[tuple[Any, str]]:
    """The profiles a line may name: current ones the member sees, and those `keep` names (a
    report's lines, retired since) among the profiles they see."""
    visible = DeviceProfile.objects.visible_to(member)
    offered = visible.filter(retired_at__isnull=True) | visible.filter(pk__in=keep)
    return list(offered.order_by("name", "pk").values_list("id", "name"))


def initial_of(report: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The form's and the lines' starting values for a report as `SeizureReportSerializer`
    renders it for the member (so nothing they may not see is prefilled)."""
    initial = {
        name: report[name]
        for name in (
            "seized_on",
            "country",
            "facility_type",
            "facilities_searched",
            "detection_method",
            "operation",
            "concealment_method",
            "negative_result",
            "cash_amount",
            "cash_currency",
            "notes",
            "tlp",
            "recipient_organisations",
        )
    }
    initial["notice"] = report["notice"]["id"] if report["notice"] else None
    initial["tacs_observed"] = ", ".join(report["tacs_observed"])
    lines = [
        {"profile": line["profile"], "item_type": line["item_type"], "quantity": line["quantity"]}
        for line in report["lines"]
    ]
    return initial, lines


def body_of(report: dict[str, Any]) -> dict[str, Any]:
    """A rendered report as the body that would file it again, to compare with a form's."""
    initial, lines = initial_of(report)
    body = {k: v for k, v in initial.items() if k != "tacs_observed"}
    body["tacs_observed"] = list(report["tacs_observed"])
    body["lines"] = [
        {"quantity": line["quantity"]}
        | ({"profile": line["profile"]} if line["profile"] else {"item_type": line["item_type"]})
        for line in lines
    ]
    return body


def _comparable(name: str, value: Any) -> Any:
    if name in ("tacs_observed", "recipient_organisations"):
        return sorted(set(value or []))
    if name == "lines":
        return sorted(sorted(line.items()) for line in value)
    if name == "cash_amount":
        return None if value in (None, "") else Decimal(str(value))
    if name == "seized_on":
        return str(value)
    return value


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields of `after` that differ from `before`: what an amendment sends (a field left
    as it was is not "changed", so the version's audit names only what the desk changed)."""
    return {
        name: value
        for name, value in after.items()
        if _comparable(name, value) != _comparable(name, before.get(name))
    }


def as_json(body: dict[str, Any]) -> dict[str, Any]:
    """The body with dates and amounts as the JSON strings the API's serializer reads."""
    out = dict(body)
    if "seized_on" in out:
        out["seized_on"] = out["seized_on"].isoformat()
    if out.get("cash_amount") is not None:
        out["cash_amount"] = str(out["cash_amount"])
    return out


def show_refusal(
    form: forms.Form,
    exc: ApplicationError | ValidationError,
    lines: list[forms.Form],
    line_errors: list[str],
) -> None:
    """The API's refusal at its fields: the report's, a line's (`lines.1.quantity`, line n
    being the n-th filled line sent), or above the lines."""
    found: dict[str, list[str]] = {}
    for path, messages in field_errors(exc).items():
        head = path.split(".")[0]
        found.setdefault(head if head in LIST_FIELDS else path, []).extend(messages)
    rest = show_errors(form, found, nested=("lines",))
    for path, messages in rest.items():
        parts = path.split(".")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(lines):
            line = lines[int(parts[1])]
            name = parts[2] if len(parts) > 2 and parts[2] in line.fields else None
            line.add_error(name, " ".join(messages))
        else:
            line_errors.extend(messages)
