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

import numpy as np
from numba import njit, uint64

from sim.engine.fields import (
    G_COMBATANTS,
    G_POLICE,
    G_UNITS,
    N_GROUPS,
    box_sum_work,
    clear_sites,
    diffuse,
    presence_of,
    roster,
)
from sim.engine.grid import inside, target
from sim.engine.layout import (
    COMBATANT,
    DETAINED,
    EV_ATTACKS,
    EV_DISARMED,
    EV_PREDATIONS,
    EV_RELAPSES,
    EV_RELAPSES_F0,
    EV_TIPS,
    EV_TIPS_G0,
    EV_TIPS_LOST,
    EV_TIPS_PARTNERS,
    EV_TIPS_POLICE,
    EV_TIPS_RELAYED,
    EVENT_LAYERS,
    F_ACCEPTANCE,
    F_DIALOGUE,
    F_FEAR,
    F_HARDSHIP,
    F_PROFESSIONALISM,
    F_PROT_OTHER,
    F_PROT_OWN,
    F_RECORD0,
    F_TRUST_PK,
    F_TRUST_PK0,
    F_TRUST_POLICE,
    F_TRUST_POLICE0,
    I_ALIVE,
    I_DISPLACED,
    I_EMPLOYED,
    I_EX_COMBATANT,
    I_FACTION,
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
    L_ACCEPT0,
    L_ACCEPT_N,
    L_ACCESS,
    L_COMB_SEEN,
    L_COMMUNITY,
    L_COMMUNITY_REACH,
    L_DDR_REACH,
    L_ENGAGE,
    L_FACTION_EV0,
    L_FACTION_EV1,
    L_FACTION_EV2,
    L_FACTION_EV3,
    L_HARM_EV,
    L_INFRASTRUCTURE,
    L_INTEL,
    L_LEADER_ENGAGED,
    L_LEADER_N,
    L_LEADER_TRUST,
    L_MARKET,
    L_MARKET_NEAR,
    L_MENTOR,
    L_PARTNER,
    L_PARTNER_REACH,
    L_PARTNER_SITE,
    L_PK_REACH,
    L_POLICE_REACH,
    L_PROGRAMME,
    L_PROTECT_EV,
    L_PROTECT_EV1,
    L_RELAY,
    L_REPORTED,
    L_RETALIATION_EV,
    L_RETALIATION_HEARD,
    L_ROAD,
    L_SITE_ABUSE,
    L_STORE,
    L_STORE_NEAR,
    L_VICTIM_EV,
    L_VICTIM_EV1,
    L_VIOLENCE,
    L_VIOLENCE_BATTLE,
    L_VIOLENCE_CIV,
    L_VOICE_N,
    L_VOICE_TRUST,
    L_WARNING,
    META_ABROAD,
    META_HIGH,
    META_NEXT_UID,
    META_OFFICERS,
    META_TIP_NEXT,
    META_UNITS,
    N_FLOAT,
    N_INT,
    PEACEKEEPER,
    POLICE,
    POLICE_FORCE,
    RESIDENT,
    S_CACHED,
    S_PARTNER_TOTAL,
    S_STORED,
    W_CHECKPOINT,
    W_COMBATANTS,
    W_NEAR,
    W_TARGET,
    W_TMP,
)
from sim.engine.memory import AHEAD, prefetch
from sim.engine.rng import _MASK53, randint, shuffle, uniform
from sim.engine.tick import tick
from sim.rules.armed_groups import combatant_turn, release
from sim.rules.checkpoints import checkpoints_on, has_checkpoints, trade_passage
from sim.rules.displacement import displacement_step, site_status, sites_on
from sim.rules.environment import (
    access,
    clip01,
    economy_step,
    economy_target,
    infrastructure_step,
    market_calm,
    violence_kept,
)
from sim.rules.factions import attention, can_join
from sim.rules.feedback import feedback_on, violence_told, willingness
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
from sim.rules.partners import capacity_step, partner_engagement, relays
from sim.rules.peacekeepers import calls_rapid_response, heat, move_unit
from sim.rules.police import professionalism_step, route
from sim.rules.population import born, dies, emigrates, return_chance, settle_returnee
from sim.rules.reintegration import (
    acceptance_met,
    acceptance_step,
    accepts,
    hiring_factor,
    record_step,
)
from sim.rules.roads import diffuse_along_roads, road_quality_step
from sim.rules.transitions import disarm, join, join_faction, transition_chance
from sim.rules.trust import flees, perceive, relax, respond, settle_base
from sim.rules.weapons import arm, hand_in, seize_caches


@njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(inline="always", cache=True)
def draw(s0, s1, s2, s3):
    """:func:`sim.engine.rng.uniform` on the generator's four words held in local variables
    (``s0, s1, s2, s3 = rng``; written back before anything else draws): the same
    xoshiro256** step, but a loop that draws once per agent keeps the words in registers
    instead of storing and reloading the array around every write to the tables. Returns
    the draw and the new words."""
    result = _rotl(s1 * uint64(5), 7) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return float(result >> uint64(11)) * _MASK53, s0, s1, s2, s3


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


@njit(inline="always", cache=True)
def in_random_order(slots, n, ai, kind, perm, rng):
    """The agents of ``kind`` on the grid among ``slots[:n]`` (slot order), in a fresh
    random order (into ``perm``); returns how many. Over every slot, as
    :func:`sim.engine.grid.shuffled_slots` does, or over the tick's roster (the same agents,
    in the same order, so the same shuffle)."""
    m = 0
    for i in range(n):
        a = slots[i]
        if ai[a, I_ALIVE] and ai[a, I_KIND] == kind and ai[a, I_X] >= 0:
            perm[m] = a
            m += 1
    shuffle(perm, m, rng)
    return m


@njit(cache=True)
def units_phase(ag, grid, geo, prm, lay, rng, perm, meta, n_warned):
    """ODD 3 step 4, :func:`move_units` over every slot (the tick passes its roster)."""
    high = meta[META_HIGH]
    move_units(ag, grid, geo, prm, lay, rng, perm, np.arange(high), high, n_warned)


@njit(cache=True, _nrt=False)
def move_units(ag, grid, geo, prm, lay, rng, perm, slots, n, n_warned):
    """ODD 3 step 4: the hottest cell is found (violence against civilians and fresh tips,
    as much of it as a partial force attends to, ODD 7.25; first maximum, as ``np.argmax``),
    and every unit (among ``slots[:n]``, the tick's roster of units), in random order, moves
    as its role says (ODD 7.8)."""
    f = lay.f
    w, h = grid.occ.shape
    hot = 0
    partial = prm.strategy_partiality > 0.0  # communities: a partial force's attention (7.25)
    best = heat(f[L_VIOLENCE_CIV, 0, 0], f[L_INTEL, 0, 0], prm)
    if partial:
        best *= attention(f[L_COMMUNITY, 0, 0], prm)
    for x in range(w):
        for y in range(h):
            v = heat(f[L_VIOLENCE_CIV, x, y], f[L_INTEL, x, y], prm)
            if partial:
                v *= attention(f[L_COMMUNITY, x, y], prm)
            if v > best:
                best = v
                hot = x * h + y
    hot_cell = hot if calls_rapid_response(best, prm) else -1
    m = in_random_order(slots, n, ag.i, PEACEKEEPER, perm, rng)
    for i in range(m):
        move_unit(ag, grid, geo, prm, lay, rng, perm[i], hot_cell, n_warned)


@njit(cache=True)
def stores_seen(prm, lay):
    """ODD 3 step 7, before the combatants' turns: the weapon stores within combatants'
    vision (box sums; raids, ODD 7.20). Its own kernel: a box sum allocates, and
    :func:`combatant_turns` runs without reference counting."""
    if prm.mechanisms_weapons and lay.scalars[S_STORED] >= 1.0:  # --- accept: ODD 7.20
        box_sum_work(lay.f[L_STORE], prm.armed_groups_vision, prm.world_torus,
                     lay.f[L_STORE_NEAR], lay.work[W_TMP], lay.col)


@njit(cache=True)
def combatants_phase(ag, grid, geo, prm, lay, rng, perm, free_stack, meta, events):
    """ODD 3 step 7, :func:`combatant_turns` over every slot (the tick passes its roster)."""
    high = meta[META_HIGH]
    combatant_turns(ag, grid, geo, prm, lay, rng, perm, np.arange(high), high, free_stack,
                    meta, events)


@njit(cache=True, _nrt=False)
def combatant_turns(ag, grid, geo, prm, lay, rng, perm, slots, n, free_stack, meta, events):
    """ODD 3 step 7: every combatant on the grid (among ``slots[:n]``, the tick's roster of
    combatants), in random order, takes its turn (ODD 7.9); one removed or detained earlier
    in the phase is skipped (the weapon stores within their vision are summed just before,
    :func:`stores_seen`)."""
    ai = ag.i
    m = in_random_order(slots, n, ai, COMBATANT, perm, rng)
    for i in range(m):
        c = perm[i]
        if not ai[c, I_ALIVE] or ai[c, I_KIND] != COMBATANT or ai[c, I_X] < 0:
            continue
        combatant_turn(ag, grid, geo, prm, lay, rng, c, free_stack, meta, events)


@njit(cache=True, _nrt=False)
def release_detainees(ag, grid, geo, prm, lay, rng, slots, n, meta, events):
    """ODD 3 step 8, :func:`sim.rules.armed_groups.detention_phase` over the tick's roster of
    combatants (``slots[:n]``, slot order): every detainee is released with probability
    ``detention.release_rate`` (:func:`sim.rules.armed_groups.release`)."""
    ai = ag.i
    for i in range(n):
        c = slots[i]
        if ai[c, I_ALIVE] and ai[c, I_KIND] == COMBATANT and ai[c, I_STATE] == DETAINED \
                and uniform(rng) < prm.detention_release_rate:
            release(ag, grid, geo, prm, lay, rng, c, meta, events)


@njit(cache=True)
def transitions_phase(ag, grid, geo, prm, lay, rng, legitimacy, mission_legitimacy, meta,
                      events):
    """ODD 3 step 8: every resident and combatant on the grid once, in slot order
    (ODD 7.10): the acceptance ex-combatants meet is computed first
    (:func:`acceptance_phase`, ODD 7.19); a resident who joins or re-arms needs a weapon at
    hand (ODD 7.20)."""
    acceptance_phase(ag, prm, lay, meta)
    ai = ag.i
    af = ag.f
    economy = grid.economy
    lf = lay.f
    high = meta[META_HIGH]
    n_cells = economy.size
    econ_flat = economy.reshape(n_cells)
    lf_flat = lf.reshape(lf.size)
    sites = sites_on(prm)  # --- zones: aid reaches the displaced at sites (ODD 7.23)
    for a in range(high):
        b = a + AHEAD  # fetch the cells of agents a few slots ahead while this one acts
        if b < high and ai[b, I_X] >= 0:
            c = ai[b, I_X] * economy.shape[1] + ai[b, I_Y]
            prefetch(econ_flat, c)
            prefetch(lf_flat, L_COMB_SEEN * n_cells + c)
        if not ai[a, I_ALIVE] or ai[a, I_X] < 0:
            continue
        if ai[a, I_KIND] == RESIDENT and not can_join(ai[a, I_GROUP], prm):
            continue  # communities: no faction recruits from its group (ODD 7.25)
        x = ai[a, I_X]
        y = ai[a, I_Y]
        ex = ai[a, I_EX_COMBATANT]
        p, ev = transition_chance(
            ai[a, I_KIND], ai[a, I_STATE] == JAILED, ai[a, I_EMPLOYED], ex,
            lf[L_COMB_SEEN, x, y] > 0, lf[L_DDR_REACH, x, y] > 0, af[a, F_HARDSHIP],
            economy[x, y], af[a, F_TRUST_POLICE], af[a, F_DIALOGUE], af[a, F_TRUST_PK],
            legitimacy, mission_legitimacy,
            acceptance_met(lay, ai[a, I_FACTION], x, y) if ex else 0.0, prm,
            grid.aid[x, y] if sites and ai[a, I_DISPLACED] else 0.0,  # --- zones (ODD 7.23)
        )
        if p >= 0.0 and uniform(rng) < p:
            if ev == EV_DISARMED:
                hand_in(ag, grid, prm, lay, rng, a, events)
                disarm(ag, grid, geo, prm, a, meta)
            else:
                faction = join_faction(ai[a, I_FACTION], ev == EV_RELAPSES, ai[a, I_GROUP], rng,
                                       prm)
                if not arm(lay, prm, x, y, faction, events):
                    continue  # no weapon at hand: he does not join (ODD 7.20)
                join(ag, grid, geo, prm, rng, a, faction, meta)
                if ev == EV_RELAPSES:
                    events[EV_RELAPSES_F0 + faction] += 1
            events[ev] += 1


@njit(cache=True)
def acceptance_phase(ag, prm, lay, meta):
    """ODD 3 step 8, ODD 7.19: for every cell and faction f, the acceptance an ex-combatant of
    f meets there: the mean of :func:`sim.rules.reintegration.accepts` over the residents
    who are not ex-combatants within ``reintegration.radius`` cells (0 where there are none;
    box sums), into the planes L_ACCEPT0 + f (read by relapse now and by hiring in step 11,
    also for fighters who disarm in between). Returns how many ex-combatants are on the map
    (nothing is computed with ``mechanisms.acceptance`` off)."""
    if not prm.mechanisms_acceptance:
        return 0
    ai = ag.i
    af = ag.f
    f = lay.f
    nf = prm.armed_groups_factions
    for k in range(nf):
        f[L_ACCEPT0 + k].fill(0.0)
    n = f[L_ACCEPT_N]
    n.fill(0.0)
    ex = 0
    for a in range(meta[META_HIGH]):
        x = ai[a, I_X]
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != RESIDENT or x < 0:
            continue
        if ai[a, I_EX_COMBATANT]:
            ex += 1
            continue
        y = ai[a, I_Y]
        acc = af[a, F_ACCEPTANCE]
        n[x, y] += 1.0
        for k in range(nf):
            f[L_ACCEPT0 + k, x, y] += accepts(acc, af[a, F_RECORD0 + k])
    r = prm.reintegration_radius
    torus = prm.world_torus
    tmp = lay.work[W_TMP]
    box_sum_work(n, r, torus, n, tmp, lay.col)
    w, h = n.shape
    for k in range(nf):
        plane = f[L_ACCEPT0 + k]
        box_sum_work(plane, r, torus, plane, tmp, lay.col)
        for x in range(w):
            for y in range(h):
                plane[x, y] = plane[x, y] / n[x, y] if n[x, y] > 0.0 else 0.0
    return ex


@njit(cache=True)
def events_seen(grid, prm, lay):
    """ODD 7.11: what residents see, the events of this tick within their vision (box sums
    of attacks interrupted and unprotected, by the victim's group, harm, police abuse and
    retaliation), and retaliation heard of within ``information.hear_radius``. Returns the
    planes that held nothing (all +0.0 after their sums: bit i for ``EVENT_LAYERS[i]``, bit
    ``len(EVENT_LAYERS)`` for ``grid.abuse_ev``), which :func:`clear_events` need not clear."""
    f = lay.f
    tmp = lay.work[W_TMP]
    rr = prm.residents_vision
    torus = prm.world_torus
    quiet = 0
    # heard: the box sum of this tick's retaliation (before it is summed over vision below)
    if box_sum_work(f[L_RETALIATION_EV], prm.information_hear_radius, torus,
                    f[L_RETALIATION_HEARD], tmp, lay.col):
        quiet |= 1 << _EV_INDEX_HEARD
    for i in range(_N_SEEN):
        layer = EVENT_LAYERS[i]
        if box_sum_work(f[layer], rr, torus, f[layer], tmp, lay.col):
            quiet |= 1 << i
    if box_sum_work(grid.abuse_ev, rr, torus, grid.abuse_ev, tmp, lay.col):
        quiet |= 1 << len(EVENT_LAYERS)
    return quiet


#: events_seen sums EVENT_LAYERS[:_N_SEEN] over vision (attacks interrupted and unprotected,
#: harm, retaliation), and retaliation heard into EVENT_LAYERS[_EV_INDEX_HEARD]
_N_SEEN = 6
_EV_INDEX_HEARD = 6
assert EVENT_LAYERS[:_N_SEEN] == (L_PROTECT_EV, L_PROTECT_EV1, L_VICTIM_EV, L_VICTIM_EV1,
                                  L_HARM_EV, L_RETALIATION_EV)
assert EVENT_LAYERS[_EV_INDEX_HEARD] == L_RETALIATION_HEARD
assert EVENT_LAYERS[_EV_INDEX_HEARD + 1:] == (L_FACTION_EV0, L_FACTION_EV1, L_FACTION_EV2,
                                              L_FACTION_EV3)


@njit(cache=True)
def acts_seen(prm, lay, events):
    """ODD 7.19: what residents see of each faction, its members' attacks and predation of
    this tick within their vision (box sums; none this tick: nothing to sum). Returns, as
    :func:`events_seen`, the faction planes that hold nothing (none this tick: all of them,
    left all +0.0 by the last clear, as only attacks and predation write them)."""
    nf = prm.armed_groups_factions
    if events[EV_ATTACKS] + events[EV_PREDATIONS] == 0:
        return ((1 << nf) - 1) << (_EV_INDEX_HEARD + 1)
    f = lay.f
    quiet = 0
    for k in range(nf):
        if box_sum_work(f[L_FACTION_EV0 + k], prm.residents_vision, prm.world_torus,
                        f[L_FACTION_EV0 + k], lay.work[W_TMP], lay.col):
            quiet |= 1 << (_EV_INDEX_HEARD + 1 + k)
    return quiet


@njit(cache=True, _nrt=False)
def clear_events(grid, prm, lay, quiet):
    """The end of a tick: the per-tick event planes (``EVENT_LAYERS``, those of factions
    that exist, and the police abuse plane) are cleared, but for those known to hold
    nothing (``quiet``, from :func:`events_seen` and :func:`acts_seen`: all +0.0 already,
    and nothing writes them after those sums)."""
    f = lay.f
    for i in range(len(EVENT_LAYERS)):
        layer = EVENT_LAYERS[i]
        if L_FACTION_EV0 + prm.armed_groups_factions <= layer <= L_FACTION_EV3:
            continue  # (the planes of factions beyond the last are never written)
        if not (quiet >> i) & 1:
            f[layer].fill(0.0)
    if not (quiet >> len(EVENT_LAYERS)) & 1:
        grid.abuse_ev.fill(0.0)


#: the float fields trust_phase reads lie from F_TRUST_POLICE to F_PROT_OTHER, or to the
#: last record: prefetched at F_TRUST_POLICE, 8 fields (64 bytes) on and the last one, no
#: two more than 64 bytes apart, so that every cache line they span is fetched
assert min(F_TRUST_PK, F_TRUST_PK0, F_TRUST_POLICE0, F_DIALOGUE, F_FEAR, F_PROT_OWN,
           F_PROT_OTHER, F_ACCEPTANCE, F_RECORD0) > F_TRUST_POLICE
assert max(F_TRUST_PK, F_TRUST_PK0, F_TRUST_POLICE0, F_DIALOGUE, F_FEAR, F_PROT_OWN) \
    < F_PROT_OTHER <= F_TRUST_POLICE + 16
assert F_TRUST_POLICE + 8 < F_ACCEPTANCE < F_RECORD0 and F_RECORD0 + 3 <= F_TRUST_POLICE + 16


@njit(cache=True, _nrt=False)
def trust_phase(ag, grid, geo, prm, lay, rng, meta, events, mission_legitimacy):
    """ODD 3 step 9: every resident once (ODD 7.11, 7.16): trust relaxes toward its base,
    fear fades or grows, the memory of whom the force protects is updated, trust responds to
    what the resident saw and the base follows (for an adaptive mission it passes on some of
    what it saw, ODD 7.27); then reports and flight.

    Flight and return are :func:`sim.rules.displacement.displacement_step` (ODD 7.11,
    7.23; with protection sites, :func:`~sim.rules.displacement.site_status` first).

    Two passes with the same result as one pass in slot order: the deterministic update
    reads a dozen layers at the resident's cell, so it goes in cell order (the layers
    stream from memory; a resident's update reads nothing another one changes). Reports and
    flight draw random numbers and move people, so they follow in slot order. With the
    peacekeeping layer's accept mechanisms, each resident also meets local partners (ODD
    7.21) and updates its record of each faction and its acceptance of ex-combatants (ODD
    7.19) after its trust."""
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
    partners_on = prm.mechanisms_partners and lay.scalars[S_PARTNER_TOTAL] > 0.0
    deployed = meta[META_UNITS] > 0
    acceptance_on = prm.mechanisms_acceptance
    n_factions = prm.armed_groups_factions

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

    fb = feedback_on(prm)  # communities: residents and leaders tell the mission (ODD 7.27)
    last_field = F_RECORD0 + n_factions - 1 if acceptance_on else F_PROT_OTHER
    # whom a report can be about, ranked on the way (sim.rules.information.seen_combatant:
    # a combatant, never a resident; it looks at the occupant's kind only, and no one moves
    # in this phase but residents who flee or go home, onto empty cells): the scratch plane
    # is all zero outside presence, and is cleared again at the end
    seen = lay.work[W_COMBATANTS]
    # residents on the grid, in cell order: what they saw this tick
    for x in range(w):
        for y in range(h):
            if y + AHEAD < h:  # the row of a resident a few cells on, fetched meanwhile
                b = occ[x, y + AHEAD]
                if b >= 0:  # (its float fields: every line they span, see above)
                    prefetch(ai_flat, b * N_INT)
                    prefetch(ai_flat, b * N_INT + I_INFORMANT)
                    prefetch(af_flat, b * N_FLOAT + F_TRUST_POLICE)
                    prefetch(af_flat, b * N_FLOAT + F_TRUST_POLICE + 8)
                    prefetch(af_flat, b * N_FLOAT + last_field)
            a = occ[x, y]
            if a < 0:
                continue
            kind = ai[a, I_KIND]
            if kind != RESIDENT:  # whom the reports below can be about
                rank = seen_combatant(a, kind, ai[a, I_STATE], ai[a, I_GROUP],
                                      ai[a, I_INFORMANT], -1, -1, prm)
                if rank > 0:
                    seen[x, y] = rank
                continue
            # the row's values stay in registers from relax to settle (each written once)
            informant = ai[a, I_INFORMANT]
            t_pk0 = af[a, F_TRUST_PK0]
            t_pol0 = af[a, F_TRUST_POLICE0]
            left, dialogue, t, tp = relax(informant, af[a, F_DIALOGUE], af[a, F_TRUST_PK],
                                          t_pk0, af[a, F_TRUST_POLICE], t_pol0, prm)
            if left != informant:
                ai[a, I_INFORMANT] = left
            fear = fear_step(af[a, F_FEAR], lf[L_RETALIATION_EV, x, y],
                             lf[L_RETALIATION_HEARD, x, y], prm)
            af[a, F_FEAR] = fear
            group = ai[a, I_GROUP]
            leader = ai[a, I_LEADER]
            p0 = lf[L_PROTECT_EV, x, y]
            p1 = lf[L_PROTECT_EV1, x, y]
            own, other = (p1, p0) if group == 1 else (p0, p1)
            mine = perceive(af[a, F_PROT_OWN], own, prm)
            theirs = perceive(af[a, F_PROT_OTHER], other, prm)
            af[a, F_PROT_OWN] = mine
            af[a, F_PROT_OTHER] = theirs
            t, tp, dialogue = respond(
                t, tp, dialogue, leader,
                lf[L_ENGAGE, x, y], lf[L_LEADER_ENGAGED, x, y], p0 + p1,
                lf[L_VICTIM_EV, x, y] + lf[L_VICTIM_EV1, x, y], lf[L_HARM_EV, x, y],
                lf[L_LEADER_N, x, y], lf[L_LEADER_TRUST, x, y], lf[L_MENTOR, x, y],
                abuse[x, y], max(0.0, theirs - mine), prm,
            )
            # --- accept: local partners (ODD 7.21), records and acceptance (ODD 7.19) ---
            if partners_on:
                reach = lf[L_PARTNER_REACH, x, y]
                if reach > 0.0:
                    t, dialogue = partner_engagement(t, dialogue, reach, deployed, prm)
            if acceptance_on:
                for k in range(n_factions):
                    af[a, F_RECORD0 + k] = record_step(af[a, F_RECORD0 + k],
                                                       lf[L_FACTION_EV0 + k, x, y], prm)
                af[a, F_ACCEPTANCE] = acceptance_step(
                    af[a, F_ACCEPTANCE], dialogue,
                    lf[L_PARTNER_REACH, x, y] if partners_on else 0.0, prm)
            af[a, F_DIALOGUE] = dialogue
            af[a, F_TRUST_PK] = t
            af[a, F_TRUST_POLICE] = tp
            af[a, F_TRUST_PK0] = settle_base(t, t_pk0, prm)  # the base levels follow
            af[a, F_TRUST_POLICE0] = settle_base(tp, t_pol0, prm)
            if fb:  # communities: what it passes on to the mission's review (ODD 7.27)
                v0 = lf[L_VICTIM_EV, x, y]
                v1 = lf[L_VICTIM_EV1, x, y]
                mine, theirs = (v1, v0) if group == 1 else (v0, v1)
                told = violence_told(mine, theirs, lf[L_HARM_EV, x, y], prm)
                engaged = lf[L_ENGAGE, x, y] > 0
                if told > 0.0:
                    lf[L_REPORTED, x, y] += told * willingness(
                        t, fear, lf[L_PK_REACH, x, y] > 0, leader != 0, engaged, prm)
                if leader != 0 and engaged:
                    lf[L_VOICE_TRUST, x, y] += t
                    lf[L_VOICE_N, x, y] += 1.0
    # every resident, in slot order: those in jail only relax; the others may report and flee
    if sites_on(prm):  # --- zones: what each protection site holds and the aid it gets
        site_status(ag, grid, geo, prm, lay, meta)
    tips_next = meta[META_TIP_NEXT]
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]  # the generator, in registers (draw)
    for a in range(high):
        b = a + AHEAD  # the cell of an agent a few slots on, fetched meanwhile (the layers
        if b < high and ai[b, I_X] >= 0:  # every resident reads: sight, then flight)
            c = ai[b, I_X] * h + ai[b, I_Y]
            for layer in (L_COMB_SEEN, L_VIOLENCE_CIV, L_VIOLENCE_BATTLE):
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
        if p >= 0.0:
            u, s0, s1, s2, s3 = draw(s0, s1, s2, s3)
            if u < p:
                rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
                tips_next = report(ag, grid, geo, prm, lay, rng, a, x, y, tips_next, events,
                                   meta, seen)
                s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
        v = lf[L_VIOLENCE_CIV, x, y] + lf[L_VIOLENCE_BATTLE, x, y]
        # --- zones: flight, toward protection sites when there are any, and return (7.23);
        # only those who flee or are displaced have anything to do (a call, not inlined:
        # the loop over every resident stays small)
        if flees(v, prm) or ai[a, I_DISPLACED]:
            rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
            displacement_step(ag, grid, geo, prm, lay, rng, a, x, y, v, events)
            s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3
    meta[META_TIP_NEXT] = tips_next
    seen.fill(0.0)


@njit(inline="always", cache=True)
def _combatant_seen(seen, geo, rng, x, y, k):
    """``neighbour_where(..., seen_combatant, ...)[0]`` for a resident at (x, y) with vision
    class ``k``, from ``seen``, the rank of every cell's occupant (0 for none): the same
    offsets in the same order and the same draws (one per cell ranked 1 or more, and a
    second per cell ranked 2), without reading the row of every neighbour. Returns the
    flat cell, -1 when nobody in sight qualifies."""
    marks = seen.reshape(-1)
    w = geo.width
    h = geo.height
    inner = inside(x, y, geo.reach[k], w, h)
    here = x * h + y
    found = 0
    pick = -1
    found2 = 0
    for j in range(geo.n_off[k]):
        c = target(inner, here, geo.flat[k, j], x, y, geo.offsets[k, j, 0],
                   geo.offsets[k, j, 1], w, h, geo.torus)
        if c < 0:
            continue
        r = marks[c]
        if r > 0.0:
            found += 1
            if randint(rng, found) == 0:
                pick = c
            if r > 1.0:
                found2 += 1
                randint(rng, found2)  # the preferred pick is drawn, not used
    return pick


@njit(inline="always", cache=True)
def report(ag, grid, geo, prm, lay, rng, a, x, y, tips_next, events, meta, seen):
    """ODD 7.16, a report by resident ``a`` at (x, y): a uniformly random combatant in its
    vision (:func:`sim.rules.information.seen_combatant`; ``seen`` marks the cells
    combatants stand on; none left in sight: no report), the force it tells
    (:func:`sim.rules.information.recipient`, or with a leader of a police forum within
    reach :func:`sim.rules.police.route`, ODD 7.26; a local partner may first widen who is
    within reach, :func:`sim.rules.partners.relays`, ODD 7.21; none in reach: the tip is
    lost), the tip filed (with ``mechanisms.information`` on) and,
    with probability ``information.p_exposure``, the reporter known to the armed group for
    ``trust.informant_memory`` ticks. Returns the tip table's next row."""
    ai = ag.i
    af = ag.f
    lf = lay.f
    c = _combatant_seen(seen, geo, rng, x, y, ai[a, I_VCLASS])
    if c < 0:  # the combatant it saw has moved out of sight: nothing to report
        return tips_next
    unit_near = lf[L_PK_REACH, x, y] > 0
    officer_near = lf[L_POLICE_REACH, x, y] > 0 or lf[L_COMMUNITY_REACH, x, y] > 0
    t_pk, t_pol = af[a, F_TRUST_PK], af[a, F_TRUST_POLICE]
    # --- communities: a leader in a police forum within reach passes tips on (ODD 7.26) ---
    forum = lf[L_RELAY, x, y] > 0
    relayed = False
    if forum:
        force, relayed = route(t_pk, t_pol, unit_near, officer_near, prm)
    else:
        force = recipient(t_pk, t_pol, unit_near, officer_near, prm)
    direct = force
    reach = lf[L_PARTNER_REACH, x, y]
    if prm.mechanisms_partners and reach > 0.0 and lay.scalars[S_PARTNER_TOTAL] > 0.0:
        # --- accept: a local partner may pass the tip on (ODD 7.21)
        unit_near, officer_near = relays(t_pk, t_pol, unit_near, officer_near, reach,
                                         meta[META_UNITS], meta[META_OFFICERS], uniform(rng),
                                         prm)
        if forum:
            force, relayed = route(t_pk, t_pol, unit_near, officer_near, prm)
        else:
            force = recipient(t_pk, t_pol, unit_near, officer_near, prm)
        if force >= 0 and force != direct:
            events[EV_TIPS_PARTNERS] += 1
    if force < 0:
        events[EV_TIPS_LOST] += 1
        return tips_next
    c = grid.occ.reshape(-1)[c]
    events[EV_TIPS] += 1
    events[EV_TIPS_G0 + ai[a, I_GROUP]] += 1  # communities: by the reporter's group
    if force == POLICE_FORCE:
        events[EV_TIPS_POLICE] += 1
        if relayed:
            events[EV_TIPS_RELAYED] += 1
    if prm.mechanisms_information:
        tx, ty = noisy_cell(ai[c, I_X], ai[c, I_Y], rng, geo.width, geo.height, geo.torus, prm)
        tips_next = file_tip(lay.tips, tips_next, c, ai[c, I_UID], tx, ty, force, prm)
    if uniform(rng) < prm.information_p_exposure:
        ai[a, I_INFORMANT] = prm.trust_informant_memory
    return tips_next


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def livelihoods_phase(ag, grid, prm, rng, meta, lay):
    """ODD 3 step 11: every resident on the grid once, in slot order (ODD 7.12, jobs; an
    ex-combatant's chance of a job depends on the acceptance he meets, ODD 7.19)."""
    ai = ag.i
    economy = grid.economy
    high = meta[META_HIGH]
    econ_flat = economy.reshape(economy.size)
    s0, s1, s2, s3 = rng[0], rng[1], rng[2], rng[3]  # the generator, in registers (draw)
    for a in range(high):
        b = a + AHEAD  # fetch the cell of an agent a few slots ahead while this one acts
        if b < high and ai[b, I_X] >= 0:
            prefetch(econ_flat, ai[b, I_X] * economy.shape[1] + ai[b, I_Y])
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != RESIDENT or ai[a, I_X] < 0:
            continue
        employed = ai[a, I_EMPLOYED]
        x = ai[a, I_X]
        y = ai[a, I_Y]
        ex = ai[a, I_EX_COMBATANT]
        p = job_change_chance(employed, ex, economy[x, y], prm)
        if ex and not employed and p > 0.0:  # --- accept: employers who accept him (7.19)
            p *= hiring_factor(acceptance_met(lay, ai[a, I_FACTION], x, y), prm)
        if p >= 0.0:
            u, s0, s1, s2, s3 = draw(s0, s1, s2, s3)
            if u < p:
                ai[a, I_EMPLOYED] = 0 if employed else 1
    rng[0], rng[1], rng[2], rng[3] = s0, s1, s2, s3


@njit(cache=True)
def police_phase(ag, prm, mentor, meta):
    """ODD 3 step 11, :func:`officers_train` over every slot (the tick passes its roster)."""
    high = meta[META_HIGH]
    officers_train(ag, prm, mentor, np.arange(high), high)


@njit(cache=True, _nrt=False)
def officers_train(ag, prm, mentor, slots, n):
    """ODD 3 step 11: every officer on the grid (among ``slots[:n]``, the tick's roster of
    officers) once (ODD 7.12, professionalism)."""
    ai = ag.i
    af = ag.f
    for i in range(n):
        a = slots[i]
        if not ai[a, I_ALIVE] or ai[a, I_KIND] != POLICE or ai[a, I_X] < 0:
            continue
        mentored = mentor[ai[a, I_X], ai[a, I_Y]] > 0
        af[a, F_PROFESSIONALISM] = professionalism_step(af[a, F_PROFESSIONALISM], mentored, prm)


@njit(cache=True, _nrt=False)
def partners_phase(prm, lay, meta):
    """ODD 3 step 11, ODD 7.21: every local partner (at a settlement) builds capacity while
    units are deployed and loses some every tick
    (:func:`sim.rules.partners.capacity_step`)."""
    if not prm.mechanisms_partners:
        return
    f = lay.f
    h = f.shape[2]
    deployed = meta[META_UNITS] > 0
    total = 0.0
    for m in lay.markets:
        x = m // h
        y = m - x * h
        if f[L_PARTNER_SITE, x, y] > 0.0:
            f[L_PARTNER, x, y] = capacity_step(f[L_PARTNER, x, y], deployed, prm)
            total += f[L_PARTNER, x, y]
    lay.scalars[S_PARTNER_TOTAL] = total


@njit(cache=True, _nrt=False)
def weapons_phase(prm, lay, rng, events):
    """ODD 3 step 3, ODD 7.20: the forces' fresh tips near caches lead them there
    (:func:`sim.rules.weapons.seize_caches`)."""
    if prm.mechanisms_weapons and prm.mechanisms_information and lay.scalars[S_CACHED] >= 1.0:
        seize_caches(lay, prm, rng, events)


@njit(cache=True)
def environment_phase(grid, prm, lay):
    """ODD 3 step 12: violence against civilians and battle violence each fade and spread
    (V is their sum); market access is the share of nearby markets that are calm; the
    economy relaxes toward its target and diffuses; infrastructure is built where calm and
    damaged by violence (ODD 7.13), each a sweep over the cells. Checkpoints cut the market
    access of the cells they control (ODD 7.22); roads carry the economy, and violence and
    programmes change their quality (ODD 7.24)."""
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
    # --- zones: trade passes checkpoints no easier than people (ODD 7.22) ---
    if checkpoints_on(prm):
        control = grid.control
        for x in range(w):
            for y in range(h):
                if control[x, y] > 0.0:
                    calm[x, y] *= trade_passage(control[x, y], prm)
    # markets feel insecurity around them, not only on their own cell
    near = lay.work[W_NEAR]
    box_sum_work(violence, prm.economy_violence_radius, torus, near, lay.work[W_TMP], lay.col)
    for x in range(w):
        for y in range(h):
            target = economy_target(infra[x, y], calm[x, y], f[L_MARKET, x, y], near[x, y],
                                    prm)
            economy[x, y] = economy_step(economy[x, y], target, prm)
    diffuse(economy, prm.economy_diffusion, torus, tmp)
    roads = lay.roads
    if prm.mechanisms_roads and roads.size:  # --- zones: trade along roads (ODD 7.24)
        diffuse_along_roads(economy.reshape(economy.size), f[L_ROAD].reshape(economy.size),
                            roads, lay.road_nbr, lay.road_tmp, prm)
    for x in range(w):
        for y in range(h):
            economy[x, y] = clip01(economy[x, y])
    for x in range(w):
        for y in range(h):
            infra[x, y] = infrastructure_step(infra[x, y], violence[x, y], f[L_PROGRAMME, x, y],
                                              prm)
    if prm.mechanisms_roads:  # --- zones: violence damages roads, programmes rebuild them
        road = f[L_ROAD]
        for i in range(roads.size):
            x = roads[i] // h
            y = roads[i] - x * h
            road[x, y] = road_quality_step(road[x, y], violence[x, y], f[L_PROGRAMME, x, y],
                                           prm)


@njit(cache=True)
def checkpoint_phase(grid, prm, lay):
    """ODD 3 step 5, with the presence fields (ODD 7.22): the checkpoints controlling every
    cell, those within ``checkpoints.radius`` of it (a box sum of where checkpoint units
    stand), read by the moves of residents and fighters and by market access (with
    ``mechanisms.checkpoints`` on) and by the outputs near checkpoints."""
    if has_checkpoints(prm):
        box_sum_work(lay.work[W_CHECKPOINT], prm.checkpoints_radius, prm.world_torus,
                     grid.control, lay.work[W_TMP], lay.col)


@njit(cache=True)
def layer_tick(ag, grid, geo, prm, lay, rng, legitimacy, mission_legitimacy, perm, layer_perm,
               free_stack, meta, events):
    """Everything in a tick after the mission timeline, in the order of ODD 3: tips age and
    warn (and lead to weapon caches), units move, presence is sensed, the civil-violence core
    runs (random-sequential activation), then armed groups, detention, transitions, trust and
    reports, population, livelihoods, police, local partners and the environment. Per-tick
    event fields are cleared at the end (but those that held nothing this tick,
    :func:`clear_events`); the event-site planes and the cells of this tick's attacks and
    clashes (outputs only) when the tick starts, those written since
    (:func:`sim.engine.fields.clear_sites`; ``site_abuse`` is overwritten with this tick's
    abuse), so that the observation after the tick reads them. The phases over units,
    combatants and officers, and presence, visit the roster made before the units move
    (:func:`sim.engine.fields.roster`) rather than every slot."""
    f = lay.f
    clear_sites(lay)  # the event-site planes written last tick (and clashes, --- districts)
    n_warned = information_phase(ag, prm, lay)
    weapons_phase(prm, lay, rng, events)
    high = meta[META_HIGH]  # who is who: the phases over units, officers or combatants
    slots = np.empty((N_GROUPS, max(high, 1)), np.int64)  # visit these lists
    counts = np.zeros(N_GROUPS, np.int64)
    roster(ag.i, high, prm, slots, counts)
    move_units(ag, grid, geo, prm, lay, rng, layer_perm, slots[G_UNITS], counts[G_UNITS],
               n_warned)
    presence_of(ag, meta, lay, prm, slots, counts)
    checkpoint_phase(grid, prm, lay)  # --- zones
    tick(ag, grid, geo, prm, rng, legitimacy, perm, free_stack, meta, events)
    stores_seen(prm, lay)
    combatant_turns(ag, grid, geo, prm, lay, rng, layer_perm, slots[G_COMBATANTS],
                    counts[G_COMBATANTS], free_stack, meta, events)
    release_detainees(ag, grid, geo, prm, lay, rng, slots[G_COMBATANTS], counts[G_COMBATANTS],
                      meta, events)
    transitions_phase(ag, grid, geo, prm, lay, rng, legitimacy, mission_legitimacy, meta,
                      events)
    f[L_SITE_ABUSE, :, :] = grid.abuse_ev  # where, before events_seen spreads it over vision
    quiet = events_seen(grid, prm, lay)
    quiet |= acts_seen(prm, lay, events)
    trust_phase(ag, grid, geo, prm, lay, rng, meta, events, mission_legitimacy)
    population_phase(ag, grid, geo, prm, lay, rng, free_stack, meta, events)
    livelihoods_phase(ag, grid, prm, rng, meta, lay)
    officers_train(ag, prm, lay.f[L_MENTOR], slots[G_POLICE], counts[G_POLICE])
    partners_phase(prm, lay, meta)
    environment_phase(grid, prm, lay)
    clear_events(grid, prm, lay, quiet)
