"""The peacekeeping layer's tick (ODD 3, steps 3-10): which phase runs when, over whom, in
which order.

One kernel call, :func:`layer_tick`, runs everything after the mission timeline: units move
by role, the presence fields are recomputed, the civil-violence core runs
(:func:`sim.engine.tick.tick`), then armed groups, transitions, trust, livelihoods, police and
the environment. Each phase here decides order (random or slot or cell order), who is
activated and which memory is fetched ahead; what an agent or a cell does is a rule of
:mod:`sim.rules` (the docstrings name the ODD sections).
"""

from __future__ import annotations

from numba import njit

from sim.engine.fields import box_sum_work, diffuse, presence
from sim.engine.grid import shuffled_slots
from sim.engine.layout import (
    COMBATANT,
    EV_DISARMED,
    F_DIALOGUE,
    F_HARDSHIP,
    F_PROFESSIONALISM,
    F_TRUST_PK,
    F_TRUST_PK0,
    F_TRUST_POLICE,
    F_TRUST_POLICE0,
    I_ALIVE,
    I_DISPLACED,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_INFORMANT,
    I_KIND,
    I_LEADER,
    I_STATE,
    I_X,
    I_Y,
    JAILED,
    L_COMB_SEEN,
    L_COMMUNITY,
    L_DDR_REACH,
    L_ENGAGE,
    L_HARM_EV,
    L_INFRASTRUCTURE,
    L_LEADER_ENGAGED,
    L_LEADER_N,
    L_LEADER_TRUST,
    L_MARKET,
    L_MENTOR,
    L_PROGRAMME,
    L_PROTECT_EV,
    L_SECURITY,
    L_TIP_REACH,
    L_TIPS,
    L_VICTIM_EV,
    L_VIOLENCE,
    META_HIGH,
    N_FLOAT,
    N_INT,
    PEACEKEEPER,
    POLICE,
    RESIDENT,
    W_NEAR,
    W_TARGET,
    W_TMP,
)
from sim.engine.memory import AHEAD, prefetch
from sim.engine.rng import uniform
from sim.engine.tick import tick
from sim.rules.armed_groups import combatant_turn
from sim.rules.environment import (
    clip01,
    economy_step,
    economy_target,
    infrastructure_step,
    violence_kept,
)
from sim.rules.livelihoods import job_change_chance
from sim.rules.peacekeepers import calls_rapid_response, heat, move_unit
from sim.rules.police import professionalism_step
from sim.rules.transitions import disarm, join, transition_chance
from sim.rules.trust import flee, flees, relax, report, respond, settles, tip_chance


@njit(cache=True)
def units_phase(ag, grid, geo, prm, lay, rng, perm, meta):
    """ODD 3 step 3: last tick's tips reach the units (within ``tip_reach``), the hottest
    cell is found (first maximum, as ``np.argmax``), and every unit, in random order, moves
    as its role says (ODD 7.8)."""
    f = lay.f
    box_sum_work(f[L_TIPS], prm.tip_reach, prm.world_torus, f[L_TIP_REACH], lay.work[W_TMP],
                 lay.col)
    f[L_TIPS].fill(0.0)
    w, h = grid.occ.shape
    hot = 0
    best = heat(f[L_VIOLENCE, 0, 0], f[L_TIP_REACH, 0, 0], prm)
    for x in range(w):
        for y in range(h):
            v = heat(f[L_VIOLENCE, x, y], f[L_TIP_REACH, x, y], prm)
            if v > best:
                best = v
                hot = x * h + y
    hot_cell = hot if calls_rapid_response(best, prm) else -1
    n = shuffled_slots(ag.i, meta[META_HIGH], PEACEKEEPER, perm, rng)
    for i in range(n):
        move_unit(ag, grid, geo, prm, lay, rng, perm[i], hot_cell)


@njit(cache=True)
def combatants_phase(ag, grid, geo, prm, lay, rng, perm, free_stack, meta, events):
    """ODD 3 step 6: every combatant on the grid, in random order, takes its turn (ODD 7.9);
    one removed earlier in the phase is skipped."""
    ai = ag.i
    n = shuffled_slots(ai, meta[META_HIGH], COMBATANT, perm, rng)
    for i in range(n):
        c = perm[i]
        if not ai[c, I_ALIVE] or ai[c, I_KIND] != COMBATANT:
            continue
        combatant_turn(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events)


@njit(cache=True)
def transitions_phase(ag, grid, geo, prm, lay, rng, legitimacy, meta, events):
    """ODD 3 step 7: every resident and combatant on the grid once, in slot order
    (ODD 7.10)."""
    ai = ag.i
    af = ag.f
    economy = grid.economy
    lf = lay.f
    high = meta[META_HIGH]
    n_cells = economy.size
    econ_flat = economy.reshape(n_cells)
    lf_flat = lf.reshape(lf.size)
    for a in range(high):
        b = a + AHEAD  # fetch the cells of agents a few slots ahead while this one acts
        if b < high and ai[b, I_X] >= 0:
            c = ai[b, I_X] * economy.shape[1] + ai[b, I_Y]
            prefetch(econ_flat, c)
            prefetch(lf_flat, L_COMB_SEEN * n_cells + c)
        if not ai[a, I_ALIVE] or ai[a, I_X] < 0:
            continue
        x = ai[a, I_X]
        y = ai[a, I_Y]
        p, ev = transition_chance(
            ai[a, I_KIND], ai[a, I_STATE] == JAILED, ai[a, I_EMPLOYED], ai[a, I_EX_COMBATANT],
            lf[L_COMB_SEEN, x, y] > 0, lf[L_DDR_REACH, x, y] > 0, af[a, F_HARDSHIP],
            economy[x, y], af[a, F_TRUST_POLICE], af[a, F_DIALOGUE], af[a, F_TRUST_PK],
            legitimacy, prm,
        )
        if p >= 0.0 and uniform(rng) < p:
            if ev == EV_DISARMED:
                disarm(ag, grid, geo, prm, a, meta)
            else:
                join(ag, grid, geo, prm, rng, a, meta)
            events[ev] += 1


@njit(cache=True)
def events_seen(grid, prm, lay):
    """ODD 7.11: what residents see, the events of this tick within their vision (box sums
    of protection, unprotected attacks, harm and police abuse)."""
    f = lay.f
    tmp = lay.work[W_TMP]
    rr = prm.residents_vision
    for layer in (L_PROTECT_EV, L_VICTIM_EV, L_HARM_EV):
        box_sum_work(f[layer], rr, prm.world_torus, f[layer], tmp, lay.col)
    box_sum_work(grid.abuse_ev, rr, prm.world_torus, grid.abuse_ev, tmp, lay.col)


@njit(cache=True)
def trust_phase(ag, grid, geo, prm, lay, rng, meta, events):
    """ODD 3 step 8: every resident once (ODD 7.11): trust relaxes and responds to what the
    resident saw; then tips and flight.

    Two passes with the same result as one pass in slot order: the deterministic update
    reads a dozen layers at the resident's cell, so it goes in cell order (the layers
    stream from memory; a resident's update reads nothing another one changes). Tips and
    flight draw random numbers and move people, so they follow in slot order, as the draws
    always have."""
    ai = ag.i
    af = ag.f
    lf = lay.f
    abuse = grid.abuse_ev
    occ = grid.occ
    w, h = occ.shape
    high = meta[META_HIGH]
    ai_flat = ai.reshape(ai.size)
    af_flat = af.reshape(af.size)
    lf_flat = lf.reshape(lf.size)
    n_cells = w * h

    def relax_row(a):
        # sim.rules.trust.relax on the resident's row (the informant count is written only
        # when it changes: most rows stay clean)
        informant = ai[a, I_INFORMANT]
        left, dialogue, t, tp = relax(informant, af[a, F_DIALOGUE], af[a, F_TRUST_PK],
                                      af[a, F_TRUST_PK0], af[a, F_TRUST_POLICE],
                                      af[a, F_TRUST_POLICE0], prm)
        if left != informant:
            ai[a, I_INFORMANT] = left
        af[a, F_DIALOGUE] = dialogue
        af[a, F_TRUST_PK] = t
        af[a, F_TRUST_POLICE] = tp

    # residents on the grid, in cell order: what they saw this tick
    for x in range(w):
        for y in range(h):
            if y + AHEAD < h:  # the row of a resident a few cells on, fetched meanwhile
                b = occ[x, y + AHEAD]
                if b >= 0:
                    prefetch(ai_flat, b * N_INT)
                    prefetch(ai_flat, b * N_INT + I_INFORMANT)
                    prefetch(af_flat, b * N_FLOAT + F_TRUST_POLICE)
                    prefetch(af_flat, b * N_FLOAT + F_TRUST_POLICE0)
            a = occ[x, y]
            if a < 0 or ai[a, I_KIND] != RESIDENT:
                continue
            relax_row(a)
            t, tp, dialogue = respond(
                af[a, F_TRUST_PK], af[a, F_TRUST_POLICE], af[a, F_DIALOGUE], ai[a, I_LEADER],
                lf[L_ENGAGE, x, y], lf[L_LEADER_ENGAGED, x, y], lf[L_PROTECT_EV, x, y],
                lf[L_VICTIM_EV, x, y], lf[L_HARM_EV, x, y], lf[L_LEADER_N, x, y],
                lf[L_LEADER_TRUST, x, y], lf[L_MENTOR, x, y], abuse[x, y], prm,
            )
            af[a, F_DIALOGUE] = dialogue
            af[a, F_TRUST_PK] = t
            af[a, F_TRUST_POLICE] = tp
    # every resident, in slot order: those in jail only relax; the others may report and flee
    for a in range(high):
        b = a + AHEAD  # the cell of an agent a few slots on, fetched meanwhile
        if b < high and ai[b, I_X] >= 0:
            c = ai[b, I_X] * h + ai[b, I_Y]
            for layer in (L_COMB_SEEN, L_COMMUNITY, L_VIOLENCE):
                prefetch(lf_flat, layer * n_cells + c)
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != RESIDENT:
            continue
        x = ai[a, I_X]
        y = ai[a, I_Y]
        if x < 0:
            relax_row(a)  # in jail: sees nothing
            continue
        p = tip_chance(lf[L_COMB_SEEN, x, y] > 0, af[a, F_TRUST_PK], af[a, F_TRUST_POLICE],
                       lf[L_COMMUNITY, x, y] > 0, prm)
        if p >= 0.0 and uniform(rng) < p:
            report(ai, lf, a, x, y, prm, events)
        v = lf[L_VIOLENCE, x, y]
        if flees(v, prm):
            flee(ag, grid, geo, prm, lay, rng, a)
        elif ai[a, I_DISPLACED] and settles(v, prm):
            ai[a, I_DISPLACED] = 0


@njit(cache=True)
def livelihoods_phase(ag, grid, prm, rng, meta):
    """ODD 3 step 9: every resident on the grid once, in slot order (ODD 7.12, jobs)."""
    ai = ag.i
    economy = grid.economy
    high = meta[META_HIGH]
    econ_flat = economy.reshape(economy.size)
    for a in range(high):
        b = a + AHEAD  # fetch the cell of an agent a few slots ahead while this one acts
        if b < high and ai[b, I_X] >= 0:
            prefetch(econ_flat, ai[b, I_X] * economy.shape[1] + ai[b, I_Y])
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != RESIDENT or ai[a, I_X] < 0:
            continue
        employed = ai[a, I_EMPLOYED]
        p = job_change_chance(employed, ai[a, I_EX_COMBATANT], economy[ai[a, I_X], ai[a, I_Y]],
                              prm)
        if p >= 0.0 and uniform(rng) < p:
            ai[a, I_EMPLOYED] = 0 if employed else 1


@njit(cache=True)
def police_phase(ag, prm, mentor, meta):
    """ODD 3 step 9: every officer on the grid once (ODD 7.12, professionalism)."""
    ai = ag.i
    af = ag.f
    for a in range(meta[META_HIGH]):
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != POLICE or ai[a, I_X] < 0:
            continue
        mentored = mentor[ai[a, I_X], ai[a, I_Y]] > 0
        af[a, F_PROFESSIONALISM] = professionalism_step(af[a, F_PROFESSIONALISM], mentored, prm)


@njit(cache=True)
def environment_phase(grid, prm, lay):
    """ODD 3 step 10: violence fades and spreads; the economy relaxes toward its target and
    diffuses; infrastructure is built where calm and damaged by violence (ODD 7.13), each a
    sweep over the cells in the order of ``tests/reference_environment.py``."""
    f = lay.f
    violence = f[L_VIOLENCE]
    infra = f[L_INFRASTRUCTURE]
    economy = grid.economy
    tmp = lay.work[W_TARGET]
    w, h = violence.shape
    for x in range(w):
        for y in range(h):
            violence[x, y] = violence_kept(violence[x, y], prm)
    diffuse(violence, prm.violence_spread, prm.world_torus, tmp)
    # markets feel insecurity around them, not only on their own cell
    near = lay.work[W_NEAR]
    box_sum_work(violence, prm.economy_violence_radius, prm.world_torus, near, lay.work[W_TMP],
                 lay.col)
    for x in range(w):
        for y in range(h):
            target = economy_target(infra[x, y], f[L_SECURITY, x, y], f[L_MARKET, x, y],
                                    near[x, y], prm)
            economy[x, y] = economy_step(economy[x, y], target, prm)
    diffuse(economy, prm.economy_diffusion, prm.world_torus, tmp)
    for x in range(w):
        for y in range(h):
            economy[x, y] = clip01(economy[x, y])
    for x in range(w):
        for y in range(h):
            infra[x, y] = infrastructure_step(infra[x, y], violence[x, y], f[L_PROGRAMME, x, y],
                                              prm)


@njit(cache=True)
def layer_tick(ag, grid, geo, prm, lay, rng, legitimacy, perm, layer_perm, free_stack, meta,
               events):
    """Everything in a tick after the mission timeline, in the order of ODD 3: units move,
    presence is sensed, the civil-violence core runs (random-sequential activation), then
    armed groups, transitions, trust, livelihoods, police and the environment. Per-tick
    event fields are cleared at the end."""
    units_phase(ag, grid, geo, prm, lay, rng, layer_perm, meta)
    presence(ag, meta, lay, prm)
    tick(ag, grid, geo, prm, rng, legitimacy, perm, free_stack, meta, events)
    combatants_phase(ag, grid, geo, prm, lay, rng, layer_perm, free_stack, meta, events)
    transitions_phase(ag, grid, geo, prm, lay, rng, legitimacy, meta, events)
    events_seen(grid, prm, lay)
    trust_phase(ag, grid, geo, prm, lay, rng, meta, events)
    livelihoods_phase(ag, grid, prm, rng, meta)
    police_phase(ag, prm, lay.f[L_MENTOR], meta)
    environment_phase(grid, prm, lay)
    f = lay.f
    for layer in (L_PROTECT_EV, L_VICTIM_EV, L_HARM_EV):
        f[layer].fill(0.0)
    grid.abuse_ev.fill(0.0)
