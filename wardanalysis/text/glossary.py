"""The Japanese/English glossary (``glossary.yml``): the document's terms (要望・相談, 区重要課題
…), statistical terms, column names, axis labels and headings, for :func:`label`.

>>> label("priority_issues", "ja")
'区重要課題'
>>> label("priority_issues", "en")
'Ward priority issues'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .._yaml import read

__all__ = ["LANGS", "area_en", "bilingual", "check_lang", "has", "label"]

LANGS = ("ja", "en")
_PATH = Path(__file__).with_name("glossary.yml")


def check_lang(lang: object) -> str:
    """``lang`` itself when it is ``'ja'`` or ``'en'``; otherwise ``KeyError`` naming it."""
    if lang not in LANGS:
        raise KeyError(f"unknown language {lang!r}: use 'ja' or 'en'")
    return lang  # type: ignore[return-value]


def bilingual(path: Path, section: str, noun: str) -> dict[str, dict[str, str]]:
    """The ``section`` mapping of the YAML file ``path`` (the glossary's terms, the catalogue's
    messages): each key with exactly a non-empty ``ja`` and ``en`` text; ``ValueError`` naming
    the file and the key otherwise."""
    raw = read(path)
    if not isinstance(raw, dict) or not isinstance(raw.get(section), dict):
        raise ValueError(f"{path.name}: expected a mapping with a {section!r} section")
    out: dict[str, dict[str, str]] = {}
    for key, entry in raw[section].items():
        if not isinstance(entry, dict) or set(entry) != set(LANGS):
            raise ValueError(f"{path.name}: {noun} {key!r} must have exactly 'ja' and 'en'")
        for lang in LANGS:
            if not isinstance(entry[lang], str) or not entry[lang].strip():
                raise ValueError(f"{path.name}: {noun} {key!r} has an empty {lang!r} text")
        out[str(key)] = {lang: entry[lang] for lang in LANGS}
    return out


@cache
def _terms() -> dict[str, dict[str, str]]:
    return bilingual(_PATH, "terms", "term")


def label(key: str, lang: str = "ja") -> str:
    """The label of ``key`` in ``lang``; ``KeyError`` naming an unknown key or language."""
    check_lang(lang)
    try:
        return _terms()[key][lang]
    except KeyError:
        raise KeyError(f"no glossary term {key!r} (see {_PATH.name})") from None


def has(key: str) -> bool:
    return key in _terms()


@cache
def area_en() -> dict[str, str]:
    """English names of the areas the data name only in Japanese (``areas``), by Japanese name."""
    return {e["ja"]: e["en"] for e in bilingual(_PATH, "areas", "area").values()}

