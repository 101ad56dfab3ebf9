"""Same seed, same plan: without a time limit the fleet heuristic is bounded by passes, not
the clock, so two runs on a loaded or an idle machine return the same plan."""

from __future__ import annotations

import computeplan
from computeplan.io.generate import generate_instance


def test_the_heuristic_without_a_time_limit_repeats_itself() -> None:
    inst = computeplan.load_instance(generate_instance(400, 12, seed=5))
    a = computeplan.solve(inst, method="heuristic", seed=1)
    b = computeplan.solve(inst, method="heuristic", seed=1)
    assert a.has_plan and computeplan.verify(inst, a) == []
    assert a.objective_value == b.objective_value
    assert a.assignment_records == b.assignment_records
    assert a.pool_records == b.pool_records
