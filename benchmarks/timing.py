"""Timing helpers shared by the benchmarks that run ``computeplan`` as a user does."""

from __future__ import annotations

import os
import resource
import subprocess
import time


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far: a command's CPU
    time is the difference around its run. On a shared machine its wall time also waits
    on other work; its CPU time does not."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def user_env() -> dict[str, str]:
    """The environment of a command as a user runs it: with compiled bytecode. A shell or
    test runner that sets ``PYTHONDONTWRITEBYTECODE`` makes every run compile the package's
    modules from source again (a tenth of a second and more), which an installed package
    never does (pip compiles them at install; an editable install writes them at the first
    run, which the warm-up round is)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def wall(args: list[str], check: bool = True) -> float:
    """Wall seconds of one run of ``args`` (its output discarded)."""
    t0 = time.perf_counter()
    subprocess.run(args, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=user_env())
    return time.perf_counter() - t0
