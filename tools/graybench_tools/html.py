"""One self-contained HTML page for a graybench report: tables and PNGs embedded as base64.

The page loads nothing from anywhere (no external src, href, script or font), so it can be
mailed, archived next to the results file or opened offline.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import math

import pandas as pd

_STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #eee; } td.s { text-align: left; }
tr.flag td { background: #fff3cd; } tr.incomplete td { color: #888; font-style: italic; }
figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; max-width: 900px; }
img { max-width: 100%; border: 1px solid #ddd; }
pre, .note { font-size: 0.85em; color: #444; }
.scroll { overflow-x: auto; }
"""


def _cell(value, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return fmt.format(value)
        except (ValueError, TypeError):
            pass
    return str(value)


def table(df: pd.DataFrame, formats: dict[str, str] | None = None,
          row_class=None) -> str:
    """An HTML table of `df`; `row_class(row) -> str` marks rows (e.g. 'flag')."""
    formats = formats or {}
    out = ['<div class="scroll"><table><thead><tr>']
    out += [f"<th>{_html.escape(str(c))}</th>" for c in df.columns]
    out.append("</tr></thead><tbody>")
    for _, row in df.iterrows():
        cls = row_class(row) if row_class else ""
        out.append(f'<tr class="{cls}">' if cls else "<tr>")
        for col in df.columns:
            v = row[col]
            text = _html.escape(_cell(v, formats.get(col)))
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
            out.append(f"<td>{text}</td>" if numeric else f'<td class="s">{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def figure(png: bytes, title: str, caption: str) -> str:
    """An embedded PNG with its caption."""
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{_html.escape(title)}" src="data:image/png;base64,{data}">'
            f"<figcaption><b>{_html.escape(title)}.</b> {_html.escape(caption)}</figcaption>"
            "</figure>")


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """The whole document: `sections` are (heading, inner HTML) pairs."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>{_html.escape(title)}</h1>",
            f'<p class="note">Written by tools/graybench-report on {stamp}.</p>']
    for heading, inner in sections:
        body.append(f"<h2>{_html.escape(heading)}</h2>")
        body.append(inner)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def paragraph(text: str) -> str:
    return f"<p>{_html.escape(text)}</p>"


def pre(text: str) -> str:
    return f"<pre>{_html.escape(text)}</pre>"
