"""The answer of an IMEI check as CSV (`Accept: text/csv`), streamed row by row for desks that
work in spreadsheets: a header, then one row per item in input order.

Cells a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return) are written with a leading apostrophe: profile names are written by other
organisations, and an input is whatever was pasted.
"""

import json
from collections.abc import Iterator
from typing import Any

from rest_framework.renderers import BaseRenderer

from intel.imei import ImeiCheck

COLUMNS = (
    "input",
    "normalised",
    "kind",
    "valid",
    "reason",
    "tac",
    "matched",
    "profile_ids",
    "profile_names",
)
ROWS_PER_CHUNK = 2_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED = (",", '"', "\r", "\n")


class ImeiCsvRenderer(BaseRenderer):
    """Offers `text/csv` in content negotiation. The check's answer is streamed by
    `csv_rows`; anything else rendered through here (a problem) is written as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        return json.dumps(data).encode() if data is not None else b""


def cell(value: str) -> str:
    """One CSV cell (RFC 4180 quoting), defused against spreadsheet formulas."""
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    if any(ch in value for ch in _QUOTED) or value != value.strip():
        value = '"' + value.replace('"', '""') + '"'
    return value


def csv_rows(result: ImeiCheck) -> Iterator[bytes]:
    """The header, then every item, in chunks of `ROWS_PER_CHUNK` rows (CRLF line ends).

    As for JSON (`imei_result.render`), the part of a row after its input is the same for
    every item of one outcome, so it is made once per outcome."""
    names = {p["id"]: p["name"] for p in result.profiles}
    invalid_tails: dict[str | None, str] = {}
    valid_tails: dict[tuple[str | None, str], str] = {}
    yield (",".join(COLUMNS) + "\r\n").encode()
    chunk: list[str] = []
    for raw, (kind, value, reason) in zip(result.inputs, result.checked, strict=True):
        if value is None:
            tail = invalid_tails.get(reason)
            if tail is None:
                tail = invalid_tails[reason] = f",,,false,{reason},,false,,\r\n"
            chunk.append(cell(raw) + tail)
        else:
            tac = value[:8]
            tail = valid_tails.get((kind, tac))
            if tail is None:
                ids = result.matches.get(tac, [])
                profile_names = " | ".join(names[i] for i in ids if i in names)
                tail = valid_tails[(kind, tac)] = (
                    f",{kind},true,,{tac},{'true' if ids else 'false'},"
                    f"{' '.join(str(i) for i in ids)},{cell(profile_names)}\r\n"
                )
            chunk.append(f"{cell(raw)},{value}{tail}")
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()
