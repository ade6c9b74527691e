"""The case studies are documented differences from the baseline (docs/cases.md).

Every key whose value in a case file differs from ``baseline.toml`` must say so on its own
line (``# CHANGED (baseline X)``, the kind of evidence and references listed in
docs/cases.md), docs/cases.md must tabulate exactly those keys with both values, the
sourced conversions must hold, and each case must validate and run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sim import load_scenario, run
from sim.config.scenario import check_run_length

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
DOC = ROOT / "docs" / "cases.md"
CASES = ("sierra_leone", "liberia", "somalia")
#: names, not parameters: they differ in every file and need no source
METADATA = {"name", "description", "strategy.name"}
KINDS = ("data+judgement", "data", "judgement")
MARK = re.compile(r"#\s*CHANGED\s*\(baseline ([^)]*)\)")
REFS = re.compile(r"\[([A-Za-z][\w.-]*(?:,\s*[A-Za-z][\w.-]*)*)\]")
HEADER = re.compile(r"^\s*\[+\s*([\w.]+)\s*\]+\s*(#.*)?$")
ASSIGN = re.compile(r"^\s*([\w]+)\s*=")
#: K of conversion C2: agents per cell per (personnel per 100,000 people)
K = 1e-4


def changed_keys(case: str) -> dict[str, tuple[Any, Any]]:
    """Parameters whose validated value differs from the baseline's: {key: (baseline, case)}."""
    base = load_scenario(SC / "baseline.toml").flat()
    mine = load_scenario(SC / f"{case}.toml").flat()
    return {k: (base[k], mine[k]) for k in mine if k not in METADATA and mine[k] != base[k]}


def key_lines(text: str) -> dict[str, str]:
    """Each dotted key set in a TOML text, with its whole line (comment included)."""
    table, out = "", {}
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            table = header.group(1)
            continue
        assign = ASSIGN.match(line)
        if assign and not line.lstrip().startswith("#"):
            out[f"{table}.{assign.group(1)}" if table else assign.group(1)] = line
    return out


def same(written: str, value: Any) -> bool:
    """A value as a comment or a table writes it ("none", "0.03", "4976871") equals ``value``."""
    written = written.strip().strip("`")
    if value is None:
        return written == "none"
    if isinstance(value, bool):
        return written == str(value).lower()
    if isinstance(value, str):
        return written.strip('"') == value
    try:
        return float(written) == float(value)
    except ValueError:
        return False


def doc_references() -> set[str]:
    """Reference keys listed under "## 7. References" in docs/cases.md."""
    part = DOC.read_text(encoding="utf-8").split("## 7. References", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- \[([^\]]+)\]", part, flags=re.M))


def marking_problems(text: str, changes: dict[str, tuple[Any, Any]],
                     references: set[str]) -> list[str]:
    """What is wrong with how a case file marks its changes (empty: nothing)."""
    problems: list[str] = []
    lines = key_lines(text)
    for key, (base, _) in changes.items():
        line = lines.get(key)
        if line is None:  # a key the case removes: named on a comment line
            named = [ln for ln in text.splitlines()
                     if ln.lstrip().startswith("#") and f"CHANGED {key} " in ln]
            if not named:
                problems.append(f"{key}: changed (baseline {base!r}) but neither set nor "
                                "named on a '# CHANGED key = ...' comment line")
                continue
            line = named[0]
            m = re.search(r"\(baseline ([^)]*)\)", line)
        else:
            m = MARK.search(line)
            if m is None:
                problems.append(f"{key}: changed (baseline {base!r}) without "
                                "'# CHANGED (baseline X)' on its line")
                continue
        if m is None or not same(m.group(1), base):
            problems.append(f"{key}: the comment's baseline value is not {base!r}")
        comment = line.split("#", 1)[1]
        if not any(re.search(rf"\b{re.escape(k)}\b", comment) for k in KINDS):
            problems.append(f"{key}: no kind of evidence (data / judgement) on its line")
        cited = [r.strip() for group in REFS.findall(comment) for r in group.split(",")]
        if not cited:
            problems.append(f"{key}: no [reference] on its line")
        problems += [f"{key}: [{r}] is not in docs/cases.md's references"
                     for r in cited if r not in references]
    for key, line in lines.items():
        if MARK.search(line) and key not in changes:
            problems.append(f"{key}: marked CHANGED but equal to the baseline")
    return problems


def doc_table(case: str) -> dict[str, tuple[str, str]]:
    """Rows of the case's table in docs/cases.md: {key: (baseline, case value)}."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"(`scenarios/{case}.toml`)")
    section = text[start:].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and re.fullmatch(r"`[\w.]+`", cells[0]):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


@pytest.mark.parametrize("case", CASES)
def test_every_changed_key_cites_its_source_on_its_line(case):
    text = (SC / f"{case}.toml").read_text(encoding="utf-8")
    changes = changed_keys(case)
    assert changes, f"{case} does not differ from the baseline"
    assert marking_problems(text, changes, doc_references()) == []


def test_the_marking_check_finds_an_unsourced_change():
    text = (SC / "liberia.toml").read_text(encoding="utf-8")
    changes = changed_keys("liberia")
    refs = doc_references()
    bare = text.replace(
        "aggression = 0.05          # propensity to prey on civilians", "aggression = 0.07")
    assert bare != text
    found = marking_problems(bare, {**changes, "armed_groups.aggression": (0.05, 0.07)}, refs)
    assert found == ["armed_groups.aggression: changed (baseline 0.05) without "
                     "'# CHANGED (baseline X)' on its line"]
    unsourced = text.replace("[UNSC1777] C4", "C4")
    assert any("mission.drawdown_start: no [reference]" in p
               for p in marking_problems(unsourced, changes, refs))
    unknown = text.replace("[UNSC1777] C4", "[Nobody1999] C4")
    assert any("[Nobody1999] is not in docs/cases.md" in p
               for p in marking_problems(unknown, changes, refs))
    stale = text.replace("# what an officer on patrol sees",
                         "# CHANGED (baseline 6) data [UN2007]", 1)
    assert any("police.vision: marked CHANGED but equal" in p
               for p in marking_problems(stale, changes, refs))
    wrong_base = text.replace("CHANGED (baseline 0.03) data [UNSC1509",
                              "CHANGED (baseline 0.04) data [UNSC1509")
    assert any("peacekeepers.density: the comment's baseline value" in p
               for p in marking_problems(wrong_base, changes, refs))


@pytest.mark.parametrize("case", CASES)
def test_docs_tabulate_exactly_the_changed_keys_with_both_values(case):
    changes = changed_keys(case)
    table = doc_table(case)
    assert set(table) == set(changes)
    for key, (base, mine) in changes.items():
        assert same(table[key][0], base), (key, table[key][0], base)
        assert same(table[key][1], mine), (key, table[key][1], mine)


#: recorded figures (docs/cases.md, section 3): population, troops, police at tick 0, police
#: target, fighters at tick 0, and the mission's last week (None: no exit in the run)
RECORD = {
    "sierra_leone": (4_976_871, 17_500, 6_000, 9_000, 47_781, 241),
    "liberia": (3_300_000, 15_000, 500, 3_500, 101_000, 756),
    "somalia": (12_316_895, 22_126, 5_000, 10_000, 10_000, None),
}


@pytest.mark.parametrize("case", CASES)
def test_values_follow_the_written_conversions(case):
    sc = load_scenario(SC / f"{case}.toml")
    people, troops, police, target, fighters, last_week = RECORD[case]
    assert sc.world.population == people  # C1

    def per_100k(n: float) -> float:
        return n / people * 1e5

    # C2 (rounded to the three significant figures the files use)
    assert sc.peacekeepers.density == pytest.approx(per_100k(troops) * K, rel=0.02)
    assert sc.police.density == pytest.approx(per_100k(police) * K, rel=0.02)
    assert sc.police.target == pytest.approx(per_100k(target) * K, rel=0.02)
    # C3: a fighter agent stands for as many people as a resident agent
    assert sc.armed_groups.density == pytest.approx(
        fighters / people * sc.residents.density, rel=0.03)
    # C4: the last unit leaves in the mission's last week; the run ends a window later
    if last_week is None:
        assert sc.mission.drawdown_start is None
    else:
        assert sc.mission.drawdown_start + sc.mission.drawdown_ticks - 1 == last_week
        assert sc.run.ticks == last_week + sc.mission.exit_window


def test_somalia_has_engagement_units_and_one_cohesive_armed_group():
    base = load_scenario(SC / "baseline.toml")
    somalia = load_scenario(SC / "somalia.toml")
    assert somalia.strategy.roles.engagement >= 0.1  # AMISOM's CIMIC and community dialogues
    assert somalia.armed_groups.factions == 1
    assert somalia.armed_groups.cohesion > base.armed_groups.cohesion
    others = [load_scenario(SC / f"{c}.toml").armed_groups.cohesion
              for c in ("sierra_leone", "liberia")]
    assert somalia.armed_groups.cohesion > max(others)


@pytest.mark.parametrize("case", CASES)
def test_each_case_validates_fits_its_length_and_runs(case):
    sc = load_scenario(SC / f"{case}.toml")
    check_run_length(sc, sc.run.ticks, case)
    res = run(sc, seed=1, ticks=4)
    assert len(res.timeseries) == 5
    assert res.timeseries["peacekeepers"].iloc[1] == round(
        sc.peacekeepers.density * sc.world.width * sc.world.height)
