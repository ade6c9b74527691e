"""Reading CSV exports of conflict and deployment data, with errors a user can act on.

Real exports are large, hand-edited now and then, and come in more than one spelling, so
every cell is read as text first and parsed column by column here: a bad value is reported
with the file, the column as the file spells it, the data row (counted from 1 after the header)
and what would have been accepted. Column names are matched after :func:`normal_name`
(``No.troops``, ``no.troops`` and ``no_troops`` are one column).

Also here: the region and period of a selection (:class:`Region`, :class:`Box`,
:func:`parse_date`), shared by the event and deployment readers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class DataError(ValueError):
    """Unusable data, or a selection that cannot be made from it; the CLI prints it in one
    line and exits with status 2."""


def normal_name(name: str) -> str:
    """A column name as matched: lower case, ``.``, ``-`` and spaces read as ``_``."""
    return re.sub(r"[.\- ]+", "_", str(name).strip().lower())


def _listing(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class Table:
    """One CSV file read as text, with parsers that name the bad cell when a value is wrong."""

    def __init__(self, path: str | Path, fmt: str, required: Sequence[str]) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.df, self.names = _read_text_csv(self.path)
        missing = [c for c in required if c not in self.names]
        if missing:
            raise DataError(
                f"{self.path}: missing column(s) {', '.join(missing)} for format {fmt} "
                f"(columns are matched ignoring case, with '.', '-' and spaces read as '_'; "
                f"the file has {_listing(self.df.columns)})"
            )
        self.df.columns = [normal_name(c) for c in self.df.columns]
        if len(self.df) == 0:
            raise DataError(f"{self.path}: no data rows after the header")

    def _where(self, column: str, i: int) -> str:
        return f"{self.path}: data row {i + 1}, column {self.names[column]}"

    def text(self, column: str, default: str = "") -> pd.Series:
        """Stripped text of a column ('' for empty cells); ``default`` if the file lacks it."""
        if column not in self.names:
            return pd.Series(default, index=self.df.index, dtype=object)
        return self.df[column].str.strip()

    def numbers(self, column: str, *, integer: bool = False, empty_ok: bool = False,
                low: float | None = None, high: float | None = None,
                missing_words: Sequence[str] = ()) -> pd.Series:
        """A numeric column as float; empty cells (and ``missing_words``) as NaN where allowed,
        otherwise the first bad cell raises :class:`DataError`."""
        raw = self.df[column].str.strip()
        missing = raw.str.lower().isin([w.lower() for w in missing_words])
        empty = raw == ""
        values = pd.to_numeric(raw.where(~(empty | missing), None), errors="coerce")
        values = values.astype(float)
        what = "a whole number" if integer else "a number"
        bad = (values.isna() & ~empty & ~missing) | np.isinf(values)
        if not empty_ok:
            bad |= empty
        if integer:
            bad |= values.notna() & (values != np.floor(values))
        if low is not None:
            bad |= values < low
        if high is not None:
            bad |= values > high
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            rng = ""
            if low is not None and high is not None:
                rng = f" from {low:g} to {high:g}"
            elif low is not None:
                rng = f" >= {low:g}"
            words = f" (or {', '.join(missing_words)})" if missing_words else ""
            raise DataError(f"{self._where(column, i)}: {raw.iloc[i]!r} is not {what}{rng}{words}")
        return values

    def dates(self, column: str) -> pd.Series:
        """Day dates: ``YYYY-MM-DD`` (a time after it is ignored, as in UCDP's
        ``2019-03-15 00:00:00.000``) or ``15 March 2019`` (ACLED's older exports)."""
        raw = self.df[column].str.strip()
        iso = raw.str.match(r"^\d{4}-\d{2}-\d{2}(?:[ T].*)?$")
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        if iso.any():
            out[iso] = pd.to_datetime(raw[iso].str.slice(0, 10), format="%Y-%m-%d",
                                      errors="coerce")
        long = ~iso & raw.str.match(r"^\d{1,2} [A-Za-z]+ \d{4}$")
        if long.any():
            out[long] = pd.to_datetime(raw[long], format="%d %B %Y", errors="coerce")
        bad = out.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{self._where(column, i)}: {raw.iloc[i]!r} is not a date "
                "(expected YYYY-MM-DD, or day month year as in '15 March 2019')"
            )
        return out


def _read_text_csv(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """All cells as stripped-later text; returns the frame and {normal name: name in file}."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK\x03\x04"):
        raise DataError(f"{path}: this is a zip or Excel file; unzip it or save the sheet as "
                        "CSV (comma-separated, first row the column names)")
    df = None
    for encoding in ("utf-8-sig", "latin-1"):  # Geo-PKO's CSV has been published in latin-1
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise DataError(f"{path}: the file is empty (no header row)") from None
        except (pd.errors.ParserError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{path}: not a readable CSV file ({first})") from None
        break
    assert df is not None  # latin-1 decodes any bytes
    names: dict[str, str] = {}
    for col in df.columns:
        names.setdefault(normal_name(col), str(col))
    if len(names) != len(df.columns):
        dup = [c for c in df.columns if list(map(normal_name, df.columns)).count(
            normal_name(c)) > 1]
        raise DataError(f"{path}: columns {_listing(dup)} are the same column once case and "
                        "'.', '-', ' ' are ignored; rename or drop one")
    return df, names


# --------------------------------------------------------------------------- period


def parse_date(value: Any, *, end: bool = False, what: str = "date") -> pd.Timestamp | None:
    """A period bound: ``YYYY-MM-DD`` or ``YYYY-MM`` (a month: its first day as a start, its
    last day as an ``end``), or a date/datetime; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return pd.Timestamp(value).normalize()
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return pd.Timestamp(datetime.strptime(text, "%Y-%m-%d"))
        if re.fullmatch(r"\d{4}-\d{2}", text):
            month = pd.Period(datetime.strptime(text, "%Y-%m"), freq="M")
            return (month.end_time if end else month.start_time).normalize()
    except ValueError:
        pass
    raise DataError(f"{what} {text!r}: expected YYYY-MM-DD or YYYY-MM (e.g. 2019-03-15, 2019-03)")


def parse_period(start: Any, end: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Both bounds, checked to be in order (inclusive at both ends)."""
    s = parse_date(start, what="start")
    e = parse_date(end, end=True, what="end")
    if s is not None and e is not None and e < s:
        raise DataError(f"period end {e.date()} is before its start {s.date()}")
    return s, e


# --------------------------------------------------------------------------- region


@dataclass(frozen=True)
class Box:
    """A latitude/longitude box in decimal degrees, bounds included."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def __post_init__(self) -> None:
        values = (self.lat_min, self.lat_max, self.lon_min, self.lon_max)
        if not all(np.isfinite(v) for v in values):
            raise DataError(f"box {self.text()}: every bound must be a finite number")
        if not (-90 <= self.lat_min < self.lat_max <= 90):
            raise DataError(f"box {self.text()}: need -90 <= lat_min < lat_max <= 90")
        if not (-180 <= self.lon_min < self.lon_max <= 180):
            raise DataError(f"box {self.text()}: need -180 <= lon_min < lon_max <= 180")

    @classmethod
    def parse(cls, value: Any) -> Box:
        """``"lat_min,lat_max,lon_min,lon_max"`` or a sequence of four numbers."""
        if isinstance(value, Box):
            return value
        parts = value.split(",") if isinstance(value, str) else list(value)
        try:
            numbers = [float(p) for p in parts]
        except (TypeError, ValueError):
            numbers = []
        if len(numbers) != 4:
            raise DataError(f"box {value!r}: expected four numbers lat_min,lat_max,lon_min,"
                            "lon_max (decimal degrees, e.g. -12,-10,-20,-18)")
        return cls(*numbers)

    def text(self) -> str:
        return f"{self.lat_min:g},{self.lat_max:g},{self.lon_min:g},{self.lon_max:g}"

    def contains(self, lat: pd.Series, lon: pd.Series) -> pd.Series:
        return (lat >= self.lat_min) & (lat <= self.lat_max) & \
               (lon >= self.lon_min) & (lon <= self.lon_max)


@dataclass(frozen=True)
class Region:
    """Where to look: names per column (``admin1``, ``admin2``, ``country``; for Geo-PKO
    ``mission``, ``location``, ``country``) and/or a :class:`Box`.

    Several names of one column widen the selection (any of them); different columns and the
    box narrow it (all must hold). Names match ignoring case and surrounding spaces.
    """

    names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    box: Box | None = None

    @property
    def empty(self) -> bool:
        return not self.names and self.box is None

    def text(self) -> str:
        parts = [f"{k}={','.join(v)}" for k, v in self.names]
        if self.box is not None:
            parts.append(f"box={self.box.text()}")
        return "; ".join(parts) if parts else "everywhere"


def parse_region(spec: Any) -> Region:
    """A :class:`Region` from ``None``, a Region or Box, a string (``"admin1=North"``,
    ``"admin2=Kora,Lume"``, ``"box=-12,-10,-20,-18"`` or just the four numbers), a mapping
    (``{"admin1": ["North"], "box": [-12, -10, -20, -18]}``) or a list of strings."""
    if spec is None:
        return Region()
    if isinstance(spec, Region):
        return spec
    if isinstance(spec, Box):
        return Region(box=spec)
    items: list[tuple[str, Any]] = []
    if isinstance(spec, str):
        items.append(_split_item(spec))
    elif isinstance(spec, Mapping):
        items.extend((normal_name(k), v) for k, v in spec.items())
    elif isinstance(spec, Sequence):
        for s in spec:
            if not isinstance(s, str):
                raise DataError(f"region {spec!r}: expected strings like admin1=NAME or a box")
            items.append(_split_item(s))
    else:
        raise DataError(f"region {spec!r}: expected admin1=NAME, admin2=NAME or a box "
                        "lat_min,lat_max,lon_min,lon_max")
    names: dict[str, list[str]] = {}
    box: Box | None = None
    for key, value in items:
        if key == "box":
            if box is not None:
                raise DataError("region: give at most one box")
            box = Box.parse(value)
            continue
        values = value.split(",") if isinstance(value, str) else list(value)
        cleaned = [str(v).strip() for v in values if str(v).strip()]
        if not cleaned:
            raise DataError(f"region {key}=: give at least one name")
        names.setdefault(key, []).extend(cleaned)
    return Region(tuple((k, tuple(v)) for k, v in names.items()), box)


def _split_item(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        if len(text.split(",")) == 4:
            return "box", text
        raise DataError(f"region {text!r}: expected admin1=NAME, admin2=NAME[,NAME...] or a box "
                        "lat_min,lat_max,lon_min,lon_max")
    return normal_name(key), value


def region_mask(frame: pd.DataFrame, region: Region, allowed: Sequence[str],
                fmt: str) -> pd.Series:
    """Rows of ``frame`` inside ``region``; keys outside ``allowed`` are a :class:`DataError`."""
    mask = pd.Series(True, index=frame.index)
    for key, values in region.names:
        if key not in allowed:
            raise DataError(f"region key {key!r} is not available for format {fmt}; use "
                            f"{', '.join(f'{a}=NAME' for a in allowed)} or a box "
                            "lat_min,lat_max,lon_min,lon_max")
        wanted = {v.strip().lower() for v in values}
        mask &= frame[key].astype(str).str.strip().str.lower().isin(wanted)
    if region.box is not None:
        mask &= region.box.contains(frame["lat"], frame["lon"])
    return mask


def region_hint(frame: pd.DataFrame, region: Region, limit: int = 6) -> str:
    """The most frequent names of each region column, to help fix a region that matched
    nothing (UCDP writes 'North Kivu province' where ACLED writes 'North Kivu')."""
    hints = []
    for key, _ in region.names:
        if key in frame.columns:
            top = frame[key].astype(str).value_counts().head(limit).index
            hints.append(f"{key} in the file: {_listing(top, limit)}")
    if region.box is not None and frame["lat"].notna().any():
        hints.append(f"events lie within lat {frame['lat'].min():g}..{frame['lat'].max():g}, "
                     f"lon {frame['lon'].min():g}..{frame['lon'].max():g}")
    return "; ".join(hints)
