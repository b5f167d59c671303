"""The ``export`` job: a results folder's customers, and its purchases, as files for research.

- **Customers**: the folder's customers table (``customers.csv`` or ``.parquet``), one row per
  simulated customer with the CLV libraries' RFM columns, written as CSV, or Parquet when the
  file name ends in ``.parquet``.
- **Transactions**: a purchase log in the format ``loyaltysim calibrate`` reads
  (``customer_id, date, amount``; one row per customer and buying day, dates counted from a
  start date) for one replication of one variant.

The folder keeps no per-purchase log (a default run would hold millions of rows); the
purchases are *regenerated* by simulating that replication again from the folder's own
``scenario.resolved.json`` and seed. The model is deterministic in scenario, seed and
replication (the reproducibility tests hold it to that), so the log is the run's own;
when the folder holds the customers table, the regenerated purchases are checked against
it, customer by customer (first and last buying day, repeat days), and a mismatch (a
folder written by another version of the model) is refused rather than exported. One
replication is exported at a time, which keeps the cost at one replication's run whatever
the size of the folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltysim.model.simulation import Simulation
from loyaltysim.output.folder import (
    RESOLVED,
    atomic_write_bytes,
    read_customers,
    read_manifest,
)
from loyaltysim.output.tables import parquet_available, table_bytes_parquet
from loyaltysim.scenario import Scenario, variant_scenarios


class _PurchaseRecorder(Simulation):
    """A replication that writes down each market day who bought (their ticket count
    went up) and what they paid; the model itself is untouched."""

    def __init__(self, scenario: Scenario, replication: int, root_seed: int) -> None:
        super().__init__(scenario, replication, root_seed)
        self.bought: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def market_day(self, day: int) -> None:
        n = self.pop.size
        visits, spend = self.pop.visits[:n].copy(), self.pop.spend[:n].copy()
        super().market_day(day)
        m = self.pop.size  # customers who joined today start from no tickets
        visits_before = np.zeros(m, dtype=visits.dtype)
        visits_before[:n] = visits
        spend_before = np.zeros(m)
        spend_before[:n] = spend
        who = np.flatnonzero(self.pop.visits[:m] != visits_before)
        paid = self.pop.spend[who] - spend_before[who]
        self.bought.append((who, np.full(len(who), day, dtype=np.int64), paid))


class ExportError(Exception):
    """The folder cannot give what was asked (said in words, for the command to print)."""


@dataclass
class Exported:
    path: Path
    rows: int


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` to ``path`` atomically: Parquet for ``.parquet``, CSV otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        if not parquet_available():
            raise ExportError("a .parquet file needs pyarrow: pip install 'loyaltysim[parquet]'")
        columns = {c: frame[c].to_numpy() for c in frame.columns}
        atomic_write_bytes(path, table_bytes_parquet(columns))
    else:
        atomic_write_bytes(path, frame.to_csv(index=False, lineterminator="\n").encode())


def customers_frame(run_dir: Path) -> pd.DataFrame:
    """The folder's customers table as a DataFrame (ExportError when it has none)."""
    columns = read_customers(run_dir)
    if not columns or not len(next(iter(columns.values()))):
        raise ExportError(
            f"{run_dir} holds no customers table (the run left it out, above its size bound, "
            "or predates it); run again with --customers, or with --reps 1"
        )
    return pd.DataFrame(columns)


def export_customers(run_dir: Path, path: Path) -> Exported:
    frame = customers_frame(run_dir)
    _write_frame(frame, path)
    return Exported(path, len(frame))


def _folder_scenario(run_dir: Path, variant: str) -> tuple[Scenario, int]:
    try:
        manifest = read_manifest(run_dir)
        scenario = Scenario.model_validate_json((run_dir / RESOLVED).read_bytes())
    except (OSError, ValueError) as exc:
        raise ExportError(f"{run_dir} is not a run's results folder: {exc}") from None
    seed = manifest.get("seed")
    if not isinstance(seed, int):
        raise ExportError(f"{run_dir}/manifest.json records no seed to simulate again with")
    variants = dict(variant_scenarios(scenario))
    if variant not in variants:
        raise ExportError(
            f"no variant {variant!r} in {run_dir}; the variants: {', '.join(variants)}"
        )
    return variants[variant], seed


def purchase_log(
    run_dir: Path, variant: str = "base", replication: int = 0, start: str = "2024-01-01"
) -> pd.DataFrame:
    """The purchases of one replication of ``variant``, simulated again from the folder.

    ``customer_id`` is the customer's row number, as in the customers table; ``date`` is
    ``start`` plus the day of the run; ``amount`` what the customer paid that day.
    """
    try:
        origin = np.datetime64(date.fromisoformat(start), "D")
    except ValueError:
        raise ExportError(f"--start-date {start!r} is not a date in YYYY-MM-DD form") from None
    scenario, seed = _folder_scenario(run_dir, variant)
    if not 0 <= replication < scenario.scenario.replications:
        raise ExportError(
            f"replication {replication} is not in the run (0 to "
            f"{scenario.scenario.replications - 1})"
        )
    sim = _PurchaseRecorder(scenario, replication, seed)
    sim.run()
    rows = sim.bought
    who = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, np.int64)
    day = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, np.int64)
    paid = np.concatenate([r[2] for r in rows]) if rows else np.zeros(0)
    _check_against_folder(run_dir, variant, replication, who, day)
    order = np.lexsort((who, day))
    dates = origin + day[order].astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "customer_id": who[order].astype(np.int64),
            "date": pd.to_datetime(dates).strftime("%Y-%m-%d"),
            "amount": np.round(paid[order], 2),
        }
    )


def _check_against_folder(
    run_dir: Path, variant: str, replication: int, who: np.ndarray, day: np.ndarray
) -> None:
    """Refuse a regenerated log that is not the folder's run (its customers table says)."""
    table = read_customers(run_dir)
    if not table or not len(table["customer"]):
        return
    mine = (table["variant"] == variant) & (table["replication"] == replication)
    if not mine.any():
        return
    n = int(table["customer"][mine].max()) + 1
    if len(who) and int(who.max()) >= n:
        raise ExportError(_MISMATCH.format(run_dir=run_dir))
    days = np.bincount(who, minlength=n)
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    if len(who):
        first_day = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_day, who, day)
        last_day = np.full(n, -1)
        np.maximum.at(last_day, who, day)
        first = np.where(days > 0, first_day, np.nan)
        last = np.where(days > 0, last_day, np.nan)
    rows = table["customer"][mine]
    expected_repeat = np.maximum(days - 1, 0)[rows]
    same = (
        np.array_equal(expected_repeat, table["frequency"][mine])
        and np.array_equal(first[rows], table["first_purchase"][mine], equal_nan=True)
        and np.array_equal(last[rows], table["last_purchase"][mine], equal_nan=True)
    )
    if not same:
        raise ExportError(_MISMATCH.format(run_dir=run_dir))


_MISMATCH = (
    "the purchases simulated again from {run_dir} do not match its customers table (was it "
    "written by another version of loyaltysim?); nothing was exported"
)


def export_transactions(
    run_dir: Path,
    path: Path,
    variant: str = "base",
    replication: int = 0,
    start: str = "2024-01-01",
) -> Exported:
    frame = purchase_log(run_dir, variant, replication, start)
    _write_frame(frame, path)
    return Exported(path, len(frame))
