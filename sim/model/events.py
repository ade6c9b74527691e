"""Events injected at the start of a tick (ODD 7.28): what a scenario file or an instructor
does to the world, done to the world's own state so that the ordinary rules carry it on.

An attack places armed fighters around a settlement, who attack (or are deterred, interdicted
or interrupted) through the ordinary combatant turn of ODD 7.9 in the same tick; an abuse
scandal lowers the trust of the residents of a district, damped by transparency as every
loss is (ODD 7.11); a withdrawal removes units and lowers the force the mission keeps; a
reinforcement brings fighters to a faction's stronghold; a legitimacy shock moves the
regime's legitimacy from then on; a programme change and a ``set`` event change parameters
from then on, rebuilding the kernels' parameter tuple and bringing the world to the new
values where it holds them itself (the size of the force and of the police, units' roles,
programme areas).

Every event draws from its own random stream, ``SeedSequence(seed, spawn_key=(3,))`` (the
model's three streams are children 0-2 of the same root), so a run without events is
unchanged and a run with them is reproducible: same scenario, seed and events, same outputs.
Each kind has one function here, taking the model, the event and the tick and returning what
happened (:func:`apply_event`); the per-agent work is in compiled helpers, one per task, in
:mod:`sim.rules.injects` (kept apart so that this module's edits never invalidate the
compiled kernels' cache).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config.scenario import ROLE_NAMES, Event, Scenario, apply_set, set_values_flat
from sim.engine import layout as K
from sim.engine.calls import call
from sim.engine.fields import box_sum_into
from sim.engine.grid import place_new_slots
from sim.engine.params import DERIVED, build_params
from sim.rules.injects import (
    arrive,
    assign_roles,
    district_trust_loss,
    draw_index,
    init_officers,
    pair_mentors,
    reassign_roles,
    remove_units,
)
from sim.rules.mission import drawdown_count, role_counts
from sim.rules.schedules import police_density_at

if TYPE_CHECKING:
    from sim.model.model import PeaceSimModel

#: the derived parameters that name neighbourhood classes (unchanged by any event)
_CLASS_NAMES = tuple(n for n, _, _ in DERIVED if n.endswith("_class"))


# ----------------------------------------------------------------------------- the kinds


def _count(model: PeaceSimModel, kind: int, role: int = -1) -> int:
    ai = model.arrays.i[: model.meta[K.META_HIGH]]
    sel = (ai[:, K.I_ALIVE] != 0) & (ai[:, K.I_KIND] == kind)
    if role >= 0:
        sel &= ai[:, K.I_ROLE] == role
    return int(np.count_nonzero(sel))


def _target_cell(model: PeaceSimModel, ev: Event) -> tuple[int, str]:
    """The flat cell an attack aims at, and how to name it."""
    layer = model.layer
    assert layer is not None
    h = model.height
    markets = layer.market_cells
    if isinstance(ev.settlement, tuple):
        x, y = ev.settlement
        return x * h + y, f"cell ({x}, {y})"
    if isinstance(ev.settlement, int):
        return int(markets[ev.settlement]), f"settlement {ev.settlement}"
    d = int(ev.district)  # type: ignore[arg-type]
    flat = layer.lay.district.ravel()
    here = np.flatnonzero(flat[markets] == d)
    if here.size:
        k = int(here[call(draw_index, model.event_rng, here.size)])
        return int(markets[k]), f"settlement {k} in district {d}"
    cells = np.flatnonzero(flat == d)
    c = int(cells[call(draw_index, model.event_rng, cells.size)])
    return c, f"a cell of district {d} (it has no settlement)"


def _fighters(model: PeaceSimModel, cell: int, radius: int, count: int, faction: int,
              aggression: float) -> np.ndarray:
    m = model
    x, y = divmod(cell, m.height)
    return call(arrive, m.ag, m.cells, m.geometry, m.params, m.event_rng, x, y, radius, count,
                faction, aggression, m.free_stack, m.meta)


def attack(model: PeaceSimModel, ev: Event, t: int) -> tuple[dict[str, Any], str]:
    """ODD 7.28, attack: ``attackers`` fighters of ``faction`` with ``aggression`` are placed
    within ``radius`` of the settlement (a random settlement of the ``district``); in this
    tick's combatant phase they attack residents in their vision through the ordinary rule
    (ODD 7.9), unless deterred, interdicted, arrested or interrupted."""
    cell, name = _target_cell(model, ev)
    n = int(ev.get("attackers"))
    placed = _fighters(model, cell, int(ev.get("radius")), n, int(ev.get("faction")),
                       float(ev.get("aggression")))
    x, y = divmod(cell, model.height)
    return ({"cell": [x, y], "placed": int(placed.size)},
            f"attack on {name} at ({x}, {y}): {placed.size} of {n} fighters of faction "
            f"{ev.get('faction')} placed around it")


def abuse_scandal(model: PeaceSimModel, ev: Event, t: int) -> tuple[dict[str, Any], str]:
    """ODD 7.28, abuse scandal: the residents of ``district`` lose ``trust_loss`` x (1 -
    ``transparency_loss_share`` x transparency) of their trust in peacekeepers (or in police,
    ``target = "police"``), the damping of every trust loss (ODD 7.11)."""
    m = model
    assert m.layer is not None
    sc = m.scenario_config
    damp = 1.0 - sc.strategy.transparency_loss_share * sc.strategy.transparency
    target = str(ev.get("target"))
    col = K.F_TRUST_PK if target == "peacekeepers" else K.F_TRUST_POLICE
    n, before, after = call(district_trust_loss, m.ag, m.meta, m.layer.lay.district,
                            int(ev.district), float(ev.trust_loss) * damp, col)  # type: ignore
    mb = before / n if n else 0.0
    ma = after / n if n else 0.0
    return ({"residents": int(n), "trust_before": mb, "trust_after": ma},
            f"abuse scandal ({target}) in district {ev.district}: trust of {n} residents "
            f"from {mb:.2f} to {ma:.2f}")


def withdraw_units(model: PeaceSimModel, ev: Event, t: int) -> tuple[dict[str, Any], str]:
    """ODD 7.28, withdrawal: ``share`` of the units (of ``role``) leave at random; the force
    the mission keeps (before any drawdown) falls in proportion, so the timeline neither
    replaces them nor removes them twice (ODD 7.14)."""
    m = model
    layer = m.layer
    assert layer is not None
    role = ev.role
    code = K.ROLE_CODES[role] if role is not None else -1
    have = _count(m, K.PEACEKEEPER)
    n = round(float(ev.share) * _count(m, K.PEACEKEEPER, code))  # type: ignore[arg-type]
    removed = call(remove_units, m.ag, m.cells, m.geometry, m.params, m.event_rng,
                   K.PEACEKEEPER, code, n, m.free_stack, m.meta)
    if removed:
        layer.pk_deployed = round(layer.pk_deployed * (have - removed) / have)
    what = f"{role.replace('_', ' ')} units" if role else "units"
    return ({"removed": int(removed), "units_before": have, "force_kept": layer.pk_deployed},
            f"{removed} of {have} peacekeeping units withdrawn ({ev.share:.0%} of the {what})")


def reinforce_armed_group(model: PeaceSimModel, ev: Event, t: int
                          ) -> tuple[dict[str, Any], str]:
    """ODD 7.28, reinforcement: ``fighters`` fighters of ``faction`` arrive within
    ``armed_groups.stronghold_radius`` of its stronghold (farther when it is full), with the
    aggression of any new fighter (ODD 7.9)."""
    m = model
    assert m.layer is not None
    faction = int(ev.get("faction"))
    sx, sy = (int(v) for v in m.layer.strongholds[faction])
    placed = _fighters(m, sx * m.height + sy, m.scenario_config.armed_groups.stronghold_radius,
                       int(ev.fighters), faction, -1.0)  # type: ignore[arg-type]
    return ({"placed": int(placed.size), "stronghold": [sx, sy]},
            f"{placed.size} of {ev.fighters} fighters of faction {faction} arrive near its "
            f"stronghold at ({sx}, {sy})")


def legitimacy_shock(model: PeaceSimModel, ev: Event, t: int) -> tuple[dict[str, Any], str]:
    """ODD 7.28, legitimacy shock: the regime's legitimacy L moves by ``delta`` from this
    tick on (added to the schedule's value, ODD 7.6, and kept in [0, 1])."""
    model.legitimacy_offset += float(ev.delta)  # type: ignore[arg-type]
    return ({"offset": model.legitimacy_offset},
            f"legitimacy shock of {ev.delta:+.2f} (L {model.legitimacy_offset:+.2f} from the "
            "schedule from now on)")


def programme_change(model: PeaceSimModel, ev: Event, t: int) -> tuple[dict[str, Any], str]:
    """ODD 7.28, programme change: ``economy.programme_rate`` becomes ``programme_rate`` (or
    x ``factor``, capped at 1) from this tick on; programmes run around settlements while it
    is above 0 (ODD 7.12-7.13)."""
    old = model.scenario_config.economy.programme_rate
    new = ev.programme_rate if ev.programme_rate is not None else min(1.0, old * ev.factor)
    install(model, apply_set(model.scenario_config, {"economy.programme_rate": new}, t), t)
    return ({"programme_rate": new, "was": old},
            f"employment programmes from {old:g} to {new:g} job offers per week")


def set_values(model: PeaceSimModel, ev: Event, t: int) -> tuple[dict[str, Any], str]:
    """ODD 7.28, set: the dotted keys take their new values from this tick on
    (:func:`install`)."""
    old = model.scenario_config
    new = apply_set(old, ev.values or {}, t)
    keys = []
    for key in set_values_flat(ev.values or {}):
        keys += [f"{key}.{r}" for r in ROLE_NAMES] if key == "strategy.roles" else [key]
    changed = {k: [old.get(k), new.get(k)] for k in keys}
    install(model, new, t)
    text = ", ".join(f"{k} {_short(a)} -> {_short(b)}" for k, (a, b) in changed.items()
                     if a != b)
    return {"changed": changed}, "set " + (text or "(no change)")


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


#: one function per kind
KINDS: dict[str, Callable[[Any, Event, int], tuple[dict[str, Any], str]]] = {
    "attack": attack,
    "abuse_scandal": abuse_scandal,
    "withdraw_units": withdraw_units,
    "reinforce_armed_group": reinforce_armed_group,
    "legitimacy_shock": legitimacy_shock,
    "programme_change": programme_change,
    "set": set_values,
}


def apply_event(model: PeaceSimModel, ev: Event, t: int) -> dict[str, Any]:
    """ODD 7.28: apply ``ev`` at the start of tick ``t``; returns the record of the run's
    event table: tick, kind, the event's keys, what happened (``outcome``) and a sentence."""
    outcome, text = KINDS[ev.kind](model, ev, t)
    note = f" ({ev.note})" if ev.note else ""
    return {"tick": t, "kind": ev.kind, "text": f"week {t}: {text}{note}",
            "event": ev.options(), "outcome": outcome}


# ----------------------------------------------------------------------------- parameters


def install(model: PeaceSimModel, sc: Scenario, t: int) -> None:
    """ODD 7.28: the scenario ``sc`` in force from tick ``t``: the kernels' parameters are
    rebuilt from it, and the world is brought to the values it holds itself: programme areas
    (``economy.programme_rate``, ``programme_radius``), the markets within trading reach
    (``economy.access_radius``), the police force (``police.density``), the factions'
    abusiveness (``armed_groups.abusiveness``), and, once deployed,
    the size of the force (``peacekeepers.density``) and its roles (``strategy.roles``)."""
    m = model
    old = m.scenario_config
    classes = {n: getattr(m.params, n) for n in _CLASS_NAMES}
    m.params = build_params(sc, classes)
    m.scenario_config = sc
    layer = m.layer
    if layer is None:
        return
    layer.sc = sc
    eo, en = old.economy, sc.economy
    if (eo.programme_rate > 0) != (en.programme_rate > 0) \
            or eo.programme_radius != en.programme_radius:
        layer.programme_areas()
    if eo.access_radius != en.access_radius:
        box_sum_into(layer.lay.market, en.access_radius, layer.torus, layer.lay.market_near)
    if old.police.density != sc.police.density:
        _resize_police(m, sc, t)
    if old.armed_groups.abusiveness != sc.armed_groups.abusiveness:  # ODD 7.19
        for f in range(sc.armed_groups.factions):
            layer.lay.scalars[K.S_ABUSIVENESS0 + f] = sc.armed_groups.abusiveness_of(f)
    if t > sc.mission.deploy_tick:
        if old.peacekeepers.density != sc.peacekeepers.density:
            _resize_force(m, sc, t)
        if old.strategy.roles != sc.strategy.roles:
            want = role_counts(_count(m, K.PEACEKEEPER), _shares(sc))
            call(reassign_roles, m.ag, m.meta, np.array([want[r] for r in ROLE_NAMES]),
                 *_posting(layer, sc), m.event_rng)
            call(pair_mentors, m.ag, m.meta, m.event_rng)


def _posting(layer: Any, sc: Scenario) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Where units are posted, as at deployment: the settlements, their communities, the
    favoured one and the force's partiality (0 unless two communities, ODD 7.25)."""
    s = sc.strategy
    partiality = s.partiality if sc.residents.groups == 2 else 0.0
    return (layer.market_cells, layer.market_group.astype(np.int64), int(s.favoured_group),
            float(partiality))


def _shares(sc: Scenario) -> dict[str, float]:
    return {r: getattr(sc.strategy.roles, r) for r in ROLE_NAMES}


def _resize_police(m: PeaceSimModel, sc: Scenario, t: int) -> None:
    """Officers hired or removed at random to the density in force at ``t``."""
    want = round(police_density_at(sc.police, t) * m.n_cells)
    have = _count(m, K.POLICE)
    args = (m.ag, m.cells, m.geometry, m.params, m.event_rng)
    if want > have:
        slots = call(place_new_slots, *args, K.POLICE, m.params.cops_class, want - have,
                     m.free_stack, m.meta)
        p = sc.police
        call(init_officers, m.ag, slots, p.professionalism, p.professionalism_sd,
             p.community_share, p.leader_dialogue, m.event_rng)
    elif want < have:
        call(remove_units, *args, K.POLICE, -1, have - want, m.free_stack, m.meta)


def _resize_force(m: PeaceSimModel, sc: Scenario, t: int) -> None:
    """The deployed force becomes ``peacekeepers.density`` x cells; the units the timeline
    keeps now (the drawdown applied to it) are reached at once: new units take the roles
    furthest below their shares, or random units leave."""
    layer = m.layer
    assert layer is not None
    mis = sc.mission
    layer.pk_deployed = round(sc.peacekeepers.density * m.n_cells)
    keep = drawdown_count(layer.pk_deployed, t, mis.drawdown_start, mis.drawdown_ticks,
                          mis.drawdown_schedule)
    have = _count(m, K.PEACEKEEPER)
    if keep < have:
        call(remove_units, m.ag, m.cells, m.geometry, m.params, m.event_rng, K.PEACEKEEPER,
             -1, have - keep, m.free_stack, m.meta)
        return
    if keep == have:
        return
    now = {r: _count(m, K.PEACEKEEPER, K.ROLE_CODES[r]) for r in ROLE_NAMES}
    want = role_counts(keep, _shares(sc))
    missing = [K.ROLE_CODES[r] for r in ROLE_NAMES for _ in range(max(0, want[r] - now[r]))]
    roles = np.array(missing[: keep - have], np.int64)
    slots = call(place_new_slots, m.ag, m.cells, m.geometry, m.params, m.event_rng,
                 K.PEACEKEEPER, m.params.pk_class, roles.size, m.free_stack, m.meta)
    call(assign_roles, m.arrays.i, slots, roles[: slots.size], *_posting(layer, sc),
         m.event_rng)
    call(pair_mentors, m.ag, m.meta, m.event_rng)
