"""The package's own YAML files (catalogues, glossary, dataset descriptors, sources), read with
libyaml's parser when PyYAML was built with it: the same safe loading, about ten times faster
(every kernel of a batch reads the catalogues)."""

from __future__ import annotations

from typing import Any

import yaml

#: PyYAML's safe loader, in C where available.
SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)
