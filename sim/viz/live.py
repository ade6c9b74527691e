"""What the trainer page plays: an exercise (:class:`sim.model.exercise.Exercise`) with its
event feed, the instructor's actions from this week on, the ghost of the world as it would
have gone without the last one, bookmarks and rewinds. No Solara here.

An action (an inject or a lever change) acts from the next week on, on the world on screen:
the past stays as the room saw it. The world as it would have gone without the action (the
*ghost*) is re-simulated in a background thread from the seed and the actions before it (the
exercise's own deterministic rebuild: a copy of the model in memory would not do, its arrays
are views of one another), then stepped along with the live world, so the charts can show,
as a dotted grey line, what would have happened without the decision just taken. A new
action replaces the ghost; a rewind or a reset drops it.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.config.scenario import ROLE_NAMES, ScenarioError
from sim.io.atomic import atomic_write_text
from sim.model.exercise import Exercise, ExerciseError, rebuild
from sim.viz.components import LAYERS, series
from sim.viz.feed import feed_text
from sim.viz.trainer import SCENARIOS_DIR, FeedModel, TrainerSettings, build_scenario

#: where exports go: ``$PEACESIM_EXPORT_DIR`` or results/exercises/ of the repository, one
#: folder per exercise
EXPORT_DIR_ENV = "PEACESIM_EXPORT_DIR"
EXPORT_ROOT = SCENARIOS_DIR.parent / "results" / "exercises"


def lever_values(old: TrainerSettings, new: TrainerSettings) -> dict[str, Any]:
    """The dotted scenario keys a lever change sets (a ``set`` action's ``values``): the
    overrides that differ between ``old`` and ``new``, role shares as one table. Raises
    :class:`ScenarioError` for levers that cannot be applied (all role weights 0)."""
    before, after = old.overrides(), new.overrides()
    out: dict[str, Any] = {}
    role_keys = [f"strategy.roles.{r}" for r in ROLE_NAMES]
    if any(before[k] != after[k] for k in role_keys):
        out["strategy.roles"] = {r: after[f"strategy.roles.{r}"] for r in ROLE_NAMES}
    for key, value in after.items():
        if key not in role_keys and before.get(key) != value:
            out[key] = value
    return out


class ExerciseRun:
    """The trainer page's run: an :class:`Exercise` of :class:`FeedModel` models built from
    the levers, plus the ghost. ``step()`` steps both; ``model`` is the world on screen."""

    def __init__(self, settings: TrainerSettings) -> None:
        self.settings = settings
        self.exercise = Exercise(build_scenario(settings), settings.seed, factory=FeedModel)
        self.ghost: FeedModel | None = None
        self.ghost_label = ""
        self._ghost_token = 0
        self._ghost_thread: threading.Thread | None = None
        self.running = True
        self.lock = threading.RLock()
        self.created = datetime.now()
        self.export_folder: Path | None = None

    @property
    def model(self) -> FeedModel:
        """The world on screen (a new object after a rewind)."""
        return self.exercise.model  # type: ignore[return-value]

    @property
    def steps(self) -> int:
        """Weeks simulated so far."""
        return int(self.model.steps)

    @property
    def week(self) -> int:
        """The week on screen (= ``steps``)."""
        return self.steps

    def step(self) -> None:
        """One week of the world and of its ghost."""
        with self.lock:
            self.model.step()
            if self.ghost is not None:
                self.ghost.step()

    # -------------------------------------------------------------- actions

    def apply(self, action: dict[str, Any], label: str = "") -> dict[str, Any]:
        """An inject or a lever change from this week on (see the module docstring); the
        world before it becomes the ghost. Raises :class:`ExerciseError` (a
        :class:`ScenarioError`) with the reason when the action is not valid, and then
        changes nothing."""
        with self.lock:
            before = copy.deepcopy(self.exercise.actions)
            week = self.steps
            logged = self.exercise.apply(action)  # checked first: nothing changes if wrong
            self.model.feed.log_events(self.model)  # the room sees it at once
            self._start_ghost(before, week, label or _describe(action))
            return logged

    def _start_ghost(self, actions: list[dict[str, Any]], week: int, label: str) -> None:
        """Re-simulate, in the background, the world without the newest action, and keep it
        in step with the live world once it has caught up."""
        self._ghost_token += 1
        token = self._ghost_token
        self.ghost = None
        self.ghost_label = label
        ex = self.exercise

        def build() -> None:
            ghost = rebuild(ex.scenario, ex.seed, actions, week, FeedModel)
            while True:
                with self.lock:
                    if token != self._ghost_token:
                        return  # replaced or dropped meanwhile
                    if ghost.steps >= self.steps:
                        self.ghost = ghost
                        return
                ghost.step()  # catch up with the live world, outside the lock

        self._ghost_thread = threading.Thread(target=build, name="peacesim-ghost",
                                              daemon=True)
        self._ghost_thread.start()

    def ghost_ready(self, timeout: float | None = None) -> bool:
        """Wait for the ghost being built (tests, exports); True once there is one."""
        thread = self._ghost_thread
        if thread is not None:
            thread.join(timeout)
        return self.ghost is not None

    def change_levers(self, new: TrainerSettings) -> dict[str, Any] | None:
        """Apply the levers of ``new`` from this week on (a ``set`` action of what changed);
        None if nothing changed. The settings on record become ``new``."""
        values = lever_values(self.settings, new)
        if not values:
            self.settings = new
            return None
        names = ", ".join(values)
        logged = self.apply({"kind": "set", "values": values}, f"before: {names}")
        self.settings = new
        return logged

    def bookmark(self, name: str) -> dict[str, Any]:
        """Mark this week (names unique in the current history)."""
        with self.lock:
            return self.exercise.bookmark(name)

    def bookmarks(self) -> dict[str, int]:
        """Bookmark name -> week."""
        return self.exercise.bookmarks()

    def rewind(self, name: str) -> FeedModel:
        """Back to a bookmark, by re-simulating from the seed with the actions logged before
        it; the ghost is dropped. Returns the new world."""
        with self.lock:
            model = self.exercise.rewind(name)
            self.drop_ghost()
            return model  # type: ignore[return-value]

    def drop_ghost(self) -> None:
        """No ghost any more (and none being built)."""
        with self.lock:
            self._ghost_token += 1
            self.ghost = None
            self.ghost_label = ""

    def actions(self) -> list[dict[str, Any]]:
        """The actions of the current history (injects, lever changes, bookmarks)."""
        return list(self.exercise.actions)

    def ghost_series(self) -> dict[str, Any] | None:
        """The ghost's charted series, or None without a ghost."""
        return None if self.ghost is None else series(self.ghost)


def replayed_run(settings: TrainerSettings, actions: list[dict[str, Any]], week: int,
                 cls: Callable[[TrainerSettings], ExerciseRun] = ExerciseRun) -> ExerciseRun:
    """A new run of ``settings`` (new levers at week 0, another context or seed) carrying the
    actions already taken: each re-applied at its week, bookmarks kept, then run to ``week``.
    Raises :class:`ScenarioError` when an action does not fit the new settings (the message
    names it), so the old run can stay on screen."""
    run = cls(settings)
    ex = run.exercise
    for action in actions:
        if action.get("kind") == "bookmark":
            ex.run_to(int(action["week"]))
            ex.bookmark(str(action["name"]))
            continue
        ex.run_to(int(action["tick"]) - 1)
        try:
            ex.apply({k: v for k, v in action.items() if k not in ("tick", "week")})
        except ExerciseError as exc:
            raise ScenarioError(f"week {action['tick']}: {exc}") from None
    ex.run_to(week)
    return run


# ------------------------------------------------------------------ exports


def export_dir(run: ExerciseRun) -> Path:
    """The exercise's export folder (made on first use): ``<root>/<scenario>-seed<seed>-
    <started>``, the root ``$PEACESIM_EXPORT_DIR`` or results/exercises/."""
    if run.export_folder is None:
        root = Path(os.environ.get(EXPORT_DIR_ENV) or EXPORT_ROOT)
        sc = run.exercise.scenario
        name = f"{sc.name}-seed{run.exercise.seed}-{run.created:%Y%m%d-%H%M%S}"
        run.export_folder = root / name
    run.export_folder.mkdir(parents=True, exist_ok=True)
    return run.export_folder


def _log(run: ExerciseRun, folder: Path, layer: str) -> list[Path]:
    return [run.exercise.save(folder / "exercise.json")]


def _series(run: ExerciseRun, folder: Path, layer: str) -> list[Path]:
    from sim.viz import exports

    return [exports.series_csv(run.exercise, folder / "series.csv"),
            exports.events_csv(run.exercise.events(), folder / "events.csv"),
            atomic_write_text(folder / "feed.txt", feed_text(run.model.feed.items) + "\n")]


def _map(run: ExerciseRun, folder: Path, layer: str) -> list[Path]:
    from sim.viz import exports

    return [exports.map_png(run.model, folder / f"map_week{run.steps}_{layer}.png", layer)]


def _animation(suffix: str) -> Callable[[ExerciseRun, Path, str], list[Path]]:
    def write(run: ExerciseRun, folder: Path, layer: str) -> list[Path]:
        from sim.viz import exports

        every = max(1, run.steps // 150)  # at most ~150 frames
        return [exports.animation(run.exercise, folder / f"animation_{layer}{suffix}", layer,
                                  every=every).path]
    return write


def _debrief(run: ExerciseRun, folder: Path, layer: str) -> list[Path]:
    from sim.viz import exports

    sc = run.exercise.scenario
    title = f"{sc.name}, seed {run.exercise.seed}: exercise debrief (week {run.steps})"
    return exports.debrief(run.exercise, folder / "debrief.png", pdf=folder / "debrief.pdf",
                           title=title).paths


#: the app's export buttons: label -> writer(run, folder, layer) -> files written
EXPORTS: dict[str, Callable[[ExerciseRun, Path, str], list[Path]]] = {
    "Exercise log (JSON)": _log,
    "Series (CSV)": _series,
    "Map (PNG)": _map,
    "Animation (GIF)": _animation(".gif"),
    "Animation (MP4)": _animation(".mp4"),
    "Debrief (PNG + PDF)": _debrief,
}


def write_export(run: ExerciseRun, what: str, folder: Path | None = None,
                 layer: str = "violence") -> list[Path]:
    """Write one of :data:`EXPORTS` of the run into ``folder`` (default: its export folder);
    returns the files written. Raises ValueError (the exports' own errors say why) for an
    export that cannot be made here, e.g. MP4 without ffmpeg."""
    if what not in EXPORTS:
        raise ValueError(f"export {what!r}: choose one of {', '.join(EXPORTS)}")
    if layer not in LAYERS:
        raise ValueError(f"layer {layer!r}: choose one of {', '.join(LAYERS)}")
    with run.lock:
        return EXPORTS[what](run, folder or export_dir(run), layer)


def _describe(action: dict[str, Any]) -> str:
    kind = action.get("kind", "")
    if kind == "set":
        return "before: " + ", ".join(action.get("values", {}))
    return f"before the {kind.replace('_', ' ')}"

