"""The report of a patterns run: a console table, ``validation.md`` with one section and one
figure per pattern, and machine-readable ``patterns.csv`` / ``patterns.json``.

Kept apart from :mod:`sim.evidence.patterns` so the statistics never depend on matplotlib.
A failing pattern's section says by how much it fails; one the model cannot evaluate says
what the model does not report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.evidence.patterns import Curve, PatternResult, PatternRun, slug
from sim.io.store import atomic_path, atomic_write_text, to_jsonable

VERDICT = {"holds": "holds", "fails": "FAILS", "cannot be evaluated": "cannot be evaluated",
           "runs failed": "runs failed"}
PLURAL = {"holds": "hold", "fails": "fail", "cannot be evaluated": "cannot be evaluated",
          "runs failed": "with failed runs"}


# --------------------------------------------------------------------------- table


def table_rows(run: PatternRun) -> list[dict[str, str]]:
    """One row per pattern: pattern, statistic, model value with CI, criterion, holds?"""
    rows = []
    for r in run.results:
        ev, head = r.evaluation, r.evaluation.headline
        if head is None:
            value = "; ".join(ev.notes) if ev.status != "cannot be evaluated" else (
                "not reported: " + ", ".join(ev.missing))
            stat = r.pattern.statistic
        else:
            value = head.stat.text()
            if len(ev.checks) > 1:
                value += f" (+{len(ev.checks) - 1} more)"
            stat = head.statistic
        rows.append({"pattern": r.pattern.name, "statistic": stat, "value": value,
                     "criterion": r.pattern.criterion, "holds": VERDICT[ev.status]})
    return rows


def format_table(run: PatternRun) -> str:
    """The console table (long cells shortened; validation.md has them whole)."""
    rows = table_rows(run)
    cols = [("pattern", 30), ("statistic", 40), ("value", 28), ("criterion", 32),
            ("holds", 19)]

    def cut(text: str, n: int) -> str:
        return text if len(text) <= n else text[: n - 1] + "~"

    head = "  ".join(f"{c:<{n}}" for c, n in cols)
    lines = [head, "-" * len(head)]
    for row in rows:
        lines.append("  ".join(f"{cut(row[c], n):<{n}}" for c, n in cols))
    lines.append(f"{run.holding} of {len(run.results)} patterns hold")
    return "\n".join(lines)


# --------------------------------------------------------------------------- figures


def _model_panel(ax: Any, r: PatternResult) -> None:
    ev = r.evaluation
    if not ev.curves:
        text = ("cannot be evaluated:\nthe model does not report\n" + "\n".join(ev.missing)
                if ev.status == "cannot be evaluated" else "\n".join(ev.notes) or ev.status)
        ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=9,
                transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("model")
        return
    for c in ev.curves:
        _draw_curve(ax, c)
    ax.set_xlabel(ev.xlabel)
    ax.set_ylabel(ev.ylabel)
    ax.set_title(f"model ({VERDICT[ev.status]})")
    if len(ev.curves) > 1:
        ax.legend(fontsize=8)


def _draw_curve(ax: Any, c: Curve) -> None:
    import numpy as np

    x = np.asarray(c.x, dtype=float)
    m = np.asarray(c.mean, dtype=float)
    lo, hi = np.asarray(c.low, dtype=float), np.asarray(c.high, dtype=float)
    has_ci = np.isfinite(lo).any()
    if c.categories is not None:
        err = np.vstack([m - lo, hi - m]) if has_ci else None
        ax.errorbar(x, m, yerr=err, fmt="o", capsize=4, label=c.label)
        ax.set_xticks(x, c.categories, fontsize=8, rotation=15)
        ax.set_xlim(x.min() - 0.5, x.max() + 0.5)
        return
    ax.plot(x, m, marker="o", label=c.label)
    if has_ci:
        ax.fill_between(x, lo, hi, alpha=0.25, label=f"{c.label}: 95% CI")


def _empirical_panel(ax: Any, r: PatternResult) -> None:
    e = r.pattern.empirical
    if e.labels:
        ax.bar(range(len(e.y)), e.y, color="0.6")
        ax.set_xticks(range(len(e.y)), e.labels, fontsize=8, rotation=15)
    elif e.y:
        ax.plot(e.x, e.y, color="0.3", marker="." if e.kind == "numbers" else None)
    ax.set_xlabel(e.xlabel)
    ax.set_ylabel(e.ylabel)
    ax.set_title("published numbers" if e.kind == "numbers" else
                 "published shape (illustrative, not data)", fontsize=10)


def write_figure(r: PatternResult, path: Path) -> Path:
    """The model curve with its band beside the empirical shape or numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _model_panel(left, r)
    _empirical_panel(right, r)
    fig.suptitle(r.pattern.title, fontsize=11)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- markdown


def _design_text(r: PatternResult) -> str:
    d = r.design
    arms = "; ".join(
        f"{a.name}" + (f" ({', '.join(f'{k} = {v}' for k, v in a.set.items())})" if a.set
                       else "") for a in d.arms)
    fixed = ", ".join(f"{k} = {v}" for k, v in d.set.items())
    return (f"`scenarios/{d.scenario}`" + (f" with {fixed}" if fixed else "") +
            f"; arms: {arms}; {d.replications} replications on common seeds (root {d.seed}), "
            f"{d.ticks} ticks" + (f"; kept per-tick columns: {', '.join(d.metrics)}"
                                  if d.metrics else ""))


def _section(i: int, r: PatternResult) -> str:
    p, ev = r.pattern, r.evaluation
    lines = [f"## {i}. {p.title} (`{p.name}`): {VERDICT[ev.status]}", "",
             f"**Claim.** {p.claim}", "",
             "**Source.** " + " ".join(p.citations), "",
             f"**Design.** {_design_text(r)}.", "",
             f"**Statistic.** {p.statistic}.", "",
             f"**Criterion.** {p.criterion}.", "",
             f"**Mechanism in the model.** {p.mechanism}", ""]
    if ev.status == "cannot be evaluated":
        lines += ["**Verdict: cannot be evaluated** (counted as not holding): the model does "
                  "not provide " + ", ".join(ev.missing) + ".", ""]
    elif ev.status == "runs failed":
        lines += ["**Verdict: runs failed** (counted as not holding). " + " ".join(ev.notes),
                  ""]
    else:
        lines += ["| statistic | model value [95% CI] | criterion | holds? | by how much |",
                  "|---|---|---|---|---|"]
        for c in ev.checks:
            lines.append(f"| {c.statistic} | {c.stat.text()} | {c.criterion} | "
                         f"{'yes' if c.holds else 'NO'} | {c.note or '-'} |")
        lines.append("")
        if ev.status == "fails":
            failing = [c for c in ev.checks if not c.holds]
            why = "; ".join(f"{c.statistic}: {c.note}" for c in failing) or " ".join(ev.notes)
            lines += [f"**Verdict: fails.** {why}.", ""]
        else:
            lines += ["**Verdict: holds.**", ""]
        for n in ev.notes:
            lines.append(f"- {n}")
        if ev.notes:
            lines.append("")
    lines += [f"**Published.** {p.empirical.text}", "",
              f"![{p.name}](figures/{slug(p.name)}.png)", ""]
    return "\n".join(lines)


def validation_markdown(run: PatternRun) -> str:
    """The whole report."""
    from sim.experiments.store import model_version
    from sim.io.manifest import git_state

    n, hold = len(run.results), run.holding
    counts = pd.Series([r.evaluation.status for r in run.results]).value_counts()
    git = git_state() or {}
    commit = git.get("commit") if isinstance(git, dict) else None
    lines = [
        "# Validation: the patterns the model should reproduce",
        "",
        f"**{hold} of {n} patterns hold.** "
        + ", ".join(f"{int(v)} {PLURAL[k]}" for k, v in counts.items() if k != "holds")
        + (" (a pattern that cannot be evaluated counts as not holding)." if hold < n else "."),
        "",
        "Pattern-oriented modelling (Grimm et al. 2005, *Science* 310: 987-991): each pattern "
        "is a small experiment on the sweep runner, a statistic with its 95% CI and a "
        "criterion on shape or direction, with its source. Arms of a design share their "
        "seeds; CIs are t-intervals over replications or percentile bootstraps that resample "
        f"replications ({2000} resamples). Generated by `peacesim patterns"
        f"{' --quick' if run.quick else ''}` on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d')} (model version {model_version()}"
        + (f", commit {str(commit)[:12]}" if commit else "") + f"; {run.seconds:.0f} s, "
        f"{run.runs_done} runs now, {run.runs_skipped} reused"
        + (f", {run.executor}" if run.executor else "") + ").",
        "",
        "| pattern | statistic | model value [95% CI] | criterion | holds? |",
        "|---|---|---|---|---|",
    ]
    for row in table_rows(run):
        lines.append(f"| `{row['pattern']}` | {row['statistic']} | {row['value']} | "
                     f"{row['criterion']} | {row['holds']} |")
    lines.append("")
    missing = [r for r in run.results if r.evaluation.status == "cannot be evaluated"]
    if missing:
        lines += ["Outputs the model must add before these patterns can be evaluated:", ""]
        lines += [f"- `{r.pattern.name}`: " + ", ".join(r.evaluation.missing) for r in missing]
        lines.append("")
    for i, r in enumerate(run.results, 1):
        lines.append(_section(i, r))
    return "\n".join(lines)


# --------------------------------------------------------------------------- files


def records(run: PatternRun) -> list[dict[str, Any]]:
    """One record per pattern, with its checks (patterns.json)."""
    out = []
    for r in run.results:
        ev = r.evaluation
        out.append({
            "pattern": r.pattern.name, "title": r.pattern.title, "status": ev.status,
            "holds": ev.holds, "citations": list(r.pattern.citations),
            "claim": r.pattern.claim, "statistic": r.pattern.statistic,
            "criterion": r.pattern.criterion, "missing": ev.missing, "notes": ev.notes,
            "design": r.design.spec(), "runs": r.runs,
            "checks": [{"statistic": c.statistic, "value": c.stat.value, "low": c.stat.low,
                        "high": c.stat.high, "criterion": c.criterion, "holds": c.holds,
                        "note": c.note} for c in ev.checks],
            "curves": [vars(c) for c in ev.curves],
        })
    return out


def write_report(run: PatternRun) -> list[Path]:
    """validation.md, figures/<pattern>.png, patterns.csv and patterns.json in ``run.out``."""
    out = run.out
    files = []
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for r in run.results:
        files.append(write_figure(r, out / "figures" / f"{slug(r.pattern.name)}.png"))
    files.append(atomic_write_text(out / "validation.md", validation_markdown(run)))
    rows = []
    for rec in records(run):
        checks = rec["checks"] or [{"statistic": rec["statistic"], "value": None, "low": None,
                                    "high": None, "criterion": rec["criterion"],
                                    "holds": False, "note": "; ".join(rec["missing"]
                                                                      or rec["notes"])}]
        for j, c in enumerate(checks):
            rows.append({"pattern": rec["pattern"], "status": rec["status"], "check": j + 1,
                         **c})
    files.append(atomic_write_text(out / "patterns.csv", pd.DataFrame(rows).to_csv(
        index=False)))
    files.append(atomic_write_text(out / "patterns.json", json.dumps(
        to_jsonable({"holding": run.holding, "patterns": len(run.results),
                     "quick": run.quick, "results": records(run)}), indent=2)))
    return files
