"""Stand-in for ``sim.evidence.eventdata`` until that module is merged (then delete this file).

The same three functions with the same interface, reduced to what a calibration target needs:
:func:`read_events` (ACLED or UCDP GED CSV to one table: date, kind, fatalities, admin1,
admin2, country), :func:`select` (a region ``"admin1=NAME"``, ``"admin2=A,B"`` or
``"country=NAME"``, and a period) and :func:`summarise` (totals and monthly rates over the
calendar months of the selection, per 100,000 people with ``population``). Errors are
``ValueError`` with a one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

PER = 100_000
_COLUMNS = {
    "acled": {"date": "event_date", "fatalities": "fatalities", "admin1": "admin1",
              "admin2": "admin2", "country": "country", "kind": "event_type"},
    "ucdp-ged": {"date": "date_start", "fatalities": "best", "admin1": "adm_1",
                 "admin2": "adm_2", "country": "country", "kind": "type_of_violence"},
}


def _kind(fmt: str, value: Any) -> str:
    if fmt == "acled":
        return {"violence against civilians": "civilian", "battles": "battle"}.get(
            str(value).strip().lower(), "other")
    return {"1": "battle", "2": "battle", "3": "civilian"}.get(str(value).strip(), "other")


def read_events(path: str | Path, format: str) -> pd.DataFrame:
    """One row per event: date, kind (civilian | battle | other), fatalities, places."""
    fmt = str(format).strip().lower()
    if fmt not in _COLUMNS:
        raise ValueError(f"unknown format {format!r}; allowed: acled, ucdp-ged")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as CSV ({exc})") from None
    cols = _COLUMNS[fmt]
    missing = [c for c in cols.values() if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)} for format {fmt}")
    date = pd.to_datetime(raw[cols["date"]], errors="coerce", format="mixed")
    fat = pd.to_numeric(raw[cols["fatalities"]], errors="coerce")
    for name, bad in (("date", date.isna()), ("fatalities", fat.isna() | (fat < 0))):
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 1
            col = cols[name]
            raise ValueError(f"{path}: data row {row}, column {col}: "
                             f"{raw[col].iloc[row - 1]!r} is not a valid {name}")
    out = pd.DataFrame({"date": date, "kind": [_kind(fmt, v) for v in raw[cols["kind"]]],
                        "fatalities": fat.astype("int64"), "admin1": raw[cols["admin1"]],
                        "admin2": raw[cols["admin2"]], "country": raw[cols["country"]],
                        "source": fmt})
    out.attrs = {"path": str(path), "format": fmt}
    return out


def select(events: pd.DataFrame, region: Any = None, start: Any = None,
           end: Any = None) -> pd.DataFrame:
    """The events in ``region`` and ``start``..``end`` (inclusive); empty is an error."""
    mask = pd.Series(True, index=events.index)
    if region:
        key, sep, names = str(region).partition("=")
        key = key.strip().lower()
        if not sep or key not in ("admin1", "admin2", "country"):
            raise ValueError(f"region {region!r}: expected admin1=NAME, admin2=NAME or "
                             "country=NAME")
        wanted = {n.strip().lower() for n in names.split(",") if n.strip()}
        mask &= events[key].str.strip().str.lower().isin(wanted)
    s = pd.Timestamp(start) if start is not None else None
    e = pd.Timestamp(end) if end is not None else None
    if e is not None and len(str(end)) == 7:  # YYYY-MM: to the end of that month
        e = e + pd.offsets.MonthEnd(0)
    if s is not None:
        mask &= events["date"] >= s
    if e is not None:
        mask &= events["date"] <= e
    out = events[mask].copy()
    out.attrs = dict(events.attrs, start=s, end=e, region=str(region or "everywhere"))
    if out.empty:
        raise ValueError(f"{events.attrs.get('path', 'events')}: no events in the selection "
                         f"(region {region or 'everywhere'}, period {start} to {end})")
    return out


def summarise(events: pd.DataFrame, population: float | None = None, exit_date: Any = None,
              districts: Any = None) -> dict[str, Any]:
    """Totals and per-month rates over the calendar months of the selection."""
    if exit_date is not None or districts is not None:
        raise ValueError("the stand-in event-data module does not compute exit trends or "
                         "district shares")
    s = events.attrs.get("start") or events["date"].min()
    e = events.attrs.get("end") or events["date"].max()
    months = pd.period_range(s.to_period("M"), e.to_period("M"), freq="M")
    n = len(months)
    civ, bat = events["kind"] == "civilian", events["kind"] == "battle"
    f = events["fatalities"]
    totals = {"events": len(events), "fatalities": int(f.sum()),
              "civilian_events": int(civ.sum()), "civilian_fatalities": int(f[civ].sum()),
              "battle_events": int(bat.sum()), "battle_fatalities": int(f[bat].sum())}
    out: dict[str, Any] = {"region": events.attrs.get("region", "everywhere"),
                           "start": str(months[0]), "end": str(months[-1]), "months": n,
                           **totals}
    for key, total in totals.items():
        out[f"{key}_per_month"] = total / n
    if population is not None:
        out["population"] = float(population)
        for key in ("fatalities", "civilian_fatalities", "battle_fatalities"):
            out[f"{key}_per_100k_month"] = out[f"{key}_per_month"] / population * PER
    return out
