"""Synthetic ACLED, UCDP GED and Geo-PKO files for tests, docs and the calibration example.

Everything here is invented: the country Examplia, its provinces, actors, villages, the UN
Mission in Examplia (UNMIX) and its deployments. The coordinates lie in the open South
Atlantic so that no one mistakes them for a real place. The files have the column sets of
the real exports (extra columns included, which the readers must ignore), and the story the
statistics should find: 2016-2019, about 2-5 civilian fatalities and 5-15 battle deaths a
month, more of both after UNMIX leaves (its last month with troops is November 2018).

Regenerate (same seed, same bytes)::

    python -m sim.evidence.synthetic data/examples

Only Python's ``random.Random`` is used (its draws are stable across Python versions), so the
files do not change when numpy does.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sys
from pathlib import Path

SEED = 14
COUNTRY = "Examplia"
#: lat_min, lat_max, lon_min, lon_max of the region (decimal degrees)
BOX = (-12.0, -10.0, -20.0, -18.0)
FIRST_YEAR, LAST_YEAR = 2016, 2019
EXIT_MONTH = "2018-11"  # UNMIX's last month with troops
POPULATION = 850_000  # the region's (fictional) population, for per-100k rates
OUT_DIR = Path("data/examples")
FILES = {"acled": "synthetic_acled.csv", "ucdp-ged": "synthetic_ucdp_ged.csv",
         "geo-pko": "synthetic_geo_pko.csv"}

#: admin1 (ACLED spelling) -> admin2 -> (lat range, lon range, share of events)
ADMIN = {
    "Northern": {"Kora": ((-11.0, -10.0), (-20.0, -19.0), 0.40),
                 "Lume": ((-11.0, -10.0), (-19.0, -18.0), 0.25)},
    "Southern": {"Mbari": ((-12.0, -11.0), (-20.0, -19.0), 0.20),
                 "Tesso": ((-12.0, -11.0), (-19.0, -18.0), 0.15)},
}
VILLAGE_NAMES = ("Abo", "Bena", "Chito", "Dala", "Eko", "Fura", "Gema", "Hilo", "Isa", "Joro",
                 "Kesi", "Lobi")

ACLED_HEADER = ("event_id_cnty", "event_date", "year", "time_precision", "disorder_type",
                "event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2",
                "assoc_actor_2", "inter2", "interaction", "civilian_targeting", "iso", "region",
                "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude",
                "geo_precision", "source", "source_scale", "notes", "fatalities", "tags",
                "timestamp")
UCDP_HEADER = ("id", "relid", "year", "active_year", "code_status", "type_of_violence",
               "conflict_dset_id", "conflict_new_id", "conflict_name", "dyad_dset_id",
               "dyad_new_id", "dyad_name", "side_a_dset_id", "side_a_new_id", "side_a",
               "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources",
               "source_article", "source_office", "source_date", "source_headline",
               "source_original", "where_prec", "where_coordinates", "where_description",
               "adm_1", "adm_2", "latitude", "longitude", "geom_wkt", "priogrid_gid",
               "country", "country_id", "region", "event_clarity", "date_prec", "date_start",
               "date_end", "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown",
               "best", "high", "low", "gwnoa", "gwnob")
GEO_PKO_HEADER = ("source", "mission", "year", "month", "location", "latitude", "longitude",
                  "country", "cow_code", "zone.de.confidence", "hq", "no.troops", "no.tcc",
                  "tcc1", "notroopspertcc1", "tcc2", "notroopspertcc2", "rpf", "inf", "fpu",
                  "res", "fp", "eng", "med", "sig", "trans", "avia", "uav", "unmo.dummy",
                  "unpol.dummy", "other.type")

GOV, KLF = "Military Forces of Examplia (2015-)", "KLF: Kora Liberation Front"
LDM, UNIDENTIFIED = "Lume Defence Militia", "Unidentified Armed Group (Examplia)"
CIVILIANS = "Civilians (Examplia)"
INTER = {GOV: 1, KLF: 2, UNIDENTIFIED: 3, LDM: 4, "Rioters (Examplia)": 5,
         "Protesters (Examplia)": 6, CIVILIANS: 7}

#: ACLED events per month (before the exit, after it): kind -> (rate before, rate after)
ACLED_RATES = {"Violence against civilians": (1.3, 2.1), "Battles": (1.2, 1.9),
               "Explosions/Remote violence": (0.3, 0.4), "Riots": (0.3, 0.4),
               "Protests": (0.6, 0.6), "Strategic developments": (0.3, 0.3)}
#: UCDP events per month by type of violence (before, after)
UCDP_RATES = {1: (1.1, 1.7), 2: (0.3, 0.5), 3: (0.8, 1.8)}


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw by Knuth's method (small rates only; stable across versions)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def months() -> list[tuple[int, int]]:
    return [(y, m) for y in range(FIRST_YEAR, LAST_YEAR + 1) for m in range(1, 13)]


def _days(year: int, month: int) -> int:
    return [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]


def _after_exit(year: int, month: int) -> bool:
    return f"{year:04d}-{month:02d}" > EXIT_MONTH


def villages(seed: int = SEED) -> list[dict[str, object]]:
    """Three villages per admin2 with fixed coordinates (4 decimals, inside its quadrant)."""
    rng = random.Random(seed * 1000 + 1)
    out, names = [], iter(VILLAGE_NAMES)
    for admin1, units in ADMIN.items():
        for admin2, ((la0, la1), (lo0, lo1), share) in units.items():
            for _ in range(3):
                out.append({"admin1": admin1, "admin2": admin2, "location": next(names),
                            "lat": round(rng.uniform(la0 + 0.05, la1 - 0.05), 4),
                            "lon": round(rng.uniform(lo0 + 0.05, lo1 - 0.05), 4),
                            "weight": share / 3})
    return out


def _pick_village(rng: random.Random, vs: list[dict[str, object]]) -> dict[str, object]:
    return rng.choices(vs, weights=[float(v["weight"]) for v in vs])[0]  # type: ignore[arg-type]


def acled_rows(seed: int = SEED) -> list[dict[str, str]]:
    """ACLED-format rows, as the CSV has them (all text)."""
    rng, vs, rows = random.Random(seed), villages(seed), []
    for year, month in months():
        post = _after_exit(year, month)
        events = []
        for event_type, rates in ACLED_RATES.items():
            events += [event_type] * poisson(rng, rates[post])
        for event_type in events:
            day = rng.randint(1, _days(year, month))
            v = _pick_village(rng, vs)
            disorder, sub, a1, a2, deaths, target = _acled_event(rng, event_type)
            n = len(rows) + 1
            note = (f"On {day} {_month_name(month)} {year}, {a1} ({sub.lower()}) near "
                    f"{v['location']}, {v['admin2']}. {deaths} reported fatalities.")
            if n == 7:
                note += '\nFollow-up: a "second" report, with commas, confirmed it.'
            rows.append({
                "event_id_cnty": f"EXA{n}", "event_date": f"{year:04d}-{month:02d}-{day:02d}",
                "year": str(year), "time_precision": str(rng.choice((1, 1, 1, 2, 3))),
                "disorder_type": disorder, "event_type": event_type, "sub_event_type": sub,
                "actor1": a1, "assoc_actor_1": "", "inter1": str(INTER.get(a1, 3)),
                "actor2": a2, "assoc_actor_2": "",
                "inter2": str(INTER.get(a2, 0)) if a2 else "",
                "interaction": f"{INTER.get(a1, 3)}{INTER.get(a2, 0)}" if a2 else
                f"{INTER.get(a1, 3)}0",
                "civilian_targeting": target, "iso": "999", "region": "Fictional Ocean",
                "country": COUNTRY, "admin1": str(v["admin1"]), "admin2": str(v["admin2"]),
                "admin3": "", "location": str(v["location"]),
                "latitude": f"{v['lat']:.4f}", "longitude": f"{v['lon']:.4f}",
                "geo_precision": str(rng.choice((1, 1, 2))), "source": "Examplia Gazette",
                "source_scale": "National", "notes": note, "fatalities": str(deaths),
                "tags": "", "timestamp": str(1_600_000_000 + n),
            })
    return rows


def _acled_event(rng: random.Random, event_type: str) -> tuple[str, str, str, str, int, str]:
    """disorder type, sub-event type, actor1, actor2, fatalities, civilian targeting."""
    if event_type == "Violence against civilians":
        a1 = rng.choice((KLF, KLF, LDM, UNIDENTIFIED, GOV))
        if rng.random() < 0.15:
            return "Political violence", "Abduction/forced disappearance", a1, CIVILIANS, 0, \
                "Civilian targeting"
        return "Political violence", "Attack", a1, CIVILIANS, 1 + poisson(rng, 1.2), \
            "Civilian targeting"
    if event_type == "Battles":
        a1, a2 = rng.choice(((GOV, KLF), (GOV, KLF), (KLF, LDM), (GOV, UNIDENTIFIED)))
        if rng.random() < 0.2:
            return "Political violence", "Government regains territory", GOV, a2, \
                poisson(rng, 4.0), ""
        return "Political violence", "Armed clash", a1, a2, poisson(rng, 6.0), ""
    if event_type == "Explosions/Remote violence":
        actor = rng.choice((KLF, UNIDENTIFIED))
        return "Political violence", "Remote explosive/landmine/IED", actor, "", \
            poisson(rng, 1.0), ""
    if event_type == "Riots":
        return "Demonstrations", "Violent demonstration", "Rioters (Examplia)", "", \
            poisson(rng, 0.2), ""
    if event_type == "Protests":
        return "Demonstrations", "Peaceful protest", "Protesters (Examplia)", "", 0, ""
    return "Strategic developments", "Looting/property destruction", rng.choice((KLF, LDM)), \
        "", 0, ""


def _month_name(month: int) -> str:
    return ("January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December")[month - 1]


def ucdp_rows(seed: int = SEED) -> list[dict[str, str]]:
    """UCDP GED-format rows (UCDP spells provinces 'Northern province', 'Kora district')."""
    rng, vs, rows = random.Random(seed + 1), villages(seed), []
    dyads = {1: (GOV, KLF), 2: (KLF, LDM), 3: (KLF, "Civilians")}
    for year, month in months():
        post = _after_exit(year, month)
        for tov, rates in UCDP_RATES.items():
            for _ in range(poisson(rng, rates[post])):
                day = rng.randint(1, _days(year, month))
                v = _pick_village(rng, vs)
                side_a, side_b = dyads[tov]
                if tov == 3 and rng.random() < 0.3:
                    side_a = GOV
                if tov == 3:
                    parts = (0, 0, 1 + poisson(rng, 1.5), 0)
                else:
                    total = 1 + poisson(rng, 5.0)
                    a = rng.randint(0, total)
                    civ = rng.randint(0, (total - a) // 3)
                    unknown = rng.randint(0, total - a - civ)
                    parts = (a, total - a - civ - unknown, civ, unknown)
                best = sum(parts)
                prec = rng.choice((1, 1, 1, 2, 3))
                end_day = min(_days(year, month), day + (0 if prec == 1 else rng.randint(1, 5)))
                n = len(rows) + 1
                rows.append({
                    "id": str(400_000 + n), "relid": f"EXA-{year}-1-{n}", "year": str(year),
                    "active_year": "1" if tov != 3 else "0", "code_status": "Clear",
                    "type_of_violence": str(tov), "conflict_dset_id": str(900 + tov),
                    "conflict_new_id": str(9900 + tov),
                    "conflict_name": {1: "Examplia: Government", 2: "KLF - Lume Defence Militia",
                                      3: f"{side_a} - civilians"}[tov],
                    "dyad_dset_id": str(1900 + tov), "dyad_new_id": str(19900 + tov),
                    "dyad_name": f"{side_a} - {side_b}",
                    "side_a_dset_id": "999", "side_a_new_id": "9990", "side_a": side_a,
                    "side_b_dset_id": "998", "side_b_new_id": "9980", "side_b": side_b,
                    "number_of_sources": str(rng.randint(1, 4)),
                    "source_article": f"Examplia Gazette, {day} {_month_name(month)} {year}",
                    "source_office": "Examplia Gazette", "source_date": "", "source_headline":
                    "Clashes reported", "source_original": "local sources",
                    "where_prec": str(rng.choice((1, 1, 2, 3))),
                    "where_coordinates": f"{v['location']} village",
                    "where_description": f"near {v['location']}",
                    "adm_1": f"{v['admin1']} province", "adm_2": f"{v['admin2']} district",
                    "latitude": f"{v['lat']:.4f}", "longitude": f"{v['lon']:.4f}",
                    "geom_wkt": f"POINT ({v['lon']:.4f} {v['lat']:.4f})",
                    "priogrid_gid": str(100_000 + n % 7), "country": COUNTRY,
                    "country_id": "999", "region": "Africa", "event_clarity": "1",
                    "date_prec": str(prec),
                    "date_start": f"{year:04d}-{month:02d}-{day:02d} 00:00:00.000",
                    "date_end": f"{year:04d}-{month:02d}-{end_day:02d} 00:00:00.000",
                    "deaths_a": str(parts[0]), "deaths_b": str(parts[1]),
                    "deaths_civilians": str(parts[2]), "deaths_unknown": str(parts[3]),
                    "best": str(best), "high": str(best + rng.randint(0, 3)),
                    "low": str(max(0, best - rng.randint(0, 2))), "gwnoa": "999", "gwnob": "",
                })
    return rows


#: UNMIX locations: name, lat, lon, hq code, troops at full strength (None: observers only)
UNMIX_SITES = (("Port Examplia", -10.62, -18.31, 3, 850), ("Kora Town", -10.41, -19.55, 2, 650),
               ("Lume", -10.77, -18.64, 0, 200), ("Mbari", -11.48, -19.42, 0, 150),
               ("Tesso", -11.66, -18.52, 0, 150), ("Kora North TS", -10.12, -19.71, 0, None))
UNMOB_SITES = (("Otherland City", 5.42, -29.61, 3, 120), ("Border Post 4", 5.88, -29.17, 0, 80))


def geo_pko_rows(seed: int = SEED) -> list[dict[str, str]]:
    """Geo-PKO-format rows (v2.x column names): UNMIX in Examplia, a map every second month
    2014-01..2018-11 (two maps in May 2015), drawdown through 2018; and UNMOB in Otherland,
    quarterly 2016-2019, which a ``mission=`` region leaves out."""
    rng, rows = random.Random(seed + 2), []
    maps = [(y, m, "") for y in range(2014, 2019) for m in range(1, 13, 2)]
    maps.insert(maps.index((2015, 5, "")) + 1, (2015, 5, "b"))
    for year, month, suffix in maps:
        open_sites = UNMIX_SITES
        if year == 2018:  # drawdown: one site closes every second map
            open_sites = UNMIX_SITES[: max(1, 6 - (month + 1) // 2)]
        for i, (loc, lat, lon, hq, full) in enumerate(open_sites):
            if full is None:
                troops = "unknown" if year <= 2016 else "0"
            else:
                scale = 0.5 if year == 2018 else 1.0
                troops = str(int(full * scale) + 10 * rng.randint(-3, 3) +
                             (50 if suffix and i == 1 else 0))
            rows.append(_geo_row(f"UNMIX_Dep_{_month_name(month)[:3]}{year % 100:02d}{suffix}",
                                 "UNMIX", year, month, loc, lat, lon, COUNTRY, hq, troops, rng))
    for year in range(2016, 2020):
        for month in (1, 4, 7, 10):
            for loc, lat, lon, hq, full in UNMOB_SITES:
                rows.append(_geo_row(f"UNMOB_Dep_{_month_name(month)[:3]}{year % 100:02d}",
                                     "UNMOB", year, month, loc, lat, lon, "Otherland", hq,
                                     str(full), rng))
    return rows


def _geo_row(source: str, mission: str, year: int, month: int, loc: str, lat: float,
             lon: float, country: str, hq: int, troops: str,
             rng: random.Random) -> dict[str, str]:
    n = int(troops) if troops.isdigit() else 0
    inf = 1 if n >= 150 else 0
    return {
        "source": source, "mission": mission, "year": str(year), "month": str(month),
        "location": loc, "latitude": f"{lat:.4f}", "longitude": f"{lon:.4f}",
        "country": country, "cow_code": "999" if country == COUNTRY else "998",
        "zone.de.confidence": "0", "hq": str(hq), "no.troops": troops,
        "no.tcc": "1" if n else "0", "tcc1": "Fictionia" if n else "",
        "notroopspertcc1": str(n) if n else "", "tcc2": "", "notroopspertcc2": "",
        "rpf": "0", "inf": str(inf), "fpu": "0", "res": "0", "fp": "0",
        "eng": str(rng.randint(0, 1) if n >= 600 else 0), "med": str(1 if hq == 3 else 0),
        "sig": "0", "trans": "0", "avia": "0", "uav": "0",
        "unmo.dummy": "1" if n == 0 else str(rng.randint(0, 1)), "unpol.dummy": "0",
        "other.type": "",
    }


def to_csv(header: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def render(seed: int = SEED) -> dict[str, str]:
    """File name -> CSV text of the three synthetic files."""
    return {FILES["acled"]: to_csv(ACLED_HEADER, acled_rows(seed)),
            FILES["ucdp-ged"]: to_csv(UCDP_HEADER, ucdp_rows(seed)),
            FILES["geo-pko"]: to_csv(GEO_PKO_HEADER, geo_pko_rows(seed))}


def write_examples(out_dir: str | Path = OUT_DIR, seed: int = SEED) -> list[Path]:
    """Write the three files into ``out_dir`` (each atomically); returns their paths."""
    from sim.io.store import atomic_write_text

    paths = []
    for name, text in render(seed).items():
        paths.append(atomic_write_text(Path(out_dir) / name, text))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.evidence.synthetic",
                                     description="Write the synthetic event data files.")
    parser.add_argument("out_dir", nargs="?", default=str(OUT_DIR), help="folder (default "
                        f"{OUT_DIR})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed (default {SEED})")
    args = parser.parse_args(argv)
    for path in write_examples(args.out_dir, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
