"""Command: ``report``, a self-contained client report from a results folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from loyaltysim.commands.common import EXIT_USAGE


@click.command()
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf"], case_sensitive=False),
    default=None,
    help="Report format [default: from --output's suffix, else html].",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Where to write the report [default: RUN_DIR/report.html or report.pdf].",
)
def report(run_dir: Path, fmt: str | None, output: Path | None) -> None:
    """Write a self-contained report (HTML or PDF) of a results folder.

    The report holds a plain-language summary per plan (profit, churn, ruin risk and a
    verdict), the charts, the causes of defection, the break-even arithmetic, every
    assumption of the scenario, and how to reproduce the run. The HTML is one file with
    nothing external (images embedded), ready to mail; the PDF needs no extra software.
    The report reads only RUN_DIR's own files; missing or unreadable tables are said at
    its top, and then no chart is shown.

    Exit codes: 0 written, 2 RUN_DIR is not a run's results folder (a sweep's is named),
    4 it is broken.
    """
    from loyaltysim.workflows.report import ReportError, write_report

    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        fmt = suffix if suffix in ("html", "pdf") else "html"
    try:
        path = write_report(run_dir, fmt.lower(), output)
    except ReportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    click.echo(f"wrote {path}")
