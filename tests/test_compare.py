"""``peacesim compare``: statistics, the headline and its tables, the self-contained HTML
report, per-capita rates, cost-effectiveness, dominance with confidence, pairing."""

from __future__ import annotations

import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sweep_util import tiny_experiment

import sim
from sim.cli import main
from sim.experiments import compare as compare_mod
from sim.experiments import outcomes as oc
from sim.experiments.compare import (
    bootstrap_means,
    cost_effectiveness_table,
    difference_table,
    dominance_table,
    headline_paragraphs,
    headline_table,
    mean_ci,
    outcome_table,
    pairwise_table,
    pareto_mask,
    welch_half,
    wilson,
)
from sim.experiments.html import Document, Table
from sim.experiments.store import read_summaries
from sim.experiments.sweep import run_sweep, warm_worker

QUIET = {"progress": False, "workers": 0}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def drawdown_sweep(tmp_path_factory):
    """Three strategies x two contexts x 5 replications, with an early exit (relapse table)
    and a two-level factor (arms per design point)."""
    warm_worker()
    folder = tmp_path_factory.mktemp("cmp")
    exp = tiny_experiment(
        folder, reps=5, ticks=40, size=20,
        strategies=("protection_first", "community_engagement", "minimal_presence"),
        extra="[[factors]]\nkey = 'police.professionalism'\nlevels = [0.3, 0.6]\n"
              "[report]\nreference = 'community_engagement'\n"
              "envelope_by = 'police.professionalism'\n",
    )
    text = exp.read_text().replace(
        '"world.height" = 20', '"world.height" = 20\n"mission.drawdown_start" = 10\n'
        '"mission.drawdown_ticks" = 4\n"mission.exit_window" = 10')
    exp.write_text(text)
    out = folder / "sweep"
    run_sweep(exp, out, **QUIET)
    return out


@pytest.fixture(scope="module")
def report(drawdown_sweep):
    """The sweep compared once (the default reference, community_engagement)."""
    return sim.compare(drawdown_sweep)


# --------------------------------------------------------------------------- statistics


def test_statistics_match_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(3, 2, 12), rng.normal(4, 1, 9)
    n, m, h = mean_ci(x)
    lo, hi = stats.t.interval(0.95, n - 1, loc=x.mean(), scale=stats.sem(x))
    assert n == 12 and m == pytest.approx(x.mean()) and h == pytest.approx((hi - lo) / 2)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert welch_half(x, y) == pytest.approx((ci.high - ci.low) / 2)
    assert mean_ci([np.nan, 2.0]) == (1, 2.0, math.nan) or math.isnan(mean_ci([2.0])[2])
    # minimise all three: (1,1,1) dominates (2,2,2); (0,5,5) and (5,0,5) are incomparable
    pts = np.array([[1, 1, 1], [2, 2, 2], [0, 5, 5], [5, 0, 5], [np.nan, 0, 0]])
    assert pareto_mask(pts).tolist() == [True, False, True, True, False]
    for k, n in ((0, 8), (3, 8), (8, 8), (13, 40)):
        w = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert wilson(k, n) == pytest.approx((w.low, w.high))


def test_bootstrap_keeps_pairs_and_is_reproducible():
    rng = np.random.default_rng(3)
    base = rng.normal(100, 30, 40)
    pairs = np.column_stack([base * 0.8 + rng.normal(0, 1, 40), base])  # 20% less, paired
    m = bootstrap_means([pairs])
    assert m.shape == (compare_mod.BOOT, 2)
    assert np.array_equal(m, bootstrap_means([pairs]))  # fixed seed: the same report twice
    rel = m[:, 0] / m[:, 1] - 1
    # resampled together, the pairs keep the -20% tight; apart, it would spread widely
    assert np.quantile(rel, 0.975) - np.quantile(rel, 0.025) < 0.02
    apart = bootstrap_means([pairs[:, :1], pairs[:, 1:]])
    rel_apart = apart[:, 0] / apart[:, 1] - 1
    assert np.quantile(rel_apart, 0.975) - np.quantile(rel_apart, 0.025) > 0.1


def _runs(arms: dict[str, dict[str, np.ndarray]], n: int) -> pd.DataFrame:
    """Synthetic paired runs: one context, one point, replicate r with seed r in every arm."""
    rows = []
    for arm, cols in arms.items():
        for r in range(n):
            rows.append({"context": "c", "strategy": arm, "arm": arm, "point": 0,
                         "replicate": r, "seed": 100 + r,
                         **{k: float(v[r]) for k, v in cols.items()}})
    return pd.DataFrame(rows)


def test_dominated_with_confidence_is_not_fooled_by_noise():
    """C is cheapest on the means only by noise, and clearly worse on casualties than B: on
    the means it looks efficient, with confidence B dominates it (and A)."""
    rng = np.random.default_rng(7)
    n = 30
    luck = rng.normal(0, 5, n)  # shared by the arms: common random numbers
    cost = 1000 + rng.normal(0, 20, n)
    econ = 0.5 + rng.normal(0, 0.02, n)
    arms = {
        "A": {"casualties_total": 40 + luck + rng.normal(0, 1, n), "troop_weeks": cost,
              "final_economy": econ},
        "B": {"casualties_total": 30 + luck + rng.normal(0, 1, n), "troop_weeks": cost,
              "final_economy": econ},
        "C": {"casualties_total": 45 + luck + rng.normal(0, 1, n),
              "troop_weeks": cost - 1 + rng.normal(0, 30, n), "final_economy": econ},
    }
    runs = _runs(arms, n)
    table = outcome_table(runs, list(oc.PARETO))
    pw = pairwise_table(runs, ["A", "B", "C"], oc.PARETO, paired=True)
    dom = dominance_table(pw, table, ["A", "B", "C"], oc.PARETO).set_index("arm")
    assert bool(dom.at["B", "efficient"]) and not dom.at["A", "efficient"]
    assert dom.at["A", "dominated_by"] == "B" and "B" in dom.at["C", "dominated_by"]
    mean_cost = table[table.outcome == "troop_weeks"].set_index("arm")["mean"]
    if mean_cost["C"] < mean_cost["B"]:  # the noise-blind reading calls C efficient
        assert bool(dom.at["C", "efficient_on_means"])
    assert not dom.at["C", "efficient"]
    # a pair's differences are antisymmetric
    ab = pw[(pw.a == "A") & (pw.b == "B")].set_index("outcome")
    ba = pw[(pw.a == "B") & (pw.b == "A")].set_index("outcome")
    assert np.allclose(ab["diff"], -ba["diff"]) and (ab["clear"] == -ba["clear"]).all()


def test_cost_effectiveness_ratio_and_same_cost():
    rng = np.random.default_rng(2)
    n = 20
    luck = rng.normal(0, 3, n)
    ref_cas, ref_cost = 50 + luck, 1000 + rng.normal(0, 10, n)
    runs = _runs({
        "ref": {"casualties_total": ref_cas, "troop_weeks": ref_cost},
        "dear": {"casualties_total": ref_cas - 20 + rng.normal(0, 1, n),
                 "troop_weeks": ref_cost + 2000 + rng.normal(0, 10, n)},
        "same": {"casualties_total": ref_cas - 10 + rng.normal(0, 1, n),
                 "troop_weeks": ref_cost + rng.normal(0, 10, n)},
    }, n)
    ce = cost_effectiveness_table(runs, "ref", paired=True).set_index("arm")
    d = runs[runs.arm == "dear"].reset_index()
    r = runs[runs.arm == "ref"].reset_index()
    averted = (r.casualties_total - d.casualties_total).mean()
    extra = (d.troop_weeks - r.troop_weeks).mean()
    x = ce.loc["dear"]
    assert x["averted"] == pytest.approx(averted) and x["extra_cost"] == pytest.approx(extra)
    assert x["per_1000"] == pytest.approx(1000 * averted / extra)  # about 10 per 1,000
    assert x["per_1000_lo"] < x["per_1000"] < x["per_1000_hi"]
    assert x["cost_differs"] and x["verdict"] == "buys fewer casualties with extra troop-weeks"
    y = ce.loc["same"]
    assert not y["cost_differs"] and math.isnan(y["per_1000"])
    assert y["verdict"].startswith("dominates ref")


def test_headline_when_the_reference_is_best():
    """The reference has the fewest casualties: the headline says so and compares it with
    the best alternative, whose difference is within the noise."""
    from types import SimpleNamespace

    rng = np.random.default_rng(5)
    n = 10
    luck = rng.normal(0, 4, n)
    cost = 1000 + rng.normal(0, 5, n)
    noise = rng.normal(0, 3, n)
    noise += 1.0 - noise.mean()  # on average one more casualty than ref, well within noise
    runs = _runs({"ref": {"casualties_total": 20 + luck, "troop_weeks": cost},
                  "close": {"casualties_total": 20 + luck + noise, "troop_weeks": cost},
                  "bad": {"casualties_total": 60 + luck, "troop_weeks": cost}}, n)
    keys = ["casualties_total", "troop_weeks"]
    table = outcome_table(runs, keys)
    diff = difference_table(runs, keys, "ref", paired=True)
    ce = cost_effectiveness_table(runs, "ref", paired=True)
    head = headline_table(table, diff, ce, ["ref", "close", "bad"], "ref",
                          "casualties_total").iloc[0]
    assert head["best"] == "ref" and head["best_is_reference"]
    assert head["compared"] == "close" and head["clear"] == 0
    title, paras = headline_paragraphs(SimpleNamespace(reference="ref", paired=True), head)
    assert "the reference, ref, is best" in title
    assert "best alternative, **close**" in paras[0] and "cannot tell close and ref" in paras[-1]


def test_html_inline_markup_is_escaped_and_local():
    doc = Document("T <1>")
    doc.p("**bold** `a<b>` [here](#x) [away](https://example.org) *em* <script>")
    doc.add(Table(["a|b"], [[("1,000", 1000.0)], ["x"]]))
    page = doc.html()
    assert "<strong>bold</strong>" in page and "<code>a&lt;b&gt;</code>" in page
    assert '<a href="#x">here</a>' in page and "https://example.org" in page
    assert 'href="https://' not in page and "&lt;script&gt;" in page
    assert '<td data-sort="1000.0">1,000</td>' in page
    md = doc.markdown()
    assert "| a\\|b |" in md and "# T <1>" in md


def test_per_capita_and_missing_keys():
    runs = pd.DataFrame({"casualties_total": [10.0, 20.0], "residents_initial": [500.0, 400.0],
                         "time_to_stability": [12.0, None]})
    d = oc.add_derived(runs)
    assert d["casualties_per_100k"].tolist() == pytest.approx([2000.0, 5000.0])
    assert d["stabilised"].tolist() == [1.0, 0.0]
    # casualties count residents: with a population in people (each resident standing for
    # people_per_resident), the rate per 100,000 people is the rate per resident at the start
    d = oc.add_derived(runs.assign(population=[1000.0, None], people_per_resident=[2.0, None]))
    assert d["casualties_per_100k"].tolist() == pytest.approx([2000.0, 5000.0])
    # without residents at the start: population / people_per_resident (one when missing)
    d = oc.add_derived(runs.drop(columns="residents_initial").assign(
        population=[1000.0, 800.0], people_per_resident=[2.0, None]))
    assert d["casualties_per_100k"].tolist() == pytest.approx([2000.0, 2500.0])
    # nothing to derive from: no column, no error
    assert "casualties_per_100k" not in oc.add_derived(runs[["casualties_total"]])
    assert oc.add_derived(pd.DataFrame({"x": [1]})).columns.tolist() == ["x"]
    # every listed outcome has a label, a unit and a known direction
    for key, o in {**oc.SUMMARY, **oc.METRICS}.items():
        assert o.key == key and o.label and o.better in ("lower", "higher", "")
    assert oc.outcome("no_such_key").label == "no_such_key"


# --------------------------------------------------------------------------- the report


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    nxt = text.find("\n## ", start + 1)
    return text[start:nxt if nxt > 0 else None]


def test_report_tables_and_figures(drawdown_sweep, report, capsys):
    out = drawdown_sweep
    text = report.report_md.read_text()
    for heading in ("## Headline", "## How to read this report", "## Key outcomes",
                    "## Differences from community_engagement", "## Cost-effectiveness",
                    "## Trade-offs", "## All other outcomes", "## Ranking", "## Over time",
                    "## After the exit: relapse", "## About this sweep"):
        assert heading in text, heading
    # friendly labels on the tables, not raw keys; the glossary says what a tick is
    assert "Civilian casualties (lower is better)" in text
    assert "| casualties_total" not in text and "±p" not in text
    assert "one tick of the model is one week" in text.lower()
    for outcome in ("Abuses by police", "Weeks to stability", "Displaced at the end",
                    "Civilian casualties per 100,000"):
        assert outcome in _section(text, "## Key outcomes"), outcome
    # arms are strategy x design point in a full factorial
    assert "| protection_first (professionalism=0.3) |" in text
    assert "60 of 60 finished" in text
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"pareto.png", "differences.png", "envelope_civilian_casualties.png",
            "distribution_casualties_total.png", "distribution_abuses_total.png"} <= figures
    assert set(report.figures) == figures
    for name in figures:
        assert (out / "figures" / name).read_bytes()[:8] == PNG
        assert f"figures/{name}" in text
    # the table matches a direct computation from the stored summaries
    table = pd.read_csv(out / "tables" / "outcomes.csv")
    runs = read_summaries(out)
    sel = runs[(runs.context == "liberia") & (runs.strategy == "minimal_presence")
               & (runs["police.professionalism"] == 0.6)]
    row = table[(table.context == "liberia") & (table.outcome == "casualties_total")
                & (table.arm == "minimal_presence (professionalism=0.6)")].iloc[0]
    n, m, h = mean_ci(sel["casualties_total"])
    assert (row["n"], row["mean"]) == (5, pytest.approx(m))
    assert row["hi"] - row["lo"] == pytest.approx(2 * h)
    per = table[(table.context == "liberia") & (table.outcome == "casualties_per_100k")
                & (table.arm == "minimal_presence (professionalism=0.6)")].iloc[0]
    expected = (sel["casualties_total"] * 1e5 / sel["residents_initial"]).mean()
    assert per["mean"] == pytest.approx(expected)
    relapse = pd.read_csv(out / "tables" / "relapse.csv")
    assert len(relapse) == 2 * 3 * 2 and (relapse["exited"] == 5).all()
    ranking = pd.read_csv(out / "tables" / "ranking.csv")
    assert sorted(ranking.groupby("context")["position"].max()) == [6, 6]
    # the drawdown start (week 10, from the experiment) and the exits are marked
    marks = report.tables["mission_marks"]
    assert (marks["drawdown_start"] == 10).all() and marks["exit_median"].notna().all()
    # the CSVs are the data frames the Python call returned
    for name, path in report.table_files.items():
        assert path.is_file() and len(pd.read_csv(path)) == len(report.tables[name])


def test_headline_numbers_equal_the_tables(report):
    text = report.report_md.read_text()
    head = report.tables["headline"]
    diff, table = report.tables["differences"], report.tables["outcomes"]
    assert set(head["context"]) == {"baseline", "liberia"}
    for _, h in head.iterrows():
        t = table[(table.context == h["context"]) & (table.outcome == "casualties_total")]
        best = t.loc[t["mean"].idxmin()]
        assert h["best"] == best["arm"] and h["best_mean"] == best["mean"]
        d = diff[(diff.context == h["context"]) & (diff.arm == h["compared"])]
        cas = d[d.outcome == "casualties_total"].iloc[0]
        cost = d[d.outcome == "troop_weeks"].iloc[0]
        per = d[d.outcome == "casualties_per_100k"].iloc[0]
        assert (h["diff"], h["lo"], h["hi"]) == (cas["diff"], cas["lo"], cas["hi"])
        assert (h["rel"], h["rel_lo"], h["rel_hi"]) == (cas["rel"], cas["rel_lo"],
                                                         cas["rel_hi"])
        assert (h["cost_diff"], h["cost_lo"]) == (cost["diff"], cost["lo"])
        assert h["per100k_diff"] == per["diff"]
        assert h["clear"] == cas["clear"]
        # the same strings in the headline box and in the context's difference table
        effect = oc.fmt_ci(cas["diff"], cas["lo"], cas["hi"], signed=True)
        box = _section(text, "## Headline")
        assert f"{effect} civilians killed per run" in box
        ctx_table = text[text.index(f"### {h['context']}",
                                    text.index("## Differences from")):]
        row = next(line for line in ctx_table.splitlines()
                   if line.startswith(f"| {h['compared']} |"))
        assert effect in row
        assert oc.fmt_ci(cost["diff"], cost["lo"], cost["hi"], signed=True) in box
        assert oc.fmt_ci(cost["diff"], cost["lo"], cost["hi"], signed=True) in row
        sure = "very unlikely to be chance" if h["clear"] else "cannot tell"
        assert sure in box


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "action", "data", "poster") and v is not None:
                self.refs.append((tag, k, v))


def assert_self_contained(page: Path, figures: int) -> None:
    """Every src/href of the page is an anchor or embedded data; nothing is fetched."""
    text = page.read_text(encoding="utf-8")
    p = _Refs()
    p.feed(text)
    for tag, attr, value in p.refs:
        assert value.startswith("#") or value.startswith("data:"), (tag, attr, value[:80])
    assert "link" not in p.tags and "iframe" not in p.tags
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert not re.search(r"<script[^>]+src=", text)
    imgs = [v for t, a, v in p.refs if t == "img"]
    assert len(imgs) == figures and all(v.startswith("data:image/png;base64,") for v in imgs)


def test_html_report_is_self_contained(report):
    assert report.report_html.is_file()
    assert_self_contained(report.report_html, len(report.figures))
    page = report.report_html.read_text()
    assert 'class="headline"' in page and 'class="sortable"' in page
    assert "casualties_total</th>" not in page


@pytest.mark.browser
def test_html_report_in_chromium_makes_no_request(report, tmp_path):
    """Opened in headless chromium with every request intercepted: only the file itself
    loads, and clicking a column header sorts the table."""
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not found on PATH")
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update"])
        try:
            page = browser.new_page()

            def route(r):
                requests.append(r.request.url)
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    r.abort()

            page.route("**/*", route)
            page.goto(report.report_html.as_uri())
            page.wait_for_load_state("load")
            assert page.locator("section.headline").count() == 2
            table = page.locator("table.sortable").nth(1)
            first = table.locator("tbody tr td").first.inner_text()
            header = table.locator("th").nth(1)
            header.click()
            asc = table.locator("tbody tr td").first.inner_text()
            header.click()
            desc = table.locator("tbody tr td").first.inner_text()
            assert asc != desc and first  # the rows were reordered both ways
            assert page.evaluate("document.images.length") == len(report.figures)
            assert page.evaluate(
                "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        finally:
            browser.close()
    outside = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert not outside, outside


def test_cli_options_and_errors(drawdown_sweep, capsys):
    out = drawdown_sweep
    assert main(["compare", str(out), "--reference", "minimal_presence",
                 "--outcome", "casualties_total", "--outcome", "abuses_total"]) == 0
    text = (out / "report.md").read_text()
    assert capsys.readouterr().out.strip() == str(out / "report.md")
    assert "Differences from minimal_presence" in text
    key = _section(text, "## Key outcomes")
    assert "Abuses by police" in key and "Economy at the end" not in key
    assert main(["compare", str(out), "--reference", "nobody"]) == 2
    assert "not a strategy of this sweep" in capsys.readouterr().err
    assert main(["compare", str(out), "--outcome", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "casualties_total" in err  # lists the available ones
    assert main(["compare", str(out), "--headline", "nope"]) == 2


def test_compare_bad_folder_exit_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "nowhere")]) == 2


def test_missing_and_future_summary_keys(drawdown_sweep, tmp_path, monkeypatch):
    """Runs without troop-weeks, population or exits still give a report; the keys the model
    will report (population, monthly rates) are used when present."""
    work = tmp_path / "sweep"
    shutil.copytree(drawdown_sweep, work, ignore=shutil.ignore_patterns(
        "figures", "tables", "report.*"))
    real = read_summaries

    def without(out, design=None):
        runs = real(out, design).drop(columns=["troop_weeks", "residents_initial",
                                               "time_to_stability", "exit_tick"])
        return runs.drop(columns=[c for c in ("population", "civilian_deaths_per_100k_month")
                                  if c in runs])

    monkeypatch.setattr(compare_mod, "read_summaries", without)
    figure_heavy = (compare_mod.section_outcomes, compare_mod.section_differences,
                    compare_mod.section_time)
    sections = [s for s in compare_mod.SECTIONS if s not in figure_heavy]
    res = compare_mod.compare(work, sections=sections)
    text = res.report_md.read_text()
    assert "## Headline" in text and "## Trade-offs" in text
    assert "## Cost-effectiveness" not in text and "**Cost-effectiveness**" not in text
    assert "Not available: the runs lack troop_weeks" in text
    assert "casualties_per_100k" not in set(res.tables["outcomes"]["outcome"])

    def future(out, design=None):
        r = real(out, design)
        return r.assign(population=2 * r["residents_initial"], people_per_resident=2.0,
                        civilian_deaths_per_100k_month=r["casualties_total"] / 3.0,
                        peacekeeper_deaths=1.0)

    monkeypatch.setattr(compare_mod, "read_summaries", future)
    res = compare_mod.compare(work, sections=sections)
    t = res.tables["outcomes"]
    per = t[t.outcome == "casualties_per_100k"].iloc[0]
    runs = future(work)
    sel = runs[(runs.context == per["context"]) & (runs.strategy == per["strategy"])]
    if "police.professionalism" in sel:
        sel = sel[sel["police.professionalism"] == 0.3]
    # casualties count residents, each standing for 2 people of the population: per 100,000
    # people is per 100,000 residents at the start
    expected = (sel["casualties_total"] * 2 * 1e5 / sel["population"]).mean()
    assert expected == pytest.approx((sel["casualties_total"] * 1e5
                                      / sel["residents_initial"]).mean())
    assert per["mean"] == pytest.approx(expected)
    text = res.report_md.read_text()
    assert "Civilian deaths per 100,000 a month" in text and "Peacekeepers killed" in text


def test_pairing_on_common_seeds_narrows_the_interval(tmp_path):
    """Measured: the CI of a strategy difference from paired runs on common seeds is
    narrower than the CI the same number of runs gives with independent seeds."""
    warm_worker()
    common, independent = tmp_path / "common", tmp_path / "independent"
    kw = {"reps": 16, "ticks": 60, "size": 20, "contexts": ("baseline",)}
    run_sweep(tiny_experiment(tmp_path, name="c.toml", **kw), common, **QUIET)
    run_sweep(tiny_experiment(tmp_path, name="i.toml", **kw,
                              extra='seed_policy = "independent"'), independent, **QUIET)
    outcomes = ["arrests_total", "casualties_total", "mean_share_active", "final_economy"]

    def arms(out):
        runs = read_summaries(out)
        return runs.assign(arm=runs["strategy"])

    paired = difference_table(arms(common), outcomes, "protection_first", paired=True)
    unpaired = difference_table(arms(independent), outcomes, "protection_first",
                                paired=False)
    widths = pd.DataFrame({
        "common_paired": paired.set_index("outcome")["half_paired"],
        "common_unpaired": paired.set_index("outcome")["half_unpaired"],
        "independent": unpaired.set_index("outcome")["half_unpaired"],
    })
    print("\nhalf-widths of the 95% CI of community_engagement - protection_first:\n",
          widths.to_string())
    # arrests depend strongly on the shared initial world (correlation across strategies
    # ~0.7), so pairing pays off; outcomes that decorrelate gain little (see the printout)
    arrests = widths.loc["arrests_total"]
    assert arrests["common_paired"] < 0.8 * arrests["independent"]
    assert arrests["common_paired"] < 0.8 * arrests["common_unpaired"]
    # the independent report is unpaired and says so
    res = compare_mod.compare(independent)
    assert "cannot be matched" in res.report_md.read_text()
    assert res.tables["differences"]["half_paired"].isna().all()
