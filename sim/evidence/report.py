"""One call from a data file to its statistics (what ``peacesim data summarise`` and a
calibration target "a statistic of a data file" both need), and the readable table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.evidence.deployments import read_deployments, select_deployments, summarise_deployments
from sim.evidence.eventdata import BoxDistricts, read_events, select, summarise
from sim.evidence.tables import Box, DataError, parse_region

FORMATS = ("acled", "ucdp-ged", "geo-pko")


def summarise_file(path: str | Path, format: str, *, region: Any = None, start: Any = None,
                   end: Any = None, population: float | None = None, exit_date: Any = None,
                   districts: int | None = None, box: Any = None) -> dict[str, Any]:
    """Read ``path`` as ``format``, select ``region`` and ``start``..``end``, summarise.

    ``districts`` (per side) lays the model's district grid over ``box`` (or, without one,
    over the region's box). Population, exit date and districts apply to event data only.
    """
    fmt = str(format).strip().lower()
    if fmt not in FORMATS:
        raise DataError(f"unknown format {format!r}; allowed: {', '.join(FORMATS)}")
    head: dict[str, Any] = {"file": str(path), "format": fmt}
    if fmt == "geo-pko":
        given = [name for name, v in (("population", population), ("exit date", exit_date),
                                      ("districts", districts), ("box", box)) if v is not None]
        if given:
            raise DataError(f"{' and '.join(given)}: only for event data (acled, ucdp-ged), "
                            "not for geo-pko deployments")
        dep = select_deployments(read_deployments(path), region, start, end)
        return head | summarise_deployments(dep)
    reg = parse_region(region)
    grid = None
    if box is not None and districts is None:
        raise DataError("a district box needs the number of districts per side (--districts K)")
    if districts is not None:
        b = Box.parse(box) if box is not None else reg.box
        if b is None:
            raise DataError(f"districts {districts}: give the box the model's grid covers "
                            "(--box lat_min,lat_max,lon_min,lon_max, or a box as --region)")
        grid = BoxDistricts(b, districts)
    events = select(read_events(path, fmt), reg, start, end)
    return head | summarise(events, population=population, exit_date=exit_date,
                            districts=grid)


def _num(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def format_summary(stats: dict[str, Any]) -> str:
    """The statistics as a plain-text table, units stated."""
    if stats.get("format") == "geo-pko":
        return _format_deployments(stats)
    s = stats
    per100k = "population" in s
    lines = [
        f"{s['file']} ({s['format']}), region: {s['region']}",
        f"period: {s['start']} to {s['end']}, {s['months']} calendar months",
        "",
        f"{'':32}{'total':>10}{'per month':>12}" + (f"{'per 100k/month':>16}" if per100k else ""),
    ]

    def row(label: str, key: str, k100: str | None = None) -> None:
        text = f"{label:32}{s[key]:>10,}{_num(s[key + '_per_month']):>12}"
        if per100k:
            text += f"{_num(s.get(k100) if k100 else None, 3):>16}"
        lines.append(text)

    row("events (all kinds)", "events")
    row("fatalities (all kinds)", "fatalities", "fatalities_per_100k_month")
    row("violence against civilians", "civilian_events")
    row("  civilian fatalities", "civilian_fatalities", "civilian_fatalities_per_100k_month")
    row("battles", "battle_events")
    row("  battle deaths", "battle_fatalities", "battle_fatalities_per_100k_month")
    lines.append(f"{'other events':32}{s['other_events']:>10,}")
    if per100k:
        lines.append(f"per 100k/month: per 100,000 people per month, population "
                     f"{s['population']:,.0f}")
    if "exit_month" in s:
        lines += ["", f"after the exit in {s['exit_month']}: {s['exit_months_before']} months "
                  f"before vs {s['exit_months_after']} after (of {s['exit_window']} each; "
                  "the exit month in neither)",
                  f"{'':32}{'before':>10}{'after':>12}{'ratio':>10}"]
        for kind, label in (("civilian", "civilian fatalities/month"),
                            ("battle", "battle deaths/month")):
            lines.append(f"  {label:30}{_num(s[f'{kind}_fatalities_per_month_before_exit']):>10}"
                         f"{_num(s[f'{kind}_fatalities_per_month_after_exit']):>12}"
                         f"{_num(s[f'relapse_ratio_{kind}']):>10}")
    if "district_shares" in s:
        lines += ["", f"share of events per district: {s['district_mapping']}",
                  f"  events outside the districts: {s['events_outside_districts']}"]
        shares = s["district_shares"] or [0.0] * s["districts"]
        k = round(s["districts"] ** 0.5)
        if k * k == s["districts"] and "blocks" in s["district_mapping"]:
            lines.append("  rows north (top) to south, columns west to east; id in brackets")
            for by in range(k - 1, -1, -1):
                lines.append("  " + "  ".join(f"[{bx * k + by:>2}] {shares[bx * k + by]:5.3f}"
                                              for bx in range(k)))
        else:
            lines += [f"  district {d:>2}: {v:5.3f}" for d, v in enumerate(shares)]
    return "\n".join(lines)


def _format_deployments(s: dict[str, Any]) -> str:
    lines = [
        f"{s['file']} ({s['format']}), region: {s['region']}",
        f"missions: {', '.join(s['missions'])}",
        f"period: {s['start']} to {s['end']}, {s['months']} calendar months, "
        f"{s['months_with_map']} with a deployment map",
        f"locations: {s['locations']}; rows with unknown troop numbers: "
        f"{s['rows_unknown_troops']}",
        f"troops per month (months with a map): mean {s['troops_mean']:,.0f}, "
        f"max {s['troops_max']:,} in {s['troops_max_month']}",
        f"first month with troops: {s['first_month_with_troops'] or '-'}; last (the exit "
        f"month, for --exit): {s['last_month_with_troops'] or '-'}",
    ]
    return "\n".join(lines)
