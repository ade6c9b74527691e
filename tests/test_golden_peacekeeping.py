"""The peacekeeping scenarios' outputs are pinned: engine refactors must not change a bit.

``tests/golden/peacekeeping_digests.json`` holds a digest of every per-tick column of each
context scenario (small grid, fixed seed). A change that is meant to alter the model (a rule
fixed or refined) regenerates it with ``python tests/test_golden_peacekeeping.py --update``
and says so in its commit; a change meant only to make the engine faster must leave it.
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
GOLDEN = ROOT / "tests" / "golden" / "peacekeeping_digests.json"
CASES = {
    "baseline": ("baseline", None),
    "liberia": ("liberia", None),
    "somalia": ("somalia", None),
    "sierra_leone": ("sierra_leone", None),
    "baseline+integrated": ("baseline", "integrated"),
    "baseline+minimal_presence": ("baseline", "minimal_presence"),
}


def digest(case: str) -> str:
    context, strategy = CASES[case]
    sc = load_scenario(
        ROOT / "scenarios" / f"{context}.toml",
        # exit_window only changes the summary (not digested): it must fit the 80 ticks
        overrides={"world.width": 30, "world.height": 30, "mission.drawdown_start": 40,
                   "mission.drawdown_ticks": 20, "mission.exit_window": 20},
        strategy=None if strategy is None else ROOT / "scenarios" / "strategies"
        / f"{strategy}.toml",
    )
    ts = run(sc, seed=3, ticks=80).timeseries
    data = np.ascontiguousarray(ts.to_numpy(dtype=np.float64))
    return hashlib.sha256(",".join(ts.columns).encode() + data.tobytes()).hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_peacekeeping_outputs_are_pinned(case):
    assert digest(case) == json.loads(GOLDEN.read_text())[case]


if __name__ == "__main__" and "--update" in sys.argv:
    GOLDEN.write_text(json.dumps({c: digest(c) for c in sorted(CASES)}, indent=2) + "\n")
    print(f"wrote {GOLDEN}")
