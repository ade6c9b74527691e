"""The Epstein scenarios reproduce exactly, whatever layers are added to the engine.

``tests/golden/epstein_digests.json`` holds a digest of the per-tick Epstein columns of each
Epstein scenario (small grid, fixed seed) as computed by the civil-violence core. A change to
the engine that alters a single draw or decision in these scenarios fails this test; if such
a change is intended (a rule was wrong), regenerate with
``python tests/test_epstein_exact.py --update`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import load_scenario, run

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "epstein_digests.json"
NAMES = [
    "epstein_model1", "epstein_legitimacy_gradual", "epstein_legitimacy_jump",
    "epstein_mesa_example", "epstein_model2", "epstein_model2_peacekeepers",
]
COLUMNS = ["quiescent", "active", "jailed", "police", "peacekeepers", "arrests",
           "group_0", "group_1", "killings", "births", "deaths"]


def digest(name: str) -> str:
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml",
                       overrides={"world.width": 24, "world.height": 24})
    ts = run(sc, seed=7, ticks=120).timeseries
    cols = [c for c in COLUMNS if c in ts]
    data = np.ascontiguousarray(ts[cols].to_numpy(dtype=np.int64))
    return hashlib.sha256(",".join(cols).encode() + data.tobytes()).hexdigest()


@pytest.mark.parametrize("name", NAMES)
def test_epstein_scenarios_reproduce_exactly(name):
    expected = json.loads(GOLDEN.read_text())[name]
    assert digest(name) == expected


if __name__ == "__main__" and "--update" in sys.argv:
    GOLDEN.write_text(json.dumps({n: digest(n) for n in NAMES}, indent=2) + "\n")
    print(f"wrote {GOLDEN}")
