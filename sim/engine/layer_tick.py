"""The peacekeeping layer's tick (ODD 3, steps 3-13): which phase runs when, over whom, in
which order.

One kernel call, :func:`layer_tick`, runs everything after the mission timeline: tips age and
warn, units move by role, the presence fields are recomputed, the civil-violence core runs
(:func:`sim.engine.tick.tick`), then armed groups, detention, transitions, trust and reports,
population, livelihoods, police and the environment. Each phase here decides order (random or
slot or cell order), who is activated and which memory is fetched ahead; what an agent or a
cell does is a rule of :mod:`sim.rules` (the docstrings name the ODD sections).
"""

from __future__ import annotations

from numba import njit

from sim.engine.fields import box_sum_work, diffuse, presence
from sim.engine.grid import neighbour_where, shuffled_slots
from sim.engine.layout import (
    COMBATANT,
    EV_DISARMED,
    EV_TIPS,
    EV_TIPS_LOST,
    EVENT_LAYERS,
    F_DIALOGUE,
    F_FEAR,
    F_HARDSHIP,
    F_PROFESSIONALISM,
    F_PROT_OTHER,
    F_PROT_OWN,
    F_TRUST_PK,
    F_TRUST_PK0,
    F_TRUST_POLICE,
    F_TRUST_POLICE0,
    I_ALIVE,
    I_DISPLACED,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_GROUP,
    I_INFORMANT,
    I_KIND,
    I_LEADER,
    I_STATE,
    I_UID,
    I_VCLASS,
    I_X,
    I_Y,
    JAILED,
    L_ACCESS,
    L_COMB_SEEN,
    L_COMMUNITY_REACH,
    L_DDR_REACH,
    L_ENGAGE,
    L_HARM_EV,
    L_INFRASTRUCTURE,
    L_INTEL,
    L_LEADER_ENGAGED,
    L_LEADER_N,
    L_LEADER_TRUST,
    L_MARKET,
    L_MARKET_NEAR,
    L_MENTOR,
    L_PK_REACH,
    L_POLICE_REACH,
    L_PROGRAMME,
    L_PROTECT_EV,
    L_PROTECT_EV1,
    L_RETALIATION_EV,
    L_RETALIATION_HEARD,
    L_SITE_ABUSE,
    L_VICTIM_EV,
    L_VICTIM_EV1,
    L_VIOLENCE,
    L_VIOLENCE_BATTLE,
    L_VIOLENCE_CIV,
    L_WARNING,
    META_ABROAD,
    META_HIGH,
    META_NEXT_UID,
    META_TIP_NEXT,
    N_FLOAT,
    N_INT,
    PEACEKEEPER,
    POLICE,
    RESIDENT,
    SITE_LAYERS,
    W_NEAR,
    W_TARGET,
    W_TMP,
)
from sim.engine.memory import AHEAD, prefetch
from sim.engine.rng import uniform
from sim.engine.tick import tick
from sim.rules.armed_groups import combatant_turn, detention_phase
from sim.rules.environment import (
    access,
    clip01,
    economy_step,
    economy_target,
    infrastructure_step,
    market_calm,
    violence_kept,
)
from sim.rules.information import (
    age_tips,
    fear_step,
    file_tip,
    noisy_cell,
    recipient,
    seen_combatant,
    tip_chance,
    warned_settlements,
)
from sim.rules.livelihoods import job_change_chance
from sim.rules.peacekeepers import calls_rapid_response, heat, move_unit
from sim.rules.police import professionalism_step
from sim.rules.population import born, dies, emigrates, return_chance, settle_returnee
from sim.rules.transitions import disarm, join, transition_chance
from sim.rules.trust import flee, flees, perceive, relax, respond, settle_base, settles


@njit(cache=True)
def information_phase(ag, prm, lay):
    """ODD 3 step 3: tips age and fade (ODD 7.16, :func:`sim.rules.information.age_tips`);
    the mission's fresh tips warn the settlements near where they point. Returns how many
    settlements are warned (their cells in ``lay.warned``)."""
    age_tips(ag, lay, prm)
    f = lay.f
    if not prm.mechanisms_information:
        f[L_INTEL].fill(0.0)
        return 0
    box_sum_work(f[L_INTEL], prm.information_warning_radius, prm.world_torus, f[L_WARNING],
                 lay.work[W_TMP], lay.col)
    return warned_settlements(lay.markets, f[L_WARNING], lay.warned, prm)


@njit(cache=True)
def units_phase(ag, grid, geo, prm, lay, rng, perm, meta, n_warned):
    """ODD 3 step 4: the hottest cell is found (violence against civilians and fresh tips;
    first maximum, as ``np.argmax``), and every unit, in random order, moves as its role says
    (ODD 7.8)."""
    f = lay.f
    w, h = grid.occ.shape
    hot = 0
    best = heat(f[L_VIOLENCE_CIV, 0, 0], f[L_INTEL, 0, 0], prm)
    for x in range(w):
        for y in range(h):
            v = heat(f[L_VIOLENCE_CIV, x, y], f[L_INTEL, x, y], prm)
            if v > best:
                best = v
                hot = x * h + y
    hot_cell = hot if calls_rapid_response(best, prm) else -1
    n = shuffled_slots(ag.i, meta[META_HIGH], PEACEKEEPER, perm, rng)
    for i in range(n):
        move_unit(ag, grid, geo, prm, lay, rng, perm[i], hot_cell, n_warned)


@njit(cache=True)
def combatants_phase(ag, grid, geo, prm, lay, rng, perm, free_stack, meta, events):
    """ODD 3 step 7: every combatant on the grid, in random order, takes its turn (ODD 7.9);
    one removed or detained earlier in the phase is skipped."""
    ai = ag.i
    n = shuffled_slots(ai, meta[META_HIGH], COMBATANT, perm, rng)
    for i in range(n):
        c = perm[i]
        if not ai[c, I_ALIVE] or ai[c, I_KIND] != COMBATANT or ai[c, I_X] < 0:
            continue
        combatant_turn(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events)


@njit(cache=True)
def transitions_phase(ag, grid, geo, prm, lay, rng, legitimacy, mission_legitimacy, meta,
                      events):
    """ODD 3 step 8: every resident and combatant on the grid once, in slot order
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
            legitimacy, mission_legitimacy, prm,
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
    of attacks interrupted and unprotected, by the victim's group, harm, police abuse and
    retaliation), and retaliation heard of within ``information.hear_radius``."""
    f = lay.f
    tmp = lay.work[W_TMP]
    rr = prm.residents_vision
    torus = prm.world_torus
    f[L_RETALIATION_HEARD, :, :] = f[L_RETALIATION_EV]
    box_sum_work(f[L_RETALIATION_HEARD], prm.information_hear_radius, torus,
                 f[L_RETALIATION_HEARD], tmp, lay.col)
    for layer in (L_PROTECT_EV, L_PROTECT_EV1, L_VICTIM_EV, L_VICTIM_EV1, L_HARM_EV,
                  L_RETALIATION_EV):
        box_sum_work(f[layer], rr, torus, f[layer], tmp, lay.col)
    box_sum_work(grid.abuse_ev, rr, torus, grid.abuse_ev, tmp, lay.col)


@njit(cache=True)
def trust_phase(ag, grid, geo, prm, lay, rng, meta, events, mission_legitimacy):
    """ODD 3 step 9: every resident once (ODD 7.11, 7.16): trust relaxes toward its base,
    fear fades or grows, the memory of whom the force protects is updated, trust responds to
    what the resident saw and the base follows; then reports and flight.

    Two passes with the same result as one pass in slot order: the deterministic update
    reads a dozen layers at the resident's cell, so it goes in cell order (the layers
    stream from memory; a resident's update reads nothing another one changes). Reports and
    flight draw random numbers and move people, so they follow in slot order."""
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
        # when it changes: most rows stay clean), then the base levels follow (long memory)
        informant = ai[a, I_INFORMANT]
        left, dialogue, t, tp = relax(informant, af[a, F_DIALOGUE], af[a, F_TRUST_PK],
                                      af[a, F_TRUST_PK0], af[a, F_TRUST_POLICE],
                                      af[a, F_TRUST_POLICE0], prm)
        if left != informant:
            ai[a, I_INFORMANT] = left
        af[a, F_DIALOGUE] = dialogue
        af[a, F_TRUST_PK] = t
        af[a, F_TRUST_POLICE] = tp

    def settle_row(a):
        af[a, F_TRUST_PK0] = settle_base(af[a, F_TRUST_PK], af[a, F_TRUST_PK0], prm)
        af[a, F_TRUST_POLICE0] = settle_base(af[a, F_TRUST_POLICE], af[a, F_TRUST_POLICE0],
                                             prm)

    # residents on the grid, in cell order: what they saw this tick
    for x in range(w):
        for y in range(h):
            if y + AHEAD < h:  # the row of a resident a few cells on, fetched meanwhile
                b = occ[x, y + AHEAD]
                if b >= 0:
                    prefetch(ai_flat, b * N_INT)
                    prefetch(ai_flat, b * N_INT + I_INFORMANT)
                    prefetch(af_flat, b * N_FLOAT + F_TRUST_POLICE)
                    prefetch(af_flat, b * N_FLOAT + F_FEAR)
            a = occ[x, y]
            if a < 0 or ai[a, I_KIND] != RESIDENT:
                continue
            relax_row(a)
            af[a, F_FEAR] = fear_step(af[a, F_FEAR], lf[L_RETALIATION_EV, x, y],
                                      lf[L_RETALIATION_HEARD, x, y], prm)
            p0 = lf[L_PROTECT_EV, x, y]
            p1 = lf[L_PROTECT_EV1, x, y]
            own, other = (p1, p0) if ai[a, I_GROUP] == 1 else (p0, p1)
            mine = perceive(af[a, F_PROT_OWN], own, prm)
            theirs = perceive(af[a, F_PROT_OTHER], other, prm)
            af[a, F_PROT_OWN] = mine
            af[a, F_PROT_OTHER] = theirs
            t, tp, dialogue = respond(
                af[a, F_TRUST_PK], af[a, F_TRUST_POLICE], af[a, F_DIALOGUE], ai[a, I_LEADER],
                lf[L_ENGAGE, x, y], lf[L_LEADER_ENGAGED, x, y], p0 + p1,
                lf[L_VICTIM_EV, x, y] + lf[L_VICTIM_EV1, x, y], lf[L_HARM_EV, x, y],
                lf[L_LEADER_N, x, y], lf[L_LEADER_TRUST, x, y], lf[L_MENTOR, x, y],
                abuse[x, y], max(0.0, theirs - mine), prm,
            )
            af[a, F_DIALOGUE] = dialogue
            af[a, F_TRUST_PK] = t
            af[a, F_TRUST_POLICE] = tp
            settle_row(a)
    # every resident, in slot order: those in jail only relax; the others may report and flee
    tips_next = meta[META_TIP_NEXT]
    for a in range(high):
        b = a + AHEAD  # the cell of an agent a few slots on, fetched meanwhile
        if b < high and ai[b, I_X] >= 0:
            c = ai[b, I_X] * h + ai[b, I_Y]
            for layer in (L_COMB_SEEN, L_PK_REACH, L_VIOLENCE_CIV):
                prefetch(lf_flat, layer * n_cells + c)
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != RESIDENT:
            continue
        x = ai[a, I_X]
        y = ai[a, I_Y]
        if x < 0:
            relax_row(a)  # in jail: sees nothing
            settle_row(a)
            continue
        p = tip_chance(lf[L_COMB_SEEN, x, y] > 0, af[a, F_TRUST_PK], af[a, F_TRUST_POLICE],
                       af[a, F_FEAR], mission_legitimacy, prm)
        if p >= 0.0 and uniform(rng) < p:
            tips_next = report(ag, grid, geo, prm, lay, rng, a, x, y, tips_next, events)
        v = lf[L_VIOLENCE_CIV, x, y] + lf[L_VIOLENCE_BATTLE, x, y]
        if flees(v, prm):
            flee(ag, grid, geo, prm, lay, rng, a)
        elif ai[a, I_DISPLACED] and settles(v, prm):
            ai[a, I_DISPLACED] = 0
    meta[META_TIP_NEXT] = tips_next


@njit(inline="always", cache=True)
def report(ag, grid, geo, prm, lay, rng, a, x, y, tips_next, events):
    """ODD 7.16, a report by resident ``a`` at (x, y): a uniformly random combatant in its
    vision (none left in sight: no report), the force it tells
    (:func:`sim.rules.information.recipient`; none in reach: the tip is lost), the tip
    filed (with ``mechanisms.information`` on) and,
    with probability ``information.p_exposure``, the reporter known to the armed group for
    ``trust.informant_memory`` ticks. Returns the tip table's next row."""
    ai = ag.i
    af = ag.f
    lf = lay.f
    c = neighbour_where(ai, grid, geo, prm, rng, x, y, ai[a, I_VCLASS], seen_combatant, a)[0]
    if c < 0:  # the combatant it saw has moved out of sight: nothing to report
        return tips_next
    force = recipient(af[a, F_TRUST_PK], af[a, F_TRUST_POLICE], lf[L_PK_REACH, x, y] > 0,
                      lf[L_POLICE_REACH, x, y] > 0 or lf[L_COMMUNITY_REACH, x, y] > 0, prm)
    if force < 0:
        events[EV_TIPS_LOST] += 1
        return tips_next
    c = grid.occ.reshape(-1)[c]
    events[EV_TIPS] += 1
    if prm.mechanisms_information:
        tx, ty = noisy_cell(ai[c, I_X], ai[c, I_Y], rng, geo.width, geo.height, geo.torus, prm)
        tips_next = file_tip(lay.tips, tips_next, c, ai[c, I_UID], tx, ty, force, prm)
    if uniform(rng) < prm.information_p_exposure:
        ai[a, I_INFORMANT] = prm.trust_informant_memory
    return tips_next


@njit(cache=True)
def population_phase(ag, grid, geo, prm, lay, rng, free_stack, meta, events):
    """ODD 3 step 10: every resident and combatant on the grid once, in slot order (ODD
    7.17): one draw u each; a resident gives birth if u < ``birth_rate``, else dies if u <
    birth_rate + ``death_rate``, else, if displaced, leaves the region if u < those plus
    ``emigration_rate``; a combatant dies if u < ``death_rate``. Newborns wait for the next
    tick. Then each refugee abroad returns with :func:`~sim.rules.population.return_chance`."""
    ai = ag.i
    high = meta[META_HIGH]
    first_new_uid = meta[META_NEXT_UID]
    b_rate = prm.population_birth_rate
    d_rate = prm.population_death_rate
    e_rate = prm.population_emigration_rate
    for a in range(high):
        if not ai[a, I_ALIVE] or ai[a, I_X] < 0 or ai[a, I_UID] >= first_new_uid:
            continue
        kind = ai[a, I_KIND]
        if kind == RESIDENT:
            u = uniform(rng)
            if u < b_rate:
                born(ag, grid, geo, prm, rng, a, free_stack, meta, events)
            elif u < b_rate + d_rate:
                dies(ag, grid, geo, prm, a, free_stack, meta, events)
            elif ai[a, I_DISPLACED] and u < b_rate + d_rate + e_rate:
                emigrates(ag, grid, geo, prm, a, free_stack, meta, events)
        elif kind == COMBATANT and uniform(rng) < d_rate:
            dies(ag, grid, geo, prm, a, free_stack, meta, events)
    abroad = meta[META_ABROAD]
    if abroad > 0:
        v = lay.f[L_VIOLENCE]
        total = 0.0
        for x in range(v.shape[0]):
            for y in range(v.shape[1]):
                total += v[x, y]
        p = return_chance(total / v.size, prm)
        for _ in range(abroad):
            if uniform(rng) < p and not settle_returnee(ag, grid, geo, prm, lay, rng,
                                                        free_stack, meta, events):
                break


@njit(cache=True)
def livelihoods_phase(ag, grid, prm, rng, meta):
    """ODD 3 step 11: every resident on the grid once, in slot order (ODD 7.12, jobs)."""
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
    """ODD 3 step 11: every officer on the grid once (ODD 7.12, professionalism)."""
    ai = ag.i
    af = ag.f
    for a in range(meta[META_HIGH]):
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != POLICE or ai[a, I_X] < 0:
            continue
        mentored = mentor[ai[a, I_X], ai[a, I_Y]] > 0
        af[a, F_PROFESSIONALISM] = professionalism_step(af[a, F_PROFESSIONALISM], mentored, prm)


@njit(cache=True)
def environment_phase(grid, prm, lay):
    """ODD 3 step 12: violence against civilians and battle violence each fade and spread
    (V is their sum); market access is the share of nearby markets that are calm; the
    economy relaxes toward its target and diffuses; infrastructure is built where calm and
    damaged by violence (ODD 7.13), each a sweep over the cells."""
    f = lay.f
    violence = f[L_VIOLENCE]
    civ = f[L_VIOLENCE_CIV]
    battle = f[L_VIOLENCE_BATTLE]
    infra = f[L_INFRASTRUCTURE]
    economy = grid.economy
    tmp = lay.work[W_TARGET]
    w, h = violence.shape
    torus = prm.world_torus
    for layer in (civ, battle):
        for x in range(w):
            for y in range(h):
                layer[x, y] = violence_kept(layer[x, y], prm)
        diffuse(layer, prm.violence_spread, torus, tmp)
    for x in range(w):
        for y in range(h):
            violence[x, y] = civ[x, y] + battle[x, y]
    # market access: calm markets within reach, over all markets within reach
    calm = f[L_ACCESS]
    for x in range(w):
        for y in range(h):
            calm[x, y] = f[L_MARKET, x, y] * market_calm(violence[x, y], prm) \
                if f[L_MARKET, x, y] > 0.0 else 0.0
    box_sum_work(calm, prm.economy_access_radius, torus, calm, lay.work[W_TMP], lay.col)
    for x in range(w):
        for y in range(h):
            calm[x, y] = access(calm[x, y], f[L_MARKET_NEAR, x, y])
    # markets feel insecurity around them, not only on their own cell
    near = lay.work[W_NEAR]
    box_sum_work(violence, prm.economy_violence_radius, torus, near, lay.work[W_TMP], lay.col)
    for x in range(w):
        for y in range(h):
            target = economy_target(infra[x, y], calm[x, y], f[L_MARKET, x, y], near[x, y],
                                    prm)
            economy[x, y] = economy_step(economy[x, y], target, prm)
    diffuse(economy, prm.economy_diffusion, torus, tmp)
    for x in range(w):
        for y in range(h):
            economy[x, y] = clip01(economy[x, y])
    for x in range(w):
        for y in range(h):
            infra[x, y] = infrastructure_step(infra[x, y], violence[x, y], f[L_PROGRAMME, x, y],
                                              prm)


@njit(cache=True)
def layer_tick(ag, grid, geo, prm, lay, rng, legitimacy, mission_legitimacy, perm, layer_perm,
               free_stack, meta, events):
    """Everything in a tick after the mission timeline, in the order of ODD 3: tips age and
    warn, units move, presence is sensed, the civil-violence core runs (random-sequential
    activation), then armed groups, detention, transitions, trust and reports, population,
    livelihoods, police and the environment. Per-tick event fields are cleared at the end."""
    f = lay.f
    for layer in SITE_LAYERS:
        f[layer].fill(0.0)
    n_warned = information_phase(ag, prm, lay)
    units_phase(ag, grid, geo, prm, lay, rng, layer_perm, meta, n_warned)
    presence(ag, meta, lay, prm)
    tick(ag, grid, geo, prm, rng, legitimacy, perm, free_stack, meta, events)
    combatants_phase(ag, grid, geo, prm, lay, rng, layer_perm, free_stack, meta, events)
    detention_phase(ag, grid, geo, prm, rng, meta, events)
    transitions_phase(ag, grid, geo, prm, lay, rng, legitimacy, mission_legitimacy, meta,
                      events)
    f[L_SITE_ABUSE, :, :] = grid.abuse_ev  # where, before events_seen spreads it over vision
    events_seen(grid, prm, lay)
    trust_phase(ag, grid, geo, prm, lay, rng, meta, events, mission_legitimacy)
    population_phase(ag, grid, geo, prm, lay, rng, free_stack, meta, events)
    livelihoods_phase(ag, grid, prm, rng, meta)
    police_phase(ag, prm, lay.f[L_MENTOR], meta)
    environment_phase(grid, prm, lay)
    for layer in EVENT_LAYERS:
        f[layer].fill(0.0)
    grid.abuse_ev.fill(0.0)
