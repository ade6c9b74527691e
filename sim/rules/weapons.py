"""Weapons (ODD 7.20): what arms the armed groups, and what disarmament does with the weapons.

Each faction holds a stock off the map (at its stronghold), fed from outside
(``weapons.supply``), and hides caches on the map (initially near its stronghold). Nobody joins
or re-arms without a weapon at hand: a cache within ``weapons.reach`` cells, else the stock of
the faction he joins. A fighter who disarms hands in a weapon (``weapons.hand_in``) or hides it
in a cache where he stands; a weapon handed in is destroyed (``ddr.destroy_share``) or stored
at the DDR site. A force's fresh tip near a cache can lead it there (the weapons are seized);
fighters raid a store in their vision that they do not fear to approach (the stolen weapons
join their faction's stock). So whether collected weapons are destroyed or stored matters
only through raids: stored weapons can come back.

Cells hold weapon counts (``L_CACHE``, ``L_STORE``); the stocks and the running totals are
``Layers.scalars``. With ``mechanisms.weapons`` off none of this happens and nobody needs a
weapon.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import wrap
from sim.engine.layout import (
    DDR_UNIT,
    EV_ARMING_FAILED,
    EV_WEAPONS_COLLECTED,
    EV_WEAPONS_DESTROYED,
    EV_WEAPONS_HIDDEN,
    EV_WEAPONS_RAIDED,
    EV_WEAPONS_SEIZED,
    I_HOME,
    I_KIND,
    I_ROLE,
    I_X,
    I_Y,
    L_CACHE,
    L_STORE,
    PEACEKEEPER,
    S_CACHED,
    S_STOCK0,
    S_STORED,
    T_AGE,
    T_ALIVE,
    T_X,
    T_Y,
)
from sim.engine.rng import uniform
from sim.rules.information import freshness


@njit(inline="always", cache=True)
def nearest_with(plane, x, y, r, torus):
    """ODD 7.20: the nearest cell (Chebyshev; the first in scan order among equals) within
    ``r`` cells of (x, y) whose ``plane`` holds at least one weapon, as a flat index; -1 if
    none."""
    w, h = plane.shape
    best = -1
    best_d = r + 1
    for dx in range(-r, r + 1):
        cx = wrap(x + dx, w, torus)
        if cx < 0:
            continue
        for dy in range(-r, r + 1):
            cy = wrap(y + dy, h, torus)
            if cy < 0 or plane[cx, cy] < 1.0:
                continue
            d = max(abs(dx), abs(dy))
            if d < best_d:
                best_d = d
                best = cx * h + cy
    return best


@njit(inline="always", cache=True)
def arm(lay, prm, x, y, faction, events):
    """ODD 7.20, arming: a resident at (x, y) who joins ``faction`` or re-arms takes a weapon
    from the nearest cache within ``weapons.reach`` cells, else from the faction's stock.
    Returns False (an arming that failed: he does not join) when there is none; always True
    with ``mechanisms.weapons`` off."""
    if not prm.mechanisms_weapons:
        return True
    s = lay.scalars
    c = nearest_with(lay.f[L_CACHE], x, y, prm.weapons_reach, prm.world_torus) \
        if s[S_CACHED] >= 1.0 else -1
    if c >= 0:
        h = lay.f.shape[2]
        lay.f[L_CACHE, c // h, c % h] -= 1.0
        s[S_CACHED] -= 1.0
        return True
    if s[S_STOCK0 + faction] >= 1.0:
        s[S_STOCK0 + faction] -= 1.0
        return True
    events[EV_ARMING_FAILED] += 1
    return False


@njit(inline="always", cache=True)
def ddr_site(ag, grid, prm, x, y):
    """ODD 7.20: where a weapon handed in at (x, y) is stored, the site (home) of the nearest
    DDR unit within ``ddr.radius`` cells (its own cell if it has no home; (x, y) if none is
    left), as a flat index."""
    occ = grid.occ
    w, h = occ.shape
    r = prm.ddr_radius
    best = x * h + y
    best_d = r + 1
    for dx in range(-r, r + 1):
        cx = wrap(x + dx, w, prm.world_torus)
        if cx < 0:
            continue
        for dy in range(-r, r + 1):
            cy = wrap(y + dy, h, prm.world_torus)
            if cy < 0:
                continue
            b = occ[cx, cy]
            if b < 0 or ag.i[b, I_KIND] != PEACEKEEPER or ag.i[b, I_ROLE] != DDR_UNIT:
                continue
            d = max(abs(dx), abs(dy))
            if d < best_d:
                best_d = d
                home = ag.i[b, I_HOME]
                best = home if home >= 0 else cx * h + cy
    return best


@njit(inline="always", cache=True)
def hand_in(ag, grid, prm, lay, rng, a, events):
    """ODD 7.20, disarmament of fighter ``a``: with probability ``weapons.hand_in`` he hands
    in a weapon (collected), which is destroyed with probability ``ddr.destroy_share`` or
    else stored at the DDR site (:func:`ddr_site`); otherwise he hides it in a cache on his
    cell. With ``mechanisms.weapons`` off every disarmed fighter's weapon counts as collected
    (nothing is drawn)."""
    if not prm.mechanisms_weapons:
        events[EV_WEAPONS_COLLECTED] += 1
        return
    x = ag.i[a, I_X]
    y = ag.i[a, I_Y]
    s = lay.scalars
    if uniform(rng) < prm.weapons_hand_in:
        events[EV_WEAPONS_COLLECTED] += 1
        if uniform(rng) < prm.ddr_destroy_share:
            events[EV_WEAPONS_DESTROYED] += 1
        else:
            c = ddr_site(ag, grid, prm, x, y)
            h = grid.occ.shape[1]
            lay.f[L_STORE, c // h, c % h] += 1.0
            s[S_STORED] += 1.0
    else:
        events[EV_WEAPONS_HIDDEN] += 1
        lay.f[L_CACHE, x, y] += 1.0
        s[S_CACHED] += 1.0


@njit(inline="always", cache=True)
def find_chance(age, prm):
    """ODD 7.20, seizure: an actionable tip of age a near a cache leads its force to it with
    probability ``weapons.p_find`` x its freshness (ODD 7.16)."""
    return prm.weapons_p_find * freshness(age, prm)


@njit(cache=True, _nrt=False)
def seize_caches(lay, prm, rng, events):
    """ODD 7.20, seizure (step 3, after tips age): every actionable tip (table order) whose
    cell lies within ``weapons.find_radius`` of a cache leads its force to the nearest such
    cache with :func:`find_chance`; all the weapons there are seized. Returns how many."""
    tips = lay.tips
    cache = lay.f[L_CACHE]
    s = lay.scalars
    seized = 0
    for k in range(tips.shape[0]):
        if s[S_CACHED] < 1.0:
            break
        if not tips[k, T_ALIVE] or tips[k, T_AGE] < 0:
            continue
        c = nearest_with(cache, tips[k, T_X], tips[k, T_Y], prm.weapons_find_radius,
                         prm.world_torus)
        if c < 0 or not uniform(rng) < find_chance(tips[k, T_AGE], prm):
            continue
        h = cache.shape[1]
        n = cache[c // h, c % h]
        cache[c // h, c % h] = 0.0
        s[S_CACHED] -= n
        seized += int(n)
    events[EV_WEAPONS_SEIZED] += seized
    return seized


@njit(inline="always", cache=True)
def raid_chance(risk, prm):
    """ODD 7.20, raid: a fighter with a store in vision raids it with probability
    ``weapons.p_raid`` (1 - P_s), P_s the risk it perceives at the store (the attack's risk,
    ODD 7.9, with the security in vision of the store)."""
    return prm.weapons_p_raid * (1.0 - risk)


@njit(inline="always", cache=True)
def raid(lay, prm, store, faction, events):
    """ODD 7.20, raid on the store at flat cell ``store``: up to ``weapons.raid_size`` of its
    weapons go to the raiders' faction's stock. Returns how many."""
    h = lay.f.shape[2]
    x = store // h
    y = store - x * h
    n = min(lay.f[L_STORE, x, y], float(prm.weapons_raid_size))
    lay.f[L_STORE, x, y] -= n
    s = lay.scalars
    s[S_STORED] -= n
    s[S_STOCK0 + faction] += n
    events[EV_WEAPONS_RAIDED] += int(n)
    return int(n)


# ----------------------------------------------------------------------------- set-up, supply


def place_caches(lay, strongholds: np.ndarray, prm, gen: np.random.Generator) -> None:
    """ODD 7.20, set-up: each faction's stock is ``weapons.stock``; its ``weapons.caches``
    caches of ``cache_size`` weapons lie on uniformly random cells within ``cache_radius`` of
    its stronghold (wrapped on a torus, clipped to the map otherwise; caches may share a
    cell). Draws from the set-up generator ``gen``."""
    w, h = prm.world_width, prm.world_height
    r = prm.weapons_cache_radius
    cache = lay.f[L_CACHE]
    for f in range(prm.armed_groups_factions):
        lay.scalars[S_STOCK0 + f] = float(prm.weapons_stock)
        sx, sy = (int(v) for v in strongholds[f])
        for _ in range(prm.weapons_caches):
            x = sx + int(gen.integers(-r, r + 1))
            y = sy + int(gen.integers(-r, r + 1))
            if prm.world_torus:
                x, y = x % w, y % h
            else:
                x, y = min(max(x, 0), w - 1), min(max(y, 0), h - 1)
            cache[x, y] += float(prm.weapons_cache_size)
    lay.scalars[S_CACHED] = float(cache.sum())


def supply(lay, prm, gen: np.random.Generator) -> int:
    """ODD 7.20, supply (step 2): Poisson(``weapons.supply``) weapons reach each faction's
    stock a tick. Draws from the set-up generator ``gen``; returns how many arrived."""
    arrived = 0
    for f in range(prm.armed_groups_factions):
        n = int(gen.poisson(prm.weapons_supply))
        lay.scalars[S_STOCK0 + f] += n
        arrived += n
    return arrived
