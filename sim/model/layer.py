"""The peacekeeping layer's public interface: its state, its set-up and the mission timeline.

One tick, in the order of the ODD description (docs/ODD.md, section 3):

1. mission timeline: deployment, drawdown, police growth, mentor pairing, reinforcements and
   the adaptive review (here, in Python: it draws from the set-up generator);
2. everything else in one kernel call, :func:`sim.engine.layer_tick.layer_tick`: units move
   by role, presence, the civil-violence core, armed groups, transitions, trust, livelihoods,
   police and the environment, each phase applying the rules of :mod:`sim.rules`.

So a tick crosses from Python to numba once (plus once for the metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config.scenario import ROLE_NAMES, settlement_count
from sim.engine import layout as K
from sim.engine.calls import call, compiled
from sim.engine.fields import box_sum_into, presence
from sim.engine.grid import place_new_slots, remove_random
from sim.engine.layer_tick import layer_tick
from sim.engine.metrics import M_LEGITIMACY, N_METRICS, layer_metrics
from sim.engine.state import LayerTable
from sim.model.columns import layer_row
from sim.rules.armed_groups import new_aggression, reinforce
from sim.rules.mission import adaptive_moves, district_need, drawdown_count, role_counts

if TYPE_CHECKING:
    from sim.model.model import PeaceSimModel


class PeacekeepingLayer:
    """State, set-up and timeline of the peacekeeping layer for one model.

    It works on the model's engine state through the model's public attributes (``ag``,
    ``cells``, ``geometry``, ``params``, ``rng_state``, ``order``, ``free_stack``, ``meta``,
    ``events``) and owns the cell layers (``lay``) and its own scratch."""

    def __init__(self, model: PeaceSimModel, gen: np.random.Generator) -> None:
        self.model = model
        sc = model.scenario_config
        self.sc = sc
        w, h = model.width, model.height
        # settlements/markets on a random share of cells (the set-up's first draw)
        n_markets = settlement_count(sc)
        self.market_cells = np.sort(gen.choice(model.n_cells, size=n_markets, replace=False))
        tip_capacity = max(64, int(np.ceil(sc.information.capacity_per_cell * model.n_cells)))
        self.lay = LayerTable(w, h, sc.armed_groups.factions, tip_capacity, self.market_cells)
        self.torus = sc.world.torus
        self._perm = np.empty(model.capacity, np.int64)
        self._metrics = np.zeros(N_METRICS, np.float64)
        self._buf = np.empty((5, model.capacity), np.float64)
        self._gen = gen
        self.replaced = 0  # units the timeline replaced this tick
        self.mission_legitimacy = 0.0  # M: share of residents who trust the mission
        lay = self.lay.packed
        # the kernels called every tick, bound once (sim.engine.calls)
        self._layer_tick = compiled(
            layer_tick, model.ag, model.cells, model.geometry, model.params, lay,
            model.rng_state, float(model.legitimacy), 0.0, model.order, self._perm,
            model.free_stack, model.meta, model.events)
        self._layer_metrics = compiled(
            layer_metrics, model.ag, model.cells, model.params, lay, model.meta,
            float(model.legitimacy), model.census_counts, self._metrics, self._buf)
        self._init_landscape(gen)
        self._init_agents(gen)
        self.pk_deployed = 0  # units at deployment (drawdown counts down from this)
        self.exit_tick: int | None = None
        self.drawdown_started: int | None = None
        self._feedback: tuple[np.ndarray, np.ndarray] | None = None  # at the last review
        self.units_moved = 0  # by adaptive reviews

    # ------------------------------------------------------------------ set-up (ODD 5)

    def _init_landscape(self, gen: np.random.Generator) -> None:
        """The markets' cells (drawn in ``__init__``), district blocks, the initial economy and
        infrastructure, the markets within trading reach of every cell, and programme areas
        around markets (ODD 5)."""
        m, sc, lay = self.model, self.sc, self.lay
        e = sc.economy
        lay.market.reshape(-1)[self.market_cells] = 1.0
        box_sum_into(lay.market, e.access_radius, self.torus, lay.market_near)
        bx = np.minimum(np.arange(m.width) * e.districts // m.width, e.districts - 1)
        by = np.minimum(np.arange(m.height) * e.districts // m.height, e.districts - 1)
        lay.district[:] = (bx[:, None] * e.districts + by[None, :]).astype(np.int16)
        m.cells.economy[:] = np.clip(e.initial + e.market_bonus * lay.market, 0.0, 1.0)
        lay.infrastructure[:] = e.infrastructure_initial
        self.programme_areas()

    def programme_areas(self) -> None:
        """Programmes run within ``economy.programme_radius`` of settlements and markets
        while ``economy.programme_rate`` is above 0 (ODD 5; again when an event changes
        them, ODD 7.28)."""
        m, e, lay = self.model, self.sc.economy, self.lay
        near = np.zeros((m.width, m.height))
        box_sum_into(lay.market, e.programme_radius, self.torus, near)
        lay.programme[:] = (near > 0).astype(np.float64) if e.programme_rate > 0 else near * 0.0

    def _init_agents(self, gen: np.random.Generator) -> None:
        """Residents' trust, leaders and jobs; police conduct; the initial combatants and the
        factions' strongholds (ODD 5)."""
        m, sc = self.model, self.sc
        ag = m.arrays
        res = np.flatnonzero(ag.alive & (ag.kind == K.RESIDENT))
        t = sc.trust
        ag.trust_pk[res] = np.clip(gen.normal(t.initial_pk, t.initial_sd, res.size), 0, 1)
        ag.trust_police[res] = np.clip(gen.normal(t.initial_police, t.initial_sd, res.size), 0, 1)
        ag.trust_pk0[res] = ag.trust_pk[res]
        ag.trust_police0[res] = ag.trust_police[res]
        self.mission_legitimacy = float(np.mean(ag.trust_pk[res] > t.legitimacy_threshold)) \
            if res.size else 0.0
        ag.set("leader", res, gen.random(res.size) < t.leader_share)
        ag.set("employed", res, gen.random(res.size) < m.cells.economy[ag.x[res], ag.y[res]])
        self._init_police(np.flatnonzero(ag.alive & (ag.kind == K.POLICE)), gen)
        a = sc.armed_groups
        n = round(a.density * m.n_cells)
        new = np.sort(call(place_new_slots, m.ag, m.cells, m.geometry, m.params, m.rng_state,
                           K.COMBATANT, m.params.comb_class, n, m.free_stack, m.meta))
        ag.faction[new] = gen.integers(0, a.factions, new.size)
        ag.aggression[new] = [call(new_aggression, a.aggression, a.aggression_min, u)
                              for u in gen.random(new.size).tolist()]
        ag.hardship[new] = gen.random(new.size)
        ag.risk[new] = gen.random(new.size)
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

    def _init_police(self, slots: np.ndarray, gen: np.random.Generator) -> None:
        """Professionalism ~ N(``professionalism``, ``professionalism_sd``) clipped to [0, 1];
        community officers with probability ``community_share`` (ODD 5)."""
        ag = self.model.arrays
        p = self.sc.police
        ag.professionalism[slots] = np.clip(
            gen.normal(p.professionalism, p.professionalism_sd, slots.size), 0, 1
        )
        ag.set("community", slots, gen.random(slots.size) < p.community_share)

    def deploy(self) -> None:
        """ODD 7.14, deployment: units by role (:func:`sim.rules.mission.role_counts`) on
        random empty cells, posts and sites on random markets, mentors paired with police."""
        m, sc = self.model, self.sc
        n = round(sc.peacekeepers.density * m.n_cells)
        shares = {r: getattr(sc.strategy.roles, r) for r in ROLE_NAMES}
        counts = role_counts(n, shares)
        roles = np.concatenate([np.full(counts[r], K.ROLE_CODES[r], np.int8)
                                for r in ROLE_NAMES])
        placed = self._place_units(roles)
        self.pair_mentors()
        self.pk_deployed = placed

    def _place_units(self, roles: np.ndarray) -> int:
        """New units with these role codes on random empty cells (as many as fit), posts and
        sites on random markets; returns how many were placed."""
        m, ag = self.model, self.model.arrays
        new = np.sort(call(place_new_slots, m.ag, m.cells, m.geometry, m.params, m.rng_state,
                           K.PEACEKEEPER, m.params.pk_class, len(roles), m.free_stack, m.meta))
        roles = roles[: new.size]
        ag.role[new] = roles
        for slot, role in zip(new.tolist(), roles.tolist(), strict=True):
            if role in (K.STATIC, K.ENGAGEMENT, K.DDR_UNIT):
                ag.home[slot] = int(self._gen.choice(self.market_cells))
        return int(new.size)

    def replace_losses(self, keep: int) -> int:
        """ODD 7.14, replacement (``mission.replace_losses``): units lost in clashes are
        replaced up to ``keep`` (the force the schedule keeps now), each by a unit of the role
        furthest below its share (:func:`sim.rules.mission.role_counts`). Returns how many."""
        m = self.model
        have = m.count(K.C_PEACEKEEPERS)
        if keep <= have:
            return 0
        ai = m.arrays.i[: m.meta[K.META_HIGH]]
        units = (ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == K.PEACEKEEPER)
        now = np.bincount(ai[units, K.I_ROLE], minlength=len(ROLE_NAMES))
        shares = {r: getattr(self.sc.strategy.roles, r) for r in ROLE_NAMES}
        want = role_counts(keep, shares)
        missing = [K.ROLE_CODES[r] for r in ROLE_NAMES
                   for _ in range(max(0, want[r] - int(now[K.ROLE_CODES[r]])))]
        placed = self._place_units(np.array(missing[: keep - have], np.int8))
        if placed and K.MENTORING in missing:
            self.pair_mentors()
        return placed

    def pair_mentors(self) -> None:
        """ODD 7.14: every mentoring unit without a live police partner is paired with a
        random officer (at deployment and every ``strategy.mentor_pairing_interval`` ticks)."""
        m = self.model
        ai = m.arrays.i[: m.meta[K.META_HIGH]]
        alive, kind = ai[:, K.I_ALIVE] != 0, ai[:, K.I_KIND]
        police = np.flatnonzero(alive & (kind == K.POLICE))
        mentors = np.flatnonzero(alive & (kind == K.PEACEKEEPER) & (ai[:, K.I_ROLE] == K.MENTORING))
        for slot in mentors.tolist():
            partner = int(ai[slot, K.I_HOME])
            if partner < 0 or not ai[partner, K.I_ALIVE] or ai[partner, K.I_KIND] != K.POLICE:
                ai[slot, K.I_HOME] = int(self._gen.choice(police)) if police.size else -1

    def reinforce(self) -> int:
        """ODD 7.9: fighters arriving from outside appear near their faction's stronghold
        (:func:`sim.rules.armed_groups.reinforce`)."""
        m = self.model
        return reinforce(m.ag, m.cells, m.geometry, m.params, m.free_stack, m.meta, self._gen,
                         self.strongholds)

    # ------------------------------------------------------------------ timeline

    def timeline(self, t: int) -> None:
        """ODD 7.14, the mission timeline of tick ``t``: deployment at ``deploy_tick``, the
        drawdown (:func:`sim.rules.mission.drawdown_count`; units removed at random), police
        growth toward ``police.target`` (each missing officer hired with probability
        ``recruitment``), mentor re-pairing, reinforcements, and the adaptive review every
        ``review_interval`` ticks (7.15)."""
        m, sc = self.model, self.sc
        self.replaced = 0
        if t == sc.mission.deploy_tick and t > 0:
            self.deploy()
        mis = sc.mission
        if self.pk_deployed and t > sc.mission.deploy_tick:
            keep = drawdown_count(self.pk_deployed, t, mis.drawdown_start, mis.drawdown_ticks,
                                  mis.drawdown_schedule)
            if mis.drawdown_start is not None and t >= mis.drawdown_start:
                self.drawdown_started = mis.drawdown_start
                have = m.count(K.C_PEACEKEEPERS)
                if have > keep:
                    call(remove_random, m.ag, m.cells, m.geometry, m.params, m.rng_state,
                         K.PEACEKEEPER, have - keep, m.free_stack, m.meta)
                if keep == 0 and self.exit_tick is None:
                    self.exit_tick = t
            if mis.replace_losses and keep > 0:
                self.replaced = self.replace_losses(keep)
        pol = sc.police
        if pol.target is not None and pol.recruitment > 0:
            have = m.count(K.C_POLICE)
            gap = round(pol.target * m.n_cells) - have
            if gap > 0:
                hires = int(self._gen.binomial(gap, pol.recruitment))
                slots = call(place_new_slots, m.ag, m.cells, m.geometry, m.params, m.rng_state,
                             K.POLICE, m.params.cops_class, hires, m.free_stack, m.meta)
                self._init_police(np.sort(slots), self._gen)
        if t % sc.strategy.mentor_pairing_interval == 0:
            self.pair_mentors()
        if sc.armed_groups.reinforcement > 0:
            self.reinforce()
        strat = sc.strategy
        if strat.adaptive and t > 0 and t % strat.review_interval == 0 \
                and m.count(K.C_PEACEKEEPERS):
            self.review()

    def feedback(self) -> tuple[np.ndarray, np.ndarray]:
        """ODD 7.15: community feedback by district, mean violence, and mean trust in
        peacekeepers of the residents living there (the district's last value where none
        live)."""
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
        """ODD 7.15, adaptive review: compare community feedback with the last review and
        re-post units from quiet districts to those where violence rose and trust fell
        (:func:`sim.rules.mission.district_need`, :func:`~sim.rules.mission.adaptive_moves`);
        a new post is a market of the district (any cell if it has none). The first review
        only records the feedback."""
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
        """Who is within reach of every cell, from where agents stand now (ODD 7.7)."""
        m = self.model
        call(presence, m.ag, m.meta, self.lay.packed, m.params)

    def step(self, t: int) -> None:
        """One tick: the mission timeline (in Python: it draws from the set-up generator),
        then a single kernel call for the rest, the civil-violence core included."""
        m = self.model
        self.timeline(t)
        self._layer_tick(m.ag, m.cells, m.geometry, m.params, self.lay.packed, m.rng_state,
                         float(m.legitimacy), float(self.mission_legitimacy), m.order,
                         self._perm, m.free_stack, m.meta, m.events)

    # ------------------------------------------------------------------ observation

    def metrics(self, census_counts: np.ndarray) -> dict[str, float]:
        """The layer's metric columns of this tick; fills ``census_counts`` (the model's
        census) in the same kernel call."""
        m = self.model
        out = self._metrics
        self._layer_metrics(m.ag, m.cells, m.params, self.lay.packed, m.meta,
                            float(m.legitimacy), census_counts, out, self._buf)
        values = out.tolist()
        self.mission_legitimacy = values[M_LEGITIMACY]  # read by the next tick
        return layer_row(m.events.tolist(), values, self.replaced)
