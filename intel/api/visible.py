"""The object a detail URL names, among those the member may see: 404 otherwise, and a refused
read of an object that exists is recorded (`read.denied`, docs/audit.md).

Every detail view of a shareable object finds it through `get_visible_or_404` (or, where it
only checks, `refuse_read` on a miss), so probing ids leaves a trace: one event per member,
object and hour, however often the same id is tried. A miss costs one more query, on the
unrestricted manager, to tell "exists but hidden" from "absent"; a hit costs nothing extra.
The member is answered 404 either way and never learns which it was.
"""

from typing import Any, NoReturn, TypeVar

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import NotFound
from intel import audit
from intel.models import Member

M = TypeVar("M", bound=models.Model)

DENIED = "read.denied"


def get_visible_or_404(
    visible: QuerySet[M], pk: int, *, member: Member, object_type: str, **lookups: Any
) -> M:
    """The row `pk` (with `lookups`, e.g. the profile an attachment belongs to) of `visible`,
    the member's `visible_to` queryset; else 404, recording the refusal if the row exists."""
    found = visible.filter(pk=pk, **lookups).first()
    if found is None:
        refuse_read(visible.model, pk, member=member, object_type=object_type, **lookups)
    return found


def refuse_read(
    model: type[models.Model], pk: int, *, member: Member, object_type: str, **lookups: Any
) -> NoReturn:
    """404 for an object the member may not see; recorded when it exists (for anyone)."""
    record_refused_read(model, pk, member=member, object_type=object_type, **lookups)
    raise NotFound("Not found.")


def record_refused_read(
    model: type[models.Model], pk: int, *, member: Member, object_type: str, **lookups: Any
) -> None:
    """Record `read.denied` when the row exists, once per member, object and hour; for
    interfaces that answer the refusal in their own format (TAXII)."""
    if not isinstance(member, Member) or member.pk is None:
        return
    existing = model._default_manager.filter(pk=pk, **lookups)
    has_label = any(field.name == "tlp" for field in model._meta.concrete_fields)
    row = existing.values_list("tlp" if has_label else "pk", flat=True).first()
    if row is None:
        return
    now = timezone.now()
    audit.record_once(
        since=now.replace(minute=0, second=0, microsecond=0),
        action=DENIED,
        actor=member,
        object_type=object_type,
        object_id=pk,
        object_tlp=str(row) if has_label else "",
    )
