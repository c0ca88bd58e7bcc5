"""Executed notebooks to standalone HTML, in-process with nbconvert's exporters.

Two views of each report, and a third page for a failure:

- ``review.html``: for reviewers; no code, no prompts, no parameter cells, no stderr noise;
- ``full.html``: everything, code included;
- ``error.html``: the partial notebook with code, under a banner with the error.

Each page opens with a header giving the notebook, the parameters used, the data checksum, the
package version and the status. Images are embedded as ``data:`` URIs (outputs always are;
``embed_images`` also inlines images referenced from Markdown), so a page is one file. The
exporters are built once per worker process: the first export pays for templates and CSS, the
rest are cheap, which is most of the saving over one ``jupyter nbconvert`` call per file.
"""

from __future__ import annotations

import copy
import html
import json
from typing import Any

REMOVE_CELL_TAGS = {"remove_cell", "remove-cell"}
REMOVE_OUTPUT_TAGS = {"remove_output", "remove-output"}
PARAMETER_TAGS = {"parameters", "injected-parameters"}
HEADER_TAG = "wardanalysis-header"

# Pages need no script: require.js, MathJax (no page uses maths), mermaid and widget loaders are
# left out, so no page makes a request to any network address.
# Japanese text needs a Japanese font on every reader's machine: the IPAexGothic that the plots
# use is copied once into <out>/assets/ (pages sit three levels below <out>) and serves the CJK
# ranges only (unicode-range), first in the stack, so kana and kanji always have glyphs while
# Latin text keeps the reader's system font. (Placed last, as a fallback, headless Chromium still
# drew boxes for some elements.) The variables are set after the theme's CSS, which defines them.
_FONTS = ('"IPAexGothic (wardanalysis)", system-ui, -apple-system, "Segoe UI", "Hiragino Sans", '
          '"Yu Gothic", "Noto Sans CJK JP", sans-serif')
_MONO = ('ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, "IPAexGothic (wardanalysis)", '
         'monospace')
_CJK_RANGES = "U+3000-30FF, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF"
#: The pages run no script at all: a Content-Security-Policy forbids scripts from anywhere,
#: inline event handlers, frames, forms, plugins and every network request, so that nothing that
#: slipped into a page from data could run or call out. Styles are the template's inline ones;
#: images are embedded ``data:`` URIs; the font is the package's own file beside the reports.
CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "font-src 'self' data: file:; object-src 'none'; frame-src 'none'; base-uri 'none'; "
       "form-action 'none'")
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}
<meta http-equiv="Content-Security-Policy" content="CSP">
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<style>
@font-face { font-family: "IPAexGothic (wardanalysis)"; src: url("../../../assets/ipaexg.ttf") format("truetype"); unicode-range: UNICODE; }
:root { --jp-content-font-family: FONTS; --jp-ui-font-family: FONTS; --jp-code-font-family: MONO; }
body { font-family: FONTS; }
</style>
{%- endblock html_head_js_mathjax -%}
""".replace("FONTS", _FONTS).replace("MONO", _MONO).replace("UNICODE", _CJK_RANGES).replace(
    "CSP", CSP)

_HEADER_CSS = (
    "border:1px solid #cfd8e3;border-radius:6px;background:#f7f9fb;padding:.7em 1em;"
    "margin:0 0 1em 0;font-size:.92em"
)


class Renderer:
    """HTML exporters, built once and reused for every notebook a worker renders."""

    def __init__(self) -> None:
        from jinja2 import DictLoader
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        def exporter(*, review: bool) -> Any:
            c = Config()
            c.TagRemovePreprocessor.enabled = True
            c.TagRemovePreprocessor.remove_cell_tags = REMOVE_CELL_TAGS | (
                PARAMETER_TAGS if review else set())
            c.TagRemovePreprocessor.remove_all_outputs_tags = REMOVE_OUTPUT_TAGS
            ex = HTMLExporter(
                config=c,
                template_name="lab",
                extra_loaders=[DictLoader({"wardanalysis.html.j2": _TEMPLATE})],
                template_file="wardanalysis.html.j2",
                embed_images=True,
                exclude_input=review,
                exclude_input_prompt=review,
                exclude_output_prompt=review,
                anchor_link_text="¶",
            )
            return ex

        self.review_exporter = exporter(review=True)
        self.full_exporter = exporter(review=False)

    def _export(self, exporter: Any, nb: Any, title: str, lang: str) -> str:
        import nbformat

        exporter.language_code = lang
        body, _ = exporter.from_notebook_node(nbformat.from_dict(nb), resources={"metadata": {"name": title}})
        return body

    def views(self, nb: dict[str, Any], info: dict[str, Any]) -> dict[str, str]:
        """``{"review": html, "full": html}`` of a successfully executed notebook."""
        title = _title(info)
        with_header = _with_header(nb, info)
        review = _without_stderr(with_header)
        return {
            "review": self._export(self.review_exporter, review, title, info["lang"]),
            "full": self._export(self.full_exporter, with_header, title, info["lang"]),
        }

    def error_page(self, nb: dict[str, Any], info: dict[str, Any]) -> str:
        """The partial notebook, with code, under a banner naming the error."""
        title = f"FAILED · {_title(info)}"
        return self._export(self.full_exporter, _with_header(nb, info), title, info["lang"])


def _title(info: dict[str, Any]) -> str:
    fy = info.get("fiscal_year")
    return f"{info['notebook']}" + ("" if fy is None else f" · FY{fy}") + f" · {info['lang']}"


def header_html(info: dict[str, Any]) -> str:
    """The box at the top of every page: what was run, on what, and how it went."""
    e = html.escape
    params = "".join(
        f"<tr><td><code>{e(k)}</code></td><td><code>{e(json.dumps(v, ensure_ascii=False))}"
        f"</code></td></tr>" for k, v in info.get("parameters", {}).items()
    )
    status = info.get("status", "ok")
    colour = "#08660f" if status == "ok" else "#b00020"
    error = ""
    if info.get("error"):
        error = (f'<p style="color:#b00020;font-family:monospace;white-space:pre-wrap">'
                 f"{e(info['error'])}</p>")
    return (
        f'<div class="wardanalysis-header" style="{_HEADER_CSS}">'
        f"<strong>{e(_title(info))}</strong> · status "
        f'<strong style="color:{colour}">{e(status)}</strong>{error}'
        f'<table style="margin:.4em 0 0 0"><tbody>{params}</tbody></table>'
        f"<p style=\"margin:.4em 0 0 0\">data checksum <code>{e(info.get('data_checksum', ''))}"
        f"</code> · wardanalysis {e(info.get('package_version', ''))}"
        f" · notebook <code>{e(info.get('notebook_file', ''))}</code></p></div>"
    )


def _with_header(nb: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    nb = copy.deepcopy(nb)
    cell = {"cell_type": "markdown", "id": "wardanalysis-header",
            "metadata": {"tags": [HEADER_TAG]}, "source": header_html(info)}
    nb["cells"] = [cell, *nb.get("cells", [])]
    return nb


def _without_stderr(nb: dict[str, Any]) -> dict[str, Any]:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")]
    return nb
