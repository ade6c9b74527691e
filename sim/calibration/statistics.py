"""Statistics compared by a calibration: the run's, and the event data's they stand for.

Run side. A target names a run statistic: any key of the run summary (``casualties_total``,
``final_trust_pk``, ...) or one of the monthly rates in :data:`DERIVED`, computed here from
the summary and the number of ticks (one tick is one week) when the summary does not carry
the key itself. The model's own keys win: Model 2.0's summary reports
``civilian_deaths_per_month``, ``battle_deaths_per_month`` (deaths scaled to the people the
grid stands for, ``world.population``), ``civilian_deaths_per_100k_month`` and
``population`` (ODD 7.14), and those values are used as they are. Derived here:
``deaths_per_month`` (the sum of the model's two death rates), the per-100k forms the model
does not report (divided by its ``population``), and events per month (attacks, clashes:
counted as events, not scaled by the people an agent stands for).

Data side. An event-data target names a statistic of :func:`sim.evidence.eventdata.summarise`
(``civilian_fatalities_per_month``, ...); :data:`DATA_TO_MODEL` says which run statistic
counts the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: days in a month on average (the event data's rates are per calendar month)
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_TICK = 7
PER = 100_000

#: event-data statistic -> the run statistic that counts the same thing
DATA_TO_MODEL: dict[str, str] = {
    "civilian_fatalities_per_month": "civilian_deaths_per_month",
    "civilian_fatalities_per_100k_month": "civilian_deaths_per_100k_month",
    "battle_fatalities_per_month": "battle_deaths_per_month",
    "battle_fatalities_per_100k_month": "battle_deaths_per_100k_month",
    "fatalities_per_month": "deaths_per_month",
    "fatalities_per_100k_month": "deaths_per_100k_month",
    "civilian_events_per_month": "attacks_per_month",
    "battle_events_per_month": "clashes_per_month",
}


def months(ticks: int) -> float:
    """Calendar months covered by ``ticks`` weekly ticks."""
    return ticks * DAYS_PER_TICK / DAYS_PER_MONTH


def _population(s: dict[str, Any]) -> float:
    pop = s.get("population", s.get("residents_initial"))
    return float(pop) if pop else math.nan


def _per_month(*keys: str) -> Callable[[dict[str, Any], int], float]:
    def f(s: dict[str, Any], ticks: int) -> float:
        return sum(float(s[k]) for k in keys) / months(ticks)
    return f


def _deaths_per_month(s: dict[str, Any], ticks: int) -> float:
    """Civilian plus battle deaths per month: the model's own two rates when it reports them
    (scaled to ``world.population`` as they are), else from the totals."""
    if "civilian_deaths_per_month" in s and "battle_deaths_per_month" in s:
        return (run_statistic(s, "civilian_deaths_per_month", ticks)
                + run_statistic(s, "battle_deaths_per_month", ticks))
    return _per_month("casualties_total", "battle_deaths_total")(s, ticks)


def _per_100k(rate: str) -> Callable[[dict[str, Any], int], float]:
    def f(s: dict[str, Any], ticks: int) -> float:
        return run_statistic(s, rate, ticks) / _population(s) * PER
    return f


#: run statistic -> (how it is derived, what it means); used when the summary lacks the key
DERIVED: dict[str, tuple[Callable[[dict[str, Any], int], float], str]] = {
    "civilian_deaths_per_month": (_per_month("casualties_total"),
                                  "civilians killed by armed groups per month"),
    "battle_deaths_per_month": (_per_month("battle_deaths_total"),
                                "combatants killed in clashes per month"),
    "deaths_per_month": (_deaths_per_month, "civilian and battle deaths per month"),
    "attacks_per_month": (_per_month("attacks_total"),
                          "armed-group attacks on civilians per month"),
    "clashes_per_month": (_per_month("clashes_total"), "clashes per month"),
    "civilian_deaths_per_100k_month": (_per_100k("civilian_deaths_per_month"),
                                       "civilian deaths per month per 100,000 people"),
    "battle_deaths_per_100k_month": (_per_100k("battle_deaths_per_month"),
                                     "battle deaths per month per 100,000 people"),
    "deaths_per_100k_month": (_per_100k("deaths_per_month"),
                              "all deaths per month per 100,000 people"),
}


def available(summary: dict[str, Any]) -> list[str]:
    """Run statistics a target may name, given one run's summary: its numeric keys and the
    derived rates whose inputs it has."""
    keys = [k for k, v in summary.items() if k not in ("seed", "ticks")
            and (isinstance(v, int | float) and not isinstance(v, bool) or v is None)]
    for k in DERIVED:
        if k in summary:
            continue
        try:
            run_statistic(summary, k, 1)
        except KeyError:
            continue
        keys.append(k)
    return sorted(set(keys))


def run_statistic(summary: dict[str, Any], key: str, ticks: int) -> float:
    """The value of run statistic ``key`` (NaN where the run has none, e.g. a relapse ratio
    in a run without an exit); ``KeyError`` if the run has no such statistic."""
    if key in summary:
        v = summary[key]
        return math.nan if v is None else float(v)
    if key in DERIVED:
        return DERIVED[key][0](summary, ticks)
    raise KeyError(key)


# --------------------------------------------------------------------------- event data


def data_statistic(path: str | Path, format: str, statistic: str, *, region: Any = None,
                   start: Any = None, end: Any = None, population: float | None = None,
                   cache: dict[tuple[str, str], Any] | None = None) -> tuple[float, str]:
    """(value, description of the selection) of an event-data statistic; ``ValueError`` with a
    one-line message when the file, the selection or the statistic is unusable. ``cache``
    keeps the files read (by path and format), so targets on one export read it once."""
    from sim.evidence import eventdata as ev

    key = (str(Path(path).resolve()), format)
    events = cache.get(key) if cache is not None else None
    if events is None:
        events = ev.read_events(path, format)
        if cache is not None:
            cache[key] = events
    chosen = ev.select(events, region=region, start=start, end=end)
    stats = ev.summarise(chosen, population=population)
    if statistic not in stats or not isinstance(stats[statistic], int | float):
        numeric = sorted(k for k, v in stats.items()
                         if isinstance(v, int | float) and not isinstance(v, bool))
        hint = ("; per-100k statistics need `population`" if "100k" in statistic and
                population is None else "")
        raise ValueError(f"statistic = {statistic!r}: not a statistic of the event data; "
                         f"available: {', '.join(numeric)}{hint}")
    what = (f"{Path(path).name} ({format}), region {region or 'all'}, "
            f"{stats.get('start', start or '...')} to {stats.get('end', end or '...')}, "
            f"{stats.get('months', '?')} months")
    return float(stats[statistic]), what
