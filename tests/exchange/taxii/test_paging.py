"""Filters, version selection and the `next` cursor (exchange.taxii.paging), on plain entries."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.http import QueryDict

from exchange.stix.entry import Entry
from exchange.taxii import paging
from exchange.taxii.errors import InvalidParameter

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def entry(n: int, stix_id: str, version_minutes: int, *, stix_type: str = "report") -> Entry:
    """The n-th entry added (date_added T0 + n seconds), version T0 + `version_minutes`."""
    version = (T0 + timedelta(minutes=version_minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return Entry(
        stix_id=stix_id,
        stix_type=stix_type,
        version=version,
        date_added=T0 + timedelta(seconds=n),
        obj={"type": stix_type, "id": stix_id, "spec_version": "2.1", "modified": version},
    )


def query(**params: str | list[str]) -> paging.Query:
    q = QueryDict(mutable=True)
    for name, value in params.items():
        q.setlist(name, value if isinstance(value, list) else [value])
    return paging.parse_query(q, matches=("id", "type", "version", "spec_version"))


def q(raw: str) -> paging.Query:
    return paging.parse_query(QueryDict(raw), matches=("id", "type", "version", "spec_version"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-05-01T08:00:00Z", T0),
        ("2025-05-01T08:00:00.5Z", T0 + timedelta(microseconds=500000)),
        ("2025-05-01T08:00:00.123456789Z", T0 + timedelta(microseconds=123456)),
        ("2025-05-01T10:00:00+02:00", T0),
        ("2025-05-01T10:00:00 02:00", T0),  # an unencoded "+" arrives as a space
        ("2025-05-01T06:30:00-01:30", T0),
        ("2025-05-01T08:00:00", T0),
    ],
)
def test_timestamps_are_read_leniently(raw: str, expected: datetime) -> None:
    assert paging.parse_timestamp(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "yesterday", "2025-13-01T00:00:00Z", "2025-05-01", "2025-05-01T08:00:00+25:00"]
)
def test_malformed_timestamps_are_refused(raw: str) -> None:
    assert paging.parse_timestamp(raw) is None


def test_taxii_timestamps_have_six_fractional_digits_in_utc() -> None:
    moment = datetime(2025, 5, 1, 10, 0, 0, 120, tzinfo=UTC).astimezone()
    assert paging.taxii_timestamp(moment) == "2025-05-01T10:00:00.000120Z"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "-1"),
        ("limit", "ten"),
        ("limit", "1.5"),
        ("added_after", "last week"),
        ("added_after", ["2025-05-01T08:00:00Z", "2025-05-02T08:00:00Z"]),
        ("match[version]", "newest"),
        ("match[version]", "last,"),
        ("next", "not-a-cursor"),
        ("next", "W10"),  # base64 of "[]"
        ("next", base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode()),
        ("next", base64.urlsafe_b64encode(b'["2025-05-01T08:00:00Z", 1, 2]').decode()),
    ],
)
def test_malformed_parameters_are_a_400_naming_them(name: str, value: str | list[str]) -> None:
    with pytest.raises(InvalidParameter) as refused:
        query(**{name: value})
    assert refused.value.status == 400
    assert refused.value.details == {"parameter": name}


def test_limit_is_capped_and_defaults_to_the_cap() -> None:
    assert query().limit == paging.MAX_PAGE_SIZE
    assert query(limit="5").limit == 5
    assert query(limit=str(paging.MAX_PAGE_SIZE * 10)).limit == paging.MAX_PAGE_SIZE


def test_unknown_match_fields_and_fields_an_endpoint_does_not_take_are_ignored() -> None:
    params = QueryDict("match[foo]=bar&match[type]=report&match[version]=whatever")
    only_spec = paging.parse_query(params, matches=("spec_version",))
    assert only_spec.types is None
    assert only_spec.versions == ("last",)


# Three objects: A with versions at minutes 0, 5, 10; B (a profile) at 1; C at 2 and 7.
A1, B1, C1 = (
    entry(1, "report--a", 0),
    entry(2, "x-dix-device-profile--b", 1, stix_type="x-dix-device-profile"),
    entry(3, "report--c", 2),
)
A2, C2, A3 = entry(4, "report--a", 5), entry(5, "report--c", 7), entry(6, "report--a", 10)
ALL = [A1, B1, C1, A2, C2, A3]


def test_version_last_is_the_default() -> None:
    assert paging.select(ALL, query()) == [B1, C2, A3]


def test_version_first_all_and_exact_timestamps() -> None:
    assert paging.select(ALL, query(**{"match[version]": "first"})) == [A1, B1, C1]
    assert paging.select(ALL, query(**{"match[version]": "all"})) == ALL
    assert paging.select(ALL, query(**{"match[version]": "first,last"})) == [A1, B1, C1, C2, A3]
    exact = "2025-05-01T08:05:00Z"  # A2's version, written without milliseconds
    assert paging.select(ALL, query(**{"match[version]": exact})) == [A2]


def test_match_id_type_and_spec_version() -> None:
    assert paging.select(ALL, q("match[id]=report--a,report--c&match[version]=all")) == [
        A1,
        C1,
        A2,
        C2,
        A3,
    ]
    assert paging.select(ALL, q("match[type]=x-dix-device-profile")) == [B1]
    assert paging.select(ALL, q("match[type]=indicator")) == []
    assert paging.select(ALL, q("match[spec_version]=2.0")) == []
    assert paging.select(ALL, q("match[spec_version]=2.0,2.1")) == [B1, C2, A3]


def test_added_after_is_strict_and_about_date_added() -> None:
    everything = query(**{"match[version]": "all"})
    after = query(**{"match[version]": "all", "added_after": "2025-05-01T08:00:04Z"})
    assert paging.page(paging.select(ALL, everything), after).items == [C2, A3]


def test_version_first_is_the_objects_first_version_not_the_first_after_added_after() -> None:
    first = query(**{"match[version]": "first", "added_after": "2025-05-01T08:00:02Z"})
    assert paging.page(paging.select(ALL, first), first).items == [C1]


def pages(entries: list[Entry], limit: int, inserts: dict[int, list[Entry]]) -> list[Entry]:
    """Everything a client receives following `next`, with `inserts[i]` added to the feed
    after its i-th page."""
    received: list[Entry] = []
    feed = list(entries)
    cursor: str | None = None
    for number in range(1, 100):
        params = {"limit": str(limit), "match[version]": "all"}
        if cursor:
            params["next"] = cursor
        current = query(**params)
        result = paging.page(paging.select(feed, current), current)
        received += result.items
        assert (result.next is not None) == result.more
        feed += inserts.get(number, [])
        if not result.more:
            return received
        cursor = result.next
    raise AssertionError("paging never ended")


def test_paging_with_next_neither_skips_nor_repeats_under_inserts() -> None:
    late = [entry(100 + i, f"report--late{i}", 20 + i) for i in range(5)]
    received = pages(ALL, 2, {1: late[:2], 2: late[2:]})
    assert received == ALL + late


def test_entries_sharing_a_date_added_are_paged_by_id_and_version() -> None:
    same = [
        entry(0, f"marking-definition--{n}", 0, stix_type="marking-definition") for n in "edcba"
    ]
    received = pages(same, 2, {})
    assert [e.stix_id[-1] for e in received] == list("abcde")


def test_a_cursor_from_a_previous_page_stays_valid() -> None:
    first = paging.page(paging.select(ALL, query(limit="2")), query(limit="2"))
    assert first.more
    assert first.next
    again = query(limit="2", next=first.next)
    second = paging.page(paging.select(ALL, again), again)
    assert second.items == [A3]
    assert not second.more
    assert second.next is None
