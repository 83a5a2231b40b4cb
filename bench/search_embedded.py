"""Benchmark: the embedded search backend vs a brute-force scan of the same rows, in one run.

    .venv/bin/python bench/search_embedded.py --firms 200000
    .venv/bin/python bench/search_embedded.py --firms 1000000

Prints index build time and size, and p50/p95 per query kind for the index and for a substring scan.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")

import django  # noqa: E402

django.setup()

from search.benchmark import main  # noqa: E402

if __name__ == "__main__":
    main()
