"""Conflict event data in: ACLED and UCDP GED exports as one tidy table, a region and period
selected from it, and the statistics the model also reports (docs/data.md).

The tidy table (:data:`EVENT_COLUMNS`), one row per event:

========== ==============================================================================
date       day of the event (ACLED ``event_date``; UCDP ``date_start``)
kind       ``civilian`` (ACLED "Violence against civilians", UCDP type 3, one-sided),
           ``battle`` (ACLED "Battles", UCDP types 1 state-based and 2 non-state) or ``other``
fatalities ACLED ``fatalities``; UCDP ``best`` (the best estimate)
admin1/2   ACLED ``admin1``/``admin2``; UCDP ``adm_1``/``adm_2``
country    ``country``
lat, lon   ``latitude``, ``longitude`` (decimal degrees; NaN where the file has none)
actor      ACLED ``actor1``; UCDP ``side_a``
source     the format the row came from (``acled`` or ``ucdp-ged``)
========== ==============================================================================

The statistics (:func:`summarise`) cover the calendar months of the selected period, so a
calibration target computed here and the model's monthly outputs count the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.tables import (
    Box,
    DataError,
    Table,
    parse_date,
    parse_period,
    parse_region,
    region_hint,
    region_mask,
)

EVENT_FORMATS = ("acled", "ucdp-ged")
EVENT_COLUMNS = ("date", "kind", "fatalities", "admin1", "admin2", "country", "lat", "lon",
                 "actor", "source")
KINDS = ("civilian", "battle", "other")
#: region keys that select events by name
EVENT_REGION_KEYS = ("admin1", "admin2", "country")
ACLED_COLUMNS = ("event_date", "event_type", "actor1", "admin1", "admin2", "latitude",
                 "longitude", "fatalities")
UCDP_COLUMNS = ("date_start", "type_of_violence", "best", "side_a", "adm_1", "adm_2",
                "latitude", "longitude")
ACLED_KINDS = {"violence against civilians": "civilian", "battles": "battle"}
UCDP_KINDS = {1: "battle", 2: "battle", 3: "civilian"}
PER = 100_000  # the per-capita rates are per 100,000 people
EXIT_WINDOW = 12  # months compared before and after a mission's exit


# --------------------------------------------------------------------------- reading


def read_events(path: str | Path, format: str) -> pd.DataFrame:
    """Read an ACLED or UCDP GED CSV export into the tidy table (see the module docstring);
    every problem is a :class:`DataError` naming the file, row and column."""
    fmt = str(format).strip().lower()
    if fmt == "acled":
        return read_acled(path)
    if fmt in ("ucdp-ged", "ucdp_ged", "ucdp", "ged"):
        return read_ucdp_ged(path)
    if fmt in ("geo-pko", "geo_pko", "geopko"):
        raise DataError("format geo-pko holds deployments, not events: use "
                        "sim.evidence.read_deployments")
    raise DataError(f"unknown format {format!r}; allowed: acled, ucdp-ged, geo-pko")


def _tidy(table: Table, *, date: pd.Series, kind: pd.Series, fatalities: pd.Series,
          admin1: str, admin2: str, actor: str, source: str) -> pd.DataFrame:
    out = pd.DataFrame({
        "date": date.astype("datetime64[ns]"),
        "kind": kind.astype(object),
        "fatalities": fatalities.astype(np.int64),
        "admin1": table.text(admin1),
        "admin2": table.text(admin2),
        "country": table.text("country"),
        "lat": table.numbers("latitude", empty_ok=True, low=-90, high=90),
        "lon": table.numbers("longitude", empty_ok=True, low=-180, high=180),
        "actor": table.text(actor),
        "source": source,
    })
    out.attrs.update(path=str(table.path), format=source)
    return out


def read_acled(path: str | Path) -> pd.DataFrame:
    """ACLED export (data export tool or API, CSV): ``event_date`` as YYYY-MM-DD or
    '15 March 2019'; extra columns are ignored."""
    t = Table(path, "acled", ACLED_COLUMNS)
    event_type = t.text("event_type")
    empty = event_type == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataError(f"{t.path}: data row {i + 1}, column {t.names['event_type']}: empty "
                        "(expected an ACLED event type such as Battles)")
    kind = event_type.str.lower().map(ACLED_KINDS).fillna("other")
    return _tidy(t, date=t.dates("event_date"), kind=kind,
                 fatalities=t.numbers("fatalities", integer=True, low=0),
                 admin1="admin1", admin2="admin2", actor="actor1", source="acled")


def read_ucdp_ged(path: str | Path) -> pd.DataFrame:
    """UCDP GED CSV (``GEDEvent_v25_1.csv`` and earlier): ``type_of_violence`` 1, 2 or 3,
    fatalities from ``best``; extra columns are ignored."""
    t = Table(path, "ucdp-ged", UCDP_COLUMNS)
    tov = t.numbers("type_of_violence", integer=True, low=1, high=3)
    return _tidy(t, date=t.dates("date_start"), kind=tov.astype(int).map(UCDP_KINDS),
                 fatalities=t.numbers("best", integer=True, low=0),
                 admin1="adm_1", admin2="adm_2", actor="side_a", source="ucdp-ged")


# --------------------------------------------------------------------------- selection


def select(events: pd.DataFrame, region: Any = None, start: Any = None,
           end: Any = None) -> pd.DataFrame:
    """The events inside ``region`` (see :func:`sim.evidence.tables.parse_region`) and the
    period ``start``..``end`` (inclusive; YYYY-MM-DD or YYYY-MM). The period is kept in
    ``.attrs`` so that :func:`summarise` counts its months, quiet ones included. An empty
    selection is a :class:`DataError`."""
    reg = parse_region(region)
    s, e = parse_period(start, end)
    fmt = events.attrs.get("format", "event data")
    mask = region_mask(events, reg, EVENT_REGION_KEYS, fmt)
    if s is not None:
        mask &= events["date"] >= s
    if e is not None:
        mask &= events["date"] <= e
    out = events[mask].copy()
    out.attrs = dict(events.attrs, start=s, end=e, region=reg.text())
    if out.empty:
        where = events.attrs.get("path", "the events")
        period = f"{s.date() if s is not None else '...'} to {e.date() if e is not None else '...'}"
        hint = region_hint(events, reg) if not reg.empty else (
            f"the file covers {events['date'].min().date()} to {events['date'].max().date()}")
        raise DataError(f"{where}: no events in the selection (region {reg.text()}, period "
                        f"{period}); {hint}")
    return out


# --------------------------------------------------------------------------- districts


def district_ids(lat: Any, lon: Any, box: Box, districts: int, width: int | None = None,
                 height: int | None = None) -> np.ndarray:
    """District of each point in the model's ``districts x districts`` blocks laid over
    ``box``: ``bx * districts + by`` with ``bx`` counting west to east (longitude, the
    model's x) and ``by`` south to north (latitude, the model's y). Points outside the box
    (or without coordinates) get -1; the east and north edges belong to the last block.

    Without a grid size, ``bx = floor(fraction of the box's width * districts)`` (likewise
    ``by``). With the model's ``width`` and ``height`` in cells, a point goes to its cell
    first and the cell to its block as the model does, ``min(x * districts // width,
    districts - 1)`` -- the same unless the width is not a multiple of ``districts``.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    k = int(districts)
    inside = (lat >= box.lat_min) & (lat <= box.lat_max) & (lon >= box.lon_min) & \
             (lon <= box.lon_max)
    fx = np.nan_to_num((lon - box.lon_min) / (box.lon_max - box.lon_min))
    fy = np.nan_to_num((lat - box.lat_min) / (box.lat_max - box.lat_min))
    bx, by = _blocks(fx, k, width), _blocks(fy, k, height)
    return np.where(inside, bx * k + by, -1)


def _blocks(fraction: np.ndarray, k: int, cells: int | None) -> np.ndarray:
    if cells is None:
        return np.minimum(np.floor(fraction * k), k - 1).astype(np.int64)
    cell = np.minimum(np.floor(fraction * cells), cells - 1).astype(np.int64)
    return np.minimum(cell * k // cells, k - 1)


@dataclass(frozen=True)
class BoxDistricts:
    """The model's ``districts x districts`` grid of blocks laid over a lat/lon box."""

    box: Box
    districts: int
    width: int | None = None  # the model's grid in cells (see district_ids)
    height: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.districts, int | np.integer) or not 1 <= self.districts <= 20:
            raise DataError(f"districts {self.districts!r}: expected a whole number from 1 to "
                            "20 (districts per side, as the scenario's economy.districts)")
        for name in ("width", "height"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int | np.integer) or v < 1):
                raise DataError(f"grid {name} {v!r}: expected a whole number of cells >= 1")

    @property
    def count(self) -> int:
        return int(self.districts) ** 2

    def assign(self, events: pd.DataFrame) -> np.ndarray:
        return district_ids(events["lat"], events["lon"], self.box, self.districts,
                            self.width, self.height)

    def describe(self) -> str:
        k = self.districts
        return (f"{k} x {k} blocks over box {self.box.text()}, district = bx * {k} + by "
                "(bx west to east, by south to north)")


@dataclass(frozen=True)
class AdminDistricts:
    """Admin units mapped onto model districts: ``{admin name: district id}`` at ``level``
    (``admin1`` or ``admin2``); names match ignoring case. ``total`` (the number of
    districts) defaults to the largest id + 1."""

    mapping: Mapping[str, int]
    level: str = "admin2"
    total: int | None = None

    def __post_init__(self) -> None:
        if self.level not in ("admin1", "admin2"):
            raise DataError(f"district mapping level {self.level!r}: expected admin1 or admin2")
        if not self.mapping:
            raise DataError("district mapping: give at least one admin name")
        for name, d in self.mapping.items():
            if not isinstance(d, int | np.integer) or d < 0:
                raise DataError(f"district mapping {name!r}: {d!r} is not a district id >= 0")
        if self.total is not None and max(self.mapping.values()) >= self.total:
            raise DataError(f"district mapping: ids must be below the {self.total} districts")

    @property
    def count(self) -> int:
        return int(self.total if self.total is not None else max(self.mapping.values()) + 1)

    def assign(self, events: pd.DataFrame) -> np.ndarray:
        lookup = {str(k).strip().lower(): int(v) for k, v in self.mapping.items()}
        names = events[self.level].astype(str).str.strip().str.lower()
        return names.map(lookup).fillna(-1).astype(np.int64).to_numpy()

    def describe(self) -> str:
        return f"{self.level} names mapped onto {self.count} districts"


# --------------------------------------------------------------------------- statistics


def _month(value: Any, what: str) -> pd.Period:
    ts = parse_date(value, what=what)
    assert ts is not None
    return ts.to_period("M")


def months_of(events: pd.DataFrame, start: Any = None, end: Any = None) -> pd.PeriodIndex:
    """The calendar months a summary covers: from the month of the period's start to the
    month of its end, both included; a bound not given (here or by :func:`select`) is the
    month of the first (last) event."""
    s, e = parse_period(start, end)
    s = s if s is not None else events.attrs.get("start")
    e = e if e is not None else events.attrs.get("end")
    first = s.to_period("M") if s is not None else events["date"].min().to_period("M")
    last = e.to_period("M") if e is not None else events["date"].max().to_period("M")
    if last < first:
        raise DataError(f"period end {last} is before its start {first}")
    return pd.period_range(first, last, freq="M")


def monthly(events: pd.DataFrame, months: pd.PeriodIndex) -> pd.DataFrame:
    """Counts per calendar month (rows: ``months``, quiet months as zeros)."""
    civ = (events["kind"] == "civilian").to_numpy()
    bat = (events["kind"] == "battle").to_numpy()
    f = events["fatalities"].to_numpy()
    frame = pd.DataFrame({
        "month": events["date"].dt.to_period("M").to_numpy(),
        "events": 1,
        "fatalities": f,
        "civilian_events": civ.astype(np.int64),
        "civilian_fatalities": np.where(civ, f, 0),
        "battle_events": bat.astype(np.int64),
        "battle_fatalities": np.where(bat, f, 0),
    })
    table = frame.groupby("month").sum().reindex(months, fill_value=0)
    table.index.name = "month"
    return table.astype(np.int64)


def summarise(events: pd.DataFrame, population: float | None = None, exit_date: Any = None,
              districts: BoxDistricts | AdminDistricts | None = None, *, start: Any = None,
              end: Any = None, exit_window: int = EXIT_WINDOW) -> dict[str, Any]:
    """The statistics of a selection of events (docs/data.md, "The statistics").

    Rates are totals divided by the number of calendar months covered (:func:`months_of`);
    per-100k rates divide further by ``population`` / 100,000. With ``exit_date`` (a
    mission's exit; its month is the exit month): fatalities per month in the
    ``exit_window`` months after the exit month over those in the ``exit_window`` months
    before it (the exit month in neither), as ``relapse_ratio_civilian`` and
    ``relapse_ratio_battle`` -- the model's relapse ratio with data in place of violence;
    windows are cut to the months covered, and a ratio is None when either part is empty
    or nothing happened before. With ``districts``: each district's share of the events
    that fall in a district (``district_shares``, summing to 1).
    """
    if events.empty:
        raise DataError(f"{events.attrs.get('path', 'event data')}: no events to summarise")
    if population is not None and not (np.isfinite(population) and population > 0):
        raise DataError(f"population {population!r}: expected a number of people > 0")
    if not isinstance(exit_window, int) or exit_window < 1:
        raise DataError(f"exit window {exit_window!r}: expected a whole number of months >= 1")
    months = months_of(events, start, end)
    inside = events["date"].dt.to_period("M").between(months[0], months[-1])
    ev = events[inside.to_numpy()]
    table = monthly(ev, months)
    n = len(months)
    totals = {k: int(v) for k, v in table.sum().items()}
    out: dict[str, Any] = {
        "sources": sorted(set(ev["source"])) if len(ev) else sorted(set(events["source"])),
        "region": events.attrs.get("region", "everywhere"),
        "start": str(months[0]),
        "end": str(months[-1]),
        "months": n,
        "events": totals["events"],
        "fatalities": totals["fatalities"],
        "civilian_events": totals["civilian_events"],
        "civilian_fatalities": totals["civilian_fatalities"],
        "battle_events": totals["battle_events"],
        "battle_fatalities": totals["battle_fatalities"],
        "other_events": totals["events"] - totals["civilian_events"] - totals["battle_events"],
    }
    for key in ("events", "fatalities", "civilian_events", "civilian_fatalities",
                "battle_events", "battle_fatalities"):
        out[f"{key}_per_month"] = totals[key] / n
    if population is not None:
        out["population"] = float(population)
        for key in ("fatalities", "civilian_fatalities", "battle_fatalities"):
            out[f"{key}_per_100k_month"] = out[f"{key}_per_month"] / population * PER
    if exit_date is not None:
        out.update(_exit_trend(table, _month(exit_date, "exit date"), exit_window))
    if districts is not None:
        ids = districts.assign(ev)
        mapped = ids[ids >= 0]
        counts = np.bincount(mapped, minlength=districts.count)
        out["districts"] = districts.count
        out["district_mapping"] = districts.describe()
        out["district_events"] = [int(c) for c in counts]
        out["events_outside_districts"] = int((ids < 0).sum())
        out["district_shares"] = ([float(c) / len(mapped) for c in counts] if len(mapped)
                                  else None)
    out["monthly"] = [{"month": str(m), **{k: int(v) for k, v in row.items()}}
                      for m, row in table.iterrows()]
    return out


def _exit_trend(table: pd.DataFrame, exit_month: pd.Period, window: int) -> dict[str, Any]:
    before = [exit_month - i for i in range(window, 0, -1)]
    after = [exit_month + i for i in range(1, window + 1)]
    before = [m for m in before if m in table.index]
    after = [m for m in after if m in table.index]
    out: dict[str, Any] = {"exit_month": str(exit_month), "exit_window": window,
                           "exit_months_before": len(before), "exit_months_after": len(after)}
    for kind in ("civilian", "battle"):
        col = f"{kind}_fatalities"
        b = float(table.loc[before, col].mean()) if before else None
        a = float(table.loc[after, col].mean()) if after else None
        out[f"{col}_per_month_before_exit"] = b
        out[f"{col}_per_month_after_exit"] = a
        out[f"relapse_ratio_{kind}"] = a / b if a is not None and b else None
    return out
