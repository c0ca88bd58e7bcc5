"""wardanalysis.plotting: charts readable on A4 and on a phone."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Text

from wardanalysis import plotting


def _tick_texts(ax, which="y"):
    ax.figure.canvas.draw()
    a = ax.yaxis if which == "y" else ax.xaxis
    return [t.get_text() for t in a.get_ticklabels(minor=False) + a.get_ticklabels(minor=True)
            if t.get_text()]


@pytest.fixture
def fig_ax():
    fig, ax = plotting.figure_and_axes()
    yield fig, ax
    plt.close(fig)


def test_no_text_prints_under_9_pt_on_a4(fig_ax):
    fig, ax = fig_ax
    ax.plot([1, 2], [1, 2])
    ax.annotate("small", (1, 1), fontsize=6)
    ax.set_xticks([1, 2])
    ax.set_xticklabels(["a", "b"], fontsize=7)
    plotting.add_note(ax, "a note", fontsize=7)
    plotting.for_the_page(fig, "en")
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
    assert min(sizes) >= plotting.MIN_TEXT_PT
    # a figure wider than the printed column is shrunk in print: its floor is higher
    wide, ax2 = plt.subplots(figsize=(plotting.PRINTED_WIDTH_IN * 1.5, 4))
    ax2.annotate("small", (0.5, 0.5), fontsize=9)
    plotting.for_the_page(wide, "en")
    assert ax2.texts[0].get_fontsize() == pytest.approx(plotting.MIN_TEXT_PT * 1.5)
    plt.close(wide)


def test_axes_show_plain_numbers_with_separators_and_log_axes_no_powers_of_ten(fig_ax):
    fig, ax = fig_ax
    ax.plot([1, 2, 3], [900, 25_000, 4_000])
    ax.set_yscale("log")
    ax.set_ylim(100, 30_000)
    plotting.for_the_page(fig, "en")
    ticks = _tick_texts(ax)
    assert "1,000" in ticks and "10,000" in ticks
    assert not [t for t in ticks if "10^" in t or "$" in t or "e+" in t], ticks


def test_fiscal_year_tick_labels(fig_ax):
    _, ax = fig_ax
    plotting.set_fy_axis(ax, [2017, 2019], "ja")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["H29\n(2017)", "R元\n(2019)"]
    plotting.set_fy_axis(ax, [2017], "en")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["FY2017"]


def test_a_yen_axis_says_yen_in_each_language(fig_ax):
    fig, ax = fig_ax
    ax.plot([120, 950], [0, 1])
    plotting.yen_axis(ax, "ja")
    ax.set_xlim(80, 1_500)
    plotting.for_the_page(fig, "ja")
    ticks = _tick_texts(ax, "x")
    assert "100円" in ticks and "1,000円" in ticks and "200円" in ticks, ticks
    plotting.yen_axis(ax, "en")
    assert "¥1,000" in _tick_texts(ax, "x")


def test_a_japanese_y_label_is_written_across_above_its_axis(fig_ax):
    fig, ax = fig_ax
    ax.plot([1, 2], [1, 2])
    ax.set_ylabel("要望・相談件数（件）")
    ax.set_title("題")
    plotting.for_the_page(fig, "ja")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    label, title = ax.yaxis.label, ax.title if ax.get_title() else ax._left_title
    assert label.get_rotation() == 0
    box, axes_box = label.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.y0 >= axes_box.y1 - 1  # above the plot
    assert not box.overlaps(title.get_window_extent(renderer))
    # English keeps the usual rotated label
    fig2, ax2 = plotting.figure_and_axes()
    ax2.set_ylabel("Requests")
    plotting.for_the_page(fig2, "en")
    assert ax2.yaxis.label.get_rotation() == 90
    plt.close(fig2)


def test_a_japanese_y_label_that_repeats_the_title_is_shown_once(fig_ax):
    fig, ax = fig_ax
    ax.plot([1, 2], [1, 2])
    ax.set_ylabel("対応済の割合")
    ax.set_title("対応済の割合")
    plotting.for_the_page(fig, "ja")
    assert ax.yaxis.label.get_text() == ""
    assert "対応済の割合" in (ax.get_title("left"), ax.get_title())
    # in English the label stays on its side, whatever the title
    fig2, ax2 = plotting.figure_and_axes()
    ax2.set_ylabel("Share handled")
    ax2.set_title("Share handled")
    plotting.for_the_page(fig2, "en")
    assert ax2.yaxis.label.get_text() == "Share handled"
    plt.close(fig2)


def test_a_long_title_is_wrapped_within_the_figure(fig_ax):
    fig, ax = fig_ax
    ax.set_title("区の自主企画・裁量事業（区分a）：住民1人あたりの都市比較とその他の長い説明の続き")
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["とても長い目盛りのラベルが左に並ぶ", "b"])
    plotting.for_the_page(fig, "ja")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = next(t for t in ax.get_children() if isinstance(t, Text) and "区分a" in t.get_text())
    assert "\n" in title.get_text()
    assert title.get_window_extent(renderer).x1 <= fig.bbox.x1 + 1


@pytest.mark.parametrize("role", ["level1", "level2", "level3", "observed", "covid",
                                  "counterfactual", "neutral"])
def test_text_on_a_coloured_bar_has_contrast(role):
    bar = plotting.COLORS[role]
    assert plotting.contrast_ratio(plotting.text_color_on(bar), bar) >= 4.5
