"""Template helpers of the portal's pages: links that keep the current filters, specification
rows that leave out what is not known, controlled values shown by their label."""

from datetime import date, datetime
from typing import Any

import markdown as markdown_lib
import nh3
from django import template
from django.template.context import Context
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from intel.models import Organisation
from portal import labels

register = template.Library()


@register.filter
def when(value: Any) -> str:
    """A moment (a datetime or the API's RFC 3339 text) in the reader's language and the
    portal's time zone, e.g. "06/12/2026 11:20" in French."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value or "")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


@register.filter
def day(value: Any) -> str:
    """A day (a date, a datetime or the API's ISO text) in the reader's language."""
    if isinstance(value, str):
        value = parse_datetime(value) or parse_date(value) or value
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value).date()
    if not isinstance(value, date):
        return str(value or "")
    return formats.date_format(value, "SHORT_DATE_FORMAT")


@register.filter
def number(value: Any) -> str:
    """A count with the reader's language's digit grouping ("10,000", "10 000")."""
    if not isinstance(value, int):
        return str(value if value is not None else "")
    return formats.number_format(value, use_l10n=True, force_grouping=True)


@register.filter
def organisation_name(slug: str) -> str:
    """An organisation's name for the slug the API gives (organisations are a directory every
    member may read)."""
    found = Organisation.objects.filter(slug=slug).values_list("name", flat=True).first()
    return found or slug


@register.simple_tag(takes_context=True)
def query_with(context: Context, **changes: Any) -> str:
    """The current query string with `changes` applied (a "next page" link keeps filters)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return str(query.urlencode())


@register.simple_tag
def spec(label: str, value: Any, list_name: str = "") -> SafeString | str:
    """One row of a specification list; nothing when the value is not known. With a list's
    name, the value is shown by its label (`vocabulary`)."""
    if value in (None, "", [], "unknown"):
        return ""
    if isinstance(value, bool):
        value = _("yes") if value else _("no")
    elif isinstance(value, str):
        value = vocabulary(value, list_name)
    return format_html("<dt>{}</dt><dd>{}</dd>", label, value)


@register.filter
def dimensions(profile: dict[str, Any]) -> str:
    sizes = [profile.get(name) for name in ("length_mm", "width_mm", "depth_mm")]
    return " × ".join(str(size) for size in sizes) if all(sizes) else ""


@register.filter
def price(profile: dict[str, Any]) -> str:
    amount = profile.get("price_amount")
    return f"{amount} {profile.get('price_currency', '')}".strip() if amount else ""


@register.filter
def vocabulary(value: Any, list_name: str = "") -> str:
    """A controlled value as words: with the list's name (`notice.status|vocabulary:"notice_status"`)
    its label in the member's language (`portal.labels`), else the value spelled out
    (`walk_through_metal_detector`: "Walk through metal detector")."""
    if list_name:
        return labels.label(list_name, value)
    text = str(value)
    if "_" in text and text.islower():
        text = text.replace("_", " ")
        return text[:1].upper() + text[1:]
    return text


@register.filter
def markdown(text: str) -> SafeString:
    """A notice's body: Markdown as HTML, with only harmless tags kept (no scripts, styles,
    event handlers or frames: the author's text is not trusted to be safe)."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S308 - cleaned by nh3


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key)


@register.filter
def total_quantity(lines: list[dict[str, Any]]) -> int:
    """The devices of a report's lines (those the reader may see)."""
    return sum(int(line.get("quantity") or 0) for line in lines)
