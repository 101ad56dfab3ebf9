"""Numba kernels for assignment problems in sparse candidate form.

Every kernel works on plain arrays and minimises. The candidate form is general enough
for the GAP and for the data-centre model's indivisible workloads:

* items ``i = 0..n-1``; item ``i`` owns the candidates ``item_ptr[i] .. item_ptr[i+1]-1``
  and exactly one of them must be chosen;
* candidate ``c`` has ``cand_item[c]``, a ``cand_agent[c]`` label in ``0..A-1`` (used by
  swap moves and by ``agent_cand[i, a]``, the candidate of item i on agent a or -1) and a
  ``cand_cost[c]``;
* candidate ``c`` uses the resources ``use_res[use_ptr[c] .. use_ptr[c+1]-1]`` with amounts
  ``use_amt[...]``; resource ``r`` has capacity ``cap[r]`` (already including any
  feasibility tolerance).

When every candidate uses at most one resource the wrappers also pass ``cres[c]`` /
``camt[c]`` (resource or -1, amount) and an evaluation ``mode``: 0 when resource and agent
coincide (the GAP, fastest), 1 for at most one resource per candidate, 2 for the general
path through the CSR arrays. All three give the same move values.

The kernels are:

``regret_greedy``      regret-based construction (with overflow fallback for stuck items),
``repair``             greedy overload-removing descent after a stuck construction,
``tabu_search``        shift / swap / two-step ejection-chain tabu search with adaptive
                       capacity penalties (strategic oscillation), restarts by path
                       relinking between elite solutions,
``lagrangian_bound``   Lagrangian relaxation of the assignment constraints with
                       subgradient optimisation; one 0/1 knapsack per resource, by
                       dynamic programming on integer amounts (LP bound otherwise),
``lagrangian_forced_bounds``
                       the bound with each candidate forced in (reduced-cost fixing),
                       from forward and backward knapsack tables,
``lagrangian_dive``    a solution below a target by repeated Lagrangian-regret fixing,
                       re-solving the relaxation of the free items after each step,
``price_lagrangian``   Lagrangian relaxation of the capacities (one price per resource),
                       whose maximum is the LP bound: cheap on large instances, and its
                       prices give a start and the core of candidates worth searching.

Kernels that draw random numbers seed NumPy's generator inside nopython code, so a run
is reproducible for a seed; those with a time limit read the clock through an
object-mode block every few hundred thousand move evaluations.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit

INF = np.inf


@njit(cache=True)
def now() -> float:
    """Wall-clock seconds, readable inside nopython code (through an object-mode block)."""
    with numba.objmode(t="float64"):
        t = time.perf_counter()
    return t


# --------------------------------------------------------------------------- helpers


@njit(cache=True)
def _term(r, d, load, cap, w):
    """Weighted and plain change of the excess of resource r when its load moves by d."""
    if r < 0:
        return 0.0, 0.0
    old = load[r] - cap[r]
    en = max(old + d, 0.0)
    eo = max(old, 0.0)
    return w[r] * (en - eo), en - eo


@njit(cache=True)
def _shift_delta0(co, cn, cres, camt, load, cap, w):
    """Penalty change of a shift when resource = agent (the GAP): two distinct resources."""
    p1, e1 = _term(cres[co], -camt[co], load, cap, w)
    p2, e2 = _term(cres[cn], camt[cn], load, cap, w)
    return p1 + p2, e1 + e2


@njit(cache=True)
def _pair_delta0(co_i, cn_i, co_j, cn_j, cres, camt, load, cap, w):
    """Penalty change when resource = agent and item j leaves the agent item i enters.

    Covers swaps (j goes to i's old agent) and two-step ejection chains.
    """
    ra = cres[co_i]
    rc = cres[cn_j]
    p2, e2 = _term(cres[cn_i], camt[cn_i] - camt[co_j], load, cap, w)
    if rc == ra:
        p1, e1 = _term(ra, camt[cn_j] - camt[co_i], load, cap, w)
        return p1 + p2, e1 + e2
    p1, e1 = _term(ra, -camt[co_i], load, cap, w)
    p3, e3 = _term(rc, camt[cn_j], load, cap, w)
    return p1 + p2 + p3, e1 + e2 + e3


@njit(cache=True)
def _delta_simple(c1o, c1n, c2o, c2n, cres, camt, load, cap, w):
    """Penalty change of replacing c1o by c1n (and c2o by c2n when c2o >= 0), one resource each."""
    r1 = cres[c1o]
    d1 = -camt[c1o]
    r2 = cres[c1n]
    d2 = camt[c1n]
    r3 = -1
    d3 = 0.0
    r4 = -1
    d4 = 0.0
    if c2o >= 0:
        r3 = cres[c2o]
        d3 = -camt[c2o]
        r4 = cres[c2n]
        d4 = camt[c2n]
    # merge changes to the same resource so that the excess is evaluated once per resource
    if r2 >= 0 and r2 == r1:
        d1 += d2
        r2 = -1
    if r3 >= 0:
        if r3 == r1:
            d1 += d3
            r3 = -1
        elif r3 == r2:
            d2 += d3
            r3 = -1
    if r4 >= 0:
        if r4 == r1:
            d1 += d4
            r4 = -1
        elif r4 == r2:
            d2 += d4
            r4 = -1
        elif r4 == r3:
            d3 += d4
            r4 = -1
    p1, e1 = _term(r1, d1, load, cap, w)
    p2, e2 = _term(r2, d2, load, cap, w)
    p3, e3 = _term(r3, d3, load, cap, w)
    p4, e4 = _term(r4, d4, load, cap, w)
    return p1 + p2 + p3 + p4, e1 + e2 + e3 + e4


@njit(cache=True)
def _acc(c, sign, use_ptr, use_res, use_amt, dl, mark, touched, nt, stamp):
    for u in range(use_ptr[c], use_ptr[c + 1]):
        r = use_res[u]
        if mark[r] != stamp:
            mark[r] = stamp
            dl[r] = 0.0
            touched[nt] = r
            nt += 1
        dl[r] += sign * use_amt[u]
    return nt


@njit(cache=True)
def _delta_general(c1o, c1n, c2o, c2n, use_ptr, use_res, use_amt, load, cap, w,
                   dl, mark, touched, stamp):
    """As `_delta_simple` for candidates using any number of resources (CSR ``use_*``)."""
    nt = 0
    nt = _acc(c1o, -1.0, use_ptr, use_res, use_amt, dl, mark, touched, nt, stamp)
    nt = _acc(c1n, 1.0, use_ptr, use_res, use_amt, dl, mark, touched, nt, stamp)
    if c2o >= 0:
        nt = _acc(c2o, -1.0, use_ptr, use_res, use_amt, dl, mark, touched, nt, stamp)
        nt = _acc(c2n, 1.0, use_ptr, use_res, use_amt, dl, mark, touched, nt, stamp)
    dp = 0.0
    de = 0.0
    for t in range(nt):
        r = touched[t]
        p, e = _term(r, dl[r], load, cap, w)
        dp += p
        de += e
    return dp, de


@njit(cache=True)
def _apply_cand(c, sign, use_ptr, use_res, use_amt, load):
    for u in range(use_ptr[c], use_ptr[c + 1]):
        load[use_res[u]] += sign * use_amt[u]


@njit(cache=True)
def _fits(c, use_ptr, use_res, use_amt, resid):
    for u in range(use_ptr[c], use_ptr[c + 1]):
        if use_amt[u] > resid[use_res[u]]:
            return False
    return True


@njit(cache=True)
def compute_loads(sel, use_ptr, use_res, use_amt, n_res):
    """Resource loads of a selection (one candidate per item)."""
    load = np.zeros(n_res)
    for i in range(sel.shape[0]):
        _apply_cand(sel[i], 1.0, use_ptr, use_res, use_amt, load)
    return load


@njit(cache=True)
def total_excess(load, cap):
    s = 0.0
    for r in range(load.shape[0]):
        if load[r] > cap[r]:
            s += load[r] - cap[r]
    return s


# --------------------------------------------------------------------------- construction


@njit(cache=True)
def _best_two(i, item_ptr, f, use_ptr, use_res, use_amt, resid):
    b1 = -1
    b2 = -1
    for c in range(item_ptr[i], item_ptr[i + 1]):
        if not _fits(c, use_ptr, use_res, use_amt, resid):
            continue
        if b1 < 0 or f[c] < f[b1]:
            b2 = b1
            b1 = c
        elif b2 < 0 or f[c] < f[b2]:
            b2 = c
    return b1, b2


@njit(cache=True)
def regret_greedy(item_ptr, cand_cost, use_ptr, use_res, use_amt, cap, alpha, price):
    """Regret-based construction on the desirability ``f = alpha*cost + sum(price*amount)``.

    Repeatedly assigns the item whose regret (second-best minus best desirability over
    the candidates that still fit) is largest to its best candidate; an item with a
    single fitting candidate is assigned at once. Items left with no fitting candidate
    are placed last on the candidate with the least overflow (the local search repairs
    them). Returns the selected candidate per item.
    """
    n = item_ptr.shape[0] - 1
    n_cand = cand_cost.shape[0]
    f = np.empty(n_cand)
    for c in range(n_cand):
        v = alpha * cand_cost[c]
        for u in range(use_ptr[c], use_ptr[c + 1]):
            v += price[use_res[u]] * use_amt[u]
        f[c] = v
    resid = cap.copy()
    sel = np.full(n, -1, dtype=np.int64)
    b1 = np.full(n, -1, dtype=np.int64)
    b2 = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        b1[i], b2[i] = _best_two(i, item_ptr, f, use_ptr, use_res, use_amt, resid)
    remaining = n
    stuck = np.zeros(n, dtype=np.bool_)
    while remaining > 0:
        pick = -1
        best_regret = -INF
        for i in range(n):
            if sel[i] >= 0 or stuck[i]:
                continue
            if b1[i] < 0:
                stuck[i] = True
                remaining -= 1
                continue
            reg = INF if b2[i] < 0 else f[b2[i]] - f[b1[i]]
            if reg > best_regret:
                best_regret = reg
                pick = i
        if pick < 0:
            break
        c = b1[pick]
        sel[pick] = c
        remaining -= 1
        for u in range(use_ptr[c], use_ptr[c + 1]):
            resid[use_res[u]] -= use_amt[u]
        # capacities only shrink: an item's top two change only if one of them stops fitting
        for i in range(n):
            if sel[i] >= 0 or stuck[i]:
                continue
            if (b1[i] >= 0 and not _fits(b1[i], use_ptr, use_res, use_amt, resid)) or (
                b2[i] >= 0 and not _fits(b2[i], use_ptr, use_res, use_amt, resid)
            ):
                b1[i], b2[i] = _best_two(i, item_ptr, f, use_ptr, use_res, use_amt, resid)
    for i in range(n):
        if sel[i] >= 0:
            continue
        best = -1
        best_over = INF
        best_f = INF
        for c in range(item_ptr[i], item_ptr[i + 1]):
            over = 0.0
            for u in range(use_ptr[c], use_ptr[c + 1]):
                o = use_amt[u] - resid[use_res[u]]
                if o > 0:
                    over += o
            if over < best_over or (over == best_over and f[c] < best_f):
                best = c
                best_over = over
                best_f = f[c]
        sel[i] = best
        for u in range(use_ptr[best], use_ptr[best + 1]):
            resid[use_res[u]] -= use_amt[u]
    return sel


@njit(cache=True)
def repair(item_ptr, cand_agent, cand_cost, use_ptr, use_res, use_amt, cap, agent_cand, sel0,
           max_work):
    """Repair pass after a construction that got stuck: greedy descent on the overload.

    Each move is the shift (else the swap of two items' agents) that removes the most
    total excess ``sum_r max(0, load_r - cap_r)``, ties broken by the smaller cost
    increase. Swaps are only tried for items on an overloaded resource. Stops when the
    selection is feasible, no move reduces the excess, or after about ``max_work`` move
    evaluations (pairs skipped for want of a candidate and the scans for overloaded
    items count, so a sparse core cannot make a pass run long).
    Returns the repaired selection (feasible only if its excess reached zero).
    """
    n = item_ptr.shape[0] - 1
    R = cap.shape[0]
    sel = sel0.copy()
    load = compute_loads(sel, use_ptr, use_res, use_amt, R)
    ones = np.ones(R)
    dl = np.zeros(R)
    mark = np.zeros(R, dtype=np.int64)
    touched = np.zeros(R, dtype=np.int64)
    over_items = np.empty(n, dtype=np.int64)
    stamp = 0
    work = 0
    while work < max_work:
        if total_excess(load, cap) <= 0.0:
            break
        best_de = -1e-12
        best_dc = INF
        bi = -1
        bc = -1
        bj = -1
        bcj = -1
        # only items on an overloaded resource can remove overload
        n_over = 0
        for i in range(n):
            co = sel[i]
            for u in range(use_ptr[co], use_ptr[co + 1]):
                if load[use_res[u]] > cap[use_res[u]]:
                    over_items[n_over] = i
                    n_over += 1
                    break
        work += n  # the scan above counts too: on a sparse core most moves are skipped
        for t in range(n_over):
            i = over_items[t]
            co = sel[i]
            for cn in range(item_ptr[i], item_ptr[i + 1]):
                if cn == co:
                    continue
                stamp += 1
                work += 1
                _dp, de = _delta_general(co, cn, -1, -1, use_ptr, use_res, use_amt, load, cap,
                                         ones, dl, mark, touched, stamp)
                dc = cand_cost[cn] - cand_cost[co]
                if de < best_de - 1e-12 or (de <= best_de + 1e-12 and dc < best_dc):
                    best_de = de
                    best_dc = dc
                    bi = i
                    bc = cn
        if bi < 0:
            for t in range(n_over):
                i = over_items[t]
                co_i = sel[i]
                ai = cand_agent[co_i]
                for j in range(n):
                    work += 1  # every pair looked at, also those skipped
                    co_j = sel[j]
                    aj = cand_agent[co_j]
                    if aj == ai:
                        continue
                    cn_i = agent_cand[i, aj]
                    cn_j = agent_cand[j, ai]
                    if cn_i < 0 or cn_j < 0:
                        continue
                    stamp += 1
                    _dp, de = _delta_general(co_i, cn_i, co_j, cn_j, use_ptr, use_res, use_amt,
                                             load, cap, ones, dl, mark, touched, stamp)
                    dc = cand_cost[cn_i] - cand_cost[co_i] + cand_cost[cn_j] - cand_cost[co_j]
                    if de < best_de - 1e-12 or (de <= best_de + 1e-12 and dc < best_dc):
                        best_de = de
                        best_dc = dc
                        bi = i
                        bc = cn_i
                        bj = j
                        bcj = cn_j
        if bi < 0:
            break
        _apply_cand(sel[bi], -1.0, use_ptr, use_res, use_amt, load)
        _apply_cand(bc, 1.0, use_ptr, use_res, use_amt, load)
        sel[bi] = bc
        if bj >= 0:
            _apply_cand(sel[bj], -1.0, use_ptr, use_res, use_amt, load)
            _apply_cand(bcj, 1.0, use_ptr, use_res, use_amt, load)
            sel[bj] = bcj
    return sel


# --------------------------------------------------------------------------- tabu search


@njit(cache=True)
def _insert_top(topv, topi, topc, val, i, c):
    """Keep the L smallest (val, item, candidate) triples, sorted, in fixed arrays."""
    L = topv.shape[0]
    if val >= topv[L - 1]:
        return
    k = L - 1
    while k > 0 and topv[k - 1] > val:
        topv[k] = topv[k - 1]
        topi[k] = topi[k - 1]
        topc[k] = topc[k - 1]
        k -= 1
    topv[k] = val
    topi[k] = i
    topc[k] = c


@njit(cache=True)
def _set_member(members, count, pos, i, a_old, a_new):
    if a_old >= 0:
        p = pos[i]
        last = members[a_old, count[a_old] - 1]
        members[a_old, p] = last
        pos[last] = p
        count[a_old] -= 1
    members[a_new, count[a_new]] = i
    pos[i] = count[a_new]
    count[a_new] += 1


@njit(cache=True)
def _relink(sel, guide, frac, cand_cost, use_ptr, use_res, use_amt, cap, w, load,
            diff, dl, mark, touched, stamp):
    """Path relinking: move a fraction of the items where ``sel`` and ``guide`` differ to
    the guide's candidate, each time the one with the least penalised cost change.

    Updates ``sel`` and ``load`` in place; returns the scratch stamp.
    """
    n = sel.shape[0]
    nd = 0
    for i in range(n):
        if sel[i] != guide[i]:
            diff[nd] = i
            nd += 1
    steps = int(frac * nd)
    for s in range(steps):
        best = INF
        bk = -1
        for k in range(nd - s):
            i = diff[k]
            co = sel[i]
            cn = guide[i]
            stamp += 1
            dp, _de = _delta_general(co, cn, -1, -1, use_ptr, use_res, use_amt, load, cap, w,
                                     dl, mark, touched, stamp)
            v = cand_cost[cn] - cand_cost[co] + dp
            if v < best:
                best = v
                bk = k
        i = diff[bk]
        _apply_cand(sel[i], -1.0, use_ptr, use_res, use_amt, load)
        _apply_cand(guide[i], 1.0, use_ptr, use_res, use_amt, load)
        sel[i] = guide[i]
        diff[bk] = diff[nd - s - 1]
    return stamp


@njit(cache=True)
def tabu_search(
    item_ptr, cand_agent, cand_cost, use_ptr, use_res, use_amt, cres, camt, mode,
    cap, agent_cand, sel0, time_limit, iter_limit, seed, target, params,
):
    """Tabu search with adaptive capacity penalties (strategic oscillation).

    The search minimises ``cost + sum_r w[r] * max(0, load[r] - cap[r])`` over complete
    selections and moves freely between feasible and infeasible regions: after an
    infeasible step the weights of the overloaded resources grow, after a feasible step
    all weights shrink. Each iteration makes the best admissible move among

    * shift: one item to another candidate;
    * swap: items i (agent a) and j (agent b) exchange agents, found through the agents
      of i's own candidates (so restricting the candidates shrinks this neighbourhood);
    * ejection chain of length two: item i to agent b, which ejects some j of b to any
      other agent; first steps are the best few shifts of the iteration;

    Moving an item out of candidate c forbids c for that item for a random tenure;
    a forbidden move is allowed when it yields a new best feasible solution. After
    ``stall`` iterations without a new best, the search restarts on the path between
    two elite solutions (path relinking: a random share of the items where they differ
    takes the guide's candidate, best penalised change first), or from an elite solution
    with random shifts while the pool holds fewer than two.

    Parameters
    ----------
    params : float64 array
        ``[tenure_min, tenure_max, w_inc, w_dec, stall, kick_fraction, swap_budget,
        top_l, elite_size, relink_min, relink_max]``.
    target : float
        Stop as soon as a feasible solution with cost <= target is found (a proven bound).

    Returns
    -------
    best_sel, best_cost, iterations, n_restarts
        ``best_cost`` is ``inf`` when no feasible selection was found.
    """
    np.random.seed(seed)
    t_start = now()
    n = item_ptr.shape[0] - 1
    n_cand = cand_cost.shape[0]
    R = cap.shape[0]
    A = agent_cand.shape[1]

    ten_min = int(params[0])
    ten_max = max(int(params[1]), ten_min)
    w_inc = params[2]
    w_dec = params[3]
    stall = int(params[4])
    kick = params[5]
    swap_budget = int(params[6])
    top_l = max(int(params[7]), 1)
    elite_size = max(int(params[8]), 1)
    pr_lo = params[9]
    pr_hi = params[10]
    diff = np.empty(n, dtype=np.int64)

    cand_item = np.empty(n_cand, dtype=np.int64)
    for i in range(n):
        for c in range(item_ptr[i], item_ptr[i + 1]):
            cand_item[c] = i

    sel = sel0.copy()
    load = compute_loads(sel, use_ptr, use_res, use_amt, R)
    cost = 0.0
    for i in range(n):
        cost += cand_cost[sel[i]]
    excess = total_excess(load, cap)

    # initial weight: the typical cost spread of an item per unit of resource
    spread = 0.0
    amt_sum = 0.0
    for i in range(n):
        lo = INF
        hi = -INF
        for c in range(item_ptr[i], item_ptr[i + 1]):
            lo = min(lo, cand_cost[c])
            hi = max(hi, cand_cost[c])
        spread += hi - lo
    for u in range(use_amt.shape[0]):
        amt_sum += use_amt[u]
    mean_amt = amt_sum / max(use_amt.shape[0], 1)
    w0 = (spread / max(n, 1) + 1e-9) / max(mean_amt, 1e-9)
    w = np.full(R, w0)
    w_min = w0 * 1e-3
    w_max = w0 * 1e4

    members = np.empty((A, n), dtype=np.int64)
    count = np.zeros(A, dtype=np.int64)
    pos = np.zeros(n, dtype=np.int64)
    for i in range(n):
        _set_member(members, count, pos, i, -1, cand_agent[sel[i]])

    tabu = np.zeros(n_cand, dtype=np.int64)
    dl = np.zeros(R)
    mark = np.zeros(R, dtype=np.int64)
    touched = np.zeros(R, dtype=np.int64)
    stamp = 0

    best_cost = INF
    best_sel = sel.copy()
    if excess <= 0.0:
        best_cost = cost
    # elite pool: distinct feasible solutions, worst replaced first
    elite = np.empty((elite_size, n), dtype=np.int64)
    elite_cost = np.full(elite_size, INF)
    n_elite = 0

    topv = np.empty(top_l)
    topi = np.empty(top_l, dtype=np.int64)
    topc = np.empty(top_l, dtype=np.int64)

    it = 0
    since_best = 0
    restarts = 0
    work = 0
    swap_start = 0
    while it < iter_limit and best_cost > target:
        if work >= 200000:
            work = 0
            if now() - t_start >= time_limit:
                break
        # ---- evaluate the neighbourhood
        bv = INF
        b_kind = -1
        b_i = -1
        b_c = -1
        b_j = -1
        b_cj = -1
        ties = 0
        for k in range(top_l):
            topv[k] = INF
        # shifts
        for i in range(n):
            co = sel[i]
            for cn in range(item_ptr[i], item_ptr[i + 1]):
                if cn == co:
                    continue
                dc = cand_cost[cn] - cand_cost[co]
                if mode == 0:
                    dp, de = _shift_delta0(co, cn, cres, camt, load, cap, w)
                elif mode == 1:
                    dp, de = _delta_simple(co, cn, -1, -1, cres, camt, load, cap, w)
                else:
                    stamp += 1
                    dp, de = _delta_general(co, cn, -1, -1, use_ptr, use_res, use_amt,
                                            load, cap, w, dl, mark, touched, stamp)
                val = dc + dp
                if tabu[cn] > it:
                    if not (excess + de <= 1e-12 and cost + dc < best_cost - 1e-9):
                        continue
                else:
                    _insert_top(topv, topi, topc, val, i, cn)
                if val < bv - 1e-12:
                    bv = val
                    ties = 1
                    b_kind = 0
                    b_i = i
                    b_c = cn
                elif val <= bv + 1e-12:
                    ties += 1
                    if np.random.random() * ties < 1.0:
                        b_kind = 0
                        b_i = i
                        b_c = cn
        work += n_cand
        # swaps: item i (agent ai) with an item j of another agent b on which i has a
        # candidate, when j has one on ai; items in a rotating window, each pair once
        swap_work = 0
        s = 0
        full = True
        while s < n:
            if swap_budget > 0 and swap_work >= swap_budget:
                full = False
                break
            i = (swap_start + s) % n
            s += 1
            co_i = sel[i]
            ai = cand_agent[co_i]
            for cn_i in range(item_ptr[i], item_ptr[i + 1]):
                b = cand_agent[cn_i]
                if b == ai:
                    continue
                swap_work += count[b]
                for q in range(count[b]):
                    j = members[b, q]
                    cn_j = agent_cand[j, ai]
                    if cn_j < 0:
                        continue
                    co_j = sel[j]
                    dc = cand_cost[cn_i] - cand_cost[co_i] + cand_cost[cn_j] - cand_cost[co_j]
                    if mode == 0:
                        dp, de = _pair_delta0(co_i, cn_i, co_j, cn_j, cres, camt, load, cap, w)
                    elif mode == 1:
                        dp, de = _delta_simple(co_i, cn_i, co_j, cn_j, cres, camt, load, cap, w)
                    else:
                        stamp += 1
                        dp, de = _delta_general(co_i, cn_i, co_j, cn_j, use_ptr, use_res, use_amt,
                                                load, cap, w, dl, mark, touched, stamp)
                    val = dc + dp
                    if tabu[cn_i] > it or tabu[cn_j] > it:
                        if not (excess + de <= 1e-12 and cost + dc < best_cost - 1e-9):
                            continue
                    if val < bv - 1e-12:
                        bv = val
                        ties = 1
                        b_kind = 1
                        b_i = i
                        b_c = cn_i
                        b_j = j
                        b_cj = cn_j
                    elif val <= bv + 1e-12:
                        ties += 1
                        if np.random.random() * ties < 1.0:
                            b_kind = 1
                            b_i = i
                            b_c = cn_i
                            b_j = j
                            b_cj = cn_j
        work += swap_work
        swap_start = 0 if full else (swap_start + s) % n
        # two-step ejection chains from the best shifts
        for k in range(top_l):
            if topv[k] == INF:
                break
            i = topi[k]
            cn_i = topc[k]
            co_i = sel[i]
            ai = cand_agent[co_i]
            b = cand_agent[cn_i]
            for q in range(count[b]):
                j = members[b, q]
                if j == i:
                    continue
                co_j = sel[j]
                for cn_j in range(item_ptr[j], item_ptr[j + 1]):
                    if cn_j == co_j:
                        continue
                    aj = cand_agent[cn_j]
                    if aj == b:
                        continue  # same agent
                    if aj == ai:
                        continue  # a swap, already evaluated
                    dc = cand_cost[cn_i] - cand_cost[co_i] + cand_cost[cn_j] - cand_cost[co_j]
                    if mode == 0:
                        dp, de = _pair_delta0(co_i, cn_i, co_j, cn_j, cres, camt, load, cap, w)
                    elif mode == 1:
                        dp, de = _delta_simple(co_i, cn_i, co_j, cn_j, cres, camt, load, cap, w)
                    else:
                        stamp += 1
                        dp, de = _delta_general(co_i, cn_i, co_j, cn_j, use_ptr, use_res,
                                                use_amt, load, cap, w, dl, mark, touched, stamp)
                    val = dc + dp
                    if tabu[cn_j] > it:
                        if not (excess + de <= 1e-12 and cost + dc < best_cost - 1e-9):
                            continue
                    if val < bv - 1e-12:
                        bv = val
                        ties = 1
                        b_kind = 1
                        b_i = i
                        b_c = cn_i
                        b_j = j
                        b_cj = cn_j
                    work += 1
        # ---- apply the chosen move
        if b_kind < 0:
            # every move is tabu: age the tabu list instead
            it += 1
            continue
        co = sel[b_i]
        _apply_cand(co, -1.0, use_ptr, use_res, use_amt, load)
        _apply_cand(b_c, 1.0, use_ptr, use_res, use_amt, load)
        cost += cand_cost[b_c] - cand_cost[co]
        sel[b_i] = b_c
        tabu[co] = it + ten_min + np.random.randint(0, ten_max - ten_min + 1)
        _set_member(members, count, pos, b_i, cand_agent[co], cand_agent[b_c])
        if b_kind == 1:
            co = sel[b_j]
            _apply_cand(co, -1.0, use_ptr, use_res, use_amt, load)
            _apply_cand(b_cj, 1.0, use_ptr, use_res, use_amt, load)
            cost += cand_cost[b_cj] - cand_cost[co]
            sel[b_j] = b_cj
            tabu[co] = it + ten_min + np.random.randint(0, ten_max - ten_min + 1)
            _set_member(members, count, pos, b_j, cand_agent[co], cand_agent[b_cj])
        excess = total_excess(load, cap)
        it += 1
        since_best += 1
        # ---- strategic oscillation: adapt the penalty weights
        if excess > 0.0:
            for r in range(R):
                if load[r] > cap[r]:
                    w[r] = min(w[r] * (1.0 + w_inc), w_max)
        else:
            for r in range(R):
                w[r] = max(w[r] * (1.0 - w_dec), w_min)
            if cost < best_cost - 1e-9:
                best_cost = cost
                best_sel[:] = sel
                since_best = 0
            # keep the elite pool of distinct good solutions
            if n_elite < elite_size or cost < elite_cost[n_elite - 1] - 1e-9:
                dup = False
                for e in range(n_elite):
                    if abs(elite_cost[e] - cost) <= 1e-9:
                        same = True
                        for i in range(n):
                            if elite[e, i] != sel[i]:
                                same = False
                                break
                        if same:
                            dup = True
                            break
                if not dup:
                    e = n_elite if n_elite < elite_size else elite_size - 1
                    if n_elite < elite_size:
                        n_elite += 1
                    while e > 0 and elite_cost[e - 1] > cost:
                        elite_cost[e] = elite_cost[e - 1]
                        elite[e, :] = elite[e - 1, :]
                        e -= 1
                    elite_cost[e] = cost
                    elite[e, :] = sel
        # periodic exact recomputation guards against drift in floating loads
        if it % 4096 == 0:
            load = compute_loads(sel, use_ptr, use_res, use_amt, R)
            excess = total_excess(load, cap)
            cost = 0.0
            for i in range(n):
                cost += cand_cost[sel[i]]
        # ---- diversification: relink two elite solutions, or kick the best one
        if since_best >= stall:
            since_best = 0
            restarts += 1
            if n_elite >= 2 and pr_hi > 0.0:
                e1 = np.random.randint(0, n_elite)
                e2 = np.random.randint(0, n_elite - 1)
                if e2 >= e1:
                    e2 += 1
                sel[:] = elite[e1, :]
                load = compute_loads(sel, use_ptr, use_res, use_amt, R)
                frac = pr_lo + (pr_hi - pr_lo) * np.random.random()
                stamp = _relink(sel, elite[e2], frac, cand_cost, use_ptr, use_res, use_amt,
                                cap, w, load, diff, dl, mark, touched, stamp)
            else:
                if n_elite > 0:
                    e = np.random.randint(0, n_elite)
                    sel[:] = elite[e, :]
                else:
                    sel[:] = best_sel
                n_kick = max(2, int(kick * n))
                for _ in range(n_kick):
                    i = np.random.randint(0, n)
                    lo = item_ptr[i]
                    hi = item_ptr[i + 1]
                    if hi - lo > 1:
                        sel[i] = lo + np.random.randint(0, hi - lo)
                for r in range(R):
                    w[r] = w0
            load = compute_loads(sel, use_ptr, use_res, use_amt, R)
            excess = total_excess(load, cap)
            cost = 0.0
            for i in range(n):
                cost += cand_cost[sel[i]]
            count[:] = 0
            for i in range(n):
                _set_member(members, count, pos, i, -1, cand_agent[sel[i]])
            tabu[:] = 0
    return best_sel, best_cost, it, restarts


# --------------------------------------------------------------------------- Lagrangian bound


@njit(cache=True)
def _knapsack_dp(idx, k, profit, wt, capacity, keep, dp, chosen):
    """0/1 knapsack (maximise) over items idx[:k] with integer weights and positive
    profits, exact by DP.

    Marks the chosen items in ``chosen`` and returns the optimal profit. After item t
    the table is only filled up to ``min(capacity, weight of items 0..t)``: above that
    every item so far fits, and with positive profits the best is to take them all.
    """
    C = capacity
    top = np.empty(k, dtype=np.int64)
    P = 0
    dp[0] = 0.0
    for t in range(k):
        c = idx[t]
        wc = wt[c]
        p = profit[c]
        row = t * (C + 1)
        if wc > C:
            for q in range(P + 1):
                keep[row + q] = 0
            top[t] = -1  # never taken
            continue
        P_new = min(C, P + wc)
        for q in range(P + 1, P_new + 1):
            dp[q] = dp[P]
        for q in range(P_new + 1):
            keep[row + q] = 0
        for q in range(P_new, wc - 1, -1):
            v = dp[q - wc] + p
            if v > dp[q]:
                dp[q] = v
                keep[row + q] = 1
        P = P_new
        top[t] = P
    best = dp[P]
    q = C
    for t in range(k - 1, -1, -1):
        if top[t] < 0:
            continue
        if q > top[t] or keep[t * (C + 1) + q] == 1:
            c = idx[t]
            chosen[c] = 1.0
            q -= wt[c]
    return best


@njit(cache=True)
def _knapsack_lp(idx, k, profit, amt, capacity, chosen, ratio):
    """LP relaxation of a 0/1 knapsack (Dantzig): a valid upper bound for any amounts."""
    for t in range(k):
        c = idx[t]
        ratio[t] = profit[c] / amt[c] if amt[c] > 0 else INF
    order = np.argsort(-ratio[:k])
    rest = capacity
    best = 0.0
    for t in range(k):
        c = idx[order[t]]
        if amt[c] <= rest:
            chosen[c] = 1.0
            best += profit[c]
            rest -= amt[c]
        else:
            frac = rest / amt[c]
            chosen[c] = frac
            best += profit[c] * frac
            break
    return best


@njit(cache=True)
def lagrangian_bound(
    item_ptr, cand_cost, cres, camt, cap, integral, ub, max_iter, time_limit, u0, lam0,
):
    """Lagrangian bound relaxing the assignment constraints, by subgradient optimisation.

    With multipliers u, ``L(u) = sum_i u_i + sum_r min { sum_c (cost_c - u_i(c)) x_c :
    sum_c camt_c x_c <= cap_r, x binary }`` where c runs over the candidates on resource
    r (candidates using no resource are taken alone when their reduced cost is negative).
    Every ``L(u)`` is a lower bound on the optimum. Each knapsack is solved exactly by
    dynamic programming when amounts and capacities are integers (``integral``), else
    by its LP relaxation (still a valid bound). Steps follow Polyak's rule towards the
    upper bound ``ub``, starting with factor ``lam0`` (2 from scratch, smaller from good
    multipliers) and halving it after 20 iterations without progress; they stop once
    the bound reaches ``ub`` (nothing cheaper than ``ub`` exists then).

    Returns
    -------
    best_bound, best_u, x_at_best, iterations
    """
    t_start = now()
    n = item_ptr.shape[0] - 1
    n_cand = cand_cost.shape[0]
    R = cap.shape[0]
    cand_item = np.empty(n_cand, dtype=np.int64)
    for i in range(n):
        for c in range(item_ptr[i], item_ptr[i + 1]):
            cand_item[c] = i
    # candidates grouped by resource (CSR)
    rptr = np.zeros(R + 2, dtype=np.int64)
    for c in range(n_cand):
        rptr[cres[c] + 2] += 1  # cres = -1 goes to group 0
    for r in range(R + 1):
        rptr[r + 1] += rptr[r]
    rcand = np.empty(n_cand, dtype=np.int64)
    fill = rptr[:-1].copy()
    for c in range(n_cand):
        g = cres[c] + 1
        rcand[fill[g]] = c
        fill[g] += 1
    wt = np.zeros(n_cand, dtype=np.int64)
    capi = np.zeros(R, dtype=np.int64)
    cap_max = 0
    if integral:
        for c in range(n_cand):
            wt[c] = int(round(camt[c]))
        for r in range(R):
            capi[r] = max(int(np.floor(cap[r] + 1e-9)), 0)
            cap_max = max(cap_max, capi[r])
    max_group = 0
    for g in range(R + 1):
        max_group = max(max_group, rptr[g + 1] - rptr[g])
    keep = np.zeros(max_group * (cap_max + 1) if integral else 1, dtype=np.uint8)
    dp = np.zeros(cap_max + 1)
    ratio = np.zeros(max_group)
    idx = np.empty(max_group, dtype=np.int64)

    u = u0.copy()
    profit = np.zeros(n_cand)
    x = np.zeros(n_cand)
    best_x = np.zeros(n_cand)
    best_u = u.copy()
    best = -INF
    g = np.zeros(n)
    lam = lam0
    no_gain = 0
    it = 0
    while it < max_iter:
        if it % 8 == 0 and now() - t_start >= time_limit:
            break
        it += 1
        L = 0.0
        for i in range(n):
            L += u[i]
        for c in range(n_cand):
            profit[c] = u[cand_item[c]] - cand_cost[c]
            x[c] = 0.0
        # candidates without a resource: take when profitable
        for t in range(rptr[0], rptr[1]):
            c = rcand[t]
            if profit[c] > 0:
                x[c] = 1.0
                L -= profit[c]
        for r in range(R):
            k = 0
            for t in range(rptr[r + 1], rptr[r + 2]):
                c = rcand[t]
                if profit[c] > 0:
                    if camt[c] <= 0:
                        x[c] = 1.0
                        L -= profit[c]
                    else:
                        idx[k] = c
                        k += 1
            if k == 0:
                continue
            if integral:
                L -= _knapsack_dp(idx, k, profit, wt, capi[r], keep, dp, x)
            else:
                L -= _knapsack_lp(idx, k, profit, camt, cap[r], x, ratio)
        for i in range(n):
            g[i] = 1.0
        for c in range(n_cand):
            g[cand_item[c]] -= x[c]
        norm = 0.0
        for i in range(n):
            norm += g[i] * g[i]
        if L > best + 1e-9:
            if L > best + 1e-6 * max(1.0, abs(best)):
                no_gain = 0
            best = L
            best_u[:] = u
            best_x[:] = x
        else:
            no_gain += 1
        if norm <= 1e-12:
            break  # the relaxed solution is a feasible assignment: L is optimal
        if best >= ub:
            break  # the bound reaches the caller's target: nothing below it to find
        if no_gain >= 20:
            lam *= 0.5
            no_gain = 0
            if lam < 1e-4:
                break
        target = ub if ub > L + 1e-6 * max(1.0, abs(L)) else L + 1e-3 * max(1.0, abs(L))
        step = lam * (target - L) / norm
        for i in range(n):
            u[i] += step * g[i]
    return best, best_u, best_x, it


# --------------------------------------------------------------------------- reduced-cost fixing and dives


@njit(cache=True)
def _fill_forward(idx, k, profit, wt, C, F):
    """F[t, q]: best profit from the first t items of idx with capacity q (0/1 knapsack)."""
    for q in range(C + 1):
        F[0, q] = 0.0
    for t in range(k):
        c = idx[t]
        wc = wt[c]
        p = profit[c]
        for q in range(C + 1):
            v = F[t, q]
            if q >= wc:
                alt = F[t, q - wc] + p
                if alt > v:
                    v = alt
            F[t + 1, q] = v


@njit(cache=True)
def _fill_backward(idx, k, profit, wt, C, Bk):
    """Bk[t, q]: best profit from items t..k-1 of idx with capacity q."""
    for q in range(C + 1):
        Bk[k, q] = 0.0
    for t in range(k - 1, -1, -1):
        c = idx[t]
        wc = wt[c]
        p = profit[c]
        for q in range(C + 1):
            v = Bk[t + 1, q]
            if q >= wc:
                alt = Bk[t + 1, q - wc] + p
                if alt > v:
                    v = alt
            Bk[t, q] = v


@njit(cache=True)
def lagrangian_forced_bounds(item_ptr, cand_cost, cres, camt, cap, u):
    """Lagrangian bound with each candidate forced in, for reduced-cost fixing.

    For candidate c of item i on resource a, forcing ``x_c = 1`` (hence every other
    candidate of i to 0) changes each knapsack independently: knapsack a must take c,
    every other knapsack must leave item i out. With exact knapsack values from forward
    and backward dynamic programmes this gives ``Lc[c] = L(u) + raise_a(c) +
    sum_b drop_b(i)``, a lower bound on every solution that uses c: a candidate with
    ``Lc[c] >= UB`` cannot appear in a solution better than ``UB``. Needs integer amounts
    and capacities, and every candidate on at most one resource (candidates on no
    resource are free and get ``Lc = L(u) + max(reduced cost, 0) + drops``).

    Returns
    -------
    Lc : float64 array over candidates
    L : float
        ``L(u)`` itself.
    """
    n = item_ptr.shape[0] - 1
    n_cand = cand_cost.shape[0]
    R = cap.shape[0]
    cand_item = np.empty(n_cand, dtype=np.int64)
    for i in range(n):
        for c in range(item_ptr[i], item_ptr[i + 1]):
            cand_item[c] = i
    wt = np.empty(n_cand, dtype=np.int64)
    for c in range(n_cand):
        wt[c] = int(round(camt[c]))
    capi = np.empty(R, dtype=np.int64)
    for r in range(R):
        capi[r] = max(int(np.floor(cap[r] + 1e-9)), 0)
    profit = np.empty(n_cand)
    for c in range(n_cand):
        profit[c] = u[cand_item[c]] - cand_cost[c]
    raise_ = np.zeros(n_cand)      # increase of the candidate's own knapsack when forced in
    drop = np.zeros(n_cand)        # increase of its knapsack when the item is forced out
    L = 0.0
    for i in range(n):
        L += u[i]
    # candidates without a resource
    for c in range(n_cand):
        if cres[c] < 0:
            if profit[c] > 0:
                L -= profit[c]
                drop[c] = profit[c]
            else:
                raise_[c] = -profit[c]
    # group candidates by resource
    counts = np.zeros(R, dtype=np.int64)
    for c in range(n_cand):
        if cres[c] >= 0:
            counts[cres[c]] += 1
    kmax = 0
    cmax = 0
    for r in range(R):
        kmax = max(kmax, counts[r])
        cmax = max(cmax, capi[r])
    idx = np.empty(kmax, dtype=np.int64)
    F = np.empty((kmax + 1, cmax + 1))
    Bk = np.empty((kmax + 1, cmax + 1))
    for r in range(R):
        C = capi[r]
        k = 0
        for c in range(n_cand):
            if cres[c] == r and profit[c] > 0 and wt[c] <= C:
                if wt[c] == 0:
                    L -= profit[c]
                    drop[c] = profit[c]
                    continue
                idx[k] = c
                k += 1
        _fill_forward(idx, k, profit, wt, C, F)
        _fill_backward(idx, k, profit, wt, C, Bk)
        P = F[k, C]
        L -= P
        # profitable members: forced out / forced in via forward x backward combination
        for t in range(k):
            c = idx[t]
            best_out = -INF
            for q1 in range(C + 1):
                v = F[t, q1] + Bk[t + 1, C - q1]
                if v > best_out:
                    best_out = v
            drop[c] = P - best_out
            cw = C - wt[c]
            best_in = -INF
            for q1 in range(cw + 1):
                v = F[t, q1] + Bk[t + 1, cw - q1]
                if v > best_in:
                    best_in = v
            raise_[c] = P - (profit[c] + best_in)
        # the others on r (not profitable, or too heavy): forced in costs their reduced
        # cost plus the capacity they take away
        for c in range(n_cand):
            if cres[c] != r:
                continue
            if profit[c] > 0 and wt[c] <= C and wt[c] > 0:
                continue
            if wt[c] == 0 and profit[c] > 0:
                continue
            if wt[c] > C:
                raise_[c] = INF
            else:
                raise_[c] = -profit[c] + P - F[k, C - wt[c]]
    Lc = np.empty(n_cand)
    for i in range(n):
        tot_drop = 0.0
        for c in range(item_ptr[i], item_ptr[i + 1]):
            tot_drop += drop[c]
        for c in range(item_ptr[i], item_ptr[i + 1]):
            Lc[c] = L + raise_[c] + tot_drop - drop[c]
    return Lc, L


@njit(cache=True)
def lagrangian_dive(item_ptr, cand_cost, cres, camt, cap, allowed, u0, target, integral,
                    frac, noise, lr_iters, lam0, seed, time_limit):
    """Build a solution of cost < ``target`` by Lagrangian-guided fixing (one dive).

    Each step solves the Lagrangian relaxation of the items still free (warm-started
    multipliers, residual capacities), then uses the forced bounds of
    `lagrangian_forced_bounds` twice: candidates whose forced bound reaches ``target``
    are removed for good (they cannot be part of a solution below ``target``), and the
    free items with the largest Lagrangian regret (second-best minus best forced bound,
    randomly perturbed by ``noise``) are fixed to their best candidate, at least a
    fraction ``frac`` of them per step. The dive fails when an item runs out of
    candidates, the bound of the residual problem reaches ``target``, or a step would
    start after ``time_limit`` seconds.

    Needs every candidate on at most one resource and integer amounts and capacities.

    Returns
    -------
    sel : int64 array
        Chosen candidate per item (valid when ``ok``).
    ok : bool
    steps : int
    why : int
        0 on success, 1 at the time limit, 2 when an item's candidates no longer fit,
        3 when the bound reaches ``target`` (or pruning on it leaves an item without
        candidates).
    """
    np.random.seed(seed)
    t_start = now()
    n = item_ptr.shape[0] - 1
    n_cand = cand_cost.shape[0]
    fixed = np.full(n, -1, dtype=np.int64)
    capres = cap.copy()
    act = allowed.copy()
    u = u0.copy()
    F = 0.0
    n_free = n
    steps = 0
    free_items = np.empty(n, dtype=np.int64)
    sub_ptr = np.zeros(n + 1, dtype=np.int64)
    sub_map = np.empty(n_cand, dtype=np.int64)
    while n_free > 0:
        if steps > 0 and now() - t_start >= time_limit:
            return fixed, False, steps, 1
        steps += 1
        k = 0
        fi = 0
        for i in range(n):
            if fixed[i] >= 0:
                continue
            free_items[fi] = i
            for c in range(item_ptr[i], item_ptr[i + 1]):
                if not act[c]:
                    continue
                r = cres[c]
                if r >= 0 and camt[c] > capres[r] + 1e-9:
                    continue
                sub_map[k] = c
                k += 1
            fi += 1
            sub_ptr[fi] = k
            if sub_ptr[fi] == sub_ptr[fi - 1]:
                for c in range(item_ptr[i], item_ptr[i + 1]):
                    if act[c]:
                        return fixed, False, steps, 2  # its candidates no longer fit
                return fixed, False, steps, 3
        sp = sub_ptr[: n_free + 1].copy()
        sm = sub_map[:k]
        s_cost = cand_cost[sm]
        s_res = cres[sm]
        s_amt = camt[sm]
        uf = u[free_items[:n_free]]
        L, u_new, _x, _its = lagrangian_bound(sp, s_cost, s_res, s_amt, capres, integral,
                                              target - F, lr_iters, INF, uf, lam0)
        for t in range(n_free):
            u[free_items[t]] = u_new[t]
        Lc, L2 = lagrangian_forced_bounds(sp, s_cost, s_res, s_amt, capres, u_new)
        bound = F + max(L, L2)
        if integral:
            bound = np.ceil(bound - 1e-6)
        if bound >= target - 1e-9:
            return fixed, False, steps, 3
        # prune, and rank the free items by Lagrangian regret
        score = np.empty(n_free)
        best_c = np.empty(n_free, dtype=np.int64)
        n_single = 0
        for t in range(n_free):
            b1 = INF
            b2 = INF
            bc = -1
            for q in range(sp[t], sp[t + 1]):
                v = F + Lc[q]
                if integral:
                    v = np.ceil(v - 1e-6)
                if v >= target - 1e-9:
                    act[sm[q]] = False
                    continue
                if Lc[q] < b1:
                    b2 = b1
                    b1 = Lc[q]
                    bc = q
                elif Lc[q] < b2:
                    b2 = Lc[q]
            if bc < 0:
                return fixed, False, steps, 3
            best_c[t] = sm[bc]
            if b2 == INF:
                score[t] = INF
                n_single += 1
            else:
                score[t] = (b2 - b1) * (1.0 + noise * np.random.random())
        n_fix = max(max(1, int(frac * n_free)), n_single)
        order = np.argsort(-score)
        fixed_now = 0
        for t in order[:n_fix]:
            c = best_c[t]
            r = cres[c]
            if r >= 0 and camt[c] > capres[r] + 1e-9:
                continue
            i = free_items[t]
            fixed[i] = c
            if r >= 0:
                capres[r] -= camt[c]
            F += cand_cost[c]
            fixed_now += 1
        n_free -= fixed_now
        if fixed_now == 0:
            return fixed, False, steps, 2
    return fixed, True, steps, 0


@njit(cache=True)
def price_lagrangian(item_ptr, cand_cost, cres, camt, cap, ub, max_iter, v0):
    """Lagrangian bound relaxing the capacities: ``L(v) = sum_i min_c (cost_c + v_r(c) camt_c)
    - sum_r v_r cap_r`` over prices ``v >= 0``, by subgradient optimisation (Polyak steps
    towards ``ub``, factor halved after 20 iterations without progress).

    The maximum over ``v`` equals the LP-relaxation bound. Returns ``(best_bound, best_v,
    sel, iterations)`` where ``sel`` is every item's cheapest candidate at ``best_v``.
    """
    n = item_ptr.shape[0] - 1
    R = cap.shape[0]
    v = v0.copy()
    best_v = v.copy()
    best = -INF
    g = np.zeros(R)
    sel = np.empty(n, dtype=np.int64)
    best_sel = np.empty(n, dtype=np.int64)
    lam = 2.0
    no_gain = 0
    it = 0
    while it < max_iter:
        it += 1
        L = 0.0
        for r in range(R):
            L -= v[r] * cap[r]
            g[r] = -cap[r]
        for i in range(n):
            bc = -1
            bvl = INF
            for c in range(item_ptr[i], item_ptr[i + 1]):
                r = cres[c]
                val = cand_cost[c] + (v[r] * camt[c] if r >= 0 else 0.0)
                if val < bvl:
                    bvl = val
                    bc = c
            sel[i] = bc
            L += bvl
            if cres[bc] >= 0:
                g[cres[bc]] += camt[bc]
        if L > best + 1e-9:
            if L > best + 1e-6 * max(1.0, abs(best)):
                no_gain = 0
            else:
                no_gain += 1
            best = L
            best_v[:] = v
            best_sel[:] = sel
        else:
            no_gain += 1
        norm = 0.0
        for r in range(R):
            if v[r] <= 0.0 and g[r] < 0.0:
                g[r] = 0.0  # projected: a free capacity cannot lower a zero price
            norm += g[r] * g[r]
        if norm <= 1e-12:
            break  # complementary and feasible: L is the LP optimum
        if no_gain >= 20:
            lam *= 0.5
            no_gain = 0
            if lam < 1e-5:
                break
        target = ub if ub > L + 1e-6 * max(1.0, abs(L)) else L + 1e-3 * max(1.0, abs(L))
        step = lam * (target - L) / norm
        for r in range(R):
            v[r] = max(0.0, v[r] + step * g[r])
    return best, best_v, best_sel, it
