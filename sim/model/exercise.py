"""A training exercise: a model driven by an instructor, its action log, bookmarks, rewind
and replay.

Contract (for the app and the CLI; no user interface code here)
----------------------------------------------------------------

``Exercise(scenario, seed=None, factory=None)`` builds a model of ``scenario`` (a validated
:class:`~sim.config.scenario.Scenario`) from ``seed`` (default ``scenario.run.seed``) with
``factory(scenario, seed)`` (default :class:`~sim.model.model.PeaceSimModel`; the app may
pass a factory of its own model class). Its attributes and methods:

* ``exercise.model``: the model now. :meth:`Exercise.rewind` replaces it with a new object:
  re-read it after a rewind. The app may step it directly (``model.step()``) or call
  :meth:`Exercise.step`; ``exercise.week`` is ``model.steps``, the week the map shows.
* ``apply(action) -> dict``: an inject or a lever change, from this week on. It acts on the
  next tick (``tick = week + 1``) and is applied at once, so the map shows it before the next
  step; it is validated like a scenario's ``[[events]]`` table against the scenario in force
  (:class:`~sim.config.scenario.ScenarioError`, one line per problem, when it is wrong).
  Returns the recorded action, with its ``week`` (when it was taken) and ``tick`` (week + 1,
  the first tick it acts on). Its effect on the world is in
  ``exercise.events()`` (the model's event records, each with a sentence in ``text``).
* ``bookmark(name) -> dict``: marks this week (names are unique in the current history).
* ``bookmarks() -> dict[str, int]``: bookmark name -> week.
* ``rewind(name) -> model``: back to the bookmark's week by re-simulating from the seed with
  the actions logged before the bookmark; later actions leave the current history (they are
  kept in the log's ``rewinds`` record, nothing is lost). Returns the new model.
* ``log() -> dict`` and ``save(path)``: the exercise log (below), written atomically.
* ``Exercise.from_log(log_or_path, factory=None)``: the exercise a log describes, re-simulated
  to its last week (for rewinds and exports after a restart).
* ``timeseries()``: the per-week table so far (as ``peacesim run`` writes it).

Actions are dictionaries, the same as a scenario's ``[[events]]`` tables without ``tick``
(the exercise adds ``week`` and ``tick`` when it logs them)::

    {"kind": "attack", "settlement": 3, "attackers": 6}          # or "settlement": [x, y],
                                                                 # or "district": 5
    {"kind": "abuse_scandal", "district": 2, "trust_loss": 0.3}  # "target": "police"
    {"kind": "withdraw_units", "share": 0.5}                      # "role": "patrol"
    {"kind": "reinforce_armed_group", "fighters": 20}             # "faction": 0
    {"kind": "legitimacy_shock", "delta": -0.2}
    {"kind": "programme_change", "programme_rate": 0.02}          # or "factor": 0.5
    {"kind": "set", "values": {"strategy.restraint": 0.4}}        # lever changes
    {"kind": "bookmark", "name": "before the attack", "week": 40} # written by bookmark()

Every action may carry a ``note`` (free text shown in the event table and the debrief). A
lever change is a ``set`` action with the levers' dotted keys (role shares together, e.g.
``{"strategy.roles": {"patrol": 0.6, "engagement": 0.4}}``; a drawdown that starts now is
``{"mission.drawdown_start": week + 1}``). Values equal to those in force are accepted
whatever the key, so a lever panel may send all its levers (e.g. ``TrainerSettings.overrides()``);
only the changed ones change the world.

The exercise log (JSON, ``format = "peacesim-exercise"``, ``version = 1``) holds the full
resolved ``scenario`` (its own ``[[events]]`` included), the ``seed``, the ``week`` reached,
the ordered ``actions`` of the current history (injects and lever changes with the ``week``
they were taken and their ``tick``, bookmarks with their ``week``), the ``rewinds`` (each
with the actions it discarded), the actions' effects (``events``) and
``timeseries_sha256``, the digest of the per-week table at ``week``. :func:`replay`
(``peacesim replay LOG``) re-runs it: the scenario with the actions added as events (after
the scenario's own events of the same tick), for ``week`` ticks; the table it gives is bit
for bit the exercise's.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sim.config.base import MAX_FILE_BYTES, Problem, format_problems, problems_of, short_repr
from sim.config.scenario import (
    Event,
    Scenario,
    ScenarioError,
    build_scenario,
    event_problems,
    scenario_from_dump,
)
from sim.io.atomic import atomic_write_text
from sim.io.recorder import summarise, timeseries, timeseries_digest
from sim.io.runner import RunResult
from sim.model.model import PeaceSimModel

LOG_FORMAT = "peacesim-exercise"
LOG_VERSION = 1
#: what the factory of an exercise's models looks like
Factory = Callable[[Scenario, int], PeaceSimModel]


class ExerciseError(ScenarioError):
    """An action, bookmark or log that cannot be used; the message says why (CLI exit 2)."""


def _lock(model: Any) -> AbstractContextManager[Any]:
    lock = getattr(model, "lock", None)
    return nullcontext() if lock is None else lock


def with_actions(scenario: Scenario, actions: list[dict[str, Any]]) -> Scenario:
    """``scenario`` with ``actions`` (injects and lever changes; bookmarks are skipped) added
    to its events, after the scenario's own events of the same tick (the model applies the
    events of a tick in the order of the list, sorted by tick)."""
    injects = [_event_dict(a) for a in actions if a.get("kind") != "bookmark"]
    if not injects:
        return scenario
    data = scenario.model_dump(exclude_unset=True, mode="json")
    data["events"] = [e.model_dump(exclude_none=True, mode="json") for e in scenario.events]
    data["events"] += injects
    data["events"].sort(key=lambda e: e["tick"])  # stable: the scenario's own first
    return build_scenario(data, "exercise")


def _event_dict(action: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in action.items() if k != "week"}


class Exercise:
    """A model under an instructor's control (see the module docstring for the contract)."""

    def __init__(self, scenario: Scenario, seed: int | None = None,
                 factory: Factory | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.run.seed if seed is None else int(seed)
        self.factory: Factory = factory or PeaceSimModel
        self.actions: list[dict[str, Any]] = []
        self.rewinds: list[dict[str, Any]] = []
        self.model = self.factory(scenario, self.seed)

    # ------------------------------------------------------------------ time

    @property
    def week(self) -> int:
        """Weeks simulated so far (the week the map shows)."""
        return int(self.model.steps)

    def step(self, weeks: int = 1) -> None:
        """Advance ``weeks`` weeks."""
        for _ in range(int(weeks)):
            self.model.step()

    def run_to(self, week: int) -> None:
        """Advance to ``week`` (no-op if already there; it never goes back: see rewind)."""
        self.step(max(0, int(week) - self.week))

    # ------------------------------------------------------------------ actions

    def check(self, action: dict[str, Any]) -> Event:
        """``action`` as the event it will be at the next tick, checked like a scenario's
        ``[[events]]`` table against the scenario in force; raises :class:`ExerciseError`."""
        if not isinstance(action, dict):
            raise ExerciseError(f"action: expected a table of keys, got {short_repr(action)}")
        if "tick" in action or "week" in action:
            raise ExerciseError("action: tick and week are filled in by the exercise (an "
                                "action acts from the next tick on); leave them out")
        data = {**action, "tick": self.week + 1}
        try:
            ev = Event.model_validate(data)
        except ValidationError as exc:
            raise ExerciseError(format_problems("action", "action", problems_of(
                exc, Event))) from None
        problems = event_problems(self.model.scenario_config, [ev])
        if problems:
            raise ExerciseError(format_problems("action", "action", [
                Problem("(top level)", p.replace("events[0].", "", 1), show_value=False)
                for p in problems]))
        return ev

    def apply(self, action: dict[str, Any]) -> dict[str, Any]:
        """Apply an inject or a lever change from this week on (it acts on the next tick and
        is applied at once); returns the action as logged, with its ``week`` and ``tick``."""
        if isinstance(action, dict) and action.get("kind") == "bookmark":
            return self.bookmark(str(action.get("name", "")))
        ev = self.check(action)
        with _lock(self.model):
            self.model.inject(ev)
        logged = {"week": self.week, **ev.model_dump(exclude_none=True, mode="json")}
        if not logged.get("note"):
            logged.pop("note", None)
        self.actions.append(logged)
        return logged

    def events(self) -> list[dict[str, Any]]:
        """What the events did so far, one record each (tick, kind, text, event, outcome):
        the scenario's own and the actions', in the order applied."""
        return list(self.model.event_log)

    # ------------------------------------------------------------------ bookmarks

    def bookmarks(self) -> dict[str, int]:
        """Bookmark name -> week, in the current history."""
        return {a["name"]: a["week"] for a in self.actions if a["kind"] == "bookmark"}

    def bookmark(self, name: str) -> dict[str, Any]:
        """Mark this week under ``name`` (unique); returns the logged bookmark."""
        name = str(name).strip()
        if not name or len(name) > 100:
            raise ExerciseError(f"bookmark: name = {short_repr(name)}: give 1-100 characters")
        if name in self.bookmarks():
            raise ExerciseError(f"bookmark: name = {name!r} is taken (week "
                                f"{self.bookmarks()[name]}); choose another name")
        mark = {"kind": "bookmark", "name": name, "week": self.week}
        self.actions.append(mark)
        return mark

    def rewind(self, name: str) -> PeaceSimModel:
        """Back to bookmark ``name``: a new model, re-simulated from the seed with the actions
        logged before the bookmark, at the bookmark's week. Returns it (also
        ``self.model``)."""
        marks = [i for i, a in enumerate(self.actions)
                 if a["kind"] == "bookmark" and a["name"] == name]
        if not marks:
            known = ", ".join(repr(n) for n in self.bookmarks()) or "none yet"
            raise ExerciseError(f"rewind: no bookmark {name!r} (bookmarks: {known})")
        i = marks[0]
        kept, dropped = self.actions[: i + 1], self.actions[i + 1:]
        week = int(self.actions[i]["week"])
        model = rebuild(self.scenario, self.seed, kept, week, self.factory)
        self.rewinds.append({"to": name, "week": week, "left_week": self.week,
                             "discarded": copy.deepcopy(dropped)})
        self.actions = kept
        self.model = model
        return model

    # ------------------------------------------------------------------ outputs

    def timeseries(self) -> pd.DataFrame:
        """The per-week table so far (tick 0 is the set-up)."""
        with _lock(self.model):
            return timeseries(self.model)

    def log(self) -> dict[str, Any]:
        """The exercise log (see the module docstring); plain JSON data."""
        import sim

        with _lock(self.model):
            ts = timeseries(self.model)
            events = copy.deepcopy(self.model.event_log)
        scenario = self.scenario.model_dump(mode="json")
        scenario["events"] = [e.model_dump(exclude_none=True, mode="json")
                              for e in self.scenario.events]
        return {
            "format": LOG_FORMAT,
            "version": LOG_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "peacesim_version": sim.__version__,
            "scenario": scenario,
            "seed": self.seed,
            "week": int(len(ts) - 1),
            "actions": copy.deepcopy(self.actions),
            "rewinds": copy.deepcopy(self.rewinds),
            "events": _jsonable(events),
            "timeseries_sha256": timeseries_digest(ts),
        }

    def save(self, path: str | Path) -> Path:
        """Write the log as JSON, atomically (a crash leaves the old file or the new one)."""
        text = json.dumps(self.log(), indent=2, allow_nan=False)
        return atomic_write_text(path, text + "\n")

    @classmethod
    def from_log(cls, log: dict[str, Any] | str | Path,
                 factory: Factory | None = None) -> Exercise:
        """The exercise a log describes, re-simulated to its last week."""
        data = read_log(log) if isinstance(log, str | Path) else check_log(log)
        ex = cls(data["scenario_object"], data["seed"], factory)
        ex.model = rebuild(ex.scenario, ex.seed, data["actions"], data["week"], ex.factory)
        ex.actions = copy.deepcopy(data["actions"])
        ex.rewinds = copy.deepcopy(data["rewinds"])
        return ex


def _jsonable(obj: Any) -> Any:
    """Event records as plain JSON (numpy numbers to Python, tuples to lists)."""
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item")
                                 else list(o)))


def rebuild(scenario: Scenario, seed: int, actions: list[dict[str, Any]], week: int,
            factory: Factory | None = None) -> PeaceSimModel:
    """A model at ``week`` of the history ``actions``: built from the scenario with the
    actions as its events (:func:`with_actions`) and stepped ``week`` times."""
    model = (factory or PeaceSimModel)(with_actions(scenario, actions), seed)
    for _ in range(week):
        model.step()
    if any(a.get("tick") == week + 1 for a in actions):
        # actions taken at this week were applied at once, before the next step
        model.apply_events(week + 1)
        model.inject_done()
    return model


def history(log: dict[str, Any], every: int = 1) -> Iterator[PeaceSimModel]:
    """The model of a (checked) log at weeks 0, ``every``, 2 ``every``, ... and at its last
    week, re-simulated (one model, yielded after each of those weeks: read it, do not keep
    it)."""
    data = check_log(log)
    model = PeaceSimModel(with_actions(data["scenario_object"], data["actions"]), data["seed"])
    yield model
    for week in range(1, data["week"] + 1):
        model.step()
        if week % every == 0 or week == data["week"]:
            yield model


# --------------------------------------------------------------------------- logs


def read_log(path: str | Path) -> dict[str, Any]:
    """Read and check an exercise log file (:func:`check_log`); every failure is an
    :class:`ExerciseError` naming the file."""
    p = Path(path)
    try:
        if not p.is_file():
            raise ExerciseError(f"{p}: {'is a folder' if p.is_dir() else 'file not found'}; "
                                "expected an exercise log (JSON)")
        raw = p.read_bytes()[: MAX_FILE_BYTES * 8 + 1]
    except OSError as exc:
        raise ExerciseError(f"{p}: cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES * 8:
        raise ExerciseError(f"{p}: larger than {MAX_FILE_BYTES * 8 // 2**20} MiB; not an "
                            "exercise log")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExerciseError(f"{p}: not a JSON exercise log ({exc})") from None
    return check_log(data, str(p))


def check_log(data: Any, source: str = "exercise log") -> dict[str, Any]:
    """The log's content, checked: format and version, a valid scenario, a seed, the week
    reached, and actions that are valid events in order (ticks that do not decrease,
    bookmarks at the week their place in the history says). Adds ``scenario_object``."""
    if not isinstance(data, dict) or data.get("format") != LOG_FORMAT:
        raise ExerciseError(f"{source}: not an exercise log (format = {LOG_FORMAT!r} missing)")
    if data.get("version") != LOG_VERSION:
        raise ExerciseError(f"{source}: version = {short_repr(data.get('version'))}: this "
                            f"peacesim reads exercise logs of version {LOG_VERSION}")
    out = dict(data)
    for key, low in (("seed", 0), ("week", 0)):
        v = data.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ExerciseError(f"{source}: {key} = {short_repr(v)}: expected a whole number "
                                f">= {low}")
    actions = data.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        raise ExerciseError(f"{source}: actions = {short_repr(actions)}: expected a list of "
                            "tables")
    rewinds = data.get("rewinds", [])
    if not isinstance(rewinds, list):
        raise ExerciseError(f"{source}: rewinds = {short_repr(rewinds)}: expected a list")
    sc = scenario_from_dump(data.get("scenario"), f"{source}: scenario")
    week = data["week"]
    first_tick, first_week = 1, 0  # what the history so far allows next
    for i, a in enumerate(actions):
        if a.get("kind") == "bookmark":
            w = a.get("week")
            if not isinstance(a.get("name"), str) or not isinstance(w, int) \
                    or isinstance(w, bool) or not first_week <= w <= week:
                raise ExerciseError(f"{source}: actions[{i}]: a bookmark needs a name and the "
                                    f"week it marks, in order ({first_week}-{week})")
            first_tick, first_week = w + 1, w
            continue
        tick = a.get("tick")
        if not isinstance(tick, int) or isinstance(tick, bool) \
                or not first_tick <= tick <= week + 1:
            raise ExerciseError(f"{source}: actions[{i}].tick = {short_repr(tick)}: actions "
                                f"are logged in order, here at ticks {first_tick}-{week + 1}")
        if a.get("week", tick - 1) != tick - 1:
            raise ExerciseError(f"{source}: actions[{i}].week = {short_repr(a.get('week'))}: "
                                f"an action at tick {tick} was taken at week {tick - 1}")
        first_tick, first_week = tick, tick - 1
    try:
        with_actions(sc, actions)
    except ScenarioError as exc:
        raise ExerciseError(f"{source}: the actions are not valid events: {exc}") from None
    out["scenario_object"] = sc
    out["rewinds"] = rewinds
    return out


def replay(log: dict[str, Any] | str | Path) -> RunResult:
    """Re-run an exercise log: the scenario with its actions as events, for the log's weeks
    (no check of the run's length: an exercise may stop anywhere). The result's table is
    the exercise's, bit for bit; ``summary`` as ``peacesim run`` computes it."""
    data = read_log(log) if isinstance(log, str | Path) else check_log(log)
    sc = with_actions(data["scenario_object"], data["actions"])
    model = PeaceSimModel(sc, data["seed"])
    for _ in range(data["week"]):
        model.step()
    ts = timeseries(model)
    return RunResult(scenario=sc, seed=data["seed"], ticks=data["week"], timeseries=ts,
                     summary=summarise(ts, model.scenario_config, data["seed"]),
                     model=model, events=list(model.event_log))
