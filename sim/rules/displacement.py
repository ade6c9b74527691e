"""Protection sites and displacement (ODD 7.11 flight, 7.23): where residents fleeing
violence go, how they fare there, and when they go home.

Without protection sites (``sites.count`` = 0 or ``mechanisms.protection_sites`` off) flight
is as in ODD 7.11: a resident where violence passes ``violence.flee_threshold`` moves to the
calmest of a few cells nearby and is displaced until it is calm where it stands. With sites,
a resident who flees remembers where it came from (its origin, in the ``home`` column) and
heads for the nearest site with room; a displaced resident moves only as this module says
(the core's random move is not theirs, :func:`sim.engine.tick.tick`), receives humanitarian
aid at a site to the extent that the site is calm (:func:`aid_level`; aid lowers its
hardship, :func:`sim.rules.civil_violence.grievance`), and goes home once it is calm there.
Protection units prioritise the sites and the displaced: static posts are posted at sites
(:meth:`sim.model.layer.PeacekeepingLayer.deploy`) and patrols weigh the displaced near a
cell (:func:`sim.rules.peacekeepers.patrol_score`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.grid import distance, random_empty_in_vision, relocate
from sim.engine.layout import (
    EV_DISPLACED_RETURNS,
    EV_FLED,
    I_ALIVE,
    I_DISPLACED,
    I_HOME,
    I_KIND,
    I_VCLASS,
    I_X,
    I_Y,
    L_VIOLENCE_BATTLE,
    L_VIOLENCE_CIV,
    META_HIGH,
    RESIDENT,
)
from sim.rules.peacekeepers import step_toward
from sim.rules.trust import flee, flees, settles


@njit(inline="always", cache=True)
def sites_on(prm):
    """ODD 7.23: protection sites shape flight only with ``mechanisms.protection_sites`` on
    and ``sites.count`` > 0."""
    return prm.mechanisms_protection_sites and prm.sites_count > 0


@njit(inline="always", cache=True)
def aid_level(site_violence, prm):
    """ODD 7.23, humanitarian access follows security: the aid reaching the displaced at a
    site, ``sites.aid`` x exp(-V_s / ``aid_calm_scale``), V_s the violence summed over the
    site's area (``sites.radius``) this tick."""
    return prm.sites_aid * np.exp(-site_violence / prm.sites_aid_calm_scale)


@njit(cache=True, _nrt=False)
def site_status(ag, grid, geo, prm, lay, meta):
    """ODD 7.23, at the start of the residents' reports and flight (step 9): how many
    displaced residents each site holds (those on a cell of its area), and the aid its
    security allows (:func:`aid_level`), which reaches every cell of its area
    (``grid.aid``)."""
    ai = ag.i
    h = geo.height
    w = geo.width
    load = lay.site_load
    load.fill(0)
    site_of = lay.site_of
    for a in range(meta[META_HIGH]):
        if ai[a, I_ALIVE] and ai[a, I_KIND] == RESIDENT and ai[a, I_DISPLACED] \
                and ai[a, I_X] >= 0:
            s = site_of[ai[a, I_X] * h + ai[a, I_Y]]
            if s >= 0:
                load[s] += 1
    r = prm.sites_radius
    civ = lay.f[L_VIOLENCE_CIV]
    battle = lay.f[L_VIOLENCE_BATTLE]
    aid = grid.aid
    for s in range(lay.sites.size):
        sx = lay.sites[s] // h
        sy = lay.sites[s] - sx * h
        total = 0.0
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                x = sx + dx
                y = sy + dy
                if geo.torus:
                    x %= w
                    y %= h
                elif x < 0 or y < 0 or x >= w or y >= h:
                    continue
                total += civ[x, y] + battle[x, y]
        level = aid_level(total, prm)
        lay.site_aid[s] = level
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                x = sx + dx
                y = sy + dy
                if geo.torus:
                    x %= w
                    y %= h
                elif x < 0 or y < 0 or x >= w or y >= h:
                    continue
                if site_of[x * h + y] == s:
                    aid[x, y] = level


@njit(inline="always", cache=True)
def nearest_site(lay, cell, skip, geo, prm):
    """ODD 7.23: the nearest protection site (Chebyshev) to ``cell`` that has room (holds
    fewer than ``sites.capacity`` displaced residents), other than ``skip``; -1 if none."""
    best = -1
    best_d = geo.width + geo.height
    for s in range(lay.sites.size):
        if s == skip or lay.site_load[s] >= prm.sites_capacity:
            continue
        d = distance(cell, lay.sites[s], geo.height, geo.width, geo.torus)
        if d < best_d:
            best = s
            best_d = d
    return best


@njit(inline="always", cache=True)
def head_for_site(ag, grid, geo, prm, lay, rng, a, s, at):
    """ODD 7.23: a displaced resident moves up to ``sites.flee_speed`` cells toward site
    ``s`` (as units head for a goal, ODD 7.8: the empty cell closest to it among
    ``strategy.step_samples`` drawn within reach); the sites' loads follow it (``at``: the
    site whose area it stood in, -1 none)."""
    step_toward(ag, grid, geo, prm, rng, a, lay.sites[s], prm.sites_flee_speed)
    now = lay.site_of[ag.i[a, I_X] * geo.height + ag.i[a, I_Y]]
    if now != at:
        if at >= 0:
            lay.site_load[at] -= 1
        if now >= 0:
            lay.site_load[now] += 1


@njit(inline="always", cache=True)
def go_home(ag, grid, geo, prm, lay, rng, a, origin, at):
    """ODD 7.23, return: a displaced resident goes back to a uniformly random empty cell
    within its vision of its origin (none free: not this tick) and is no longer displaced.
    Returns True if it went."""
    h = geo.height
    ox = origin // h
    c = random_empty_in_vision(ag.i, grid.occ.reshape(-1), geo, rng, ox, origin - ox * h,
                               ag.i[a, I_VCLASS])
    if c < 0:
        return False
    relocate(ag, grid, geo, prm, a, c)
    if at >= 0:
        lay.site_load[at] -= 1
    ag.i[a, I_DISPLACED] = 0
    ag.i[a, I_HOME] = -1
    return True


@njit(cache=True, _nrt=False)
def displacement_step(ag, grid, geo, prm, lay, rng, a, x, y, v, events):
    """ODD 7.23 (and the flight of 7.11), resident ``a`` at (x, y) with violence V = ``v``
    there.

    Without sites (:func:`sites_on` false): where V > ``flee_threshold`` it flees to the
    calmest nearby cell (:func:`sim.rules.trust.flee`) and is displaced; a displaced resident
    who does not flee is no longer displaced once V < ``return_share`` x flee_threshold.

    With sites: where V > flee_threshold a resident who was not displaced remembers its cell
    as its origin; it heads for the nearest site with room (:func:`nearest_site`; not the
    one it stands in) and is displaced, or, with none, flees to the calmest cell nearby as
    without sites. A
    displaced resident who does not flee goes home once V at its origin < return_share x
    flee_threshold (:func:`go_home`); otherwise, if it is not at a site, it heads for the
    nearest one with room. Counts new displacements and returns."""
    ai = ag.i
    h = geo.height
    displaced = ai[a, I_DISPLACED]
    if not sites_on(prm):
        if flees(v, prm):
            flee(ag, grid, geo, prm, lay, rng, a)
            if not displaced and ai[a, I_DISPLACED]:
                events[EV_FLED] += 1
        elif displaced and settles(v, prm):
            ai[a, I_DISPLACED] = 0
            events[EV_DISPLACED_RETURNS] += 1
        return
    here = x * h + y
    at = lay.site_of[here]
    if flees(v, prm):
        if not displaced:
            ai[a, I_HOME] = here
        s = nearest_site(lay, here, at, geo, prm)
        if s >= 0:
            ai[a, I_DISPLACED] = 1
            head_for_site(ag, grid, geo, prm, lay, rng, a, s, at)
        else:  # every other site is full: the calmest cell nearby, as without sites
            flee(ag, grid, geo, prm, lay, rng, a)
            if at >= 0 and lay.site_of[ai[a, I_X] * h + ai[a, I_Y]] != at:
                lay.site_load[at] -= 1
        if not displaced and ai[a, I_DISPLACED]:
            events[EV_FLED] += 1
        return
    if not displaced:
        return
    origin = ai[a, I_HOME]
    if origin < 0:  # displaced before sites shaped flight: as without sites
        if settles(v, prm):
            ai[a, I_DISPLACED] = 0
            events[EV_DISPLACED_RETURNS] += 1
        return
    ox = origin // h
    oy = origin - ox * h
    v_home = lay.f[L_VIOLENCE_CIV, ox, oy] + lay.f[L_VIOLENCE_BATTLE, ox, oy]
    if settles(v_home, prm):
        if go_home(ag, grid, geo, prm, lay, rng, a, origin, at):
            events[EV_DISPLACED_RETURNS] += 1
        return
    if at < 0:
        s = nearest_site(lay, here, -1, geo, prm)
        if s >= 0:
            head_for_site(ag, grid, geo, prm, lay, rng, a, s, at)
