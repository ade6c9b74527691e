"""The peacekeeping layer on top of the civil-violence core (MODEL.md 4.3-4.8).

One tick, in the order of the ODD description (docs/ODD.md, section 3):

1. mission timeline: deployment, drawdown, police growth;
2. peacekeepers move by role (toward violence and tips, posts, settlements, partners);
3. presence fields are computed (who is within reach of each cell);
4. the civil-violence core runs (random-sequential: residents decide, police arrest);
5. armed groups act (interdiction, arrest, clashes, attacks), then recruitment, DDR, relapse;
6. residents update trust, report combatants, flee violence; jobs are found and lost;
7. police professionalism, then the environment layers (violence, economy, infrastructure).

Step 1 runs in Python (it draws from the set-up generator); steps 2-7 are one kernel call,
``layer_tick``, so a tick crosses from Python to numba once (plus once for the metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.config.scenario import ROLE_NAMES, Scenario
from sim.engine import kernels as K
from sim.engine.fields import W_TMP, box_sum_into, box_sum_work, presence
from sim.engine.state import LayerTable
from sim.rules.armed_groups import combatant_phase, transitions
from sim.rules.livelihoods import employment_phase, professionalism_phase, update_environment
from sim.rules.peacekeepers import (
    adaptive_moves,
    district_need,
    drawdown_count,
    position_units,
    role_counts,
)
from sim.rules.trust import trust_phase

if TYPE_CHECKING:
    from sim.model.model import PeaceSimModel


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
        torus=bool(sc.world.torus),
        comb_vision=int(a.vision),
        res_vision=int(sc.residents.vision),
        pk_vision=int(sc.peacekeepers.vision),
        engagement_radius=int(s.engagement_radius),
        ddr_radius=int(d.radius),
        leader_radius=int(t.leader_radius),
        tip_radius=1 + int(round(2 * s.early_warning)),
        mean_aggression=float(a.aggression),
        violence_decay=float(sc.violence.decay),
        violence_spread=float(sc.violence.spread),
        economy_base=float(sc.economy.base),
        w_infrastructure=float(sc.economy.w_infrastructure),
        w_security=float(sc.economy.w_security),
        w_violence=float(sc.economy.w_violence),
        market_bonus=float(sc.economy.market_bonus),
        economy_rate=float(sc.economy.rate),
        economy_diffusion=float(sc.economy.diffusion),
        build_rate=float(sc.economy.build_rate),
        damage_rate=float(sc.economy.damage_rate),
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
        self._perm = np.empty(model.capacity, np.int64)
        self._metrics = np.zeros(N_METRICS, np.float64)
        self._buf = np.empty((4, model.capacity), np.float64)
        self._init_landscape(gen)
        self._init_agents(gen)
        self.pk_deployed = 0  # units at deployment (drawdown counts down from this)
        self.exit_tick: int | None = None
        self.drawdown_started: int | None = None
        self._feedback: tuple[np.ndarray, np.ndarray] | None = None  # at the last review
        self.units_moved = 0  # by adaptive reviews

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
        lay.programme[:] = (near > 0).astype(np.float64) if e.programme_rate > 0 else near * 0.0

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
        new = np.sort(K.place_new_slots(m.ag, m.cells, m.geometry, m.params, m._rng_state,
                                        K.COMBATANT, self.params.comb_class, n, m.free_stack,
                                        m.meta))
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
        new = np.sort(K.place_new_slots(m.ag, m.cells, m.geometry, m.params, m._rng_state,
                                        K.PEACEKEEPER, m.params.pk_class, n, m.free_stack,
                                        m.meta))
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
        m = self.model
        ai = m.arrays.i[: m.meta[K.META_HIGH]]
        alive, kind = ai[:, K.I_ALIVE] != 0, ai[:, K.I_KIND]
        police = np.flatnonzero(alive & (kind == K.POLICE))
        mentors = np.flatnonzero(alive & (kind == K.PEACEKEEPER) & (ai[:, K.I_ROLE] == K.MENTORING))
        for slot in mentors.tolist():
            partner = int(ai[slot, K.I_HOME])
            if partner < 0 or not ai[partner, K.I_ALIVE] or ai[partner, K.I_KIND] != K.POLICE:
                ai[slot, K.I_HOME] = int(self._gen.choice(police)) if police.size else -1

    # ------------------------------------------------------------------ timeline

    def timeline(self, t: int) -> None:
        m, sc = self.model, self.sc
        if t == sc.mission.deploy_tick and t > 0:
            self.deploy()
        mis = sc.mission
        if mis.drawdown_start is not None and t >= mis.drawdown_start and self.pk_deployed:
            self.drawdown_started = mis.drawdown_start
            keep = drawdown_count(self.pk_deployed, t, mis.drawdown_start, mis.drawdown_ticks,
                                  mis.drawdown_schedule)
            have = m.count(K.C_PEACEKEEPERS)
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
            have = m.count(K.C_POLICE)
            gap = round(pol.target * m.n_cells) - have
            if gap > 0:
                hires = int(self._gen.binomial(gap, pol.recruitment))
                slots = K.place_new_slots(
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
                self._init_police(np.sort(slots), self._gen)
        if t % 13 == 0:
            self._pair_mentors()
        if self.sc.armed_groups.reinforcement > 0:
            self.reinforce()
        strat = sc.strategy
        if strat.adaptive and t > 0 and t % strat.review_interval == 0 \
                and m.count(K.C_PEACEKEEPERS):
            self.review()

    def feedback(self) -> tuple[np.ndarray, np.ndarray]:
        """Community feedback by district: mean violence, and mean trust in peacekeepers of
        the residents living there (the district's last value where none live)."""
        m, lay = self.model, self.lay
        nd = self.sc.economy.districts ** 2
        district = lay.district.ravel().astype(np.int64)
        cells = np.bincount(district, minlength=nd)
        violence = np.bincount(district, weights=lay.violence.ravel(), minlength=nd) / \
            np.maximum(cells, 1)
        ai = m.arrays.i[: m.meta[K.META_HIGH]]
        res = (ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.RESIDENT) & (ai[:, K.I_X] >= 0)
        where = lay.district[ai[res, K.I_X], ai[res, K.I_Y]].astype(np.int64)
        n = np.bincount(where, minlength=nd)
        total = np.bincount(where, weights=m.arrays.f[: ai.shape[0]][res, K.F_TRUST_PK],
                            minlength=nd)
        trust = np.where(n > 0, total / np.maximum(n, 1),
                         self._feedback[1] if self._feedback is not None else 0.0)
        return violence, trust

    def review(self) -> None:
        """Adaptive strategy (MODEL.md 4.4): compare community feedback with the last review
        and re-post units from quiet districts to those where violence rose and trust fell.
        The first review only records the feedback."""
        violence, trust = self.feedback()
        last, self._feedback = self._feedback, (violence, trust)
        if last is None:
            return
        need = district_need(violence, last[0], trust, last[1])
        m = self.model
        ai = m.arrays.i[: m.meta[K.META_HIGH]]
        posted = np.flatnonzero(
            (ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.PEACEKEEPER)
            & np.isin(ai[:, K.I_ROLE], (K.STATIC, K.ENGAGEMENT, K.DDR_UNIT))
            & (ai[:, K.I_HOME] >= 0))
        homes = ai[posted, K.I_HOME]
        flat = self.lay.district.ravel()
        moves = adaptive_moves(flat[homes].astype(np.int64), need, self.sc.strategy.adapt_share)
        for i, d in moves:
            in_d = self.market_cells[flat[self.market_cells] == d]
            choices = in_d if in_d.size else np.flatnonzero(flat == d)
            ai[posted[i], K.I_HOME] = int(self._gen.choice(choices))
        self.units_moved += len(moves)

    # ------------------------------------------------------------------ the tick

    def refresh_presence(self) -> None:
        """Who is within reach of every cell, from where agents stand now."""
        m = self.model
        presence(m.ag, m.meta, self.lay.packed, self.params)

    def step(self, t: int) -> None:
        """One tick: the mission timeline (in Python: it draws from the set-up generator),
        then a single kernel call for the rest, the civil-violence core included."""
        m = self.model
        self.timeline(t)
        layer_tick(
            m.ag,
            m.cells,
            m.geometry,
            m.params,
            self.params,
            self.lay.packed,
            m._rng_state,
            m.legitimacy,
            m._perm,
            self._perm,
            m.free_stack,
            m.meta,
            m.events,
        )

    # ------------------------------------------------------------------ observation

    def metrics(self) -> dict[str, float]:
        m = self.model
        out = self._metrics
        lay = self.lay.packed
        layer_metrics(m.ag, m.cells, m.params, lay, m.meta, m.legitimacy, m._census, out, self._buf)
        ev = m.events.tolist()  # Python numbers: cheaper to index than numpy scalars
        v = out.tolist()
        metrics: dict[str, float] = {
            "civilian_casualties": ev[K.EV_CASUALTIES],
            "attacks": ev[K.EV_ATTACKS],
            "clashes": ev[K.EV_CLASHES],
            "battle_deaths": ev[K.EV_BATTLE_DEATHS],
            "abuses": ev[K.EV_ABUSES],
            "tips": ev[K.EV_TIPS],
            "recruits": ev[K.EV_RECRUITS],
            "disarmed": ev[K.EV_DISARMED],
            "relapses": ev[K.EV_RELAPSES],
            "weapons_collected": ev[K.EV_DISARMED],
            "interdictions": ev[K.EV_INTERDICTIONS],
            "harmed_by_security": ev[K.EV_HARMED],
            "combatant_arrests": ev[K.EV_COMBATANT_ARRESTS],
            "displaced": int(v[M_DISPLACED]),
            "employed": int(v[M_EMPLOYED]),
            "ex_combatants": int(v[M_EX_COMBATANTS]),
            "trust_pk_mean": v[M_TRUST_PK],
            "trust_police_mean": v[M_TRUST_POLICE],
            "police_professionalism_mean": v[M_PROFESSIONALISM],
            "grievance_mean": v[M_GRIEVANCE],
            "economy_mean": v[M_ECONOMY],
            "infrastructure_mean": v[M_INFRASTRUCTURE],
            "violence_mean": v[M_VIOLENCE],
        }
        for r in ROLE_NAMES:
            metrics[f"pk_{r}"] = int(v[M_ROLES + K.ROLE_CODES[r]])
        return metrics


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


# ----------------------------------------------------------------------------- kernels


@njit(cache=True)
def before_core(ag, grid, geo, prm, lp, lay, rng, perm, meta):
    """Tips reach the units, units move by role (toward the hottest cell, their post, their
    partner), then the presence fields are recomputed."""
    f = lay.f
    box_sum_work(f[K.L_TIPS], lp.tip_radius, lp.torus, f[K.L_TIP_REACH], lay.work[W_TMP], lay.col)
    f[K.L_TIPS].fill(0.0)
    # the hottest cell: recent violence and reported combatants (first maximum, as np.argmax)
    w, h = grid.occ.shape
    boost = 1.0 + lp.early_warning
    hot = 0
    best = f[K.L_VIOLENCE, 0, 0] + boost * f[K.L_TIP_REACH, 0, 0]
    for x in range(w):
        for y in range(h):
            heat = f[K.L_VIOLENCE, x, y] + boost * f[K.L_TIP_REACH, x, y]
            if heat > best:
                best = heat
                hot = x * h + y
    position_units(ag, grid, geo, prm, lp, lay, rng, perm, meta, hot if best > 1e-3 else -1)
    presence(ag, meta, lay, lp)


@njit(cache=True)
def layer_tick(
    ag,
    grid,
    geo,
    prm,
    lp,
    lay,
    rng,
    legitimacy,
    perm,
    layer_perm,
    free_stack,
    meta,
    events,
):
    """Everything in a tick after the timeline: units and presence, the civil-violence core
    (random-sequential activation, ``kernels.tick``), then armed groups, trust, livelihoods
    and the environment."""
    before_core(ag, grid, geo, prm, lp, lay, rng, layer_perm, meta)
    K.tick(ag, grid, geo, prm, rng, legitimacy, perm, free_stack, meta, events)
    after_core(ag, grid, geo, prm, lp, lay, rng, layer_perm, free_stack, meta, events, legitimacy)


@njit(cache=True)
def after_core(ag, grid, geo, prm, lp, lay, rng, perm, free_stack, meta, events, legitimacy):
    """Armed groups, transitions, what residents saw, trust and tips, livelihoods, police
    professionalism and the environment, in the order of the ODD."""
    f = lay.f
    combatant_phase(ag, grid, geo, prm, lp, lay, rng, perm, free_stack, meta, events)
    transitions(ag, grid, geo, prm, lp, lay, rng, legitimacy, meta, events)
    # what residents see: events within their vision
    tmp = lay.work[W_TMP]
    rr = lp.res_vision
    for layer in (K.L_PROTECT_EV, K.L_VICTIM_EV, K.L_HARM_EV):
        box_sum_work(f[layer], rr, lp.torus, f[layer], tmp, lay.col)
    box_sum_work(grid.abuse_ev, rr, lp.torus, grid.abuse_ev, tmp, lay.col)
    trust_phase(ag, grid, geo, prm, lp, lay, rng, meta, events)
    employment_phase(ag, grid, lp, rng, meta)
    professionalism_phase(ag, lp, f[K.L_MENTOR], meta)
    update_environment(grid, lp, lay)
    for layer in (K.L_PROTECT_EV, K.L_VICTIM_EV, K.L_HARM_EV):
        f[layer].fill(0.0)
    grid.abuse_ev.fill(0.0)


# layer_metrics output: counts, then means (numpy's summation order: bit-identical means)
(
    M_DISPLACED,
    M_EMPLOYED,
    M_EX_COMBATANTS,
    M_TRUST_PK,
    M_TRUST_POLICE,
    M_PROFESSIONALISM,
    M_GRIEVANCE,
    M_ECONOMY,
    M_INFRASTRUCTURE,
    M_VIOLENCE,
    M_ROLES,  # peacekeepers per role code from here on
) = range(11)
N_METRICS = M_ROLES + len(K.ROLE_CODES)


@njit(inline="always", cache=True)
def _block_sum(a, lo, n):
    """numpy's sum of at most 128 float64: 8 running partial sums, combined pairwise."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    while i < n - (n % 8):
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum(a, n):
    """Sum of ``a[:n]`` exactly as numpy sums a contiguous float64 array (blocks of at most
    128, halves combined pairwise), so a mean here equals ``ndarray.mean`` to the last bit.

    numpy recurses; numba's cached recursion is unreliable, so the halves are walked with an
    explicit stack (depth < 64 for any array that fits in memory)."""
    if n <= 128:
        return _block_sum(a, 0, n)
    f_lo = np.empty(64, np.int64)
    f_n = np.empty(64, np.int64)
    f_state = np.empty(64, np.int64)  # 0: left half next, 1: right half next, 2: add them
    vals = np.empty(64, np.float64)
    f_lo[0] = 0
    f_n[0] = n
    f_state[0] = 0
    top = 1
    nv = 0
    while top > 0:
        k = top - 1
        lo = f_lo[k]
        m = f_n[k]
        if m <= 128:
            vals[nv] = _block_sum(a, lo, m)
            nv += 1
            top -= 1
            continue
        half = m // 2
        half -= half % 8
        if f_state[k] == 2:
            nv -= 1
            vals[nv - 1] = vals[nv - 1] + vals[nv]
            top -= 1
            continue
        if f_state[k] == 0:
            f_lo[top] = lo
            f_n[top] = half
        else:
            f_lo[top] = lo + half
            f_n[top] = m - half
        f_state[k] += 1
        f_state[top] = 0
        top += 1
    return vals[0]


@njit(inline="always", cache=True)
def _mean(buf, n):
    return pairwise_sum(buf, n) / n if n > 0 else 0.0


@njit(cache=True)
def layer_metrics(ag, grid, prm, lay, meta, legitimacy, census, out, buf):
    """The census (``kernels.census``) and the counts and means of the peacekeeping layer
    for the metrics table, in one kernel and one pass over the agents (``buf``: 4 rows of
    per-agent values, gathered in slot order as numpy's masked means would see them)."""
    K.census(ag, meta, census)
    ai = ag.i
    af = ag.f
    out.fill(0.0)
    n_res = 0
    n_pol = 0
    for a in range(meta[K.META_HIGH]):
        if not ai[a, K.I_ALIVE]:
            continue
        kind = ai[a, K.I_KIND]
        if kind == K.RESIDENT:
            out[M_DISPLACED] += ai[a, K.I_DISPLACED] != 0
            out[M_EMPLOYED] += ai[a, K.I_EMPLOYED] != 0
            out[M_EX_COMBATANTS] += ai[a, K.I_EX_COMBATANT] != 0
            x = ai[a, K.I_X]
            buf[0, n_res] = af[a, K.F_TRUST_PK]
            buf[1, n_res] = af[a, K.F_TRUST_POLICE]
            buf[2, n_res] = K.extended_grievance(
                af[a, K.F_HARDSHIP],
                x >= 0,
                grid.economy[x, ai[a, K.I_Y]] if x >= 0 else 1.0,
                ai[a, K.I_EMPLOYED],
                af[a, K.F_TRUST_POLICE],
                af[a, K.F_DIALOGUE],
                legitimacy,
                prm,
            )
            n_res += 1
        elif kind == K.POLICE:
            buf[3, n_pol] = af[a, K.F_PROFESSIONALISM]
            n_pol += 1
        elif kind == K.PEACEKEEPER:
            out[M_ROLES + ai[a, K.I_ROLE]] += 1
    out[M_TRUST_PK] = _mean(buf[0], n_res)
    out[M_TRUST_POLICE] = _mean(buf[1], n_res)
    out[M_GRIEVANCE] = _mean(buf[2], n_res)
    out[M_PROFESSIONALISM] = _mean(buf[3], n_pol)
    cells = grid.economy.size
    out[M_ECONOMY] = _mean(grid.economy.reshape(cells), cells)
    out[M_INFRASTRUCTURE] = _mean(lay.f[K.L_INFRASTRUCTURE].reshape(cells), cells)
    out[M_VIOLENCE] = _mean(lay.f[K.L_VIOLENCE].reshape(cells), cells)
