"""Bulk IMEI checks: normalising IMEIs, their Luhn check digit, and matching their TACs
against the device profiles a member may see (DESIGN.md §3, docs/imei-checks.md).

An IMEI is TAC (8 digits) + serial number (6) + a Luhn check digit (1). Networks often report
the first 14 digits only; an IMEISV is TAC + serial + a 2-digit software version (16 digits,
no check digit). All three identify the device model by their TAC, which is what a profile's
`tac` and `tac_range` identifiers hold (as an inclusive interval of 8-digit strings).

Raw IMEIs are personal data of whoever holds the phone: they are answered and forgotten. The
only trace of a check is one audit event with its counts and a SHA-256 digest of the
normalised list (`imei_check_perform`).
"""

import hashlib
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from core.errors import ApplicationError
from intel import audit
from intel.models.children import Identifier, IdentifierKind
from intel.models.profiles import DeviceProfile

if TYPE_CHECKING:
    from intel.models.network import Member

MAX_ITEMS = 100_000

# What people put between digit groups when they copy an IMEI from a label, a box or a form.
SEPARATORS = " \t-./"
_SEPARATOR_BYTES = SEPARATORS.encode()
# The digit sum of twice each digit (Luhn's doubled positions): 7 → 14 → 1 + 4 = 5.
_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")
_ZERO = ord("0")

# Distinct input TACs per exact-TAC query (see `_exact_matches`).
TAC_CHUNK = 5_000

IMEI = "imei"
IMEISV = "imeisv"

BAD_CHECK_DIGIT = "bad_check_digit"
WRONG_LENGTH = "wrong_length"
NON_DIGIT_CHARACTERS = "non_digit_characters"
REASONS = {
    BAD_CHECK_DIGIT: "15 digits whose last (the Luhn check digit) does not match the first 14.",
    WRONG_LENGTH: "Not 14 or 15 digits (IMEI) nor 16 (IMEISV) once separators are removed.",
    NON_DIGIT_CHARACTERS: "Characters other than the digits 0-9 and the separators "
    "(space, tab, hyphen, dot, slash), including digits of other scripts.",
}


class TooManyImeis(ApplicationError):
    """More items than one check takes."""

    status = 413
    slug = "too-many-imeis"
    title = "Too many IMEIs in one check"


class Checked(NamedTuple):
    """One item once normalised: `kind` is imei or imeisv and `value` its normalised digits
    (an IMEI always with its 15th, check digit) when valid; `reason` says why when not."""

    kind: str | None
    value: str | None
    reason: str | None


_NON_DIGIT = Checked(None, None, NON_DIGIT_CHARACTERS)
_WRONG_LENGTH = Checked(None, None, WRONG_LENGTH)
_BAD_CHECK_DIGIT = Checked(None, None, BAD_CHECK_DIGIT)


def luhn_check_digit(body: bytes) -> int:
    """The check digit (0-9) completing the 14 ASCII digits `body` into a 15-digit IMEI.

    Counted from the right of the full IMEI every second digit, that is positions 1, 3, …, 13
    of the body, is doubled and its digits summed. The sums run over bytes in C rather than
    over digits in Python: this runs 100,000 times a check."""
    total = sum(body[0:14:2]) + sum(body[1:14:2].translate(_DOUBLED)) - _ZERO * 14
    return -total % 10


def normalise(raw: str) -> Checked:
    """One IMEI as a desk typed or pasted it: separators removed, then judged by its length.

    15 digits: a valid check digit is required. 14: the check digit is computed (what networks
    report). 16: an IMEISV, kept whole (it has no check digit). Only ASCII digits count: a
    string of Arabic-Indic or full-width digits is refused like any other character, as
    everywhere in DIX (`\\d` and `str.isdigit` would take them). Bytes, not str, for speed:
    `str.isascii` is O(1), and `bytes.translate` and `bytes.isdigit` know only ASCII."""
    if not raw.isascii():
        return _NON_DIGIT  # separators are ASCII: any other character is refused
    digits = raw.encode().translate(None, _SEPARATOR_BYTES)
    if not digits.isdigit():
        return _NON_DIGIT if digits else _WRONG_LENGTH
    length = len(digits)
    if length == 15:
        if luhn_check_digit(digits) != digits[14] - _ZERO:
            return _BAD_CHECK_DIGIT
        return Checked(IMEI, digits.decode(), None)
    if length == 14:
        return Checked(IMEI, f"{digits.decode()}{luhn_check_digit(digits)}", None)
    if length == 16:
        return Checked(IMEISV, digits.decode(), None)
    return _WRONG_LENGTH


def digest(checked: Iterable[Checked]) -> str:
    """SHA-256 (hex) of the valid items' normalised forms in input order, each followed by a
    newline: what `sha256sum` prints for a file of those lines, so that a desk holding the
    list can show later that this was the list checked, without DIX keeping it."""
    lines = [c.value for c in checked if c.value]
    return hashlib.sha256(("\n".join(lines) + "\n" if lines else "").encode()).hexdigest()


# --- Matching -------------------------------------------------------------------------------
#
# What "memory does not grow with the number of profiles" means here: a check never loads the
# profiles (or all of their TAC intervals) it is checked against. It asks the database with
# the *input's* distinct TACs and gets back only the (TAC, profile) pairs that match:
#
# - exact TACs (`kind=tac`, start == end) by an indexed `tac_start IN (…)` lookup of the
#   input's distinct TACs: cost grows with the input, not with the profiles;
# - TAC ranges by a sweep: the visible ranges that overlap [lowest, highest input TAC] are
#   streamed from a server-side cursor in start order while the sorted input TACs are walked,
#   and only the ranges open at the current TAC are held (a heap ordered by end). Memory is
#   the ranges overlapping one TAC; time is one pass over the overlapping ranges.
#
# Visibility is the database's `DeviceProfile.objects.visible_to(member)` as a subquery in
# both queries, so a profile the member may not see is never read into Python at all.


def match_tacs(member: "Member", tacs: Iterable[str]) -> dict[str, list[int]]:
    """For each of `tacs` (8 ASCII digits) that matches at least one profile visible to
    `member` by a TAC or an inclusive TAC range: the ids of those profiles, ascending."""
    points = sorted(set(tacs))
    if not points:
        return {}
    visible = DeviceProfile.objects.visible_to(member).values("id")
    found: dict[str, set[int]] = {}
    for tac, profile_id in _exact_matches(visible, points):
        found.setdefault(tac, set()).add(profile_id)
    for tac, profile_id in _range_matches(visible, points):
        found.setdefault(tac, set()).add(profile_id)
    return {tac: sorted(ids) for tac, ids in found.items()}


def _exact_matches(visible: Any, points: list[str]) -> Iterator[tuple[str, int]]:
    # Chunks keep the placeholders of `IN (…)` under SQLite's (32,766) and PostgreSQL's
    # (65,535) limits. (One array parameter, `= ANY(%s)`, gains nothing on PostgreSQL: the
    # driver binds it client-side as a literal all the same.)
    for offset in range(0, len(points), TAC_CHUNK):
        yield from Identifier.objects.filter(
            kind=IdentifierKind.TAC,
            tac_start__in=points[offset : offset + TAC_CHUNK],
            profile_id__in=visible,
        ).values_list("tac_start", "profile_id")


def _range_matches(visible: Any, points: list[str]) -> Iterator[tuple[str, int]]:
    ranges = (
        Identifier.objects.filter(
            kind=IdentifierKind.TAC_RANGE,
            tac_start__lte=points[-1],
            tac_end__gte=points[0],
            profile_id__in=visible,
        )
        .order_by("tac_start")
        .values_list("tac_start", "tac_end", "profile_id")
        .iterator(chunk_size=2000)
    )
    open_ranges: list[tuple[str, int]] = []  # (tac_end, profile_id), a heap by end
    index = 0

    def matches_before(limit: str | None) -> Iterator[tuple[str, int]]:
        """Every input TAC below `limit` (all when None) against the ranges open there."""
        nonlocal index
        while index < len(points) and (limit is None or points[index] < limit):
            tac = points[index]
            while open_ranges and open_ranges[0][0] < tac:
                heapq.heappop(open_ranges)
            for _end, profile_id in open_ranges:
                yield tac, profile_id
            index += 1

    for start, end, profile_id in ranges:
        yield from matches_before(start)
        heapq.heappush(open_ranges, (end, profile_id))
    yield from matches_before(None)


# --- The service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImeiCheck:
    """The answer to one check: every item in input order, the matching profiles per TAC,
    the summary counts and the digest recorded in the audit trail."""

    inputs: Sequence[str]
    checked: list[Checked]
    matches: dict[str, list[int]]
    profiles: Sequence[Mapping[str, Any]]
    count: int
    valid: int
    invalid: int
    matched: int
    digest: str


def imei_check_perform(*, member: "Member", imeis: Sequence[str], source: str) -> ImeiCheck:
    """Check up to `MAX_ITEMS` IMEIs (14 or 15 digits) or IMEISVs (16) against the profiles
    `member` may see, and record one `imei_check.performed` audit event: counts, the digest
    and the matched profiles' ids — never an IMEI."""
    if len(imeis) > MAX_ITEMS:
        raise TooManyImeis(
            f"At most {MAX_ITEMS:,} IMEIs per check; this one has {len(imeis):,}. Split the list.",
            errors={"imeis": [f"At most {MAX_ITEMS:,} items."]},
        )
    checked = [normalise(raw) for raw in imeis]
    matches = match_tacs(member, (c.value[:8] for c in checked if c.value))
    valid = sum(1 for c in checked if c.value)
    matched = sum(1 for c in checked if c.value and c.value[:8] in matches)
    profile_ids = sorted({pid for ids in matches.values() for pid in ids})
    profiles = list(
        DeviceProfile.objects.filter(id__in=profile_ids)
        .order_by("id")
        .values("id", "name", "tlp", "device_class", "retired_at")
    )
    result = ImeiCheck(
        inputs=imeis,
        checked=checked,
        matches=matches,
        profiles=profiles,
        count=len(checked),
        valid=valid,
        invalid=len(checked) - valid,
        matched=matched,
        digest=digest(checked),
    )
    audit.record(
        action="imei_check.performed",
        actor=member,
        object_type="imei_check",
        detail={
            "source": source,
            "count": result.count,
            "valid": result.valid,
            "invalid": result.invalid,
            "matched": result.matched,
            "sha256": result.digest,
            "profiles": profile_ids,
        },
    )
    return result
