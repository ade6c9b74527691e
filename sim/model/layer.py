"""The peacekeeping layer's public interface: its state, its set-up and the mission timeline.

One tick, in the order of the ODD description (docs/ODD.md, section 3):

1. mission timeline: deployment, drawdown, police growth, mentor pairing, reinforcements and
   the adaptive review (here, in Python: it draws from the set-up generator);
2. everything else in one kernel call, :func:`sim.engine.layer_tick.layer_tick`: units move
   by role, presence, the civil-violence core, armed groups, transitions, trust, livelihoods,
   police and the environment, each phase applying the rules of :mod:`sim.rules`.

So a tick crosses from Python into compiled code once (plus once for the metrics).
"""

from __future__ import annotations

import inspect
import re
from collections import namedtuple
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.scenario import ROLE_NAMES, settlement_count
from sim.engine import layout as K
from sim.engine import metrics as metrics_kernels
from sim.engine.calls import call, compiled
from sim.engine.fields import box_sum, box_sum_into, presence
from sim.engine.generator import generator_state
from sim.engine.grid import place_new_slots, remove_random
from sim.engine.layer_tick import layer_tick
from sim.engine.metrics import (
    M_LEGITIMACY,
    N_METRICS,
    layer_metrics,
    unit_roles,
    unpaired_mentors,
)
from sim.engine.state import LayerTable
from sim.model.columns import district_columns, district_row, layer_row
from sim.rules.armed_groups import _arrive, new_aggression, reinforce
from sim.rules.civil_violence import grievance
from sim.rules.factions import community_map, post_market, settle_communities
from sim.rules.feedback import district_feedback
from sim.rules.mission import adaptive_moves, district_need, drawdown_count, role_counts
from sim.rules.partners import place_partners
from sim.rules.roads import build_roads
from sim.rules.weapons import place_caches, supply

if TYPE_CHECKING:
    from sim.model.model import PeaceSimModel


def _metric_fields() -> tuple[str, ...]:
    """Names of the parameters the metrics kernel reads: every ``prm.<name>`` in
    :mod:`sim.engine.metrics` and in :func:`sim.rules.civil_violence.grievance`, which it
    calls (a field read anywhere else would fail to compile, loudly)."""
    text = inspect.getsource(metrics_kernels) + inspect.getsource(grievance.py_func)
    return tuple(sorted(set(re.findall(r"\bprm\.([A-Za-z_]\w*)", text))))


MetricParams = namedtuple("MetricParams", _metric_fields())  # type: ignore[misc]


def metric_params(prm: Any) -> Any:
    """The parameters the metrics kernel reads, as a small named tuple (same values, same
    types): a call unboxes every field of the tuple it is given, about 3 microseconds for the
    whole parameter tuple (some 150 fields), three times that in a tick, with cold caches."""
    return MetricParams(*[getattr(prm, name) for name in MetricParams._fields])


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
        # communities: each settlement's community (two-group contexts, set in _init_agents)
        self.market_group = np.zeros(self.market_cells.size, np.int8)
        self.torus = sc.world.torus
        self._perm = np.empty(model.capacity, np.int64)
        self._metrics = np.zeros(N_METRICS, np.float64)
        self._no_views = (np.empty(0, np.int64), np.empty((0, 3), np.int64))  # not noted
        self._buf = np.empty((5, model.capacity), np.float64)
        # --- districts: per-district series (run.district_series; no columns: not asked for)
        self._district_names = district_columns(sc)
        n_districts = sc.economy.districts ** 2 if self._district_names else 0
        self._by_district = np.zeros((K.N_DISTRICT_ROWS, n_districts), np.int64)
        self._gen = gen
        self._site_posts = 0  # static posts placed at protection sites so far (ODD 7.23)
        self.replaced = 0  # units the timeline replaced this tick
        self.mission_legitimacy = 0.0  # M: share of residents who trust the mission
        lay = self.lay.packed
        # the kernels called every tick, bound once (sim.engine.calls)
        self._layer_tick = compiled(
            layer_tick, model.ag, model.cells, model.geometry, model.params, lay,
            model.rng_state, float(model.legitimacy), 0.0, model.order, self._perm,
            model.free_stack, model.meta, model.events)
        self._place = compiled(  # new units and officers (the timeline, every few ticks)
            place_new_slots, model.ag, model.cells, model.geometry, model.params,
            model.rng_state, K.POLICE, model.params.cops_class, 0, model.free_stack,
            model.meta)
        self._roles = np.zeros(max(K.ROLE_CODES.values()) + 1, np.int64)  # replace_losses
        self._unit_roles = compiled(unit_roles, model.ag, model.meta, self._roles)
        self._mentors = np.empty(model.capacity, np.int64)  # pair_mentors' scratch
        self._officers = np.empty(model.capacity, np.int64)
        self._unpaired = compiled(unpaired_mentors, model.ag, model.meta, self._mentors,
                                  self._officers)
        self._arrive: Callable[..., int] | None = None  # reinforcements, bound when first due
        self._prm_of = model.params  # the metrics kernel's parameters were taken from these
        self._prm = metric_params(model.params)
        self._layer_metrics = compiled(
            layer_metrics, model.ag, model.cells, self._prm, lay, model.meta,
            float(model.legitimacy), model.census_counts, self._metrics, self._buf,
            self.lay.district, self._by_district, *self._no_views)
        self._init_landscape(gen)
        self._init_agents(gen)
        self._init_accept(gen)
        self.pk_deployed = 0  # units at deployment (drawdown counts down from this)
        self.exit_tick: int | None = None
        self.drawdown_started: int | None = None
        self._feedback: tuple[np.ndarray, np.ndarray] | None = None  # at the last review
        self.units_moved = 0  # by adaptive reviews
        self._in_timeline = False
        self._counted: tuple[tuple[int, int], list[int]] | None = None  # see _count

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
        self._init_zones(gen)

    def programme_areas(self) -> None:
        """Programmes run within ``economy.programme_radius`` of settlements and markets
        while ``economy.programme_rate`` is above 0 (ODD 5; again when an event changes
        them, ODD 7.28)."""
        m, e, lay = self.model, self.sc.economy, self.lay
        near = np.zeros((m.width, m.height))
        box_sum_into(lay.market, e.programme_radius, self.torus, near)
        lay.programme[:] = (near > 0).astype(np.float64) if e.programme_rate > 0 else near * 0.0

    # --- zones: protection sites (ODD 7.23) and roads (ODD 7.24) ---

    def _init_zones(self, gen: np.random.Generator) -> None:
        """The road network linking settlements (:func:`sim.rules.roads.build_roads`; its
        cells at ``roads.initial_quality``) and the protection sites, each on a random cell
        within ``sites.placement`` of a random settlement (distinct settlements while there
        are enough, distinct cells), with the site whose area (``sites.radius``) holds every
        cell: the nearest, ties to the first (ODD 5). Draws from ``gen`` only when there are
        sites."""
        m, sc, lay = self.model, self.sc, self.lay
        w, h = m.width, m.height
        roads, nbr = build_roads(self.market_cells, w, h, self.torus, sc.roads.links,
                                 sc.roads.max_length)
        lay.road.reshape(-1)[roads] = sc.roads.initial_quality
        site_cells: list[int] = []
        count = sc.sites.count
        if count:
            n = self.market_cells.size
            picks = gen.choice(self.market_cells, size=min(count, n), replace=False).tolist()
            picks += gen.choice(self.market_cells, size=count - len(picks)).tolist()
            r = sc.sites.placement
            for market in picks:
                mx, my = divmod(int(market), h)
                for _ in range(100):  # a free cell near the settlement (sites are distinct)
                    x = int(mx + gen.integers(-r, r + 1))
                    y = int(my + gen.integers(-r, r + 1))
                    if self.torus:
                        x, y = x % w, y % h
                    else:
                        x, y = min(max(x, 0), w - 1), min(max(y, 0), h - 1)
                    if x * h + y not in site_cells:
                        site_cells.append(x * h + y)
                        break
        sites = np.array(site_cells, np.int64)
        site_of = np.full(w * h, -1, np.int64)
        best = np.full(w * h, np.iinfo(np.int64).max, np.int64)
        xs, ys = np.divmod(np.arange(w * h), h)
        for s, cell in enumerate(site_cells):
            dx, dy = np.abs(xs - cell // h), np.abs(ys - cell % h)
            if self.torus:
                dx, dy = np.minimum(dx, w - dx), np.minimum(dy, h - dy)
            d = np.maximum(dx, dy)
            take = (d <= sc.sites.radius) & (d < best)
            site_of[take] = s
            best[take] = d[take]
        lay.set_zones(sites, site_of, roads, nbr)

    def _site_post(self) -> int:
        """ODD 7.23: a static post at a protection site, the sites in turn."""
        sites = self.lay.sites
        post = int(sites[self._site_posts % sites.size])
        self._site_posts += 1
        return post

    def _checkpoint_post(self) -> int:
        """ODD 7.22: a checkpoint's post, a cell 1..``checkpoints.approach`` cells from a random
        settlement that is no settlement itself: a road cell there when there are any (with
        ``mechanisms.roads`` on)."""
        m, sc = self.model, self.sc
        w, h = m.width, m.height
        market = int(self._gen.choice(self.market_cells))
        mx, my = divmod(market, h)
        r = sc.checkpoints.approach
        around = []
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                x, y = mx + dx, my + dy
                if self.torus:
                    x, y = x % w, y % h
                elif not (0 <= x < w and 0 <= y < h):
                    continue
                if dx or dy:
                    around.append(x * h + y)
        if not around:  # a one-cell map: the settlement itself
            return market
        cells = np.unique(np.array(around, np.int64))
        beside = cells[~np.isin(cells, self.market_cells)]  # an approach, not a settlement
        cells = beside if beside.size else cells
        if sc.mechanisms.roads and self.lay.roads.size:
            on_road = cells[np.isin(cells, self.lay.roads)]
            cells = on_road if on_road.size else cells
        return int(self._gen.choice(cells))

    def _init_agents(self, gen: np.random.Generator) -> None:
        """Residents' trust, leaders and jobs; police conduct; the initial combatants and the
        factions' strongholds (ODD 5)."""
        m, sc = self.model, self.sc
        ag = m.arrays
        res = np.flatnonzero(ag.alive & (ag.kind == K.RESIDENT))
        t = sc.trust
        mean_pk, mean_police = t.initial_pk, t.initial_police
        if sc.residents.groups == 2:  # communities: where they live, grievances, trust (7.25)
            mean_pk, mean_police = self._init_communities(res, gen)
        ag.trust_pk[res] = np.clip(gen.normal(mean_pk, t.initial_sd, res.size), 0, 1)
        ag.trust_police[res] = np.clip(gen.normal(mean_police, t.initial_sd, res.size), 0, 1)
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
        if sc.residents.groups == 2:  # communities: a fighter belongs to its faction's group
            ag.group[new] = ag.faction[new] % 2
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

    def _init_communities(self, res: np.ndarray, gen: np.random.Generator
                          ) -> tuple[np.ndarray, np.ndarray]:
        """Two communities (ODD 7.25): residents live in their community's part of the map
        with probability ``segregation`` (:func:`sim.rules.factions.settle_communities`;
        drawn only when it is above 0); each group's hardship offset; each settlement's
        community (:func:`~sim.rules.factions.settlement_groups`). Returns each resident's
        mean initial trust in peacekeepers and in police (the context's plus its group's
        offsets)."""
        m, sc = self.model, self.sc
        ag, c = m.arrays, sc.communities
        share = sc.residents.group_share
        if c.segregation > 0:
            ag.group[res] = settle_communities(ag.group[res], ag.x[res], m.width, share,
                                               c.segregation, gen.random(res.size))
        g1 = ag.group[res] == 1
        offset = np.where(g1, c.hardship_group1, c.hardship_group0)
        ag.hardship[res] = np.clip(ag.hardship[res] + offset, 0.0, 1.0)
        counts = np.zeros((2, m.width, m.height))
        np.add.at(counts, (ag.group[res], ag.x[res], ag.y[res]), 1.0)
        r, torus = sc.economy.access_radius, self.torus
        self.lay.community[:] = community_map(box_sum(counts[0], r, torus),
                                              box_sum(counts[1], r, torus))
        self.market_group = self.lay.community.ravel()[self.market_cells].astype(np.int8)
        t = sc.trust
        pk = np.where(g1, t.initial_pk + c.trust_pk_group1, t.initial_pk + c.trust_pk_group0)
        police = np.where(g1, t.initial_police + c.trust_police_group1,
                          t.initial_police + c.trust_police_group0)
        return np.clip(pk, 0.0, 1.0), np.clip(police, 0.0, 1.0)

    def _post(self, markets: np.ndarray) -> int:
        """A post (static, engagement, DDR) at one of ``markets``: a uniformly random one, or
        with a partial force in a two-group context one of the favoured community's with
        probability ``strategy.partiality`` (:func:`sim.rules.factions.post_market`)."""
        s = self.sc.strategy
        if self.sc.residents.groups == 2 and s.partiality > 0:
            groups = self.market_group[np.searchsorted(self.market_cells, markets)]
            return post_market(markets, groups, s.favoured_group, s.partiality, self._gen)
        return int(self._gen.choice(markets))

    # --- accept: reintegration and acceptance, weapons, local partners (ODD 5, 7.19-7.21) ---
    def _init_accept(self, gen: np.random.Generator) -> None:
        """Each faction's abusiveness; residents' acceptance of ex-combatants at its initial
        level and no record of any faction; weapon stocks and caches near the strongholds
        (with ``mechanisms.weapons``); local partners at settlements (with
        ``mechanisms.partners``). The set-up draws nothing for a mechanism switched off."""
        m, sc, lay = self.model, self.sc, self.lay
        a = sc.armed_groups
        for f in range(a.factions):
            lay.scalars[K.S_ABUSIVENESS0 + f] = a.abusiveness_of(f)
        ag = m.arrays
        res = np.flatnonzero(ag.alive & (ag.kind == K.RESIDENT))
        ag.acceptance[res] = sc.reintegration.initial
        if sc.mechanisms.weapons:
            place_caches(lay, self.strongholds, m.params, gen)
        if sc.mechanisms.partners:
            place_partners(lay, self.market_cells, m.params, gen)

    def _init_police(self, slots: np.ndarray, gen: np.random.Generator) -> None:
        """Professionalism ~ N(``professionalism``, ``professionalism_sd``) clipped to [0, 1];
        community officers with probability ``community_share``; officers who meet community
        leaders with probability ``leader_dialogue`` (drawn only when it is above 0; ODD 5,
        7.26)."""
        if slots.size == 0:  # nothing to draw (saves the numpy calls of every tick)
            return
        ag = self.model.arrays
        p = self.sc.police
        ag.f[slots, K.F_PROFESSIONALISM] = gen.normal(  # (np.clip calls ndarray.clip)
            p.professionalism, p.professionalism_sd, slots.size).clip(0, 1)
        ag.i[slots, K.I_COMMUNITY] = gen.random(slots.size) < p.community_share
        if p.leader_dialogue > 0:  # communities: police-community forums
            ag.set("meets_leaders", slots, gen.random(slots.size) < p.leader_dialogue)

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
        new = np.sort(self._place(m.ag, m.cells, m.geometry, m.params, m.rng_state,
                                  K.PEACEKEEPER, m.params.pk_class, len(roles), m.free_stack,
                                  m.meta))
        roles = roles[: new.size]
        ag.role[new] = roles
        sites = self.sc.mechanisms.protection_sites and self.lay.sites.size > 0
        for slot, role in zip(new.tolist(), roles.tolist(), strict=True):
            if role == K.STATIC and sites and self._gen.random() < self.sc.sites.post_share:
                ag.home[slot] = self._site_post()  # --- zones: posts guard the sites (7.23)
            elif role in (K.STATIC, K.ENGAGEMENT, K.DDR_UNIT):
                ag.home[slot] = self._post(self.market_cells)
            elif role == K.CHECKPOINT:  # --- zones: a post on an approach (ODD 7.22)
                ag.home[slot] = self._checkpoint_post()
        return int(new.size)

    def replace_losses(self, keep: int) -> int:
        """ODD 7.14, replacement (``mission.replace_losses``): units lost in clashes are
        replaced up to ``keep`` (the force the schedule keeps now), each by a unit of the role
        furthest below its share (:func:`sim.rules.mission.role_counts`). Returns how many."""
        m = self.model
        have = self._count(K.C_PEACEKEEPERS)
        if keep <= have:
            return 0
        self._unit_roles(m.ag, m.meta, self._roles)  # live units by role, in one pass
        now = self._roles.tolist()
        shares = {r: getattr(self.sc.strategy.roles, r) for r in ROLE_NAMES}
        want = role_counts(keep, shares)
        missing = [K.ROLE_CODES[r] for r in ROLE_NAMES
                   for _ in range(max(0, want[r] - now[K.ROLE_CODES[r]]))]
        placed = self._place_units(np.array(missing[: keep - have], np.int8))
        if placed and K.MENTORING in missing:
            self.pair_mentors()
        return placed

    def pair_mentors(self) -> None:
        """ODD 7.14: every mentoring unit without a live police partner is paired with a
        random officer (at deployment and every ``strategy.mentor_pairing_interval`` ticks)."""
        m = self.model
        # the mentors without a live partner and the officers, in slot order, in one pass
        # (pairing one mentor changes no other's partner and moves nobody)
        n_mentors, n_police = self._unpaired(m.ag, m.meta, self._mentors, self._officers)
        if not n_mentors:
            return
        ai = m.arrays.i
        police = self._officers[:n_police].copy()
        for slot in self._mentors[:n_mentors].tolist():
            ai[slot, K.I_HOME] = int(self._gen.choice(police)) if n_police else -1

    def reinforce(self) -> int:
        """ODD 7.9: fighters arriving from outside appear near their faction's stronghold
        (:func:`sim.rules.armed_groups.reinforce`)."""
        m = self.model
        if self._arrive is None:  # the arrivals' kernel, bound once (sim.engine.calls)
            self._arrive = compiled(_arrive, m.ag, m.cells, m.geometry, m.params, m.free_stack,
                                    m.meta, generator_state(self._gen), 0, 0, 0, 0)
        return reinforce(m.ag, m.cells, m.geometry, m.params, m.free_stack, m.meta, self._gen,
                         self.strongholds, self._arrive)

    # ------------------------------------------------------------------ timeline

    def _count(self, what: int) -> int:
        """``model.count(what)``; within the timeline from one census while no agent is added
        or removed (any birth or death moves the uid counter or the free-slot stack, and the
        timeline changes no agent's kind or state): a census is a pass over the agent table,
        and the timeline asks two or three times a tick."""
        m = self.model
        if not self._in_timeline:
            return m.count(what)
        mark = (int(m.meta[K.META_NEXT_UID]), int(m.meta[K.META_FREE_TOP]))
        if self._counted is None or self._counted[0] != mark:
            m.count(what)
            self._counted = (mark, m.census_counts.tolist())
        return self._counted[1][what]

    def timeline(self, t: int) -> None:
        """ODD 7.14, the mission timeline of tick ``t``: deployment at ``deploy_tick``, the
        drawdown (:func:`sim.rules.mission.drawdown_count`; units removed at random), police
        growth toward ``police.target`` (each missing officer hired with probability
        ``recruitment``), mentor re-pairing, reinforcements, and the adaptive review every
        ``review_interval`` ticks (7.15), and weapons reaching the factions' stocks (7.20)."""
        self._in_timeline, self._counted = True, None  # no census taken yet (see _count)
        try:
            self._timeline(t)
        finally:
            self._in_timeline, self._counted = False, None

    def _timeline(self, t: int) -> None:
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
                have = self._count(K.C_PEACEKEEPERS)
                if have > keep:
                    call(remove_random, m.ag, m.cells, m.geometry, m.params, m.rng_state,
                         K.PEACEKEEPER, have - keep, m.free_stack, m.meta)
                if keep == 0 and self.exit_tick is None:
                    self.exit_tick = t
            if mis.replace_losses and keep > 0:
                self.replaced = self.replace_losses(keep)
        pol = sc.police
        if pol.target is not None and pol.recruitment > 0:
            have = self._count(K.C_POLICE)
            gap = round(pol.target * m.n_cells) - have
            if gap > 0:
                hires = int(self._gen.binomial(gap, pol.recruitment))
                if hires:  # (placing none draws nothing)
                    slots = self._place(m.ag, m.cells, m.geometry, m.params, m.rng_state,
                                        K.POLICE, m.params.cops_class, hires, m.free_stack,
                                        m.meta)
                    self._init_police(np.sort(slots), self._gen)
        if t % sc.strategy.mentor_pairing_interval == 0:
            self.pair_mentors()
        if sc.armed_groups.reinforcement > 0:
            self.reinforce()
        if sc.mechanisms.weapons and sc.weapons.supply > 0:  # --- accept: ODD 7.20
            supply(self.lay, m.params, self._gen)
        strat = sc.strategy
        if strat.adaptive and t > 0 and t % strat.review_interval == 0 \
                and self._count(K.C_PEACEKEEPERS):
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

    def community_feedback(self) -> tuple[np.ndarray, np.ndarray]:
        """ODD 7.27: what the mission was told since the last review, by district (violence
        reported by residents and leaders, trust voiced by the leaders it met;
        :func:`sim.rules.feedback.district_feedback`); the planes that hold it start again
        from zero."""
        lay, sc = self.lay, self.sc
        last = self._feedback[1] if self._feedback is not None else None
        out = district_feedback(lay.district, lay.reported, lay.voice_trust, lay.voice_n,
                                sc.economy.districts ** 2, last, sc.trust.initial_pk)
        for plane in (lay.reported, lay.voice_trust, lay.voice_n):
            plane.fill(0.0)
        return out

    def review(self) -> None:
        """ODD 7.15, adaptive review: compare community feedback with the last review and
        re-post units from quiet districts to those where violence rose and trust fell
        (:func:`sim.rules.mission.district_need`, :func:`~sim.rules.mission.adaptive_moves`);
        a new post is a market of the district (any cell if it has none). The feedback is
        what leaders and residents told the mission (:meth:`community_feedback`, ODD 7.27),
        or with ``mechanisms.community_feedback`` off the map's violence and every resident's
        trust (:meth:`feedback`). The first review only records the feedback."""
        if self.sc.mechanisms.community_feedback:
            violence, trust = self.community_feedback()
        else:
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
            if in_d.size:
                ai[posted[i], K.I_HOME] = self._post(in_d)  # communities: partiality
            else:
                ai[posted[i], K.I_HOME] = int(self._gen.choice(np.flatnonzero(flat == d)))
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

    def observe(self, census_counts: np.ndarray, view_uid: np.ndarray | None = None,
                view_out: np.ndarray | None = None) -> tuple[list[float], int,
                                                             list[list[int]] | None, int]:
        """The metrics kernel of this tick: fills ``census_counts`` (the model's census) and
        returns what the layer's metric columns are made from (:meth:`row`): the kernel's
        counts and means, the units the timeline replaced, the per-district counts (None
        without ``run.district_series``), and how many rows of view changes it noted into
        ``view_out`` (given the model's ``view_uid``: what
        :meth:`~sim.model.model.PeaceSimModel._sync_views` does, in the same pass)."""
        m = self.model
        if view_uid is None:
            view_uid, view_out = self._no_views
        if m.params is not self._prm_of:  # an event set new parameters (ODD 7.28)
            self._prm_of, self._prm = m.params, metric_params(m.params)
        n = self._layer_metrics(m.ag, m.cells, self._prm, self.lay.packed, m.meta,
                                float(m.legitimacy), census_counts, self._metrics, self._buf,
                                self.lay.district, self._by_district, view_uid, view_out)
        values = self._metrics.tolist()
        self.mission_legitimacy = values[M_LEGITIMACY]  # read by the next tick
        districts = self._by_district.tolist() if self._district_names else None
        return values, self.replaced, districts, n

    def row(self, events: list[int], values: list[float], replaced: int,
            districts: list[list[int]] | None) -> dict[str, float]:
        """The layer's metric columns from the event counters and what :meth:`observe`
        returned."""
        row = layer_row(events, values, replaced)
        if districts is not None:  # --- districts
            row.update(district_row(self._district_names, districts))
        return row

    def metrics(self, census_counts: np.ndarray) -> dict[str, float]:
        """The layer's metric columns of this tick; fills ``census_counts`` (the model's
        census) in the same kernel call."""
        values, replaced, districts, _ = self.observe(census_counts)
        return self.row(self.model.events.tolist(), values, replaced, districts)
