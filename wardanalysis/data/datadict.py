"""The data dictionary, generated from the dataset descriptors: ``make datadict`` writes
``docs/data_dictionary.md``, and a test fails when the committed file is out of date.
"""

from __future__ import annotations

import sys

from .loading import describe, load
from .schema import dataset_names, input_names


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown() -> str:
    """Every dataset: title, description, source, key, columns (type, unit, range, description),
    rules and notes, as Markdown."""
    out = ["# Data dictionary", "",
           "Generated from `data/meta/*.yml` by `make datadict`; do not edit by hand.", "",
           "| dataset | title | rows | source |", "|---|---|---|---|"]
    for name in dataset_names():
        meta = describe(name)
        out.append(f"| [`{name}`](#{name}) | {_cell(meta['title']['en'])} / "
                   f"{_cell(meta['title']['ja'])} | {len(load(name))} | {meta['source']['id']} |")
    inputs = list(input_names())
    out += ["", "Read from a user's data directory only (descriptors in `data/meta/inputs/`; "
            "no shipped file): " + ", ".join(f"[`{n}`](#{n})" for n in inputs) + "."]
    for name in [*dataset_names(), *inputs]:
        meta = describe(name)
        src = meta["source"]
        where = (f"- file: `<data_dir>/{name}.csv` or `.xlsx` (not shipped)" if meta["sha256"] is None
                 else f"- file: `data/{meta['path']}` (sha256 `{meta['sha256'][:16]}…`)")
        out += ["", f"## {name}", "", f"**{meta['title']['en']}** / {meta['title']['ja']}", "",
                _cell(meta["description"]), "", where,
                f"- key: {', '.join(f'`{k}`' for k in meta.get('key') or []) or '—'}"]
        out += [f"- source {f}: {_cell(src[f])}"
                for f in ("id", "section", "as_of", "basis", "quality") if f in src]
        out += [f"- second source: [`{s['dataset']}`](#{s['dataset']}) "
                f"({', '.join(s.get('columns') or ())}; {_cell(s.get('fiscal_years', ''))})"
                for s in src.get("corroborated_by") or ()]
        out += ["", "| column | type | unit | range / values | description |",
                "|---|---|---|---|---|"]
        for col in meta["columns"]:
            rng = (", ".join(map(str, col["enum"])) if "enum" in col else
                   f"{col.get('min', '')}–{col.get('max', '')}" if "min" in col or "max" in col
                   else "")
            flags = [f for f in ("nullable", "dash_is_zero") if col.get(f)]
            typ = col["type"] + (f" ({', '.join(flags)})" if flags else "")
            headers = [h for h in (col.get("label_ja"), *(col.get("aliases") or [])) if h]
            accepted = f" Headers accepted: {', '.join(map(str, headers))}." if headers else ""
            out.append(f"| `{col['name']}` | {typ} | {_cell(col.get('unit', ''))} | {_cell(rng)} "
                       f"| {_cell(col['description'])}{_cell(accepted)} |")
        if meta.get("rules"):
            out += ["", "Rules: " + "; ".join(f"`{r}`" for r in meta["rules"])]
        if meta.get("notes"):
            out += ["", "Notes:", ""] + [f"- {_cell(n)}" for n in meta["notes"]]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(markdown())
