"""Settings for bench/pull.py: the product's settings, plus the two anchor views of
`bench.pull_urls` (never part of the product's URLs)."""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.pull_urls"

# This run's own cache keys (the rate limit and the inbox's change counter live there).
CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_TAG", "dix-bench")  # noqa: F405
