"""Shared by the fuzz test (tests/test_fuzz_files.py) and the CLI probe (tests/probe_cli.py):
valid configuration files of each kind as data, a TOML writer, and mutations that turn them
into nonsense. Standard library only, so the probe runs against any checkout."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
STRATEGIES = SCENARIOS / "strategies"
EVENTS = ROOT / "data" / "examples" / "synthetic_acled.csv"
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A key as TOML writes it (quoted unless bare)."""
    return key if _BARE.match(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """A value as an inline TOML literal (tables inline, arrays on one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def dumps(data: dict[str, Any]) -> str:
    """A TOML document: scalars first, then one ``[table]`` per top-level table."""
    lines = [f"{toml_key(str(k))} = {toml_value(v)}" for k, v in data.items()
             if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"[{toml_key(str(k))}]")
            lines += [f"{toml_key(str(kk))} = {toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def scenario(name: str = "baseline") -> dict[str, Any]:
    """A shipped scenario's data."""
    return load(SCENARIOS / f"{name}.toml")


def strategy(name: str = "integrated") -> dict[str, Any]:
    """A shipped strategy's data."""
    return load(STRATEGIES / f"{name}.toml")


def experiment() -> dict[str, Any]:
    """A small valid experiment (absolute paths, so it can be written anywhere)."""
    return {
        "name": "fuzz",
        "contexts": [str(SCENARIOS / "baseline.toml")],
        "strategies": [str(STRATEGIES / "integrated.toml"),
                       {"name": "restrained", "set": {"strategy.restraint": 0.9}}],
        "replications": 2,
        "seed": 3,
        "ticks": 5,
        "set": {"world.width": 12, "world.height": 12},
        "factors": [{"key": "armed_groups.aggression", "levels": [0.02, 0.08]}],
    }


def study(function: bool = False) -> dict[str, Any]:
    """A small valid study of the model (or of the Ishigami test function)."""
    if function:
        return {"name": "fuzz_fn", "method": "sobol", "function": "ishigami", "N": 8,
                "outputs": ["Y"],
                "factors": [{"key": f"x{i}", "bounds": [-3.14, 3.14]} for i in (1, 2, 3)]}
    return {"name": "fuzz_model", "method": "morris", "N": 4, "context":
            str(SCENARIOS / "baseline.toml"), "ticks": 5, "outputs": ["casualties_total"],
            "set": {"world.width": 12, "world.height": 12},
            "factors": [{"key": "strategy.restraint", "bounds": [0.3, 1.0]},
                        {"key": "armed_groups.aggression", "bounds": [0.02, 0.1]}]}


def calibration() -> dict[str, Any]:
    """A small valid calibration file: a strategy over a scenario, two priors, a target given
    as a number and one computed from event data (held out)."""
    return {
        "name": "fuzz_cal",
        "scenario": str(SCENARIOS / "baseline.toml"),
        "strategy": str(STRATEGIES / "integrated.toml"),
        "ticks": 20,
        "replicates": 2,
        "seed": 3,
        "set": {"world.width": 12, "world.height": 12},
        "abc": {"population": 20, "generations": 2, "ppc_draws": 6},
        "parameters": {"armed_groups.aggression": {"uniform": [0.01, 0.4]},
                       "armed_groups.p_clash": {"loguniform": [0.005, 0.2]}},
        "targets": [{"statistic": "attacks_total", "observed": 10},
                    {"name": "civ", "statistic": "civilian_fatalities_per_month",
                     "data": str(EVENTS), "format": "acled", "region": "admin2=Tesso",
                     "start": "2016-01", "end": "2018-12", "holdout": True}],
    }


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into nested tables and arrays (keys and indices)."""
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


def set_path(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``data`` with the value at ``path`` replaced (created in tables if missing)."""
    data = copy.deepcopy(data)
    if not path:
        return value
    node = data
    for part in path[:-1]:
        if isinstance(node, dict):
            nxt = node.get(part)
            if not isinstance(nxt, dict | list):
                nxt = node[part] = {}
            node = nxt
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return data
    last = path[-1]
    in_list = isinstance(node, list) and isinstance(last, int) and last < len(node)
    if isinstance(node, dict) or in_list:
        node[last] = value
    return data


def delete_path(data: Any, path: tuple[Any, ...]) -> Any:
    """``data`` without the value at ``path``."""
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return data
    with contextlib.suppress(KeyError, IndexError, TypeError):
        del node[path[-1]]
    return data


def nested(depth: int, kind: str = "array") -> str:
    """A TOML value nested ``depth`` levels deep (arrays or inline tables)."""
    if kind == "array":
        return "[" * depth + "1" + "]" * depth
    return "{a = " * depth + "1" + "}" * depth
