"""Spotting personal data in free text that holds device data, not people: seizure report
notes, acknowledgement comments.

DESIGN.md §3: an inmate's or a courier's phone number, e-mail address or SIM identity has no
place in DIX. `find_personal_data(text)` returns what it found first, or None;
`refuse_personal_data(field, text, holds=...)` refuses the field with a 400 naming it.

What counts:
- an e-mail address;
- a phone number: international (`+33 6 12 34 56 78`, `0033 6 12 34 56 78`, `+1 (202)
  555-0143`) or national with a trunk zero (`0612345678`, `06 12 34 56 78`, `06.12.34.56.78`,
  `020 7946 0958`, `0170/1234567`);
- an IMSI-like number: 15 digits in a row starting with a mobile country code (2xx to 7xx);
- a full IMEI (15 digits with a valid Luhn check digit): DIX keeps no raw IMEIs, only TACs.

What must pass, because reports are full of it: dates (`2025-05-20`, `20/05/2025`,
`20.05.2025`), quantities and amounts (`88`, `70 000`, `70,000.00`), 8-digit TACs
(`00999900`, `35123456`, also several in a row or as a range `00999900-00999999`).

Numbers are judged as whole runs — digit groups joined by one separator (space, dot, hyphen,
slash) or parentheses — never as pieces of a longer run, so a TAC range is not mistaken for a
phone number hidden inside it.
"""

import re
from dataclasses import dataclass

from core.errors import FieldInvalid

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A run of digit groups: an optional leading `+`, groups of ASCII digits (\d would take any
# script's digits), each joined to the next by at most one separator and parentheses.
RUN = re.compile(r"(?<![0-9+.,])(\+\s?)?\(?[0-9]+\)?(?:[ .\-/]?\(?[0-9]+\)?)*")
GROUP = re.compile(r"[0-9]+")
SEPARATOR = re.compile(r"[0-9]+([^0-9]*)")
FIFTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{15}(?![0-9])")

PHONE = "phone"
EMAIL_ADDRESS = "email"
IMSI_LIKE = "imsi"
IMEI = "imei"

REASONS = {
    PHONE: "a phone number",
    EMAIL_ADDRESS: "an e-mail address",
    IMSI_LIKE: "an IMSI-like number (15 digits starting with a mobile country code)",
    IMEI: "a full IMEI (DIX keeps no raw IMEIs: give its TAC, the first 8 digits, in "
    "tacs_observed)",
}


@dataclass(frozen=True)
class Finding:
    """What was found and where (0-based character offset): enough to point the desk at it
    without echoing the personal data back into logs and error messages."""

    kind: str
    offset: int

    @property
    def reason(self) -> str:
        return REASONS[self.kind]


def find_personal_data(text: str) -> Finding | None:
    """The first e-mail address, phone number or IMSI-like number in `text`, or None."""
    findings: list[Finding] = []
    email = EMAIL.search(text)
    if email:
        findings.append(Finding(EMAIL_ADDRESS, email.start()))
    for block in FIFTEEN_DIGITS.finditer(text):
        number = block.group(0)
        if luhn_valid(number):
            findings.append(Finding(IMEI, block.start()))
            break
        if number[0] in "234567":
            findings.append(Finding(IMSI_LIKE, block.start()))
            break
    for run in RUN.finditer(text):
        if _is_phone_number(run.group(0)):
            findings.append(Finding(PHONE, run.start()))
            break
    return min(findings, key=lambda f: f.offset) if findings else None


def refuse_personal_data(field: str, text: str, *, holds: str) -> None:
    """Refuse `field` if its text holds personal data; `holds` says what the text is for
    ("Reports hold device data"), for the message. The data found is never echoed back."""
    finding = find_personal_data(text or "")
    if finding is not None:
        raise FieldInvalid(
            field,
            f"This looks like {finding.reason} (at character {finding.offset + 1}). {holds}, "
            "not people: remove it.",
        )


def _is_phone_number(run: str) -> bool:
    groups = GROUP.findall(run)
    digits = "".join(groups)
    if run.startswith("+"):
        # A country code and a subscriber number: 8 digits at least (E.164 allows 15, but a
        # run may go on into a following figure, so there is no upper bound here).
        return len(digits) >= 8
    if len(groups) > 1 and len(groups[0]) == 8:
        return False  # a TAC followed by other figures (another TAC, a count)
    if digits.startswith("00") and digits[2:3] not in ("", "0"):
        # The international prefix and a country code (`0033 6 12 34 56 78`); TACs are 8
        # digits and two TACs 16, both outside the 11 to 15 digits of such a number.
        return 11 <= len(digits) <= 15
    if not (digits.startswith("0") and digits[1:2] not in ("", "0")):
        return False  # national numbers start with a trunk zero; quantities never do
    if not 9 <= len(digits) <= 12:
        return False
    separators = {s.strip(" ()") or " " for s in SEPARATOR.findall(run)[:-1]}
    if len(separators) > 1:
        return False  # mixed separators: figures side by side (`01/05/2025 500`), not a number
    return not _starts_with_date(groups)


def _starts_with_date(groups: list[str]) -> bool:
    """`01 05 2025 …`: day, month and a four-digit year, whatever follows."""
    if len(groups) < 3 or len(groups[2]) != 4:
        return False
    day, month, year = int(groups[0]), int(groups[1]), int(groups[2])
    return 1 <= day <= 31 and 1 <= month <= 12 and 1900 <= year <= 2199


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
