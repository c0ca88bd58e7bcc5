"""The message catalogue (``messages.yml``): every sentence of the pages as a ja and an en
template, filled from language-neutral facts. A value with ``__lang_format__(spec, lang)``
formats itself (the fact types of :mod:`wardanalysis.results`); a float gives ``{x}`` (3
significant figures), ``{x:sig2}``, ``{x:+sig2}``, and a share ``{x:pct}`` (one decimal) or
``{x:pct0}``, ``{x:pct2}`` (that many); an int or a string as it is."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

from .._yaml import read
from .formats import fmt, fmt_pct
from .glossary import LANGS, bilingual, check_lang

__all__ = ["avoided", "glosses", "keys", "message", "placeholders"]

_PATH = Path(__file__).with_name("messages.yml")


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    return bilingual(_PATH, "messages", "message")


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields of a template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def keys() -> list[str]:
    return list(_catalogue())


def message(key: str, lang: str, **facts: Any) -> str:
    """The ``lang`` template of ``key`` filled from ``facts``; KeyError naming what is missing."""
    check_lang(lang)
    try:
        template = _catalogue()[key][lang]
    except KeyError:
        raise KeyError(f"no message {key!r} (see {_PATH.name})") from None
    missing = placeholders(template) - set(facts)
    if missing:
        raise KeyError(f"message {key!r} needs {', '.join(sorted(missing))}")
    return _Formatter(lang).format(template, **facts)


def glosses(lang: str, *texts: str) -> list[str]:
    """The plain glosses (``reading.<term>``) of the terms ``texts`` use, each marked by the
    word of its ``reading.<term>.mark``, in catalogue order; without texts, every gloss."""
    return [message(k.removesuffix(".mark"), lang) for k in _catalogue()
            if k.startswith("reading.") and k.endswith(".mark")
            and (not texts or any(message(k, lang) in t for t in texts))]


class _Formatter(string.Formatter):
    """str.format in one language: values with ``__lang_format__`` format themselves."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, spec: str) -> str:
        if hasattr(value, "__lang_format__"):
            return value.__lang_format__(spec, self.lang)
        if isinstance(value, float):
            sign = "+" if spec.startswith("+") and value >= 0 else ""
            spec = spec.lstrip("+")
            if spec.startswith("pct"):
                return sign + fmt_pct(value, int(spec[3:] or 1))
            if spec.startswith("sig"):
                return sign + fmt(value, int(spec[3:]))
            if not spec:
                return sign + fmt(value)
        return super().format_field(value, spec)


@cache
def avoided() -> dict[str, dict[str, str]]:
    """Per language, the words never shown on a reader's page and the term to use instead
    (``avoid`` in ``messages.yml``)."""
    raw = read(_PATH).get("avoid") or {}
    return {lang: {str(k): str(v) for k, v in (raw.get(lang) or {}).items()} for lang in LANGS}
