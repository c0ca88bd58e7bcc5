"""The inputs of the monthly models: the user's ``request_log`` or ``monthly_requests``
(``wardanalysis.data.inputs``), or a SIMULATED log (``wardanalysis.models.simulate``), checked
into monthly counts; and how a result made from simulated data says so (:class:`Simulated`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import inputs
from ..data.datafiles import sha256
from ..data.loading import load, reconcile
from ..data.schema import get_schema
from ..results import Result
from ..text.glossary import label
from ..text.messages import message
from . import _input, simulate


class Simulated:
    """Mix-in: a result made from simulated data says so in its title and records."""

    def title(self, lang: str = "ja") -> str:  # type: ignore[override]
        base = Result.title(self, lang)  # type: ignore[arg-type]
        return message("simulated.title", lang, title=base) if self.simulated else base

    def text(self, lang: str = "ja") -> str:  # type: ignore[override]
        body = Result.text(self, lang)  # type: ignore[arg-type]
        return message("simulated.text", lang, text=body) if self.simulated else body

    def headline(self, lang: str = "ja") -> str:  # type: ignore[override]
        body = Result.headline(self, lang)  # type: ignore[arg-type]
        return message("simulated.text", lang, text=body) if self.simulated else body

    @property
    def sources(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("simulated",) if self.simulated else (self.input_name,)

    def records(self) -> pd.DataFrame:  # type: ignore[override]
        out = Result.records(self)  # type: ignore[arg-type]
        if self.simulated:
            out["flags"] = [";".join(filter(None, [f, "simulated"])) for f in out["flags"]]
        return out


def monthly_frame(monthly: pd.DataFrame, ward: bool = False) -> pd.DataFrame:
    """The monthly counts checked against the ``monthly_requests`` descriptor and dated: ``year``
    (calendar) and ``start`` (the month's first day) added, sorted by month (and ward)."""
    need = ["fiscal_year", "month", "requests"] + (["ward"] if ward else [])
    df = _input.frame(monthly, "monthly_requests", need, argument="monthly")[need]
    df["year"] = np.where(df["month"] >= 4, df["fiscal_year"], df["fiscal_year"] + 1)
    df["start"] = pd.to_datetime(dict(year=df["year"], month=df["month"], day=1))
    return df.sort_values(["start", *(["ward"] if ward else [])]).reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class MonthlyInputs:
    """What a page of monthly models analyses: the user's ``request_log`` or
    ``monthly_requests`` from ``data_dir`` when there is one, else a SIMULATED log."""

    city: pd.DataFrame
    wards: pd.DataFrame | None
    log: pd.DataFrame | None
    simulated: bool
    file: str | None
    covid_effect: float | None = None

    @property
    def input_name(self) -> str:
        return "request_log" if self.log is not None else "monthly_requests"

    def title(self, key: str, lang: str) -> str:
        """The glossary term ``key``, marked 【模擬データ】 / [Simulated data] when simulated."""
        text = label(key, lang)
        return message("simulated.title", lang, title=text) if self.simulated else text

    def banner(self, lang: str) -> str:
        if self.simulated:
            return message("simulated.banner", lang)
        kind = get_schema(self.input_name).title[lang]
        sha = sha256(Path(self.file))[:12] if self.file else "—"
        return message("real.banner", lang, kind=kind, sha=sha)

    def truth(self, lang: str) -> str:
        """For simulated data: the effect the simulation was given (empty for real data)."""
        if not self.simulated or self.covid_effect is None:
            return ""
        return message("simulated.truth", lang, effect=float(self.covid_effect),
                       drop=float(1 - self.covid_effect))

    def reconciliation(self, data_dir=None) -> pd.DataFrame:
        """The yearly aggregate against the published figures."""
        return reconcile(self.input_name, self.city if self.log is None else self.log, data_dir)


def monthly_inputs(data_dir=None, *, covid_effect: float = 0.7,
                   seed: int | None = None) -> MonthlyInputs:
    """The user's request log (preferred) or monthly counts from ``data_dir``; without either,
    a SIMULATED log of FY2017–FY2023 (:mod:`.simulate`) with the COVID effect ``covid_effect``."""
    def mark(frame: pd.DataFrame, simulated: bool) -> pd.DataFrame:
        frame.attrs["provenance"] = {"simulated": simulated}
        return frame

    def user_file(name: str) -> pd.DataFrame | None:
        try:
            return None if data_dir is None else load(name, data_dir)
        except inputs.InputMissingError:
            return None

    log = user_file("request_log")
    if log is not None:
        return MonthlyInputs(mark(inputs.monthly_counts(log), False),
                             mark(inputs.monthly_counts(log, by_ward=True), False), log, False,
                             log.attrs["provenance"]["overlay_file"])
    monthly = user_file("monthly_requests")
    if monthly is not None:
        wards = monthly[monthly["ward"].notna()] if "ward" in monthly.columns else monthly.iloc[:0]
        return MonthlyInputs(mark(inputs.monthly_from_input(monthly), False),
                             mark(wards.reset_index(drop=True), False) if len(wards) else None,
                             None, False, monthly.attrs["provenance"]["overlay_file"])
    log = simulate.simulate_request_log(range(2017, 2024), covid_effect=covid_effect,
                                        seed=simulate.SEED if seed is None else seed,
                                        data_dir=data_dir)
    return MonthlyInputs(mark(inputs.monthly_counts(log), True),
                         mark(inputs.monthly_counts(log, by_ward=True), True), log, True, None,
                         covid_effect)
