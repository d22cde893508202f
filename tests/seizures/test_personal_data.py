"""The personal-data detector on its own: what it finds, what it lets pass, and what it says."""

import pytest

from core.personal_data import find_personal_data

# --- The personal-data detector ------------------------------------------------------------------

PERSONAL = [
    "+33 6 12 34 56 78",
    "call +33612345678 now",
    "0612345678",
    "06 12 34 56 78",
    "06.12.34.56.78",
    "06-12-34-56-78",
    "0033 6 12 34 56 78",
    "+44 20 7946 0958",
    "+1 (202) 555-0143",
    "+33 (0)6 12 34 56 78",
    "020 7946 0958",
    "(020) 7946 0958",
    "0170/1234567",
    "07700 900123",
    "tel:0470 12 34 56",
    "x@y.fr",
    "contact jean.dupont@example.com please",
    "208011234567890",
    "IMSI 310150123456789",
    "IMEI 490154203237518",
]
NOT_PERSONAL = [
    "2025-05-20",
    "20/05/2025",
    "20.05.2025",
    "01 05 2025 88",
    "01/05/2025 500 phones",
    "searched 66 prisons on 20.05.2025, 500 cells",
    "88 mini phones and 76 other phones",
    "EUR 70,000.00",
    "70 000 EUR",
    "TAC 00999900",
    "TACs 35123456, 35123457",
    "00999900 00999901",
    "00999900-00999999",
    "01326300 12 units",
    "00999900 123 units",
    "between 12:00 and 14:30",
    "version 0.9.1",
    "other_mobile_phone",
    "hidden in shoes @ the gate",
    "",
]


@pytest.mark.parametrize("text", PERSONAL)
def test_detector_finds_personal_data(text: str) -> None:
    assert find_personal_data(text) is not None


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_detector_lets_device_data_pass(text: str) -> None:
    assert find_personal_data(text) is None


def test_detector_says_what_and_where() -> None:
    finding = find_personal_data("Seen at 06 12 34 56 78")
    assert finding is not None
    assert (finding.kind, finding.offset, finding.reason) == ("phone", 8, "a phone number")
    imsi = find_personal_data("SIM: 208011234567890")
    assert imsi is not None
    assert imsi.kind == "imsi"
    assert find_personal_data("a@b.org and +33612345678") == find_personal_data("a@b.org")
