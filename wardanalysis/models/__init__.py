"""Statistical models of the review's three questions, one module per family.

- :mod:`.requests`: how fast requests fell (year-on-year ratios, quasi-Poisson trend), and the
  helpers of section 1;
- :mod:`.its`: the level change at the COVID start against the earlier trend, and the days under
  the city's measures beside it;
- :mod:`.covid_verdict`: the COVID period against the years before, the sensitivities and the verdict:
  COVID, or a decline already under way;
- :mod:`.handled`: the share of requests handled;
- :mod:`.escalation`: how requests become priority issues and where they are settled;
- :mod:`.civil`: civil-engineering centre requests, FY2021 → FY2022;
- :mod:`.budgets`: Kumamoto's ward budget, and ward budgets across cities;
- :mod:`.ward_budgets`: budget per ward against ward population, and over time;
- :mod:`.adoption_rates`: adoption of priority issues against Hamamatsu, cost per funded issue;
- :mod:`.budget_rows`: the budget rows and populations the budget models share;
- :mod:`.covid_exposure`: days under Kumamoto's COVID measures per fiscal year;
- :mod:`.periods`: the COVID period (before, during, after), from the dataset ``covid_period``;
- :mod:`.fiscal_year`: one fiscal year, from data up to that year only;
- :mod:`.monthly_data`: a user's request log or monthly counts, or simulated ones;
- :mod:`.monthly`: the city's monthly interrupted time series;
- :mod:`.ward_monthly`: the five wards' monthly counts as a panel;
- :mod:`.handling_time`: Kaplan–Meier time from receipt to handling;
- :mod:`.extent`: how many months a user's log covers and how much of the published
  requests it holds, before any monthly model runs;
- :mod:`.design`: the design study, power of yearly, monthly and ward data (simulated);
- :mod:`.simulate`: simulated request logs and monthly counts, calibrated to the shipped series.

The functions are loaded lazily (``wardanalysis.models.trend`` imports statsmodels only when it
is first used). Their errors are :mod:`wardanalysis.errors`'s ``ModelInputError`` kinds.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    # section 1
    "period_comparison": "covid_verdict",
    "trend": "requests",
    "interrupted_time_series": "its",
    "exposure_model": "its",
    "sensitivity": "covid_verdict",
    "verdict": "covid_verdict",
    # section 2
    "handled_share": "handled",
    # section 3
    "escalation_patterns": "escalation",
    # section 4
    "civil_requests": "civil",
    # section 5
    "kumamoto_budget": "budgets",
    "cross_city_budgets": "budgets",
    "ward_size_budgets": "ward_budgets",
    "budgets_over_time": "ward_budgets",
    "adoption": "adoption_rates",
    "cost_per_funded_issue": "adoption_rates",
    # one fiscal year
    "fiscal_year_report": "fiscal_year",
    # monthly and request-level data (wardanalysis.data.inputs), and the design study
    "monthly_its": "monthly",
    "ward_panel": "ward_monthly",
    "time_to_handling": "handling_time",
    "monthly_inputs": "monthly_data",
    "log_coverage": "extent",
    "power_study": "design",
    # the COVID period and measures
    "covid_period": "periods",
    "covid_exposure_days": "covid_exposure",
    "exposure_days": "covid_exposure",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wardanalysis.models' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
