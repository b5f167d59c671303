"""Command: ``export``, a results folder's customers and purchases as files for research."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from loyaltysim.commands.common import EXIT_RUNTIME_FAILURE, EXIT_USAGE


@click.command()
@click.argument(
    "run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--customers",
    "customers_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the per-customer table (RFM columns: frequency, recency, T, monetary_value).",
)
@click.option(
    "--transactions",
    "transactions_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write a purchase log (customer_id, date, amount) that `loyaltysim calibrate` reads.",
)
@click.option(
    "--start-date",
    default="2024-01-01",
    show_default=True,
    metavar="YYYY-MM-DD",
    help="The date of day 0 of the run, for the purchase log's dates.",
)
@click.option("--variant", default="base", show_default=True, help="The variant to log.")
@click.option(
    "--replication", type=int, default=0, show_default=True, help="The replication to log."
)
def export(
    run_dir: Path,
    customers_file: Path | None,
    transactions_file: Path | None,
    start_date: str,
    variant: str,
    replication: int,
) -> None:
    """Export a results folder's customers and purchases (CSV; Parquet for a .parquet FILE).

    --customers writes the folder's customers table. --transactions writes the purchases of
    one replication of one variant: the folder keeps no per-purchase log, so they are
    simulated again from its scenario and seed (deterministic: the same run), and checked
    against its customers table when it has one.

    Exit codes: 0 written, 2 nothing asked or a bad option, 4 the folder cannot give it.
    """
    from loyaltysim.workflows.export import ExportError, export_customers, export_transactions

    if customers_file is None and transactions_file is None:
        click.echo("nothing to export: give --customers FILE and/or --transactions FILE", err=True)
        sys.exit(EXIT_USAGE)
    try:
        if customers_file is not None:
            done = export_customers(run_dir, customers_file)
            click.echo(f"wrote {done.path}: {done.rows:,} customers")
        if transactions_file is not None:
            done = export_transactions(run_dir, transactions_file, variant, replication, start_date)
            click.echo(
                f"wrote {done.path}: {done.rows:,} purchases of replication {replication} "
                f"of {variant!r}"
            )
    except ExportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_RUNTIME_FAILURE)
