"""Which DIX object a STIX id names, so that a refused TAXII read is recorded as the API's are
(`read.denied`, docs/audit.md).

DIX's STIX ids are uuid5 hashes of a type and database ids (`objects.ids`): they cannot be
read back, so an id is matched by hashing the candidates of its type. Only the ids that stand
for one shareable object are matched: a device profile (`x-dix-device-profile` and its
`indicator`), a notice (`report`, in the view that leaves nothing out: the id of a view that
hides profiles is keyed with the deployment's secret and the hidden profiles, and is not
searched for) and a seizure line (`sighting`: its report, then its profile). Identities,
places, markings, relationships and suppliers name no object of their own: None. Asked only
when the member's feed lacks the id, so a read that succeeds costs nothing.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models

from exchange.stix.objects import ids
from intel.models import DeviceProfile, Member
from notices.models import PUBLIC_STATES, Notice
from seizures.models import SeizureLine, SeizureReport

CHUNK = 5000


@dataclass(frozen=True)
class Named:
    """One object behind a STIX id, as the audit trail names it."""

    model: type[models.Model]
    pk: int
    object_type: str

    def visible_to(self, member: Member) -> bool:
        manager = self.model._default_manager
        visible = manager.visible_to(member)  # type: ignore[attr-defined]
        return bool(visible.filter(pk=self.pk).exists())


def hidden_behind(stix_id: str, member: Member) -> Named | None:
    """The first object behind `stix_id` that `member` may not see, or None: the id names
    nothing of DIX's, or only what the member sees (an object outside the collection, a
    version filtered out, a withdrawn report's sighting)."""
    for named in _named(stix_id):
        if not named.visible_to(member):
            return named
    return None


def _named(stix_id: str) -> list[Named]:
    stix_type, _, rest = stix_id.partition("--")
    try:
        wanted = uuid.UUID(rest)
    except ValueError:
        return []
    if stix_id != f"{stix_type}--{wanted}":  # not as DIX writes its ids (case, braces)
        return []
    match stix_type:
        case ids.PROFILE_TYPE:
            found = _match(stix_type, wanted, _pks(DeviceProfile), lambda pk: f"{pk}")
            return [Named(DeviceProfile, found, "profile")] if found is not None else []
        case "indicator":
            found = _match(stix_type, wanted, _pks(DeviceProfile), lambda pk: f"profile:{pk}")
            return [Named(DeviceProfile, found, "profile")] if found is not None else []
        case "report":
            published = Notice.objects.filter(status__in=PUBLIC_STATES)
            found = next((pk for pk in _pks(Notice, published) if _report(pk) == stix_id), None)
            return [Named(Notice, found, "notice")] if found is not None else []
        case "sighting":
            found = _match(stix_type, wanted, _pks(SeizureLine), lambda pk: f"seizure-line:{pk}")
            if found is None:
                return []
            line = SeizureLine.objects.filter(pk=found).values("report_id", "profile_id").get()
            named = [Named(SeizureReport, line["report_id"], "seizure_report")]
            if line["profile_id"] is not None:
                named.append(Named(DeviceProfile, line["profile_id"], "profile"))
            return named
    return []


def _pks(model: type[models.Model], rows: "models.QuerySet[Any] | None" = None) -> Iterator[int]:
    query = rows if rows is not None else model._default_manager.all()
    return iter(query.order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK))


def _match(
    stix_type: str, wanted: uuid.UUID, pks: Iterable[int], key: Callable[[int], str]
) -> int | None:
    """The pk whose id (`ids.stix_id(stix_type, key(pk))`) is `wanted`. A uuid5's
    first six bytes are the SHA-1's own: compared first, so most candidates cost one hash."""
    prefix = ids.namespace().bytes + f"{stix_type}:".encode()
    head = wanted.bytes[:6]
    expected = f"{stix_type}--{wanted}"
    for pk in pks:
        if hashlib.sha1(prefix + key(pk).encode(), usedforsecurity=False).digest()[:6] != head:
            continue
        if ids.stix_id(stix_type, key(pk)) == expected:
            return pk
    return None


def _report(notice_pk: int) -> str:
    return ids.report_id(notice_pk, "")
