"""The package's own errors: bad input that a user can fix, told in one line.

Every error the package raises for a file, a parameter, a label or an output folder it cannot
use derives from :class:`WardanalysisError`. The command line prints such an error as one line
and exits with its ``exit_code`` (2, bad input); anything else is a bug, printed with its
traceback and a request to report it.
"""

from __future__ import annotations

__all__ = ["OutputDirError", "WardanalysisError"]


class WardanalysisError(Exception):
    """Base of the errors that name a problem in the user's input."""

    exit_code = 2


class OutputDirError(WardanalysisError):
    """An output folder the batch may not write into (it holds files it did not make, it is a
    file, it cannot be written); the message names the folder."""
