"""Fuzz ``peacesim validate`` with scenario, strategy, experiment, study and calibration
files.

Hypothesis mutates valid files of each kind (random keys, wrong types, deep nesting, huge,
NaN and negative numbers, paths that escape, names of code to import), and adds empty files,
truncated files and garbage bytes. Whatever the input, ``peacesim validate`` must answer
exit 0 (valid) or 2 (a clear message), never a traceback or exit 1, and every message must
stay short (at most 25 lines). Seeded (``derandomize``) and bounded (``max_examples``), so
the run is the same every time and takes well under a minute.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import fuzz_files as ff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main

FUZZ = settings(derandomize=True, max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MAX_LINES = 25

NASTY = ["40", "no", "yes", "true", "", ".", "..", "../../..", "/etc/passwd", "a/b", "nan",
         "baseline", "ishigami", "builtins:print", "os:system", "\u00e9t\u00e9", "x" * 300]
# text TOML can hold (surrogates cannot be written; garbage bytes are fuzzed on their own)
TEXT = st.characters(exclude_categories=["Cs"])
scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2, 3, 52, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, -0.1, 1e308, 1e-308, float("nan"), float("inf")]),
    st.booleans(),
    st.text(TEXT, max_size=12),
    st.sampled_from(NASTY),
)
keys = st.one_of(st.text(TEXT, min_size=1, max_size=10),
                 st.sampled_from(["name", "model", "world", "width", "strategy", "roles",
                                  "mission", "drawdown_start", "exit_window", "contexts",
                                  "factors", "levels", "function", "method", "set", "file",
                                  "world.width", "../x"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=10)
#: keys of calibration files too (kept apart, so the other kinds are fuzzed as before)
calibration_keys = st.one_of(keys, st.sampled_from([
    "parameters", "targets", "scenario", "abc", "uniform", "loguniform", "normal",
    "truncnormal", "observed", "data", "format", "region", "start", "end", "population",
    "holdout", "statistic", "model_statistic", "generations", "min_epsilon", "run.seed",
    "armed_groups.aggression", "peacekeepers.density", "mission.drawdown_start"]))
calibration_values = st.one_of(values, st.sampled_from([
    [0.1, 0.2], [0.2, 0.1], [0.0, 1.0], [1, 2, 0.5, 0.1], [-1.0, 1.0], [0.5, 0.9],
    "admin2=Tesso", "admin2=Atlantis", "admin9=X", "box=-12,-11,-20,-18", "2016-13", "2016-01",
    "2019-12-31", "acled", "ucdp-ged", "civilian_fatalities_per_100k_month",
    "events_per_month", str(ff.EVENTS), str(ff.SCENARIOS / "baseline.toml"),
    str(ff.SCENARIOS / "epstein_model1.toml"), str(ff.ROOT / "experiments" / "quick.toml"),
    {"uniform": [0.01, 0.4]}, {"normal": [0.1, 0.05]}, {"truncnormal": [0.0, 1.0, 0.1, 0.05]},
    {"statistic": "attacks_total", "observed": 3},
]))


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], key_pool: st.SearchStrategy = keys,
            value_pool: st.SearchStrategy = values) -> str:
    """TOML text of ``base`` after a few random edits (or an extreme file)."""
    data = base
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["set", "set", "set", "delete", "add", "table"]))
        known = ff.paths(data)
        if op == "set" and known:
            data = ff.set_path(data, draw(st.sampled_from(known)), draw(value_pool))
        elif op == "delete" and known:
            data = ff.delete_path(data, draw(st.sampled_from(known)))
        elif op == "add":
            where = [p for p in known if isinstance(_at(data, p), dict)] + [()]
            data = ff.set_path(data, (*draw(st.sampled_from(where)), draw(key_pool)),
                               draw(value_pool))
        elif op == "table":
            data = {**data,
                    draw(key_pool): draw(st.dictionaries(key_pool, value_pool, max_size=3))}
    text = ff.dumps(data) if isinstance(data, dict) else "v = 1\n"
    extreme = draw(st.sampled_from(["none"] * 6 + ["truncate", "deep", "deep_table", "many"]))
    if extreme == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif extreme == "deep":
        text += f"deep = {ff.nested(draw(st.sampled_from([20, 400, 5000])))}\n"
    elif extreme == "deep_table":
        text += f"deep = {ff.nested(draw(st.sampled_from([20, 400, 5000])), 'table')}\n"
    elif extreme == "many":
        text += "".join(f"k{i} = {i}\n" for i in range(draw(st.sampled_from([30, 3000]))))
    return text


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def validate(text: str | bytes, *extra: str) -> tuple[int, str, str]:
    """``peacesim validate`` (in this process) on a file holding ``text``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(path), *extra])
        return code, out.getvalue(), err.getvalue()


def check(code: int, out: str, err: str) -> None:
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    if code == 2:
        assert err.startswith("error: "), err
        assert len(err.splitlines()) <= MAX_LINES, err
    else:
        assert out.startswith("OK "), out


@FUZZ
@given(st.data())
def test_fuzzed_scenarios(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["baseline", "liberia", "epstein_model1",
                                      "epstein_model2_peacekeepers"]))
    text = data.draw(mutated(ff.scenario(name)))
    extra = data.draw(st.sampled_from([(), ("--strategy", str(ff.STRATEGIES /
                                                                "integrated.toml"))]))
    check(*validate(text, *extra))


@FUZZ
@given(st.data())
def test_fuzzed_strategies(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["integrated", "minimal_presence", "policing_handover"]))
    check(*validate(data.draw(mutated(ff.strategy(name)))))


@FUZZ
@given(st.data())
def test_fuzzed_experiments(data: st.DataObject) -> None:
    check(*validate(data.draw(mutated(ff.experiment()))))


@FUZZ
@given(st.data())
def test_fuzzed_studies(data: st.DataObject) -> None:
    check(*validate(data.draw(mutated(ff.study(function=data.draw(st.booleans()))))))


@FUZZ
@given(st.data())
def test_fuzzed_calibrations(data: st.DataObject) -> None:
    check(*validate(data.draw(mutated(ff.calibration(), calibration_keys,
                                      calibration_values))))


@settings(derandomize=True, max_examples=40, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_garbage_bytes(raw: bytes) -> None:
    check(*validate(raw))


def test_the_unmutated_files_are_valid() -> None:
    """The fuzzer starts from valid files (so its mutations are what make them invalid)."""
    for base in (ff.scenario(), ff.strategy(), ff.experiment(), ff.study(), ff.study(True),
                 ff.calibration()):
        code, out, err = validate(ff.dumps(base))
        assert code == 0, err
