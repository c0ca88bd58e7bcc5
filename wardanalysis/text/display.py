"""The language results show themselves in, and the one safe markup of prose.

Prose mixes the package's sentences with values from data files (an amount as printed, a user's
note, a file name), so it is never rendered as Markdown, which would let such a value add raw
HTML or a script to a reader's page: it is escaped as a whole, and the package's own emphasis
(*…*, **…**) is the only markup put back.
"""

from __future__ import annotations

import html
import re

from .glossary import check_lang

__all__ = ["current_lang", "markup", "plain", "set_language"]

_LANG = ["ja"]
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def set_language(lang: str) -> None:
    """Make ``lang`` the language results show themselves in (``ja`` or ``en``) when JupyterLab
    displays them: ``wa.set_language("en")``. :func:`wardanalysis.report.setup` calls it."""
    _LANG[0] = check_lang(lang)


def current_lang() -> str:
    """The language set last (``'ja'`` before any)."""
    return _LANG[0]


def markup(text: str) -> str:
    """``text`` as safe inline HTML: everything escaped, then ``**x**`` → ``<strong>`` and
    ``*x*`` → ``<em>``. No other markup survives, whatever ``text`` holds."""
    escaped = html.escape(str(text), quote=True)
    return _EM.sub(r"<em>\1</em>", _STRONG.sub(r"<strong>\1</strong>", escaped))


def plain(text: str) -> str:
    """``text`` without the emphasis marks."""
    return _EM.sub(r"\1", _STRONG.sub(r"\1", str(text)))
