"""``python -m benchmarks``: run every benchmark (see ``benchmarks/runner.py``)."""

from __future__ import annotations

import sys

from benchmarks.runner import main

if __name__ == "__main__":
    sys.exit(main())
