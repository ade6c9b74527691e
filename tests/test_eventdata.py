"""Event data in (issue 14): ACLED, UCDP GED and Geo-PKO readers, region and period selection,
the statistics, district mapping, and ``peacesim data summarise`` with its errors.

Expected values are counted here in plain Python from the rows the synthetic generator
writes (never through the code under test), or written out by hand for tiny files.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.evidence import (
    AdminDistricts,
    Box,
    BoxDistricts,
    DataError,
    district_ids,
    read_deployments,
    read_events,
    select,
    select_deployments,
    summarise,
    summarise_deployments,
    summarise_file,
)
from sim.evidence import synthetic as syn

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "data" / "examples"
ACLED = EXAMPLES / syn.FILES["acled"]
UCDP = EXAMPLES / syn.FILES["ucdp-ged"]
GEOPKO = EXAMPLES / syn.FILES["geo-pko"]
CIV, BATTLES = "Violence against civilians", "Battles"


@pytest.fixture(scope="module")
def acled_rows() -> list[dict[str, str]]:
    return syn.acled_rows()


@pytest.fixture(scope="module")
def ucdp_rows() -> list[dict[str, str]]:
    return syn.ucdp_rows()


@pytest.fixture(scope="module")
def geo_rows() -> list[dict[str, str]]:
    return syn.geo_pko_rows()


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["data", "summarise", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _write_acled(path: Path, rows: list[tuple], extra_header: str = "notes") -> Path:
    """A small ACLED-format file: (date, event_type, fatalities, admin1, admin2, lat, lon)."""
    lines = [f"event_date,event_type,actor1,admin1,admin2,latitude,longitude,fatalities,"
             f"{extra_header}"]
    for date, kind, deaths, a1, a2, lat, lon in rows:
        lines.append(f"{date},{kind},Some actor,{a1},{a2},{lat},{lon},{deaths},x")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- synthetic files


def test_committed_examples_are_what_the_generator_writes(tmp_path):
    """The shipped files regenerate byte for byte from the committed script and seed."""
    for name, text in syn.render().items():
        assert (EXAMPLES / name).read_text(encoding="utf-8") == text, name
    written = syn.write_examples(tmp_path)
    assert sorted(p.name for p in written) == sorted(syn.FILES.values())
    assert syn.render(seed=syn.SEED + 1) != syn.render()  # the seed matters


def test_synthetic_acled_matches_its_brief(acled_rows):
    """~100-300 rows; 2-5 civilian fatalities and 5-15 battle deaths per month, 3-5 years."""
    assert 100 <= len(acled_rows) <= 300
    years = {r["year"] for r in acled_rows}
    assert 3 <= len(years) <= 5
    months = 12 * len(years)
    civ = sum(int(r["fatalities"]) for r in acled_rows if r["event_type"] == CIV) / months
    bat = sum(int(r["fatalities"]) for r in acled_rows if r["event_type"] == BATTLES) / months
    assert 2 <= civ <= 5 and 5 <= bat <= 15
    assert any("\n" in r["notes"] for r in acled_rows)  # a quoted multi-line cell to parse


# --------------------------------------------------------------------------- readers


def test_read_acled_counts_equal_the_rows(acled_rows):
    ev = read_events(ACLED, "acled")
    assert list(ev.columns) == ["date", "kind", "fatalities", "admin1", "admin2", "country",
                                "lat", "lon", "actor", "source"]
    assert len(ev) == len(acled_rows)
    kinds = Counter({CIV: "civilian", BATTLES: "battle"}.get(r["event_type"], "other")
                    for r in acled_rows)
    assert ev["kind"].value_counts().to_dict() == dict(kinds)
    for kind, acled_type in (("civilian", CIV), ("battle", BATTLES)):
        want = sum(int(r["fatalities"]) for r in acled_rows if r["event_type"] == acled_type)
        assert ev.loc[ev["kind"] == kind, "fatalities"].sum() == want
    assert ev["date"].min() == pd.Timestamp(min(r["event_date"] for r in acled_rows))
    assert ev["actor"].iloc[0] == acled_rows[0]["actor1"]
    assert ev["lat"].iloc[0] == float(acled_rows[0]["latitude"])
    assert set(ev["source"]) == {"acled"}


def test_read_ucdp_counts_equal_the_rows(ucdp_rows):
    ev = read_events(UCDP, "ucdp-ged")
    assert len(ev) == len(ucdp_rows)
    for kind, types in (("civilian", {"3"}), ("battle", {"1", "2"})):
        want = [r for r in ucdp_rows if r["type_of_violence"] in types]
        got = ev[ev["kind"] == kind]
        assert len(got) == len(want)
        assert got["fatalities"].sum() == sum(int(r["best"]) for r in want)
    assert (ev["kind"] != "other").all()
    assert ev["admin1"].iloc[0] == ucdp_rows[0]["adm_1"]  # 'Northern province'
    assert ev["date"].iloc[0] == pd.Timestamp(ucdp_rows[0]["date_start"][:10])


def test_acled_long_dates_and_latin1_file(tmp_path):
    path = tmp_path / "old.csv"
    path.write_bytes(
        "event_date,event_type,actor1,admin1,admin2,latitude,longitude,fatalities\n"
        "15 March 2019,Battles,A,Région Nord,Abéché,1,2,3\n"
        "2019-03-16,Protests,B,Région Nord,Abéché,1,2,0\n".encode("latin-1"))
    ev = read_events(path, "acled")
    assert list(ev["date"]) == [pd.Timestamp("2019-03-15"), pd.Timestamp("2019-03-16")]
    assert ev["admin2"].iloc[0] == "Abéché"
    assert list(ev["kind"]) == ["battle", "other"]


# --------------------------------------------------------------------------- selection


def test_admin_filters_are_case_insensitive_and_widen_within_a_level(acled_rows):
    ev = read_events(ACLED, "acled")
    north = [r for r in acled_rows if r["admin1"] == "Northern"]
    assert len(select(ev, "admin1=nORTHERN ")) == len(north)
    assert len(select(ev, "admin2=kora,LUME")) == len(north)  # Kora and Lume are Northern
    assert len(select(ev, ["admin2=Kora", "admin2=Lume"])) == len(north)
    assert len(select(ev, {"admin2": ["Kora", "Lume"]})) == len(north)
    kora = [r for r in acled_rows if r["admin2"] == "Kora"]
    assert len(select(ev, ["admin1=Northern", "admin2=Kora"])) == len(kora)  # levels narrow
    assert len(select(ev, "country=examplia")) == len(acled_rows)


def test_box_filter_and_box_with_admin(acled_rows):
    ev = read_events(ACLED, "acled")
    box = (-11.5, -10.2, -19.8, -18.5)

    def inside(r):
        return box[0] <= float(r["latitude"]) <= box[1] and \
            box[2] <= float(r["longitude"]) <= box[3]

    want = [r for r in acled_rows if inside(r)]
    assert 0 < len(want) < len(acled_rows)
    assert len(select(ev, "-11.5,-10.2,-19.8,-18.5")) == len(want)
    assert len(select(ev, "box=-11.5,-10.2,-19.8,-18.5")) == len(want)
    assert len(select(ev, Box(*box))) == len(want)
    both = [r for r in want if r["admin1"] == "Northern"]
    assert 0 < len(both) < len(want)
    assert len(select(ev, ["admin1=Northern", "box=-11.5,-10.2,-19.8,-18.5"])) == len(both)


def test_period_bounds_are_inclusive_days_and_months(acled_rows):
    ev = read_events(ACLED, "acled")
    dates = sorted(r["event_date"] for r in acled_rows)
    day = dates[len(dates) // 2]
    assert len(select(ev, start=day)) == sum(d >= day for d in dates)
    assert len(select(ev, end=day)) == sum(d <= day for d in dates)
    in_2017_03 = sum(d.startswith("2017-03") for d in dates)
    assert in_2017_03 > 0
    assert len(select(ev, start="2017-03", end="2017-03")) == in_2017_03
    assert len(select(ev, start="2017-03-01", end="2017-03-31")) == in_2017_03


def test_summary_of_the_synthetic_file_equals_hand_counts(acled_rows):
    s = summarise(select(read_events(ACLED, "acled"), "admin1=Southern", "2017-01", "2018-12"))
    rows = [r for r in acled_rows if r["admin1"] == "Southern"
            and "2017-01-01" <= r["event_date"] <= "2018-12-31"]
    assert s["months"] == 24 and s["start"] == "2017-01" and s["end"] == "2018-12"
    assert s["events"] == len(rows)
    assert s["events_per_month"] == pytest.approx(len(rows) / 24)
    civ = sum(int(r["fatalities"]) for r in rows if r["event_type"] == CIV)
    bat = [r for r in rows if r["event_type"] == BATTLES]
    assert s["civilian_fatalities_per_month"] == pytest.approx(civ / 24)
    assert s["battle_events_per_month"] == pytest.approx(len(bat) / 24)
    assert s["battle_fatalities_per_month"] == pytest.approx(
        sum(int(r["fatalities"]) for r in bat) / 24)
    per_month = Counter(r["event_date"][:7] for r in rows)
    assert [m["month"] for m in s["monthly"]] == [f"{y}-{m:02d}" for y in (2017, 2018)
                                                  for m in range(1, 13)]
    assert {m["month"]: m["events"] for m in s["monthly"]} == {
        m["month"]: per_month.get(m["month"], 0) for m in s["monthly"]}


def test_months_run_from_first_to_last_event_or_over_the_given_period(tmp_path):
    path = _write_acled(tmp_path / "a.csv", [("2020-01-31", CIV, 2, "A", "a", 0, 0),
                                             ("2020-03-01", CIV, 4, "A", "a", 0, 0)])
    ev = read_events(path, "acled")
    s = summarise(ev)
    assert (s["start"], s["end"], s["months"]) == ("2020-01", "2020-03", 3)
    assert s["civilian_fatalities_per_month"] == pytest.approx(2.0)
    # a period set by select counts its quiet months too
    s = summarise(select(ev, start="2019-11-15", end="2020-06"))
    assert (s["start"], s["end"], s["months"]) == ("2019-11", "2020-06", 8)
    assert s["civilian_fatalities_per_month"] == pytest.approx(6 / 8)
    # and so does one given to summarise
    assert summarise(ev, start="2020-01", end="2020-12")["months"] == 12


def test_per_100k_arithmetic(tmp_path):
    path = _write_acled(tmp_path / "a.csv", [
        ("2020-01-10", CIV, 3, "A", "a", 0, 0), ("2020-02-10", CIV, 4, "A", "a", 0, 0),
        ("2020-02-11", BATTLES, 10, "A", "a", 0, 0), ("2020-02-12", "Riots", 1, "A", "a", 0, 0)])
    s = summarise(read_events(path, "acled"), population=50_000)
    assert s["months"] == 2
    assert s["civilian_fatalities_per_month"] == pytest.approx(3.5)
    assert s["civilian_fatalities_per_100k_month"] == pytest.approx(7.0)
    assert s["battle_fatalities_per_100k_month"] == pytest.approx(10.0)
    assert s["fatalities_per_100k_month"] == pytest.approx(18 / 2 * 2)
    assert s["battle_events_per_month"] == pytest.approx(0.5)
    assert s["other_events"] == 1
    assert "civilian_fatalities_per_100k_month" not in summarise(read_events(path, "acled"))
    with pytest.raises(DataError, match="population"):
        summarise(read_events(path, "acled"), population=0)


# --------------------------------------------------------------------------- exit trend


def test_exit_trend_compares_twelve_months_each_side(tmp_path):
    rows = [("2019-01-05", CIV, 100, "A", "a", 0, 0)]  # 17 months before: in no window
    rows += [(f"{y}-{m:02d}-15", CIV, 2, "A", "a", 0, 0)  # 2 a month before
             for y, m in [(2019, m) for m in range(6, 13)] + [(2020, m) for m in range(1, 6)]]
    rows += [("2020-06-20", CIV, 500, "A", "a", 0, 0)]  # the exit month: in neither
    rows += [(f"{y}-{m:02d}-15", CIV, 5, "A", "a", 0, 0)  # 5 a month after
             for y, m in [(2020, m) for m in range(7, 13)] + [(2021, m) for m in range(1, 7)]]
    rows += [("2021-03-03", BATTLES, 7, "A", "a", 0, 0)]
    ev = read_events(_write_acled(tmp_path / "a.csv", rows), "acled")
    s = summarise(ev, exit_date="2020-06-30")
    assert (s["exit_month"], s["exit_months_before"], s["exit_months_after"]) == \
        ("2020-06", 12, 12)
    assert s["civilian_fatalities_per_month_before_exit"] == pytest.approx(2.0)
    assert s["civilian_fatalities_per_month_after_exit"] == pytest.approx(5.0)
    assert s["relapse_ratio_civilian"] == pytest.approx(2.5)
    assert s["battle_fatalities_per_month_after_exit"] == pytest.approx(7 / 12)
    assert s["relapse_ratio_battle"] is None  # nothing before: no ratio
    # the windows are cut to the months covered
    s = summarise(select(ev, end="2020-12"), exit_date="2020-06")
    assert s["exit_months_after"] == 6
    assert s["civilian_fatalities_per_month_after_exit"] == pytest.approx(5.0)
    s = summarise(select(ev, start="2020-05", end="2020-06"), exit_date="2020-06")
    assert s["exit_months_after"] == 0 and s["relapse_ratio_civilian"] is None


def test_exit_trend_on_the_synthetic_file(acled_rows):
    s = summarise(read_events(ACLED, "acled"), exit_date=syn.EXIT_MONTH)
    before = {f"2017-{m:02d}" for m in (11, 12)} | {f"2018-{m:02d}" for m in range(1, 11)}
    after = {"2018-12"} | {f"2019-{m:02d}" for m in range(1, 12)}

    def per_month(months, kind):
        return sum(int(r["fatalities"]) for r in acled_rows
                   if r["event_date"][:7] in months and r["event_type"] == kind) / 12

    assert s["relapse_ratio_civilian"] == pytest.approx(per_month(after, CIV) /
                                                        per_month(before, CIV))
    assert s["relapse_ratio_battle"] == pytest.approx(per_month(after, BATTLES) /
                                                      per_month(before, BATTLES))
    assert s["relapse_ratio_civilian"] > 1  # the synthetic story: worse after UNMIX left


# --------------------------------------------------------------------------- districts


def test_district_ids_follow_the_models_convention():
    """Cell centres of a W x H grid laid over the box land in the model's district of that
    cell: min(x * K // W, K - 1) * K + min(y * K // H, K - 1) (sim/model/layer.py), x west
    to east, y south to north."""
    box, k = Box(-12, -10, -20, -17), 4
    for w, h, grid in ((30, 20, True), (20, 12, True), (20, 12, False), (8, 16, False)):
        x, y = np.meshgrid(np.arange(w), np.arange(h), indexing="ij")
        lon = box.lon_min + (x + 0.5) / w * (box.lon_max - box.lon_min)
        lat = box.lat_min + (y + 0.5) / h * (box.lat_max - box.lat_min)
        model = np.minimum(x * k // w, k - 1) * k + np.minimum(y * k // h, k - 1)
        size = (w, h) if grid else (None, None)
        got = district_ids(lat.ravel(), lon.ravel(), box, k, *size)
        assert (got == model.ravel()).all(), (w, h, grid)
    corners = district_ids([-12, -10, -12, -10, -9, np.nan], [-20, -20, -17, -17, -18, -18],
                           box, k)
    assert list(corners) == [0, k - 1, (k - 1) * k, k * k - 1, -1, -1]  # SW, NW, SE, NE, out
    assert list(district_ids([-10, -12], [-17, -20], box, k, 30, 20)) == [k * k - 1, 0]


def test_district_shares_sum_to_one_and_count_events(acled_rows):
    box = Box(*syn.BOX)
    s = summarise(read_events(ACLED, "acled"), districts=BoxDistricts(box, 4))
    assert s["districts"] == 16 and len(s["district_shares"]) == 16
    assert sum(s["district_shares"]) == pytest.approx(1.0)
    want = Counter(int(district_ids([float(r["latitude"])], [float(r["longitude"])], box, 4)[0])
                   for r in acled_rows)
    assert s["district_events"] == [want.get(d, 0) for d in range(16)]
    # a box over only part of the region: events outside are counted apart
    s = summarise(read_events(ACLED, "acled"), districts=BoxDistricts(Box(-11, -10, -20, -18), 2))
    north = sum(r["admin1"] == "Northern" for r in acled_rows)
    assert sum(s["district_events"]) == north
    assert s["events_outside_districts"] == len(acled_rows) - north
    assert sum(s["district_shares"]) == pytest.approx(1.0)


def test_admin_units_mapped_onto_districts(acled_rows):
    dm = AdminDistricts({"kora": 0, "LUME": 1, "Mbari": 3}, level="admin2", total=5)
    s = summarise(read_events(ACLED, "acled"), districts=dm)
    n = Counter(r["admin2"] for r in acled_rows)
    assert s["district_events"] == [n["Kora"], n["Lume"], 0, n["Mbari"], 0]
    assert s["events_outside_districts"] == n["Tesso"]
    assert sum(s["district_shares"]) == pytest.approx(1.0)
    with pytest.raises(DataError, match="below the 2 districts"):
        AdminDistricts({"Kora": 3}, total=2)
    with pytest.raises(DataError, match="admin1 or admin2"):
        AdminDistricts({"Kora": 0}, level="admin3")


# --------------------------------------------------------------------------- Geo-PKO


def _geo_expected(rows, mission):
    """Troops per month, a location on two maps of one month counted once at its max."""
    per = {}
    for r in rows:
        if r["mission"] != mission or r["no.troops"] == "unknown":
            continue
        key = (f"{int(r['year'])}-{int(r['month']):02d}", r["location"])
        per[key] = max(per.get(key, 0), int(r["no.troops"]))
    months = {}
    for (month, _), troops in per.items():
        months[month] = months.get(month, 0) + troops
    return months


def test_geo_pko_summary_equals_hand_counts(geo_rows):
    dep = read_deployments(GEOPKO)
    assert len(dep) == len(geo_rows)
    assert dep["troops"].isna().sum() == sum(r["no.troops"] == "unknown" for r in geo_rows)
    s = summarise_deployments(select_deployments(dep, "mission=unmix"))
    months = _geo_expected(geo_rows, "UNMIX")
    assert s["missions"] == ["UNMIX"]
    assert s["months_with_map"] == len(months) == 30
    assert s["troops_max"] == max(months.values())
    assert s["troops_mean"] == pytest.approx(sum(months.values()) / len(months))
    assert {m["month"]: m["troops"] for m in s["monthly"]} == months
    may = [r for r in geo_rows if r["year"] == "2015" and r["month"] == "5"]
    assert len({r["source"] for r in may}) == 2  # the month with two maps
    assert [m["maps"] for m in s["monthly"] if m["month"] == "2015-05"] == [2]
    assert s["exit_month"] == s["last_month_with_troops"] == syn.EXIT_MONTH
    assert s["first_month_with_troops"] == "2014-01"
    assert s["locations"] == 6
    everything = summarise_deployments(dep)
    assert everything["missions"] == ["UNMIX", "UNMOB"] and everything["exit_month"] == "2019-10"


@pytest.mark.parametrize("troops, mission, month", [("No.troops", "Mission", "Month"),
                                                    ("no_troops", "mission", "month")])
def test_geo_pko_column_spellings(tmp_path, troops, mission, month):
    text = GEOPKO.read_text(encoding="utf-8").split("\n", 1)
    header = text[0].replace("no.troops", troops).replace("mission", mission) \
                    .replace(",month,", f",{month},")
    path = tmp_path / "v1.csv"
    path.write_text(header + "\n" + text[1], encoding="utf-8")
    a = summarise_file(path, "geo-pko", region="mission=UNMIX")
    b = summarise_file(GEOPKO, "geo-pko", region="mission=UNMIX")
    assert {k: v for k, v in a.items() if k != "file"} == {k: v for k, v in b.items()
                                                          if k != "file"}


def test_geo_pko_month_names_and_period(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("year,month,mission,location,latitude,longitude,no.troops\n"
                    "2010,March,M,A,1,2,100\n2010,Mar,M,B,1,2,50\n2010,5,M,A,1,2,unknown\n"
                    "2011,1,M,A,1,2,0\n", encoding="utf-8")
    s = summarise_deployments(read_deployments(path))
    assert [(m["month"], m["troops"], m["locations"]) for m in s["monthly"]] == [
        ("2010-03", 150, 2), ("2010-05", 0, 1), ("2011-01", 0, 1)]
    assert s["exit_month"] == "2010-03" and s["rows_unknown_troops"] == 1
    s = summarise_deployments(select_deployments(read_deployments(path), start="2010-04-20"))
    assert s["start"] == "2010-04" and s["months_with_map"] == 2 and s["exit_month"] is None


# --------------------------------------------------------------------------- the CLI


def test_cli_json_has_the_issue_keys(capsys):
    code, out, err = _cli(capsys, str(ACLED), "--format", "acled", "--json")
    assert code == 0, err
    s = json.loads(out)
    for key in ("months", "events_per_month", "civilian_fatalities_per_month",
                "battle_events_per_month", "battle_fatalities_per_month"):
        assert key in s, key
    assert "civilian_fatalities_per_100k_month" not in s
    code, out, err = _cli(capsys, str(ACLED), "--format", "acled", "--json", "--population",
                          "850000", "--exit", "2018-11", "--districts", "4",
                          "--box=-12,-10,-20,-18", "--region", "country=Examplia",
                          "--start", "2016-01-01", "--end", "2019-12-31")
    assert code == 0, err
    s = json.loads(out)
    for key in ("civilian_fatalities_per_100k_month", "battle_fatalities_per_100k_month",
                "relapse_ratio_civilian", "relapse_ratio_battle", "district_shares"):
        assert key in s, key
    assert s["months"] == 48 and sum(s["district_shares"]) == pytest.approx(1.0)
    assert s == json.loads(json.dumps(summarise_file(
        ACLED, "acled", region=["country=Examplia"], start="2016-01-01", end="2019-12-31",
        population=850000, exit_date="2018-11", districts=4, box="-12,-10,-20,-18"),
        default=str)) | {"file": str(ACLED)}


def test_cli_table_states_units(capsys):
    code, out, err = _cli(capsys, str(UCDP), "--format", "ucdp-ged", "--population", "1e6",
                          "--exit", "2018-11", "--region", "box=-12,-10,-20,-18",
                          "--districts", "2")
    assert code == 0, err
    assert "per month" in out and "per 100,000 people per month" in out
    assert "48 calendar months" in out and "after the exit in 2018-11" in out
    assert "[ 3]" in out  # the district grid, north-west block
    code, out, err = _cli(capsys, str(GEOPKO), "--format", "geo-pko", "--region",
                          "mission=UNMIX")
    assert code == 0, err
    assert "last (the exit month, for --exit): 2018-11" in out
    code, out, err = _cli(capsys, str(GEOPKO), "--format", "geo-pko", "--json")
    assert code == 0 and json.loads(out)["troops_max"] > 0


def _one_line_error(capsys, *args: str) -> str:
    code, out, err = _cli(capsys, *args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_cli_missing_column(capsys, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("event_date,event_type,actor1,admin1,admin2,latitude,longitude\n"
                    "2020-01-01,Battles,A,B,C,1,2\n")
    msg = _one_line_error(capsys, str(path), "--format", "acled")
    assert str(path) in msg and "missing column(s) fatalities" in msg


def test_cli_bad_date_and_bad_numbers(capsys, tmp_path):
    path = _write_acled(tmp_path / "d.csv", [("2020-01-01", CIV, 1, "A", "a", 0, 0),
                                             ("2020-02-30", CIV, 1, "A", "a", 0, 0)])
    msg = _one_line_error(capsys, str(path), "--format", "acled")
    assert "data row 2, column event_date: '2020-02-30' is not a date" in msg
    path = _write_acled(tmp_path / "n.csv", [("2020-01-01", CIV, "three", "A", "a", 0, 0)])
    msg = _one_line_error(capsys, str(path), "--format", "acled")
    assert "data row 1, column fatalities: 'three' is not a whole number" in msg
    path = _write_acled(tmp_path / "i.csv", [("2020-01-01", CIV, "inf", "A", "a", 0, 0)])
    assert "column fatalities: 'inf' is not a whole number" in _one_line_error(
        capsys, str(path), "--format", "acled")
    path = _write_acled(tmp_path / "l.csv", [("2020-01-01", CIV, 1, "A", "a", 95, 0)])
    assert "column latitude: '95' is not a number from -90 to 90" in _one_line_error(
        capsys, str(path), "--format", "acled")
    path = tmp_path / "u.csv"
    path.write_text(UCDP.read_text(encoding="utf-8").replace(",Clear,1,", ",Clear,4,", 1))
    assert "data row 1, column type_of_violence: '4' is not a whole number from 1 to 3" in \
        _one_line_error(capsys, str(path), "--format", "ucdp-ged")
    path = tmp_path / "g.csv"
    path.write_text("year,month,mission,location,latitude,longitude,no.troops\n"
                    "2010,13,M,A,1,2,100\n")
    assert "data row 1, column month: '13' is not a month" in _one_line_error(
        capsys, str(path), "--format", "geo-pko")
    path.write_text("year,month,mission,location,latitude,longitude,No.troops\n"
                    "2010,1,M,A,1,2,many\n")
    assert "column No.troops: 'many' is not a whole number >= 0 (or unknown)" in \
        _one_line_error(capsys, str(path), "--format", "geo-pko")


def test_cli_unknown_format(capsys):
    msg = _one_line_error(capsys, str(ACLED), "--format", "gdelt")
    assert "unknown format 'gdelt'; allowed: acled, ucdp-ged, geo-pko" in msg
    with pytest.raises(DataError, match="unknown format 'gdelt'; allowed: acled, ucdp-ged"):
        read_events(ACLED, "gdelt")
    with pytest.raises(DataError, match="unknown format"):
        summarise_file(ACLED, "gdelt")


def test_cli_empty_selection(capsys):
    msg = _one_line_error(capsys, str(UCDP), "--format", "ucdp-ged", "--region",
                          "admin1=Northern")
    assert "no events in the selection" in msg and "'Northern province'" in msg  # the hint
    msg = _one_line_error(capsys, str(ACLED), "--format", "acled", "--start", "2021-01")
    assert "no events in the selection" in msg and "2016-01" in msg
    assert "no deployments in the selection" in _one_line_error(
        capsys, str(GEOPKO), "--format", "geo-pko", "--region", "mission=MINUSMA")


@pytest.mark.parametrize("args, expected", [
    (["--region", "mission=UNMIX"], "region key 'mission' is not available for format acled"),
    (["--region", "box=-10,-12,-20,-18"], "need -90 <= lat_min < lat_max <= 90"),
    (["--region", "box=1,2,3"], "expected four numbers"),
    (["--region", "Northern"], "expected admin1=NAME"),
    (["--start", "2019-13"], "start '2019-13': expected YYYY-MM-DD or YYYY-MM"),
    (["--start", "2019-05", "--end", "2019-04"], "period end 2019-04-30 is before its start"),
    (["--population", "-3"], "population -3.0: expected a number of people > 0"),
    (["--exit", "soon"], "exit date 'soon'"),
    (["--districts", "4"], "give the box the model's grid covers"),
    (["--box=-12,-10,-20,-18"], "needs the number of districts per side"),
    (["--districts", "21", "--box=-12,-10,-20,-18"], "from 1 to 20"),
])
def test_cli_bad_options(capsys, args, expected):
    assert expected in _one_line_error(capsys, str(ACLED), "--format", "acled", *args)


def test_cli_bad_files(capsys, tmp_path):
    assert "no such file" in _one_line_error(capsys, str(tmp_path / "no.csv"), "--format",
                                             "acled")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in _one_line_error(capsys, str(empty), "--format", "acled")
    header = tmp_path / "header.csv"
    header.write_text(",".join(syn.ACLED_HEADER) + "\n")
    assert "no data rows" in _one_line_error(capsys, str(header), "--format", "acled")
    xlsx = tmp_path / "export.xlsx"
    xlsx.write_bytes(b"PK\x03\x04rest")
    assert "save the sheet as CSV" in _one_line_error(capsys, str(xlsx), "--format", "acled")
    msg = _one_line_error(capsys, str(GEOPKO), "--format", "geo-pko", "--population", "5")
    assert "only for event data" in msg


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)
    with pytest.raises(ValueError):
        select(read_events(ACLED, "acled"), "admin2=Nowhere")


def test_cli_parser_does_not_import_the_data_stack(repo_root):
    """``peacesim data`` is wired in without importing sim.evidence (and pandas with it)
    until the command runs."""
    code = ("import sys; import sim.cli as c; c.build_parser(); "
            "print('sim.evidence' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(repo_root))
    out = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True,
                         text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_nan_free_json_when_nothing_happened_before(tmp_path, capsys):
    path = _write_acled(tmp_path / "a.csv", [("2021-03-01", CIV, 2, "A", "a", 0, 0)])
    code, out, err = _cli(capsys, str(path), "--format", "acled", "--exit", "2020-12",
                          "--json")
    assert code == 0, err
    s = json.loads(out)
    assert s["relapse_ratio_civilian"] is None and s["exit_months_before"] == 0
    assert not any(isinstance(v, float) and math.isnan(v) for v in s.values())


@pytest.mark.parametrize("args", [
    ["data/examples/synthetic_geo_pko.csv", "--format", "geo-pko", "--region", "mission=UNMIX"],
    ["data/examples/synthetic_acled.csv", "--format", "acled", "--population", "850000",
     "--exit", "2018-11", "--districts", "4", "--box=-12,-10,-20,-18"],
])
def test_worked_example_in_the_docs_is_current(capsys, monkeypatch, args):
    """docs/data.md shows what the command prints today."""
    monkeypatch.chdir(REPO)
    code, out, err = _cli(capsys, *args)
    assert code == 0, err
    assert out.strip() in (REPO / "docs" / "data.md").read_text(encoding="utf-8")
