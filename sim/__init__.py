"""PeaceSim: an agent-based model of peacekeeping missions and local communities."""

from typing import Any

from sim.engine.cache import configure_numba_cache

configure_numba_cache()  # before the compiled engine is first imported

from sim.config.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "run"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``run`` and ``RunResult`` load the engine on first use, so that reading and checking
    configuration files (``peacesim validate``) does not compile or import it."""
    if name in ("run", "RunResult"):
        from sim.io import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
