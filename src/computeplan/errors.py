"""The error hierarchy of computeplan.

Infeasibility is not an error: it is a :class:`~computeplan.result.Result` with a
diagnosis. Errors are for input that cannot be read or is not a valid instance, and for
solvers that fail outright.
"""

from __future__ import annotations

from collections.abc import Sequence


class ComputePlanError(Exception):
    """Base of every error computeplan raises on purpose."""


class InstanceError(ComputePlanError):
    """An instance (or catalogue) file that cannot be used.

    Carries every problem found, each already prefixed with the file and the path of the
    field (``shanghai.yaml: sites[3].servers.gpu-8xh100: must be >= 0, got -4``).
    """

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the instance"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class UsageError(ComputePlanError):
    """Options that do not fit together or do not fit the instance."""


class SolverError(ComputePlanError):
    """A solver that is missing, or that failed without a usable answer."""
