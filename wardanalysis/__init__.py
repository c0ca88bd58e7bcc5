"""wardanalysis: how Kumamoto City's main office (本庁) and ward offices (区役所) work together.

The top-level names load lazily so that ``import wardanalysis`` stays light: matplotlib, seaborn
and statsmodels are imported only by the functions that need them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {name: module for module, names in {
    "wardanalysis.data.loading": ("datasets", "load", "describe", "check"),
    "wardanalysis.data.datafiles": ("data_checksum",),
    "wardanalysis.data.readers": ("DataValidationError",),
    "wardanalysis.eras": ("EraLabelError", "fiscal_year", "fiscal_years", "era_label",
                          "fiscal_year_of"),
    "wardanalysis.text.glossary": ("label",),
    "wardanalysis.plotting": ("use_theme",),
    "wardanalysis.results": ("Result", "Estimate"),
    "wardanalysis.errors": ("ModelInputError", "TooFewYearsError", "BreakYearError"),
    "wardanalysis.records": ("record",),
    "wardanalysis.text.display": ("set_language",),
}.items() for name in names}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wardanalysis' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
