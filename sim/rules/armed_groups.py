"""Armed groups (MODEL.md 4.3): interdiction, arrest, clashes and attacks; then recruitment,
disarmament (DDR) and relapse.

Combatants act in random order, each reading the presence fields computed at the start of
the phase (``sim.engine.fields.Layers``); a neighbourhood is scanned only to pick a specific victim
or opponent, after the fields said there is one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import kernels as K
from sim.engine.rng import randint, uniform

_AHEAD = 4  # slots ahead whose cells are prefetched in the per-agent passes


@njit(cache=True)
def _random_resident_near(ag, grid, geo, rng, x, y, r):
    """A uniformly random non-jailed resident within the (2r+1)^2 box, or -1."""
    found = 0
    pick = -1
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            c = K._cell(x, y, dx, dy, geo.width, geo.height, geo.torus)
            if c < 0:
                continue
            b = grid.occ.reshape(-1)[c]
            if b >= 0 and ag.i[b, K.I_KIND] == K.RESIDENT and ag.i[b, K.I_STATE] != K.JAILED:
                found += 1
                if randint(rng, found) == 0:
                    pick = b
    return pick


@njit(cache=True)
def _pick_victim(ag, grid, geo, lp, rng, c):
    """Informants first (with p_retaliate), else a random resident of a rival group."""
    k = ag.i[c, K.I_VCLASS]
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    rival = ag.i[c, K.I_FACTION] % 2
    n_inf = 0
    inf = -1
    n_any = 0
    anyone = -1
    for i in range(geo.n_off[k]):
        cell = K._cell(
            ag.i[c, K.I_X], ag.i[c, K.I_Y], offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus
        )
        if cell < 0:
            continue
        b = occ[cell]
        if b < 0 or ag.i[b, K.I_KIND] != K.RESIDENT or ag.i[b, K.I_STATE] == K.JAILED:
            continue
        if lp.groups == 2 and ag.i[b, K.I_GROUP] == rival:
            continue  # in two-group worlds each faction preys on the other group
        n_any += 1
        if randint(rng, n_any) == 0:
            anyone = b
        if ag.i[b, K.I_INFORMANT] > 0:
            n_inf += 1
            if randint(rng, n_inf) == 0:
                inf = b
    if inf >= 0 and uniform(rng) < lp.p_retaliate:
        return inf
    return anyone


@njit(cache=True)
def _security_unit_near(ag, grid, geo, rng, c):
    """A random peacekeeper or police officer in the combatant's vision, or -1."""
    k = ag.i[c, K.I_VCLASS]
    offs = geo.offsets[k]
    occ = grid.occ.reshape(-1)
    found = 0
    pick = -1
    for i in range(geo.n_off[k]):
        cell = K._cell(
            ag.i[c, K.I_X], ag.i[c, K.I_Y], offs[i, 0], offs[i, 1], geo.width, geo.height, geo.torus
        )
        if cell < 0:
            continue
        b = occ[cell]
        if b >= 0 and (ag.i[b, K.I_KIND] == K.PEACEKEEPER or ag.i[b, K.I_KIND] == K.POLICE):
            found += 1
            if randint(rng, found) == 0:
                pick = b
    return pick


@njit(cache=True)
def combatant_phase(ag, grid, geo, prm, lp, lay, rng, perm, free_stack, meta, events):
    """Every combatant, in random order: may be interdicted or arrested, may clash with
    security forces in vision, may attack a resident, then moves."""
    ai = ag.i
    n = K.shuffled_slots(ai, meta[K.META_HIGH], K.COMBATANT, perm, rng)
    for i in range(n):
        c = perm[i]
        if not ai[c, K.I_ALIVE] or ai[c, K.I_KIND] != K.COMBATANT:
            continue
        x = ai[c, K.I_X]
        y = ai[c, K.I_Y]
        npk = lay.f[K.L_SEC_PK, x, y]
        npol = lay.f[K.L_N_POLICE, x, y]
        # interdiction by peacekeepers in vision, helped by tips pointing here
        if npk > 0:
            p1 = min(
                1.0, lp.p_interdict * (1.0 + lp.tip_boost * min(lay.f[K.L_TIP_REACH, x, y], 1.0))
            )
            if uniform(rng) < 1.0 - (1.0 - p1) ** npk:
                events[K.EV_INTERDICTIONS] += 1
                if uniform(rng) < 1.0 - lp.restraint:  # force harms a bystander
                    v = _random_resident_near(ag, grid, geo, rng, x, y, 1)
                    if v >= 0:
                        events[K.EV_HARMED] += 1
                        if uniform(rng) < lp.p_lethal:  # injured, or killed
                            K.remove_agent(ag, grid, geo, prm, v, free_stack, meta)
                            events[K.EV_CASUALTIES] += 1
                    lay.f[K.L_HARM_EV, x, y] += 1.0
                else:
                    lay.f[K.L_PROTECT_EV, x, y] += 1.0
                K.remove_agent(ag, grid, geo, prm, c, free_stack, meta)
                continue
        # arrest by police, more likely the more professional they are
        if npol > 0:
            prof = lay.f[K.L_SEC_POLICE, x, y] / npol
            p1 = min(1.0, lp.p_arrest_combatant * (0.5 + prof))
            if uniform(rng) < 1.0 - (1.0 - p1) ** npol:
                events[K.EV_COMBATANT_ARRESTS] += 1
                if uniform(rng) < 1.0 - prof:
                    events[K.EV_ABUSES] += 1
                    grid.abuse_ev[x, y] += 1.0
                K.remove_agent(ag, grid, geo, prm, c, free_stack, meta)
                continue
        # clash with security forces in vision: battle deaths on both sides
        if npk + npol > 0 and uniform(rng) < lp.p_clash:
            events[K.EV_CLASHES] += 1
            lay.f[K.L_VIOLENCE, x, y] += lp.per_clash
            u = _security_unit_near(ag, grid, geo, rng, c)
            if u >= 0 and uniform(rng) < lp.p_battle_death * 0.5:
                events[K.EV_BATTLE_DEATHS] += 1
                if ai[u, K.I_KIND] == K.PEACEKEEPER:
                    events[K.EV_PK_KILLED] += 1
                else:
                    events[K.EV_POLICE_KILLED] += 1
                K.remove_agent(ag, grid, geo, prm, u, free_stack, meta)
            if uniform(rng) < lp.p_battle_death:
                events[K.EV_BATTLE_DEATHS] += 1
                K.remove_agent(ag, grid, geo, prm, c, free_stack, meta)
                continue
        # attack a resident under perceived risk P_c = 1 - exp(-k_c S_v / B_v)
        s_v = npk + lay.f[K.L_SEC_POLICE, x, y]
        b_v = max(1, lay.comb_own[ai[c, K.I_FACTION], x, y])
        p_c = 1.0 - np.exp(-lp.risk_constant * s_v / b_v)
        if uniform(rng) < ag.f[c, K.F_AGGRESSION] * (1.0 - p_c):
            v = _pick_victim(ag, grid, geo, lp, rng, c)
            if v >= 0:
                events[K.EV_ATTACKS] += 1
                vx = ai[v, K.I_X]
                vy = ai[v, K.I_Y]
                lay.f[K.L_VIOLENCE, vx, vy] += lp.per_attack
                protected = lay.f[K.L_PK_SEEN, vx, vy] > 0
                lethal = lp.p_lethal * (0.5 if protected else 1.0)
                if protected:
                    lay.f[K.L_PROTECT_EV, vx, vy] += 1.0
                else:
                    lay.f[K.L_VICTIM_EV, vx, vy] += 1.0
                if uniform(rng) < lethal:
                    events[K.EV_CASUALTIES] += 1
                    K.remove_agent(ag, grid, geo, prm, v, free_stack, meta)
        K._move(ag, grid, geo, prm, rng, c)


@njit(cache=True)
def _convert(ag, grid, geo, prm, a, kind, vclass, meta):
    """Change an agent's kind in place (a new Mesa view follows from the new uid)."""
    x = ag.i[a, K.I_X]
    y = ag.i[a, K.I_Y]
    K._leave(ag, grid, geo, prm, a)
    ag.i[a, K.I_STATE] = K.QUIESCENT
    ag.i[a, K.I_KIND] = kind
    ag.i[a, K.I_VCLASS] = vclass
    ag.i[a, K.I_UID] = meta[K.META_NEXT_UID]
    meta[K.META_NEXT_UID] += 1
    K._enter(ag, grid, geo, prm, a, x, y)


@njit(cache=True)
def transitions(ag, grid, geo, prm, lp, lay, rng, legitimacy, meta, events):
    """Recruitment, relapse and disarmament, each resident and combatant once."""
    ai = ag.i
    af = ag.f
    economy = grid.economy
    lf = lay.f
    high = meta[K.META_HIGH]
    n_cells = economy.size
    econ_flat = economy.reshape(n_cells)
    lf_flat = lf.reshape(lf.size)
    for a in range(high):
        b = a + _AHEAD  # fetch the cells of agents a few slots ahead while this one acts
        if b < high and ai[b, K.I_X] >= 0:
            c = ai[b, K.I_X] * economy.shape[1] + ai[b, K.I_Y]
            K.prefetch(econ_flat, c)
            K.prefetch(lf_flat, K.L_COMB_SEEN * n_cells + c)
        if not ai[a, K.I_ALIVE] or ai[a, K.I_X] < 0:
            continue
        x = ai[a, K.I_X]
        y = ai[a, K.I_Y]
        kind = ai[a, K.I_KIND]
        if kind == K.RESIDENT and ai[a, K.I_STATE] != K.JAILED and not ai[a, K.I_EMPLOYED]:
            e = economy[x, y]
            g = K.extended_grievance(
                af[a, K.F_HARDSHIP],
                True,
                e,
                ai[a, K.I_EMPLOYED],
                af[a, K.F_TRUST_POLICE],
                af[a, K.F_DIALOGUE],
                legitimacy,
                prm,
            )
            if ai[a, K.I_EX_COMBATANT]:
                p = lp.relapse_rate * g * (1.0 - e) * (1.0 - lp.reintegration)
                ev = K.EV_RELAPSES
            elif lf[K.L_COMB_SEEN, x, y] > 0:
                p = lp.recruit_rate * g * (1.0 - e) * (1.0 - lp.trust_damping * af[a, K.F_TRUST_PK])
                ev = K.EV_RECRUITS
            else:
                continue
            if uniform(rng) < p:
                _convert(ag, grid, geo, prm, a, K.COMBATANT, lp.comb_class, meta)
                ai[a, K.I_FACTION] = randint(rng, lp.factions)
                af[a, K.F_AGGRESSION] = min(1.0, lp.mean_aggression * (0.5 + uniform(rng)))
                events[ev] += 1
        elif kind == K.COMBATANT and lf[K.L_DDR_REACH, x, y] > 0:
            e = economy[x, y]
            p = lp.ddr_rate * (1.0 - lp.cohesion) * (0.5 + 0.5 * e) * (1.0 + lp.local_partners)
            if uniform(rng) < p:
                _convert(ag, grid, geo, prm, a, K.RESIDENT, 0, meta)
                ai[a, K.I_EX_COMBATANT] = 1
                ai[a, K.I_EMPLOYED] = 0
                events[K.EV_DISARMED] += 1
