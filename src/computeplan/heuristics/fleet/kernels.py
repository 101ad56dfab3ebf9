"""Numba kernels of the fleet heuristic: construction and local search on the data-centre
model in candidate form (FORMULATION.md with servers on at exactly busy / umax).

Items are workloads or chunks of divisible workloads; each picks one candidate pool.
Candidate ``c`` adds ``busy[c]`` busy servers to pool ``pool[c]`` and ``it[c]`` IT kW to
site ``site[c]``, at variable cost ``var[c]`` (objective units per hour). A site whose
halls may idle pays ``hall_cost[j]`` per active hall, ``ceil(IT / hall_kw)`` halls; other
sites pay a constant. Candidate ``-1`` is "unserved" at cost ``unserved[i]`` (infinite
for must-serve items). Kernels take and return arrays only.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from computeplan.heuristics.gap.kernels import now

TOL = 1e-9


@njit(cache=True)
def halls_needed(it: float, hall_kw: float) -> float:
    if it <= 1e-12 * hall_kw:
        return 0.0
    return max(1.0, float(np.ceil(it / hall_kw - 1e-9)))


@njit(cache=True)
def hall_delta(j: int, it_now: float, d_it: float, site_idle, hall_kw, hall_cost) -> float:
    """Change of site j's hall cost when its IT load moves by d_it."""
    if not site_idle[j]:
        return 0.0
    return hall_cost[j] * (halls_needed(it_now + d_it, hall_kw[j]) - halls_needed(it_now, hall_kw[j]))


@njit(cache=True)
def _fits_after(p, j, add_busy, add_it, pool_load, site_it, pool_cap, site_cap):
    return (pool_load[p] + add_busy <= pool_cap[p] * (1 + TOL) + TOL
            and site_it[j] + add_it <= site_cap[j] * (1 + TOL) + TOL)


@njit(cache=True)
def construct(item_ptr, order, cand_pool, cand_site, var, busy, it, unserved, pool_cap, site_cap,
              hall_kw, hall_cost, site_idle):
    """Greedy: items in ``order`` take their cheapest feasible candidate, halls priced at
    their cost per kW (the LP's view of a hall). Returns (sel, pool_load, site_it, n_unplaced)."""
    n_items = item_ptr.size - 1
    sel = np.full(n_items, -1, dtype=np.int64)
    pool_load = np.zeros(pool_cap.size)
    site_it = np.zeros(site_cap.size)
    unplaced = 0
    for t in range(order.size):
        i = order[t]
        best = -1
        best_cost = unserved[i]
        for c in range(item_ptr[i], item_ptr[i + 1]):
            p = cand_pool[c]
            j = cand_site[c]
            if not _fits_after(p, j, busy[c], it[c], pool_load, site_it, pool_cap, site_cap):
                continue
            cost = var[c] + (hall_cost[j] / hall_kw[j] * it[c] if site_idle[j] else 0.0)
            if cost < best_cost:
                best_cost = cost
                best = c
        if best >= 0:
            sel[i] = best
            pool_load[cand_pool[best]] += busy[best]
            site_it[cand_site[best]] += it[best]
        elif not np.isfinite(unserved[i]):
            unplaced += 1
    return sel, pool_load, site_it, unplaced


@njit(cache=True)
def place_unplaced(item_ptr, cand_pool, cand_site, var, busy, it, unserved, pool_cap, site_cap,
                   hall_kw, hall_cost, site_idle, sel, pool_load, site_it):
    """Repair: a must-serve item with no candidate yet makes room in one of its pools by
    moving the items there to their other candidates with room, and when that is not
    enough, by leaving optional items there unserved; then it takes the room. Returns the
    number still unplaced."""
    n_items = item_ptr.size - 1
    left = 0
    for i in range(n_items):
        if sel[i] >= 0 or np.isfinite(unserved[i]):
            continue
        placed = False
        for c in range(item_ptr[i], item_ptr[i + 1]):
            p = cand_pool[c]
            j = cand_site[c]
            # try to move other items out of pool p to make room
            need_p = pool_load[p] + busy[c] - pool_cap[p]
            need_j = site_it[j] + it[c] - site_cap[j]
            for eject in range(2):  # first moves elsewhere, then optional work left unserved
                for k in range(n_items):
                    if need_p <= TOL and need_j <= TOL:
                        break
                    ck = sel[k]
                    if ck < 0 or k == i or (cand_pool[ck] != p and cand_site[ck] != j):
                        continue
                    if eject == 1 and not np.isfinite(unserved[k]):
                        continue
                    to = -2
                    if eject == 1:
                        to = -1
                    else:
                        for c2 in range(item_ptr[k], item_ptr[k + 1]):
                            if c2 == ck or cand_pool[c2] == p or cand_site[c2] == j:
                                continue
                            if _fits_after(cand_pool[c2], cand_site[c2], busy[c2], it[c2], pool_load, site_it,
                                           pool_cap, site_cap):
                                to = c2
                                break
                    if to == -2:
                        continue
                    pool_load[cand_pool[ck]] -= busy[ck]
                    site_it[cand_site[ck]] -= it[ck]
                    if to >= 0:
                        pool_load[cand_pool[to]] += busy[to]
                        site_it[cand_site[to]] += it[to]
                    if cand_pool[ck] == p:
                        need_p -= busy[ck]
                    if cand_site[ck] == j:
                        need_j -= it[ck]
                    sel[k] = to
            if need_p <= TOL and need_j <= TOL:
                sel[i] = c
                pool_load[p] += busy[c]
                site_it[j] += it[c]
                placed = True
                break
        if not placed:
            left += 1
    return left


@njit(cache=True)
def local_search(item_ptr, cand_pool, cand_site, var, busy, it, unserved, pool_cap, site_cap,
                 hall_kw, hall_cost, site_idle, sel, pool_load, site_it, time_limit, seed, max_passes=-1):
    """First-improvement shift moves (an item to another candidate, or to unserved when
    that is allowed), exact on the hall cost, in random order until no move improves,
    time runs out or ``max_passes`` passes are done (``-1``: no pass limit); then a pass
    that empties a hall by moving its items when that pays. Returns (passes, moves)."""
    np.random.seed(seed)
    n_items = item_ptr.size - 1
    t0 = now()
    passes = 0
    moves = 0
    improved = True
    while improved and now() - t0 < time_limit and (max_passes < 0 or passes < max_passes):
        improved = False
        passes += 1
        order = np.random.permutation(n_items)
        for t in range(n_items):
            if (t & 1023) == 0 and now() - t0 >= time_limit:
                break
            i = order[t]
            c0 = sel[i]
            if c0 >= 0:
                p0 = cand_pool[c0]
                j0 = cand_site[c0]
                cost0 = var[c0]
            else:
                p0 = -1
                j0 = -1
                cost0 = unserved[i]
            best = -2
            best_delta = -1e-12 * (1.0 + abs(cost0))
            for c in range(item_ptr[i], item_ptr[i + 1]):
                if c == c0:
                    continue
                p = cand_pool[c]
                j = cand_site[c]
                add_p = busy[c] - (busy[c0] if p == p0 else 0.0)
                if pool_load[p] + add_p > pool_cap[p] * (1 + TOL) + TOL:
                    continue
                add_j = it[c] - (it[c0] if j == j0 else 0.0)
                if site_it[j] + add_j > site_cap[j] * (1 + TOL) + TOL:
                    continue
                delta = var[c] - cost0
                if j == j0:
                    delta += hall_delta(j, site_it[j], add_j, site_idle, hall_kw, hall_cost)
                else:
                    delta += hall_delta(j, site_it[j], it[c], site_idle, hall_kw, hall_cost)
                    if j0 >= 0:
                        delta += hall_delta(j0, site_it[j0], -it[c0], site_idle, hall_kw, hall_cost)
                if delta < best_delta:
                    best_delta = delta
                    best = c
            if c0 >= 0 and np.isfinite(unserved[i]):
                delta = unserved[i] - cost0 + hall_delta(j0, site_it[j0], -it[c0], site_idle, hall_kw, hall_cost)
                if delta < best_delta:
                    best_delta = delta
                    best = -1
            if best == -2:
                continue
            if c0 >= 0:
                pool_load[p0] -= busy[c0]
                site_it[j0] -= it[c0]
            if best >= 0:
                pool_load[cand_pool[best]] += busy[best]
                site_it[cand_site[best]] += it[best]
            sel[i] = best
            moves += 1
            improved = True
    return passes, moves


@njit(cache=True)
def plan_cost(sel, var, it, unserved, cand_site, site_idle, hall_kw, hall_cost, n_sites):
    """Objective per hour of a selection: variable costs, hall costs of idle-able sites,
    unserved penalties (constant hall costs of the other sites excluded)."""
    total = 0.0
    site_it = np.zeros(n_sites)
    for i in range(sel.size):
        c = sel[i]
        if c >= 0:
            total += var[c]
            site_it[cand_site[c]] += it[c]
        else:
            total += unserved[i]
    for j in range(n_sites):
        if site_idle[j]:
            total += hall_cost[j] * halls_needed(site_it[j], hall_kw[j])
    return total


@njit(cache=True)
def close_halls(item_ptr, cand_pool, cand_site, var, busy, it, unserved, pool_cap, site_cap,
                hall_kw, hall_cost, site_idle, sel, pool_load, site_it, item_order):
    """For every idle-able site, try to switch off its last active hall: move the site's
    items (smallest first) to their cheapest feasible candidate elsewhere until the site's
    IT fits one hall fewer, and keep the moves when they lower the cost. Returns halls closed."""
    n_items = item_ptr.size - 1
    n_sites = site_cap.size
    closed = 0
    moved_item = np.empty(n_items, dtype=np.int64)
    moved_from = np.empty(n_items, dtype=np.int64)
    for j in range(n_sites):
        if not site_idle[j]:
            continue
        while True:
            z = halls_needed(site_it[j], hall_kw[j])
            if z <= 0:
                break
            goal = (z - 1.0) * hall_kw[j]
            delta = -hall_cost[j]
            nm = 0
            ok = True
            for t in range(n_items):
                if site_it[j] <= goal * (1 + 1e-12) + TOL:
                    break
                i = item_order[t]
                c0 = sel[i]
                if c0 < 0 or cand_site[c0] != j:
                    continue
                best = -2
                best_cost = np.inf
                if np.isfinite(unserved[i]):
                    best = -1
                    best_cost = unserved[i]
                for c in range(item_ptr[i], item_ptr[i + 1]):
                    jc = cand_site[c]
                    if jc == j:
                        continue
                    p = cand_pool[c]
                    if not _fits_after(p, jc, busy[c], it[c], pool_load, site_it, pool_cap, site_cap):
                        continue
                    cc = var[c] + hall_delta(jc, site_it[jc], it[c], site_idle, hall_kw, hall_cost)
                    if cc < best_cost:
                        best_cost = cc
                        best = c
                if best == -2:
                    continue
                delta += best_cost - var[c0]
                pool_load[cand_pool[c0]] -= busy[c0]
                site_it[j] -= it[c0]
                if best >= 0:
                    pool_load[cand_pool[best]] += busy[best]
                    site_it[cand_site[best]] += it[best]
                moved_item[nm] = i
                moved_from[nm] = c0
                nm += 1
                sel[i] = best
            if site_it[j] > goal * (1 + 1e-12) + TOL:
                ok = False
            if ok and delta < -1e-12 * (1.0 + hall_cost[j]):
                closed += 1
                continue
            # undo
            for t in range(nm - 1, -1, -1):
                i = moved_item[t]
                c_now = sel[i]
                if c_now >= 0:
                    pool_load[cand_pool[c_now]] -= busy[c_now]
                    site_it[cand_site[c_now]] -= it[c_now]
                c0 = moved_from[t]
                pool_load[cand_pool[c0]] += busy[c0]
                site_it[cand_site[c0]] += it[c0]
                sel[i] = c0
            break
    return closed


@njit(cache=True)
def lagrangian_step(wl_ptr, cand_pool, cand_site, base, busy, it, unserved, lam, mu, pool_load, site_load):
    """One evaluation of the Lagrangian with capacity multipliers ``lam`` (pools) and ``mu``
    (sites): every workload takes its cheapest priced candidate (or stays unserved when
    that is cheaper). Fills the loads of that choice; returns the sum of the minima."""
    pool_load[:] = 0.0
    site_load[:] = 0.0
    total = 0.0
    for i in range(wl_ptr.size - 1):
        best = unserved[i]
        arg = -1
        for c in range(wl_ptr[i], wl_ptr[i + 1]):
            v = base[c] + lam[cand_pool[c]] * busy[c] + mu[cand_site[c]] * it[c]
            if v < best:
                best = v
                arg = c
        total += best
        if arg >= 0:
            pool_load[cand_pool[arg]] += busy[arg]
            site_load[cand_site[arg]] += it[arg]
    return total


@njit(cache=True)
def ejection_pass(item_ptr, cand_pool, cand_site, var, busy, it, unserved, pool_cap, site_cap,
                  hall_kw, hall_cost, site_idle, sel, pool_load, site_it, time_limit, seed, max_scan):
    """Ejection moves: item i takes a cheaper candidate c in a pool with no room, and an
    item k already in that pool moves to one of its own other candidates with room (a
    chain of length two), when the pair lowers the cost. Unserved optional items try it
    too. Pools keep their items in doubly linked lists. Returns the number of moves."""
    np.random.seed(seed)
    n_items = item_ptr.size - 1
    n_pools = pool_cap.size
    head = np.full(n_pools, -1, dtype=np.int64)
    nxt = np.full(n_items, -1, dtype=np.int64)
    prv = np.full(n_items, -1, dtype=np.int64)
    for i in range(n_items):
        c = sel[i]
        if c >= 0:
            p = cand_pool[c]
            nxt[i] = head[p]
            if head[p] >= 0:
                prv[head[p]] = i
            head[p] = i
    t0 = now()
    moves = 0
    order = np.random.permutation(n_items)
    for t in range(n_items):
        if (t & 255) == 0 and now() - t0 >= time_limit:
            break
        i = order[t]
        c0 = sel[i]
        cost0 = var[c0] if c0 >= 0 else unserved[i]
        if not np.isfinite(cost0):
            cost0 = 1e300
        best_delta = -1e-9 * (1.0 + abs(cost0)) if cost0 < 1e299 else 0.0
        best_c = -1
        best_k = -1
        best_ck = -1
        for c in range(item_ptr[i], item_ptr[i + 1]):
            if c == c0 or var[c] >= cost0 + best_delta:
                continue
            p = cand_pool[c]
            j = cand_site[c]
            # room already there? plain shifts are the local search's job
            rel_busy = busy[c0] if (c0 >= 0 and cand_pool[c0] == p) else 0.0
            rel_it = it[c0] if (c0 >= 0 and cand_site[c0] == j) else 0.0
            if _fits_after(p, j, busy[c] - rel_busy, it[c] - rel_it, pool_load, site_it, pool_cap, site_cap):
                continue
            k = head[p]
            scanned = 0
            while k >= 0 and scanned < max_scan:
                scanned += 1
                ck = sel[k]
                if k == i or ck < 0:
                    k = nxt[k]
                    continue
                jk = cand_site[ck]
                # does c fit once k is gone from pool p (and from site jk when it is j)?
                free_it = it[ck] if jk == j else 0.0
                if not _fits_after(p, j, busy[c] - rel_busy - busy[ck], it[c] - rel_it - free_it,
                                   pool_load, site_it, pool_cap, site_cap):
                    k = nxt[k]
                    continue
                for c2 in range(item_ptr[k], item_ptr[k + 1]):
                    if c2 == ck:
                        continue
                    p2 = cand_pool[c2]
                    j2 = cand_site[c2]
                    if p2 == p:
                        continue
                    # k's new place must have room after i's own move
                    add_b = busy[c2] - (busy[c0] if (c0 >= 0 and cand_pool[c0] == p2) else 0.0)
                    add_i = it[c2] - (it[c0] if (c0 >= 0 and cand_site[c0] == j2) else 0.0)
                    if j2 == j:
                        add_i += it[c] - free_it - rel_it
                    if not _fits_after(p2, j2, add_b, add_i, pool_load, site_it, pool_cap, site_cap):
                        continue
                    delta = var[c] - cost0 + var[c2] - var[ck]
                    if site_idle[j] or site_idle[j2] or site_idle[jk] or (c0 >= 0 and site_idle[cand_site[c0]]):
                        # exact hall change over the (at most four) sites touched
                        delta += _hall_change(c0, c, ck, c2, cand_site, it, site_it, site_idle, hall_kw, hall_cost)
                    if delta < best_delta:
                        best_delta = delta
                        best_c = c
                        best_k = k
                        best_ck = c2
                k = nxt[k]
        if best_c < 0:
            continue
        # apply: k leaves pool p for best_ck; i takes best_c
        k = best_k
        ck = sel[k]
        _move(k, ck, best_ck, cand_pool, cand_site, busy, it, pool_load, site_it, sel, head, nxt, prv)
        _move(i, c0, best_c, cand_pool, cand_site, busy, it, pool_load, site_it, sel, head, nxt, prv)
        moves += 1
    return moves


@njit(cache=True)
def _move(i, c_old, c_new, cand_pool, cand_site, busy, it, pool_load, site_it, sel, head, nxt, prv):
    if c_old >= 0:
        p = cand_pool[c_old]
        pool_load[p] -= busy[c_old]
        site_it[cand_site[c_old]] -= it[c_old]
        if prv[i] >= 0:
            nxt[prv[i]] = nxt[i]
        else:
            head[p] = nxt[i]
        if nxt[i] >= 0:
            prv[nxt[i]] = prv[i]
    p = cand_pool[c_new]
    pool_load[p] += busy[c_new]
    site_it[cand_site[c_new]] += it[c_new]
    prv[i] = -1
    nxt[i] = head[p]
    if head[p] >= 0:
        prv[head[p]] = i
    head[p] = i
    sel[i] = c_new


@njit(cache=True)
def _hall_change(c0, c, ck, c2, cand_site, it, site_it, site_idle, hall_kw, hall_cost):
    """Exact hall-cost change when i moves c0 -> c and k moves ck -> c2."""
    sites = np.empty(4, dtype=np.int64)
    d_it = np.zeros(4)
    ns = 0
    for (cc, sign) in ((c0, -1.0), (c, 1.0), (ck, -1.0), (c2, 1.0)):
        if cc < 0:
            continue
        jj = cand_site[cc]
        found = -1
        for q in range(ns):
            if sites[q] == jj:
                found = q
        if found < 0:
            sites[ns] = jj
            d_it[ns] = sign * it[cc]
            ns += 1
        else:
            d_it[found] += sign * it[cc]
    total = 0.0
    for q in range(ns):
        total += hall_delta(sites[q], site_it[sites[q]], d_it[q], site_idle, hall_kw, hall_cost)
    return total
