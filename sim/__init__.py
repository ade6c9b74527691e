"""PeaceSim: an agent-based model of peacekeeping missions and local communities."""

from sim.engine.cache import configure_numba_cache

configure_numba_cache()  # before numba is imported by the engine modules

from sim.config.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from sim.io.runner import RunResult, run  # noqa: E402

__all__ = ["RunResult", "Scenario", "ScenarioError", "compare", "discover", "load_scenario",
           "run"]
__version__ = "0.1.0"

# the analysis entry points, imported on first use (matplotlib, EMA Workbench):
#   sim.compare(sweep_dir, reference=..., outcomes=..., headline=...) -> CompareResult
#   sim.discover(sweep_dir, outcome, above=... | below=..., strategy=..., ...) -> DiscoveryResult
_LAZY = {"compare": "sim.experiments.compare", "discover": "sim.experiments.discovery"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
