"""Does a model of the days under COVID measures find a dose-response that is not there?

SIMULATED data only (``wardanalysis.models.simulate``, calibrated to the shipped yearly table): the
truth is a flat step over the COVID period (rate ratio ``effect`` in every month of FY2020-FY2023,
1 = none) that does not depend on the days under measures. Any exposure model that rejects
"no dose-response" (its 95% interval for the rate ratio per 30 days excludes 1) more often than
5% of the time reads the period as the measures. Compared, on the same draws:

- ``monthly_trend_only``: the monthly model notebook 05 fits today (trend, harmonics and the
  days, no period step);
- ``monthly_with_step``: the same with the period's level and slope changes beside the days;
- ``monthly_within_year``: one level per fiscal year and the harmonics beside the days
  (:func:`wardanalysis.models.covid_exposure.within_year_design`);
- ``yearly_trend_only``: 01's yearly model before issue 21 (trend and days);
- ``yearly_with_step``: 01's yearly model now (trend, the period step and days).

Scenarios: the simulator's default split of the extra-Poisson variance and its
``quarter_dispersion`` (a quarter of the shipped dispersion), as in ``04_data_needed``.

    python benchmarks/exposure_size.py [--replications 2000]

writes ``benchmarks/results/exposure_size.json`` and ``.md``, with a hash of the code it
measured (``tests/unit/test_exposure_size_current.py`` fails when that code has changed since).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
#: The code whose behaviour the result describes (a change to any of them makes it stale).
CODE = ("wardanalysis/models/covid_exposure.py", "wardanalysis/models/monthly.py",
        "wardanalysis/stats/intervals.py", "wardanalysis/stats/glm.py",
        "wardanalysis/models/simulate.py", "benchmarks/exposure_size.py")
SEED = 20261206
EFFECTS = (1.0, 0.5)
SCENARIOS = ("main", "quarter_dispersion")
MODELS = ("monthly_trend_only", "monthly_with_step", "monthly_within_year",
          "yearly_trend_only", "yearly_with_step")


def code_hash() -> str:
    h = hashlib.sha256()
    for p in CODE:
        h.update(p.encode())
        h.update((REPO / p).read_bytes())
    return h.hexdigest()


def _designs():
    """Monthly and yearly period designs and the days under measures (shipped measures)."""
    from wardanalysis.models import covid_exposure as ce
    from wardanalysis.models import monthly, simulate
    from wardanalysis.models.periods import covid_period

    cal = simulate.calibrate()
    years = list(range(cal.first_year, cal.covid_end + 1))
    period = covid_period()
    m = simulate.months_of(years)
    df = m.assign(start=pd.to_datetime(dict(year=m["year"], month=m["month"], day=1)))
    days = monthly.monthly_exposure_days(df["start"])
    step = monthly.monthly_design(df, period, 2)
    trend_only = step.drop(columns=["covid_level", "covid_slope"])
    within = ce.within_year_design(df["fiscal_year"], df["month"], 2)
    ydays = ce.exposure_days(None, years)["days_under_measures"].to_numpy(float)
    t = np.asarray(years, float) - years[0]
    ystep = pd.DataFrame({"const": 1.0, "year": t,
                          "covid_period": period.during(years).astype(float)})
    ytrend = ystep.drop(columns="covid_period")
    return cal, years, {"monthly_trend_only": (trend_only, days, "month"),
                        "monthly_with_step": (step, days, "month"),
                        "monthly_within_year": (within, days, "month"),
                        "yearly_trend_only": (ytrend, ydays, "year"),
                        "yearly_with_step": (ystep, ydays, "year")}


def run(replications: int) -> dict:
    from wardanalysis.errors import ModelInputError
    from wardanalysis.models import covid_exposure as ce
    from wardanalysis.models import simulate
    from wardanalysis.models.design import SCENARIOS as SHARES

    cal0, years, designs = _designs()
    rows = []
    for scenario in SCENARIOS:
        cal = (dataclasses.replace(cal0, dispersion=1 + (cal0.dispersion - 1) / 4)
               if scenario == "quarter_dispersion" else cal0)
        cells, counts = simulate.simulate_counts(cal, years, EFFECTS, replications=replications,
                                                 variance_shares=SHARES[scenario], seed=SEED)
        _, city = simulate.city_months(cells, counts)
        _, yearly = simulate.yearly_totals(cells, counts)
        for i, effect in enumerate(EFFECTS):
            for model, (base, days, unit) in designs.items():
                y_all = city[i] if unit == "month" else yearly[i]
                reject = covered = done = 0
                for r in range(replications):
                    try:
                        f = ce.fit_exposure(y_all[r], base, days, what=model)
                    except (ModelInputError, ValueError, np.linalg.LinAlgError):
                        continue  # a failed fit is counted as not done
                    done += 1
                    excl = f.ci_low > 1 or f.ci_high < 1
                    reject += excl
                    covered += not excl
                size = reject / done if done else float("nan")
                rows.append({"scenario": scenario, "effect": effect, "model": model,
                             "replications": done, "size": size,
                             "mc_se": float(np.sqrt(size * (1 - size) / done)) if done else None,
                             "r2": ce.period_r2(base, days)})
    return {"code_sha256": code_hash(), "seed": SEED, "replications": replications,
            "nominal": 0.05, "rows": rows}


def markdown(result: dict) -> str:
    lines = ["# Days under measures: rejection rate of \"no dose-response\" when there is none",
             "",
             "SIMULATED data (`wardanalysis.models.simulate`): the truth is a flat step over the COVID "
             "period (rate ratio `effect`), unrelated to the days under measures; nominal 5%. "
             f"{result['replications']} replications per scenario and effect, seed "
             f"{result['seed']}. `r2`: share of the days' variance the period terms explain.",
             "", "| scenario | effect | model | size | MC s.e. | r2 |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['scenario']} | {r['effect']} | {r['model']} | {100 * r['size']:.1f}% "
                     f"| {100 * r['mc_se']:.1f} | {r['r2']:.2f} |")
    lines += ["", f"code sha256: `{result['code_sha256']}`", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=2000)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    t0 = time.monotonic()
    result = run(a.replications)
    result["seconds"] = round(time.monotonic() - t0, 1)
    print(markdown(result))
    print(f"{result['seconds']} s")
    if not a.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "exposure_size.json").write_text(json.dumps(result, indent=1) + "\n",
                                                    encoding="utf-8")
        (RESULTS / "exposure_size.md").write_text(markdown(result), encoding="utf-8")


if __name__ == "__main__":
    main()
