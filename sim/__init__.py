"""PeaceSim: an agent-based model of peacekeeping missions and local communities."""

from sim.engine.cache import configure_numba_cache

configure_numba_cache()  # before numba is imported by the engine modules

from typing import Any  # noqa: E402

from sim.config.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from sim.io.runner import RunResult, run  # noqa: E402


def calibrate(*args: Any, **kwargs: Any) -> Any:
    """:func:`sim.calibration.calibrate` (imported on first use: it needs pyabc)."""
    from sim.calibration import calibrate as _calibrate

    return _calibrate(*args, **kwargs)


__all__ = ["RunResult", "Scenario", "ScenarioError", "calibrate", "load_scenario", "run"]
__version__ = "0.1.0"
