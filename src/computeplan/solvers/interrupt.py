"""Ctrl-C and SIGTERM as a request to stop, not an exception in the middle of a solve.

While :func:`graceful` is active, the first SIGINT or SIGTERM sets a flag that the
solvers poll (HiGHS through its interrupt callback, the heuristics between passes): the
search stops, and the best plan found so far is written with status ``interrupted``. A
second signal aborts at once (``KeyboardInterrupt``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_stop = threading.Event()
_signal_number: list[int] = []


def stop_requested() -> bool:
    """Whether a stop was asked for (by a signal, or :func:`request_stop`)."""
    return _stop.is_set()


def request_stop(signum: int = signal.SIGINT) -> None:
    _signal_number.append(signum)
    _stop.set()


def stop_signal() -> int | None:
    """The signal that asked for the stop, if any."""
    return _signal_number[0] if _signal_number else None


def reset() -> None:
    _stop.clear()
    _signal_number.clear()


@contextlib.contextmanager
def graceful() -> Iterator[None]:
    """Turn the first SIGINT/SIGTERM into a stop request for the code inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reset()
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        if _stop.is_set():
            raise KeyboardInterrupt
        request_stop(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[int(sig)] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for num, h in previous.items():
            signal.signal(num, h)
