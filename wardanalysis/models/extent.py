"""What a user's request log or monthly counts can support, before any model runs: the months
they cover (the monthly time series needs :data:`MIN_MONTHS`) and the share of the published
yearly requests they hold. A short or partial log still gives a page, which says what it holds
and what that means for a level change found, or not found, in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..results import Estimate, Result, Years, chosen
from .periods import covid_period

__all__ = ["MIN_MONTHS", "MIN_MONTHS_EACH_SIDE", "WHOLE_SHARE", "LogCoverageResult",
           "log_coverage"]

#: Months the monthly time series needs: a year before the COVID period and two in it (the
#: trend, two pairs of seasonal terms and the level and slope change need that many).
MIN_MONTHS = 36
#: Months it needs on each side of the COVID start, as the model checks.
MIN_MONTHS_EACH_SIDE = 12
#: A log holding at least this share of the published requests, over the fiscal years both
#: cover, is read as the whole register (a log counted on another date differs by a few per
#: cent); below it, the page says that the log is partial and what that means.
WHOLE_SHARE = 0.95


@dataclass(frozen=True, eq=False)
class LogCoverageResult(Result):
    """``series_estimable``: whether the monthly time series can be fitted."""

    SUMMARY_KEYS: ClassVar[tuple[str, ...]] = ("log.coverage_share",)

    series_estimable: bool = True
    input_name: str = "request_log"

    @property
    def sources(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.input_name, "needs_reflection")

    def headline(self, lang: str = "ja") -> str:
        """Every sentence: a summary states how far the data go and what that means."""
        return self._body(lang)


def log_coverage(data: Any, *, covid_start=None, covid_end=None,
                 data_dir=None) -> LogCoverageResult | None:
    """The extent of a page's user data (:class:`~.monthly_data.MonthlyInputs`): ``log.months``
    and ``log.coverage_share``, its requests ÷ the published ones over the fiscal years both
    cover (exact counts). None for simulated data, which is made to match the published table."""
    if data.simulated:
        return None
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
    city = data.city
    years = sorted(int(y) for y in city["fiscal_year"].unique())
    months = int(len(city.drop_duplicates(["fiscal_year", "month"])))
    before = int((city["fiscal_year"] < period.start).sum())
    since = months - before
    rec = data.reconciliation(data_dir)
    req = rec[rec["column"] == "requests"]
    logged, published = int(req["aggregate"].sum()), int(req["published"].sum())
    share = logged / published if published else math.nan
    common = not req.empty
    short = months < MIN_MONTHS
    one_side = not short and min(before, since) < MIN_MONTHS_EACH_SIDE
    facts = {"months": months, "years": Years(years), "min_months": MIN_MONTHS,
             "each_side": MIN_MONTHS_EACH_SIDE, "before": before, "since": since,
             "covid": Years(range(period.start, period.end + 1)),
             "share": share, "logged": logged, "published": published,
             "common_years": Years(sorted(int(y) for y in req["fiscal_year"]))}
    text = chosen([(short, "log.too_short"), (one_side, "log.one_side"),
                   (common, "log.coverage"), (common and share < WHOLE_SHARE, "log.partial"),
                   (not common, "log.no_common_year")])
    table = req[["fiscal_year", "aggregate", "published"]]
    return LogCoverageResult(
        "title_log_coverage", (Estimate("log.months", months, unit="months"),
                               Estimate("log.coverage_share", share, unit="share")),
        n_obs=months, data=table.reset_index(drop=True), facts=facts, text_keys=text,
        method_key="log.method", caveat_keys=("log.caveat_date",),
        series_estimable=not (short or one_side), input_name=data.input_name)
