"""What the trainer app changes and runs, without any user interface code.

The browser app (:mod:`sim.viz.app`) shows a trainer's levers: a context file, a strategy file and
a dozen sliders. Here they become a :class:`TrainerSettings` value, which becomes a validated
:class:`~sim.config.scenario.Scenario` (so a bad file or a bad combination is reported with the same
per-key message as ``peacesim validate``), which becomes a model. Keeping this free of Solara
lets the tests and the benchmark use it without a browser, and keeps model logic out of the UI.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import mesa

from sim.config.scenario import ROLE_NAMES, Scenario, ScenarioError, load_scenario, read_toml
from sim.model.model import PeaceSimModel
from sim.viz.feed import EventFeed, snapshot

#: the repository's scenario folder (contexts; strategies in its ``strategies/`` subfolder)
SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
#: ``peacesim viz SCENARIO`` hands the scenario to the app process through this variable
SCENARIO_ENV = "PEACESIM_VIZ_SCENARIO"
#: another folder of contexts (with ``strategies/``) for the pickers, e.g. a course's own
SCENARIOS_DIR_ENV = "PEACESIM_SCENARIOS_DIR"
DEFAULT_CONTEXT = "baseline.toml"

#: the share levers, in the order the app shows them
ROLE_LEVERS = ROLE_NAMES
#: strategy levers (``strategy.<name>``), each in [0, 1]
STRATEGY_LEVERS = ("cultural_competence", "restraint", "transparency", "early_warning")


@dataclass(frozen=True)
class TrainerSettings:
    """Everything a trainer can set: files, seed and the levers laid over the files.

    ``roles`` are weights, not shares: the sliders move independently and the shares are the
    weights divided by their sum, so no slider has to "make room" for another. A
    ``drawdown_start`` of 0 means the mission stays.
    """

    context: str
    strategy: str | None = None
    seed: int = 1
    roles: tuple[float, ...] = (0.5, 0.2, 0.1, 0.1, 0.05, 0.05, 0.0)
    cultural_competence: float = 0.5
    restraint: float = 0.8
    transparency: float = 0.3
    early_warning: float = 0.3
    pk_density: float = 0.03
    police_density: float = 0.015
    drawdown_start: int = 0
    adaptive: bool = False  # the mission re-posts units after community feedback (ODD 7.15)

    def replace(self, **changes: object) -> TrainerSettings:
        """A copy with some fields changed (the app's sliders each change one)."""
        return dataclasses.replace(self, **changes)

    def role_shares(self) -> dict[str, float]:
        """The role weights as shares summing to 1; all-zero weights are a user error."""
        total = float(sum(self.roles))
        if total <= 0:
            raise ScenarioError("role weights: at least one role needs a weight above 0")
        return {name: w / total for name, w in zip(ROLE_LEVERS, self.roles, strict=True)}

    def overrides(self) -> dict[str, object]:
        """The levers as dotted-key overrides for :func:`sim.config.scenario.load_scenario`."""
        out: dict[str, object] = {
            f"strategy.roles.{name}": share for name, share in self.role_shares().items()
        }
        out.update({f"strategy.{name}": getattr(self, name) for name in STRATEGY_LEVERS})
        out["peacekeepers.density"] = self.pk_density
        out["police.density"] = self.police_density
        out["mission.drawdown_start"] = self.drawdown_start or None
        out["strategy.adaptive"] = self.adaptive
        return out


def scenarios_dir() -> Path:
    """The folder the pickers list: ``$PEACESIM_SCENARIOS_DIR`` or the repository's."""
    return Path(os.environ.get(SCENARIOS_DIR_ENV) or SCENARIOS_DIR)


def list_contexts(folder: Path | None = None, extra: str | None = None) -> list[str]:
    """Context files the app offers: the peacekeeping scenarios in ``folder`` (the Epstein-only
    scenarios have no mission to steer, so they are left out), plus any file that cannot be
    read (so choosing it shows why), plus ``extra`` (the file given on the command line)."""
    out = []
    for path in sorted((scenarios_dir() if folder is None else folder).glob("*.toml")):
        try:
            kind = read_toml(path).get("model", "epstein")
        except ScenarioError:
            kind = None  # unreadable: listed, so the app can show the reason
        if kind != "epstein":
            out.append(str(path))
    if extra is not None and str(extra) not in out:
        out.insert(0, str(extra))
    return out


def list_strategies(folder: Path | None = None) -> list[str]:
    """Strategy files the app offers (``strategies/`` of the scenario folder)."""
    folder = scenarios_dir() / "strategies" if folder is None else folder
    return [str(p) for p in sorted(folder.glob("*.toml"))]


def settings_from_files(context: str, strategy: str | None = None,
                        seed: int | None = None) -> TrainerSettings:
    """Settings whose levers start where the files put them (so choosing a strategy moves
    the sliders to that strategy). Raises :class:`ScenarioError` for an invalid file or an
    Epstein-only context."""
    sc = load_scenario(context, strategy=strategy)
    if sc.model != "peacekeeping":
        raise ScenarioError(
            f"{context}: model = {sc.model!r}; the trainer app steers the peacekeeping model "
            "(choose a file with model = \"peacekeeping\", e.g. scenarios/baseline.toml)"
        )
    s = sc.strategy
    return TrainerSettings(
        context=str(context),
        strategy=None if strategy is None else str(strategy),
        seed=sc.run.seed if seed is None else int(seed),
        roles=tuple(float(getattr(s.roles, name)) for name in ROLE_LEVERS),
        cultural_competence=s.cultural_competence,
        restraint=s.restraint,
        transparency=s.transparency,
        early_warning=s.early_warning,
        pk_density=sc.peacekeepers.density,
        police_density=sc.police.density,
        drawdown_start=sc.mission.drawdown_start or 0,
        adaptive=s.adaptive,
    )


def build_scenario(settings: TrainerSettings) -> Scenario:
    """The validated scenario the settings describe; :class:`ScenarioError` says what is
    wrong (e.g. densities that do not fit on the grid)."""
    sc = load_scenario(settings.context, settings.overrides(), strategy=settings.strategy)
    if sc.model != "peacekeeping":
        raise ScenarioError(f"{settings.context}: the trainer app needs model = \"peacekeeping\"")
    return sc


def default_context() -> str:
    """The context the app opens with: ``$PEACESIM_VIZ_SCENARIO`` if set, else baseline."""
    return os.environ.get(SCENARIO_ENV) or str(scenarios_dir() / DEFAULT_CONTEXT)


def default_settings() -> TrainerSettings:
    """Settings of the default context with its own strategy."""
    return settings_from_files(default_context())


class FeedModel(PeaceSimModel):
    """The peacekeeping model as the app shows it: a lock held by each step (pictures take it
    to see whole ticks) and an event feed that reads what each step did. Built like
    :class:`PeaceSimModel` (``scenario, seed``), so an exercise can build it too."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.feed = EventFeed()
        super().__init__(scenario, seed=seed)

    def step(self) -> None:
        """One tick, under the model's lock; the event feed reads what it did."""
        with self.lock:
            before = snapshot(self)
            super().step()
            self.feed.observe(self, before)


class TrainerModel(FeedModel):
    """The peacekeeping model built from trainer settings (the one keyword argument, so a
    Reset can rebuild it with ``type(model)(settings=...)``)."""

    def __init__(self, settings: TrainerSettings | None = None) -> None:
        settings = default_settings() if settings is None else settings
        super().__init__(build_scenario(settings), seed=settings.seed)
        self.settings = settings


@dataclass(frozen=True)
class PairSettings:
    """The compare page: two sets of trainer settings on one context and seed."""

    a: TrainerSettings
    b: TrainerSettings

    def __post_init__(self) -> None:
        if (self.a.context, self.a.seed) != (self.b.context, self.b.seed):
            raise ValueError("the two sides of a comparison share their context and seed")

    def replace(self, **changes: object) -> PairSettings:
        """A copy with ``a`` and/or ``b`` changed."""
        return dataclasses.replace(self, **changes)


def pair_from_files(context: str, strategy_a: str | None, strategy_b: str | None,
                    seed: int | None = None) -> PairSettings:
    """Both sides with their strategy files' own levers; raises :class:`ScenarioError` if
    either combination is invalid."""
    a = settings_from_files(context, strategy_a, seed)
    return PairSettings(a, settings_from_files(context, strategy_b, a.seed))


def default_pair() -> PairSettings:
    """The default context with its first two strategy files side by side."""
    strategies = list_strategies()
    first = strategies[0] if strategies else None
    second = strategies[1] if len(strategies) > 1 else first
    return pair_from_files(default_context(), first, second)


class StrategyPair(mesa.Model):
    """Two models on the same context and seed with different strategies, stepped together.

    Being one Mesa model, it runs under SolaraViz's controller unchanged: one Step advances
    both sides, so they can never drift apart in time.
    """

    def __init__(self, settings: PairSettings | None = None) -> None:
        settings = default_pair() if settings is None else settings
        super().__init__(rng=settings.a.seed)  # unused: each side has its own streams
        self.settings = settings
        self.a = TrainerModel(settings.a)
        self.b = TrainerModel(settings.b)

    def step(self) -> None:
        """One tick of each side."""
        self.a.step()
        self.b.step()
