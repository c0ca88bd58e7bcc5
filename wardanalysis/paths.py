"""Where the shipped data and notebooks live, whatever the working directory."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def shipped_data_dir() -> Path:
    """The ``data/`` tree: the repository's own in a checkout, or the copy inside a wheel."""
    for candidate in (REPO_DIR / "data", PACKAGE_DIR / "_shipped_data"):
        if (candidate / "meta").is_dir():
            return candidate
    raise FileNotFoundError(
        f"no shipped data found (looked in {REPO_DIR / 'data'} and {PACKAGE_DIR / '_shipped_data'})"
    )


def notebooks_dir() -> Path:
    return REPO_DIR / "notebooks"


def params_dir() -> Path:
    return REPO_DIR / "params"
