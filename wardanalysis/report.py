"""What a notebook shows: headings, prose, tables and figures in ``ja`` or ``en``.

Notebooks call these with result objects and data; every label comes from the glossary or the
catalogue, and numbers are formatted here for display only. Every output carries its plain text
too (what nbval compares); figures are shown once and closed.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pandas as pd
from IPython.display import HTML, display

from . import plotting
from ._yaml import read
from .data.loading import describe, load, overlaid_rows
from .data.schema import dataset_names, get_schema
from .data.sources import citation, shipped_urls
from .fonts import figure_font_css
from .params import check_notebook_values
from .paths import notebooks_dir, shipped_data_dir
from .records import HEADLINE_MIME
from .results import key_figure
from .text.display import markup, plain, set_language
from .text.formats import fmt, fmt_count, fmt_unit, sentences, unit_of_column
from .text.glossary import check_lang, has, label
from .text.messages import glosses, keys, message

__all__ = ["bullets", "corrections_table", "markup", "format_table", "provenance_table",
           "heading", "setup", "show_plot", "show_result", "show_table", "transcription", "say",
           "summary"]

_FIGURE_NUMBERS = itertools.count(1)
_CSV_NUMBERS = itertools.count(1)
#: Never reset: element ids differ between the tables of one page (their CSS is scoped by id)
#: and are the same in every top-to-bottom run (nbval compares them).
_TABLE_NUMBERS = itertools.count(1)
#: The report's title (level-1 heading) for its headline, and the current section (level-2
#: heading) for the names of table downloads.
_TITLE = [""]
_SECTION = [""]
#: Columns that hold machine keys, never shown to a reader.
HIDDEN_COLUMNS = ("record_key", "measure_id", "measures", "sha256", "dataset")
#: The mark of a row that comes from a user's file rather than the shipped data.
OVERLAY_MARK = "※"


def setup(lang: str, notebook: str | None = None, **parameters: Any) -> None:
    """Apply the plot theme, number figures from 1 and make ``lang`` the language results show
    themselves in; ``notebook`` (found in the working folder or ``notebooks/``) and its
    parameters get the batch's checks, so that a notebook run by hand stops at once."""
    global _FIGURE_NUMBERS, _CSV_NUMBERS
    if notebook is not None:
        found = [d / f"{notebook}.ipynb" for d in (Path.cwd(), notebooks_dir())
                 if (d / f"{notebook}.ipynb").is_file()]
        if found:
            check_notebook_values(found[0], {"lang": lang, **parameters})
    plotting.use_theme()
    _FIGURE_NUMBERS = itertools.count(1)
    _CSV_NUMBERS = itertools.count(1)
    _TITLE[0] = _SECTION[0] = ""
    set_language(lang)


def _label(key: str, lang: str) -> str:
    return label(key, lang) if has(key) else key


def _show_html(fragment: str, text: str, **more: Any) -> None:
    display({"text/html": fragment, "text/plain": text, **more}, raw=True)


def _heading(text: str, level: int) -> str:
    """A heading's HTML; a level-1 or level-2 heading becomes the report's title or section."""
    if level in (1, 2):
        (_TITLE if level == 1 else _SECTION)[0] = plain(text)
    return f"<h{level}>{markup(text)}</h{level}>"


def heading(key: str, lang: str, level: int = 2) -> None:
    """A heading from the glossary term ``key`` (or ``key`` itself, escaped)."""
    if not 1 <= int(level) <= 6:
        raise ValueError(f"heading level must be 1 to 6, not {level!r}")
    text = _label(key, lang)
    _show_html(_heading(text, int(level)), text)


def prose(key: str, lang: str, **facts: Any) -> None:
    """A passage of a notebook's prose, in ``lang`` only: the catalogue entry ``key`` filled
    from ``facts``. Blocks are separated by a blank line: ``# …`` / ``## …`` headings, a block
    of ``- …`` lines a list, anything else a paragraph; emphasis as in :func:`say`."""
    html_parts, text_parts = [], []
    for block in message(key, lang, **facts).strip().split("\n\n"):
        block = block.strip()
        level = len(block) - len(block.lstrip("#"))
        lines = block.splitlines()
        if 1 <= level <= 6 and block[level:level + 1] == " ":
            title = block[level + 1:].strip()
            html_parts.append(_heading(title, level))
            text_parts.append(plain(title))
        elif all(line.startswith("- ") for line in lines):
            html_parts.append("<ul>" + "".join(f"<li>{markup(i[2:])}</li>" for i in lines)
                              + "</ul>")
            text_parts.append("\n".join(f"- {plain(i[2:])}" for i in lines))
        else:
            html_parts.append(f"<p>{markup(block)}</p>")
            text_parts.append(plain(block))
    _show_html("".join(html_parts), "\n\n".join(text_parts))


def say(text: str) -> None:
    """A paragraph of prose (escaped; ``*emphasis*`` and ``**strong**`` kept)."""
    _show_html(f"<p>{markup(text)}</p>", plain(text))


def bullets(items: list[str], title: str | None = None) -> None:
    """A bulleted list, optionally under a bold title line (every item escaped)."""
    head = f"<p><strong>{markup(title)}</strong></p>" if title else ""
    body = "".join(f"<li>{markup(item)}</li>" for item in items)
    text = "\n".join(([title, ""] if title else []) + [f"- {plain(i)}" for i in items])
    _show_html(f"{head}<ul>{body}</ul>", text)


def _fmt_cell(value: Any, sig: int | None) -> str:
    """A cell of a column without a unit: a count never rounded, another number to ``sig``
    significant figures (by default every digit before the point, three figures below 100)."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "—"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) >= 1):
        return fmt_count(value)
    if isinstance(value, float):
        return fmt(value, sig or 3) if sig or abs(value) < 100 else fmt_count(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def shown_columns(df: pd.DataFrame, lang: str, columns: list[str] | None = None) -> list[str]:
    """The columns a table shows: ``columns`` (or every column but machine keys), without the
    era label on an English page, where R5 means nothing (the fiscal year beside it says it)."""
    chosen = list(columns) if columns is not None else [
        c for c in df.columns if c not in HIDDEN_COLUMNS]
    return [c for c in chosen if not (lang == "en" and c == "era_label")]


def _is_code_column(series: pd.Series) -> bool:
    """A text column whose every value is a glossary term (a code such as ``main_model``)."""
    values = {v for v in series.dropna().unique() if isinstance(v, str)}
    return bool(values) and len(values) == series.dropna().nunique() and all(
        has(v) for v in values)


def _is_year_column(name: str, series: pd.Series) -> bool:
    """A column of years by its name, and only if every value is a whole number:
    ``share_of_fiscal_year`` holds shares, not years, and ``this_year`` the year's figure."""
    if not (name.endswith(("fiscal_year", "_year", "_no")) or name == "year") \
            or name == "this_year":
        return False
    values = pd.to_numeric(series.dropna(), errors="coerce")
    return bool(values.notna().all() and (values % 1 == 0).all())


def format_table(
    df: pd.DataFrame,
    lang: str,
    sig: int | None = None,
    pct: tuple[str, ...] = (),
    label_values: tuple[str, ...] = (),
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """A display copy of ``df``: each number as its column's unit asks (``pct`` columns are
    shares), the glossary's column names and the values of ``label_values`` columns; ``columns``
    selects and orders the columns shown."""
    check_lang(lang)
    df = df[shown_columns(df, lang, columns)]
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        series, name = df[col], str(col)
        unit = "share" if col in pct else unit_of_column(name)
        if col in pct or (unit and pd.api.types.is_float_dtype(series)):
            shown = series.map(lambda v, u=unit: fmt_unit(
                None if pd.isna(v) else float(v), u, lang, bare=True))
        elif _is_year_column(name, series):
            shown = series.map(lambda v: "—" if pd.isna(v) else str(int(v)))
        elif name.endswith("population_basis"):
            shown = series.map(lambda v: "—" if pd.isna(v) else (
                message(f"basis.{v}", lang) if f"basis.{v}" in keys() else str(v)))
        elif col in label_values or _is_code_column(series):
            shown = series.map(lambda v: "—" if pd.isna(v) else _label(str(v), lang))
        else:
            shown = series.map(lambda v: _fmt_cell(v.item() if hasattr(v, "item") else v, sig))
        out[_label(name, lang)] = shown.astype("object")
    return out.reset_index(drop=True)


def _is_url_column(values: pd.Series) -> bool:
    filled = [str(v) for v in values if str(v) not in ("", "—")]
    return bool(filled) and all(v.startswith(("https://", "http://")) for v in filled)


def _link(value: Any) -> str:
    """A web address as a link named by its host, only if the package ships it (a source of the
    shipped data); any other text, a user's address included, is escaped text. Printed after
    the link (see the page's print rules) as a reader types it: 大阪市港区, not %E5%A4%A7…"""
    text = str(value)
    if text not in shipped_urls():
        return html.escape(text)
    host = urlsplit(text).hostname or text
    return (f'<a href="{html.escape(text, quote=True)}" '
            f'data-address="{html.escape(unquote(text), quote=True)}">{html.escape(host)}</a>')


def show_table(df: pd.DataFrame, lang: str, **kwargs: Any) -> None:
    """Display :func:`format_table` of ``df`` without the index, as HTML only (a Styler's text
    form holds a memory address), with a CSV download and the notes of a user's rows."""
    table = format_table(df, lang, **kwargs)
    marks = overlaid_rows(df)
    if any(marks) and len(table.columns):
        first = table.columns[0]
        table[first] = [f"{v}{OVERLAY_MARK}" if m else v
                        for v, m in zip(table[first], marks, strict=True)]
    styler = table.style.hide(axis="index").set_uuid(f"t{next(_TABLE_NUMBERS)}")
    # Web addresses become links named by their host (a full address would squeeze every other
    # column); everything else is escaped text.
    links = [c for c in table.columns if _is_url_column(table[c])]
    texts = [c for c in table.columns if c not in links]
    if texts:
        styler = styler.format(escape="html", subset=texts)
    if links:
        styler = styler.format(_link, subset=links)
    # Text reads from the left, numbers (already formatted as text) from the right.
    shown = shown_columns(df, lang, kwargs.get("columns"))
    text = [c for c, orig in zip(table.columns, shown, strict=True)
            if not pd.api.types.is_numeric_dtype(df[orig])]
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
        styler = styler.set_table_styles(
            {c: [{"selector": "th", "props": [("text-align", "left")]}] for c in text},
            overwrite=False)
    dates = {c for c, orig in zip(table.columns, shown, strict=True)
             if pd.api.types.is_datetime64_any_dtype(df[orig])}
    # a printed number or date never breaks (2020-10-/01)
    if whole := [c for c in table.columns if c not in text or c in dates]:
        styler = styler.set_properties(subset=whole, **{"white-space": "nowrap"})
    notes = "".join(f'<p class="wa-caveat">{markup(n)}</p>' for n in overlay_notes(df, lang))
    # The CSV (UTF-8 with BOM, as Excel reads it) travels inside the page: it works offline.
    data = base64.b64encode(table.to_csv(index=False).encode("utf-8-sig")).decode("ascii")
    name = download_name(_TITLE[0], next(_CSV_NUMBERS), _SECTION[0])
    csv = (f'<p class="wa-download"><a download="{html.escape(name, quote=True)}" '
           f'href="data:text/csv;charset=utf-8;base64,{data}">'
           f"{markup(message('table.download', lang))}</a></p>")
    display(HTML(styler.to_html() + notes + csv))


def download_name(title: str, number: int, section: str = "") -> str:
    """The file name a table downloads as: the report's title, the table's number on the page
    and its section, without characters a file system refuses."""
    parts = [re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", p).strip("_.")[:40]
             for p in (title, f"{number:02d}", section) if p]
    return "-".join(p for p in parts if p) + ".csv"


def overlay_notes(df: pd.DataFrame, lang: str) -> list[str]:
    """The footnotes of a table built from a user's rows: which file (and its checksum) the
    marked rows come from, and a printed total the corrected rows no longer sum to."""
    prov = df.attrs.get("provenance") or {}
    notes = []
    if any(overlaid_rows(df)):
        notes.append(message("table.overlay_note", lang, mark=OVERLAY_MARK,
                             file=Path(prov["overlay_file"]).name,
                             sha=prov.get("overlay_sha256", "")[:12]))
    for col, (printed, corrected) in (prov.get("totals_off") or {}).items():
        notes.append(message("table.totals_note", lang, column=_label(col, lang),
                             printed=fmt_count(printed), corrected=fmt_count(corrected)))
    return notes


def _legends_off_the_data(fig: Any) -> None:
    """Move every legend under its chart, across its width, so that it never covers data and
    leaves the plot the figure's width (a phone or an A4 column has none to spare)."""
    from matplotlib.transforms import offset_copy

    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        labels = [t.get_text() for t in legend.get_texts()]
        renderer = fig.canvas.get_renderer()
        below = ax.get_window_extent(renderer).y0 - ax.xaxis.get_tightbbox(renderer).y0
        anchor = offset_copy(ax.transAxes, fig=fig, y=-(below * 72 / fig.dpi + 4), units="points")
        ax.legend(list(legend.legend_handles), labels, loc="upper center",
                  bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor, ncols=min(2, len(labels)),
                  borderaxespad=0.0, fontsize=plotting.text_floor(fig), frameon=False)


def figure_html(fig: Any, caption: str, alt: str, lang: str) -> str:
    """``<figure>`` with the chart as inline SVG (sharp at any zoom and in print), alt text and
    a caption; the SVG carries its text's glyphs, so that JupyterLab draws the package's font."""
    plotting.for_the_page(fig, lang)
    _legends_off_the_data(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)  # RDF, not for readers
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(alt, quote=True)}" ', 1)
    opened = svg.index(">") + 1
    svg = svg[:opened] + figure_font_css(svg) + svg[opened:]
    return f'<figure>{svg}<figcaption>{markup(caption)}</figcaption></figure>'


def interval_note(fig: Any, lang: str) -> str:
    """What the figure's bands and whiskers are, read from the figure itself."""
    notes = []
    for kind, shapes in sorted(plotting.interval_kinds(fig).items()):
        shape = "both" if len(shapes) == 2 else next(iter(shapes))
        notes.append(message(f"figure.{kind}.{shape}", lang))
    return "".join(notes)


def show_plot(result: Any, lang: str, title_key: str | None = None, **kwargs: Any) -> None:
    """A result's chart, numbered, with its caption (what its intervals are, where one is
    clipped, its sources) and alt text (its title and first sentence), shown once and closed.
    ``kwargs`` go to ``result.plot`` (``kind="levels"``); ``title_key``: another chart's title."""
    import matplotlib.pyplot as plt  # heavy: only once a figure is shown

    fig, _ = result.plot(lang=lang, **kwargs)
    end = "。" if lang == "ja" else "."
    if title_key:
        title = message(title_key, lang)
        alt = title + end
    else:
        title = result.title(lang)
        first = result.text(lang).split("。" if lang == "ja" else ". ")[0]
        alt = f"{title}{'：' if lang == 'ja' else ': '}{first}{end}"
    clipped = getattr(result, "clipped_at", None)
    note = message("figure.clipped", lang, value=fmt(clipped)) if clipped else ""
    text = message("figure.caption", lang, number=next(_FIGURE_NUMBERS), title=title,
                   interval=interval_note(fig, lang) + note,
                   source=citation(getattr(result, "sources", ()) or (), lang))
    _show_html(figure_html(fig, text, alt, lang), text)
    plt.close(fig)


def transcription(lang: str) -> None:
    """The city's document as transcribed (``data/snapshots/kumamoto_review_2024.txt``): what it
    is, then the text, every character escaped (``#`` and ``##`` lines as headings, ``**…**``
    as bold, blocks of ``- `` items as lists, other blocks as paragraphs, line breaks kept)."""
    check_lang(lang)
    text = (shipped_data_dir() / "snapshots" / "kumamoto_review_2024.txt").read_text(
        encoding="utf-8")
    prose("prose.transcription.intro", lang)
    parts = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.strip().splitlines()
        head = re.match(r"(#{1,6}) (.*)", lines[0]) if lines else None
        if head:  # the transcription's # and ## … as the page's h2 and h3
            level = min(len(head[1]) + 1, 4)
            parts.append(f'<h{level} class="wa-unnumbered">{markup(head[2].rstrip())}</h{level}>')
            lines = lines[1:]
        if lines and all("\t" in x for x in lines):  # a table, its cells separated by tabs
            parts.append('<div class="wa-table"><table>' + "".join(
                "<tr>" + "".join(f"<td>{_transcribed_cell(c)}</td>" for c in x.split("\t"))
                + "</tr>" for x in lines) + "</table></div>")
        elif lines and lines[0].startswith("- "):  # a list: an item runs to the next "- "
            items: list[list[str]] = []
            for x in lines:
                if x.startswith("- "):
                    items.append([x[2:]])
                else:
                    items[-1].append(x)
            parts.append("<ul>" + "".join(f"<li>{_transcribed_block(i)}</li>" for i in items)
                         + "</ul>")
        elif lines:
            parts.append(f"<p>{_transcribed_block(lines)}</p>")
    _show_html(f'<div lang="ja" class="wa-transcription">{"".join(parts)}</div>', text)


def _transcribed_block(lines: list[str]) -> str:
    """Lines of the transcription marked up as one block (a bold phrase may run over a line
    break), each line break kept."""
    return markup("\u2028".join(x.rstrip() for x in lines)).replace("\u2028", "<br>")


def _transcribed_cell(cell: str) -> str:
    """A table cell of the transcription, escaped; a list it writes in HTML (``<li>…``) as one
    line per item (its tags are never passed on)."""
    return "<br>".join(markup(t.strip()) for t in re.split(r"<[^>]*>", cell) if t.strip())


def overview_summary(lang: str, data_dir: Any = None) -> None:
    """The summary box of the overview: what the collection holds and where it comes from."""
    names = dataset_names()
    rows = sum(len(load(n, data_dir)) for n in names)
    review = sum(1 for n in names if describe(n)["source"]["id"] == "kumamoto_review_2024")
    summary(lang, answer=message("overview.answer", lang, datasets=len(names), review=review,
                                 public=len(names) - review, rows=fmt_count(rows)))


def summary(lang: str, *results: Any, answer: str | None = None, figures_of: tuple = ()) -> None:
    """The box every report opens with (要旨 / Summary): the answer, the key figures with their
    intervals and the main caveat, all from the results, so the box cannot disagree with the
    body; it carries the report's headline (:data:`~wardanalysis.records.HEADLINE_MIME`) for
    the front page. ``figures_of``: results that give key figures (first) but no sentence."""
    lines = answer if answer is not None else sentences(
        (r.headline(lang) for r in results if hasattr(r, "headline")), lang)
    figures = [key_figure(e, lang) for r in (*figures_of, *results) for e in r.key_figures()]
    caveats = [r.caveat_list(lang)[0] for r in results if r.caveats]
    items = "".join(f"<li>{markup(f)}</li>" for f in figures)
    caveat = (f'<p class="wa-caveat">{markup(message("summary.caveat", lang, text=caveats[0]))}'
              "</p>" if caveats else "")
    head = message("summary.heading", lang)
    fragment = (f'<section class="wa-summary"><h2 class="wa-unnumbered">{markup(head)}</h2>'
                f"<p>{markup(lines)}</p><ul>{items}</ul>"
                f"{_reading(lang, lines, *figures, *caveats[:1])}"
                f"{caveat}</section><!--wa-toc-->")
    headline = {"title": _TITLE[0], "answer": plain(lines), "figures": [plain(f) for f in figures],
                "simulated": any("simulated" in getattr(r, "sources", ()) for r in results)}
    _show_html(fragment, "\n".join([head, lines, *(f"- {f}" for f in figures), *caveats[:1]]),
               **{HEADLINE_MIME: headline})


def _reading(lang: str, *texts: str) -> str:
    """One line glossing the terms the texts use (:func:`~.text.messages.glosses`); empty
    when they use none."""
    used = glosses(lang, *texts)
    if not used:
        return ""
    terms = sentences(used, lang)
    return f'<p class="wa-reading">{markup(message("summary.reading", lang, terms=terms))}</p>'


def show_result(result: Any, lang: str, plot: bool = True,
                table: bool | list[str] = False) -> None:
    """A result as a reviewer reads it: its paragraph, its plot, the method in one line, and
    every caveat. ``table``: its table too, every column (``True``) or those listed."""
    say(result.text(lang))
    if plot:
        show_plot(result, lang)
    if table is not False:
        show_table(result.table(lang=None), lang,
                   columns=None if table is True else list(table))
    say(f"*{label('method', lang)}:* {result.method_text(lang)}")
    caveats = result.caveat_list(lang)
    if caveats:
        bullets(caveats, label("caveats", lang))


def provenance_table(lang: str, data_dir: Any = None) -> pd.DataFrame:
    """One row per dataset: title, source, section, date of the figures, quality mark, rows and
    checksum; a dataset with an overlay in ``data_dir`` has a second row for the user's file."""
    check_lang(lang)
    rows = []
    suffix = "_ja" if lang == "ja" else ""
    for name in dataset_names():
        meta = describe(name)
        src = meta["source"]
        df = load(name, data_dir)
        prov = df.attrs["provenance"]
        quality = src.get("quality")
        if quality is None and "quality" in df.columns:
            quality = "/".join(sorted(set(df["quality"])))
        row = {"dataset": name, "title": meta["title"][lang], "source": src["id"],
               "section": src.get("section" + suffix, src.get("section", "")),
               "as_of": src.get("as_of" + suffix, src.get("as_of", "")),
               "source_quality": quality, "rows": len(df), "sha256": meta["sha256"][:12],
               "overlay": "✓" if prov.get("overlay_file") else ""}
        rows.append(row)
        if prov.get("overlay_file"):
            rows.append({**row, "source": Path(prov["overlay_file"]).name, "section": "",
                         "as_of": "", "source_quality": "",
                         "rows": len(prov.get("overlay_keys") or []),
                         "sha256": prov.get("overlay_sha256", "")[:12]})
    table = pd.DataFrame(rows)
    # the user's-data column only when there are a user's data
    return table if (table["overlay"] != "").any() else table.drop(columns="overlay")


def corrections_table(lang: str) -> pd.DataFrame:
    """The known source problems of ``data/corrections.yml``: what the source says, what the
    package uses, and why, in ``lang``."""
    check_lang(lang)
    suffix = "_ja" if lang == "ja" else ""
    return pd.DataFrame([
        {"dataset_title": ("、" if lang == "ja" else "; ").join(
             get_schema(d).title.get(lang, d)
             for d in (e["dataset"] if isinstance(e["dataset"], list) else [e["dataset"]])),
         **{field: " ".join(str(e[field + suffix]).split())
            for field in ("source_says", "package_uses", "why")}}
        for e in read(shipped_data_dir() / "corrections.yml")
    ])
