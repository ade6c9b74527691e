"""Same scenario and seed give identical outputs; different seeds differ."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd

from sim import load_scenario, run

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SMALL = {"world.width": 20, "world.height": 20}


def _digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=True).values.tobytes()).hexdigest()


def test_same_seed_same_outputs():
    for name in ("epstein_model1", "epstein_mesa_example", "epstein_model2_peacekeepers"):
        sc = load_scenario(SCENARIOS / f"{name}.toml", overrides=SMALL)
        a = run(sc, seed=5, ticks=60)
        b = run(sc, seed=5, ticks=60)
        pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
        assert a.summary == b.summary


def test_different_seeds_differ():
    sc = load_scenario(SCENARIOS / "epstein_model1.toml", overrides=SMALL)
    a = run(sc, seed=1, ticks=60).timeseries
    b = run(sc, seed=2, ticks=60).timeseries
    assert not a.equals(b)


def test_identical_in_a_fresh_process():
    sc = load_scenario(SCENARIOS / "epstein_model1.toml", overrides=SMALL)
    here = _digest(run(sc, seed=9, ticks=40).timeseries)
    code = (
        "import hashlib, pandas as pd; from sim import load_scenario, run; "
        f"sc = load_scenario({str(SCENARIOS / 'epstein_model1.toml')!r}, overrides={SMALL!r}); "
        "df = run(sc, seed=9, ticks=40).timeseries; "
        "print(hashlib.sha256(pd.util.hash_pandas_object(df, index=True).values.tobytes())"
        ".hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == here


def test_seed_defaults_to_the_scenario():
    sc = load_scenario(SCENARIOS / "epstein_model1.toml", overrides={**SMALL, "run.seed": 4})
    assert run(sc, ticks=10).timeseries.equals(run(sc, seed=4, ticks=10).timeseries)
