"""The package's own errors: bad input a user can fix, told in one line.

Every error for a file, a parameter, a label or an output folder the package cannot use derives
from :class:`WardanalysisError`: the command line prints it as one line and exits with its
``exit_code`` (2); anything else is a bug, printed with its traceback. :class:`ModelInputError`
and its kinds name the argument, the column, the fiscal years present and what a model needed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

__all__ = ["did_you_mean", "printable", "BreakYearError", "CovidPeriodError", "InvalidFrameError",
           "MissingColumnError", "MissingDataError", "ModelInputError", "NotEstimableError",
           "OutputDirError", "TooFewYearsError", "WardanalysisError", "ZeroDenominatorError"]


def printable(text: object) -> str:
    """``text`` for one line of a message: control characters (a terminal's escape codes, a
    newline in a file name) shown as ``\\x1b``, never acted on."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m.group()):02x}", str(text))


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the known name closest to a misspelt ``word``, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class WardanalysisError(Exception):
    """Base of the errors that name a problem in the user's input."""

    exit_code = 2


class OutputDirError(WardanalysisError):
    """An output folder the batch may not write into; the message names it."""


def _years(years: Iterable[int]) -> str:
    ys = sorted({int(y) for y in years})
    return ", ".join(f"FY{y}" for y in ys) if ys else "none"


class ModelInputError(WardanalysisError, ValueError):
    """Input that a model cannot use; the message says what is wrong and where."""


class MissingColumnError(ModelInputError, KeyError):
    """A required column is absent from an input DataFrame."""

    def __init__(self, argument: str, missing: Sequence[str], available: Sequence[str]):
        ModelInputError.__init__(
            self, f"{argument}: missing column(s) {', '.join(map(repr, missing))}; "
                  f"the frame has {', '.join(map(repr, available)) or 'no columns'}")

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return self.args[0]


class TooFewYearsError(ModelInputError):
    """Fewer fiscal years than the model needs (e.g. after a fiscal-year cut-off)."""

    def __init__(self, model: str, needed: int, years: Iterable[int], detail: str = "",
                 message: str | None = None):
        years = {int(y) for y in years}
        msg = message or (f"{model} needs at least {needed} fiscal years of data but got "
                          f"{len(years)} ({_years(years)})")
        super().__init__(msg + (f"; {detail}" if detail else ""))


class BreakYearError(ModelInputError):
    """A break (interruption) year that does not split the data into two usable segments."""

    def __init__(self, break_year: object, years: Iterable[int], detail: str):
        super().__init__(f"break year {break_year!r} cannot be used with data covering "
                         f"{_years(years)}: {detail}")


class CovidPeriodError(BreakYearError):
    """A COVID period parameter (``covid_start``, ``covid_end``, ``break_year``) that is not a
    fiscal year, or an end before the start; the message names the parameter."""

    def __init__(self, message: str):
        ModelInputError.__init__(self, message)


class ZeroDenominatorError(ModelInputError, ZeroDivisionError):
    """A share or rate whose denominator is zero."""

    def __init__(self, what: str, column: str, where: str):
        super().__init__(f"{what}: the denominator {column!r} is zero ({where})")


class InvalidFrameError(ModelInputError):
    """A frame a model cannot use: it breaks its dataset's descriptor (types, ranges, rules, key)
    or, for a frame of no dataset, the model's own rules; the message says where."""


class MissingDataError(ModelInputError):
    """Rows the analysis needs (a city, a fiscal year, a population) are absent."""


class NotEstimableError(ModelInputError):
    """The data are present but cannot identify the quantity (e.g. an exposure that never varies)."""
