"""The column layout: named blocks of decisions, in one place.

The planning model's columns are ``[x | n | z]``: a share per candidate (workload,
pool) pair, servers powered per pool, active halls per site. Every stage reads a
solution vector through the layout (``layout.split(v)["z"]``, ``layout["n"]``), never by
offsets. A new kind of decision (a period index, build decisions, a parametric
multiplier, elastic slacks) is a new block: :meth:`Layout.extend`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from computeplan.model.data import ModelData

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Block:
    """Columns ``start:stop`` of one kind of decision, with a function naming them."""

    name: str
    start: int
    stop: int
    names: Callable[[], list[str]] | None = None

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def labels(self) -> list[str]:
        if self.names is not None:
            return self.names()
        return [f"{self.name}[{k}]" for k in range(self.size)]


class Layout:
    """Named column blocks laid end to end."""

    def __init__(self, blocks: Sequence[tuple[str, int, Callable[[], list[str]] | None]]) -> None:
        self._blocks: dict[str, Block] = {}
        at = 0
        for name, size, names in blocks:
            if name in self._blocks:
                raise ValueError(f"layout: block {name!r} twice")
            self._blocks[name] = Block(name, at, at + int(size), names)
            at += int(size)
        self.n_cols = at

    def __getitem__(self, name: str) -> slice:
        return self._blocks[name].slice

    def start(self, name: str) -> int:
        return self._blocks[name].start

    def split(self, v: F64) -> dict[str, F64]:
        """The blocks of a solution vector, by name (views, not copies)."""
        if len(v) != self.n_cols:
            raise ValueError(f"layout: expected {self.n_cols} columns, got {len(v)}")
        return {b.name: v[b.slice] for b in self._blocks.values()}

    def join(self, **parts: F64) -> F64:
        """One vector from its blocks; a block not given is zero."""
        v = np.zeros(self.n_cols)
        for name, arr in parts.items():
            v[self[name]] = arr
        return v

    def extend(self, name: str, size: int, names: Callable[[], list[str]] | None = None) -> Layout:
        """This layout with one more block at the end."""
        return Layout([*((b.name, b.size, b.names) for b in self._blocks.values()), (name, size, names)])

    def col_names(self) -> list[str]:
        out: list[str] = []
        for b in self._blocks.values():
            out.extend(b.labels())
        return out


def period_names(d: ModelData, names: list[str]) -> list[str]:
    """``names`` once per period, period-major, with ``#t`` inside the bracket when there
    is more than one period (``x[a@s/h]`` -> ``x[a@s/h#3]``)."""
    if d.n_periods == 1:
        return names
    return [f"{nm[:-1]}#{t}]" for t in range(d.n_periods) for nm in names]


#: The blocks decided once for the horizon, which a dispatch of the periods may hold fixed:
#: halls, indivisible placements and the build decisions.
STRATEGIC_BLOCKS = ("z", "y", "g", "m", "o")


def plan_layout(d: ModelData) -> Layout:
    """``x`` per candidate pair and period, ``n`` per pool and period (period-major:
    column ``t * K + c``), ``z`` per site, ``y`` per non-divisible candidate when there
    are several periods (empty otherwise); ``g`` per site with buildable halls, ``m`` per
    pool with buildable servers, ``o`` per site with a fixed site capex."""

    def cand_names() -> list[str]:
        return [
            f"x[{d.workload_ids[i]}@{d.site_ids[d.pool_site[p]]}/{d.hardware_ids[d.pool_hw[p]]}]"
            for i, p in zip(d.cand_wl.tolist(), d.cand_pool.tolist(), strict=True)
        ]

    def x_names() -> list[str]:
        return period_names(d, cand_names())

    def n_names() -> list[str]:
        return period_names(d, [f"n[{d.site_ids[j]}/{d.hardware_ids[h]}]"
                                for j, h in zip(d.pool_site, d.pool_hw, strict=True)])

    def z_names() -> list[str]:
        return [f"z[{s}]" for s in d.site_ids]

    def y_names() -> list[str]:
        names = cand_names()
        return ["y" + names[c][1:] for c in d.y_cand.tolist()]

    b = d.build

    def g_names() -> list[str]:
        return [f"g[{d.site_ids[j]}]" for j in b.g_site]

    def m_names() -> list[str]:
        return [f"m[{d.site_ids[d.pool_site[p]]}/{d.hardware_ids[d.pool_hw[p]]}]" for p in b.m_pool]

    def o_names() -> list[str]:
        return [f"o[{d.site_ids[j]}]" for j in b.o_site]

    # Build decisions (FORMULATION.md section 11): new halls, new servers, sites opened;
    # empty blocks for an instance without ``build:``.
    T = d.n_periods
    return Layout([("x", d.n_cand * T, x_names), ("n", d.n_pools * T, n_names), ("z", d.n_sites, z_names),
                   ("y", len(d.y_cand), y_names),
                   ("g", b.n_g, g_names), ("m", b.n_m, m_names), ("o", b.n_o, o_names)])
