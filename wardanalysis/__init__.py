"""wardanalysis: how Kumamoto City's main office (本庁) and ward offices (区役所) work together.

The top-level names load lazily so that ``import wardanalysis`` stays light: matplotlib, seaborn
and statsmodels are imported only by the functions that need them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "datasets": "wardanalysis.data.loading",
    "load": "wardanalysis.data.loading",
    "describe": "wardanalysis.data.loading",
    "check": "wardanalysis.data.loading",
    "data_checksum": "wardanalysis.data.datafiles",
    "DataValidationError": "wardanalysis.data.readers",
    "EraLabelError": "wardanalysis.eras",
    "fiscal_year": "wardanalysis.eras",
    "fiscal_years": "wardanalysis.eras",
    "era_label": "wardanalysis.eras",
    "fiscal_year_of": "wardanalysis.eras",
    "label": "wardanalysis.text.glossary",
    "use_theme": "wardanalysis.plotting",
    "Result": "wardanalysis.results",
    "Estimate": "wardanalysis.results",
    "ModelInputError": "wardanalysis.errors",
    "TooFewYearsError": "wardanalysis.errors",
    "BreakYearError": "wardanalysis.errors",
    "record": "wardanalysis.records",
    "set_language": "wardanalysis.text.display",
}

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
