"""Peak memory of this process, for bench/bench_staff.py's exporting child."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's ``VmHWM``, not ``ru_maxrss``: a
    spawned child's ``ru_maxrss`` starts at its parent's peak (kept across fork and
    exec), which here is the parent that generated 200,000 reports in memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
