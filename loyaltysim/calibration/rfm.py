"""Counting a purchase log into the buy-till-you-die summary of each customer.

The convention (the product contract's, and that of the BTYD literature and the CLV
libraries): purchases by the same customer on the same day are one purchase occasion,
their amounts added; a customer's first occasion is their trial, the others are repeat
purchases. The calibration period runs from the first date of the log to the end of the
calibration day (inclusive); the holdout from the next day to the end of the holdout day.
The calibration customers are those whose first purchase falls in the calibration period.

Per customer, in weeks (the unit of the papers' parameters):

- ``frequency`` x: repeat occasions in the calibration period;
- ``recency`` t_x: from the first occasion to the last one of the calibration period;
- ``T``: from the first occasion to the calibration end;
- ``monetary``: mean amount of the repeat occasions of the calibration period (0 without);
- ``holdout``: occasions in the holdout period (all of them are repeat purchases).

Days are counted between calendar dates, as the CLV libraries do, so the figures of the
papers and of those libraries can be compared one to one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyaltysim.calibration.log import LogError, LogProblem, LogSpec, PurchaseLog

DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Periods:
    """The calibration and holdout ends (inclusive days), as numpy days."""

    start: np.datetime64
    calibration_end: np.datetime64
    holdout_end: np.datetime64 | None

    @property
    def holdout_days(self) -> int:
        if self.holdout_end is None:
            return 0
        return int((self.holdout_end - self.calibration_end) / np.timedelta64(1, "D"))

    @property
    def holdout_weeks(self) -> float:
        return self.holdout_days / DAYS_PER_WEEK


@dataclass
class CustomerSummary:
    """The calibration customers, one entry per customer in every array."""

    ids: np.ndarray  # customer ids (text)
    frequency: np.ndarray  # int, repeat occasions in the calibration period
    recency: np.ndarray  # weeks
    T: np.ndarray  # weeks
    monetary: np.ndarray  # mean repeat amount in the calibration period
    first_day: np.ndarray  # days since the log's first date of each first purchase
    holdout: np.ndarray | None  # occasions in the holdout, or None without one
    # Holdout occasions as (customer index, day of the holdout 1..days), for tracking.
    holdout_customer: np.ndarray
    holdout_day: np.ndarray
    periods: Periods
    transactions: int  # purchase rows of the calibration customers up to the last period's end
    occasions: int  # purchase occasions of the calibration period

    @property
    def customers(self) -> int:
        return len(self.ids)

    @property
    def repeat_purchases(self) -> int:
        return int(self.frequency.sum())


def _day(value: np.datetime64 | str) -> np.datetime64:
    return np.datetime64(str(value)[:10], "D")


def check_periods(
    log: PurchaseLog,
    spec: LogSpec,
    calibration_end: np.datetime64 | str | None,
    holdout_end: np.datetime64 | str | None,
) -> Periods:
    """The periods of a calibration, or a :class:`LogError` with everything wrong.

    Without ``calibration_end`` the calibration runs to the log's last date (and there
    can be no holdout). Purchases after ``holdout_end`` are left out (with a note).
    Raises ``ValueError`` when the options contradict each other (a holdout that ends
    before it starts, a holdout without a calibration end).
    """
    days = log.date.astype("datetime64[D]")
    first_i, last_i = int(np.argmin(days)), int(np.argmax(days))
    first, last = days[first_i], days[last_i]
    if holdout_end is not None and calibration_end is None:
        raise ValueError("--holdout-end needs --calibration-end: the holdout starts after it")
    cal = _day(calibration_end) if calibration_end is not None else last
    hold = _day(holdout_end) if holdout_end is not None else None
    if hold is not None and hold <= cal:
        raise ValueError(
            f"--holdout-end {hold} must come after --calibration-end {cal}: the holdout "
            "runs from the day after the calibration end"
        )
    problems: list[LogProblem] = []
    at_first = int(log.line[first_i])
    if cal < first:
        problems.append(
            LogProblem(
                log.path,
                at_first,
                spec.date_col,
                f"--calibration-end {cal} is before the first purchase ({first}): the "
                "calibration period would hold no purchase",
            )
        )
    if hold is not None and first > hold:
        problems.append(
            LogProblem(
                log.path,
                at_first,
                spec.date_col,
                f"every purchase is after --holdout-end {hold} (the first is {first}): "
                "nothing is left to calibrate on or to test against",
            )
        )
    if problems:
        raise LogError(problems)
    if hold is not None and last > hold:
        later = int((days > hold).sum())
        log.notes.append(f"{later:,} purchase row(s) after --holdout-end {hold} left out")
    elif hold is None and last > cal:
        later = int((days > cal).sum())
        log.notes.append(f"{later:,} purchase row(s) after --calibration-end {cal} left out")
    return Periods(first, cal, hold)


def summarise(log: PurchaseLog, spec: LogSpec, periods: Periods) -> CustomerSummary:
    """Count the log into each calibration customer's frequency, recency, T and spend.

    Raises :class:`LogError` when no calibration customer buys twice on different days:
    then the models' repeat-purchase process has nothing to be fitted on.
    """
    start = periods.start
    day = ((log.date.astype("datetime64[D]") - start) / np.timedelta64(1, "D")).astype(np.int64)
    cal_day = int((periods.calibration_end - start) / np.timedelta64(1, "D"))
    end_day = cal_day + periods.holdout_days
    inside = day <= end_day
    codes, ids = _factorize(log.customer[inside])
    day, amount = day[inside], log.amount[inside]
    # One occasion per customer and day, amounts added (the occasions sort by customer,
    # then day).
    key = codes.astype(np.int64) * (end_day + 1) + day
    occ_key, inverse = np.unique(key, return_inverse=True)
    occ_amount = np.bincount(inverse, weights=amount, minlength=len(occ_key))
    occ_customer = occ_key // (end_day + 1)
    occ_day = occ_key % (end_day + 1)
    n_all = len(ids)
    first = np.full(n_all, np.iinfo(np.int64).max)
    np.minimum.at(first, occ_customer, occ_day)
    member = first <= cal_day  # first purchase in the calibration period
    in_cal = occ_day <= cal_day
    cal_occ = in_cal & member[occ_customer]
    count = np.bincount(occ_customer[cal_occ], minlength=n_all)
    last = np.full(n_all, -1, dtype=np.int64)
    np.maximum.at(last, occ_customer[cal_occ], occ_day[cal_occ])
    repeat = cal_occ & (occ_day > first[occ_customer])
    repeat_spend = np.bincount(occ_customer[repeat], weights=occ_amount[repeat], minlength=n_all)

    # Renumber the calibration customers 0..n-1 in order of their ids' first appearance.
    members = np.flatnonzero(member)
    index = np.full(n_all, -1, dtype=np.int64)
    index[members] = np.arange(len(members))
    frequency = (count[members] - 1).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend[members] / np.maximum(frequency, 1), 0.0)
    recency = (last[members] - first[members]) / DAYS_PER_WEEK
    T = (cal_day - first[members]) / DAYS_PER_WEEK

    hold_occ = (~in_cal) & member[occ_customer]
    holdout_customer = index[occ_customer[hold_occ]]
    holdout_day = occ_day[hold_occ] - cal_day
    holdout = None
    if periods.holdout_end is not None:
        holdout = np.bincount(holdout_customer, minlength=len(members)).astype(np.int64)

    if len(members) and frequency.sum() == 0:
        raise LogError(
            [
                LogProblem(
                    log.path,
                    int(log.line[0]),
                    spec.customer_col,
                    f"no customer buys again on another day in the calibration period (to "
                    f"{periods.calibration_end}): the models fit repeat purchases, and there "
                    "are none",
                )
            ]
        )
    rows_kept = int(member[codes].sum())
    return CustomerSummary(
        ids=ids[members],
        frequency=frequency,
        recency=recency,
        T=T,
        monetary=monetary,
        first_day=first[members],
        holdout=holdout,
        holdout_customer=holdout_customer,
        holdout_day=holdout_day,
        periods=periods,
        transactions=rows_kept,
        occasions=int(count[members].sum()),
    )


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``values`` and the distinct values, in order of first appearance."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)
