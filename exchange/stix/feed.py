"""The STIX objects a member may receive, as TAXII serves them.

`entries(member)` is the one interface between the STIX mapping (`exchange.stix.mapping`) and the
TAXII server (`exchange.taxii`): every object version the member may see, each with the moment
DIX added it (`date_added`, stable: the TAXII `added_after`/`next` paging relies on it), in
`date_added` order. The TAXII server filters (collection, match[...], added_after) and pages;
the mapping decides what exists and who sees it, through the models' `visible_to` functions.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intel.models import Member


@dataclass(frozen=True)
class Entry:
    stix_id: str  # e.g. "x-dix-device-profile--<uuid5>"
    stix_type: str  # e.g. "report"
    version: str  # the object's `modified` (or `created` when it has none), STIX timestamp
    date_added: datetime  # when this version entered DIX (aware, UTC); never changes
    obj: dict[str, Any]  # the STIX object, JSON-ready


def entries(member: "Member") -> list[Entry]:
    """Every STIX object version `member` may see, sorted by (date_added, stix_id, version)."""
    from exchange.stix.mapping import member_entries

    return member_entries(member)


def window(member: "Member", since: datetime | None, size: int) -> tuple[list[Entry], Any]:
    """Every version of the objects with a version added from `since` up to a cut that the
    answer's span gives (`span.holds(date_added)`), so that a TAXII page is built from about
    `size` objects per source, not from the whole feed (see `exchange.stix.mapping.window`)."""
    from exchange.stix.mapping import window as mapping_window

    return mapping_window(member, since, size)
