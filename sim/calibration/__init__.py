"""Calibration of scenario parameters to observed statistics with ABC-SMC (pyabc).

:func:`calibrate` runs a calibration file (docs/calibration.md); the pieces are in
:mod:`sim.calibration.abc` (sampler, priors, driver), :mod:`sim.calibration.statistics`
(run and event-data statistics) and :mod:`sim.calibration.report` (outputs). The driver is
imported on first use, and pyabc only when a calibration runs: checking a calibration file
(which needs :mod:`sim.calibration.statistics`) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CalibrationFailed", "CalibrationResult", "calibrate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim.calibration import abc

        return getattr(abc, name)
    raise AttributeError(f"module 'sim.calibration' has no attribute {name!r}")
