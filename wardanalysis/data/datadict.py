"""The data dictionary, generated from the dataset descriptors (never written by hand).

``python -m wardanalysis.data.datadict`` prints it; ``make datadict`` writes ``docs/data_dictionary.md``,
and a test fails when the committed file is out of date.
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
    out = [
        "# Data dictionary",
        "",
        "Generated from `data/meta/*.yml` by `make datadict`; do not edit by hand.",
        "",
        "| dataset | title | rows | source |",
        "|---|---|---|---|",
    ]
    for name in dataset_names():
        meta = describe(name)
        out.append(f"| [`{name}`](#{name}) | {_cell(meta['title']['en'])} / {_cell(meta['title']['ja'])} "
                   f"| {len(load(name))} | {meta['source']['id']} |")
    inputs = list(input_names())
    if inputs:
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
        for field in ("id", "section", "as_of", "basis", "quality"):
            if field in src:
                out.append(f"- source {field}: {_cell(src[field])}")
        for second in src.get("corroborated_by") or ():
            out.append(f"- second source: [`{second['dataset']}`](#{second['dataset']}) "
                       f"({', '.join(second.get('columns') or ())}; "
                       f"{_cell(second.get('fiscal_years', ''))})")
        out += ["", "| column | type | unit | range / values | description |", "|---|---|---|---|---|"]
        for col in meta["columns"]:
            rng = ""
            if "enum" in col:
                rng = ", ".join(map(str, col["enum"]))
            elif "min" in col or "max" in col:
                rng = f"{col.get('min', '')}–{col.get('max', '')}"
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
