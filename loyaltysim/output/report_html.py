"""The report as one self-contained HTML page, from Jinja2 templates (autoescaping on).

The page has no external reference of any kind (images are base64 PNG, the CSS is inline,
no scripts or fonts), so it can be mailed as one file. The templates live in
``report_templates/`` beside this module and ship in the wheel with the package.
"""

from __future__ import annotations

import base64
import functools

import jinja2

from loyaltysim.output.report_doc import Report

__all__ = ["render_html"]

TEMPLATE = "report.html.j2"


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report's templates (autoescape on for every file)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("loyaltysim.output", "report_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    env.filters["kind"] = lambda block: type(block).__name__.lower()
    return env


def render_html(report: Report) -> str:
    """The report as one HTML document."""
    return environment().get_template(TEMPLATE).render(report=report)
