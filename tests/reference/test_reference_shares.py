"""Sections 2 and 3: handled share and escalation against hand computations."""

from __future__ import annotations

import numpy as np

from wardanalysis.models.escalation import escalation_patterns
from wardanalysis.models.handled import handled_share

RTOL = 1e-4


def _close(estimate, expected, rtol=RTOL):
    np.testing.assert_allclose([estimate.value, estimate.ci_low, estimate.ci_high], expected,
                               rtol=rtol)


def test_handled_trend_and_dispersion(needs, ref):
    s, n = needs["requests_handled"].to_numpy(), needs["requests"].to_numpy()
    X = np.column_stack([np.ones(7), needs["fiscal_year"] - 2017])
    e = ref.quasi_binomial(s, n, X)
    res = handled_share(needs)
    _close(res.estimate("handled.trend_or_per_year"), [e.odds[1], e.lo[1], e.hi[1]])
    # Pearson chi2 / df from the counts and trials, by hand
    p = e.p
    hand = np.sum((s - n * p) ** 2 / (n * p * (1 - p))) / (7 - 2)
    np.testing.assert_allclose(res.estimate("handled.dispersion").value, hand, rtol=RTOL)


def test_handled_wilson_per_year_and_pooled(needs, ref):
    res = handled_share(needs)
    for y, s, n in needs[["fiscal_year", "requests_handled", "requests"]].itertuples(index=False):
        _close(res.estimate(f"handled.share.fy{y}"), [s / n, *ref.wilson(s, n)])
    S, N = needs["requests_handled"].sum(), needs["requests"].sum()
    _close(res.estimate("handled.pooled_share"), [S / N, *ref.wilson(S, N)])


def test_priority_rate_trend(needs, ref):
    s, n = needs["priority_issues"].to_numpy(), needs["requests"].to_numpy()
    X = np.column_stack([np.ones(7), needs["fiscal_year"] - 2017])
    e = ref.quasi_binomial(s, n, X)
    res = escalation_patterns(needs)
    _close(res.estimate("escalation.priority_rate_trend_or_per_year"), [e.odds[1], e.lo[1], e.hi[1]])
    np.testing.assert_allclose(res.estimate("escalation.priority_rate_dispersion").value, e.phi,
                               rtol=RTOL)


def test_priority_rate_covid_vs_pre_exact(needs, ref):
    pre = needs[needs["fiscal_year"] < 2020]
    cov = needs[needs["fiscal_year"] >= 2020]
    res = escalation_patterns(needs)
    for frame, key in ((pre, "escalation.priority_rate_or_covid_vs_pre"),
                       (pre[pre["fiscal_year"] != 2017],
                        "escalation.priority_rate_or_covid_vs_pre.excl_fy2017")):
        a, n1 = cov["priority_issues"].sum(), cov["requests"].sum()
        c, n2 = frame["priority_issues"].sum(), frame["requests"].sum()
        orr, lo, hi, p = ref.fisher_conditional(a, n1 - a, c, n2 - c)
        e = res.estimate(key)
        _close(e, [orr, lo, hi], rtol=1e-3)
        np.testing.assert_allclose(e.p_value, p, rtol=1e-5)


def test_settlement_level_shares(needs, ref):
    staff_only = (needs["staff_consultations"] - needs["section_chief_consultations"]).sum()
    chief = (needs["section_chief_consultations"] - needs["coordination_meetings"]).sum()
    coord = needs["coordination_meetings"].sum()
    total = needs["priority_issues"].sum()
    assert staff_only + chief + coord == total
    res = escalation_patterns(needs)
    _close(res.estimate("escalation.first_level_share"), [staff_only / total, *ref.wilson(staff_only, total)])
    _close(res.estimate("escalation.second_level_share"), [chief / total, *ref.wilson(chief, total)])
    _close(res.estimate("escalation.third_level_share"), [coord / total, *ref.wilson(coord, total)])
    d = needs["decided_to_act"].sum()
    _close(res.estimate("escalation.decided_share"), [d / total, *ref.wilson(d, total)])
    r = needs["requests"].sum()
    _close(res.estimate("escalation.priority_rate"), [total / r, *ref.wilson(total, r)])


def test_per_year_settlement_table(needs, ref):
    table = escalation_patterns(needs).table()
    rows = table[(table["scope"] == "year") & (table["measure"] == "settled_section_chief")]
    expected = (needs["section_chief_consultations"] - needs["coordination_meetings"]).to_numpy()
    np.testing.assert_array_equal(rows["count"].to_numpy(), expected)
    lo, hi = ref.wilson(expected, needs["priority_issues"].to_numpy())
    np.testing.assert_allclose(rows["ci_low"], lo, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(rows["ci_high"], hi, rtol=RTOL)
