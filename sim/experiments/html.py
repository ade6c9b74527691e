"""One report, two files: a small document model rendered as Markdown and as self-contained HTML.

A report is built once as a list of blocks (headings, paragraphs, tables, figures, notes) and
written as ``report.md`` (figures as PNG files beside it) and ``report.html`` (the same
figures embedded as base64 PNG, the styles and a table-sorting script inline). The HTML file
makes no request to anything outside itself: no CDN, no web fonts, no remote images, so it
can be mailed or opened offline.

Inline markup in text: ``**bold**``, ```code``` and ``[text](#anchor)`` links to anchors of
the same page.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.io.store import atomic_path, atomic_write_text

Cell = str | tuple[str, float]  # shown text, or (shown text, sort key)


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    #: per column, a tooltip explaining it (HTML ``title``); Markdown gets the caption only
    notes: list[str] = field(default_factory=list)


@dataclass
class Figure:
    name: str  #: file name under the figures folder, e.g. "pareto.png"
    png: bytes
    alt: str
    caption: str = ""


@dataclass
class Box:
    """A highlighted block (the headline): paragraphs with a title."""

    title: str
    paragraphs: list[str]


@dataclass
class Glossary:
    terms: list[tuple[str, str, str]]  #: (anchor, term, explanation)


Block = Heading | Para | Bullets | Table | Figure | Box | Glossary


def png_bytes(fig: Any, dpi: int = 100) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is not shown or kept)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Document:
    """A report under construction; :meth:`write` renders it."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Document:
        self.blocks.extend(blocks)
        return self

    def h(self, level: int, text: str, anchor: str = "") -> Document:
        return self.add(Heading(level, text, anchor or slug(text)))

    def p(self, text: str) -> Document:
        return self.add(Para(text))

    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

    # ------------------------------------------------------------------ Markdown

    def markdown(self, figure_dir: str = "figures") -> str:
        out = [f"# {self.title}\n"]
        for b in self.blocks:
            if isinstance(b, Heading):
                out.append(f"{'#' * b.level} {b.text}\n")
            elif isinstance(b, Para):
                out.append(b.text + "\n")
            elif isinstance(b, Bullets):
                out.append("\n".join(f"- {i}" for i in b.items) + "\n")
            elif isinstance(b, Table):
                if b.caption:
                    out.append(b.caption + "\n")
                out.append(_md_table(b.header, b.rows) + "\n")
            elif isinstance(b, Figure):
                out.append(f"![{b.alt}]({figure_dir}/{b.name})\n")
                if b.caption:
                    out.append(f"*{b.caption}*\n")
            elif isinstance(b, Box):
                lines = [f"> **{b.title}**", ">"]
                for i, para in enumerate(b.paragraphs):
                    lines.append(f"> {para}")
                    if i < len(b.paragraphs) - 1:
                        lines.append(">")
                out.append("\n".join(lines) + "\n")
            elif isinstance(b, Glossary):
                out.append("\n".join(f"- <a id=\"{a}\"></a>**{t}**: {x}"
                                     for a, t, x in b.terms) + "\n")
        return "\n".join(out)

    # ------------------------------------------------------------------ HTML

    def html(self) -> str:
        body: list[str] = []
        toc: list[str] = []
        for b in self.blocks:
            if isinstance(b, Heading):
                level = min(max(b.level, 2), 6)
                body.append(f'<h{level} id="{_esc(b.anchor)}">{_inline(b.text)}</h{level}>')
                if level == 2:
                    toc.append(f'<li><a href="#{_esc(b.anchor)}">{_inline(b.text)}</a></li>')
            elif isinstance(b, Para):
                body.append(f"<p>{_inline(b.text)}</p>")
            elif isinstance(b, Bullets):
                body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items)
                            + "</ul>")
            elif isinstance(b, Table):
                body.append(_html_table(b))
            elif isinstance(b, Figure):
                data = base64.b64encode(b.png).decode("ascii")
                cap = f"<figcaption>{_inline(b.caption)}</figcaption>" if b.caption else ""
                body.append(f'<figure><img alt="{_esc(b.alt)}" '
                            f'src="data:image/png;base64,{data}">{cap}</figure>')
            elif isinstance(b, Box):
                paras = "".join(f"<p>{_inline(p)}</p>" for p in b.paragraphs)
                body.append(f'<section class="headline"><h3>{_inline(b.title)}</h3>'
                            f"{paras}</section>")
            elif isinstance(b, Glossary):
                body.append("<dl>" + "".join(
                    f'<dt id="{_esc(a)}">{_inline(t)}</dt><dd>{_inline(x)}</dd>'
                    for a, t, x in b.terms) + "</dl>")
        nav = f'<nav><ul>{"".join(toc)}</ul></nav>' if toc else ""
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{_esc(self.title)}</title><style>{CSS}</style></head>"
                f"<body><main><h1>{_inline(self.title)}</h1>{nav}{''.join(body)}</main>"
                f"<script>{SORT_JS}</script></body></html>\n")

    # ------------------------------------------------------------------ files

    def write(self, folder: Path, stem: str = "report", figure_dir: str = "figures"
              ) -> tuple[Path, Path, dict[str, Path]]:
        """Write ``<stem>.md``, ``<stem>.html`` and the figures (atomically, each); returns
        (Markdown path, HTML path, {figure name: path})."""
        folder = Path(folder)
        fig_folder = folder / figure_dir
        figures: dict[str, Path] = {}
        if self.figures():
            fig_folder.mkdir(parents=True, exist_ok=True)
        for f in self.figures():
            with atomic_path(fig_folder / f.name) as tmp:
                tmp.write_bytes(f.png)
            figures[f.name] = fig_folder / f.name
        md = atomic_write_text(folder / f"{stem}.md", self.markdown(figure_dir))
        page = atomic_write_text(folder / f"{stem}.html", self.html())
        return md, page, figures


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\((#[A-Za-z0-9_-]*)\)")
_EMPH = re.compile(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")


def _inline(text: str) -> str:
    """Escape, then turn the few Markdown inline forms the reports use into HTML. Links go
    only to anchors of this page (anything else stays plain text)."""
    codes: list[str] = []

    def keep(m: re.Match[str]) -> str:
        codes.append(m.group(1))
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep, str(text))
    s = _esc(text)
    s = _BOLD.sub(r"<strong>\1</strong>", s)
    s = _EMPH.sub(r"<em>\1</em>", s)
    s = _LINK.sub(r'<a href="\2">\1</a>', s)
    return re.sub("\x00(\\d+)\x00", lambda m: f"<code>{_esc(codes[int(m.group(1))])}</code>",
                  s)


def _cell_text(c: Cell) -> str:
    return c[0] if isinstance(c, tuple) else c


def _md_table(header: list[str], rows: list[list[Cell]]) -> str:
    def clean(x: str) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(clean(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(_cell_text(c)) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(t: Table) -> str:
    notes = t.notes + [""] * (len(t.header) - len(t.notes))
    head = "".join(
        f'<th title="{_esc(n)}">{_inline(h)}</th>' if n else f"<th>{_inline(h)}</th>"
        for h, n in zip(t.header, notes, strict=False))
    rows = []
    for r in t.rows:
        cells = []
        for c in r:
            if isinstance(c, tuple):
                key = "" if c[1] is None or c[1] != c[1] else repr(float(c[1]))
                cells.append(f'<td data-sort="{key}">{_inline(c[0])}</td>')
            else:
                cells.append(f"<td>{_inline(c)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_inline(t.caption)}</caption>" if t.caption else ""
    return (f'<div class="scroll"><table class="sortable">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;color:#1d1d1f;background:#fafafa;line-height:1.5}
main{max-width:1150px;margin:0 auto;padding:1.5em 2em 4em;background:#fff}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #dde3ea;padding-bottom:.2em;
margin-top:2em}h3{margin-top:1.4em}
nav ul{columns:2;font-size:.92em;padding-left:1.2em}
.headline{background:#eef5fb;border-left:5px solid #1f4e79;padding:.4em 1.2em;margin:1em 0}
.headline h3{margin:.5em 0 .2em}
.scroll{overflow-x:auto;margin:.6em 0 1.2em}
table{border-collapse:collapse;font-size:.88em}
caption{text-align:left;font-size:.95em;padding:.3em 0;color:#444;caption-side:top}
th,td{border:1px solid #d5dbe1;padding:.3em .55em;vertical-align:top}
th{background:#f0f3f6;cursor:pointer;position:relative;text-align:left}
th[title]{text-decoration:underline dotted}
th.asc::after{content:" \\25B2";font-size:.7em}th.desc::after{content:" \\25BC";font-size:.7em}
tbody tr:nth-child(even){background:#f9fafb}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px;font-size:.92em}
dt{font-weight:600;margin-top:.6em}dd{margin-left:1.2em}
blockquote{color:#444}
"""

SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function(table){
  table.querySelectorAll("th").forEach(function(th, col){
    th.addEventListener("click", function(){
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function(h){h.classList.remove("asc","desc");});
      th.classList.add(asc ? "asc" : "desc");
      function key(row){
        var c = row.cells[col]; if(!c) return "";
        var s = c.getAttribute("data-sort");
        if(s !== null && s !== "") return parseFloat(s);
        var t = c.textContent.trim(), n = parseFloat(t.replace(/,/g, "").replace(/^\\+/, ""));
        return isNaN(n) ? t.toLowerCase() : n;
      }
      rows.sort(function(a, b){
        var x = key(a), y = key(b);
        if(typeof x !== typeof y){ x = String(x); y = String(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""
