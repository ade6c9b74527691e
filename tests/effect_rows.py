"""What the paired effect tests (``tests/test_effects*.py``) share: the paired difference,
when a row shows its effect, the assert-or-xfail of an effect's rows, the ODD table and the
command line that prints it.

Each effect file measures rows (mean and standard error of a paired difference over common
seeds) and declares which of them are asserted; this module turns rows and declarations
into verdicts, so that every file judges and prints them the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

Z = 3.0  # standard errors a row's mean must clear to show its effect
Row = tuple[float, float]  # mean paired difference, its standard error


def paired(a: np.ndarray, b: np.ndarray) -> Row:
    """Mean and standard error of the paired difference a - b."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if np.isnan(d).any():
        raise ValueError(f"undefined outcome in a paired comparison: {d}")
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


@dataclass(frozen=True)
class Expected:
    """What the design expects of one effect's rows, by label. Every other row must show
    its effect (mean > ``Z`` SE)."""

    not_shown: Mapping[str, str] = field(default_factory=dict)
    """rows that are expected but not asserted, with why: an expected failure if they do
    not show"""
    measured: frozenset[str] = frozenset()
    """rows reported for the table (contrasts, knock-outs), never asserted"""
    exact_zero: frozenset[str] = frozenset()
    """knock-out rows that must be exactly 0: the same runs, seed by seed"""

    @classmethod
    def of(cls, effect: object, not_shown: Mapping[tuple[object, str], str] | None = None,
           measured: set[tuple[object, str]] | None = None,
           exact_zero: set[tuple[object, str]] | None = None) -> Expected:
        """The declarations of ``effect`` from tables keyed by (effect, label)."""
        return cls(
            {label: why for (e, label), why in (not_shown or {}).items() if e == effect},
            frozenset(label for e, label in measured or () if e == effect),
            frozenset(label for e, label in exact_zero or () if e == effect))

    def names(self) -> set[str]:
        return set(self.not_shown) | self.measured | self.exact_zero


def shown(mean: float, se: float, exact_zero: bool = False) -> bool:
    """Whether a row shows its expected effect: mean > ``Z`` SE, or for a knock-out row
    exactly 0 with no spread."""
    if exact_zero:
        return mean == 0.0 and se == 0.0
    return mean - Z * se > 0


def verdict(label: str, mean: float, se: float, expected: Expected) -> str:
    """The table's last column for one row."""
    ok = shown(mean, se, label in expected.exact_zero)
    if label in expected.exact_zero:
        return "= 0 (knock-out)" if ok else "**no**"
    if label in expected.measured:
        return "measured (not asserted)"
    if label in expected.not_shown:
        return "at the edge (not asserted)" if ok else "no (xfail)"
    return "yes" if ok else "**no**"


def check(effect: object, rows: Mapping[str, Row], expected: Expected) -> None:
    """Assert every row of ``effect`` the design expects, after checking the declarations
    name real rows; if a ``not_shown`` row does not show either, the test is an expected
    failure (like ``xfail(strict=False)``, in the same test so that the runs are not
    repeated in another worker) with its numbers and why."""
    unknown = expected.names() - set(rows)
    assert not unknown, f"effect {effect}: declarations name rows it does not have: {unknown}"
    missing = []
    for label, (mean, se) in rows.items():
        assert np.isfinite(mean) and np.isfinite(se), f"effect {effect}: {label}: {mean} +- {se}"
        if label in expected.measured:
            continue
        ok = shown(mean, se, label in expected.exact_zero)
        if label in expected.not_shown:
            if not ok:
                missing.append(f"{label}: {mean:.4g} +- {se:.3g} ({expected.not_shown[label]})")
            continue
        assert ok, f"effect {effect}: {label}: {mean:.4g} +- {se:.3g}"
    if missing:
        pytest.xfail(f"effect {effect}, asserted rows shown; not shown: " + "; ".join(missing))


def table(results: Mapping[object, Mapping[str, Row]],
          expected: Callable[[object], Expected]) -> str:
    """Markdown, as ODD section 9 lists the rows: mean, SE, their ratio and the verdict."""
    lines = ["| effect | comparison | mean difference | SE | mean/SE | shown at 3 SE |",
             "|---|---|---|---|---|---|"]
    for effect, rows in results.items():
        exp = expected(effect)
        for label, (mean, se) in rows.items():
            ratio = f"{mean / se:.1f}" if se > 0 else "-"
            lines.append(f"| {effect} | {label} | {mean:.4g} | {se:.3g} | {ratio} | "
                         f"{verdict(label, mean, se, exp)} |")
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    """``text`` to ``path`` through a temporary file in the same folder (never half a file)."""
    path = path.resolve()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cli(description: str, make_text: Callable[[int], str],
        argv: list[str] | None = None) -> int:
    """``python tests/test_effects_x.py [--jobs N] [--out FILE]``: print (and write) the
    text ``make_text(jobs)`` builds, with the time it took; exit 2 on bad arguments."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, help="also write the table(s) to this file")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: all cores)")
    args = parser.parse_args(argv)
    if args.out is not None and not args.out.resolve().parent.is_dir():
        print(f"--out {args.out}: folder {args.out.parent} does not exist", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"--jobs {args.jobs}: must be at least 1", file=sys.stderr)
        return 2
    start = time.perf_counter()
    text = make_text(args.jobs)
    print(text)
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.out is not None:
        write_atomic(args.out, text)
    return 0
