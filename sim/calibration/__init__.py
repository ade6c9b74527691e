"""Calibration of scenario parameters to observed statistics with ABC-SMC (pyabc).

:func:`calibrate` runs a calibration file (docs/calibration.md); the pieces are in
:mod:`sim.calibration.abc` (sampler, priors, driver), :mod:`sim.calibration.statistics`
(run and event-data statistics) and :mod:`sim.calibration.report` (outputs). pyabc is
imported only when a calibration runs.
"""

from sim.calibration.abc import CalibrationFailed, CalibrationResult, calibrate

__all__ = ["CalibrationFailed", "CalibrationResult", "calibrate"]
