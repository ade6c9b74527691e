"""Named views onto the engine's state tables, for Python code (model, agents, plots, tests).

The kernels see two arrays per agent table (``layout.Agents``) and one stack of planes for
the cell layers (``layout.Layers``); Python code reads and writes them by name here:
``table.x`` is a writable view of the x column, ``table.alive`` a boolean copy.
"""

from __future__ import annotations

import numpy as np

from sim.engine import layout as K


class AgentTable:
    """One row per agent slot; columns by name (see ``layout.INT_COLUMNS``/``FLOAT_COLUMNS``)."""

    def __init__(self, capacity: int) -> None:
        self.i = np.zeros((capacity, K.N_INT), np.int32)
        self.f = np.zeros((capacity, K.N_FLOAT), np.float64)
        self.i[:, K.I_X] = -1
        self.i[:, K.I_Y] = -1
        self.i[:, K.I_UID] = -1
        self.i[:, K.I_HOME] = -1
        self.packed = K.Agents(self.i, self.f)

    def __len__(self) -> int:
        return self.i.shape[0]

    def __getattr__(self, name: str) -> np.ndarray:
        if name in K.INT_COLUMNS:
            col = self.i[:, K.INT_COLUMNS[name]]
            return col != 0 if name in K.BOOL_COLUMNS else col
        if name in K.FLOAT_COLUMNS:
            return self.f[:, K.FLOAT_COLUMNS[name]]
        raise AttributeError(name)

    def set(self, name: str, index: object, value: object) -> None:
        """Write a column (works for boolean columns too)."""
        if name in K.INT_COLUMNS:
            self.i[index, K.INT_COLUMNS[name]] = value
        else:
            self.f[index, K.FLOAT_COLUMNS[name]] = value


class LayerTable:
    """The cell layers by name: ``layers.violence`` is a writable ``(width, height)`` view;
    ``layers.tips`` the tip table (``sim.rules.information.TIP_COLUMNS``), ``markets`` the
    flat cells of the settlements."""

    def __init__(self, width: int, height: int, factions: int, tip_capacity: int = 1,
                 markets: np.ndarray | None = None) -> None:
        self.f = np.zeros((K.N_LAYERS, width, height), np.float64)
        self.comb_own = np.zeros((factions, width, height), np.float64)
        self.district = np.zeros((width, height), np.int16)
        self.tips = np.zeros((max(1, tip_capacity), K.N_TIP), np.int64)
        self.markets = np.zeros(0, np.int64) if markets is None else \
            np.ascontiguousarray(markets, dtype=np.int64)
        work = np.zeros((K.n_work_planes(factions), width, height), np.float64)
        self.scalars = np.zeros(K.N_SCALARS, np.float64)
        self.packed = K.Layers(self.f, self.comb_own, work, np.zeros(height, np.float64),
                               self.tips, self.markets, np.zeros_like(self.markets),
                               self.scalars)

    def __getattr__(self, name: str) -> np.ndarray:
        if name in K.LAYER_NAMES:
            return self.f[K.LAYER_NAMES.index(name)]
        raise AttributeError(name)
