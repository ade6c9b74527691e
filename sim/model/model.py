"""PeaceSimModel: the Mesa model whose tick runs in compiled kernels over numpy arrays.

Reading order follows the ODD description: set-up (space, populations; ODD 5), then each tick
(schedules -> random-sequential activation -> bookkeeping -> observation; ODD 3). The state
lives in the engine's tables (:mod:`sim.engine.state`); the rules in :mod:`sim.rules`; the
peacekeeping layer's set-up and timeline in :mod:`sim.model.layer`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid, OrthogonalVonNeumannGrid, PropertyLayer

from sim.config.scenario import Event, Scenario
from sim.engine import layout as K
from sim.engine.calls import call, compiled
from sim.engine.grid import new_agent, place_new, rebuild_fields, remove_random
from sim.engine.metrics import census, view_changes
from sim.engine.params import build_params
from sim.engine.rng import seed_state
from sim.engine.space import build_geometry
from sim.engine.state import AgentTable
from sim.engine.tick import tick
from sim.model.agents import VIEW_CLASSES, ArrayAgent, Peacekeeper, Police, Resident
from sim.model.columns import core_row, metric_columns
from sim.model.events import apply_event
from sim.model.layer import PeacekeepingLayer
from sim.rules.schedules import legitimacy_at, police_density_at

#: notes of the views' changes kept before they are folded together (rows; or four per slot)
VIEW_LOG_ROWS = 1 << 16
#: rows of notes of the views' changes kept in the model's buffer before they move out
VIEW_BUFFER_ROWS = 4096


class MetricsSource(NamedTuple):
    """What one observation's metrics are made from: the legitimacy, the census and the
    event counters (lists), and the layer's (:meth:`PeacekeepingLayer.observe`; None
    without the layer)."""

    legitimacy: float
    census: list[int]
    events: list[int]
    layer: list[Any] | None


class PeaceSimModel(mesa.Model):
    """The PeaceSim model for one scenario and one seed.

    Args:
        scenario: a validated :class:`sim.config.scenario.Scenario`.
        seed: root seed; every random stream of the run derives from
            ``numpy.random.SeedSequence(seed)``. Defaults to ``scenario.run.seed``.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        seed = scenario.run.seed if seed is None else int(seed)
        root = np.random.SeedSequence(seed)
        setup_seq, engine_seq, mesa_seq = root.spawn(3)
        super().__init__(rng=np.random.default_rng(mesa_seq))
        self.scenario_config = scenario
        self.seed = seed
        self.width = scenario.world.width
        self.height = scenario.world.height
        self.n_cells = self.width * self.height
        self.rng_state = seed_state(engine_seq)  # the engine's random stream (xoshiro256**)
        self.legitimacy = scenario.unrest.legitimacy
        # events (ODD 7.28): their own stream, the root's fourth child (the model uses three)
        self.event_rng = seed_state(np.random.SeedSequence(seed, spawn_key=(3,)))
        self.legitimacy_offset = 0.0  # legitimacy shocks, added to the schedule's L
        self.event_log: list[dict[str, Any]] = []  # one record per event applied
        self._schedule: list[Event] = sorted(scenario.events, key=lambda e: e.tick)
        self._next_event = 0

        self._build_geometry()
        self._build_arrays()
        setup = np.random.default_rng(setup_seq)
        self.layer: PeacekeepingLayer | None = None
        self._populate(setup)
        if scenario.model == "peacekeeping":
            self.layer = PeacekeepingLayer(self, setup)
            if scenario.mission.deploy_tick == 0:
                self.layer.deploy()
        # the core tick's compiled function, bound once (sim.engine.calls)
        self._tick = None if self.layer is not None else compiled(
            tick, self.ag, self.cells, self.geometry, self.params, self.rng_state,
            float(self.legitimacy), self.order, self.free_stack, self.meta, self.events)
        # Mesa's agent views (see "Mesa views" below): made when someone looks
        self._views: dict[int, ArrayAgent] = {}
        self._view_uid = np.full(self.capacity, -1, dtype=np.int64)
        # the notes of the views' changes: this buffer's first _view_rows rows (the kernels
        # write each note's rows after them: a note has at most one row per slot), older
        # notes moved out to _view_log, and the oldest folded into _view_compact
        self._view_room = VIEW_BUFFER_ROWS  # rows kept before they move out
        self._view_buf = np.empty((self.capacity + self._view_room, 3), dtype=np.int64)
        self._view_rows = 0
        self._view_changes = compiled(view_changes, self.ag, self.meta, self._view_uid,
                                      self._view_buf)
        self._view_log: list[np.ndarray] = []
        self._view_log_rows = 0
        self._view_compact: tuple[np.ndarray, int] | None = None
        self._view_log_limit = max(VIEW_LOG_ROWS, 4 * self.capacity)
        self._views_mark: tuple[int, int] | None = None
        self._sync_views()
        self._grid: OrthogonalVonNeumannGrid | OrthogonalMooreGrid | None = None
        self._grid_dirty = True

        self.columns = metric_columns(scenario)
        self._metrics: dict[str, float] | None = {}
        self._metrics_source: MetricsSource | None = None
        self.datacollector = MetricsCollector(self.columns, self._metrics_row, self._locked)
        self._observe()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ set-up

    def _build_geometry(self) -> None:
        """Neighbourhoods (one vision class per distinct radius) and the kernels' parameters."""
        sc = self.scenario_config
        self.geometry, self.vision_radii, classes = build_geometry(sc)
        self.params = build_params(sc, classes)

    def _build_arrays(self) -> None:
        # every cell can hold one agent, plus room for as many off the grid (jailed)
        # and as many newborns in one tick: capacity never runs out
        cap = 2 * self.n_cells + 16
        self.capacity = cap
        self.arrays = AgentTable(cap)
        self.ag = self.arrays.packed  # what the kernels take
        shape = (self.width, self.height)
        fields = np.zeros((1 + self.geometry.n_vision, *shape), np.int32)
        self.cells = K.Grid(
            occ=np.full(shape, -1, np.int32),
            fields=fields,
            cop_field=fields[0],
            active_field=fields[1:],
            economy=np.zeros(shape, np.float64),
            abuse_ev=np.zeros(shape, np.float64),
            control=np.zeros(shape, np.float64),  # --- zones: checkpoints (ODD 7.22)
            aid=np.zeros(shape, np.float64),  # --- zones: aid at protection sites (ODD 7.23)
            active=np.zeros(shape, np.int8),  # active residents, for the arrest scans
        )
        self.free_stack = np.arange(cap - 1, -1, -1, dtype=np.int64)
        self.meta = np.zeros(K.N_META, dtype=np.int64)
        self.meta[K.META_FREE_TOP] = cap
        self.order = np.empty(cap, np.int32)  # the core tick's random activation order
        self.census_counts = np.zeros(K.N_CENSUS, dtype=np.int64)  # by category (K.C_*)
        # the census, bound once (sim.engine.calls): the timeline counts two or three times a
        # tick, and the kernel's dispatcher would type the agent table on every call
        self._census = compiled(census, self.ag, self.meta, self.census_counts)
        self.events = np.zeros(K.N_EVENTS, dtype=np.int64)  # this tick's counters (K.EV_*)

    def _populate(self, gen: np.random.Generator) -> None:
        """Initial residents and police (and peacekeepers deployed at tick 0)."""
        sc = self.scenario_config
        n = self.n_cells
        dens_res = sc.residents.density
        dens_pol = police_density_at(sc.police, 0)
        if sc.world.placement == "per_cell":
            u = gen.random(n)
            res_cells = np.flatnonzero(u < dens_res)
            pol_cells = np.flatnonzero((u >= dens_res) & (u < dens_res + dens_pol))
        else:
            order = gen.permutation(n)
            n_res = round(dens_res * n)
            n_pol = round(dens_pol * n)
            res_cells = np.sort(order[:n_res])
            pol_cells = np.sort(order[n_res : n_res + n_pol])
        ag = self.arrays
        a = 0
        for cells, kind, vclass in (
            (res_cells, K.RESIDENT, 0),
            (pol_cells, K.POLICE, self.params.cops_class),
        ):
            m = len(cells)
            sl = slice(a, a + m)
            ag.kind[sl] = kind
            ag.set("alive", sl, 1)
            ag.x[sl] = cells // self.height
            ag.y[sl] = cells % self.height
            ag.vclass[sl] = vclass
            if kind == K.RESIDENT:
                ag.hardship[sl] = gen.random(m)
                ag.risk[sl] = gen.random(m)
                if sc.residents.groups == 2:
                    ag.group[sl] = (gen.random(m) >= sc.residents.group_share).astype(np.int8)
                if sc.residents.max_age > 0:
                    ag.death_age[sl] = gen.integers(0, sc.residents.max_age + 1, m)
                    ag.age[sl] = (gen.random(m) * (ag.death_age[sl] + 1)).astype(np.int32)
            a += m
        ag.uid[:a] = np.arange(a)
        self.meta[K.META_NEXT_UID] = a
        self.free_stack[: self.capacity - a] = np.arange(self.capacity - 1, a - 1, -1)
        self.meta[K.META_FREE_TOP] = self.capacity - a
        self.meta[K.META_HIGH] = a
        call(rebuild_fields, self.ag, self.cells, self.geometry, self.params)
        if sc.mission.deploy_tick == 0 and sc.model == "epstein":
            self._deploy_peacekeepers()

    def _deploy_peacekeepers(self) -> None:
        n = round(self.scenario_config.peacekeepers.density * self.n_cells)
        call(place_new, self.ag, self.cells, self.geometry, self.params, self.rng_state,
             K.PEACEKEEPER, self.params.pk_class, n, self.free_stack, self.meta)

    # ------------------------------------------------------------------ the tick

    def step(self) -> None:
        """Advance one tick: schedules, random-sequential activation, observation."""
        t = self.steps
        self.apply_events(t)
        sc = self.scenario_config
        self.legitimacy = legitimacy_at(sc.unrest, t)
        if self.legitimacy_offset:
            self.legitimacy = min(1.0, max(0.0, self.legitimacy + self.legitimacy_offset))
        self._apply_police_ramp(t)
        self.events.fill(0)
        if self.layer is not None:
            self.layer.step(t)  # the core runs inside the layer's tick (one kernel call)
        else:
            if t == sc.mission.deploy_tick and t > 0:
                self._deploy_peacekeepers()
            self._tick(self.ag, self.cells, self.geometry, self.params, self.rng_state,
                       float(self.legitimacy), self.order, self.free_stack, self.meta,
                       self.events)
        self._after_tick()

    def apply_events(self, t: int) -> list[dict[str, Any]]:
        """ODD 7.28: apply the scheduled events due by the start of tick ``t``, in schedule
        order (a scenario's events by tick, then injected ones in the order given); returns
        their records (also appended to ``event_log``)."""
        done = []
        while self._next_event < len(self._schedule) and self._schedule[self._next_event].tick <= t:
            ev = self._schedule[self._next_event]
            self._next_event += 1
            done.append(apply_event(self, ev, ev.tick))
        self.event_log += done
        return done

    def inject(self, event: Event) -> list[dict[str, Any]]:
        """Schedule ``event`` for the next tick (``event.tick`` must be ``steps + 1``) and
        apply it now, with any scenario event of that tick before it: the world is as it
        will be at the start of that tick, exactly as if the event had been in the scenario
        (what the next tick reads is unchanged). Returns the records of the events applied."""
        if event.tick != self.steps + 1:
            raise ValueError(f"an event injected after tick {self.steps} has tick "
                             f"{self.steps + 1}, not {event.tick}")
        at = self._next_event  # after every event of an earlier or the same tick
        while at < len(self._schedule) and self._schedule[at].tick <= event.tick:
            at += 1
        self._schedule.insert(at, event)
        done = self.apply_events(event.tick)
        self.inject_done()
        return done

    def inject_done(self) -> None:
        """After events applied between ticks: Mesa's views and grid follow the arrays (the
        metrics are not recomputed: the next tick must read what the last one left)."""
        self._sync_views()
        self._grid_dirty = True

    def count(self, what: int) -> int:
        """How many agents there are now of a census category (``layout.C_*``)."""
        self._census(self.ag, self.meta, self.census_counts)
        return int(self.census_counts[what])

    def _apply_police_ramp(self, t: int) -> None:
        pol = self.scenario_config.police
        if pol.ramp_to is None or t < pol.ramp_start:
            return
        want = round(police_density_at(pol, t) * self.n_cells)
        have = self.count(K.C_POLICE)
        args = (self.ag, self.cells, self.geometry, self.params, self.rng_state)
        if want > have:
            call(place_new, *args, K.POLICE, self.params.cops_class, want - have,
                 self.free_stack, self.meta)
        elif want < have:
            call(remove_random, *args, K.POLICE, have - want, self.free_stack, self.meta)

    def _after_tick(self) -> None:
        self._grid_dirty = True
        if self.layer is None:
            self._sync_views()
            self._observe()
        else:  # the layer's metrics kernel finds the views' changes in the same pass
            self._observe(views=self._views_moved())
        self.datacollector.collect(self)

    def _observe(self, views: bool = False) -> None:
        """This tick's metrics; with ``views`` (the peacekeeping model), also what
        :meth:`_sync_views` does, in the metrics kernel's pass over the agents. Only the
        counters are kept (as Python lists: cheaper to index than numpy scalars); the
        ``metrics`` dict is made from them when first read."""
        if self.layer is None:
            self._census(self.ag, self.meta, self.census_counts)
            layer = None
        else:  # the layer's kernel counts the census too
            at = self._view_rows
            *layer, n = self.layer.observe(
                self.census_counts, self._view_uid if views else None, self._view_buf[at:])
            if n:
                self._noted_views(at + n)
        self._metrics = None
        self._metrics_source = MetricsSource(self.legitimacy, self.census_counts.tolist(),
                                             self.events.tolist(), layer)

    @property
    def metrics(self) -> dict[str, float]:
        """The metrics of the last tick observed, by name (the DataCollector's columns and
        a few more)."""
        if self._metrics is None:
            with self._locked():
                if self._metrics is None:
                    assert self._metrics_source is not None
                    self._metrics = self._metrics_row(self._metrics_source)
        return self._metrics  # type: ignore[return-value]

    @metrics.setter
    def metrics(self, value: dict[str, float]) -> None:
        self._metrics = value

    def _metrics_row(self, source: MetricsSource) -> dict[str, float]:
        """The metrics dict of one observation: the core's columns, then the layer's."""
        legitimacy, census, events, layer = source
        row = core_row(legitimacy, census, events)
        if layer is not None:
            assert self.layer is not None
            row.update(self.layer.row(events, *layer))
        return row

    # ------------------------------------------------------------------ Mesa views
    #
    # One Mesa agent (a view, sim.model.agents) per live agent of the arrays. Making and
    # removing views costs a few microseconds each, and a tick brings births and deaths, while
    # only tests, teaching notebooks and Mesa's own tools read them. So a tick only notes which
    # slots changed (slot, uid, kind: :meth:`_sync_views`, at the same moments as ever), and
    # the views are brought up to date from those notes, in their order, when anyone looks
    # (``agents``, ``agents_by_type``, ``agent_types``, ``agent_id_counter``, the grid, a new
    # agent registered, ``remove_all_agents``): the same views with the same unique ids in the
    # same order as if each tick had made them. With anyone subscribed to the model's signals
    # or any Mesa dataset registered (one may track the views), they are made every tick.

    _views_pending = False  # notes not yet applied to the views

    def _views_now(self) -> tuple[int, int]:
        # any birth or death moves the uid counter or the free-slot stack
        return int(self.meta[K.META_NEXT_UID]), int(self.meta[K.META_FREE_TOP])

    def _views_moved(self) -> bool:
        """Whether agents were born or died since the last note (a note is taken then)."""
        mark = self._views_now()
        if mark == self._views_mark:
            return False
        self._views_mark = mark
        return True

    def _sync_views(self) -> None:
        """Note the slots whose Mesa view must be made or removed (the arrays gained or lost
        agents since the last note); the views follow when someone looks."""
        if not self._views_moved():
            return
        at = self._view_rows
        n = self._view_changes(self.ag, self.meta, self._view_uid, self._view_buf[at:])
        if n:
            self._noted_views(at + n)

    def _noted_views(self, rows: int) -> None:
        """The kernels noted changes of the views (:func:`sim.engine.metrics.view_changes`:
        rows of slot, uid or -1, kind, after those kept): ``rows`` are kept now."""
        self._view_rows = rows
        self._views_pending = True
        if rows > self._view_room:  # keep room for a note of every slot
            self._view_log.append(self._view_buf[:rows].copy())
            self._view_rows = 0
            self._view_log_rows += rows
            if self._view_log_rows > self._view_log_limit:
                self._compact_views()
        if self.subscribers or self.data_registry.datasets:  # someone watches each agent
            self._apply_views()

    def _compact_views(self) -> None:
        """Fold the notes into what they leave (a long run read by no one must not keep a
        note per birth): a removal row for every slot they touch, then the views still to
        make, in the order they would be made, each with its place among all the views the
        notes make (its unique id is the counter then plus that place)."""
        raw = np.concatenate(self._view_log)
        made = raw[:, 1] >= 0
        rows, before = (self._view_compact if self._view_compact is not None
                        else (np.empty((0, 4), np.int64), 0))
        place = np.where(made, before + np.cumsum(made) - 1, -1)
        rows = np.concatenate([rows, np.column_stack([raw, place])])
        slots = rows[:, 0]
        touched, last_from_end = np.unique(slots[::-1], return_index=True)
        last = np.zeros(len(slots), bool)
        last[len(slots) - 1 - last_from_end] = True
        kept = rows[last & (rows[:, 1] >= 0)]
        removals = np.zeros((touched.size, 4), np.int64)
        removals[:, 0] = touched
        removals[:, 1] = -1
        removals[:, 3] = -1
        self._view_compact = (np.concatenate([removals, kept]), before + int(made.sum()))
        self._view_log = []
        self._view_log_rows = 0

    def _locked(self) -> AbstractContextManager[Any]:
        """The model's lock, if it has one (the app's models: a play loop steps the model in
        one thread while a redraw reads it in another): what is made when read is made
        under it, as a tick is."""
        lock = getattr(self, "lock", None)
        return nullcontext() if lock is None else lock

    def _apply_views(self) -> None:
        """Bring the views up to date with the notes, in their order."""
        if not self._views_pending:
            return
        with self._locked():
            if self._views_pending:
                self._apply_notes()

    def _apply_notes(self) -> None:
        """:meth:`_apply_views`: folded notes first, then the rest, each in its order."""
        self._views_pending = False
        log, compact = self._view_log, self._view_compact
        if self._view_rows:
            log.append(self._view_buf[: self._view_rows].copy())
        self._view_log, self._view_log_rows, self._view_compact = [], 0, None
        self._view_rows = 0
        views = self._views
        if compact is not None:
            rows, made = compact
            base = self._agent_id_counter
            for slot, uid, kind, place in rows.tolist():
                old = views.pop(slot, None)
                if old is not None:
                    old.remove()
                if uid >= 0:
                    self._agent_id_counter = base + place
                    views[slot] = VIEW_CLASSES[kind](self, slot, uid)
            self._agent_id_counter = base + made
        for block in log:
            for slot, uid, kind in block.tolist():
                old = views.pop(slot, None)
                if old is not None:
                    old.remove()
                if uid >= 0:
                    views[slot] = VIEW_CLASSES[kind](self, slot, uid)

    def view(self, slot: int) -> ArrayAgent | None:
        """The Mesa view of the agent in array slot ``slot`` (None if the slot is empty)."""
        self._apply_views()
        return self._views.get(slot)

    @property
    def agents(self) -> Any:
        """Mesa's set of every agent (the views brought up to date first)."""
        self._apply_views()
        return self._all_agents

    @agents.setter
    def agents(self, agents: Any) -> None:
        mesa.Model.agents.fset(self, agents)  # Mesa's error: model.agents is Mesa's own

    @property
    def agents_by_type(self) -> dict[type, Any]:
        """Mesa's agent sets by class (the views brought up to date first)."""
        self._apply_views()
        return self._agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Mesa's agent classes present (the views brought up to date first)."""
        self._apply_views()
        return list(self._agents_by_type.keys())

    @property
    def agent_id_counter(self) -> int:
        """The unique id Mesa gives the next agent (the views brought up to date first)."""
        if self._views_pending:
            self._apply_views()
        return self._agent_id_counter

    @agent_id_counter.setter
    def agent_id_counter(self, value: int) -> None:
        self._agent_id_counter = value

    def register_agent(self, agent: Any) -> None:
        """Mesa's registration, after the views' pending changes (ids in the order of old)."""
        if self._views_pending:
            self._apply_views()
        super().register_agent(agent)

    def deregister_agent(self, agent: Any) -> None:
        """Mesa's deregistration, after the views' pending changes."""
        if self._views_pending:
            self._apply_views()
        super().deregister_agent(agent)

    def remove_all_agents(self) -> None:
        """Mesa's ``remove_all_agents``, the views brought up to date first."""
        self._apply_views()
        super().remove_all_agents()

    @property
    def grid(self) -> OrthogonalVonNeumannGrid | OrthogonalMooreGrid:
        """The Mesa grid, with occupancy brought up to date from the arrays."""
        self.sync_grid()
        assert self._grid is not None
        return self._grid

    def _add_property_layers(self) -> None:
        """Expose the cell layers as Mesa property layers that share the engine's arrays
        (no copy: ``cell.economy`` and ``grid.economy.data`` always show the current state)."""
        if self.layer is None:
            return
        lay = self.layer.lay
        for name, data in (("economy", self.cells.economy),
                           ("infrastructure", lay.infrastructure),
                           ("violence", lay.violence), ("district", lay.district)):
            layer = PropertyLayer(name, (self.width, self.height), default_value=0,
                                  dtype=data.dtype.type)
            layer._data = data  # share, do not copy
            self._grid.add_property_layer(layer)

    def sync_grid(self) -> None:
        """Place every agent view on its Mesa cell (lazily: only when someone looks)."""
        self._apply_views()
        if self._grid is None:
            klass = (
                OrthogonalMooreGrid
                if self.scenario_config.world.vision_shape == "moore"
                else OrthogonalVonNeumannGrid
            )
            self._grid = klass(
                (self.width, self.height),
                torus=self.scenario_config.world.torus,
                capacity=1,
                random=self.random,
            )
            self._add_property_layers()
            self._grid_dirty = True
        if not self._grid_dirty:
            return
        self._grid_dirty = False
        for view in self._views.values():
            if view._mesa_cell is not None:
                view._mesa_cell.remove_agent(view)
                view._mesa_cell = None
        cells = self._grid._cells
        for slot, view in self._views.items():
            x = int(self.arrays.x[slot])
            if x >= 0:
                cell = cells[(x, int(self.arrays.y[slot]))]
                cell.add_agent(view)
                view._mesa_cell = cell

    # ------------------------------------------------------------------ conveniences

    @property
    def residents(self):
        return self.agents_by_type.get(Resident, [])

    @property
    def police(self):
        return self.agents_by_type.get(Police, [])

    @property
    def peacekeepers(self):
        return self.agents_by_type.get(Peacekeeper, [])

    def add_agent(
        self,
        kind: str,
        x: int,
        y: int,
        *,
        state: str = "quiescent",
        hardship: float = 0.0,
        risk_aversion: float = 0.0,
        group: int = 0,
        jail_term: int = 0,
        role: str | None = None,
        **columns: float,
    ) -> ArrayAgent:
        """Put one agent on the empty cell ``(x, y)`` (hand-built worlds: tests, teaching).

        ``role`` names a peacekeeper role; other keyword arguments set columns of the agent
        table by name (``trust_pk=0.8``, ``professionalism=0.3``, ``home=...``).
        """
        kinds = {"resident": K.RESIDENT, "police": K.POLICE, "peacekeeper": K.PEACEKEEPER,
                 "combatant": K.COMBATANT}
        states = {"quiescent": K.QUIESCENT, "active": K.ACTIVE, "jailed": K.JAILED}
        if self.cells.occ[x, y] >= 0:
            raise ValueError(f"cell ({x}, {y}) is occupied")
        k = kinds[kind]
        vclass = {K.RESIDENT: 0, K.POLICE: self.params.cops_class,
                  K.PEACEKEEPER: self.params.pk_class, K.COMBATANT: self.params.comb_class}[k]
        slot = call(new_agent, self.ag, self.cells, self.geometry, self.params, k, vclass,
                    x * self.height + y, self.free_stack, self.meta)
        ag = self.arrays
        ag.state[slot] = states[state]
        ag.hardship[slot] = hardship
        ag.risk[slot] = risk_aversion
        ag.group[slot] = group
        ag.jail[slot] = jail_term
        if role is not None:
            ag.set("role", slot, K.ROLE_CODES[role])
        for name, value in columns.items():
            ag.set(name, slot, value)
        call(rebuild_fields, self.ag, self.cells, self.geometry, self.params)
        self._sync_views()
        self._grid_dirty = True
        self._observe()
        view = self.view(slot)
        assert view is not None
        return view

    def check_invariants(self) -> None:
        """Recompute fields from scratch and compare (tests call this)."""
        occ = self.cells.occ.copy()
        cop = self.cells.cop_field.copy()
        act = self.cells.active_field.copy()
        marks = self.cells.active.copy()
        call(rebuild_fields, self.ag, self.cells, self.geometry, self.params)
        assert np.array_equal(occ, self.cells.occ), "occupancy out of step"
        assert np.array_equal(cop, self.cells.cop_field), "cop field out of step"
        assert np.array_equal(act, self.cells.active_field), "active field out of step"
        assert np.array_equal(marks, self.cells.active), "active plane out of step"


def _metric(name: str, model: PeaceSimModel) -> float:
    return model.metrics[name]


class MetricsCollector(mesa.DataCollector):
    """Mesa's DataCollector with one reporter per metric column, reading ``model.metrics``.

    ``collect`` takes the numbers straight from the model's metrics: they are plain Python
    scalars, so Mesa's per-column reporter call and deepcopy (about a microsecond each, a
    hundred columns a tick) change nothing but the time. It keeps each tick's
    :class:`MetricsSource` (or, if ``model.metrics`` was made already, its numbers as one
    tuple) and spreads them into Mesa's ``model_vars`` lists when anyone reads ``model_vars``
    (or Mesa's own ``collect`` runs): the same lists as appending column by column each tick,
    made in one go (``row_of``: the model's :meth:`PeaceSimModel._metrics_row`). Reporters
    added later are collected Mesa's way.
    """

    _pending: list[Any]

    def __init__(self, columns: list[str],
                 row_of: Callable[[MetricsSource], dict[str, float]] | None = None,
                 locked: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        self._pending = []  # before Mesa's __init__ sets model_vars
        self._locked = locked  # the model's lock (see PeaceSimModel._locked)
        super().__init__(model_reporters={c: partial(_metric, c) for c in columns})
        self._columns = list(columns)
        get = itemgetter(*self._columns)
        self._row = get if len(self._columns) > 1 else lambda m: (get(m),)
        self._row_of = row_of

    @property  # type: ignore[override]
    def model_vars(self) -> dict[str, list[Any]]:
        """Mesa's ``model_vars``: one list per reporter, one value per collection."""
        if self._pending:
            with self._locked():  # the lists grow whole, as a tick made them grow
                pending = self._pending
                n = len(pending)  # (a tick collected now keeps its place after them)
                if n:
                    row, row_of = self._row, self._row_of
                    rows = [row(row_of(p)) if type(p) is MetricsSource else p  # type: ignore
                            for p in pending[:n]]
                    del pending[:n]
                    model_vars = self._model_vars
                    for c, values in zip(self._columns, zip(*rows, strict=True), strict=True):
                        model_vars[c].extend(values)
        return self._model_vars

    @model_vars.setter
    def model_vars(self, value: dict[str, list[Any]]) -> None:
        if self._pending:  # the pending rows belong to the lists being replaced
            _ = self.model_vars
        self._model_vars = value

    def collect(self, model: mesa.Model) -> None:
        if (
            self.agent_reporters
            or self.agenttype_reporters
            or len(self.model_reporters) != len(self._columns)
        ):
            super().collect(model)
            return
        self._collection_steps.append(model.time)
        self._validated = True
        source = getattr(model, "_metrics_source", None)
        if self._row_of is not None and source is not None and model._metrics is None:
            self._pending.append(source)  # the metrics dict was not made: nobody changed it
        else:
            self._pending.append(self._row(model.metrics))
