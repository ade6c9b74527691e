"""The engine: state tables, grid and fields, and the order in which rules run (no model
logic). Importing it registers where numba caches the package's kernels
(:mod:`sim.engine.cache`), before any kernel is defined."""

from sim.engine.cache import install

install()
