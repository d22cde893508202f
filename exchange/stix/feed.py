"""The STIX objects a member may receive, as TAXII serves them.

`entries(member)` is the one interface between the STIX mapping (`exchange.stix.mapping`) and the
TAXII server (`exchange.taxii`): every object version the member may see, each with the moment
DIX added it (`date_added`, stable: the TAXII `added_after`/`next` paging relies on it), in
`date_added` order. The TAXII server filters (collection, match[...], added_after) and pages;
the mapping decides what exists and who sees it, through the models' `visible_to` functions.
"""

from datetime import datetime

from exchange.stix.entry import Entry
from exchange.stix.mapping import named
from exchange.stix.mapping.export import member_entries
from exchange.stix.mapping.named import Named
from exchange.stix.mapping.window import Span
from exchange.stix.mapping.window import window as mapping_window
from intel.models import Member


def entries(member: Member) -> list[Entry]:
    """Every STIX object version `member` may see, sorted by (date_added, stix_id, version)."""
    return member_entries(member)


def window(member: Member, since: datetime | None, size: int) -> tuple[list[Entry], Span]:
    """Every version of the objects with a version added from `since` up to a cut that the
    answer's span gives (`span.holds(date_added)`), so that a TAXII page is built from about
    `size` objects per source, not from the whole feed (`exchange.stix.mapping.window`)."""
    return mapping_window(member, since, size)


def hidden_behind(stix_id: str, member: Member) -> Named | None:
    """The object behind a STIX id that `member` may not see (for the audit trail of a
    refused read), or None (`exchange.stix.mapping.named`)."""
    return named.hidden_behind(stix_id, member)
