"""The peacekeeping layer on top of the civil-violence core (MODEL.md 4.3-4.8).

One tick, in the order of the ODD description (docs/ODD.md, section 3):

1. mission timeline: deployment, drawdown, police growth;
2. peacekeepers move by role (toward violence and tips, posts, settlements, partners);
3. presence fields are computed (who is within reach of each cell);
4. the civil-violence core runs (random-sequential: residents decide, police arrest);
5. armed groups act (interdiction, arrest, clashes, attacks), then recruitment, DDR, relapse;
6. residents update trust, report combatants, flee violence; jobs are found and lost;
7. police professionalism, then the environment layers (violence, economy, infrastructure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import economy as econ
from sim import environment as env
from sim import kernels as K
from sim.conflict import combatant_phase, transitions
from sim.fields import box_sum_into
from sim.mission import drawdown_count, position_units, role_counts
from sim.scenario import ROLE_NAMES, Scenario
from sim.state import LayerTable
from sim.trust import trust_phase

if TYPE_CHECKING:
    from sim.model import PeaceSimModel


def layer_params(sc: Scenario, comb_class: int) -> K.LayerParams:
    a, s, t, d = sc.armed_groups, sc.strategy, sc.trust, sc.ddr
    return K.LayerParams(
        groups=int(sc.residents.groups),
        factions=int(a.factions),
        comb_class=comb_class,
        cohesion=a.cohesion,
        risk_constant=a.risk_constant,
        p_lethal=a.p_lethal,
        p_clash=a.p_clash,
        p_battle_death=a.p_battle_death,
        p_retaliate=a.p_retaliate,
        recruit_rate=a.recruit_rate,
        trust_damping=a.trust_damping,
        ddr_rate=d.rate,
        relapse_rate=d.relapse_rate,
        reintegration=d.reintegration_support,
        restraint=s.restraint,
        cultural_competence=s.cultural_competence,
        transparency=s.transparency,
        early_warning=s.early_warning,
        local_partners=s.local_partners,
        p_interdict=s.p_interdict,
        tip_boost=s.tip_boost,
        rr_speed=int(s.rr_speed),
        p_arrest_combatant=sc.police.p_arrest_combatant,
        memory=t.memory,
        engagement_gain=t.engagement_gain,
        protection_gain=t.protection_gain,
        victimization_loss=t.victimization_loss,
        harm_loss=t.harm_loss,
        abuse_loss=t.abuse_loss,
        mentoring_transfer=t.mentoring_transfer,
        tip_threshold=t.tip_threshold,
        p_tip=t.p_tip,
        leader_influence=t.leader_influence,
        de_escalation=t.de_escalation,
        per_attack=sc.violence.per_attack,
        per_clash=sc.violence.per_clash,
        flee_threshold=sc.violence.flee_threshold,
        programme_rate=sc.economy.programme_rate,
        job_loss=sc.economy.job_loss,
        mentoring_gain=sc.police.mentoring_gain,
        professionalism_decay=sc.police.professionalism_decay,
    )


class PeacekeepingLayer:
    """State and phases of the peacekeeping layer for one model."""

    def __init__(self, model: PeaceSimModel, gen: np.random.Generator) -> None:
        self.model = model
        sc = model.scenario_config
        self.sc = sc
        w, h = model.width, model.height
        self.lay = LayerTable(w, h, sc.armed_groups.factions)
        self.params = layer_params(sc, model.vision_radii.index(sc.armed_groups.vision))
        self.torus = sc.world.torus
        self.tip_radius = 1 + int(round(2 * sc.strategy.early_warning))
        self._perm = np.empty(model.capacity, np.int64)
        self._near_violence = np.zeros((w, h))
        self._init_landscape(gen)
        self._init_agents(gen)
        self.pk_deployed = 0  # units at deployment (drawdown counts down from this)
        self.exit_tick: int | None = None
        self.drawdown_started: int | None = None

    # ------------------------------------------------------------------ set-up

    def _init_landscape(self, gen: np.random.Generator) -> None:
        m, sc, lay = self.model, self.sc, self.lay
        e = sc.economy
        n_markets = max(1, round(e.markets * m.n_cells))
        cells = gen.choice(m.n_cells, size=n_markets, replace=False)
        lay.market.reshape(-1)[cells] = 1.0
        self.market_cells = np.sort(cells)
        bx = np.minimum(np.arange(m.width) * e.districts // m.width, e.districts - 1)
        by = np.minimum(np.arange(m.height) * e.districts // m.height, e.districts - 1)
        lay.district[:] = (bx[:, None] * e.districts + by[None, :]).astype(np.int16)
        m.cells.economy[:] = np.clip(e.initial + e.market_bonus * lay.market, 0.0, 1.0)
        lay.infrastructure[:] = e.infrastructure_initial
        # programmes run around settlements and markets
        near = np.zeros((m.width, m.height))
        box_sum_into(lay.market, 3, self.torus, near)
        self.programme = (near > 0).astype(np.float64) if e.programme_rate > 0 else near * 0.0

    def _init_agents(self, gen: np.random.Generator) -> None:
        m, sc = self.model, self.sc
        ag = m.arrays
        res = np.flatnonzero(ag.alive & (ag.kind == K.RESIDENT))
        t = sc.trust
        ag.trust_pk[res] = np.clip(gen.normal(t.initial_pk, 0.1, res.size), 0, 1)
        ag.trust_police[res] = np.clip(gen.normal(t.initial_police, 0.1, res.size), 0, 1)
        ag.trust_pk0[res] = ag.trust_pk[res]
        ag.trust_police0[res] = ag.trust_police[res]
        ag.set("leader", res, gen.random(res.size) < t.leader_share)
        ag.set("employed", res, gen.random(res.size) < m.cells.economy[ag.x[res], ag.y[res]])
        self._init_police(np.flatnonzero(ag.alive & (ag.kind == K.POLICE)), gen)
        a = sc.armed_groups
        n = round(a.density * m.n_cells)
        before = int(m.meta[K.META_NEXT_UID])
        K.place_new(
            m.ag,
            m.cells,
            m.geometry,
            m.params,
            m._rng_state,
            K.COMBATANT,
            self.params.comb_class,
            n,
            m.free_stack,
            m.meta,
        )
        new = np.flatnonzero(ag.alive & (ag.uid >= before))
        ag.faction[new] = gen.integers(0, a.factions, new.size)
        ag.aggression[new] = np.clip(a.aggression * (0.5 + gen.random(new.size)), 0, 1)
        ag.hardship[new] = gen.random(new.size)
        ag.risk[new] = gen.random(new.size)
        self._gen = gen
        # each faction holds a stronghold on the edge of the map, beyond the mission's reach
        edge = np.concatenate(
            [
                [(x, 0) for x in range(m.width)],
                [(x, m.height - 1) for x in range(m.width)],
                [(0, y) for y in range(m.height)],
                [(m.width - 1, y) for y in range(m.height)],
            ]
        )
        self.strongholds = edge[gen.integers(0, len(edge), a.factions)]

    def reinforce(self) -> None:
        """Fighters arriving from outside appear near their faction's stronghold."""
        m, a = self.model, self.sc.armed_groups
        gen = self._gen
        for f in range(a.factions):
            arrivals = int(gen.poisson(a.reinforcement / a.factions))
            sx, sy = self.strongholds[f]
            r = a.stronghold_radius
            for _ in range(arrivals):
                for _try in range(20):
                    x = int(sx + gen.integers(-r, r + 1))
                    y = int(sy + gen.integers(-r, r + 1))
                    if self.torus:
                        x, y = x % m.width, y % m.height
                    if 0 <= x < m.width and 0 <= y < m.height and m.cells.occ[x, y] < 0:
                        slot = K.new_agent(
                            m.ag,
                            m.cells,
                            m.geometry,
                            m.params,
                            m._rng_state,
                            K.COMBATANT,
                            self.params.comb_class,
                            x * m.height + y,
                            m.free_stack,
                            m.meta,
                        )
                        m.arrays.faction[slot] = f
                        m.arrays.aggression[slot] = min(1.0, a.aggression * (0.5 + gen.random()))
                        m.arrays.hardship[slot] = gen.random()
                        m.arrays.risk[slot] = gen.random()
                        break

    def _init_police(self, slots: np.ndarray, gen: np.random.Generator) -> None:
        ag = self.model.arrays
        p = self.sc.police
        ag.professionalism[slots] = np.clip(gen.normal(p.professionalism, 0.1, slots.size), 0, 1)
        ag.set("community", slots, gen.random(slots.size) < p.community_share)

    def deploy(self) -> None:
        """Deploy the force: units by role, posts at settlements, mentors paired with police."""
        m, sc = self.model, self.sc
        ag = m.arrays
        n = round(sc.peacekeepers.density * m.n_cells)
        shares = {r: getattr(sc.strategy.roles, r) for r in ROLE_NAMES}
        counts = role_counts(n, shares)
        before = int(m.meta[K.META_NEXT_UID])
        K.place_new(
            m.ag,
            m.cells,
            m.geometry,
            m.params,
            m._rng_state,
            K.PEACEKEEPER,
            m.params.pk_class,
            n,
            m.free_stack,
            m.meta,
        )
        new = np.flatnonzero(ag.alive & (ag.uid >= before) & (ag.kind == K.PEACEKEEPER))
        roles = np.concatenate([np.full(counts[r], K.ROLE_CODES[r], np.int8) for r in ROLE_NAMES])[
            : new.size
        ]
        ag.role[new] = roles
        gen = self._gen
        for slot, role in zip(new.tolist(), roles.tolist(), strict=True):
            if role in (K.STATIC, K.ENGAGEMENT, K.DDR_UNIT):
                ag.home[slot] = int(gen.choice(self.market_cells))
        self._pair_mentors()
        self.pk_deployed = new.size

    def _pair_mentors(self) -> None:
        ag = self.model.arrays
        police = np.flatnonzero(ag.alive & (ag.kind == K.POLICE))
        mentors = np.flatnonzero(ag.alive & (ag.kind == K.PEACEKEEPER) & (ag.role == K.MENTORING))
        for slot in mentors.tolist():
            partner = ag.home[slot]
            if partner < 0 or not ag.alive[partner] or ag.kind[partner] != K.POLICE:
                ag.home[slot] = int(self._gen.choice(police)) if police.size else -1

    # ------------------------------------------------------------------ timeline

    def timeline(self, t: int) -> None:
        m, sc = self.model, self.sc
        ag = m.arrays
        if t == sc.mission.deploy_tick and t > 0:
            self.deploy()
        mis = sc.mission
        if mis.drawdown_start is not None and t >= mis.drawdown_start and self.pk_deployed:
            self.drawdown_started = mis.drawdown_start
            keep = drawdown_count(self.pk_deployed, t, mis.drawdown_start, mis.drawdown_ticks)
            have = int(np.count_nonzero(ag.alive & (ag.kind == K.PEACEKEEPER)))
            if have > keep:
                K.remove_random(
                    m.ag,
                    m.cells,
                    m.geometry,
                    m.params,
                    m._rng_state,
                    K.PEACEKEEPER,
                    have - keep,
                    m.free_stack,
                    m.meta,
                )
            if keep == 0 and self.exit_tick is None:
                self.exit_tick = t
        pol = sc.police
        if pol.target is not None and pol.recruitment > 0:
            have = int(np.count_nonzero(ag.alive & (ag.kind == K.POLICE)))
            gap = round(pol.target * m.n_cells) - have
            if gap > 0:
                hires = int(self._gen.binomial(gap, pol.recruitment))
                before = int(m.meta[K.META_NEXT_UID])
                K.place_new(
                    m.ag,
                    m.cells,
                    m.geometry,
                    m.params,
                    m._rng_state,
                    K.POLICE,
                    m.params.cops_class,
                    hires,
                    m.free_stack,
                    m.meta,
                )
                self._init_police(np.flatnonzero(ag.alive & (ag.uid >= before)), self._gen)
        if t % 13 == 0:
            self._pair_mentors()
        if self.sc.armed_groups.reinforcement > 0:
            self.reinforce()

    # ------------------------------------------------------------------ fields

    def _occupancy(self, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        ag = self.model.arrays
        out = np.zeros((self.model.width, self.model.height))
        np.add.at(out, (ag.x[mask], ag.y[mask]), 1.0 if weights is None else weights[mask])
        return out

    def refresh_presence(self) -> None:
        """Who is within reach of every cell, from where agents stand now."""
        m, sc, lay = self.model, self.sc, self.lay
        ag = m.arrays
        on = ag.alive & (ag.x >= 0)
        pk = on & (ag.kind == K.PEACEKEEPER)
        pol = on & (ag.kind == K.POLICE)
        comb = on & (ag.kind == K.COMBATANT)
        res = on & (ag.kind == K.RESIDENT)
        torus = self.torus
        rc, rr = sc.armed_groups.vision, sc.residents.vision
        pk_occ = self._occupancy(pk)
        pol_occ = self._occupancy(pol)
        pol_prof = self._occupancy(pol, ag.professionalism)
        box_sum_into(pk_occ, rc, torus, lay.sec_pk)
        box_sum_into(pol_prof, rc, torus, lay.sec_police)
        box_sum_into(pol_occ, rc, torus, lay.n_police)
        comb_all = np.zeros_like(pk_occ)
        for f in range(sc.armed_groups.factions):
            occ_f = self._occupancy(comb & (ag.faction == f))
            comb_all += occ_f
            box_sum_into(occ_f, rc, torus, lay.comb_own[f])
        box_sum_into(comb_all, rr, torus, lay.comb_seen)
        box_sum_into(pk_occ, sc.peacekeepers.vision, torus, lay.pk_seen)
        role = ag.role
        box_sum_into(
            self._occupancy(pk & (role == K.ENGAGEMENT)),
            sc.strategy.engagement_radius,
            torus,
            lay.engage,
        )
        box_sum_into(
            self._occupancy(pk & (role == K.DDR_UNIT)), sc.ddr.radius, torus, lay.ddr_reach
        )
        box_sum_into(self._occupancy(pk & (role == K.MENTORING)), 2, torus, lay.mentor)
        box_sum_into(self._occupancy(pol & ag.community), rr, torus, lay.community)
        leaders = res & ag.leader
        lr = sc.trust.leader_radius
        box_sum_into(self._occupancy(leaders), lr, torus, lay.leader_n)
        box_sum_into(self._occupancy(leaders, ag.trust_pk), lr, torus, lay.leader_trust)
        engaged = leaders.copy()
        engaged[leaders] = lay.engage[ag.x[leaders], ag.y[leaders]] > 0
        box_sum_into(self._occupancy(engaged), lr, torus, lay.leader_engaged)
        near = np.zeros_like(pk_occ)
        box_sum_into(pk_occ + pol_prof, 3, torus, near)
        lay.security[:] = 1.0 - np.exp(-near)

    # ------------------------------------------------------------------ the tick

    def before_core(self, t: int) -> None:
        """Timeline, unit movement and presence fields, ahead of the civil-violence core."""
        m, lay = self.model, self.lay
        self.timeline(t)
        box_sum_into(lay.tips, self.tip_radius, self.torus, lay.tip_reach)
        lay.tips[:] = 0.0
        heat = lay.violence + (1.0 + self.sc.strategy.early_warning) * lay.tip_reach
        hot = int(np.argmax(heat))
        hot_cell = hot if heat.reshape(-1)[hot] > 1e-3 else -1
        position_units(
            m.ag,
            m.cells,
            m.geometry,
            m.params,
            self.params,
            lay.packed,
            m._rng_state,
            self._perm,
            hot_cell,
        )
        self.refresh_presence()

    def after_core(self) -> None:
        """Armed groups, transitions, trust and tips, livelihoods, police, environment."""
        m, sc, lay, lp = self.model, self.sc, self.lay, self.params
        args = (m.ag, m.cells, m.geometry, m.params, lp, lay.packed, m._rng_state)
        combatant_phase(*args, self._perm, m.free_stack, m.meta, m.events)
        transitions(*args, m.legitimacy, m.meta, m.events, sc.armed_groups.aggression)
        # what residents see: events within their vision
        rr = sc.residents.vision
        for ev in (lay.protect_ev, lay.victim_ev, lay.harm_ev, m.cells.abuse_ev):
            box_sum_into(ev, rr, self.torus, ev)
        trust_phase(*args, m.events)
        econ.employment_phase(m.ag, m.cells, lp, m._rng_state)
        econ.professionalism_phase(m.ag, lp, lay.mentor)
        e, v = sc.economy, sc.violence
        env.update_violence(lay.violence, v.decay, v.spread, self.torus)
        # markets feel insecurity around them, not only on their own cell
        box_sum_into(lay.violence, 3, self.torus, self._near_violence)
        target = env.economy_target(
            lay.infrastructure,
            lay.security,
            self._near_violence,
            lay.market,
            e.base,
            e.w_infrastructure,
            e.w_security,
            e.w_violence,
            e.market_bonus,
        )
        env.update_economy(m.cells.economy, target, e.rate, e.diffusion, self.torus)
        env.update_infrastructure(
            lay.infrastructure, self.programme, lay.violence, e.build_rate, e.damage_rate, 0.5
        )
        for ev in (lay.protect_ev, lay.victim_ev, lay.harm_ev, m.cells.abuse_ev):
            ev[:] = 0.0

    # ------------------------------------------------------------------ observation

    def metrics(self) -> dict[str, float]:
        m, lay = self.model, self.lay
        ag = m.arrays
        res = ag.alive & (ag.kind == K.RESIDENT)
        pol = ag.alive & (ag.kind == K.POLICE)
        pk = ag.alive & (ag.kind == K.PEACEKEEPER)
        ev = m.events
        out: dict[str, float] = {
            "civilian_casualties": int(ev[K.EV_CASUALTIES]),
            "attacks": int(ev[K.EV_ATTACKS]),
            "clashes": int(ev[K.EV_CLASHES]),
            "battle_deaths": int(ev[K.EV_BATTLE_DEATHS]),
            "abuses": int(ev[K.EV_ABUSES]),
            "tips": int(ev[K.EV_TIPS]),
            "recruits": int(ev[K.EV_RECRUITS]),
            "disarmed": int(ev[K.EV_DISARMED]),
            "relapses": int(ev[K.EV_RELAPSES]),
            "weapons_collected": int(ev[K.EV_DISARMED]),
            "interdictions": int(ev[K.EV_INTERDICTIONS]),
            "harmed_by_security": int(ev[K.EV_HARMED]),
            "combatant_arrests": int(ev[K.EV_COMBATANT_ARRESTS]),
            "displaced": int(np.count_nonzero(res & ag.displaced)),
            "employed": int(np.count_nonzero(res & ag.employed)),
            "ex_combatants": int(np.count_nonzero(res & ag.ex_combatant)),
            "trust_pk_mean": _mean(ag.trust_pk, res),
            "trust_police_mean": _mean(ag.trust_police, res),
            "police_professionalism_mean": _mean(ag.professionalism, pol),
            "grievance_mean": self._grievance_mean(res),
            "economy_mean": float(m.cells.economy.mean()),
            "infrastructure_mean": float(lay.infrastructure.mean()),
            "violence_mean": float(lay.violence.mean()),
        }
        for r in ROLE_NAMES:
            out[f"pk_{r}"] = int(np.count_nonzero(pk & (ag.role == K.ROLE_CODES[r])))
        return out

    def _grievance_mean(self, res: np.ndarray) -> float:
        m = self.model
        slots = np.flatnonzero(res)
        if slots.size == 0:
            return 0.0
        return float(np.mean(grievances(m, slots)))


def grievances(model: PeaceSimModel, slots: np.ndarray) -> np.ndarray:
    """G for the given residents (vectorised twin of ``kernels.extended_grievance``)."""
    ag, sc = model.arrays, model.scenario_config
    w = sc.economy.hardship_weight
    on = ag.x[slots] >= 0
    e = np.where(
        on, model.cells.economy[np.maximum(ag.x[slots], 0), np.maximum(ag.y[slots], 0)], 1.0
    )
    hard = (1.0 - w) * ag.hardship[slots] + np.where(on, w * (1.0 - e), 0.0)
    hard = np.where(ag.employed[slots], hard * (1.0 - sc.economy.employment_relief), hard)
    u = sc.unrest.legitimacy_trust_weight
    leg = (1.0 - u) * model.legitimacy + u * ag.trust_police[slots]
    return hard * (1.0 - leg) * (1.0 - ag.dialogue[slots])


def _mean(values: np.ndarray, mask: np.ndarray) -> float:
    n = int(np.count_nonzero(mask))
    return float(values[mask].mean()) if n else 0.0
