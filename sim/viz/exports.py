"""Exports for a debrief: the series as CSV, a PNG of a map view, an animated GIF or MP4 of
the map over the exercise so far, and a one-page debrief (PNG, PDF) with every inject and
lever change marked.

Library functions with no user-interface code (no Solara): the trainer app calls them behind
its buttons, scripts and the CLI can call them on an exercise log. Every file is written
atomically (a temporary file beside it, renamed over it). The animation re-simulates the
exercise from its log (:func:`sim.model.exercise.history`), so it needs nothing kept in
memory while the exercise ran and shows exactly the history the log replays.

MP4 needs the ffmpeg binary that ``imageio-ffmpeg`` ships (the ``viz`` extra); without it
:func:`animation` raises :class:`ExportError` saying so, and :func:`mp4_support` tells the app
beforehand (a GIF needs only Pillow).
"""

from __future__ import annotations

import contextlib
import os
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from sim.io.atomic import _fsync_dir
from sim.io.recorder import events_table
from sim.viz.components import LAYERS, map_rgb, model_lock

#: a projector-friendly frame rate for the map animation (weeks per second)
DEFAULT_FPS = 6
#: the kinds of event that are lever changes (the others are injects)
LEVER_KINDS = ("set",)
INJECT_COLOUR, LEVER_COLOUR = "#d62728", "#1f77b4"


class ExportError(ValueError):
    """An export that cannot be made (a missing encoder, a model without the charted
    quantities, an unknown layer); the message says why and what to do."""


@contextlib.contextmanager
def _atomic(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` with the same suffix (encoders pick the format by
    it), renamed over ``path`` on success and removed on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}"
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _table(source: Any) -> pd.DataFrame:
    """The per-week table of a DataFrame, an Exercise, a RunResult or a model."""
    if isinstance(source, pd.DataFrame):
        return source
    if hasattr(source, "timeseries"):
        ts = source.timeseries
        return ts() if callable(ts) else ts
    from sim.io.recorder import timeseries

    with model_lock(source):
        return timeseries(source)


# --------------------------------------------------------------------------- CSV


def series_csv(source: Any, path: str | Path) -> Path:
    """The per-week series (one row per week, week 0 first; the columns of ``peacesim run``'s
    ``timeseries.csv``) of an exercise, run, model or table, as CSV."""
    ts = _table(source)
    with _atomic(path) as tmp:
        ts.to_csv(tmp, index=False)
    return Path(path)


def events_csv(records: list[dict[str, Any]], path: str | Path) -> Path:
    """The events applied (``exercise.events()``, a run's ``events``) as CSV, one row each:
    tick, kind, a sentence, the event's keys and its outcome (as ``peacesim run`` writes
    ``events.csv``)."""
    with _atomic(path) as tmp:
        events_table(records).to_csv(tmp, index=False)
    return Path(path)


# --------------------------------------------------------------------------- maps


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise ExportError(f"layer = {layer!r}: choose one of {', '.join(LAYERS)}")


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # an old Pillow without a scalable default font
        return ImageFont.load_default()


def captioned(rgb: np.ndarray, text: str, pad_to: int = 1) -> np.ndarray:
    """The map image with a white caption strip above it (``text``, e.g. "Week 12"), padded
    with white to multiples of ``pad_to`` pixels (video encoders want multiples of 16)."""
    h, w, _ = rgb.shape
    strip = max(18, w // 18)
    out_h = -(-(h + strip) // pad_to) * pad_to
    out_w = -(-w // pad_to) * pad_to
    img = Image.new("RGB", (out_w, out_h), "white")
    img.paste(Image.fromarray(rgb), (0, strip))
    draw = ImageDraw.Draw(img)
    size = int(strip * 0.75)
    font = _font(size)
    while size > 8 and draw.textlength(text, font=font) > out_w - 8:  # fit the width
        size -= 1
        font = _font(size)
    while len(text) > 4 and draw.textlength(text, font=font) > out_w - 8:
        text = text[:-4] + "..."
    draw.text((4, 2), text, fill="black", font=font)
    return np.asarray(img)


def _cell_px(model: Any, target_px: int) -> int:
    """Pixels per cell for a map about ``target_px`` wide (2 to 40)."""
    return int(min(40, max(2, target_px // max(model.width, model.height))))


def map_view(model: Any, layer: str = "violence", cell_px: int | None = None,
             caption: bool = True) -> np.ndarray:
    """The map as the app shows it (the layer's colours, agents as symbols), as an RGB array;
    with ``caption``, a strip above it says the week and the layer."""
    _check_layer(layer)
    if model.layer is None:
        raise ExportError("the map shows the peacekeeping model's layers; this model is "
                          f"{model.scenario_config.model!r}")
    s = cell_px or _cell_px(model, 800)
    with model_lock(model):
        rgb = map_rgb(model, layer, s)
        week = int(model.steps)
    return captioned(rgb, f"Week {week}: {LAYERS[layer][0]}") if caption else rgb


def map_png(model: Any, path: str | Path, layer: str = "violence",
            cell_px: int | None = None, caption: bool = True) -> Path:
    """A PNG of the map view (``layer``: violence, economy or trust) at the model's week."""
    img = map_view(model, layer, cell_px, caption)
    with _atomic(path) as tmp:
        Image.fromarray(img).save(tmp, format="png")
    return Path(path)


def mp4_support() -> tuple[bool, str]:
    """Whether MP4 can be written here, and if not, why and what to install."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return False, ("MP4 needs the imageio-ffmpeg package (part of the viz extra: pip "
                       "install -e '.[viz]'); a GIF works without it")
    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (RuntimeError, OSError) as exc:
        return False, f"MP4 needs ffmpeg, which imageio-ffmpeg cannot find ({exc}); a GIF " \
            "works without it"
    return True, exe


@dataclass
class Animation:
    """An animation written: where, how many frames, the weeks they show."""

    path: Path
    frames: int
    weeks: list[int] = field(default_factory=list)


def animation(log: Any, path: str | Path, layer: str = "violence", every: int = 1,
              fps: int = DEFAULT_FPS, cell_px: int | None = None) -> Animation:
    """An animated GIF or MP4 (by ``path``'s suffix) of the map over an exercise so far: one
    frame at week 0, every ``every`` weeks and at the last week, each with its week in a
    caption. ``log`` is an :class:`~sim.model.exercise.Exercise`, its ``log()`` or the
    path of a saved log; the history is re-simulated from it."""
    from sim.model.exercise import check_log, history, read_log

    suffix = Path(path).suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ExportError(f"{path}: write an animation as .gif or .mp4")
    if not (isinstance(every, int) and every >= 1 and isinstance(fps, int) and 1 <= fps <= 60):
        raise ExportError(f"every = {every!r}, fps = {fps!r}: give whole numbers, every >= 1, "
                          "fps in 1-60")
    _check_layer(layer)
    if suffix == ".mp4":
        ok, why = mp4_support()
        if not ok:
            raise ExportError(f"{path}: {why}")
    if isinstance(log, str | Path):
        data = read_log(log)
    else:
        data = check_log(log.log() if callable(getattr(log, "log", None)) else log)
    if data["scenario_object"].model != "peacekeeping":
        raise ExportError("the map shows the peacekeeping model's layers; this exercise runs "
                          "the epstein model")
    pad = 16 if suffix == ".mp4" else 1
    frames, weeks = [], []
    for model in history(data, every):
        s = cell_px or _cell_px(model, 480)
        frames.append(captioned(map_rgb(model, layer, s), f"Week {model.steps}", pad))
        weeks.append(int(model.steps))
    with _atomic(path) as tmp:
        if suffix == ".gif":
            import imageio.v3 as iio

            iio.imwrite(tmp, np.stack(frames), extension=".gif",
                        duration=round(1000 / fps), loop=0)
        else:
            import imageio

            writer = imageio.get_writer(tmp, format="FFMPEG", mode="I", fps=fps,
                                        codec="libx264", macro_block_size=16)
            try:
                for frame in frames:
                    writer.append_data(frame)
            finally:
                writer.close()
    return Animation(Path(path), len(frames), weeks)


# --------------------------------------------------------------------------- debrief


#: the debrief's charts: (title, y label, [(column, label, colour)])
PANELS = (
    ("Civilian casualties", "deaths per week", [
        ("civilian_casualties", "deaths per week", "#d62728")]),
    ("Trust", "mean trust (0-1)", [
        ("trust_pk_mean", "in peacekeepers", "#5e3c99"),
        ("trust_police_mean", "in police", "#e66101")]),
    ("Violence", "mean intensity", [
        ("violence_civilian_mean", "against civilians", "#d62728"),
        ("violence_battle_mean", "battle", "#7f7f7f")]),
    ("Forces on the map", "agents", [
        ("peacekeepers", "peacekeepers", "#2ca02c"),
        ("police", "police", "#111111"),
        ("combatants", "combatants", "#a50f15")]),
)


@dataclass
class Debrief:
    """A debrief written: its files, the headline, and the actions marked (tick, label)."""

    paths: list[Path]
    headline: str
    marks: list[tuple[int, str]]


def _records(source: Any) -> list[dict[str, Any]]:
    if isinstance(source, list):
        return source
    if hasattr(source, "events"):
        ev = source.events
        return list(ev() if callable(ev) else ev)
    raise ExportError("give the events applied: a list of event records, an Exercise or a "
                      "RunResult")


def headline(ts: pd.DataFrame, records: list[dict[str, Any]]) -> str:
    """The debrief's opening, in plain words: what happened over the weeks, and what the
    instructor did."""
    weeks = int(ts["tick"].iloc[-1])
    body = ts.iloc[1:]
    deaths = int(body["civilian_casualties"].sum())
    first, last = ts.iloc[0], ts.iloc[-1]
    injects = sum(r["kind"] not in LEVER_KINDS for r in records)
    levers = len(records) - injects
    text = (f"Over {weeks} weeks, {deaths} civilian{'s' if deaths != 1 else ''} "
            f"{'were' if deaths != 1 else 'was'} killed; trust in peacekeepers went from "
            f"{first['trust_pk_mean']:.2f} to {last['trust_pk_mean']:.2f}, armed fighters "
            f"from {int(first['combatants'])} to {int(last['combatants'])}, peacekeeping "
            f"units from {int(first['peacekeepers'])} to {int(last['peacekeepers'])}.")
    if records:
        t0 = min(int(r["tick"]) for r in records)
        after = int(ts.loc[ts["tick"] >= t0, "civilian_casualties"].sum())
        text += (f" {injects} inject{'s' if injects != 1 else ''} and {levers} lever "
                 f"change{'s' if levers != 1 else ''} (marked below); {after} of the deaths "
                 f"came from week {t0} on.")
    else:
        text += " No injects or lever changes."
    return text


def debrief_figure(ts: pd.DataFrame, records: list[dict[str, Any]], title: str = ""
                   ) -> tuple[Figure, str, list[tuple[int, str]]]:
    """The one-page debrief: a headline, the four key charts (casualties, trust, violence,
    forces) with every event applied marked as a numbered vertical line (injects solid red,
    lever changes dashed blue; each line's ``gid`` is ``mark-<n>``), and the numbered list
    of what each one was. Returns the figure, the headline and the marks."""
    missing = [c for _, _, lines in PANELS for c, _, _ in lines if c not in ts]
    if missing:
        raise ExportError(f"the debrief charts the peacekeeping model's outcomes; this table "
                          f"lacks {', '.join(missing)}")
    head = headline(ts, records)
    marks = [(int(r["tick"]), str(r["text"])) for r in records]
    fig = Figure(figsize=(11.69, 8.27), dpi=110)  # A4 landscape
    FigureCanvasAgg(fig)
    top = 0.80
    fig.text(0.04, 0.965, title or "Exercise debrief", fontsize=17, weight="bold", va="top")
    fig.text(0.04, 0.915, textwrap.fill(head, 150), fontsize=10.5, va="top")
    n_list = min(len(marks), 12)
    bottom = 0.08 + 0.022 * n_list
    fig.subplots_adjust(left=0.07, right=0.97, top=top, bottom=bottom, hspace=0.55,
                        wspace=0.22)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    t = ts["tick"].to_numpy()
    x_max = max([int(t[-1]), *(m[0] for m in marks)])
    for ax, (name, ylabel, lines) in zip(axes, PANELS, strict=True):
        for col, label, colour in lines:
            ax.plot(t, ts[col].to_numpy(dtype=float), color=colour, lw=1.4, label=label)
        if name == "Civilian casualties":
            twin = ax.twinx()
            twin.plot(t, np.cumsum(ts[col].to_numpy(dtype=float)), color="#555555", lw=1.0,
                      ls=":", label="cumulative (right axis)")
            twin.set_ylabel("cumulative", fontsize=9)
            twin.tick_params(labelsize=8)
            twin.legend(loc="upper right", fontsize=8, frameon=False)
        ax.set_title(name, fontsize=11, loc="left", pad=14)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        ax.set_xlim(0, max(1, x_max))
        for i, (tick, _) in enumerate(marks, start=1):
            lever = records[i - 1]["kind"] in LEVER_KINDS
            ax.axvline(tick, color=LEVER_COLOUR if lever else INJECT_COLOUR,
                       ls="--" if lever else "-", lw=1.0, alpha=0.8, gid=f"mark-{i}")
            ax.annotate(str(i), (tick, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(0, 2), textcoords="offset points", fontsize=8, ha="center",
                        va="bottom", weight="bold",
                        color=LEVER_COLOUR if lever else INJECT_COLOUR)
    for ax in axes[2:]:
        ax.set_xlabel("week", fontsize=9)
    lines = [f"{i}. {textwrap.shorten(text, 160)}" for i, (_, text) in enumerate(marks, 1)]
    if len(marks) > n_list:
        lines = [*lines[: n_list - 1], f"... and {len(marks) - n_list + 1} more (see the "
                 "event table)"]
    for k, line in enumerate(lines):
        fig.text(0.04, bottom - 0.045 - 0.022 * k, line, fontsize=8.5, va="top")
    return fig, head, marks


def debrief(source: Any, path: str | Path, pdf: str | Path | None = None, title: str = "",
            records: list[dict[str, Any]] | None = None) -> Debrief:
    """Write the one-page debrief of an exercise (or a run, or a table with ``records``) as
    PNG or PDF by ``path``'s suffix, and as PDF at ``pdf`` too if given."""
    ts = _table(source)
    recs = _records(source) if records is None else records
    fig, head, marks = debrief_figure(ts, recs, title)
    paths = []
    for target in (path, pdf):
        if target is None:
            continue
        fmt = Path(target).suffix.lower().lstrip(".")
        if fmt not in ("png", "pdf"):
            raise ExportError(f"{target}: write a debrief as .png or .pdf")
        with _atomic(target) as tmp:
            fig.savefig(tmp, format=fmt)
        paths.append(Path(target))
    return Debrief(paths, head, marks)
