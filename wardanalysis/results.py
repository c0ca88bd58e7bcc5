"""The one shape every analysis returns, an immutable :class:`Result` of unrounded
:class:`Estimate` objects whose sentences are catalogue keys filled from its facts, and the fact
types that format themselves in a message's language."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import pandas as pd

from .eras import fiscal_year_name
from .errors import did_you_mean
from .text.display import current_lang, markup, plain
from .text.formats import (
    fmt,  # noqa: F401  (imported from here by models/ward_monthly.py, hashed: see Pct)
    fmt_dates,
    fmt_month,
    fmt_p,
    fmt_ratio_words,
    fmt_unit,
    fmt_yen,
    sentences,
    years_text,
)
from .text.glossary import check_lang, label
from .text.messages import message

__all__ = ["POISSON_ONLY", "RECORD_COLUMNS", "Dates", "Estimate", "Joined", "Month", "Named",
           "Pvalue", "Said", "Term", "Years", "chosen", "Result", "fmt_interval",
           "quantiles", "records_frame"]

RECORD_COLUMNS = ("key", "value", "ci_low", "ci_high", "unit", "interval", "flags")
#: Flag of an estimate whose interval is valid only if the counts were Poisson (or binomial):
#: an exact interval kept where no dispersion-aware one exists, or a labelled secondary line.
POISSON_ONLY = "poisson_only"
#: Flag of an estimate whose interval is a prediction interval (where a new count would fall),
#: not a confidence interval of the estimate: said so wherever the interval is shown.
PREDICTION = "prediction_interval"


@dataclass(frozen=True)
class Estimate:
    """One key estimate: ``ci_low``/``ci_high`` NaN for an exact computation (a division of
    printed figures), ``interval`` how the interval was made, ``p_value`` NaN without a test,
    ``flags`` what a reader of the number must know (:data:`POISSON_ONLY`)."""

    key: str
    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    unit: str = ""
    interval: str = ""
    p_value: float = math.nan
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("value", "ci_low", "ci_high", "p_value"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "flags", tuple(self.flags))

    def __lang_format__(self, spec: str, lang: str) -> str:
        if spec == "ci":
            return fmt_interval(self, lang)
        if spec in ("", "lo", "hi"):
            return self.shown({"lo": self.ci_low, "hi": self.ci_high}.get(spec, self.value), lang)
        if spec == "p":
            return fmt_p(self.p_value, lang)
        if spec == "plain":  # a ratio in words: 約半分 / about half
            return fmt_ratio_words(self.value, lang)
        raise ValueError(f"estimate {self.key}: unknown format {spec!r} in a message")

    def shown(self, value: float, lang: str) -> str:
        """``value`` (the estimate or a limit) as the unit asks, without the unit's word."""
        return fmt_unit(value, self.unit, lang, bare=True)

    @property
    def poisson_only(self) -> bool:
        return POISSON_ONLY in self.flags

    @property
    def interval_excludes_one(self) -> bool:
        return self.ci_high < 1 or self.ci_low > 1


@dataclass(frozen=True)
class Fact:
    """A value a message shows in its language, by its class's formatter (:mod:`.text.formats`)."""

    value: Any

    def __lang_format__(self, spec: str, lang: str) -> str:
        return type(self).form(self.value, lang)


class Yen(Fact):
    """Money: 96,458千円, ¥96.5 million."""

    form = staticmethod(fmt_yen)


class Month(Fact):
    """A month: 2023-10 or 2023年10月."""

    form = staticmethod(fmt_month)


class Dates(Fact):
    """Dates: 2024-06-26 or 2024年6月26日, several joined by "or" / 「または」."""

    form = staticmethod(fmt_dates)


class Pvalue(Fact):
    """A p-value: ``p < 0.001`` / ``p<0.001``."""

    form = staticmethod(fmt_p)


@dataclass(frozen=True)
class FiscalYear:
    """A fiscal year: 令和5年度（2023年度） or FY2023 (``{year:long}``: Fiscal year 2023)."""

    fy: int

    def __lang_format__(self, spec: str, lang: str) -> str:
        return fiscal_year_name(self.fy, lang, long=spec == "long")


@dataclass(frozen=True)
class Years:
    """Fiscal years: FY2017–FY2019 / 2017〜2019年度 (none / なし); ``{years:list}`` each one."""

    years: tuple[int, ...]

    def __init__(self, years: Iterable[int]) -> None:
        object.__setattr__(self, "years", tuple(int(y) for y in years))

    def __lang_format__(self, spec: str, lang: str) -> str:
        if spec == "list":
            if lang == "ja":
                return "、".join(f"{y}年度" for y in self.years)
            return ", ".join(f"FY{y}" for y in self.years)
        if not self.years:
            return "なし" if lang == "ja" else "none"
        return years_text(self.years, lang)


@dataclass(frozen=True)
class Named:
    """A name the data give in both languages (a city, a row of a table); only for names read
    from data: a sentence belongs in the catalogue."""

    ja: str
    en: str

    def __lang_format__(self, spec: str, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


#: A share is a float a message shows with ``{x:pct}``. This name is kept only because
#: models/monthly.py and ward_monthly.py import it and are hashed with benchmarks/coverage_05.py:
#: delete it when they are next re-made.
Pct = float


@dataclass(frozen=True)
class Term:
    """A glossary term's label (``{t:lower}`` in lower case)."""

    key: str

    def __lang_format__(self, spec: str, lang: str) -> str:
        text = label(self.key, lang)
        return text.lower() if spec == "lower" else text


@dataclass(frozen=True)
class Said:
    """A message inside another: ``key`` filled from ``facts`` in the outer one's language."""

    key: str
    facts: Any = ()

    def __lang_format__(self, spec: str, lang: str) -> str:
        return message(self.key, lang, **dict(self.facts))


@dataclass(frozen=True)
class Joined:
    """Several :class:`Said` clauses joined by the catalogue's ``joiner`` in the language, or
    run on as sentences (``joiner=""``)."""

    parts: tuple[Any, ...]
    joiner: str = "list.joiner"

    def __lang_format__(self, spec: str, lang: str) -> str:
        parts = (p.__lang_format__("", lang) for p in self.parts)
        return message(self.joiner, lang).join(parts) if self.joiner else sentences(parts, lang)


def quantiles(q: str) -> Said:
    """An interval's reference distribution, ``t(3)`` or ``normal``, in the catalogue's words."""
    return Said("quantiles.normal") if q == "normal" else Said("quantiles.t", {"df": q[2:-1]})


def records_frame(estimates: Iterable[Estimate]) -> pd.DataFrame:
    """Estimates as record rows. An unbounded limit (a ratio with a zero count) cannot be
    recorded as a number: it becomes NaN here, while the result's table and text keep ∞."""
    rows = [(e.key, e.value, e.ci_low, e.ci_high, e.unit, e.interval, ";".join(e.flags))
            for e in estimates]
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    numbers = ["value", "ci_low", "ci_high"]
    frame[numbers] = frame[numbers].astype(float).replace([math.inf, -math.inf], math.nan)
    dup = frame["key"][frame["key"].duplicated()]
    if not dup.empty:
        raise ValueError(f"duplicate record keys: {sorted(set(dup))}")
    return frame


@dataclass(frozen=True, eq=False)
class Result:
    """Base class of every analysis result: subclasses name the datasets their numbers come
    from (``sources``, for captions) and the estimates a summary box leads with."""

    sources: ClassVar[tuple[str, ...]] = ()
    SUMMARY_KEYS: ClassVar[tuple[str, ...]] = ()

    title_key: str
    estimates: tuple[Estimate, ...]
    n_obs: int = field(kw_only=True)
    data: pd.DataFrame = field(repr=False, kw_only=True)
    facts: Mapping[str, Any] = field(default_factory=dict, repr=False, kw_only=True)
    #: The paragraph's sentences, in order; a :class:`Said` has facts of its own.
    text_keys: tuple[str | Said, ...] = field(default=(), kw_only=True)
    method_key: str = field(kw_only=True)
    caveat_keys: tuple[str | Said, ...] = field(default=(), kw_only=True)
    #: The method line and the caveats in English, for a quick look.
    method: str = field(init=False, default="")
    caveats: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        for name in ("estimates", "text_keys", "caveat_keys"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "facts", dict(self.facts))
        object.__setattr__(self, "method", self.method_text("en"))
        object.__setattr__(self, "caveats", tuple(self.caveat_list("en")))
        # a private copy: neither the caller's frame nor ours can change the other
        object.__setattr__(self, "data", self.data.copy(deep=True))
        records_frame(self.estimates)  # checks the keys are unique

    def estimate(self, key: str) -> Estimate:
        """The estimate named ``key``; ``KeyError`` saying which key a misspelt one meant."""
        for e in self.estimates:
            if e.key == key:
                return e
        raise KeyError(f"no estimate {key!r} in {type(self).__name__}"
                       f"{did_you_mean(key, self.keys())} (have: {', '.join(self.keys())})")

    def keys(self) -> tuple[str, ...]:
        """The estimates' keys, in order (as :meth:`to_frame`'s index)."""
        return tuple(e.key for e in self.estimates)

    @property
    def model_fit(self) -> Any:
        """The fitted model the estimates come from (a :class:`wardanalysis.stats.GLMFit` or
        ``NBFit``), ``None`` for a result computed exactly from printed figures."""
        return getattr(self, "fit", None)

    def to_frame(self) -> pd.DataFrame:
        """The estimates as a DataFrame indexed by key: ``value, ci_low, ci_high, unit,
        interval, p_value, flags`` (unrounded; an unbounded limit stays ±inf)."""
        frame = pd.DataFrame(map(asdict, self.estimates), columns=[f.name for f in fields(Estimate)])
        return frame.assign(flags=frame["flags"].map(";".join)).set_index("key")

    def conf_int(self) -> pd.DataFrame:
        """The 95% intervals as statsmodels' ``conf_int()``: columns ``lower``, ``upper``."""
        frame = self.to_frame()[["ci_low", "ci_high"]]
        return frame.rename(columns={"ci_low": "lower", "ci_high": "upper"})

    def summary(self, lang: str | None = None) -> Any:
        """A statsmodels ``Summary``: title, observations, each estimate with its interval,
        unit and p-value, the method and every caveat, in ``lang`` (default: the language set
        with :func:`wardanalysis.set_language`)."""
        from statsmodels.iolib.summary2 import Summary  # heavy: only when a summary is asked for

        lang = check_lang(lang or current_lang())
        table = pd.DataFrame(
            {**{label(name, lang): [e.shown(getattr(e, field), lang) for e in self.estimates]
                for name, field in (("estimate", "value"), ("ci_low", "ci_low"),
                                    ("ci_high", "ci_high"))},
             label("unit", lang): [unit_text(e, lang) for e in self.estimates],
             label("p_value", lang): [fmt_p(e.p_value, lang, bare=True) for e in self.estimates]},
            index=list(self.keys()))
        out = Summary()
        out.add_title(plain(self.title(lang)))
        out.add_dict({label("n_obs", lang): str(self.n_obs)})
        out.add_df(table)
        sep = "：" if lang == "ja" else ": "
        out.add_text(f"{label('method', lang)}{sep}{plain(self.method_text(lang))}")
        for caveat in self.caveat_list(lang):
            out.add_text(f"- {plain(caveat)}")
        return out

    def say(self, key: str, lang: str, **more: Any) -> str:
        """The catalogue's ``key`` in ``lang``, filled from the result's facts (and ``more``)."""
        return message(key, check_lang(lang), **{**self.facts, **more})

    def _said(self, key: str | Said, lang: str) -> str:
        """A key filled from the result's facts, or a :class:`Said` with facts of its own."""
        return key.__lang_format__("", lang) if isinstance(key, Said) else self.say(key, lang)

    def caveat_list(self, lang: str = "ja") -> list[str]:
        return [self._said(k, check_lang(lang)) for k in self.caveat_keys]

    def title(self, lang: str = "ja") -> str:
        """The catalogue's ``title_key``, filled from the facts."""
        return self.say(self.title_key, lang)

    def method_text(self, lang: str = "ja") -> str:
        return self.say(self.method_key, lang)

    def headline(self, lang: str = "ja") -> str:
        """The answer in one sentence: the first of :meth:`text` (up to 。 or ". ")."""
        text = self._body(check_lang(lang))
        if lang == "ja":
            return text[: text.find("。") + 1] if "。" in text else text
        m = re.search(r"(?<=[A-Za-z0-9)%])\.\s", text)
        return text if m is None else text[: m.start() + 1]

    def key_figures(self) -> list[Estimate]:
        """The estimates a summary box shows (``SUMMARY_KEYS`` that this result has)."""
        return [self.estimate(k) for k in self.SUMMARY_KEYS if k in self.keys()]

    def records(self) -> pd.DataFrame:
        """Key estimates as rows of :data:`RECORD_COLUMNS` (unrounded)."""
        return records_frame(self.estimates)

    def table(self, lang: str | None = None) -> pd.DataFrame:
        """A tidy, unrounded copy of the result's table; with ``lang``, glossary column names."""
        out = self.data.copy(deep=True)
        if lang is None:
            return out
        return out.rename(columns={c: label(c, lang) for c in out.columns})

    def text(self, lang: str = "ja") -> str:
        """One plain-language paragraph stating the result, its interval and its main caveat."""
        lang = check_lang(lang)
        body = self._body(lang)
        caveat = self._said(self.caveat_keys[0], lang) if self.caveat_keys else ""
        if not caveat:
            return body
        return message("text.with_caveat", lang, body=body, caveat=caveat)

    def plot(self, lang: str = "ja", ax: Any = None, **kind: Any) -> tuple[Any, Any]:
        """Draw the result under its chart's title; returns ``(fig, ax)`` and never shows the
        figure. ``kind``: which chart, for a result that draws more than one."""
        title = self._chart_title(check_lang(lang), **kind)
        from . import plotting  # matplotlib: only once a result is drawn

        fig, ax = plotting.figure_and_axes(ax)
        self._plot(ax, lang, **kind)
        ax.set_title(title)
        return fig, ax

    def _chart_title(self, lang: str) -> str:
        """The title over the chart: the result's own."""
        return self.title(lang)

    def _body(self, lang: str) -> str:
        """The paragraph without its caveat: the sentences of ``text_keys``, run on."""
        return sentences((self._said(k, lang) for k in self.text_keys), lang)

    def _plot(self, ax: Any, lang: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        """One line for the result, then one per estimate: key, value, interval, unit."""
        lines = [f"{type(self).__name__}: {self.title('en')} (n_obs={self.n_obs})"]
        for e in self.estimates:
            flag = f" [{', '.join(e.flags)}]" if e.flags else ""
            lines.append(f"  {e.key} = {e.shown(e.value, 'en')} {fmt_interval(e, 'en')} "
                         f"{e.unit}{flag}".rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """How JupyterLab shows a result, in the language set up (``report.setup(lang)``)."""
        lang = current_lang()
        head = "".join(f"<th>{html.escape(label(k, lang))}</th>"
                       for k in ("key", "estimate", "ci95", "unit"))
        rows = "".join(
            f"<tr><td>{html.escape(e.key)}</td><td>{html.escape(e.shown(e.value, lang))}</td>"
            f"<td>{html.escape(fmt_interval(e, lang))}</td>"
            f"<td>{html.escape(unit_text(e, lang))}</td></tr>"
            for e in self.estimates)
        caveats = "".join(f"<li>{markup(c)}</li>" for c in self.caveat_list(lang))
        return (f"<div><p><strong>{markup(self.title(lang))}</strong></p>"
                f"<p>{markup(self.text(lang))}</p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{rows}</tbody></table>"
                f"<p><em>{markup(self.method_text(lang))}</em></p><ul>{caveats}</ul></div>")


def fmt_interval(e: Estimate, lang: str = "ja") -> str:
    """An estimate's interval, labelled as what it is (confidence, prediction, valid only for
    Poisson or binomial counts), its ends as the unit asks; empty without one."""
    if math.isnan(e.ci_low) and math.isnan(e.ci_high):
        return ""
    key = ("interval.poisson_only" if e.poisson_only else
           "interval.pi" if PREDICTION in e.flags else "interval.ci")
    low, high = (e.shown(v, lang) for v in (e.ci_low, e.ci_high))
    return message(key, check_lang(lang), low=low, high=high)


def unit_text(e: Estimate, lang: str = "ja") -> str:
    """An estimate's unit in ``lang`` (``unit.<unit>``); the records keep the code's words."""
    return message(f"unit.{e.unit}", check_lang(lang)) if e.unit else ""


def key_figure(e: Estimate, lang: str = "ja") -> str:
    """One line of a summary box: the estimate's label, value and interval, as its unit asks.
    An interval valid only for Poisson or binomial counts never leads: the line says instead
    that no honest interval can be given (the body shows the other, labelled)."""
    name = message(f"estimate.{e.key}", lang)
    value = fmt_unit(e.value, e.unit, lang)
    interval = (message("interval.poisson_only_summary", lang) if e.poisson_only
                and not math.isnan(e.ci_low) else fmt_interval(e, lang))
    sep = "：" if lang == "ja" else ": "
    return f"{name}{sep}{value}{'' if lang == 'ja' else ' '}{interval}".rstrip()


def chosen(parts: Iterable[tuple[bool, str]]) -> tuple[str, ...]:
    """The catalogue keys whose condition holds: ``[(condition, key), …]`` → keys in order."""
    return tuple(key for cond, key in parts if cond)

