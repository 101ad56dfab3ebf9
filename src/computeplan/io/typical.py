"""Typical days: a year of hourly periods stood for by ``K`` of its own days.

FORMULATION.md section 10 lets a solve use ``K`` representative days chosen from the
year's days, each recurring as many times as the days it stands for. The days are chosen
by the ``tsam`` package on the min-max normalised series (every column that is not a
period attribute), with the **medoid** of each cluster as its representative: a real day
of the table, never an average, so every series of the aggregated model is one the year
actually had.

Two clusterings are offered (``method``):

- ``hierarchical`` (the default): tsam's agglomerative (Ward) clustering; medoid days.
  A year of hourly data clusters in about a second.
- ``kmedoids``: tsam's exact k-medoids, a MILP over all pairs of days (133,000 binaries
  for a year) solved by HiGHS through Pyomo. It minimises the same distances exactly but
  takes minutes for a year on a 2-core machine, so it is an option, not the default.

``tsam`` is an optional dependency (``pip install 'computeplan[typical]'``): it pins
upper bounds on highspy, pandas, numpy and scipy and pulls in Pyomo and scikit-learn,
which a solve without typical days does not need. It is imported only here, only when
typical days are asked for.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from computeplan.errors import UsageError

METHODS = ("hierarchical", "kmedoids")
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class TypicalDays:
    """The days chosen to stand for a table of whole days.

    ``days`` are the chosen days' indices (0-based, in time order); ``counts[k]`` is how
    many of the table's days ``days[k]`` stands for (its recurrence, summing to the
    number of days); ``assignment[d]`` is the position in ``days`` of the day that
    stands for day ``d``.
    """

    days: NDArray[np.int64]
    counts: NDArray[np.float64]
    assignment: NDArray[np.int64]

    @property
    def k(self) -> int:
        return len(self.days)

    def hours(self) -> NDArray[np.int64]:
        """The table rows (hours) of the chosen days, in time order."""
        return (self.days[:, None] * HOURS_PER_DAY + np.arange(HOURS_PER_DAY)[None, :]).ravel()

    def weights(self) -> NDArray[np.float64]:
        """The recurrence of each row of :meth:`hours`."""
        return np.repeat(self.counts, HOURS_PER_DAY)


def choose_days(series: pd.DataFrame, k: int, *, method: str = "hierarchical") -> TypicalDays:
    """Choose ``k`` typical days of an hourly table of whole days (one column per series).

    Raises :class:`~computeplan.errors.UsageError` when the table is not whole days, ``k``
    is out of range, the method is unknown or ``tsam`` is not installed.
    """
    n = len(series)
    if n == 0 or n % HOURS_PER_DAY:
        raise UsageError(f"typical days need an hourly table of whole days; it has {n} rows")
    n_days = n // HOURS_PER_DAY
    if not 1 <= k <= n_days:
        raise UsageError(f"typical days: expected 1 to {n_days} days (the table's days), got {k}")
    if method not in METHODS:
        raise UsageError(f"typical days: method must be one of {', '.join(METHODS)}, got {method!r}")
    if k == n_days:  # every day stands for itself
        days = np.arange(n_days, dtype=np.int64)
        return TypicalDays(days, np.ones(n_days), days.copy())
    tsam = _tsam()
    frame = _normalised(series)
    cluster_method: Any = tsam.KMedoids() if method == "kmedoids" else "hierarchical"
    config = tsam.ClusterConfig(method=cluster_method, representation="medoid")
    # tsam reports progress and accuracy warnings of its own; the caller's stdout is a
    # contract and its stderr carries computeplan's own messages only.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        result = tsam.aggregate(frame, k, period_duration=HOURS_PER_DAY, temporal_resolution=1.0,
                                cluster=config, preserve_column_means=False)
    centres = np.asarray(result.clustering.cluster_centers, dtype=np.int64)
    labels = np.asarray(result.cluster_assignments, dtype=np.int64)
    order = np.argsort(centres, kind="stable")  # clusters in the time order of their days
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    counts = np.bincount(position[labels], minlength=len(order)).astype(float)
    return TypicalDays(centres[order], counts, position[labels])


def _normalised(series: pd.DataFrame) -> pd.DataFrame:
    """Each column min-max scaled to 0..1 (a constant column to 0), on an hourly clock."""
    values = series.to_numpy(dtype=float)
    lo, hi = values.min(axis=0), values.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    scaled = (values - lo) / span
    if scaled.shape[1] == 0:  # nothing varies: cluster on the hour of the day alone
        scaled = np.zeros((len(series), 1))
    index = pd.date_range("2001-01-01", periods=len(series), freq="h")
    return pd.DataFrame(scaled, index=index, columns=[f"s{j}" for j in range(scaled.shape[1])])


def _tsam() -> Any:
    try:
        import tsam  # optional, and heavy: only when typical days are asked for
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UsageError("typical days need the tsam package: pip install 'computeplan[typical]'") from exc
    return tsam
