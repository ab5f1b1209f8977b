#!/usr/bin/python3
"""Compatibility wrapper: `tools/report.py` is now `tools/graybench-report`.

    /usr/bin/python3 tools/report.py RESULTS.h5...   ==   tools/graybench-report RESULTS.h5...

The readers moved to tools/graybench_tools/load.py (load_runs, load_ranks, ResultsError) and the
statistics to tools/graybench_tools/report.py; this module re-exports the names older scripts
imported from it.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from graybench_tools.load import ResultsError as ReportError  # noqa: E402,F401
from graybench_tools.load import load_ranks, load_runs, open_results  # noqa: E402,F401
from graybench_tools.report import main as _main  # noqa: E402


def main(argv=None) -> int:
    return _main(argv, prog="report.py")


if __name__ == "__main__":
    sys.exit(main())
