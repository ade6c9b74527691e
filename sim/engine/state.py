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
                               self.scalars, *_no_zones(width * height))

    # --- zones: protection sites and roads, set once the landscape is drawn ---
    def set_zones(self, sites: np.ndarray, site_of: np.ndarray, roads: np.ndarray,
                  road_nbr: np.ndarray) -> None:
        """Protection sites (flat cells, and the site whose area holds each cell) and the road
        network (flat cells and their road neighbours) the kernels see (ODD 5, 7.23, 7.24)."""
        sites = np.ascontiguousarray(sites, dtype=np.int64)
        roads = np.ascontiguousarray(roads, dtype=np.int64)
        self.packed = self.packed._replace(
            sites=sites, site_of=np.ascontiguousarray(site_of, dtype=np.int64),
            site_load=np.zeros(sites.size, np.int64), site_aid=np.zeros(sites.size),
            roads=roads, road_nbr=np.ascontiguousarray(road_nbr, dtype=np.int64).reshape(-1, 4),
            road_tmp=np.zeros(roads.size))

    @property
    def sites(self) -> np.ndarray:
        """Flat cells of the protection sites (ODD 7.23)."""
        return self.packed.sites

    @property
    def roads(self) -> np.ndarray:
        """Flat cells of the road network (ODD 7.24)."""
        return self.packed.roads

    def __getattr__(self, name: str) -> np.ndarray:
        if name in K.LAYER_NAMES:
            return self.f[K.LAYER_NAMES.index(name)]
        raise AttributeError(name)


def _no_zones(cells: int) -> tuple[np.ndarray, ...]:
    """No protection sites and no roads: the zone fields of ``layout.Layers`` (every cell
    outside any site)."""
    none = np.zeros(0, np.int64)
    return (none, np.full(cells, -1, np.int64), none.copy(), np.zeros(0), none.copy(),
            np.zeros((0, 4), np.int64), np.zeros(0))
