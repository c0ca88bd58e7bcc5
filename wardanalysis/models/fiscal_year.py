"""One fiscal year as the committee would have seen it at the end of that year, from data up to
and including that year only (no look-ahead): its requests against the previous year and the
earlier trend, its funnel, ward budget and civil-engineering requests, and what the data lack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import stats
from ..data.loading import overlaid_rows
from ..errors import MissingDataError, ModelInputError
from ..results import (
    POISSON_ONLY,
    Dates,
    Estimate,
    FiscalYear,
    Joined,
    Month,
    Result,
    Said,
    Years,
    Yen,
)
from ..text.formats import fmt, years_text
from ..text.glossary import check_lang, label
from . import _input
from .budgets import kumamoto_budget
from .civil import civil_requests
from .escalation import settlement_levels
from .handled import year_share_intervals
from .periods import covid_period, whole_year
from .requests import START_UP_FY, borrowed_interval_text

_NEEDS = ("fiscal_year", "requests", "requests_handled", "priority_issues", "decided_to_act",
          "staff_consultations", "section_chief_consultations", "coordination_meetings")
#: Population bases with a name in the catalogue (``basis.<code>``).
_BASES = ("estimate", "resident_register", "census", "census_preliminary", "unknown")


@dataclass(frozen=True, eq=False, repr=False)
class FiscalYearResult(Result):
    """The report of one fiscal year. ``data`` (``table()``) holds every comparison as a row;
    ``funnel``, ``budget`` and ``civil`` hold that year's figures; ``history`` the request
    counts up to that year with the trend expectation; ``missing`` what the data lack (as
    sentences: :meth:`missing_list`)."""

    sources = ("needs_reflection", "machizukuri_budget", "population", "civil_engineering_requests")
    SUMMARY_KEYS = ("fy.requests", "fy.requests_rr_vs_previous", "fy.handled_share",
                    "fy.budget_yen_per_capita")
    fiscal_year: int = 0
    funnel: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    budget: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    civil: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    history: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    missing: tuple[Said, ...] = ()

    @property
    def has_chart(self) -> bool:
        """A chart needs more than one value: the requests of at least two years."""
        return len(self.history) >= 2

    def comparisons(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The comparisons as a reader reads them, in two tables: counts, with the ratio of this
        year's count to its reference (a rate ratio, or observed/expected against a trend), and
        shares, with their odds ratio; one kind of number per column in each, and each row's
        interval named."""
        t = self.table()
        share = t["measure"].str.endswith("_share")
        # ``test`` says how each interval was made (an exact one is valid only for Poisson counts)
        cols = ["measure", "comparison", "this_year", "reference", "estimate", "ci_low", "ci_high",
                "test"]
        return (t.loc[~share, cols].rename(columns={"estimate": "ratio_to_reference"})
                .reset_index(drop=True),
                t.loc[share, cols].rename(columns={"estimate": "odds_ratio"})
                .reset_index(drop=True))

    def missing_list(self, lang: str = "ja") -> list[str]:
        return [m.__lang_format__("", check_lang(lang)) for m in self.missing]

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        fy = self.fiscal_year
        h = self.history
        if not h.empty:
            this = h["fiscal_year"] == fy  # the report's year, highlighted and in the legend
            ax.bar(h.loc[~this, "fiscal_year"], h.loc[~this, "requests"],
                   color=plotting.COLORS["observed"], width=0.65, label=label("requests", lang))
            ax.bar(h.loc[this, "fiscal_year"], h.loc[this, "requests"],
                   color=plotting.COLORS["covid"], width=0.65,
                   label=label("requests_this_year", lang))
            exp = h[h["fiscal_year"] == fy]
            if not exp.empty and not math.isnan(exp["expected"].iloc[0]):
                e = exp.iloc[0]
                top = h["requests"].max() * 1.6
                hi = min(e["pi_high"], top)
                plotting.mark_interval(ax.errorbar(
                    [fy + 0.28], [e["expected"]], yerr=[[e["expected"] - e["pi_low"]],
                    [hi - e["expected"]]], fmt="D", color=plotting.COLORS["prediction"],
                    markeredgecolor="white", markersize=8, elinewidth=2, capsize=5,
                    zorder=5, label=label("trend_expectation", lang)), "prediction")
                ax.set_ylim(0, top * 1.05)
                if e["pi_high"] > top:
                    plotting.add_note(ax, label("note_pi_clipped", lang).format(
                        value=fmt(e["pi_high"])))
            plotting.finish_axes(ax, lang, years=h["fiscal_year"], ylabel="requests_count",
                                 legend="upper right", fontsize=9)
        else:
            b = self.budget
            divisor, unit = plotting.money_unit(b["budget_thousand_yen"])
            ax.bar([fy], b["budget_thousand_yen"] / divisor, color=plotting.COLORS["level1"],
                   width=0.5, label=label("machizukuri_budget", lang))
            plotting.finish_axes(ax, lang, years=[fy], ylabel=unit, legend="upper right",
                                 fontsize=9)


#: A baseline trend needs at least this many fiscal years before an expected value is reported
#: (two coefficients and at least two residual degrees of freedom for its dispersion).
BASELINE_MIN_YEARS = 4
#: The funnel's stages and the denominator of each one's share.
_FUNNEL = (("requests", None), ("requests_handled", "requests"), ("priority_issues", "requests"),
           ("decided_to_act", "priority_issues"), ("settled_staff", "priority_issues"),
           ("settled_section_chief", "priority_issues"),
           ("settled_coordination", "priority_issues"))


def _year_shares(lv: pd.DataFrame, fy: int) -> dict[str, tuple[float, float, str, bool]]:
    """Each funnel stage's share of fiscal year ``fy`` (stages whose denominator is not 0):
    ``(low, high, interval label, borrowed)`` from :func:`year_share_intervals` over the years
    of ``lv``. The records and the funnel table both show these."""
    last = lv["fiscal_year"].tolist().index(fy)
    out = {}
    for stage, of in _FUNNEL:
        if of is None or int(lv[of].iloc[last]) == 0:
            continue
        low, high, interval, borrowed = year_share_intervals(lv[stage], lv[of], lv["fiscal_year"])
        out[stage] = (float(low[last]), float(high[last]), interval, borrowed)
    return out


def _funnel(lv: pd.DataFrame, fy: int, shares: dict[str, tuple]) -> pd.DataFrame:
    """The year's funnel; each share with its record's interval (:func:`_year_shares`) and how
    it was made (``test``)."""
    cur = lv[lv["fiscal_year"] == fy].iloc[0]
    rows = []
    for stage, of in _FUNNEL:
        count, n = int(cur[stage]), int(cur[of]) if of else None
        low, high = shares[stage][:2] if stage in shares else (math.nan, math.nan)
        test = (None if stage not in shares else
                "test_wilson_borrowed" if shares[stage][3] else "test_wilson_binomial_only")
        rows.append({"stage": stage, "count": count, "denominator": n,
                     "share": count / n if n else math.nan, "ci_low": low, "ci_high": high,
                     "test": test})
    return pd.DataFrame(rows)


#: How a comparison's interval was made, as a glossary term (the table shows its label).
_TEST_TERMS = {"quasi": "test_borrowed_dispersion", "poisson_only": "test_exact_poisson_only"}
#: (record key, count, denominator of its share or None for the count itself) of the
#: comparisons with the previous year
_VS_PREVIOUS = (("fy.requests_rr_vs_previous", "requests", None),
                ("fy.priority_issues_rr_vs_previous", "priority_issues", None),
                ("fy.handled_or_vs_previous", "requests_handled", "requests"),
                ("fy.priority_rate_or_vs_previous", "priority_issues", "requests"))
#: (record key, funnel stage) of the year's shares, each of its stage's denominator
_SHARES = (("fy.handled_share", "requests_handled"), ("fy.priority_rate", "priority_issues"),
           ("fy.decided_share", "decided_to_act"), ("fy.first_level_share", "settled_staff"))


def _needs_section(lv: pd.DataFrame, fy: int, shares: dict[str, tuple], est: list, rows: list,
                   caveats: list, missing: list, facts: dict) -> None:
    """The year's shares and its comparison with the previous year, each interval borrowing the
    dispersion of its series' trend over the years up to ``fy``."""
    cur = lv[lv["fiscal_year"] == fy].iloc[0]
    years = lv["fiscal_year"]
    est.append(Estimate("fy.requests", int(cur["requests"]), unit="requests"))
    dens = dict(_FUNNEL)
    for key, stage in _SHARES:
        if stage not in shares:  # no denominator this year
            continue
        lo, hi, interval, borrowed = shares[stage]
        est.append(Estimate(key, int(cur[stage]) / int(cur[dens[stage]]), lo, hi, "share",
                            interval=interval, flags=() if borrowed else (POISSON_ONLY,)))
    prev = lv[lv["fiscal_year"] == fy - 1]
    if prev.empty:
        missing.append("fy.missing.previous_requests")
        return
    pr = prev.iloc[0]
    borrowed = []
    for key, col, of in _VS_PREVIOUS:
        c, p = int(cur[col]), int(pr[col])
        if of is None:  # a rate ratio of the counts
            if c + p == 0:
                continue
            r = stats.scaled_rate_ratio(c, p, *stats.trend_dispersion(lv[col], years))
            measure, this, ref = col, c, p
        else:  # an odds ratio of the shares of ``of``
            r = stats.scaled_odds_ratio(c, int(cur[of]), p, int(pr[of]),
                                        *stats.trend_dispersion(lv[col], years, lv[of]))
            measure, this, ref = f"{col}_share", c / int(cur[of]), p / int(pr[of])
        borrowed.append(r)
        est.append(Estimate(key, r.ratio if math.isfinite(r.ratio) else math.nan, r.ci_low,
                            r.ci_high if math.isfinite(r.ci_high) else math.nan,
                            "rate ratio" if of is None else "odds ratio",
                            interval=borrowed_interval_text(r, "binomial" if of else "Poisson"),
                            flags=(POISSON_ONLY,) if r.poisson_only else ()))
        rows.append({"measure": measure, "comparison": "previous_year", "this_year": this,
                     "reference": ref, "estimate": r.ratio, "ci_low": r.ci_low,
                     "ci_high": r.ci_high, "exact_ci_low": r.exact_low,
                     "exact_ci_high": r.exact_high, "exact_p_value": r.exact_p,
                     "test": _TEST_TERMS[r.method]})
    facts.update(n_years=len(years), years=Years(years))
    caveats.append("fy.caveat.yoy_exact" if any(r.poisson_only for r in borrowed)
                   else "fy.caveat.yoy_borrowed")


def _history(nr: pd.DataFrame, fy: int, period, est: list, rows: list, caveats: list,
             missing: list, facts: dict) -> pd.DataFrame:
    """Requests up to ``fy`` and, where the baseline allows, the value expected for ``fy`` from
    a trend of the years before the COVID period (before ``fy`` itself for an earlier year)."""
    n = int(nr.loc[nr["fiscal_year"] == fy, "requests"].iloc[0])
    history = nr[["fiscal_year", "requests"]].copy()
    expected = ["expected", "pi_low", "pi_high"]
    history[expected] = math.nan
    base = nr[nr["fiscal_year"] < min(fy, period.start)]
    base_years = [int(y) for y in base["fiscal_year"]]
    if len(base) >= BASELINE_MIN_YEARS:
        x0 = float(base["fiscal_year"].mean())
        X = pd.DataFrame({"const": 1.0, "year": base["fiscal_year"].astype(float) - x0})
        fit = stats.fit_quasi_poisson(base["requests"].to_numpy(float), X,
                                      what="trend of the baseline years")
        pi = stats.prediction_interval(
            fit, pd.DataFrame({"const": [1.0], "year": [fy - x0]})).iloc[0]
        history.loc[history["fiscal_year"] == fy, expected] = pi[expected].to_numpy(float)
        interval = (f"95% prediction interval, quasi-Poisson trend of {years_text(base_years)}, "
                    f"{fit.quantiles}")
        est.append(Estimate("fy.requests_expected_from_trend", pi["expected"], pi["pi_low"],
                            pi["pi_high"], "requests", interval=interval))
        est.append(Estimate("fy.requests_oe_vs_trend", n / pi["expected"], n / pi["pi_high"],
                            n / pi["pi_low"], "observed / expected",
                            interval="from the 95% prediction interval"))
        rows.append({"measure": "requests", "comparison": "trend_of_earlier_years",
                     "this_year": n, "reference": pi["expected"], "estimate": n / pi["expected"],
                     "ci_low": pi["pi_low"], "ci_high": pi["pi_high"],
                     "test": "test_baseline_trend"})
        facts.update(n_base=len(base), base_years=Years(base_years), base_df=fit.df_resid,
                     base_dispersion=fit.dispersion, startup_year=START_UP_FY)
        caveats.append("fy.caveat.baseline")
        if START_UP_FY in base_years:
            caveats.append("fy.caveat.baseline_startup")
    else:
        facts["have"] = (Said("fy.have_years", {"n_base": len(base),
                                                "base_years": Years(base_years)})
                         if base_years else Said("fy.have_none"))
        missing.append("fy.missing.baseline_covid" if fy >= period.start
                       else "fy.missing.baseline_before")
    prov = nr.attrs.get("provenance") or {}
    if any(u for u, y in zip(overlaid_rows(nr), nr["fiscal_year"], strict=True) if y == fy):
        facts.update(file=Path(prov["overlay_file"]).name,
                     sha=prov.get("overlay_sha256", "")[:12])
        caveats.insert(0, "fy.overlay_caveat")
    as_of = _input.as_of_dates(nr).get(fy)
    if as_of is not None:
        facts["as_of"] = Dates((as_of,))
        caveats.append("fy.caveat.as_of")
    else:
        caveats.append("fy.caveat.as_of_unknown")
    if fy == START_UP_FY:
        facts["startup_year"] = START_UP_FY
        caveats.append("fy.caveat.startup_year")
    return history


def _text_keys(est: list[Estimate], fy: int, period, missing: bool) -> tuple[str, ...]:
    """The sentences of the year's paragraph, in order: which figures the year has selects the
    catalogue keys (the words are in messages.yml)."""
    by = {e.key: e for e in est}
    keys: list[str] = []
    req, rr = by.get("fy.requests"), by.get("fy.requests_rr_vs_previous")
    if req is not None:
        keys.append("fy.text.requests" if rr is None else
                    "fy.text.requests_rr_exact" if rr.poisson_only else "fy.text.requests_rr")
        tr = by.get("fy.requests_expected_from_trend")
        if tr is not None:
            inside = tr.ci_low <= req.value <= tr.ci_high
            keys.append("fy.text.trend_inside" if inside else "fy.text.trend_outside")
        else:
            keys.append("fy.text.no_baseline_before" if fy < period.start
                        else "fy.text.no_baseline_covid")
        if "fy.handled_share" in by and "fy.priority_rate" in by:
            keys.append("fy.text.shares")
    if "fy.budget_thousand_yen" in by:
        keys.append("fy.text.budget")
    if "fy.civil_total" in by:
        keys.append("fy.text.civil_rr" if "fy.civil_total_rr_vs_previous" in by
                    else "fy.text.civil")
    if missing:
        keys.append("fy.text.missing")
    return tuple(keys)


def fiscal_year_report(
    fiscal_year: int | str, *,
    covid_start: int | str | None = None,
    covid_end: int | str | None = None,
    needs_reflection: pd.DataFrame | None = None,
    civil_engineering_requests: pd.DataFrame | None = None,
    machizukuri_budget: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
    data_dir: str | Path | None = None,
) -> FiscalYearResult:
    """The report of one fiscal year (an integer or an era label), from data up to and
    including that year only; :class:`MissingDataError` when no dataset has a figure for it.
    Keys ``fy.*``, each only where the year has the figures: the year's counts and shares, their
    ratios ``*_vs_previous``, the trend's expectation (95% prediction interval), the budget and
    the civil-engineering requests (:data:`FiscalYearResult.SUMMARY_KEYS` lead).
    """
    fy = whole_year(fiscal_year, "fiscal_year", ModelInputError)
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
    frames = [
        _input.frame(needs_reflection, "needs_reflection", _NEEDS, data_dir, by_year=True),
        _input.frame(civil_engineering_requests, "civil_engineering_requests",
                     ("fiscal_year", "category", "requests"), data_dir),
        _input.frame(machizukuri_budget, "machizukuri_budget",
                     ("fiscal_year", "budget_thousand_yen", "reconstruction_thousand_yen", "wards"),
                     data_dir),
    ]
    every = sorted(set().union(*(f["fiscal_year"] for f in frames)))
    if fy not in every:
        raise MissingDataError(
            f"fiscal_year {fy}: no figure for this year in needs_reflection, "
            f"civil_engineering_requests or machizukuri_budget (years in the data: "
            f"{min(every)}–{max(every)})")
    nr, civ, bud = (f[f["fiscal_year"] <= fy] for f in frames)
    have = {"needs": fy in set(nr["fiscal_year"]), "civil": fy in set(civ["fiscal_year"]),
            "budget": fy in set(bud["fiscal_year"])}

    est: list[Estimate] = []
    rows: list[dict[str, Any]] = []
    caveats: list[str] = []  # catalogue keys, filled from ``facts``
    missing: list[str] = []
    facts: dict[str, Any] = {"fy": fy, "year": FiscalYear(fy), "period_start": period.start,
                             "period_end": period.end, "min_years": BASELINE_MIN_YEARS}
    funnel = pd.DataFrame()
    history = pd.DataFrame()

    if have["needs"]:
        lv = settlement_levels(nr)
        shares = _year_shares(lv, fy)
        _needs_section(lv, fy, shares, est, rows, caveats, missing, facts)
        funnel = _funnel(lv, fy, shares)
        history = _history(nr, fy, period, est, rows, caveats, missing, facts)
    else:
        missing.append("fy.missing.requests")

    budget = pd.DataFrame()
    if have["budget"]:
        kb = kumamoto_budget(bud, population, data_dir=data_dir, no_later_than_year_end=True)
        budget = kb.table().query("fiscal_year == @fy").reset_index(drop=True)
        r = budget.iloc[0]
        est += [
            Estimate("fy.budget_thousand_yen", r["budget_thousand_yen"], unit="thousand yen"),
            Estimate("fy.budget_per_ward_thousand_yen", r["per_ward_thousand_yen"],
                     unit="thousand yen per ward (equal split assumed)"),
            Estimate("fy.budget_yen_per_capita", r["yen_per_capita"], unit="yen per resident",
                     flags=kb.estimate(f"budget.kumamoto_yen_per_capita.fy{fy}").flags),
        ]
        basis = str(r["population_basis"])
        facts.update(budget_total=Yen(1000 * r["budget_thousand_yen"]),
                     per_ward=Yen(1000 * r["per_ward_thousand_yen"]),
                     per_capita=Yen(r["yen_per_capita"]),
                     pop_month=Month(r["population_as_of"]),
                     basis=Said(f"basis.{basis}") if basis in _BASES else basis,
                     pop_quality=str(r["population_quality"]))
        caveats.append("fy.caveat.budget")
        if r["population_looks_ahead"]:
            caveats.append("fy.caveat.population_after_year")
    else:
        missing.append("fy.missing.budget")

    civil = pd.DataFrame()
    if have["civil"]:
        cur_c = civ[civ["fiscal_year"] == fy].set_index("category")["requests"]
        civil = pd.DataFrame({"category": cur_c.index, "requests": cur_c.to_numpy()})
        est += [Estimate("fy.civil_total", int(cur_c.sum()), unit="requests"),
                *(Estimate(f"fy.civil_{cat}", int(v), unit="requests") for cat, v in cur_c.items())]
        if fy - 1 in set(civ["fiscal_year"]):
            cr = civil_requests(civ, base_year=fy - 1, compare_year=fy)
            est += [replace(e, key="fy.civil_" + e.key.split(".")[1].replace(
                f"_rr_fy{fy}_vs_fy{fy - 1}", "_rr_vs_previous")) for e in cr.estimates]
            rows += [{"measure": f"civil_{r['category']}", "comparison": "previous_year",
                      "this_year": r.get("requests_compare"), "reference": r.get("requests_base"),
                      "estimate": r["rate_ratio"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                      "exact_ci_low": r["ci_low"], "exact_ci_high": r["ci_high"],
                      "exact_p_value": r["p_value"], "test": "test_exact_two_years"}
                     for r in cr.table().to_dict("records")]
        else:
            missing.append("fy.missing.previous_civil")
    else:
        missing.append("fy.missing.civil")

    table = pd.DataFrame(rows, columns=["measure", "comparison", "this_year", "reference",
                                        "estimate", "ci_low", "ci_high", "exact_ci_low",
                                        "exact_ci_high", "exact_p_value", "test"])
    if not caveats:
        caveats.append("fy.caveat.only_listed")
    by = {e.key: e for e in est}
    facts.update({name: by[key] for name, key in (
        ("rr", "fy.requests_rr_vs_previous"), ("expected", "fy.requests_expected_from_trend"),
        ("oe", "fy.requests_oe_vs_trend"), ("handled", "fy.handled_share"),
        ("priority", "fy.priority_rate"), ("civil_rr", "fy.civil_total_rr_vs_previous"))
        if key in by})
    if "fy.requests" in by:
        facts["requests"] = int(by["fy.requests"].value)
    if "fy.priority_rate" in by:
        facts["priority_pct"] = by["fy.priority_rate"].value
    if "fy.civil_total" in by:
        facts["civil_total"] = int(by["fy.civil_total"].value)
    missing_said = tuple(Said(k, dict(facts)) for k in missing)
    facts["missing"] = Joined(missing_said, "list.semicolon")
    return FiscalYearResult(
        "title_fiscal_year_report", est, facts=facts,
        text_keys=_text_keys(est, fy, period, bool(missing)), method_key="fy.method",
        caveat_keys=caveats, n_obs=sum(have.values()), data=table, fiscal_year=fy,
        funnel=funnel, budget=budget, civil=civil, history=history, missing=missing_said)
