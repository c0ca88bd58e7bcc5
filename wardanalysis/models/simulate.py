"""SIMULATED request data (模擬データ), calibrated to the shipped yearly table — never real data.

No public monthly or request-level data of Kumamoto's requests exist: these stand in for them in
the tests, the design study (``04_data_needed``) and the example page (``05_monthly_log``), so
that every model for such data can be checked before a real export is available. A simulated
log's ``attrs["provenance"]["simulated"]`` is True, and the pages say 模擬データ / simulated data.

The generating model (:class:`Calibration` holds its numbers):

- **level and trend**: the quasi-Poisson log-linear trend of the shipped yearly requests;
- **COVID effect** (``covid_effect``): a rate ratio in every month of the COVID period
  (``covid_period``), 1 for no effect; after the period the trend resumes;
- **months**: ``1 + seasonal_amplitude * cos(2 pi (m - peak) / 12)`` (an assumption: the review
  prints no monthly figure);
- **wards**: population shares (2022-12-01), each times a log-normal ward effect (``ward_sd``);
- **dispersion**: the shipped yearly totals vary ``phi`` times more than Poisson counts. That
  extra variation is split (``variance_shares``, a third each by default: an assumption) between
  gamma factors with mean 1 per fiscal year, per city-month and per ward-month, so that a
  simulated yearly total has about the shipped dispersion;
- **each request**: a uniform day of its month; priority issue, decided to act on and level
  reached with the shipped yearly shares (the last year's after it); handled with probability
  ``handled_probability`` after an exponential delay (mean ``mean_days_to_handle``), counted as
  handled only if that falls on or before ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.inputs import LEVELS, WARDS

SEED = 20240626
#: The date the review counted its figures (its requests_handled are "handled by then").
REVIEW_DATE = dt.date(2024, 6, 26)


@dataclass(frozen=True)
class Calibration:
    """The numbers the simulator takes from the shipped data."""

    first_year: int
    log_level: float  # a: log expected requests in the first year
    log_trend: float  # b: change of the log per fiscal year
    dispersion: float  # phi: Pearson chi2 / df of the trend fit to the yearly totals
    mean_yearly: float  # the mean yearly total, to turn phi into variances of the factors
    ward_shares: tuple[float, ...]  # population shares of WARDS
    shares: pd.DataFrame  # per fiscal year: priority, decided, level shares
    covid_start: int
    covid_end: int


def calibrate(data_dir=None) -> Calibration:
    """The simulator's numbers from the shipped (or overlaid) yearly table."""
    from .. import stats
    from ..data.loading import load
    from .periods import covid_period

    nr = load("needs_reflection", data_dir)
    years = nr["fiscal_year"].to_numpy(int)
    X = pd.DataFrame({"const": 1.0, "t": (years - years.min()).astype(float)})
    fit = stats.fit_quasi_poisson(nr["requests"].to_numpy(float), X)
    pop = load("population", data_dir)
    pop = pop[(pop["city_ja"] == "熊本市") & pop["area_ja"].isin(WARDS)
              & (pd.to_datetime(pop["as_of_date"]) == pd.Timestamp("2022-12-01"))]
    by_ward = pop.groupby("area_ja")["population_persons"].first()
    ward = np.array([float(by_ward.get(w, np.nan)) for w in WARDS])
    if np.isnan(ward).any():  # a population table without one of the wards: equal shares
        ward = np.ones(len(WARDS))
    shares = pd.DataFrame({
        "fiscal_year": years,
        "priority": nr["priority_issues"] / nr["requests"],
        "decided": nr["decided_to_act"] / nr["priority_issues"].where(nr["priority_issues"] > 0),
        "level2": nr["section_chief_consultations"] / nr["staff_consultations"].where(
            nr["staff_consultations"] > 0),
        "level3": nr["coordination_meetings"] / nr["section_chief_consultations"].where(
            nr["section_chief_consultations"] > 0),
    }).fillna(0.0)
    period = covid_period(data_dir=data_dir)
    return Calibration(
        first_year=int(years.min()), log_level=float(fit.params["const"]),
        log_trend=float(fit.params["t"]), dispersion=float(fit.dispersion),
        mean_yearly=float(nr["requests"].mean()), ward_shares=tuple(ward / ward.sum()),
        shares=shares, covid_start=period.start, covid_end=period.end)


def months_of(fiscal_years: Sequence[int]) -> pd.DataFrame:
    """Every month of the fiscal years: ``fiscal_year``, ``month`` (calendar), ``year``
    (calendar) and ``index`` (months since the first April)."""
    rows = [(fy, m, fy if m >= 4 else fy + 1) for fy in fiscal_years
            for m in (*range(4, 13), 1, 2, 3)]
    out = pd.DataFrame(rows, columns=["fiscal_year", "month", "year"])
    out["index"] = np.arange(len(out))
    return out


def expected_monthly(cal: Calibration, fiscal_years: Sequence[int], covid_effect: float = 1.0,
                     seasonal_amplitude: float = 0.15, seasonal_peak: int = 6) -> pd.DataFrame:
    """Expected city-wide requests per month: the calibrated trend (continuous in months), the
    seasonal pattern, and the COVID rate ratio in the COVID period's months."""
    m = months_of(fiscal_years)
    t = (m["fiscal_year"] - cal.first_year) + ((m["month"] - 4) % 12 + 0.5) / 12 - 0.5
    season = 1 + seasonal_amplitude * np.cos(2 * np.pi * (m["month"] - seasonal_peak) / 12)
    covid = m["fiscal_year"].between(cal.covid_start, cal.covid_end)
    m["expected"] = (np.exp(cal.log_level + cal.log_trend * t) / 12 * season
                     * np.where(covid, covid_effect, 1.0))
    m["covid"] = covid.to_numpy()
    return m


def _gamma(rng: np.random.Generator, variance: float, size) -> np.ndarray:
    if variance <= 0:
        return np.ones(size)
    return rng.gamma(1 / variance, variance, size=size)


def simulate_counts(cal: Calibration, fiscal_years: Sequence[int], covid_effect=1.0, *,
                    replications: int = 1, variance_shares: Sequence[float] = (1 / 3, 1 / 3, 1 / 3),
                    ward_sd: float = 0.15, seasonal_amplitude: float = 0.15,
                    seed: int = SEED) -> tuple[pd.DataFrame, np.ndarray]:
    """SIMULATED monthly counts for each ward, vectorised over replications and effects (with
    ``covid_effect`` a sequence, the same random draws serve every effect). Returns ``(cells,
    counts)``: the ward-months (``fiscal_year``, ``month``, ``year``, ``index``, ``covid``,
    ``ward``) and counts of shape ``(len(effects), replications, len(cells))``."""
    effects = np.atleast_1d(np.asarray(covid_effect, dtype=float))
    rng = np.random.default_rng(seed)
    base = expected_monthly(cal, fiscal_years, 1.0, seasonal_amplitude)
    n_years, n_months, n_wards = len(fiscal_years), len(base), len(WARDS)
    # the gamma factors' variances that give the yearly totals the shipped dispersion
    a, b, c = (float(x) for x in variance_shares)
    if min(a, b, c) < 0 or abs(a + b + c - 1) > 1e-9:
        raise ValueError(f"variance shares must be >= 0 and sum to 1, got {variance_shares}")
    excess = max(0.0, cal.dispersion - 1) / cal.mean_yearly
    v_year, v_month = a * excess, 12 * b * excess
    v_ward = 12 * c * excess / float(np.sum(np.square(cal.ward_shares)))
    year_f = _gamma(rng, v_year, (replications, n_years))
    month_f = _gamma(rng, v_month, (replications, n_months))
    cell_f = _gamma(rng, v_ward, (replications, n_months * n_wards))
    wshare = np.asarray(cal.ward_shares) * np.exp(rng.normal(0, ward_sd, (replications, n_wards)))
    wshare /= wshare.sum(axis=1, keepdims=True)
    cells = base.loc[base.index.repeat(n_wards)].reset_index(drop=True)
    cells["ward"] = np.tile(WARDS, n_months)
    month_of_cell = np.repeat(np.arange(n_months), n_wards)
    mu = (cells["expected"].to_numpy()[None, :] * np.tile(wshare, n_months)
          * year_f[:, month_of_cell // 12] * month_f[:, month_of_cell] * cell_f)
    covid = cells["covid"].to_numpy()
    # common random numbers: one Poisson draw at the largest rate, thinned binomially for each
    # smaller effect in turn (a thinned Poisson count is Poisson), so every effect shares draws
    top = max(1.0, float(effects.max()))
    full = rng.poisson(mu * np.where(covid, top, 1.0))
    counts = np.empty((len(effects), *mu.shape), dtype=np.int64)
    order = np.argsort(-effects, kind="stable")
    current, level = full, top
    for i in order:
        keep = effects[i] / level if level > 0 else 0.0
        thinned = rng.binomial(current, min(1.0, keep)) if keep < 1 else current
        current = np.where(covid[None, :], thinned, full)
        level = effects[i]
        counts[i] = current
    return cells.drop(columns=["expected"]), counts


def city_months(cells: pd.DataFrame, counts: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Ward-month counts of :func:`simulate_counts` summed over the wards."""
    n_wards = len(WARDS)
    months = cells.iloc[::n_wards].drop(columns="ward").reset_index(drop=True)
    return months, counts.reshape(*counts.shape[:-1], len(months), n_wards).sum(axis=-1)


def yearly_totals(cells: pd.DataFrame, counts: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Ward-month counts of :func:`simulate_counts` summed over each fiscal year."""
    months, city = city_months(cells, counts)
    years = months.groupby("fiscal_year", sort=False)["covid"].first().reset_index()
    return years, city.reshape(*city.shape[:-1], len(years), 12).sum(axis=-1)


def simulate_request_log(fiscal_years: Sequence[int] = range(2017, 2024), *,
                         covid_effect: float = 0.7,
                         variance_shares: Sequence[float] = (1 / 3, 1 / 3, 1 / 3),
                         ward_sd: float = 0.15, seasonal_amplitude: float = 0.15,
                         handled_probability: float = 0.97, mean_days_to_handle: float = 60.0,
                         as_of: dt.date | str = REVIEW_DATE, seed: int = SEED,
                         data_dir=None) -> pd.DataFrame:
    """A SIMULATED ``request_log`` (one row per request, the schema's columns), deterministic for
    a seed; ``covid_effect`` is the true rate ratio in the COVID period (1: no effect). Its
    ``attrs["provenance"]`` says ``simulated: True`` with the settings."""
    cal = calibrate(data_dir)
    years = [int(y) for y in fiscal_years]
    as_of = pd.Timestamp(as_of).date()
    cells, counts = simulate_counts(cal, years, covid_effect,
                                    variance_shares=variance_shares, ward_sd=ward_sd,
                                    seasonal_amplitude=seasonal_amplitude, seed=seed)
    n = counts[0, 0]
    rng = np.random.default_rng(seed + 1)
    rows = cells.loc[cells.index.repeat(n)].reset_index(drop=True)
    first = pd.to_datetime(dict(year=rows["year"], month=rows["month"], day=1))
    days = first.dt.days_in_month.to_numpy()
    received = first + pd.to_timedelta(np.floor(rng.random(len(rows)) * days), unit="D")
    shares = cal.shares.set_index("fiscal_year")
    fy = rows["fiscal_year"].clip(upper=int(shares.index.max()), lower=int(shares.index.min()))
    s = shares.loc[fy].reset_index(drop=True)
    prio = rng.random(len(rows)) < s["priority"].to_numpy()
    decided = prio & (rng.random(len(rows)) < s["decided"].to_numpy())
    lvl2 = prio & (rng.random(len(rows)) < s["level2"].to_numpy())
    lvl3 = lvl2 & (rng.random(len(rows)) < s["level3"].to_numpy())
    level = np.where(lvl3, LEVELS[2], np.where(lvl2, LEVELS[1], np.where(prio, LEVELS[0], None)))
    delay = rng.exponential(mean_days_to_handle, len(rows)).round()
    handled = received + pd.to_timedelta(delay, unit="D")
    ever = rng.random(len(rows)) < handled_probability
    handled = handled.where(ever & (handled <= pd.Timestamp(as_of)))
    keep = received <= pd.Timestamp(as_of)
    log = pd.DataFrame({
        "request_id": [f"SIM-{i:06d}" for i in range(1, len(rows) + 1)],
        "received_date": received, "ward": rows["ward"].to_numpy(),
        "center": pd.NA, "category": pd.NA, "channel": pd.NA,
        "handled_date": handled, "is_priority_issue": prio,
        "level_reached": pd.Series(level, dtype=object).where(prio, None),
        "is_decided_to_act": decided,
    })[keep.to_numpy()].sort_values(["received_date", "request_id"]).reset_index(drop=True)
    log.attrs["provenance"] = {
        "dataset": "request_log", "simulated": True, "overlay_file": None,
        "settings": {"fiscal_years": years, "covid_effect": covid_effect,
                     "variance_shares": list(variance_shares), "ward_sd": ward_sd,
                     "seasonal_amplitude": seasonal_amplitude,
                     "handled_probability": handled_probability,
                     "mean_days_to_handle": mean_days_to_handle, "as_of": as_of.isoformat(),
                     "seed": seed},
        "source": {"id": "simulated"},
    }
    return log


def is_simulated(frame: pd.DataFrame) -> bool:
    """Whether a frame came from this module."""
    return bool((frame.attrs.get("provenance") or {}).get("simulated"))
