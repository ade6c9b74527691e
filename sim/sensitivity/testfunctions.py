"""Analytic test functions that run through the sweep and sensitivity plumbing in place of
the model, so the plumbing (sampling, executors, the store, putting results back in sample
order, analysis) can be checked against indices known in closed form.

A test function takes the factor values by name and a seed and returns named outputs, like
a model run's summary. ``function = "ishigami"`` in a sensitivity file names one of
:data:`FUNCTIONS`, the registry of the project's own functions: a study file never names
code to import (it could run anything).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

#: Ishigami constants used in the literature (Ishigami & Homma 1990; Saltelli et al. 2008)
ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami(params: Mapping[str, float], seed: int) -> dict[str, float]:
    """Ishigami function of ``x1, x2, x3`` on [-pi, pi]^3; deterministic (seed unused)."""
    x1, x2, x3 = (float(params[k]) for k in ("x1", "x2", "x3"))
    y = math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * math.sin(x1)
    return {"Y": y}


def ishigami_noisy(params: Mapping[str, float], seed: int) -> dict[str, float]:
    """Ishigami plus Gaussian noise (sd ``noise_sd``, default 1) drawn from ``seed``: a
    stochastic model with known signal, to see what noise does to the indices."""
    noise = np.random.default_rng(np.random.SeedSequence(int(seed))).normal()
    return {"Y": ishigami(params, seed)["Y"] + float(params.get("noise_sd", 1.0)) * noise}


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> dict[str, list[float]]:
    """Analytic first-order and total indices of the Ishigami function (x1, x2, x3)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return {"S1": [v1 / var, v2 / var, 0.0], "ST": [(v1 + v13) / var, v2 / var, v13 / var]}


FUNCTIONS: dict[str, Callable[[Mapping[str, float], int], dict[str, float]]] = {
    "ishigami": ishigami,
    "ishigami_noisy": ishigami_noisy,
}
#: factors each built-in function reads (anything else is an error in the study file)
FUNCTION_FACTORS: dict[str, tuple[str, ...]] = {
    "ishigami": ("x1", "x2", "x3"),
    "ishigami_noisy": ("x1", "x2", "x3", "noise_sd"),
}


def resolve(name: str) -> Callable[[Mapping[str, float], int], dict[str, float]]:
    """The registered test function called ``name``; a :class:`ValueError` lists the
    registered ones otherwise."""
    if name not in FUNCTIONS:
        raise ValueError(f"function = {name!r}: not one of the project's test functions; "
                         f"use one of {', '.join(FUNCTIONS)}")
    return FUNCTIONS[name]


def call_function(name: str, params: Mapping[str, Any], seed: int) -> dict[str, float]:
    """Evaluate a registered test function on one sample row; outputs as plain floats."""
    out = resolve(name)(params, int(seed))
    return {str(k): float(v) for k, v in out.items()}
