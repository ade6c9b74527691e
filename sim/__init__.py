"""PeaceSim: an agent-based model of peacekeeping missions and local communities."""

from typing import Any

from sim.engine.cache import configure_numba_cache

configure_numba_cache()  # before the compiled engine is first imported

from sim.config.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["RunResult", "Scenario", "ScenarioError", "calibrate", "compare", "discover",
           "load_scenario", "optimize", "run", "run_sweep"]
__version__ = "0.1.0"

# imported on first use: the engine (numba, Mesa) and the analysis entry points (matplotlib,
# EMA Workbench, pyabc), so that reading and checking configuration files stays light:
#   sim.run(scenario, seed=..., ticks=...) -> RunResult
#   sim.compare(sweep_dir, reference=..., outcomes=..., headline=...) -> CompareResult
#   sim.discover(sweep_dir, outcome, above=... | below=..., strategy=..., ...) -> DiscoveryResult
#   sim.calibrate(file, out=..., workers=..., resume=...) -> CalibrationResult
#   sim.run_sweep(experiment, out=..., workers=..., resume=...) -> SweepStats (.out: the folder)
#   sim.optimize(file, out=..., workers=..., resume=...) -> OptimizeResult (.front, ...)
_LAZY = {"run": "sim.io.runner", "RunResult": "sim.io.runner",
         "compare": "sim.experiments.compare", "discover": "sim.experiments.discovery",
         "calibrate": "sim.calibration", "run_sweep": "sim.experiments.sweep",
         "optimize": "sim.experiments.optimize"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
