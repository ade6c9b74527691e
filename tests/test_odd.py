"""docs/ODD.md and the code describe the same model.

* The parameter table is the scenario schema's, word for word.
* Every ``file:function`` the ODD cites exists, and every rule it cites in a subsection of
  section 7 says so: its docstring starts with ``ODD 7.x`` (or a range holding it).
* Every public function of ``sim/rules/`` is a rule: its docstring starts with its ODD
  section, and the ODD cites it.

The code is read with ``ast`` (nothing is imported or compiled).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sim.config.scenario import parameter_table, parameter_table_markdown

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
RULES = ROOT / "sim" / "rules"
REF = re.compile(r"`(sim/[\w/]+\.py):([\w.]+)`")
#: "ODD 7.9", "ODD 7.14-7.15"; a lettered part ("ODD 7.9a") belongs to its section (7.9)
SECTION = re.compile(r"^ODD (\d+(?:\.\d+)?)[a-z]?(?:\s*-\s*(\d+(?:\.\d+)?)[a-z]?)?\b")


def _embedded_table() -> str:
    text = ODD.read_text(encoding="utf-8")
    begin = text.index("<!-- parameter-table:begin -->") + len("<!-- parameter-table:begin -->")
    end = text.index("<!-- parameter-table:end -->")
    return text[begin:end].strip("\n") + "\n"


def definitions(path: Path) -> dict[str, ast.AST]:
    """Qualified name -> node of every top-level function and class, and of class methods."""
    out: dict[str, ast.AST] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            out[node.name] = node
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    out[f"{node.name}.{item.name}"] = item
    return out


def references(text: str) -> list[tuple[str, str, str]]:
    """(subsection, file, qualified name) of every ``file:name`` in the ODD; the subsection
    is the latest ``**7.x`` heading above it ("" outside section 7); a lettered heading
    (``**7.9a``) is part of its section (7.9)."""
    out = []
    sub = ""
    in_seven = False
    for line in text.splitlines():
        if line.startswith("## "):
            in_seven = line.startswith("## 7.")
            sub = ""
        m = re.match(r"\*\*(7\.\d+)[a-z]? ", line)  # **7.9a belongs to 7.9
        if in_seven and m:
            sub = m.group(1)
        out += [(sub if in_seven else "", f, name) for f, name in REF.findall(line)]
    return out


def odd_section(doc: str | None) -> tuple[float, float] | None:
    """The section (or range) a docstring starts with: "ODD 7.9, ..." -> (7.9, 7.9)."""
    m = SECTION.match(doc or "")
    if not m:
        return None
    lo = m.group(1)
    return _num(lo), _num(m.group(2) or lo)


def _num(section: str) -> float:
    major, _, minor = section.partition(".")
    return int(major) + int(minor or 0) / 100  # 7.10 comes after 7.9


def rule_functions() -> dict[tuple[str, str], ast.AST]:
    """(file, name) -> node of every public function of sim/rules/."""
    out = {}
    for path in sorted(RULES.glob("*.py")):
        if path.name == "__init__.py":
            continue
        rel = path.relative_to(ROOT).as_posix()
        for name, node in definitions(path).items():
            if isinstance(node, ast.FunctionDef) and "." not in name and not name.startswith("_"):
                out[(rel, name)] = node
    return out


def test_odd_parameter_table_matches_schema():
    assert _embedded_table() == parameter_table_markdown(), (
        "docs/ODD.md is out of date: paste the output of "
        "sim.config.scenario.parameter_table_markdown() between the parameter-table markers"
    )


def test_every_parameter_is_documented():
    for row in parameter_table():
        assert row["meaning"], f"{row['key']} has no description"
        assert f"`{row['key']}`" in ODD.read_text(encoding="utf-8")


def test_every_code_reference_in_the_odd_resolves():
    refs = references(ODD.read_text(encoding="utf-8"))
    assert len(refs) > 50  # section 7 cites its functions
    for _, file, name in refs:
        path = ROOT / file
        assert path.is_file(), f"docs/ODD.md cites {file}:{name}: no such file"
        assert name in definitions(path), f"docs/ODD.md cites {file}:{name}: no such function"


def test_rules_cited_in_section_seven_name_that_section():
    for sub, file, name in references(ODD.read_text(encoding="utf-8")):
        if not sub:
            continue
        doc = ast.get_docstring(definitions(ROOT / file)[name])
        span = odd_section(doc)
        if file.startswith("sim/rules/") or (span is not None and span[0] >= 7):
            assert span is not None, f"{file}:{name} (cited in 7.{sub}) lacks its ODD section"
            assert span[0] <= _num(sub) <= span[1], (
                f"{file}:{name} is cited in ODD {sub} but its docstring says {doc.split(':')[0]}"
            )


def test_every_rule_names_its_section_and_is_cited():
    cited = {(f, n) for _, f, n in references(ODD.read_text(encoding="utf-8"))}
    for (file, name), node in rule_functions().items():
        doc = ast.get_docstring(node)
        assert odd_section(doc) is not None, f"{file}:{name}: docstring must start with 'ODD 7.x'"
        assert (file, name) in cited, f"{file}:{name} is a rule the ODD does not cite"


def test_the_checks_catch_what_they_should():
    assert odd_section("ODD 7.2 rule A: active iff") == (7.02, 7.02)
    assert odd_section("ODD 7.14-7.15: the mission") == (7.14, 7.15)
    assert odd_section("Grievance of a resident") is None
    assert odd_section("ODD 7.9a: protection by role") == (7.09, 7.09)
    assert odd_section("ODD 7.9a, interdiction") == (7.09, 7.09)
    text = "## 7. Submodels\n**7.9 Armed groups** `sim/rules/x.py:attack`\n## 8. Next\n"
    assert references(text) == [("7.9", "sim/rules/x.py", "attack")]
    text = "## 7. Submodels\n**7.9a Protection by role** `sim/rules/x.py:deter`\n"
    assert references(text) == [("7.9", "sim/rules/x.py", "deter")]


if __name__ == "__main__":  # python tests/test_odd.py: rewrite the table from the schema
    text = ODD.read_text(encoding="utf-8")
    begin = text.index("<!-- parameter-table:begin -->") + len("<!-- parameter-table:begin -->")
    end = text.index("<!-- parameter-table:end -->")
    ODD.write_text(text[:begin] + "\n" + parameter_table_markdown() + text[end:], encoding="utf-8")
    print(f"updated {ODD}")
