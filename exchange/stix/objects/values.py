"""Values the object builders share: STIX timestamps, the feed's epoch, compact properties.

Timestamps are UTC with milliseconds, the precision STIX requires for `created`/`modified`.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

# When DIX's STIX feed begins: `created` of the objects DIX itself authors (its identity, the
# extension definition) and the `date_added` of every fixed object.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

MILLISECOND = timedelta(milliseconds=1)


def to_millis(moment: datetime) -> datetime:
    """UTC, truncated to the millisecond (what a STIX timestamp here can say)."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def timestamp(moment: datetime) -> str:
    moment = to_millis(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def strictly_after(moments: Iterable[datetime], floor: datetime) -> list[datetime]:
    """Millisecond times for successive versions: each one later than the one before and not
    before `floor` (`created`), so two revisions written within a millisecond still get two
    distinct `modified` values. Deterministic: the same rows give the same times."""
    result: list[datetime] = []
    previous = to_millis(floor) - MILLISECOND
    for moment in moments:
        current = max(to_millis(moment), previous + MILLISECOND)
        result.append(current)
        previous = current
    return result


def choice_label(choices: Any, value: str) -> str:
    """The human label of a choice value (the value itself when it is not one)."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def compact(obj: Mapping[str, Any]) -> dict[str, Any]:
    """STIX forbids null and empty lists: leave out what has no value (False stays)."""
    return {k: v for k, v in obj.items() if v is not None and v != "" and v != [] and v != {}}
