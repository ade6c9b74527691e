"""Probe the ``peacesim`` command line with ~200 deterministic invocations, valid and invalid.

    python tests/probe_cli.py                          # peacesim from PATH
    python tests/probe_cli.py --peacesim /path/to/venv/bin/peacesim --jobs 2 -v

Each invocation runs the CLI as a subprocess (``run``, ``validate``, ``sweep``,
``sensitivity`` on small worlds: 12 x 12 cells, 5 ticks) on a file or ``--set`` value whose
validity is known, including every nonsense case of issue 10, and is classified as:

* ``clear error``: exit 2 on invalid input, no traceback, at most 25 lines;
* ``long error``: exit 2 on invalid input, but a message longer than 25 lines;
* ``crash``: exit 1 (or another status), a traceback, or no answer within the time limit;
* ``nonsense accepted``: exit 0 on input known to be invalid;
* ``valid refused``: exit 2 on valid input;
* ``OK``: exit 0 on valid input.

Only options every version has are used, so the probe also runs against older checkouts
(point ``PYTHONPATH`` at the checkout). Everything is written under a temporary folder; the
command runs there, so a name that escapes the output folder lands inside it. Not a pytest
test (no ``test_`` prefix): it takes minutes and compares versions rather than asserting.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz_files as ff  # noqa: E402

SMALL = ["--set", "world.width=12", "--set", "world.height=12"]
RUN_TAIL = [*SMALL, "--ticks", "5", "--no-plots", "--quiet"]
MAX_LINES = 25
CATEGORIES = ("OK", "clear error", "long error", "crash", "nonsense accepted", "valid refused")


@dataclass
class Case:
    """One invocation: its arguments (``{out}`` becomes a fresh folder), whether the input
    is valid, and what it probes."""

    label: str
    args: list[str]
    valid: bool
    files: dict[str, str | bytes] = field(default_factory=dict)
    outcome: str = ""
    detail: str = ""


def classify(case: Case, code: int | None, out: str, err: str) -> tuple[str, str]:
    text = out + err
    last = (err.strip().splitlines() or [""])[-1][:160]
    if code is None:
        return "crash", "no answer within the time limit"
    if "Traceback" in text or code not in (0, 2):
        return "crash", f"exit {code}: {last}"
    if code == 0:
        return ("OK", "") if case.valid else ("nonsense accepted", (out.strip().splitlines()
                                                                   or [""])[-1][:160])
    if case.valid:
        return "valid refused", last
    if len(err.splitlines()) > MAX_LINES:
        return "long error", f"{len(err.splitlines())} lines, {len(err)} characters"
    return "clear error", last


# --------------------------------------------------------------------------- the cases


def scenario_text(data: dict) -> str:
    return ff.dumps(data)


def issue_cases() -> list[Case]:
    """Every nonsense case listed in issue 10, and the valid uses it says were refused."""
    sc, st = str(ff.SCENARIOS), str(ff.STRATEGIES)
    base = f"{sc}/baseline.toml"
    cases = [
        Case("drawdown before deployment", ["run", base, *RUN_TAIL, "--set",
             "mission.deploy_tick=3", "--set", "mission.drawdown_start=2", "--set",
             "mission.exit_window=1", "--out", "{out}"], False),
        Case("--strategy on an Epstein context", ["run", f"{sc}/epstein_model1.toml", *RUN_TAIL,
             "--strategy", f"{st}/integrated.toml", "--out", "{out}"], False),
        Case("strategy file as the scenario", ["run", f"{st}/integrated.toml", *RUN_TAIL,
             "--out", "{out}"], False),
        Case("strategy file as an experiment context", ["sweep", "exp.toml", "--workers", "0",
             "--quiet", "--out", "{out}"], False,
             {"exp.toml": ff.dumps({**ff.experiment(), "contexts": [f"{st}/integrated.toml"],
                                    "factors": []})}),
        Case("empty scenario file", ["run", "empty.toml", *RUN_TAIL, "--out", "{out}"], False,
             {"empty.toml": ""}),
        Case("comments-only scenario file", ["validate", "c.toml"], False,
             {"c.toml": "# a scenario\n# (the rest was lost)\n"}),
        Case("truncated scenario file (name only)", ["run", "t.toml", *RUN_TAIL, "--out",
             "{out}"], False, {"t.toml": 'name = "truncated"\n'}),
        Case('"40" for an integer (file)', ["validate", "s.toml"], False,
             {"s.toml": 'model = "epstein"\n[world]\nwidth = "40"\n'}),
        Case('"40" for an integer (--set)', ["run", base, *RUN_TAIL, "--set",
             'residents.vision="4"', "--out", "{out}"], False),
        Case('"no" for a boolean (file)', ["validate", "s.toml"], False,
             {"s.toml": 'model = "epstein"\n[world]\ntorus = "no"\n'}),
        Case('"no" for a boolean (--set)', ["run", base, *RUN_TAIL, "--set", "world.torus=no",
             "--out", "{out}"], False),
        Case("true for a float (file)", ["validate", "s.toml"], False,
             {"s.toml": 'model = "epstein"\n[unrest]\nlegitimacy = true\n'}),
        Case("true for a float (--set)", ["run", base, *RUN_TAIL, "--set",
             "unrest.legitimacy=true", "--out", "{out}"], False),
        Case("deeply nested TOML (arrays)", ["validate", "deep.toml"], False,
             {"deep.toml": f"x = {ff.nested(5000)}\n"}),
        Case("deeply nested TOML (tables)", ["validate", "deep.toml"], False,
             {"deep.toml": f"x = {ff.nested(5000, 'table')}\n"}),
        Case("200,000 unknown keys", ["validate", "many.toml"], False,
             {"many.toml": "".join(f"k{i} = {i}\n" for i in range(200_000))}),
        Case("scenario name escapes the output folder", ["run", base, *RUN_TAIL, "--set",
             "name=../../.."], False),
        Case("strategy name escapes the output folder", ["sweep", "exp.toml", "--workers", "0",
             "--quiet", "--out", "{out}"], False,
             {"exp.toml": ff.dumps({**ff.experiment(), "factors": [], "strategies": [
                 {"name": "../../..", "set": {"strategy.restraint": 0.9}}]})}),
        Case("experiment name escapes the output folder", ["sweep", "exp.toml", "--workers",
             "0", "--quiet"], False,
             {"exp.toml": ff.dumps({**ff.experiment(), "name": "../../..", "factors": []})}),
        Case("study name escapes the output folder", ["sensitivity", "study.toml", "--workers",
             "0", "--quiet"], False,
             {"study.toml": ff.dumps({**ff.study(True), "name": "../../.."})}),
        Case("context scenario name escapes (experiment)", ["sweep", "exp.toml", "--workers",
             "0", "--quiet", "--out", "{out}"], False,
             {"ctx.toml": ff.dumps({**ff.scenario(), "name": "../../.."}),
              "exp.toml": ff.dumps({**ff.experiment(), "contexts": ["ctx.toml"],
                                    "factors": []})}),
        Case("function = builtins:print", ["sensitivity", "study.toml", "--workers", "0",
             "--quiet", "--out", "{out}"], False,
             {"study.toml": ff.dumps({**ff.study(True), "function": "builtins:print"})}),
        Case("function = os:getcwd", ["validate", "study.toml"], False,
             {"study.toml": ff.dumps({**ff.study(True), "function": "os:getcwd"})}),
        Case("validate accepts an experiment file", ["validate", "exp.toml"], True,
             {"exp.toml": ff.dumps(ff.experiment())}),
        Case("validate accepts a study file", ["validate", "study.toml"], True,
             {"study.toml": ff.dumps(ff.study())}),
        Case("validate --strategy", ["validate", base, "--strategy", f"{st}/integrated.toml"],
             True),
        Case("exit window longer than the time before the drawdown", ["run", base, *RUN_TAIL,
             "--set", "mission.drawdown_start=3", "--set", "mission.exit_window=10",
             "--out", "{out}"], False),
        Case("run ends inside the post-exit window", ["run", base, *RUN_TAIL, "--set",
             "mission.drawdown_start=3", "--set", "mission.exit_window=3", "--out", "{out}"],
             False),
        Case("drawdown keys in an Epstein scenario", ["validate", "s.toml"], False,
             {"s.toml": 'model = "epstein"\n[mission]\ndrawdown_start = 10\n'}),
        Case("armed groups in an Epstein scenario", ["validate", "s.toml"], False,
             {"s.toml": 'model = "epstein"\n[armed_groups]\ndensity = 0.05\n'}),
        Case("corrupt experiment manifest on --resume", ["sweep", "exp.toml", "--workers", "0",
             "--quiet", "--resume", "--out", "store"], False,
             {"exp.toml": ff.dumps({**ff.experiment(), "factors": []}),
              "store/manifest.json": "{not json", "store/design.parquet": b"PAR1 damaged"}),
    ]
    for label, level in (("world.width = [2, 5]", [2, 5]), ("nan", float("nan")),
                         ("2**64", 2**64), ("a string", "wide")):
        exp = {**ff.experiment(), "factors": [{"key": "world.width", "levels": [12, level]}]}
        cases.append(Case(f"factor level {label}", ["sweep", "exp.toml", "--workers", "0",
                          "--quiet", "--out", "{out}"], False, {"exp.toml": ff.dumps(exp)}))
        cases.append(Case(f"factor level {label} (validate)", ["validate", "exp.toml"], False,
                          {"exp.toml": ff.dumps(exp)}))
    return cases


def valid_cases() -> list[Case]:
    """Ordinary uses that must keep working."""
    sc, st = ff.SCENARIOS, ff.STRATEGIES
    cases = [Case(f"validate {p.name}", ["validate", str(p)], True)
             for p in sorted(sc.glob("*.toml"))]
    for p in sorted(sc.glob("*.toml")):
        cases.append(Case(f"run {p.name}", ["run", str(p), *RUN_TAIL, "--out", "{out}"], True))
    for p in sorted(st.glob("*.toml")):
        cases.append(Case(f"run baseline + {p.name}", ["run", str(sc / "baseline.toml"),
                          *RUN_TAIL, "--strategy", str(p), "--out", "{out}"], True))
    for key, value in (("unrest.legitimacy", "0.7"), ("armed_groups.aggression", "0.1"),
                       ("world.torus", "false"), ("strategy.restraint", "1"),
                       ("mission.drawdown_start", "200"), ("name", "renamed")):
        cases.append(Case(f"run --set {key}={value}", ["run", str(sc / "baseline.toml"),
                          *RUN_TAIL, "--set", f"{key}={value}", "--out", "{out}"], True))
    cases.append(Case("sweep (small experiment)", ["sweep", "exp.toml", "--workers", "0",
                      "--quiet", "--out", "{out}"], True, {"exp.toml": ff.dumps(ff.experiment())}))
    cases.append(Case("sensitivity (Ishigami)", ["sensitivity", "study.toml", "--workers", "0",
                      "--quiet", "--out", "{out}"], True, {"study.toml": ff.dumps(ff.study(True))}))
    return cases


#: edits known to make a file invalid: (dotted path, value)
BAD_SCENARIO_EDITS = [
    ("world.width", "12"), ("world.width", 2), ("world.width", 12.5), ("world.width", True),
    ("world.width", -5), ("world.width", 2**64), ("world.torus", "yes"), ("world.torus", 1),
    ("world.vision_shape", "hexagon"), ("run.ticks", -1), ("run.seed", -3),
    ("run.seed", 2**64), ("run.outburst_share", 0.0), ("residents.density", 1.5),
    ("residents.density", float("nan")), ("residents.density", float("inf")),
    ("residents.density", "0.7"), ("residents.vision", 0), ("residents.groups", 3),
    ("police.density", -0.1), ("unrest.legitimacy", 2), ("unrest.legitimacy", False),
    ("unrest.mode", "riot"), ("unrest.threshold", [0.1]), ("unrest.arrest_ratio", 1),
    ("armed_groups.factions", 9), ("armed_groups.density", 0.9), ("mission.deploy_tick", 200),
    ("mission.exit_window", 0), ("mission.drawdown_schedule", []),
    ("mission.drawdown_schedule", [[0, 1.5]]), ("mission.drawdown_schedule", [[5, 0.5],
                                                                              [2, 0.2]]),
    ("strategy.roles.patrol", 0.9), ("strategy.restraint", "high"), ("economy.districts", 0),
    ("trust.memory", 1.2), ("violence.decay", -1), ("name", ""), ("name", "a/b"),
    ("name", "../x"), ("model", "agent"), ("world.widht", 12), ("unknown_table", {"a": 1}),
    ("world", 5), ("strategy.roles", "even"),
]
GOOD_SCENARIO_EDITS = [
    ("unrest.legitimacy", 0.6), ("armed_groups.aggression", 0.07), ("world.torus", False),
    ("trust.memory", 0.97), ("strategy.restraint", 1), ("economy.districts", 3),
    ("name", "variant-1"), ("mission.exit_window", 26), ("residents.vision", 5),
    ("police.professionalism", 0.5),
]
BAD_SET_VALUES = [
    ("world.width", "'12'"), ("world.width", "12.5"), ("world.width", "true"),
    ("world.width", "1e3"), ("world.widht", "12"), ("world.torus", "0"),
    ("unrest.legitimacy", "nan"), ("unrest.legitimacy", "inf"), ("unrest.legitimacy", "-0.1"),
    ("unrest.legitimacy", "[0.5]"), ("unrest.legitimacy", "{a = 1}"), ("run.seed", "-1"),
    ("world", "3"), ("world.width.x", "3"), ("residents.groups", "2.0"),
    ("strategy.roles.patrol", "2"), ("name", "'../escape'"), ("model", "none"),
]
BAD_STRATEGY_EDITS = [
    ("strategy.restraint", 1.5), ("strategy.restraint", "0.9"), ("strategy.roles.patrol", 0.9),
    ("strategy.roles.sideways", 0.1), ("strategy.name", "../x"), ("strategy.adaptive", "no"),
    ("mission.drawdown_ticks", -1), ("peacekeepers.density", 2), ("armed_groups.density", 0.0),
    ("world.width", 20), ("police.target", "more"), ("strategy", 3),
]
BAD_EXPERIMENT_EDITS = [
    ("replications", 0), ("replications", "3"), ("seed", -1), ("ticks", 0), ("ticks", 5.5),
    ("seed_policy", "shared"), ("contexts", []), ("strategies", "all"),
    ("contexts", ["missing.toml"]), ("set", {"world.width": "12"}),
    ("set", {"run.ticks": 4}), ("set", {"world.widht": 12}), ("burn_in", 10),
    ("factors", [{"key": "armed_groups.aggression", "levels": [0.1, 0.1]}]),
    ("factors", [{"key": "armed_groups.aggression", "range": [0.2, 0.1], "n": 3}]),
    ("factors", [{"key": "armed_groups.agression", "levels": [0.1]}]),
    ("factors", [{"key": "residents.density", "levels": [0.7, 1.2]}]),
    ("design", {"kind": "latin_hypercube"}), ("report", {"reference": "nobody"}),
    ("name", "a b"), ("output", {"every": 0}), ("extra_key", 1),
]
BAD_STUDY_EDITS = [
    ("N", 6), ("N", 2), ("method", "fast"), ("outputs", []), ("num_levels", 3),
    ("second_order", "yes"), ("bootstrap", 1), ("conf_level", 1.0), ("seed_policy", "x"),
    ("factors", []), ("factors", [{"key": "x1", "bounds": [1.0, -1.0]}]),
    ("factors", [{"key": "x1", "bounds": [0.0, float("nan")]}]),
    ("factors", [{"key": "x9", "bounds": [0.0, 1.0]}]), ("function", "nope"),
    ("function", "sim.sensitivity.testfunctions:ishigami"), ("dummy", "x1"),
    ("context", "missing.toml"), ("name", ".."),
]


def _edited(data: dict, dotted: str, value: object) -> dict:
    return ff.set_path(data, tuple(dotted.split(".")), value)


def fuzzed_cases(seed: int = 10) -> list[Case]:
    """Known-invalid and known-valid edits of each file kind, in a fixed random order."""
    rng = random.Random(seed)
    base = str(ff.SCENARIOS / "baseline.toml")
    cases: list[Case] = []
    for i, (key, value) in enumerate(BAD_SCENARIO_EDITS):
        name = rng.choice(["baseline", "epstein_model1"]) if not key.startswith(
            ("armed_groups", "strategy", "mission.", "economy", "trust", "violence")) \
            else "baseline"
        text = ff.dumps(_edited(ff.scenario(name), key, value))
        # the run's --set world.width/height would replace a bad world size: validate it
        cmd = "validate" if key.startswith("world.") else rng.choice(["validate", "run"])
        args = ["validate", "s.toml"] if cmd == "validate" else ["run", "s.toml", *RUN_TAIL,
                                                                 "--out", "{out}"]
        cases.append(Case(f"scenario {name} {key} = {value!r} ({cmd})", args, False,
                          {"s.toml": text}))
        del i
    for key, value in GOOD_SCENARIO_EDITS:
        text = ff.dumps(_edited(ff.scenario("baseline"), key, value))
        cases.append(Case(f"scenario baseline {key} = {value!r}", ["run", "s.toml", *RUN_TAIL,
                          "--out", "{out}"], True, {"s.toml": text}))
    for key, value in BAD_SET_VALUES:
        cases.append(Case(f"--set {key}={value}", ["run", base, *RUN_TAIL, "--set",
                          f"{key}={value}", "--out", "{out}"], False))
    for key, value in BAD_STRATEGY_EDITS:
        text = ff.dumps(_edited(ff.strategy(rng.choice(["integrated", "ddr_focus"])), key,
                                value))
        cases.append(Case(f"strategy {key} = {value!r}", ["run", base, *RUN_TAIL, "--strategy",
                          "strat.toml", "--out", "{out}"], False, {"strat.toml": text}))
    for key, value in BAD_EXPERIMENT_EDITS:
        exp = _edited(ff.experiment(), key, value) if "." not in key else ff.experiment()
        if key == "burn_in":
            exp = {**ff.experiment(), "burn_in": 10}
        cases.append(Case(f"experiment {key} = {value!r}", ["sweep", "exp.toml", "--workers",
                          "0", "--quiet", "--out", "{out}"], False,
                          {"exp.toml": ff.dumps(exp)}))
    for key, value in BAD_STUDY_EDITS:
        draw = rng.random() if key != "context" else 1.0  # the draws of every version
        # N = 6 and dummy = "x1" are invalid only for the test function (Sobol', its x1)
        function = key in ("N", "dummy") or draw < 0.7
        study = {**ff.study(function), key: value}
        if key == "context":
            study = {**ff.study(False), "context": value}
        if key == "function":
            study = {**ff.study(True), "function": value}
        if key == "num_levels":
            study = {**ff.study(False), "num_levels": 3}
        if key == "factors" and value and value[0]["key"].startswith("x"):
            study = {**ff.study(True), "factors": value}
        cases.append(Case(f"study {key} = {value!r}", ["sensitivity", "study.toml",
                          "--workers", "0", "--quiet", "--out", "{out}"], False,
                          {"study.toml": ff.dumps(study)}))
    for i in range(8):  # garbage bytes
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        cases.append(Case(f"garbage bytes #{i}", ["validate", "g.toml"], False,
                          {"g.toml": raw}))
    return cases


def all_cases() -> list[Case]:
    return issue_cases() + valid_cases() + fuzzed_cases()


# --------------------------------------------------------------------------- running


def run_case(case: Case, n: int, command: list[str], root: Path, timeout: float) -> Case:
    work = root / f"case{n:03d}" / "a" / "b" / "c"  # names that escape land inside root
    work.mkdir(parents=True)
    for rel, content in case.files.items():
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    args = [a.replace("{out}", str(work / "out")) for a in case.args]
    try:
        proc = subprocess.run([*command, *args], cwd=work, capture_output=True, text=True,
                              timeout=timeout, errors="replace")
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        code, out, err = None, "", ""
    case.outcome, case.detail = classify(case, code, out, err)
    return case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peacesim", default="peacesim",
                        help="the command to probe (default: peacesim on PATH), e.g. "
                        "'/work/main/.venv/bin/peacesim' or 'python -m sim.cli'")
    parser.add_argument("--jobs", type=int, default=2, help="invocations at once (default 2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per invocation")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    parser.add_argument("--json", type=Path, help="write every case's outcome here")
    parser.add_argument("--only", metavar="TEXT",
                        help="run only the cases whose label contains TEXT")
    args = parser.parse_args(argv)
    command = shlex.split(args.peacesim)
    cases = [c for c in all_cases() if args.only is None or args.only in c.label]
    with tempfile.TemporaryDirectory(prefix="peacesim-probe-") as tmp:
        root = Path(tmp)
        warm = Case("warm-up", ["run", str(ff.SCENARIOS / "baseline.toml"), *RUN_TAIL,
                                "--out", "{out}"], True)
        run_case(warm, 999, command, root, 900)  # compiles the kernels once
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            done = list(pool.map(lambda nc: run_case(nc[1], nc[0], command, root,
                                                     args.timeout), enumerate(cases)))
    counts = Counter(c.outcome for c in done)
    if args.verbose:
        for c in done:
            print(f"{c.outcome:18} {c.label}" + (f"  -- {c.detail}" if c.detail else ""))
        print()
    print(f"{len(done)} invocations of {args.peacesim}"
          f" (PYTHONPATH={os.environ.get('PYTHONPATH', '')})")
    for cat in CATEGORIES:
        print(f"  {cat:18} {counts.get(cat, 0)}")
    if args.json is not None:
        args.json.write_text(json.dumps([{"label": c.label, "valid": c.valid,
                                          "outcome": c.outcome, "detail": c.detail}
                                         for c in done], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
