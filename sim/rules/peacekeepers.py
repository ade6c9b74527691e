"""Peacekeepers by role (ODD 7.8): where each unit goes this tick.

Units move once a tick, in random order (:func:`sim.engine.layer_tick.move_units`); where
they then stand decides what they deter, interdict, protect, engage, disarm or mentor (read
through the presence fields, :mod:`sim.engine.fields`). The mission's timeline and its
adaptive review are in :mod:`sim.rules.mission`.
"""

from __future__ import annotations

from numba import njit

from sim.engine.grid import best_sampled_cell, cell_at, distance, relocate
from sim.engine.layout import (
    I_ALIVE,
    I_HOME,
    I_KIND,
    I_ROLE,
    I_VCLASS,
    I_X,
    I_Y,
    L_COMMUNITY,
    L_DISPLACED_NEAR,
    L_INTEL,
    L_ROAD,
    L_VIOLENCE_CIV,
    MENTORING,
    PATROL,
    POLICE,
    RAPID_RESPONSE,
    STATIC,
)
from sim.engine.rng import randint, uniform
from sim.rules.factions import attention
from sim.rules.roads import rr_reach


@njit(inline="always", cache=True)
def heat(violence_civilian, intel, prm):
    """ODD 7.8, rapid response: how strongly a cell calls for it, its violence against
    civilians plus the freshness of the mission's tips pointing there (the freshest, most
    credible reports; tips count only with ``mechanisms.information`` on)."""
    return violence_civilian + (intel if prm.mechanisms_information else 0.0)


@njit(inline="always", cache=True)
def calls_rapid_response(best_heat, prm):
    """ODD 7.8, rapid response: the hottest cell draws the rapid-response units if its heat
    exceeds ``strategy.hot_threshold``; otherwise they patrol."""
    return best_heat > prm.strategy_hot_threshold


@njit(inline="always", cache=True)
def patrol_score(lay, prm, rng, x, y):
    """ODD 7.8, patrol: a sampled cell is worth its :func:`heat` (violence against civilians
    and fresh tips; a partial force discounts the other community's areas,
    :func:`sim.rules.factions.attention`), with a random tie-break (``strategy.patrol_jitter``
    x U(0, 1)); with protection sites, + ``sites.patrol_priority`` x the displaced residents
    within ``sites.radius`` of it (ODD 7.23)."""
    h = heat(lay.f[L_VIOLENCE_CIV, x, y], lay.f[L_INTEL, x, y], prm)
    if prm.strategy_partiality > 0.0:  # communities (ODD 7.25)
        h *= attention(lay.f[L_COMMUNITY, x, y], prm)
    score = h + prm.strategy_patrol_jitter * uniform(rng)
    # --- zones: patrols prioritise the displaced (ODD 7.23) ---
    if prm.mechanisms_protection_sites and prm.sites_count > 0:
        score += prm.sites_patrol_priority * lay.f[L_DISPLACED_NEAR, x, y]
    return score


@njit(inline="always", cache=True)
def patrol(ag, grid, geo, prm, lay, rng, a):
    """ODD 7.8, patrol: move to the best of ``strategy.patrol_samples`` sampled empty cells
    in vision by :func:`patrol_score`."""
    ai = ag.i
    best = best_sampled_cell(grid.occ.reshape(-1), geo, rng, ai[a, I_X], ai[a, I_Y],
                             ai[a, I_VCLASS], prm.strategy_patrol_samples, patrol_score, -1.0,
                             lay, prm)
    if best >= 0:
        relocate(ag, grid, geo, prm, a, best)


@njit(inline="always", cache=True)
def step_toward(ag, grid, geo, prm, rng, a, goal, reach):
    """ODD 7.8, going somewhere: of ``strategy.step_samples`` cells drawn uniformly within
    ``reach`` (a square), move to the empty one closest to ``goal`` if closer than here."""
    x = ag.i[a, I_X]
    y = ag.i[a, I_Y]
    here = x * geo.height + y
    best = here
    best_d = distance(here, goal, geo.height, geo.width, geo.torus)
    if best_d == 0:
        return
    occ = grid.occ.reshape(-1)
    for _ in range(prm.strategy_step_samples):
        dx = randint(rng, 2 * reach + 1) - reach
        dy = randint(rng, 2 * reach + 1) - reach
        c = cell_at(x, y, dx, dy, geo.width, geo.height, geo.torus)
        if c < 0 or occ[c] >= 0:
            continue
        d = distance(c, goal, geo.height, geo.width, geo.torus)
        if d < best_d:
            best = c
            best_d = d
    if best != here:
        relocate(ag, grid, geo, prm, a, best)


@njit(inline="always", cache=True)
def warned_post(home, warned, n_warned, geo, prm):
    """ODD 7.8, static post: where a static unit goes, the warned settlement (ODD 7.16)
    nearest its post within ``information.respond_radius``, else its post."""
    goal = home
    best = prm.information_respond_radius + 1
    for i in range(n_warned):
        d = distance(home, warned[i], geo.height, geo.width, geo.torus)
        if d < best:
            best = d
            goal = warned[i]
    return goal


@njit(inline="always", cache=True)
def move_unit(ag, grid, geo, prm, lay, rng, a, hot_cell, n_warned):
    """ODD 7.8: a unit moves as its role says. Patrols patrol; rapid response moves up to
    ``strategy.rr_speed`` cells (more on a road, :func:`sim.rules.roads.rr_reach`) toward the
    hottest cell (``hot_cell``, -1: none, and it patrols); mentors up to
    ``strategy.mentor_speed`` toward their police partner; static posts up to
    ``strategy.post_speed`` toward a warned settlement near their post (:func:`warned_post`)
    or their post; engagement and DDR units and checkpoints toward their home (meeting,
    site, or checkpoint post, ODD 7.22)."""
    ai = ag.i
    role = ai[a, I_ROLE]
    goal = -1
    reach = 0
    if role == RAPID_RESPONSE and hot_cell >= 0:
        goal = hot_cell
        reach = rr_reach(lay.f[L_ROAD, ai[a, I_X], ai[a, I_Y]], prm)  # --- zones: roads
    elif role == MENTORING:
        partner = ai[a, I_HOME]
        if (
            partner >= 0
            and ai[partner, I_ALIVE]
            and ai[partner, I_KIND] == POLICE
            and ai[partner, I_X] >= 0
        ):
            goal = ai[partner, I_X] * geo.height + ai[partner, I_Y]
            reach = prm.strategy_mentor_speed
    elif role == STATIC and ai[a, I_HOME] >= 0:
        goal = warned_post(ai[a, I_HOME], lay.warned, n_warned, geo, prm)
        reach = prm.strategy_post_speed
    elif role != PATROL and role != RAPID_RESPONSE:  # engagement, DDR site, checkpoint
        goal = ai[a, I_HOME]
        reach = prm.strategy_post_speed
    if role == PATROL or (role == RAPID_RESPONSE and hot_cell < 0):
        patrol(ag, grid, geo, prm, lay, rng, a)
    elif goal >= 0:
        step_toward(ag, grid, geo, prm, rng, a, goal, reach)
