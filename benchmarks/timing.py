"""Timing helpers shared by the benchmarks that run ``computeplan`` as a user does."""

from __future__ import annotations

import resource
import subprocess
import time


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far: a command's CPU
    time is the difference around its run. On a shared machine its wall time also waits
    on other work; its CPU time does not."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def wall(args: list[str], check: bool = True) -> float:
    """Wall seconds of one run of ``args`` (its output discarded)."""
    t0 = time.perf_counter()
    subprocess.run(args, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0
