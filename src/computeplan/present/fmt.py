"""One number formatter for every view (terminal, HTML report, analysis tables)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def fmt(x: Any, sig: int = 6) -> str:
    """A number for a reader: ``sig`` significant digits, thousands separated; ``-`` for
    missing, ``no limit`` for infinity."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (np.integer, np.floating)):
        x = x.item()
    if isinstance(x, int):
        return f"{x:,}"
    if not isinstance(x, float):
        return str(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "no limit" if x > 0 else "-no limit"
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e12 or a < 1e-4:
        return f"{x:.{sig - 1}e}"
    decimals = max(0, sig - 1 - math.floor(math.log10(a)))
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
