"""The profile editor's forms: the profile's fields with the controlled lists of the vocabulary
service as choices, a formset per child list, the JSON body they make for the API's write
serializer, and that serializer's errors put back at the field they name."""

from typing import Any

from django import forms
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.translation import gettext_lazy as _

from core.vocabularies import vocabularies
from intel.models import TLP, DeviceProfile, Member, Organisation
from intel.models.profiles import GSM_BANDS

BLANK = [("", "—")]
YES_NO = [("", _("Not known")), ("true", _("Yes")), ("false", _("No"))]
NUMBERS = (
    "length_mm",
    "width_mm",
    "depth_mm",
    "weight_g",
    "sim_slots",
    "battery_mah",
    "talk_time_min",
    "phonebook_capacity",
    "price_amount",
)
TEXTS = ("name", "manufacturer_country", "price_currency", "notes", "request_summary")
CHOICES = ("device_class", "housing_material", "metal_content", "tlp")
# An empty child row (every field blank) is no row: a form shows a few for adding.
EXTRA_ROWS = 2
# How many profiles the parent field suggests; any other visible profile's number is accepted.
PARENT_SUGGESTIONS = 100


def choices(name: str, *, blank: bool = True) -> list[tuple[str, str]]:
    """A controlled list's values and labels, as `GET /api/v1/vocabularies/` lists them."""
    for found in vocabularies():
        if found.name == name:
            values = [(v.value, v.label) for v in found.values]
            return BLANK + values if blank else values
    raise LookupError(name)


def _text(label: Any, *, area: bool = False, **attrs: Any) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 3, **attrs}) if area else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, required=False, widget=widget)


class ProfileForm(forms.Form):
    """A profile's own fields. Every check is the API's (`DeviceProfileWriteSerializer`): this
    form only collects the values."""

    name = _text(_("Name"))
    aliases = _text(_("Other names (one a line)"), area=True)
    device_class = forms.ChoiceField(label=_("Class"), required=False)
    manufacturer_country = _text(_("Manufacturer country (ISO code, e.g. CN)"), maxlength=2)
    length_mm = _text(_("Length (mm)"))
    width_mm = _text(_("Width (mm)"))
    depth_mm = _text(_("Depth (mm)"))
    weight_g = _text(_("Weight (g)"))
    housing_material = forms.ChoiceField(label=_("Housing"), required=False)
    metal_content = forms.ChoiceField(label=_("Metal content"), required=False)
    network_technologies = forms.MultipleChoiceField(
        label=_("Networks"), required=False, widget=forms.CheckboxSelectMultiple
    )
    gsm_bands = forms.MultipleChoiceField(
        label=_("GSM bands (MHz)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(str(band), str(band)) for band in GSM_BANDS],
    )
    bluetooth = forms.ChoiceField(label=_("Bluetooth"), required=False, choices=YES_NO)
    voice_changer = forms.ChoiceField(label=_("Voice changer"), required=False, choices=YES_NO)
    sim_slots = _text(_("SIM slots"))
    battery_mah = _text(_("Battery (mAh)"))
    talk_time_min = _text(_("Talk time (min)"))
    phonebook_capacity = _text(_("Phonebook capacity"))
    price_amount = _text(_("Price"))
    price_currency = _text(_("Currency (ISO code, e.g. EUR)"), maxlength=3)
    legal_status = _text(_("Legal status (one country a line: FR: banned)"), area=True)
    notes = _text(_("Notes (never personal data)"), area=True)
    request_summary = _text(_("Summary for those who may request it"))
    tlp = forms.ChoiceField(label=_("Label"), required=False)
    recipient_organisations = forms.MultipleChoiceField(
        label=_("Recipient organisations (TLP:AMBER and AMBER+STRICT)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    recipient_members = forms.CharField(
        label=_("Named members (TLP:RED)"),
        required=False,
        help_text=_(
            "User names separated by commas or spaces: the members who receive a TLP:RED "
            "profile, each cleared for TLP:RED."
        ),
    )
    # A profile number the API's serializer checks (a profile the author sees, not the
    # profile itself or one of its variants): no second rule here. The suggestions are a
    # bounded list, as a network holds thousands of profiles.
    parent = forms.CharField(
        label=_("Variant of (the family's profile number)"),
        required=False,
        widget=forms.TextInput(
            attrs={"list": "parent-choices", "inputmode": "numeric", "autocomplete": "off"}
        ),
        help_text=_(
            "The number in the family profile's address (/profiles/<number>/), among the "
            "profiles you may see; empty for a model of its own."
        ),
    )

    def __init__(
        self, *args: Any, author: Member, editing: DeviceProfile | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["device_class"].choices = choices("device_class")
        fields["housing_material"].choices = choices("housing_material")
        fields["metal_content"].choices = choices("metal_content")
        fields["network_technologies"].choices = choices("network_technology", blank=False)
        # The label chooser offers what the author is cleared for, nothing above.
        fields["tlp"].choices = [
            (v, label)
            for v, label in choices("tlp", blank=False)
            if v in TLP.at_most(author.clearance)
        ]
        organisations = Organisation.objects.exclude(pk=author.organisation_id or 0).order_by(
            "name"
        )
        fields["recipient_organisations"].choices = [(o.slug, o.name) for o in organisations]
        parents = DeviceProfile.objects.visible_to(author).exclude(pk=editing.pk if editing else 0)
        # The author's own organisation's profiles first (families are mostly filed by the
        # desk that files their variants), then the newest others.
        own = Q(owner_id=author.organisation_id or 0)
        self.parent_suggestions = [
            (str(pk), f"{name} ({tlp})")
            for pk, name, tlp in parents.annotate(own=ExpressionWrapper(own, BooleanField()))
            .order_by("-own", "-pk")
            .values_list("pk", "name", "tlp")[:PARENT_SUGGESTIONS]
        ]

    def body(self) -> dict[str, Any]:
        data = self.cleaned_data
        body: dict[str, Any] = {name: data[name] for name in TEXTS}
        for name in CHOICES:
            body[name] = data[name]
        for name in NUMBERS:
            body[name] = data[name].strip() or None
        for name in ("bluetooth", "voice_changer"):
            body[name] = {"true": True, "false": False}.get(data[name])
        body["aliases"] = [line.strip() for line in data["aliases"].splitlines() if line.strip()]
        body["network_technologies"] = data["network_technologies"]
        body["gsm_bands"] = [int(band) for band in data["gsm_bands"]]
        legal: dict[str, str] = {}
        for line in data["legal_status"].splitlines():
            country, _colon, status = line.partition(":")
            if line.strip():
                legal[country.strip().upper()] = status.strip()
        body["legal_status"] = legal
        body["recipient_organisations"] = data["recipient_organisations"]
        body["recipient_members"] = data["recipient_members"].replace(",", " ").split()
        body["parent"] = data["parent"].strip() or None
        return body


def initial_of(profile: DeviceProfile, author: Member) -> dict[str, Any]:
    """The editor's starting values for a stored profile, as `author` reads it (a parent they
    may not see is not shown, and kept when they save)."""

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    initial: dict[str, Any] = {name: text(getattr(profile, name)) for name in TEXTS + CHOICES}
    initial |= {name: text(getattr(profile, name)) for name in NUMBERS}
    for name in ("bluetooth", "voice_changer"):
        value = getattr(profile, name)
        initial[name] = "" if value is None else ("true" if value else "false")
    initial["aliases"] = "\n".join(profile.aliases)
    initial["network_technologies"] = list(profile.network_technologies)
    initial["gsm_bands"] = [str(band) for band in profile.gsm_bands]
    initial["legal_status"] = "\n".join(f"{k}: {v}" for k, v in profile.legal_status.items())
    initial["recipient_organisations"] = [o.slug for o in profile.recipient_organisations.all()]
    initial["recipient_members"] = ", ".join(
        profile.recipient_members.order_by("username").values_list("username", flat=True)
    )
    seen = DeviceProfile.objects.visible_to(author).filter(pk=profile.parent_id or 0).exists()
    initial["parent"] = str(profile.parent_id) if seen else ""
    return initial


def _values(form: forms.Form) -> dict[str, Any]:
    """A child row's values, without the formset's own "remove" box."""
    return {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}


class IdentifierForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    value = _text(_("Value"))
    range_start = _text(_("Range start (TAC range)"))
    range_end = _text(_("Range end (TAC range)"))
    note = _text(_("Note"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = choices("identifier_kind")  # type: ignore[attr-defined]

    def item(self) -> dict[str, Any]:
        data = self.cleaned_data
        item = {"kind": data["kind"], "note": data["note"]}
        if data["kind"] == "tac_range":
            return item | {"range_start": data["range_start"], "range_end": data["range_end"]}
        extra = {k: data[k] for k in ("range_start", "range_end") if data[k]}
        return item | {"value": data["value"]} | extra


class SignatureForm(forms.Form):
    method = forms.ChoiceField(label=_("Detection method"), required=False)
    expected_outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    evidence = _text(_("Evidence"), area=True)
    reliability_note = _text(_("Reliability"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = choices("detection_method")  # type: ignore[attr-defined]
        self.fields["expected_outcome"].choices = choices("expected_outcome")  # type: ignore[attr-defined]

    def item(self) -> dict[str, Any]:
        return _values(self)


class ConcealmentForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    vector = forms.ChoiceField(label=_("Vector"), required=False)
    description = _text(_("Description (never personal data)"), area=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = choices("concealment_stage")  # type: ignore[attr-defined]
        self.fields["vector"].choices = choices("concealment_vector")  # type: ignore[attr-defined]

    def item(self) -> dict[str, Any]:
        return _values(self)


class SupplierForm(forms.Form):
    name = _text(_("Company name"))
    role = forms.ChoiceField(label=_("Role"), required=False)
    country = _text(_("Country (ISO code)"), maxlength=2)
    locality = _text(_("Town or area"))
    status = _text(_("Status"))
    notes = _text(_("Notes"), area=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = choices("supplier_role")  # type: ignore[attr-defined]

    def item(self) -> dict[str, Any]:
        return _values(self) | {"sales_channels": []}


class ChannelForm(forms.Form):
    """A sales channel, tied to a supplier row by its number (as shown: "Supplier 1")."""

    supplier = forms.IntegerField(label=_("Supplier number"), required=False, min_value=1)
    kind = forms.ChoiceField(label=_("Channel"), required=False)
    platform = _text(_("Platform"))
    address = _text(_("Address (URL or handle)"))
    status = _text(_("Status"))
    notes = _text(_("Notes"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = choices("sales_channel_kind")  # type: ignore[attr-defined]

    def item(self) -> dict[str, Any]:
        return {k: v for k, v in _values(self).items() if k != "supplier"}


SECTIONS: dict[str, type[forms.Form]] = {
    "identifiers": IdentifierForm,
    "detection_signatures": SignatureForm,
    "concealment_methods": ConcealmentForm,
    "suppliers": SupplierForm,
    "sales_channels": ChannelForm,
}


def formset_class(section: str) -> type[forms.BaseFormSet[Any]]:
    return forms.formset_factory(SECTIONS[section], extra=EXTRA_ROWS, can_delete=True)


# Each child section's heading and the name of one of its rows.
SECTION_TITLES = {
    "identifiers": (_("Identifiers"), _("Identifier")),
    "detection_signatures": (_("Detection signatures"), _("Detection signature")),
    "concealment_methods": (_("Concealment methods"), _("Concealment method")),
    "suppliers": (_("Suppliers"), _("Supplier")),
    "sales_channels": (_("Sales channels (each names its supplier's number)"), _("Sales channel")),
}


def sections(formsets: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """What the editor lists: each section's name, heading, row name and formset."""
    return [(name, *SECTION_TITLES[name], formsets[name]) for name in SECTIONS]
