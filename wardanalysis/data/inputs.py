"""The input-only datasets ``request_log`` and ``monthly_requests`` (a user's files only): the
checks a descriptor rule cannot state, aggregation to months and fiscal years, and the comparison
with the published yearly figures (a difference is reported, never an error)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ..eras import era_label
from ..errors import WardanalysisError
from . import validation
from .readers import Problem
from .schema import get_schema
from .validation import cap_problems, read_table

__all__ = ["LEVELS", "WARDS", "InputMissingError", "as_of_date", "monthly_counts",
           "monthly_from_input", "reconciliation", "yearly_needs"]

#: The consultation levels in order; a level implies the ones before it.
LEVELS = ("担当者協議", "課長協議", "地域課題調整会議")
#: The columns of ``needs_reflection`` the levels are counted into (cumulatively).
LEVEL_COLUMNS = ("staff_consultations", "section_chief_consultations", "coordination_meetings")
#: Kumamoto's five wards, in the order the city lists them.
WARDS = ("中央区", "東区", "西区", "南区", "北区")
#: Columns compared with the published yearly table.
RECONCILED = ("requests", "requests_handled", "priority_issues", "decided_to_act", *LEVEL_COLUMNS)


class InputMissingError(WardanalysisError, FileNotFoundError):
    """An input-only dataset asked for without a file of it in the data directory."""


def _flag(series: pd.Series) -> pd.Series:
    return series.astype("boolean").fillna(False).astype(bool)


def read_input(name: str, path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """A user's file of input-only dataset ``name``: the frame and every problem, with the
    checks its descriptor's rules cannot state, each naming the row."""
    file = str(path)
    frame, _, problems = read_table(Path(path), get_schema(name), file)
    if frame is None:
        return frame, problems

    if name == "request_log":
        frame["level_reached"] = frame["level_reached"].where(
            frame["level_reached"].isin(LEVELS), None)
        prio, decided = _flag(frame["is_priority_issue"]), _flag(frame["is_decided_to_act"])
        has_level = frame["level_reached"].notna()
        for bad, column, message in (
            (prio & ~has_level, "level_reached", "a priority issue (is_priority_issue true) must "
                                                 f"name the level it reached ({', '.join(LEVELS)})"),
            (~prio & has_level, "level_reached", "a level is given for a request that is not a "
                                                 "priority issue (is_priority_issue false)"),
            (~prio & decided, "is_decided_to_act", "only a priority issue can be decided to act on "
                                                   "(is_priority_issue false)")):
            problems += [Problem(file, message, row=int(r), column=column)
                         for r in frame.loc[bad, "_row"]]
    else:  # monthly_requests: a month after the current one cannot have been counted
        now = validation.today()
        fy, month = frame["fiscal_year"], frame["month"]
        year = fy + (month < 4)
        later = (year * 12 + month > now.year * 12 + now.month).fillna(False).astype(bool)
        problems += [Problem(file, f"FY{f} month {m} ({y}-{m:02d}) is after the current month "
                                   f"({now:%Y-%m}), so it cannot have been counted",
                             row=int(r), column="month")
                     for r, f, m, y in zip(frame.loc[later, "_row"], fy[later], month[later],
                                           year[later], strict=True)]
    return frame, cap_problems(problems)


def as_of_date(log: pd.DataFrame, as_of: object = None) -> dt.date:
    """The date a log was exported: ``as_of`` when given, else its latest date (received or
    handled)."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    dates = pd.concat([pd.to_datetime(log["received_date"]),
                       pd.to_datetime(log["handled_date"])]).dropna()
    if dates.empty:
        raise ValueError("request_log: no dates, so its as-of date is unknown; pass as_of")
    return dates.max().date()


def monthly_counts(log: pd.DataFrame, by_ward: bool = False, as_of: object = None) -> pd.DataFrame:
    """A log as monthly counts in the ``monthly_requests`` shape: ``fiscal_year``, ``month``
    (calendar), ``ward`` (with ``by_ward``), ``requests``, ``requests_handled`` (handled by the
    as-of date). Every month from the first to the last in the log is listed, empty months with
    0 (and, with ``by_ward``, every ward that appears in the log)."""
    d = pd.to_datetime(log["received_date"])
    cut = pd.Timestamp(as_of_date(log, as_of))
    handled = pd.to_datetime(log["handled_date"]).le(cut).fillna(False).astype(int)
    frame = pd.DataFrame({"period": d.dt.to_period("M"), "requests": 1, "requests_handled": handled})
    keys = ["period"]
    if by_ward:
        frame["ward"] = log["ward"].to_numpy()
        keys.append("ward")
    counts = frame.groupby(keys, observed=True)[["requests", "requests_handled"]].sum()
    months = pd.period_range(frame["period"].min(), frame["period"].max(), freq="M")
    if by_ward:
        wards = [w for w in WARDS if w in set(frame["ward"])] + sorted(
            set(frame["ward"]) - set(WARDS))
        index = pd.MultiIndex.from_product([months, wards], names=keys)
    else:
        index = pd.Index(months, name="period")
    counts = counts.reindex(index, fill_value=0).reset_index()
    counts.insert(0, "month", counts["period"].dt.month.astype(int))
    counts.insert(0, "fiscal_year", (counts["period"].dt.year - (counts["month"] < 4)).astype(int))
    return counts.drop(columns="period").astype({"requests": int, "requests_handled": int})


def yearly_needs(log: pd.DataFrame, as_of: object = None) -> pd.DataFrame:
    """A log as the yearly ``needs_reflection`` table: requests, requests handled by the as-of
    date, priority issues, decided to act, and the consultations at each level counted
    cumulatively (a 課長協議 case also counts as a 担当者協議), one row per fiscal year received."""
    cut = pd.Timestamp(as_of_date(log, as_of))
    received = pd.to_datetime(log["received_date"])
    prio = _flag(log["is_priority_issue"])
    level = log["level_reached"].map({lv: i + 1 for i, lv in enumerate(LEVELS)}).fillna(0)
    level = level.where(prio, 0).astype(int)
    frame = pd.DataFrame({
        "fiscal_year": (received.dt.year - (received.dt.month < 4)).to_numpy(),
        "requests": 1,
        "requests_handled": pd.to_datetime(log["handled_date"]).le(cut).fillna(False).astype(int),
        "priority_issues": prio.astype(int),
        "decided_to_act": (prio & _flag(log["is_decided_to_act"])).astype(int),
        **{col: (level >= i + 1).astype(int) for i, col in enumerate(LEVEL_COLUMNS)},
    })
    out = frame.groupby("fiscal_year").sum().reset_index()
    out["fiscal_year"] = out["fiscal_year"].astype(int)
    out.insert(1, "era_label", [era_label(int(y)) for y in out["fiscal_year"]])
    out["as_of"] = cut
    return out


def monthly_from_input(monthly: pd.DataFrame) -> pd.DataFrame:
    """A ``monthly_requests`` table as the city's monthly series: the whole-city rows where a
    month has one, else the sum of its ward rows."""
    ward = monthly["ward"] if "ward" in monthly.columns else pd.Series(pd.NA, index=monthly.index)
    city = monthly[ward.isna()]
    wards = monthly[ward.notna()]
    cols = ["requests"] + (["requests_handled"] if "requests_handled" in monthly.columns else [])
    summed = wards.groupby(["fiscal_year", "month"])[cols].sum(min_count=1).reset_index()
    both = pd.concat([city[["fiscal_year", "month", *cols]], summed], ignore_index=True)
    both = both.drop_duplicates(["fiscal_year", "month"], keep="first")
    both["_order"] = both["fiscal_year"] * 12 + (both["month"] - 4) % 12
    return both.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def yearly_from_monthly(monthly: pd.DataFrame) -> pd.DataFrame:
    city = monthly_from_input(monthly)
    cols = [c for c in ("requests", "requests_handled") if c in city.columns]
    counted = city.groupby("fiscal_year")["month"].nunique()
    out = city.groupby("fiscal_year")[cols].sum(min_count=1)
    return out[counted == 12].reset_index()  # a year with missing months is not a year's total


def reconciliation(aggregate: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The aggregate beside the published yearly figures, per fiscal year and column where both
    exist: ``fiscal_year``, ``column``, ``aggregate``, ``published``, ``difference``
    (aggregate − published), ``relative_difference``. Differences are facts to report, not
    errors: a log counted at another date, or by other rules, differs."""
    cols = [c for c in RECONCILED if c in aggregate.columns and c in published.columns]
    agg, pub = (df.melt("fiscal_year", cols, "column", name).dropna()
                for df, name in ((aggregate, "aggregate"), (published, "published")))
    out = (agg.merge(pub, on=["fiscal_year", "column"]).sort_values("fiscal_year", kind="stable")
           .astype({"fiscal_year": int, "aggregate": int, "published": int})
           .reset_index(drop=True))
    out["difference"] = out["aggregate"] - out["published"]
    out["relative_difference"] = out["difference"] / out["published"].where(out["published"] != 0)
    return out
