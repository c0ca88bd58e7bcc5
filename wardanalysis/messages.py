"""The message catalogue (``messages.yml``): every sentence and label of the pages that is not a
glossary term, as a ja and an en template filled from facts.

>>> message("nav.next_year", "ja", year=2024)
'次年度（2024年度）→'
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

from .glossary import LANGS, check_lang

__all__ = ["keys", "message", "placeholders"]

_PATH = Path(__file__).with_name("messages.yml")


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    import yaml

    raw = yaml.safe_load(_PATH.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), dict):
        raise ValueError(f"{_PATH.name}: expected a mapping with a 'messages' section")
    out: dict[str, dict[str, str]] = {}
    for key, entry in raw["messages"].items():
        if not isinstance(entry, dict) or set(entry) != set(LANGS):
            raise ValueError(f"{_PATH.name}: message {key!r} must have exactly 'ja' and 'en'")
        out[str(key)] = {lang: str(entry[lang]) for lang in LANGS}
    return out


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
    return template.format(**facts)
