"""Bar charts drawn on the server as SVG: no script, no external service; each names itself
(`role="img"` with a `<title>`), and its page gives the same numbers in a table."""

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

ROW = 26  # pixels per bar
LABEL = 110  # width of the label column
BARS = 360  # width of the longest bar
VALUE = 140  # room for the value after a bar


def bar_chart(
    title: str, rows: Sequence[tuple[str, int | None]], *, chart_id: str, hidden: str = ""
) -> SafeString:
    """Horizontal bars, one per (label, value); a value of None (a suppressed cell) draws no
    bar and writes `hidden` instead of a number."""
    largest = max((value or 0 for _, value in rows), default=0) or 1
    height = ROW * max(len(rows), 1) + 8
    bars = []
    for index, (label, value) in enumerate(rows):
        y = 4 + index * ROW
        width = round(BARS * (value or 0) / largest)
        shown = hidden if value is None else f"{value:,}".replace(",", "\u202f")
        bars.append(
            (
                LABEL - 8,
                y + 17,
                label,
                LABEL,
                y + 3,
                max(width, 1 if value else 0),
                LABEL + width + 6,
                y + 17,
                shown,
            )
        )
    body = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="18" class="bar"></rect>'
        '<text x="{}" y="{}">{}</text>',
        bars,
    )
    return format_html(
        '<svg class="chart" role="img" aria-labelledby="{}" viewBox="0 0 {} {}" '
        'width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}">{}</title>{}</svg>',
        f"{chart_id}-title",
        LABEL + BARS + VALUE,
        height,
        LABEL + BARS + VALUE,
        height,
        f"{chart_id}-title",
        title,
        body,
    )
