"""The verdicts the paired effect tests share (tests/effect_rows.py), on hand-made rows."""

from __future__ import annotations

import numpy as np
import pytest
from effect_rows import Expected, check, cli, paired, shown, table, verdict


def test_paired_is_the_mean_and_standard_error_of_the_differences() -> None:
    mean, se = paired(np.array([3.0, 5.0, 7.0]), np.array([1.0, 1.0, 1.0]))
    assert mean == 4.0 and se == pytest.approx(2.0 / np.sqrt(3))
    with pytest.raises(ValueError, match="undefined outcome"):
        paired(np.array([1.0, np.nan]), np.array([0.0, 0.0]))


def test_a_row_shows_above_three_standard_errors_and_a_knock_out_only_at_exactly_zero() -> None:
    assert shown(3.1, 1.0) and not shown(3.0, 1.0) and not shown(-5.0, 1.0)
    assert shown(0.0, 0.0, exact_zero=True) and not shown(1e-12, 0.0, exact_zero=True)


def test_declarations_are_taken_per_effect() -> None:
    exp = Expected.of(2, not_shown={(1, "a"): "why", (2, "b"): "because"},
                      measured={(2, "c")}, exact_zero={(1, "d")})
    assert dict(exp.not_shown) == {"b": "because"}
    assert exp.measured == {"c"} and exp.exact_zero == frozenset()


def test_check_asserts_expected_rows_and_xfails_only_for_declared_ones() -> None:
    exp = Expected({"edge": "measured 1 +- 1"}, frozenset({"contrast"}), frozenset({"ko"}))
    good = {"main": (5.0, 1.0), "edge": (4.0, 1.0), "contrast": (-9.0, 1.0), "ko": (0.0, 0.0)}
    check("x", good, exp)  # passes: nothing raised
    with pytest.raises(AssertionError, match="main"):
        check("x", {**good, "main": (2.0, 1.0)}, exp)
    with pytest.raises(AssertionError, match="ko"):
        check("x", {**good, "ko": (0.5, 0.1)}, exp)
    with pytest.raises(pytest.xfail.Exception, match="edge: 1 \\+- 1 \\(measured 1 \\+- 1\\)"):
        check("x", {**good, "edge": (1.0, 1.0)}, exp)
    with pytest.raises(AssertionError, match="rows it does not have"):
        check("x", {"main": (5.0, 1.0)}, exp)
    with pytest.raises(AssertionError, match="nan"):
        check("x", {**good, "contrast": (float("nan"), 1.0)}, exp)


def test_the_table_gives_every_row_its_verdict() -> None:
    exp = Expected({"edge": "why"}, frozenset({"contrast"}), frozenset({"ko"}))
    assert verdict("main", 1.0, 1.0, exp) == "**no**"
    assert verdict("edge", 1.0, 1.0, exp) == "no (xfail)"
    assert verdict("edge", 9.0, 1.0, exp) == "at the edge (not asserted)"
    text = table({7: {"main": (6.0, 2.0), "ko": (0.0, 0.0), "contrast": (1.0, 0.0)}},
                 lambda _: exp)
    lines = text.splitlines()
    assert lines[2] == "| 7 | main | 6 | 2 | 3.0 | **no** |"  # 6 - 3 x 2 is not > 0
    assert lines[3] == "| 7 | ko | 0 | 0 | - | = 0 (knock-out) |"
    assert lines[4] == "| 7 | contrast | 1 | 0 | - | measured (not asserted) |"


def test_the_command_line_refuses_bad_arguments_and_writes_atomically(tmp_path, capsys) -> None:
    assert cli("t", lambda jobs: f"jobs {jobs}", ["--jobs", "0"]) == 2
    assert "--jobs 0: must be at least 1" in capsys.readouterr().err
    assert cli("t", lambda jobs: "x", ["--out", str(tmp_path / "no" / "t.md")]) == 2
    out = tmp_path / "t.md"
    assert cli("t", lambda jobs: f"jobs {jobs}", ["--jobs", "3", "--out", str(out)]) == 0
    assert out.read_text() == "jobs 3" and list(tmp_path.iterdir()) == [out]
