"""From a finished model to tidy outputs: the per-tick table and the per-run summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.config.scenario import Scenario


def timeseries(model: Any) -> pd.DataFrame:
    """One row per tick (tick 0 is the initial state), from the model's DataCollector."""
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df.insert(0, "tick", np.arange(len(df), dtype=np.int64))
    return df


def timeseries_digest(ts: pd.DataFrame) -> str:
    """sha256 of a per-tick table's column names, dtypes and values, bit for bit (equal
    digests: equal tables)."""
    import hashlib

    h = hashlib.sha256()
    for col in ts.columns:
        values = np.ascontiguousarray(ts[col].to_numpy())
        h.update(f"{col}\0{values.dtype.str}\0".encode())
        h.update(values.tobytes())
    return h.hexdigest()


#: columns of a run's event table (ODD 7.28)
EVENT_COLUMNS = ("tick", "kind", "text", "event", "outcome")


def events_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The events a run applied (ODD 7.28), one row each in the order applied: tick, kind, a
    sentence saying what happened, and the event's keys and its outcome as JSON."""
    import json

    rows = [{"tick": int(r["tick"]), "kind": r["kind"], "text": r["text"],
             "event": json.dumps(r["event"], sort_keys=True),
             "outcome": json.dumps(r["outcome"], sort_keys=True, default=_plain)}
            for r in records]
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def _plain(obj: Any) -> Any:
    return obj.item() if hasattr(obj, "item") else list(obj)


def outbursts(active: np.ndarray, threshold: float) -> list[tuple[int, int, int]]:
    """Maximal runs with ``active > threshold``: (first index, length, peak) for each."""
    above = np.asarray(active) > threshold
    runs: list[tuple[int, int, int]] = []
    i, n = 0, len(above)
    while i < n:
        if above[i]:
            j = i
            while j < n and above[j]:
                j += 1
            runs.append((i, j - i, int(np.max(active[i:j]))))
            i = j
        else:
            i += 1
    return runs


def summarise(ts: pd.DataFrame, scenario: Scenario, seed: int) -> dict[str, Any]:
    """Per-run outcomes (ODD 7.14) computed from the per-tick table."""
    body = ts.iloc[1:] if len(ts) > 1 else ts  # tick 0 is the set-up
    residents0 = int(ts["residents"].iloc[0])  # the true count, 0 included
    threshold = scenario.run.outburst_share * residents0
    bursts = outbursts(ts["active"].to_numpy(), threshold)
    share = body[["quiescent", "active", "jailed"]].div(body["residents"].clip(lower=1), axis=0)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": int(seed),
        "ticks": int(len(ts) - 1),
        "residents_initial": residents0,
        "residents_final": int(ts["residents"].iloc[-1]),
        "peak_active": int(ts["active"].max()),
        "peak_active_tick": int(ts["active"].idxmax()),
        "mean_active": float(body["active"].mean()),
        "mean_share_quiescent": float(share["quiescent"].mean()),
        "mean_share_active": float(share["active"].mean()),
        "mean_share_jailed": float(share["jailed"].mean()),
        "arrests_total": int(ts["arrests"].sum()),
        "outburst_threshold": float(threshold),
        "outbursts": len(bursts),
        "outburst_mean_peak": float(np.mean([b[2] for b in bursts])) if bursts else 0.0,
        "outburst_mean_duration": float(np.mean([b[1] for b in bursts])) if bursts else 0.0,
        "outburst_max_peak": max((b[2] for b in bursts), default=0),
        "final_quiescent": int(ts["quiescent"].iloc[-1]),
        "final_active": int(ts["active"].iloc[-1]),
        "final_jailed": int(ts["jailed"].iloc[-1]),
    }
    if scenario.model == "peacekeeping":
        out.update(peacekeeping_summary(ts, scenario))
    if "killings" in ts:
        out["killings_total"] = int(ts["killings"].sum())
    if "group_0" in ts:
        extinct = [g for g in (0, 1) if ts[f"group_{g}"].iloc[-1] == 0]
        out["extinct_group"] = extinct[0] if len(extinct) == 1 else None
        ticks_extinct = [
            int(np.argmax(ts[f"group_{g}"].to_numpy() == 0)) for g in extinct
        ]
        out["extinction_tick"] = min(ticks_extinct) if ticks_extinct else None
    return out


#: days in a tick (a week) and in an average month: per-month rates from weekly ticks
DAYS_PER_TICK = 7.0
DAYS_PER_MONTH = 365.25 / 12


def exit_tick(ts: pd.DataFrame, scenario: Scenario) -> int | None:
    """First tick at or after the drawdown start with no peacekeepers left; None when there is
    no drawdown, no exit within the run, or no mission at all (no unit ever deployed)."""
    start = scenario.mission.drawdown_start
    if start is None or not (ts["peacekeepers"] > 0).any():
        return None
    gone = ts.index[(ts["tick"] >= start) & (ts["peacekeepers"] == 0)]
    return int(ts["tick"].iloc[gone[0]]) if len(gone) else None


def stable_from(series: np.ndarray, window: int, level: float) -> int | None:
    """First index from which the trailing ``window`` mean stays at or below ``level``."""
    if len(series) < window:
        return None
    means = np.convolve(series, np.ones(window) / window, mode="valid")
    above = np.flatnonzero(means > level)
    if len(above) == 0:
        return 0
    first = int(above[-1]) + 1  # the window starting here, and all later ones, are calm
    return first + window - 1 if first < len(means) else None


def peacekeeping_summary(ts: pd.DataFrame, scenario: Scenario) -> dict[str, Any]:
    """Per-run outcomes of the peacekeeping model (ODD 7.14; issue interface keys)."""
    last = ts.iloc[-1]
    out: dict[str, Any] = {
        "casualties_total": int(ts["civilian_casualties"].sum()),
        "attacks_total": int(ts["attacks"].sum()),
        "clashes_total": int(ts["clashes"].sum()),
        "battle_deaths_total": int(ts["battle_deaths"].sum()),
        "abuses_total": int(ts["abuses"].sum()),
        "tips_total": int(ts["tips"].sum()),
        "recruits_total": int(ts["recruits"].sum()),
        "disarmed_total": int(ts["disarmed"].sum()),
        "relapses_total": int(ts["relapses"].sum()),
        "weapons_collected_total": int(ts["weapons_collected"].sum()),
        "combatants_final": int(last["combatants"]),
        "combatants_mean": float(ts["combatants"].iloc[1:].mean()),
        "final_trust_pk": float(last["trust_pk_mean"]),
        "final_trust_police": float(last["trust_police_mean"]),
        "final_professionalism": float(last["police_professionalism_mean"]),
        "final_economy": float(last["economy_mean"]),
        "final_displaced": int(last["displaced"]),
        "troop_weeks": int(ts["peacekeepers"].iloc[1:].sum()),
        "time_to_stability": stable_from(
            ts["civilian_casualties"].to_numpy(dtype=float), 13, 0.1
        ),
    }
    out.update(scale_summary(ts, scenario, out))
    out.update(relapse_summary(ts, scenario))
    out.update(communities_summary(ts, scenario))
    out.update(accept_summary(ts, scenario, out["exit_tick"]))
    out.update(zones_summary(ts))  # --- zones (ODD 7.22-7.24)
    return out


# --- communities: rival factions, police dialogue, per-group outcomes (ODD 7.25-7.26) ---
def communities_summary(ts: pd.DataFrame, scenario: Scenario) -> dict[str, Any]:
    """Totals of rival clashes, crossfire, combatant arrests and tips to the police; with two
    communal groups, per group: casualties, tips (in all and per resident of the group, the
    group's mean size over ticks 1..T), final trust in peacekeepers and in police, and mean
    trust in peacekeepers over the ticks with a mission (None without one)."""
    out: dict[str, Any] = {
        "rival_clashes_total": int(ts["rival_clashes"].sum()),
        "crossfire_victims_total": int(ts["crossfire_victims"].sum()),
        "combatant_arrests_total": int(ts["combatant_arrests"].sum()),
        "tips_police_total": int(ts["tips_police"].sum()),
        "tips_relayed_total": int(ts["tips_relayed"].sum()),
    }
    if scenario.residents.groups != 2:
        return out
    last = ts.iloc[-1]
    for g in (0, 1):
        size = float(ts[f"group_{g}"].iloc[1:].mean()) if len(ts) > 1 else 0.0
        tips = int(ts[f"tips_group{g}"].sum())
        out[f"casualties_group{g}_total"] = int(ts[f"casualties_group{g}"].sum())
        out[f"tips_group{g}_total"] = tips
        out[f"tips_per_capita_group{g}"] = tips / size if size > 0 else None
        out[f"final_trust_pk_group{g}"] = float(last[f"trust_pk_group{g}"])
        out[f"final_trust_police_group{g}"] = float(last[f"trust_police_group{g}"])
        out[f"mean_trust_pk_group{g}_mission"] = _mission_mean(ts, scenario,
                                                               f"trust_pk_group{g}")
    return out


# --- accept: reintegration and acceptance, weapons, local partners (ODD 7.19-7.21) ---
def accept_summary(ts: pd.DataFrame, scenario: Scenario, exit_at: int | None
                   ) -> dict[str, Any]:
    """Acceptance of ex-combatants and relapse by faction, weapons, local partners (ODD
    7.14, 7.19-7.21). A faction's relapse rate is its relapses per 100 ex-combatant-weeks
    (ex-combatants of the faction on the map, summed over ticks 1..T; None without any).
    Partners' capacity at the exit and a year (``exit_window``) after it: None without an
    exit (or when the run ends first)."""
    body = ts.iloc[1:]
    last = ts.iloc[-1]
    out: dict[str, Any] = {
        "predations_total": int(ts["predations"].sum()),
        "mean_acceptance": float(body["acceptance_mean"].mean()) if len(body) else None,
        "final_acceptance": float(last["acceptance_mean"]),
        "weapons_destroyed_total": int(ts["weapons_destroyed"].sum()),
        "weapons_hidden_total": int(ts["weapons_hidden"].sum()),
        "weapons_seized_total": int(ts["weapons_seized"].sum()),
        "weapons_raided_total": int(ts["weapons_raided"].sum()),
        "arming_failed_total": int(ts["arming_failed"].sum()),
        "weapons_stored_final": int(last["weapons_stored"]),
        "tips_via_partners_total": int(ts["tips_via_partners"].sum()),
        "partner_capacity_final": float(last["partner_capacity_mean"]),
    }
    for k in range(scenario.armed_groups.factions):
        relapses = int(ts[f"relapses_faction{k}"].sum())
        exposure = float(body[f"ex_combatants_faction{k}"].sum())
        out[f"relapses_faction{k}_total"] = relapses
        out[f"relapse_rate_faction{k}"] = 100.0 * relapses / exposure if exposure > 0 else None
        out[f"mean_acceptance_faction{k}"] = (float(body[f"acceptance_faction{k}"].mean())
                                              if len(body) else None)
    at_exit = after = None
    if exit_at is not None:
        rows = ts[ts["tick"] == exit_at]
        at_exit = float(rows["partner_capacity_mean"].iloc[0]) if len(rows) else None
        later = ts[ts["tick"] == exit_at + scenario.mission.exit_window]
        after = float(later["partner_capacity_mean"].iloc[0]) if len(later) else None
    out["partner_capacity_at_exit"] = at_exit
    out["partner_capacity_after_exit"] = after
    return out


# --- zones: checkpoints, protection sites and displacement, roads (ODD 7.22-7.24) ---
def zones_summary(ts: pd.DataFrame) -> dict[str, Any]:
    """Checkpoints (ODD 7.22), protection sites and displacement (ODD 7.23) and roads (ODD
    7.24) over the run: totals, means over ticks 1..T, and the last road quality (None
    without roads)."""
    during = ts.iloc[1:]

    def total(column: str) -> int:
        return int(ts[column].sum())

    def mean(column: str) -> float | None:
        return float(during[column].mean()) if len(during) else None

    return {
        "combatant_moves_total": total("combatant_moves"),
        "checkpoint_stops_total": total("checkpoint_stops"),
        "checkpoint_detections_total": total("checkpoint_detections"),
        "checkpoint_detentions_total": total("checkpoint_detentions"),
        "residents_slowed_total": total("residents_slowed"),
        "attacks_near_checkpoints_total": total("attacks_near_checkpoints"),
        "mean_economy_near_checkpoints": mean("economy_near_checkpoints"),
        "mean_market_access": mean("market_access_mean"),
        "mean_economy": mean("economy_mean"),
        "displaced_new_total": total("displaced_new"),
        "mean_displaced": mean("displaced"),
        "mean_displaced_at_sites": mean("displaced_at_sites"),
        "displaced_returns_total": total("displaced_returns"),
        "displaced_deaths_total": total("displaced_deaths"),
        "final_road_quality": (float(ts["road_quality_mean"].iloc[-1])
                               if "road_quality_mean" in ts else None),
    }


def scale_summary(ts: pd.DataFrame, scenario: Scenario, totals: dict[str, Any]
                  ) -> dict[str, Any]:
    """Per-capita and per-month rates (ODD 7.14): each resident stands for
    ``world.population / residents_initial`` people (one when ``world.population`` is 0);
    rates per 100,000 people are per 100,000 residents at the start (as
    ``casualties_per_100k`` and the event data's fixed population) and do not depend on that
    scale; counts per month do."""
    residents0 = int(ts["residents"].iloc[0])
    population = scenario.world.population or residents0
    people_per_resident = population / residents0 if residents0 else 0.0
    months = (len(ts) - 1) * DAYS_PER_TICK / DAYS_PER_MONTH

    def per_month(count: float) -> float | None:
        return count * people_per_resident / months if months > 0 else None

    casualties = totals["casualties_total"]
    return {
        "population": int(population),
        "people_per_resident": float(people_per_resident),
        "months": float(months),
        "civilian_deaths_per_100k_month": (
            1e5 * casualties / residents0 / months
            if months > 0 and residents0 > 0 else None),
        "civilian_deaths_per_month": per_month(casualties),
        "battle_deaths_per_month": per_month(totals["battle_deaths_total"]),
        "peacekeeper_deaths": int(ts["peacekeeper_deaths"].sum()),
        "police_deaths": int(ts["police_deaths"].sum()),
        "units_replaced": int(ts["units_replaced"].sum()),
        "interdictions_total": int(ts["interdictions"].sum()),
        "attacks_interrupted_total": int(ts["attacks_interrupted"].sum()),
        "retaliations_total": int(ts["retaliations"].sum()),
        "detained_final": int(ts["detained"].iloc[-1]),
        "births_total": int(ts["births"].sum()),
        "deaths_total": int(ts["deaths"].sum()),
        "emigrated_total": int(ts["emigrated"].sum()),
        "returned_total": int(ts["returned"].sum()),
        "mean_trust_pk_mission": _mission_mean(ts, scenario, "trust_pk_mean"),
        "mean_legitimacy_mission": _mission_mean(ts, scenario, "mission_legitimacy"),
    }


def _mission_mean(ts: pd.DataFrame, scenario: Scenario, column: str) -> float | None:
    """Mean of a column over the ticks with peacekeepers deployed (None: never deployed)."""
    during = ts.iloc[1:][ts["peacekeepers"].iloc[1:] > 0]
    return float(during[column].mean()) if len(during) else None


def relapse_floor(scenario: Scenario, kind: str) -> float:
    """The smallest denominator of a relapse ratio: the mean violence that one event of the
    kind (an attack on civilians, a clash) within the window leaves on the map, its
    ``per_attack`` (``per_clash``) fading at ``violence.decay`` per tick over the window.
    Without it a window before the drawdown with almost no violence makes the ratio explode
    (one attack after exit against a near-zero before gave ratios above 100)."""
    v = scenario.violence
    per_event = v.per_attack if kind == "_civilian" else v.per_clash
    cells = scenario.world.width * scenario.world.height
    window = max(scenario.mission.exit_window, 1)
    return per_event / (max(v.decay, 1e-9) * cells * window)


def relapse_summary(ts: pd.DataFrame, scenario: Scenario) -> dict[str, Any]:
    """Violence against civilians and battle violence in the ``exit_window`` ticks before the
    drawdown and after the exit, and their ratios (after / before). ``relapse_ratio`` is the
    civilian one. No mission, no exit: all None. ``exit_window_truncated``: the run ended
    before the window after the exit was complete (the ratio uses the ticks there are). The
    denominator is at least :func:`relapse_floor`."""
    w = scenario.mission.exit_window
    start = scenario.mission.drawdown_start
    exit_at = exit_tick(ts, scenario)
    out: dict[str, Any] = {"exit_tick": exit_at, "exit_window_truncated": None}
    last = int(ts["tick"].iloc[-1])
    if exit_at is not None:
        out["exit_window_truncated"] = bool(exit_at + w > last)
    for kind, column in (("", "violence_mean"), ("_civilian", "violence_civilian_mean"),
                         ("_battle", "violence_battle_mean")):
        before = after = ratio = None
        if exit_at is not None and start is not None:
            pre = ts[(ts["tick"] < start) & (ts["tick"] >= start - w)]
            post = ts[(ts["tick"] > exit_at) & (ts["tick"] <= exit_at + w)]
            before = float(pre[column].mean()) if len(pre) else None
            after = float(post[column].mean()) if len(post) else None
            if before is not None and after is not None and kind:
                ratio = after / max(before, relapse_floor(scenario, kind))
        out[f"violence{kind}_before_exit"] = before
        out[f"violence{kind}_after_exit"] = after
        if kind:
            out[f"relapse_ratio{kind}"] = ratio
    out["relapse_ratio"] = out["relapse_ratio_civilian"]
    return out
