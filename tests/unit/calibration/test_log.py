"""Reading purchase logs: every bad log is rejected whole, each problem on its line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loyaltysim.calibration.log import LogError, LogSpec, read_log
from loyaltysim.calibration.rfm import check_periods, summarise

GOOD = """customer_id,date,amount
a,2024-01-01,10
a,2024-01-01,5
a,2024-02-01,7.5
b,2024-01-15,3
b,2024-03-01,4
c,2024-04-02,9
"""


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, spec: LogSpec | None = None, cal=None, hold=None) -> list[str]:
    spec = spec or LogSpec()
    with pytest.raises(LogError) as info:
        log = read_log(path, spec)
        periods = check_periods(log, spec, cal, hold)
        summarise(log, spec, periods)
    return [str(p) for p in info.value.problems]


def test_a_good_log_counts_same_day_purchases_as_one_occasion(tmp_path: Path) -> None:
    spec = LogSpec()
    log = read_log(write(tmp_path, GOOD), spec)
    periods = check_periods(log, spec, "2024-03-31", "2024-04-30")
    s = summarise(log, spec, periods)
    assert list(s.ids) == ["a", "b"]  # c's first purchase is in the holdout
    assert list(s.frequency) == [1, 1]
    # a: first 2024-01-01, last 2024-02-01 (31 days), T to 2024-03-31 (90 days)
    assert s.recency[0] == pytest.approx(31 / 7) and s.T[0] == pytest.approx(90 / 7)
    assert s.monetary[0] == pytest.approx(7.5)  # the repeat purchase, not the trial's 15
    assert s.holdout is not None and list(s.holdout) == [0, 0]
    assert periods.holdout_days == 30


def test_missing_columns_are_all_reported_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "customer,day,amount\na,2024-01-01,1\n")
    found = problems(path)
    assert found == [
        f"{path}:1: customer_id: missing column (the file has: customer, day, amount); "
        "did you mean 'customer'?",
        f"{path}:1: date: missing column (the file has: customer, day, amount)",
    ]


def test_bad_dates_and_amounts_each_on_their_line_all_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,date,amount\na,2024-01-01,1\na,01/02/2024,x\nb,,3\n")
    found = problems(path)
    assert found == [
        f"{path}:3: date: '01/02/2024' is not a date in ISO form YYYY-MM-DD (see --date-format)",
        f"{path}:4: date: '' is not a date in ISO form YYYY-MM-DD (see --date-format)",
        f"{path}:3: amount: 'x' is not a number",
    ]


def test_date_format_option_reads_other_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "who,when,paid\na,01/02/2024,1\na,15/02/2024,2\n")
    spec = LogSpec("who", "when", "paid", date_format="%d/%m/%Y")
    log = read_log(path, spec)
    assert str(log.date[1])[:10] == "2024-02-15"


def test_negative_amounts_are_returns_rejected_unless_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "a,2024-02-02,-7.5\n")
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}:8: amount: negative amount -7.5: a return")
    log = read_log(path, LogSpec(returns="drop"))
    assert log.rows == 6 and log.dropped_returns == 1 and "return" in log.notes[0]


def test_empty_log(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,date,amount\n")
    assert problems(path) == [f"{path}:2: customer_id: the log has no purchases"]
    empty = write(tmp_path, "", "empty.csv")
    assert problems(empty)[0].startswith(f"{empty}:1: (file): not a readable table")


def test_no_repeat_purchase(tmp_path: Path) -> None:
    path = write(
        tmp_path, "customer_id,date,amount\na,2024-01-01,1\na,2024-01-01,2\nb,2024-01-03,1\n"
    )
    (found,) = problems(path)
    assert found.startswith(f"{path}:2: customer_id: no customer buys again on another day")


def test_dates_after_the_holdout_only_and_calibration_before_the_first_date(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, GOOD)
    found = problems(path, cal="2023-06-30", hold="2023-12-31")
    assert found == [
        f"{path}:2: date: --calibration-end 2023-06-30 is before the first purchase "
        "(2024-01-01): the calibration period would hold no purchase",
        f"{path}:2: date: every purchase is after --holdout-end 2023-12-31 (the first is "
        "2024-01-01): nothing is left to calibrate on or to test against",
    ]


def test_many_bad_rows_are_summarised_not_printed_one_by_one(tmp_path: Path) -> None:
    rows = "".join(f"c{i},bad,1\n" for i in range(100))
    found = problems(write(tmp_path, "customer_id,date,amount\n" + rows))
    assert len(found) == 21 and "80 more rows" in found[-1]


def test_contradictory_periods_are_a_usage_error(tmp_path: Path) -> None:
    spec = LogSpec()
    log = read_log(write(tmp_path, GOOD), spec)
    with pytest.raises(ValueError, match="must come after"):
        check_periods(log, spec, "2024-03-31", "2024-03-01")
    with pytest.raises(ValueError, match="needs --calibration-end"):
        check_periods(log, spec, None, "2024-03-01")


def test_parquet_logs_read_like_csv(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-01"] * 2 + ["2024-01-05"]),
            "amount": [1.0, 2.0, -1.0],
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    (found,) = problems(path)
    assert found.startswith(f"{path}:3: amount: negative amount -1")
    log = read_log(path, LogSpec(returns="drop"))
    assert np.allclose(log.amount, [1.0, 2.0])
