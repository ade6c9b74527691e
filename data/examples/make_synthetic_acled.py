"""Write data/examples/synthetic_acled.csv: an invented ACLED-format export for the calibration
example (experiments/calibrate_baseline.toml) and its tests.

Everything is invented: the country Examplia, its provinces (admin1 Northern, Southern),
districts (admin2 Kora, Lume, Mbari, Tesso), actors and villages; the coordinates lie in the
open South Atlantic. 2016-2019: per month about 1.3 violent events against civilians (about 2.3
civilian fatalities) and 1.3 battles (about 7 battle deaths) in the whole region, a share of
them in each district, and more of both after the (invented) mission leaves in November 2018.
Only Python's ``random.Random`` is used, so the same seed gives the same bytes everywhere.

    python data/examples/make_synthetic_acled.py [OUT.csv]
"""

from __future__ import annotations

import csv
import io
import math
import random
import sys
from datetime import date, timedelta
from pathlib import Path

SEED = 14
FIRST_YEAR, LAST_YEAR = 2016, 2019
EXIT = date(2018, 11, 30)
#: admin1 -> admin2 -> (lat range, lon range, share of events)
ADMIN = {
    "Northern": {"Kora": ((-11.0, -10.0), (-20.0, -19.0), 0.40),
                 "Lume": ((-11.0, -10.0), (-19.0, -18.0), 0.25)},
    "Southern": {"Mbari": ((-12.0, -11.0), (-20.0, -19.0), 0.20),
                 "Tesso": ((-12.0, -11.0), (-19.0, -18.0), 0.15)},
}
VILLAGES = ("Abo", "Bena", "Chito", "Dala", "Eko", "Fura", "Gema", "Hilo", "Isa", "Joro")
#: event type -> (events per month before the exit, mean extra fatalities per event,
#  sub-event type, actor1, actor2)
KINDS = {
    "Violence against civilians": (1.3, 0.8, "Attack", "KLF: Kora Liberation Front",
                                   "Civilians (Examplia)"),
    "Battles": (1.3, 4.3, "Armed clash", "Military Forces of Examplia (2015-)",
                "KLF: Kora Liberation Front"),
    "Protests": (1.4, 0.0, "Peaceful protest", "Protesters (Examplia)", ""),
}
AFTER_EXIT = 1.6  # violence multiplies by this once the mission has left
HEADER = ("event_id_cnty", "event_date", "year", "event_type", "sub_event_type", "actor1",
          "actor2", "country", "admin1", "admin2", "location", "latitude", "longitude",
          "fatalities")


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method (small means only)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def rows(seed: int = SEED) -> list[tuple]:
    rng = random.Random(seed)
    places = [(a1, a2, box) for a1, d in ADMIN.items() for a2, box in d.items()]
    out: list[tuple] = []
    n = 0
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            first = date(year, month, 1)
            days = ((date(year + month // 12, month % 12 + 1, 1)) - first).days
            for kind, (rate, extra, sub, actor1, actor2) in KINDS.items():
                factor = AFTER_EXIT if first > EXIT and kind != "Protests" else 1.0
                for _ in range(_poisson(rng, rate * factor)):
                    a1, a2, (lat, lon, _) = rng.choices(
                        places, weights=[b[2] for _, _, b in places])[0]
                    day = first + timedelta(days=rng.randrange(days))
                    dead = 0 if kind == "Protests" else 1 + _poisson(rng, extra)
                    n += 1
                    out.append((f"EXA{n}", day.isoformat(), year, kind, sub, actor1, actor2,
                                "Examplia", a1, a2, rng.choice(VILLAGES),
                                f"{rng.uniform(*lat):.4f}", f"{rng.uniform(*lon):.4f}", dead))
    out.sort(key=lambda r: (r[1], r[0]))
    return out


def write(path: Path, seed: int = SEED) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows(seed))
    path.write_text(buf.getvalue())
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name(
        "synthetic_acled.csv")
    print(write(target))
