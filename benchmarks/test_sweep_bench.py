"""The same sweep on 1 and on 2 local Dask workers (pytest-benchmark).

Run with ``pytest benchmarks/test_sweep_bench.py``. The sweep is the 21-point fleet PUE
sweep of the Shanghai example used by the tests (each point a MILP of ~1,300 candidate
pairs). Each cluster is started before the clock starts, so the times are of the
solves and their scheduling only. The speed-up (1-worker time / 2-worker time) is
recorded in ``extra_info`` and not asserted: it depends on the machine's free cores.
The tables must be identical.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import computeplan
from computeplan.analysis.parallel import dask_client

SHANGHAI = Path(__file__).resolve().parents[1] / "instances" / "shanghai-2025.yaml"


def test_sweep_one_vs_two_workers(benchmark) -> None:
    inst = computeplan.load_instance(SHANGHAI)
    base = computeplan.solve(inst)
    assert computeplan.verify(inst, base) == []
    p0 = base.indicators["fleet_pue"]
    assert p0 is not None
    vary = {"targets.fleet_pue_max": np.linspace(p0 - 0.0015, p0 + 0.0003, 21)}

    with dask_client(workers=1) as c1:
        c1.wait_for_workers(1)
        t0 = time.perf_counter()
        one = computeplan.sweep(inst, vary, client=c1)
        t_one = time.perf_counter() - t0

    with dask_client(workers=2) as c2:
        c2.wait_for_workers(2)
        two = benchmark.pedantic(computeplan.sweep, args=(inst, vary), kwargs={"client": c2}, rounds=1,
                                 iterations=1)
        t_two = benchmark.stats.stats.max

    pd.testing.assert_frame_equal(one, two, check_exact=True)
    benchmark.extra_info.update({
        "points": len(one), "seconds_1_worker": t_one, "seconds_2_workers": t_two,
        "speedup_2_vs_1": t_one / t_two, "cores": os.cpu_count(),
        "load_average_1min_at_end": os.getloadavg()[0],  # other work on the machine lowers the speed-up
    })
    print(f"\n1 worker {t_one:.1f} s, 2 workers {t_two:.1f} s, speed-up {t_one / t_two:.2f}x")
