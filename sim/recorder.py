"""From a finished model to tidy outputs: the per-tick table and the per-run summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.scenario import Scenario


def timeseries(model: Any) -> pd.DataFrame:
    """One row per tick (tick 0 is the initial state), from the model's DataCollector."""
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df.insert(0, "tick", np.arange(len(df), dtype=np.int64))
    return df


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
    """Per-run outcomes (MODEL.md section 5) computed from the per-tick table."""
    body = ts.iloc[1:] if len(ts) > 1 else ts  # tick 0 is the set-up
    residents0 = max(int(ts["residents"].iloc[0]), 1)
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
