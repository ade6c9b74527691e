"""Peacekeeping deployments in: the Geo-PKO dataset (troops per location and month, coded
from the UN's deployment maps) and a summary of it (docs/data.md).

Geo-PKO v2.x spells its columns in lower case (``no.troops``, ``mission``, ``year``); v1.x
capitalised some (``No.troops``, ``Mission``); both read, as does ``no_troops``. A troop count
of ``unknown`` (as the dataset writes it) is kept as missing: the location counts as deployed,
its troops are not added.

The tidy table, one row per location on a map: ``date`` (first day of the map's month),
``mission``, ``location``, ``country``, ``lat``, ``lon``, ``troops`` (NaN when unknown),
``map`` (the ``source`` map's name, '' when the file has no such column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.tables import (
    DataError,
    Table,
    parse_period,
    parse_region,
    region_hint,
    region_mask,
)

GEO_PKO_COLUMNS = ("year", "month", "mission", "location", "latitude", "longitude", "no_troops")
DEPLOYMENT_REGION_KEYS = ("mission", "location", "country")
MONTH_NAMES = {name: i for i, name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}


def read_deployments(path: str | Path) -> pd.DataFrame:
    """Read a Geo-PKO CSV into the tidy deployment table (module docstring)."""
    t = Table(path, "geo-pko", GEO_PKO_COLUMNS)
    year = t.numbers("year", integer=True, low=1900, high=2100)
    month = _months(t)
    date = pd.to_datetime(pd.DataFrame({"year": year.astype(int), "month": month, "day": 1}))
    mission = t.text("mission")
    for col, values in (("mission", mission), ("location", t.text("location"))):
        empty = values == ""
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(f"{t.path}: data row {i + 1}, column {t.names[col]}: empty "
                            f"(every row needs a {col} name)")
    out = pd.DataFrame({
        "date": date.astype("datetime64[ns]"),
        "mission": mission,
        "location": t.text("location"),
        "country": t.text("country"),
        "lat": t.numbers("latitude", empty_ok=True, low=-90, high=90),
        "lon": t.numbers("longitude", empty_ok=True, low=-180, high=180),
        "troops": t.numbers("no_troops", integer=True, empty_ok=True, low=0,
                            missing_words=("unknown",)),
        "map": t.text("source"),
    })
    out.attrs.update(path=str(t.path), format="geo-pko")
    return out


def _months(t: Table) -> pd.Series:
    """``month`` as 1..12 from a number or an English month name (or its first 3 letters)."""
    raw = t.text("month").str.lower()
    by_name = raw.map(lambda s: next((i for n, i in MONTH_NAMES.items()
                                      if len(s) >= 3 and n.startswith(s)), None))
    numeric = pd.to_numeric(raw.where(by_name.isna(), None), errors="coerce")
    month = by_name.astype(float).fillna(numeric)
    bad = month.isna() | ~month.isin(range(1, 13))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{t.path}: data row {i + 1}, column {t.names['month']}: "
                        f"{t.df['month'].iloc[i]!r} is not a month (1 to 12 or a month name)")
    return month.astype(int)


def select_deployments(deployments: pd.DataFrame, region: Any = None, start: Any = None,
                       end: Any = None) -> pd.DataFrame:
    """Rows inside ``region`` (``mission=``, ``location=``, ``country=`` names and/or a box)
    whose month lies in the months of ``start``..``end``; empty is a :class:`DataError`."""
    reg = parse_region(region)
    s, e = parse_period(start, end)
    mask = region_mask(deployments, reg, DEPLOYMENT_REGION_KEYS, "geo-pko")
    month = deployments["date"].dt.to_period("M")
    if s is not None:
        mask &= month >= s.to_period("M")
    if e is not None:
        mask &= month <= e.to_period("M")
    out = deployments[mask].copy()
    out.attrs = dict(deployments.attrs, start=s, end=e, region=reg.text())
    if out.empty:
        where = deployments.attrs.get("path", "the deployments")
        hint = region_hint(deployments, reg) if not reg.empty else (
            f"the file covers {deployments['date'].min():%Y-%m} to "
            f"{deployments['date'].max():%Y-%m}")
        raise DataError(f"{where}: no deployments in the selection (region {reg.text()}, "
                        f"period {s.date() if s is not None else '...'} to "
                        f"{e.date() if e is not None else '...'}); {hint}")
    return out


def summarise_deployments(deployments: pd.DataFrame) -> dict[str, Any]:
    """Troops per month (mean and max over the months that have a map), locations, and the
    first and last month with troops -- the last is the mission's exit month, to pass as
    ``exit_date`` when summarising event data of the same region.

    A location that appears on two maps of one month counts once, with its larger troop
    number. Months without a map are unknown, not zero, so they are left out of the mean.
    """
    d = deployments
    month = d["date"].dt.to_period("M")
    per_location = (d.assign(month=month)
                    .groupby(["month", "mission", "location"], sort=True)["troops"]
                    .max())  # NaN only where every row of the location is unknown
    by_month = per_location.groupby(level="month")
    table = pd.DataFrame({"troops": by_month.sum(min_count=0),
                          "locations": by_month.size()})
    maps = d.assign(month=month).groupby("month")["map"].nunique()
    table["maps"] = maps.reindex(table.index).fillna(0).astype(int)
    with_troops = table.index[table["troops"] > 0]
    peak = table["troops"].idxmax()
    s, e = d.attrs.get("start"), d.attrs.get("end")
    first = s.to_period("M") if s is not None else month.min()
    last = e.to_period("M") if e is not None else month.max()
    out: dict[str, Any] = {
        "sources": ["geo-pko"],
        "region": d.attrs.get("region", "everywhere"),
        "missions": sorted(set(d["mission"])),
        "start": str(first),
        "end": str(last),
        "months": len(pd.period_range(first, last, freq="M")),
        "months_with_map": len(table),
        "locations": int(d[["mission", "location"]].drop_duplicates().shape[0]),
        "rows_unknown_troops": int(d["troops"].isna().sum()),
        "troops_mean": float(table["troops"].mean()),
        "troops_max": int(table["troops"].max()),
        "troops_max_month": str(peak),
        "first_month_with_troops": str(with_troops[0]) if len(with_troops) else None,
        "last_month_with_troops": str(with_troops[-1]) if len(with_troops) else None,
        "exit_month": str(with_troops[-1]) if len(with_troops) else None,
    }
    out["monthly"] = [{"month": str(m), "troops": int(r.troops), "locations": int(r.locations),
                       "maps": int(r.maps)} for m, r in table.iterrows()]
    return out
