"""The COVID period: which fiscal years are before, during and after it. Its ends are data (the
dataset ``covid_period``: the review's 令和2年度から令和5年度), either one overridable by a caller; a
year after the end is "after COVID", never counted as a COVID year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.loading import load
from ..eras import fiscal_year
from ..errors import BreakYearError, CovidPeriodError, TooFewYearsError
from ..results import Joined, Said, Years
from ..text.formats import years_text

__all__ = ["CovidPeriod", "check_period", "covid_period", "whole_year", "years_phrase"]


@dataclass(frozen=True)
class CovidPeriod:
    """First and last fiscal year of the COVID period (inclusive)."""

    start: int
    end: int

    def phase(self, years: Sequence[int]) -> np.ndarray:
        """``'before'``, ``'during'`` or ``'after'`` for each fiscal year."""
        y = np.asarray(years, dtype=int)
        return np.where(y < self.start, "before", np.where(y <= self.end, "during", "after"))

    def during(self, years: Sequence[int]) -> np.ndarray:
        return self.phase(years) == "during"

    def split(self, years: Sequence[int]) -> dict[str, list[int]]:
        """The fiscal years of each phase."""
        ys = np.asarray(years, dtype=int)
        ph = self.phase(ys)
        return {p: ys[ph == p].tolist() for p in ("before", "during", "after")}

    def phases(self, years: Sequence[int]) -> Joined:
        """The phases and their fiscal years, for a method line."""
        return Joined(tuple(Said(f"period.{p}", {"years": Years(ys)})
                            for p, ys in self.split(years).items()), "list.semicolon")


def whole_year(value: object, name: str, error: type[Exception] = CovidPeriodError) -> int:
    """A fiscal year given as an integer or an era label (``R2``, ``令和2年度``)."""
    if isinstance(value, str):
        try:
            return fiscal_year(value)
        except ValueError as exc:
            raise error(f"{name}: {exc}") from None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise error(f"{name}: expected a whole fiscal year (2020) or an era label "
                    f"(R2, 令和2年度), got {value!r}")
    return int(value)


def covid_period(covid_start: int | str | None = None, covid_end: int | str | None = None, *,
                 break_year: int | str | None = None,
                 data_dir: str | Path | None = None) -> CovidPeriod:
    """The dataset ``covid_period`` (laid over by ``data_dir``) with either end overridden by a
    fiscal year or an era label (``R2``, ``令和2年度``); ``break_year`` is an older name of
    ``covid_start``. Raises :class:`CovidPeriodError` for a bad end or an end before the start."""
    if break_year is not None:
        if covid_start is not None and whole_year(covid_start, "covid_start") != whole_year(
                break_year, "break_year"):
            raise CovidPeriodError(f"break_year ({break_year!r}) and covid_start "
                                   f"({covid_start!r}) name the same parameter with different "
                                   "values: give one")
        covid_start = break_year
    if covid_start is None or covid_end is None:
        fy = load("covid_period", data_dir)["fiscal_year"]
    start = int(fy.min()) if covid_start is None else whole_year(covid_start, "covid_start")
    # without an end of its own, a later start moves the document's end with it
    end = max(int(fy.max()), start) if covid_end is None else whole_year(covid_end, "covid_end")
    if end < start:
        raise CovidPeriodError(f"covid_end (FY{end}) comes before covid_start (FY{start})")
    return CovidPeriod(start, end)


def years_phrase(years: Sequence[int]) -> str:
    """The fiscal years in a message (``FY2017–FY2023``), ``none`` for none."""
    return years_text(years) if len(years) else "none"


def check_period(period: CovidPeriod, years: Sequence[int], pre_needed: int,
                  during_needed: int, model: str = "") -> None:
    """Enough fiscal years before and during the COVID period for ``model``."""
    split = period.split(years)
    if not split["before"] or not split["during"]:
        raise BreakYearError(
            period.start, years,
            f"the COVID period FY{period.start}–FY{period.end} must leave fiscal years both "
            "before it and in it")
    if len(split["before"]) < pre_needed or len(split["during"]) < during_needed:
        model = model or f"a model with the COVID period FY{period.start}–FY{period.end}"
        raise TooFewYearsError(
            model, pre_needed + during_needed, years,
            message=(f"{model} needs at least {pre_needed} fiscal year(s) before FY{period.start} "
                     f"and {during_needed} in FY{period.start}–FY{period.end}; the data "
                     f"({years_phrase(years)}) have {len(split['before'])} before and "
                     f"{len(split['during'])} in it"))
