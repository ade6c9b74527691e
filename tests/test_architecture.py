"""The ``sim`` package's import graph has no cycles, and imports inside functions hide none.

Every module is parsed (not imported); an edge is any import of a ``sim`` module, at module
level or inside a function (a lazy import of a heavy third-party library is fine; a lazy
import of a ``sim`` module counts like any other). Imports under ``if TYPE_CHECKING:`` are
not executed and do not count; package ``__init__`` modules are skipped (``sim/__init__.py``
re-exports lazily). ``python tests/test_architecture.py`` prints the module tree with each
module's imports.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sim"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[str, list[str], int]]:
    """(module, imported names, level) of every import that runs, anywhere in the tree."""
    out: list[tuple[str, list[str], int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((a.name, [], 0) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.append((node.module or "", [a.name for a in node.names], node.level))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph() -> dict[str, set[str]]:
    """sim module -> the sim modules it imports (package __init__ modules left out)."""
    mods = modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        if path.name == "__init__.py":
            continue
        package = name.rsplit(".", 1)[0]
        edges: set[str] = set()
        for module, names, level in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if level:  # relative import
                base = package.rsplit(".", level - 1)[0] if level > 1 else package
                module = f"{base}.{module}" if module else base
            if module != "sim" and not module.startswith("sim."):
                continue
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in mods] or [module]
            edges |= {t for t in targets if t in mods and mods[t].name != "__init__.py"}
        graph[name] = edges - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_sees_cycles_and_lazy_imports():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sim.model.model import PeaceSimModel\n"
        "def f():\n    from sim.engine import grid\n"
    )
    assert _imports(tree) == [("typing", ["TYPE_CHECKING"], 0), ("sim.engine", ["grid"], 0)]


def test_layers_point_one_way():
    """The engine and the rules never import the Mesa model, the CLI or I/O; the config
    imports nothing of the simulation."""
    graph = import_graph()
    for name, edges in graph.items():
        if name.startswith(("sim.engine.", "sim.rules.")):
            bad = {e for e in edges if e.startswith(("sim.model", "sim.io", "sim.viz",
                                                     "sim.cli", "sim.experiments"))}
            assert not bad, f"{name} imports {sorted(bad)}"
        if name.startswith("sim.config."):
            # besides its own modules, configuration may consult three vocabularies when it
            # checks a file: how event-data files spell regions and dates, which data
            # statistics exist (calibration files), which test functions are registered
            # (studies); none of them runs the model
            vocabularies = {"sim.evidence.tables", "sim.calibration.statistics",
                            "sim.sensitivity.testfunctions"}
            bad = {e for e in edges if not e.startswith("sim.config.") and e not in vocabularies}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_cli_help_and_validate_import_no_heavy_library():
    """``peacesim --help`` and ``peacesim validate`` answer without numba, Mesa or pandas
    (seconds of imports before anything is printed)."""
    scenario = ROOT / "scenarios" / "baseline.toml"
    code = (
        "import contextlib, io, sys\n"
        "from sim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--help']) == 0\n"
        f"    assert main(['validate', {str(scenario)!r}]) == 0\n"
        "print(sorted(m for m in ('numba', 'mesa', 'pandas', 'matplotlib') "
        "if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_public_api_is_documented_and_resolves():
    import sim

    assert set(sim.__all__) == {"load_scenario", "run", "RunResult", "Scenario", "ScenarioError",
                                "PeaceSimModel", "run_sweep", "compare", "run_study",
                                "discover", "calibrate", "optimize"}
    for name in sim.__all__:
        assert callable(getattr(sim, name)), name
    from sim import load_scenario, run

    result = run(load_scenario(ROOT / "scenarios" / "epstein_model1.toml",
                               {"world.width": 10, "world.height": 10}), ticks=2)
    text = repr(result)
    assert "\n" not in text and len(text) < 120
    assert text == "RunResult(scenario='epstein_model1', seed=1, ticks=2, timeseries=3x11)"


if __name__ == "__main__":  # python tests/test_architecture.py: the tree and its imports
    g = import_graph()
    for name in sorted(modules()):
        short = sorted(e.removeprefix("sim.") for e in g.get(name, ()))
        print(f"{name:32s} {', '.join(short)}")
    cycle = find_cycle(g)
    print("no cycle" if cycle is None else "CYCLE: " + " -> ".join(cycle), file=sys.stderr)
