"""PeaceSim: an agent-based model of peacekeeping missions and local communities.

The public entry points are imported on first use (``from sim import run`` imports the engine
then, ``import sim`` alone imports nothing heavy and changes no process-wide setting)::

    from sim import load_scenario, run
    result = run(load_scenario("scenarios/baseline.toml"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "load_scenario": "sim.config.scenario",
    "Scenario": "sim.config.scenario",
    "ScenarioError": "sim.config.scenario",
    "run": "sim.io.runner",
    "RunResult": "sim.io.runner",
    "PeaceSimModel": "sim.model.model",
    "run_sweep": "sim.experiments.sweep",
    "compare": "sim.experiments.compare",
    "discover": "sim.experiments.discovery",
    "run_study": "sim.sensitivity.study",
    "calibrate": "sim.calibration",
    "optimize": "sim.experiments.optimize",
}
__all__ = [
    "PeaceSimModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "calibrate",
    "compare",
    "discover",
    "load_scenario",
    "optimize",
    "run",
    "run_study",
    "run_sweep",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ imports on demand
    from sim.calibration import calibrate
    from sim.config.scenario import Scenario, ScenarioError, load_scenario
    from sim.experiments.compare import compare
    from sim.experiments.discovery import discover
    from sim.experiments.optimize import optimize
    from sim.experiments.sweep import run_sweep
    from sim.io.runner import RunResult, run
    from sim.model.model import PeaceSimModel
    from sim.sensitivity.study import run_study


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
