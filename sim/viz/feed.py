"""The trainer app's event feed and cell inspection, in words, from the model's own records.

A trainer needs to say *what happened where*: "week 58, district C2: an attack on civilians,
2 killed; no unit was within reach". Nothing here is invented: every line is read from
what the tick recorded, and only that:

* the per-tick event counters (``model.events``, :mod:`sim.engine.layout` ``EV_*``);
* the event-site planes (``site_*`` layers: where this tick's attacks, deaths, interruptions,
  interdictions, tip-led interdictions, harm, police arrests and abuses, crossfire between
  rival factions and predation happened; cleared when the next tick starts);
* a comparison of the agent table before and after the tick (:class:`Before`): units that
  left (withdrawn or killed), residents who took up arms (recruits, and ex-combatants
  relapsing), and where they were.

Districts are the model's ``economy.districts`` blocks, named like map squares: a letter per
column from west to east and a number per row from north to south ("A1" is the top left
block of the map, as the app draws it with north up).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.config.scenario import ROLE_NAMES, planned_exit_tick
from sim.engine import layout as K
from sim.viz.components import model_lock

#: feed item kinds, in the order a week's lines are listed, with the label the app shows
KINDS = {
    "inject": "instructor",
    "lever": "lever change",
    "mission": "mission",
    "attack": "attack",
    "crossfire": "crossfire",
    "predation": "predation",
    "harm": "harm by force",
    "abuse": "police abuse",
    "interdiction": "interdiction",
    "withdrawal": "withdrawal",
    "casualty": "units killed",
    "relapse": "relapse",
    "recruit": "recruitment",
}
#: the most items a feed keeps (the oldest go first)
FEED_LIMIT = 2000


@dataclass(frozen=True)
class FeedItem:
    """One line of the feed: when, where (a district, or "" for the whole area), what."""

    week: int
    kind: str
    district: str
    text: str

    def line(self) -> str:
        """The item as the feed prints it."""
        where = f", {self.district}" if self.district else ""
        return f"Week {self.week}{where}: {self.text}"


# ------------------------------------------------------------------ districts


def district_count(model: Any) -> int:
    """Districts per side of the map (``economy.districts``)."""
    return int(model.scenario_config.economy.districts)


def district_name(model: Any, x: int, y: int) -> str:
    """The name of the district holding cell ``(x, y)``: column letter (west to east) and
    row number (north to south), e.g. ``"C2"``."""
    k = district_count(model)
    bx = min(int(x) * k // model.width, k - 1)
    by = min(int(y) * k // model.height, k - 1)
    return f"{_letter(bx)}{k - by}"


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"A{i - 25}"


def district_names(model: Any) -> list[str]:
    """Every district's name, row by row from the north-west ("A1", "B1", ...)."""
    k = district_count(model)
    return [f"{_letter(bx)}{row}" for row in range(1, k + 1) for bx in range(k)]


def district_id(model: Any, name: str) -> int:
    """The model's number of a district (``bx * districts + by``, as events and the
    ``district`` layer count them) from its name; ValueError names the districts there
    are."""
    names = district_names(model)
    if name not in names:
        raise ValueError(f"district {name!r}: the map has districts {names[0]} to {names[-1]}")
    k = district_count(model)
    bx, row = names.index(name) % k, names.index(name) // k + 1
    return bx * k + (k - row)


def district_of_id(model: Any, d: int) -> str:
    """The name of the model's district number ``d`` (see :func:`district_id`)."""
    k = district_count(model)
    return f"{_letter(d // k)}{k - d % k}"


def _names(model: Any, xs: np.ndarray, ys: np.ndarray) -> list[str]:
    return [district_name(model, x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]


def _by_district(model: Any, plane: np.ndarray) -> dict[str, int]:
    """Counts of a site plane summed per district, districts in map order."""
    xs, ys = np.nonzero(plane)
    out: dict[str, int] = {}
    for name, n in zip(_names(model, xs, ys), plane[xs, ys].tolist(), strict=True):
        out[name] = out.get(name, 0) + int(round(n))
    return dict(sorted(out.items()))


def _listing(counts: dict[str, int], most: int = 3) -> str:
    """``"B2 (5), C3 (4), A1 (1)"``: the districts with the most, largest first."""
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:most]
    text = ", ".join(f"{d} ({n})" for d, n in top)
    return text + (", ..." if len(counts) > most else "")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ------------------------------------------------------------------ before / after a tick


@dataclass(frozen=True)
class Before:
    """What the feed needs from the agent table before a tick: per slot in use, its kind,
    uid, cell and whether it is an ex-combatant."""

    week: int
    kind: np.ndarray
    alive: np.ndarray
    uid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    ex_combatant: np.ndarray


def snapshot(model: Any) -> Before:
    """The agent table's columns the feed compares, before a tick (a copy)."""
    with model_lock(model):
        high = int(model.meta[K.META_HIGH])
        ai = model.arrays.i[:high]
        return Before(int(model.steps), ai[:, K.I_KIND].copy(), ai[:, K.I_ALIVE].copy(),
                      ai[:, K.I_UID].copy(), ai[:, K.I_X].copy(), ai[:, K.I_Y].copy(),
                      ai[:, K.I_EX_COMBATANT].copy())


def _unit_positions(model: Any) -> np.ndarray:
    ai = model.arrays.i
    high = int(model.meta[K.META_HIGH])
    on = (ai[:high, K.I_ALIVE] == 1) & (ai[:high, K.I_KIND] == K.PEACEKEEPER) \
        & (ai[:high, K.I_X] >= 0)
    return np.stack([ai[:high, K.I_X][on], ai[:high, K.I_Y][on]], axis=1)


def _nearest_unit(model: Any, x: int, y: int, units: np.ndarray) -> int | None:
    """Chebyshev distance in cells from ``(x, y)`` to the nearest peacekeeping unit (on a
    torus, the short way round); None if there is none."""
    if units.size == 0:
        return None
    dx = np.abs(units[:, 0] - x)
    dy = np.abs(units[:, 1] - y)
    if model.scenario_config.world.torus:
        dx = np.minimum(dx, model.width - dx)
        dy = np.minimum(dy, model.height - dy)
    return int(np.max(np.stack([dx, dy]), axis=0).min())


def week_items(model: Any, before: Before) -> list[FeedItem]:
    """The notable events of the tick just run, from its counters, its event-site planes and
    the agent table compared with ``before`` (see the module docstring)."""
    if model.layer is None:
        return []
    with model_lock(model):
        return _week_items(model, before)


def _week_items(model: Any, before: Before) -> list[FeedItem]:
    week = int(model.steps)
    lay = model.layer.lay
    ev = model.events
    sc = model.scenario_config
    out: list[FeedItem] = []
    out += _mission_items(model, week)
    out += _attack_items(model, week, lay, sc.protection.interrupt_radius)
    out += _crossfire_items(model, week, lay)
    out += _harm_items(model, week, lay)
    abuses = _by_district(model, lay.site_abuse)
    if abuses:
        total = sum(abuses.values())
        out.append(FeedItem(week, "abuse", "", (
            f"{_plural(total, 'abuse')} by police during arrests, most in "
            f"{_listing(abuses)}")))
    out += _detention_items(model, week, lay)
    out += _table_items(model, week, before, int(ev[K.EV_PK_KILLED]),
                        int(ev[K.EV_POLICE_KILLED]))
    return out


def _mission_items(model: Any, week: int) -> list[FeedItem]:
    m = model.scenario_config.mission
    out = []
    if m.drawdown_start is not None and week == m.drawdown_start + 1:
        out.append(FeedItem(week, "mission", "", "the drawdown has begun"))
    exit_tick = planned_exit_tick(m)
    if exit_tick is not None and week == exit_tick + 1:
        out.append(FeedItem(week, "mission", "", "the last peacekeeping units have left"))
    return out


def _attack_items(model: Any, week: int, lay: Any, reach: int) -> list[FeedItem]:
    attacks = _by_district(model, lay.site_attack)
    if not attacks:
        return []
    killed = _by_district(model, lay.site_killed)
    stopped = _by_district(model, lay.site_protected)
    units = _unit_positions(model)
    xs, ys = np.nonzero(lay.site_attack)
    nearest: dict[str, int | None] = {}
    for name, x, y in zip(_names(model, xs, ys), xs.tolist(), ys.tolist(), strict=True):
        d = _nearest_unit(model, x, y, units)
        old = nearest.get(name)
        if name not in nearest or (d is not None and (old is None or d < old)):
            nearest[name] = d
    out = []
    for name, n in attacks.items():
        parts = [f"{_plural(n, 'attack')} on civilians"]
        k = killed.get(name, 0)
        parts.append(f"{k} killed" if k else "nobody killed")
        s = stopped.get(name, 0)
        if s:
            parts.append(f"{s} stopped by a unit nearby")
        d = nearest[name]
        if d is None:
            parts.append("no peacekeeping unit in the area")
        elif d <= reach:
            parts.append(f"a unit was within reach ({d} cells)")
        else:
            parts.append(f"no unit within reach (nearest {d} cells away)")
        out.append(FeedItem(week, "attack", name, "; ".join(parts)))
    return out


def _crossfire_items(model: Any, week: int, lay: Any) -> list[FeedItem]:
    """Bystanders hit when rival factions clashed (ODD 7.25), and residents preyed on by
    armed-group members (ODD 7.19), by district."""
    hit = _by_district(model, lay.site_crossfire)
    killed = _by_district(model, lay.site_crossfire_killed)
    out = [FeedItem(week, "crossfire", name, (
        f"a clash between rival factions hit {_plural(n, 'bystander')}"
        + (f", {killed[name]} killed" if killed.get(name) else ", none killed")))
        for name, n in hit.items()]
    preyed = _by_district(model, lay.site_predation)
    out += [FeedItem(week, "predation", name, (
        f"armed-group members preyed on {_plural(n, 'resident')} (looting, extortion, "
        "assault)")) for name, n in preyed.items()]
    return out


def _harm_items(model: Any, week: int, lay: Any) -> list[FeedItem]:
    harmed = _by_district(model, lay.site_harm)
    killed = _by_district(model, lay.site_harm_killed)
    return [FeedItem(week, "harm", name, (
        f"an interdiction harmed {_plural(n, 'bystander')}"
        + (f", {killed[name]} killed" if killed.get(name) else ", none killed")))
        for name, n in harmed.items()]


def _detention_items(model: Any, week: int, lay: Any) -> list[FeedItem]:
    interdicted = _by_district(model, lay.site_interdict)
    tipped = _by_district(model, lay.site_tipped)
    arrested = _by_district(model, lay.site_arrest)
    out = []
    for name in sorted(set(interdicted) | set(arrested)):
        parts = []
        n, t = interdicted.get(name, 0), tipped.get(name, 0)
        if t == n and n:
            parts.append("a tip led to an interdiction" if n == 1 else
                         f"tips led to {n} interdictions")
        elif n:
            parts.append(f"{_plural(n, 'combatant')} interdicted by peacekeepers"
                         + (f" ({t} on a tip)" if t else ""))
        a = arrested.get(name, 0)
        if a:
            parts.append(f"{_plural(a, 'combatant')} arrested by police")
        out.append(FeedItem(week, "interdiction", name, "; ".join(parts)))
    return out


def _table_items(model: Any, week: int, before: Before, pk_killed: int,
                 police_killed: int) -> list[FeedItem]:
    ai = model.arrays.i
    n = before.kind.size
    now_alive = ai[:n, K.I_ALIVE] == 1
    same = now_alive & (ai[:n, K.I_UID] == before.uid)  # the same agent in the slot
    was = before.alive == 1
    out = []
    # units gone: withdrawn by the timeline, or killed in a clash
    gone = was & (before.kind == K.PEACEKEEPER) & ~same
    withdrawn = int(gone.sum()) - pk_killed
    if withdrawn > 0:
        where = _listing(_count(_names(model, before.x[gone], before.y[gone])))
        left = int(((ai[:, K.I_ALIVE] == 1) & (ai[:, K.I_KIND] == K.PEACEKEEPER)).sum())
        place = f" from {where}" if pk_killed == 0 else ""
        out.append(FeedItem(week, "withdrawal", "", (
            f"{_plural(withdrawn, 'unit')} withdrawn{place}; {left} remain")))
    if pk_killed or police_killed:
        parts = [_plural(k, what, many) for k, what, many in (
            (pk_killed, "peacekeeper", None), (police_killed, "police officer", None)) if k]
        out.append(FeedItem(week, "casualty", "", " and ".join(parts) + " killed in clashes"))
    # residents who took up arms: the same agent, a resident before, a combatant now
    turned = was & same & (before.kind == K.RESIDENT) & (ai[:n, K.I_KIND] == K.COMBATANT)
    exit_tick = planned_exit_tick(model.scenario_config.mission)
    after_exit = exit_tick is not None and week > exit_tick
    for mask, kind in ((turned & (before.ex_combatant == 1), "relapse"),
                       (turned & (before.ex_combatant == 0), "recruit")):
        idx = np.flatnonzero(mask)
        counts = _count(_names(model, ai[idx, K.I_X], ai[idx, K.I_Y]))
        for name, k in counts.items():
            if kind == "relapse":
                text = (f"{_plural(k, 'ex-combatant')} went back to an armed group"
                        + (" after the mission's exit" if after_exit else ""))
            else:
                text = f"{_plural(k, 'resident')} joined an armed group"
            out.append(FeedItem(week, kind, name, text))
    return out


def _count(names: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in names:
        out[name] = out.get(name, 0) + 1
    return dict(sorted(out.items()))


class EventFeed:
    """The feed of one run: :meth:`observe` after every tick, with the :func:`snapshot`
    taken before it. Keeps at most ``limit`` items (the oldest go first); :attr:`items`
    lists them oldest first."""

    def __init__(self, limit: int = FEED_LIMIT) -> None:
        self._items: deque[FeedItem] = deque(maxlen=limit)
        self._logged = 0  # records of the model's event log already in the feed

    def observe(self, model: Any, before: Before) -> None:
        """Add the items of the tick just run (``before``: the agent table ahead of it)."""
        self.log_events(model)
        self._items.extend(week_items(model, before))

    def log_events(self, model: Any) -> None:
        """Add the records of the model's event log not yet in the feed: the scenario's
        events and the instructor's injects and lever changes (``model.event_log``, one
        record each with a sentence), as they are applied."""
        log = getattr(model, "event_log", None)
        if not log:
            return
        k = district_count(model)

        def named(m: re.Match[str]) -> str:  # the model's district numbers as map squares
            d = int(m.group(1))
            return f"district {district_of_id(model, d)}" if d < k * k else m.group(0)

        for rec in log[self._logged:]:
            text = re.sub(r"^week \d+: ", "", str(rec.get("text", "")))
            text = re.sub(r"district (\d+)", named, text)
            kind = "lever" if rec.get("kind") == "set" else "inject"
            self._items.append(FeedItem(int(rec.get("tick", model.steps)), kind, "", text))
        self._logged = len(log)

    def add(self, item: FeedItem) -> None:
        """An item from outside the model (an instructor's inject or lever change)."""
        self._items.append(item)

    @property
    def items(self) -> list[FeedItem]:
        """Every item kept, oldest first."""
        return list(self._items)

    def latest(self, n: int) -> list[FeedItem]:
        """The ``n`` newest items, newest first."""
        return list(reversed(self._items))[:n]


# ------------------------------------------------------------------ one cell


@dataclass(frozen=True)
class CellReport:
    """What is on one cell: its district, who stands there and the cell's layers."""

    x: int
    y: int
    district: str
    occupant: list[tuple[str, str]]  # (label, value), empty if nobody is there
    layers: list[tuple[str, str]]

    def title(self) -> str:
        """A heading for the report."""
        return f"Cell ({self.x}, {self.y}), district {self.district}"


_STATES = {K.QUIESCENT: "calm", K.ACTIVE: "protesting", K.JAILED: "jailed",
           K.DETAINED: "detained"}
_KIND_NAMES = {K.RESIDENT: "resident", K.POLICE: "police officer",
               K.PEACEKEEPER: "peacekeeping unit", K.COMBATANT: "combatant"}


def inspect_cell(model: Any, x: int, y: int) -> CellReport:
    """Who stands on cell ``(x, y)`` and the values of the cell's layers (map coordinates:
    x west to east, y south to north). Raises ValueError off the map."""
    if not (0 <= x < model.width and 0 <= y < model.height):
        raise ValueError(f"cell ({x}, {y}) is off the map ({model.width} x {model.height})")
    with model_lock(model):
        return _inspect(model, int(x), int(y))


def _inspect(model: Any, x: int, y: int) -> CellReport:
    ag = model.arrays
    slot = int(model.cells.occ[x, y])
    occupant: list[tuple[str, str]] = []
    if slot >= 0:
        kind = int(ag.kind[slot])
        occupant.append(("who", _KIND_NAMES.get(kind, "agent")))
        if kind == K.RESIDENT:
            state = _STATES.get(int(ag.state[slot]), "?")
            if ag.displaced[slot]:
                state += ", displaced"
            if ag.ex_combatant[slot]:
                state += ", ex-combatant"
            occupant += [("state", state),
                         ("trust in peacekeepers", f"{ag.trust_pk[slot]:.2f}"),
                         ("trust in police", f"{ag.trust_police[slot]:.2f}"),
                         ("hardship", f"{ag.hardship[slot]:.2f}"),
                         ("fear of reporting", f"{ag.fear[slot]:.2f}"),
                         ("employed", "yes" if ag.employed[slot] else "no")]
        elif kind == K.PEACEKEEPER:
            occupant.append(("role", ROLE_NAMES[int(ag.role[slot])].replace("_", " ")))
        elif kind == K.POLICE:
            occupant += [("professionalism", f"{ag.professionalism[slot]:.2f}"),
                         ("community policing", "yes" if ag.community[slot] else "no")]
        elif kind == K.COMBATANT:
            occupant += [("faction", str(int(ag.faction[slot]) + 1)),
                         ("aggression", f"{ag.aggression[slot]:.2f}"),
                         ("tips the mission holds on it", f"{ag.intel[slot]:.2f}")]
    layers: list[tuple[str, str]] = []
    if model.layer is not None:
        lay = model.layer.lay
        layers = [
            ("recent violence", f"{lay.violence[x, y]:.3f}"),
            ("  against civilians", f"{lay.violence_civilian[x, y]:.3f}"),
            ("  battles", f"{lay.violence_battle[x, y]:.3f}"),
            ("economy", f"{model.cells.economy[x, y]:.2f}"),
            ("infrastructure", f"{lay.infrastructure[x, y]:.2f}"),
            ("settlement / market", "yes" if lay.market[x, y] > 0 else "no"),
            ("calm markets within reach", f"{lay.access[x, y]:.2f}"),
        ]
    return CellReport(x, y, district_name(model, x, y), occupant, layers)


def cell_at(model: Any, px: float, py: float, width_px: float, height_px: float) -> tuple[int, int]:
    """The map cell under a click at ``(px, py)`` on the map image shown ``width_px`` x
    ``height_px`` pixels (image row 0 is the north edge, as :func:`map_rgb` draws it)."""
    cx = int(px * model.width / max(width_px, 1e-9))
    row = int(py * model.height / max(height_px, 1e-9))
    cx = min(max(cx, 0), model.width - 1)
    row = min(max(row, 0), model.height - 1)
    return cx, model.height - 1 - row


def feed_text(items: Sequence[FeedItem]) -> str:
    """The items as text, one per line (for the exercise's debrief and exports)."""
    return "\n".join(item.line() for item in items)
