"""One solve, end to end: arrays, build, solver, plan, figures, shadow prices, check."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from computeplan.errors import SolverError, UsageError
from computeplan.io.loader import load_instance
from computeplan.io.schema import OBJECTIVES, Instance
from computeplan.model.build import Model, build_model
from computeplan.model.data import ModelData, build_data
from computeplan.model.reduce import merge_interchangeable
from computeplan.model.targets import reports_build
from computeplan.plan.evaluate import OBJECTIVE_NAMES, clean_build, clean_plan, evaluate, picks
from computeplan.plan.result import Result, Status, build_record, result_from_plan
from computeplan.solvers import Budget, Progress, SolveOptions, SolveOutcome, Termination
from computeplan.solvers.highs import solve_highs
from computeplan.solvers.interrupt import stop_requested

if TYPE_CHECKING:
    from computeplan.plan.typical import Dispatcher

METHODS = ("auto", "lp", "milp", "heuristic")
# Sizes (candidate pairs) above which auto hands a model to the fleet heuristic.
AUTO_MILP_MAX = 200_000
AUTO_LP_MAX = 2_000_000
# Local-search passes and ejection rounds of the fleet heuristic when no time limit is set.
HEURISTIC_PASSES = 50
# Under a time limit, the stages that the solver's own limit does not bound are sized by
# how long building the model took (the same machine, the same instance): HiGHS's set-up
# before it looks at its clock, the shadow-price LP, and the tail (plan records, the
# independent check, writing) are each about this many build times. The fleet heuristic's
# LP-guided run and polish need about WARM_FULL of them; with less, the warm start is its
# search and Lagrangian bound only (no targets to polish for) or is skipped.
# HiGHS's presolve does not look at the clock: on fleet M as a MILP (298 k columns) it took
# 3.1 s against 0.34-0.45 s of building, so a MILP is started only with about that much
# left; the shadow-price LP (integers fixed) took 3.0-3.3 s there, the independent check
# 0.8-1.0 s. A stage that would not fit is skipped, with a note.
SOLVER_SETUP_BUILDS = 10.0
SHADOW_LP_BUILDS = 12.0
CHECK_BUILDS = 3.0
TAIL_BUILDS = 3.0
WARM_FULL_BUILDS = 20.0


def choose_method(d: ModelData, method: str) -> tuple[str, str]:
    """The method to run and why."""
    if method not in METHODS:
        raise UsageError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    if d.build.active:
        if method == "heuristic":
            raise UsageError("--method heuristic: the fleet heuristic does not decide what to build, and this "
                             "instance has build decisions (build: blocks); use --method milp or auto")
        if method == "auto":
            if d.has_integers:
                return "milp", (f"build decisions, which the fleet heuristic does not handle, so the exact MILP "
                                f"({d.integer_summary()})")
            return "lp", "build decisions, which the fleet heuristic does not handle; every decision is continuous"
    if d.timed:
        return _choose_timed(d, method)
    if method == "auto":
        K = d.n_cand
        if d.has_integers:
            if K > AUTO_MILP_MAX:
                return "heuristic", (f"{K:,} candidate pairs with integer decisions ({d.integer_summary()}): "
                                     f"above the exact MILP's reach ({AUTO_MILP_MAX:,})")
            return "milp", f"integer decisions present ({d.integer_summary()})"
        if K > AUTO_LP_MAX:
            return "heuristic", f"{K:,} candidate pairs: above the exact LP's reach ({AUTO_LP_MAX:,})"
        return "lp", "every decision is continuous"
    if method == "lp" and d.has_integers:
        raise UsageError(
            f"--method lp: the instance has integer decisions ({d.integer_summary()}); an LP would "
            "solve only its relaxation, not a plan. Use --method milp or auto"
        )
    return method, "requested"


def _choose_timed(d: ModelData, method: str) -> tuple[str, str]:
    """A time instance: the fleet heuristic does not handle periods, so the exact model runs."""
    if method == "heuristic":
        raise UsageError("--method heuristic: the instance has a time block and the fleet heuristic does not "
                         f"handle periods ({d.n_periods} here); use --method auto, lp or milp")
    exact = "milp" if d.has_integers else "lp"
    if method == "lp" and exact == "milp":
        raise UsageError(
            f"--method lp: the instance has integer decisions ({d.integer_summary()}); an LP would "
            "solve only its relaxation, not a plan. Use --method milp or auto"
        )
    if method != "auto":
        return method, "requested"
    why = f"integer decisions present ({d.integer_summary()})" if exact == "milp" else "every decision is continuous"
    return exact, f"{why}; {d.n_periods} periods: the exact model (the fleet heuristic does not handle periods)"


def solve(
    instance: Instance | str | Path | Mapping[str, Any],
    *,
    method: str = "auto",
    objective: str | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float = 1e-9,
    threads: int | None = None,
    progress: Progress | None = None,
    write_model: str | Path | None = None,
    check: bool = True,
    seed: int = 0,
    warm_start: bool | None = None,
    max_passes: int | None = None,
    flex_value: bool = True,
    budget: Budget | None = None,
    typical_days: int | None = None,
    dispatcher: Dispatcher | None = None,
    typical_solver: Callable[..., Result] | None = None,
) -> Result:
    """Solve an instance to a verified plan.

    Parameters
    ----------
    instance
        A loaded :class:`Instance`, or a path / mapping for :func:`load_instance`.
    method
        ``auto`` (LP when every decision is continuous, MILP otherwise), ``lp`` or ``milp``.
    objective
        Override the instance's objective: ``energy``, ``cost`` or ``carbon``.
    solver
        ``highs`` (default, through highspy) or any solver PuLP drives (``cbc``, ``glpk``, ...).
    time_limit
        Seconds for the whole call (every stage shares it: warm start, solve, shadow
        prices, diagnosis). At the limit with a plan, the status is ``feasible`` with its
        bound and gap; without one, ``time_limit``.
    mip_gap, threads
        Solver options.
    write_model
        Also write the model to this ``.lp`` or ``.mps`` file (through PuLP).
    check
        Run :func:`computeplan.verify` on the plan; a plan that fails it raises ``SolverError``.
    seed
        Seed of the heuristic's random choices (``method="heuristic"``).
    warm_start
        Give HiGHS's MILP the fleet heuristic's plan as a start. Default: when a time
        limit is set and the MILP has more than 5,000 candidate pairs.
    max_passes
        With ``method="heuristic"``: bound the search by passes instead of the clock, so
        the plan does not depend on the machine's speed (``time_limit`` is then ignored).
    flex_value
        With flexible work over several periods, also solve with every
        ``flex_window_hours`` removed and report the difference as the value of
        flexibility (within the same ``time_limit``).
    budget
        The command's budget when it started before this call (the CLI's starts before
        reading the instance); ``time_limit`` is then ignored. A stage that no longer fits
        is skipped, and the result's notes say which.
    typical_days
        Solve on this many representative days of the period table (overrides the
        instance's ``time.typical_days``) and re-evaluate the plan over the full year
        (:func:`computeplan.plan.typical.solve_typical`).
    dispatcher
        With typical days: how the full year is dispatched with the plan's integer and
        build decisions fixed (default :func:`computeplan.plan.typical.dispatch_fixed`).
    typical_solver
        With typical days: how the aggregated instance is solved, called with it and this
        call's options (default: this function, one MILP;
        :func:`computeplan.analysis.typical_byday.typical_solver` gives the solve by day).

    Returns
    -------
    Result
        Status, plan, figures, shadow prices; for an infeasible instance, a diagnosis.
    """
    budget = Budget(time_limit) if budget is None else budget
    t0 = time.perf_counter()
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    if objective is not None:
        if objective not in OBJECTIVES:
            raise UsageError(f"--objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
        inst = inst.model_copy(update={"objective": objective})
    if typical_days is not None or (inst.time is not None and inst.time.typical_days is not None):
        from computeplan.plan.typical import solve_typical

        return solve_typical(inst, typical_days, typical_solver or solve, dispatcher=dispatcher, method=method, solver=solver,
                             mip_gap=mip_gap, threads=threads, progress=progress, write_model=write_model,
                             check=check, seed=seed, warm_start=warm_start, flex_value=flex_value, budget=budget)
    d = build_data(inst)
    run, why = choose_method(d, method)
    if run == "heuristic":
        return _solve_heuristic(inst, d, why, budget=budget, seed=seed, check=check, t0=t0,
                                max_passes=max_passes)
    red = merge_interchangeable(inst, d) if d.n_periods > 1 else None
    dm = d if red is None else red.data  # the arrays the model is built on
    m = build_model(dm)
    build_s = time.perf_counter() - t0  # the yardstick of the stages no solver limit bounds
    skipped: list[str] = []
    tail = 0.0 if budget.unlimited else min(TAIL_BUILDS * build_s, 0.5 * (budget.left() or 0.0))
    if write_model is not None:
        from computeplan.solvers.pulp_backend import write_model as _write

        _write(m, write_model)
    opts = SolveOptions(mip_gap=mip_gap, threads=threads, seed=seed)
    if solver.lower() == "highs":
        scaled: Progress | None = None
        if progress is not None:
            user = progress

            def scaled(t: float, inc: float | None, bnd: float | None) -> None:
                user(t, None if inc is None else inc * m.scale, None if bnd is None else bnd * m.scale)

        start = None
        fl_bound = None
        if run == "milp" and not d.timed and not d.build.active and (
                warm_start or (warm_start is None and not budget.unlimited and d.n_cand > 5000)):
            from computeplan.heuristics.fleet.search import solve_fleet

            left = budget.left()
            full = left is None or left - tail >= WARM_FULL_BUILDS * build_s
            if full or not d.targets:  # short of time: its search and bound only, no LPs
                spare = None if left is None else max(0.0, left - tail)
                if spare is None:
                    share = None
                elif full:
                    share = 0.1 * spare
                elif 0.5 * spare < SOLVER_SETUP_BUILDS * build_s:
                    # the MILP would not start after it: the heuristic's, but for the plan's
                    # records and the check
                    share = max(0.5 * spare, spare - (CHECK_BUILDS + TAIL_BUILDS) * build_s)
                else:
                    share = 0.5 * spare
                quick: dict[str, Any] = {} if full else {"polish": False, "lp_guided_max": 0}
                fl = solve_fleet(d, time_limit=10.0 if share is None else share, seed=seed, model=m, **quick)
                start = fl.v
                fl_bound = fl.bound if np.isfinite(fl.bound) else None  # a valid bound for the MILP too
                why += "; started from the fleet heuristic's plan"
            else:
                skipped.append("the fleet heuristic's warm start (its polish LPs need more time)")
        limit = None if budget.unlimited else max(0.0, (budget.left() or 0.0) - tail)
        if limit is not None and limit < SOLVER_SETUP_BUILDS * build_s:
            # HiGHS would pass its limit before it looks at the clock: keep what there is
            out = SolveOutcome(Termination.FEASIBLE if start is not None else Termination.TIME_LIMIT, start,
                               None, None, 0.0)
            skipped.append("the MILP solver" + ("; the plan is the fleet heuristic's" if start is not None else ""))
        else:
            out = solve_highs(m, opts.with_limit(limit), progress=scaled, start=start, dual_ray=True)
        if fl_bound is not None and (out.bound is None or fl_bound > out.bound):
            out.bound = fl_bound  # stopped before its own bound passed the heuristic's
    else:
        from computeplan.solvers.pulp_backend import solve_pulp

        out = solve_pulp(m, solver, opts.with_limit(budget.left()))
    label = run if solver.lower() == "highs" else f"{run} ({solver})"
    if out.status in (Termination.ERROR, Termination.UNBOUNDED):
        raise SolverError(f"the solver failed: {out.message or out.status.value}")
    if out.v is None:
        # the diagnosis names the instance's own workloads: on the unreduced model
        res = _no_plan(d, m if red is None else build_model(d), out, label, why, budget, t0)
        _skipped_notes(res, skipped)
        return res
    xm, n, z = clean_plan(dm, out.v)
    x = xm if red is None else red.expand(xm, d)
    g, mb, o = clean_build(dm, out.v, n, z)
    fig = evaluate(d, x, n, z, g, mb, o)
    v = m.layout.join(x=xm, n=n, z=z, y=picks(dm, xm), g=g, m=mb, o=o)
    tshadow = cshadow = hall_price = server_price = None
    duals = out
    if out.row_dual is None and not stop_requested():
        if _fits(budget, SHADOW_LP_BUILDS * build_s + tail):
            duals = solve_highs(m.with_integers_fixed(v), SolveOptions(relax=True, time_limit=budget.left()))
        else:
            skipped.append("the shadow-price LP (shadow prices are null)")
    if duals.row_dual is not None and duals.v is not None:
        tshadow = m.target_shadow_prices(duals.v, duals.row_dual)
        # A site with every hall off has no marginal kW to price: its value is a discrete
        # hall decision, not a dual.
        cshadow = np.where(z > 0, m.capacity_shadow_prices(duals.row_dual), np.nan)
        hall_price, server_price = m.build_limit_prices(duals.v, duals.row_dual)
    bound = None if out.bound is None else out.bound * m.scale
    status = {Termination.OPTIMAL: Status.OPTIMAL, Termination.INTERRUPTED: Status.INTERRUPTED}.get(
        out.status, Status.FEASIBLE)
    flex = None
    if d.timed:
        flex = _flexibility(inst, d, fig, flex_value, method=run, solver=solver, budget=budget, mip_gap=mip_gap,
                            threads=threads, seed=seed)
    res = result_from_plan(d, fig, status=status, method=label, bound=bound,
                           seconds=time.perf_counter() - t0, target_shadow=tshadow, cap_shadow=cshadow,
                           flexibility=flex)
    res.extra["method_reason"] = why
    res.blocks = {k: np.asarray(b, dtype=float) for k, b in (("z", z), ("y", picks(d, x)), ("g", g), ("m", mb),
                                                            ("o", o)) if len(b)}
    if red is not None:
        res.notes.append(f"{red.merged} interchangeable workload(s) merged into others before building "
                         "(an exact reduction); figures are per workload of the instance")
    if reports_build(d):
        res.extra["build"] = build_record(d, fig, hall_price, server_price)
    _notes(d, fig, res)
    if check:
        if _fits(budget, CHECK_BUILDS * build_s):
            from computeplan.plan.verify import check_plan

            check_plan(inst, res, "the solver's plan")
        else:
            skipped.append("the independent check (run computeplan verify on the written result)")
    _skipped_notes(res, skipped)
    return res


def _flexibility(inst: Instance, d: ModelData, fig: Any, wanted: bool, *, method: str, solver: str,
                 budget: Budget, mip_gap: float, threads: int | None, seed: int) -> dict[str, Any]:
    """The value of flexibility: the objective with every ``flex_window_hours`` removed,
    solved within what is left of the budget, minus this plan's objective."""
    from computeplan.plan.periods import shifted_tflops_hours

    out: dict[str, Any] = {"value": None, "objective_without": None,
                           "shifted_tflops_hours": shifted_tflops_hours(d, fig)}
    if not wanted or not bool(np.any(d.wl_flex)) or stop_requested():
        if not bool(np.any(d.wl_flex)):
            out.update(value=0.0, objective_without=fig.objective_value)
        return out
    rigid = inst.model_copy(update={"workloads": [w.model_copy(update={"flex_window_hours": None})
                                                  for w in inst.workloads]})
    other = solve(rigid, method=method, solver=solver, time_limit=budget.left(), mip_gap=mip_gap,
                  threads=threads, check=False, seed=seed, flex_value=False)
    if other.status == Status.OPTIMAL and other.objective_value is not None:
        out.update(value=other.objective_value - fig.objective_value, objective_without=other.objective_value)
    elif other.status == Status.INFEASIBLE:
        out["note"] = "without flexibility the instance is infeasible"
    return out


def _fits(budget: Budget, seconds: float) -> bool:
    """Whether a stage expected to take ``seconds`` fits in what is left of ``budget``."""
    left = budget.left()
    return left is None or (left > 0 and left >= seconds)


def _skipped_notes(res: Result, skipped: list[str]) -> None:
    res.notes.extend(f"time limit: skipped {what}" for what in skipped)


def _no_plan(d: ModelData, m: Model, out: SolveOutcome, label: str, why: str, budget: Budget,
             t0: float) -> Result:
    """A result without a plan: infeasible (with its diagnosis and evidence), stopped at
    the time limit, or interrupted."""
    status = {Termination.INFEASIBLE: Status.INFEASIBLE, Termination.INTERRUPTED: Status.INTERRUPTED}.get(
        out.status, Status.TIME_LIMIT)
    res = Result(instance=d.name, status=status, method=label,
                 objective_name=OBJECTIVE_NAMES[d.objective], objective_value=None,
                 bound=None if out.bound is None else out.bound * m.scale, gap=None,
                 solve_seconds=time.perf_counter() - t0)
    if status == Status.INFEASIBLE:
        from computeplan.plan.diagnose import diagnose
        from computeplan.plan.verify_infeasible import farkas_evidence

        res.diagnosis = diagnose(m, budget)
        if out.dual_ray is not None:
            # multipliers of the rows as FORMULATION.md writes them (target rows are scaled)
            res.extra["evidence"] = farkas_evidence(m.row_names(), out.dual_ray * m.row_scale())
    res.extra["method_reason"] = why
    return res


def _notes(d: ModelData, fig: Any, res: Result) -> None:
    if d.penalty_is_default and not bool(np.all(d.wl_must)):
        res.notes.append(f"unserved_penalty not given: used {d.penalty:.6g} objective units per TFLOPS-hour")
    if fig.indicators["servers_beyond_need"]:
        res.notes.append(
            f"{fig.indicators['servers_beyond_need']:.6g} servers are powered beyond need "
            f"(drawing {fig.indicators['beyond_need_energy_kwh']:.6g} kWh) to meet a target"
        )


def _solve_heuristic(inst: Instance, d: ModelData, why: str, *, budget: Budget, seed: int,
                     check: bool, t0: float, max_passes: int | None = None) -> Result:
    from computeplan.heuristics.fleet.search import solve_fleet

    if max_passes is None and budget.unlimited:
        # Without a time limit the search is bounded by passes, not the clock: same seed, same plan.
        max_passes = HEURISTIC_PASSES
    out = solve_fleet(d, time_limit=budget.left(), seed=seed, max_passes=max_passes)
    bound = out.bound * d.horizon if np.isfinite(out.bound) else None
    if out.v is None:
        res = Result(instance=d.name, status=Status.TIME_LIMIT, method="heuristic",
                     objective_name=OBJECTIVE_NAMES[d.objective], objective_value=None, bound=bound, gap=None,
                     solve_seconds=time.perf_counter() - t0)
        res.notes.append("the heuristic found no plan that serves every must-serve workload and meets "
                         "every target; try --method milp for a proof either way")
        res.extra["method_reason"] = why
        return res
    x, n, z = clean_plan(d, out.v)
    fig = evaluate(d, x, n, z)
    status = Status.INTERRUPTED if stop_requested() else Status.FEASIBLE
    if bound is not None and fig.objective_value - bound <= 1e-9 * max(1.0, abs(fig.objective_value)):
        status = Status.OPTIMAL
    res = result_from_plan(d, fig, status=status, method="heuristic", bound=bound,
                           seconds=time.perf_counter() - t0, target_shadow=None, cap_shadow=None)
    res.extra["method_reason"] = why
    res.extra["heuristic"] = {k: float(v) for k, v in out.info.items()}
    if check:
        from computeplan.plan.verify import check_plan

        check_plan(inst, res, "the heuristic's plan")
    return res
