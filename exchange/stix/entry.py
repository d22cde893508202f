"""One STIX object version as the feed serves it (`exchange.stix.feed`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Entry:
    stix_id: str  # e.g. "x-dix-device-profile--<uuid5>"
    stix_type: str  # e.g. "report"
    version: str  # the object's `modified` (or `created` when it has none), STIX timestamp
    date_added: datetime  # when this version entered DIX (aware, UTC); never changes
    obj: dict[str, Any]  # the STIX object, JSON-ready
