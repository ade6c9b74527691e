"""Events injected at the start of a tick (ODD 7.28): the per-agent work of each kind.

What :mod:`sim.model.events` does to the world for each event, where it touches agents one by
one: fighters placed around a target, trust lost in a district, units withdrawn or given new
roles, mentors paired, officers hired. Every draw comes from the events' own stream (the
``rng`` argument), never from the model's.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import layout as K
from sim.engine.grid import new_agent, remove_agent
from sim.engine.rng import randint, uniform
from sim.rules.armed_groups import new_aggression


@njit(cache=True)
def draw_index(rng, n):
    """ODD 7.28: a uniformly random index in 0 .. n-1 from the events' stream."""
    return randint(rng, n)


@njit(cache=True)
def arrive(ag, grid, geo, prm, rng, cx, cy, radius, count, faction, aggression, free_stack,
           meta):
    """ODD 7.28, attack and reinforcement: ``count`` fighters of ``faction`` on random empty
    cells within ``radius`` (square) of (cx, cy), the reach growing by one cell at a time
    while it is full, until all are placed or the map is full. ``aggression`` < 0 draws each
    fighter's aggression as for any new fighter (ODD 7.9). Returns the slots placed."""
    w = geo.width
    h = geo.height
    occ = grid.occ
    slots = np.empty(count, np.int64)
    cand = np.empty(w * h, np.int64)
    made = 0
    r = radius
    while made < count and r <= max(w, h) and meta[K.META_FREE_TOP] > 0:
        wrap_x = geo.torus and 2 * r + 1 >= w
        wrap_y = geo.torus and 2 * r + 1 >= h
        x0, x1 = (0, w) if wrap_x else (cx - r, cx + r + 1)
        y0, y1 = (0, h) if wrap_y else (cy - r, cy + r + 1)
        n = 0
        for i in range(x0, x1):
            x = i % w if geo.torus else i
            if x < 0 or x >= w:
                continue
            for j in range(y0, y1):
                y = j % h if geo.torus else j
                if 0 <= y < h and occ[x, y] < 0:
                    cand[n] = x * h + y
                    n += 1
        take = min(n, count - made)
        for k in range(take):  # a random subset, without replacement
            m = k + randint(rng, n - k)
            c = cand[m]
            cand[m] = cand[k]
            if meta[K.META_FREE_TOP] == 0:
                break
            s = new_agent(ag, grid, geo, prm, K.COMBATANT, prm.comb_class, c, free_stack, meta)
            ag.i[s, K.I_FACTION] = faction
            ag.f[s, K.F_AGGRESSION] = aggression if aggression >= 0.0 else new_aggression(
                prm.armed_groups_aggression, prm.armed_groups_aggression_min, uniform(rng))
            ag.f[s, K.F_HARDSHIP] = uniform(rng)
            ag.f[s, K.F_RISK] = uniform(rng)
            slots[made] = s
            made += 1
        r += 1
    return slots[:made]


@njit(cache=True)
def district_trust_loss(ag, meta, district, d, loss, col):
    """ODD 7.28, abuse scandal: every resident on the map in district ``d`` loses ``loss`` of
    its trust in column ``col`` (``F_TRUST_PK`` or ``F_TRUST_POLICE``), a proportional loss
    like every loss of ODD 7.11. Returns (residents, their trust before, after: sums)."""
    ai = ag.i
    af = ag.f
    n = 0
    before = 0.0
    after = 0.0
    for a in range(meta[K.META_HIGH]):
        if not ai[a, K.I_ALIVE] or ai[a, K.I_KIND] != K.RESIDENT or ai[a, K.I_X] < 0:
            continue
        if district[ai[a, K.I_X], ai[a, K.I_Y]] != d:
            continue
        t = af[a, col]
        before += t
        t = min(1.0, max(0.0, t - loss * t))
        af[a, col] = t
        after += t
        n += 1
    return n, before, after


@njit(cache=True)
def remove_units(ag, grid, geo, prm, rng, kind, role, count, free_stack, meta):
    """ODD 7.28, withdrawal and police cuts: ``count`` uniformly random agents of ``kind``
    (peacekeepers: of ``role``; -1: any role) leave the map. Returns how many left."""
    ai = ag.i
    pool = np.empty(meta[K.META_HIGH], np.int64)
    n = 0
    for a in range(meta[K.META_HIGH]):
        if ai[a, K.I_ALIVE] and ai[a, K.I_KIND] == kind and (
                role < 0 or ai[a, K.I_ROLE] == role):
            pool[n] = a
            n += 1
    removed = 0
    while removed < count and n > 0:
        j = randint(rng, n)
        remove_agent(ag, grid, geo, prm, pool[j], free_stack, meta)
        pool[j] = pool[n - 1]
        n -= 1
        removed += 1
    return removed


@njit(inline="always", cache=True)
def _post(markets, groups, favoured, partiality, rng):
    """A settlement to post a unit at, as at deployment (ODD 7.25,
    :func:`sim.rules.factions.post_market`): with probability ``partiality`` a random one of
    the ``favoured`` community's (if it has one), otherwise a random one; an impartial force
    (partiality 0) draws once, among all."""
    if partiality > 0.0 and uniform(rng) < partiality:
        n = 0
        for k in range(markets.size):
            if groups[k] == favoured:
                n += 1
        if n > 0:
            j = randint(rng, n)
            for k in range(markets.size):
                if groups[k] == favoured:
                    if j == 0:
                        return markets[k]
                    j -= 1
    return markets[randint(rng, markets.size)]


@njit(inline="always", cache=True)
def _give_role(ai, a, role, markets, groups, favoured, partiality, rng):
    """A unit's new role; posted roles (static, engagement, DDR) get a settlement as their
    post (:func:`_post`), the others none (mentors are paired by :func:`pair_mentors`)."""
    ai[a, K.I_ROLE] = role
    if role == K.STATIC or role == K.ENGAGEMENT or role == K.DDR_UNIT:
        ai[a, K.I_HOME] = _post(markets, groups, favoured, partiality, rng)
    else:
        ai[a, K.I_HOME] = -1


@njit(cache=True)
def assign_roles(ai, slots, roles, markets, groups, favoured, partiality, rng):
    """ODD 7.28: new units (``slots``) take ``roles`` (codes), posts as at deployment
    (``groups``: each settlement's community; ``favoured``, ``partiality``: the force's
    partiality, ODD 7.25, 0 for an impartial force or a one-group context)."""
    for k in range(slots.size):
        _give_role(ai, slots[k], roles[k], markets, groups, favoured, partiality, rng)


@njit(cache=True)
def reassign_roles(ag, meta, want, markets, groups, favoured, partiality, rng):
    """ODD 7.28, a change of role shares: units of roles above their new count (``want``,
    per role code) are chosen at random and given the roles below it, in role order, so the
    force matches the new shares with as few changes as possible; posts as in
    :func:`assign_roles`. Returns how many units changed role."""
    ai = ag.i
    high = meta[K.META_HIGH]
    n_roles = want.size
    now = np.zeros(n_roles, np.int64)
    for a in range(high):
        if ai[a, K.I_ALIVE] and ai[a, K.I_KIND] == K.PEACEKEEPER:
            now[ai[a, K.I_ROLE]] += 1
    pool = np.empty(high, np.int64)
    members = np.empty(high, np.int64)
    n_pool = 0
    for r in range(n_roles):
        surplus = now[r] - want[r]
        if surplus <= 0:
            continue
        n = 0
        for a in range(high):
            if ai[a, K.I_ALIVE] and ai[a, K.I_KIND] == K.PEACEKEEPER and ai[a, K.I_ROLE] == r:
                members[n] = a
                n += 1
        for k in range(surplus):
            m = k + randint(rng, n - k)
            pool[n_pool] = members[m]
            members[m] = members[k]
            n_pool += 1
    used = 0
    for r in range(n_roles):
        for _ in range(max(0, want[r] - now[r])):
            if used < n_pool:
                _give_role(ai, pool[used], r, markets, groups, favoured, partiality,
                           rng)
                used += 1
    return used


@njit(cache=True)
def pair_mentors(ag, meta, rng):
    """ODD 7.28: every mentoring unit without a live police partner is paired with a
    uniformly random officer (as at deployment, ODD 7.14). Returns how many were paired."""
    ai = ag.i
    high = meta[K.META_HIGH]
    police = np.empty(high, np.int64)
    n = 0
    for a in range(high):
        if ai[a, K.I_ALIVE] and ai[a, K.I_KIND] == K.POLICE:
            police[n] = a
            n += 1
    paired = 0
    for a in range(high):
        if not ai[a, K.I_ALIVE] or ai[a, K.I_KIND] != K.PEACEKEEPER \
                or ai[a, K.I_ROLE] != K.MENTORING:
            continue
        p = ai[a, K.I_HOME]
        if p >= 0 and ai[p, K.I_ALIVE] and ai[p, K.I_KIND] == K.POLICE:
            continue
        ai[a, K.I_HOME] = police[randint(rng, n)] if n > 0 else -1
        paired += 1
    return paired


@njit(cache=True)
def init_officers(ag, slots, mean, sd, community_share, dialogue_share, rng):
    """ODD 7.28: new officers' professionalism ~ N(mean, sd) clipped to [0, 1] (Box-Muller
    on the events' stream), community policing with ``community_share`` and meeting
    community leaders with ``dialogue_share`` (drawn only when it is above 0), as at set-up
    (ODD 5, 7.26)."""
    for k in range(slots.size):
        a = slots[k]
        u1 = max(uniform(rng), 1e-300)
        z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * uniform(rng))
        ag.f[a, K.F_PROFESSIONALISM] = min(1.0, max(0.0, mean + sd * z))
        ag.i[a, K.I_COMMUNITY] = 1 if uniform(rng) < community_share else 0
        if dialogue_share > 0.0:
            ag.i[a, K.I_DIALOGUE] = 1 if uniform(rng) < dialogue_share else 0
