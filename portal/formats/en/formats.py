"""English for readers across Europe: days before months, and months as words in short
dates, so that 06/12 is never read as both June and December; a 24-hour clock."""

from django.conf.locale.en_GB.formats import *  # type: ignore[import-untyped]  # noqa: F403

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
