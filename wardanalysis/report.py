"""Display helpers for the notebooks: headings, prose, tables and figures in ``ja`` or ``en``.

Notebooks stay thin: they call these with result objects and data, and every label comes from the
glossary. Numbers are formatted here, for display only (thousands separators, units, significant
figures); the objects keep them unrounded. Figures are displayed and closed, so that a figure shows
once under any matplotlib backend.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .glossary import check_lang, has, label

__all__ = [
    "bullets",
    "format_table",
    "heading",
    "setup",
    "show",
    "show_result",
    "show_table",
    "say",
]


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def setup(lang: str) -> str:
    """Check ``lang`` and apply the plot theme (with the Japanese font). Returns ``lang``."""
    check_lang(lang)
    from . import plotting

    plotting.use_theme()
    return lang


def _label(key: str, lang: str) -> str:
    return label(key, lang) if has(key) else key


def heading(key: str, lang: str, level: int = 2) -> None:
    """A Markdown heading from the glossary term ``key`` (or ``key`` itself if it is not a term)."""
    from IPython.display import Markdown

    _display(Markdown(f"{'#' * level} {_label(key, lang)}"))


def say(text: str) -> None:
    """A paragraph of Markdown prose."""
    from IPython.display import Markdown

    _display(Markdown(text))


def bullets(items: list[str], title: str | None = None) -> None:
    """A bulleted list, optionally under a bold title line."""
    from IPython.display import Markdown

    lines = [f"**{title}**", ""] if title else []
    lines += [f"- {item}" for item in items]
    _display(Markdown("\n".join(lines)))


def _fmt_cell(value: Any, sig: int | None) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "—"
    if isinstance(value, int) or (hasattr(value, "dtype") and pd.api.types.is_integer(value)):
        return f"{int(value):,}"
    if isinstance(value, float):
        if sig is None:
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
        from .results import fmt

        return fmt(value, sig)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def format_table(
    df: pd.DataFrame,
    lang: str,
    units: dict[str, str] | None = None,
    sig: int | None = None,
    pct: tuple[str, ...] = (),
) -> pd.DataFrame:
    """A display copy of ``df``: numbers as text with thousands separators, shares in ``pct``
    columns as percentages, column names from the glossary with their unit in brackets.

    The caller's frame is not modified.
    """
    check_lang(lang)
    units = units or {}
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        series = df[col]
        if col in pct:
            shown = series.map(lambda v: "—" if pd.isna(v) else f"{100 * float(v):.1f}%")
        else:
            shown = series.map(lambda v: _fmt_cell(v.item() if hasattr(v, "item") else v, sig))
        name = _label(str(col), lang)
        if col in units:
            name = f"{name} ({_label(units[col], lang)})"
        out[name] = shown.astype("object")
    return out.reset_index(drop=True)


def show_table(df: pd.DataFrame, lang: str, **kwargs: Any) -> None:
    """Display :func:`format_table` of ``df`` without the index."""
    from IPython.display import HTML

    # HTML only: a Styler's own text form holds a memory address, which differs on every run.
    styler = format_table(df, lang, **kwargs).style.hide(axis="index").set_uuid("t")
    _display(HTML(styler.to_html()))


def show(fig: Any) -> None:
    """Display a matplotlib figure once and close it."""
    import matplotlib.pyplot as plt

    _display(fig)
    plt.close(fig)


def show_result(result: Any, lang: str, plot: bool = True, table: bool = False) -> None:
    """A result as a reviewer reads it: the plain-language paragraph, the plot, the method in one
    line, and every caveat."""
    say(result.text(lang))
    if plot:
        fig, _ = result.plot(lang=lang)
        show(fig)
    if table:
        show_table(result.table(lang=None), lang)
    method = label("method", lang) if has("method") else "Method"
    say(f"*{method}:* {result.method_text(lang)}")
    caveats = result.caveat_list(lang)
    if caveats:
        bullets(caveats, label("caveats", lang) if has("caveats") else "Caveats")
