"""Independent reference implementation of FORMULATION.md, used as a test oracle.

Written from the design documents only; it shares no code with ``computeplan``.
"""

from .reference import build_reference, solve_reference

__all__ = ["build_reference", "solve_reference"]
