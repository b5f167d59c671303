"""The CSV text of numbers: the fast column formatting writes what str/repr per row did.

The tables' bytes are part of the results contract (a rerun gives the same files), so the
formatting that formats each distinct value once must agree with the plain rule on every
value: integral columns as integers, other float columns as ``repr`` (``-0.0``, ``nan``,
``inf``, ``1e+16`` included), empty fields for missing optional integers.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loyaltysim.output import tables
from loyaltysim.output.tables import _format_field_column, _integral, _rows

SETTINGS = settings(derandomize=True, max_examples=300, deadline=None, database=None)
SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 2.0**53, 2.0**53 - 1, -(2.0**53), 1e16, 0.5, 3.0]


def _format_column(values: np.ndarray) -> list[str]:
    return tables._format_column(values, _integral(values))


def plain(values: np.ndarray) -> list[str]:
    """The rule, one value at a time."""
    a = np.asarray(values)
    if a.dtype.kind in "iub":
        return [str(v) for v in a.astype(np.int64).tolist()]
    a = a.astype(np.float64)
    whole = a.size and np.all(np.isfinite(a) & (a == np.trunc(a)) & (np.abs(a) < 2**53))
    return [str(int(v)) if whole else repr(v) for v in a.tolist()]


floats = hnp.arrays(
    np.float64,
    st.integers(0, 80),
    elements=st.one_of(
        st.sampled_from(SPECIAL), st.integers(-400, 400).map(float), st.floats(-1e6, 1e6)
    ),
)


@SETTINGS
@given(floats)
def test_float_columns(a: np.ndarray) -> None:
    assert _format_column(a) == plain(a)


@SETTINGS
@given(hnp.arrays(np.int64, st.integers(0, 80), elements=st.integers(-(2**62), 2**62)))
def test_int_columns(a: np.ndarray) -> None:
    assert _format_column(a) == plain(a)
    assert _format_column(a % 7) == plain(a % 7)  # few distinct values: the range table


def test_small_and_bool_dtypes() -> None:
    for a in (np.array([3, -2, 3], np.int8), np.array([1, 0], np.uint16), np.array([True])):
        assert _format_column(a) == plain(a)
    assert _format_column(np.array([0.25, 0.25, 1.0], np.float32)) == ["0.25", "0.25", "1.0"]


def test_optional_integers_leave_missing_values_empty() -> None:
    a = np.array([np.nan, 3.0, -1.0, np.nan, 3.0])
    assert _format_field_column("left", a, False) == ["", "3", "-1", "", "3"]
    assert _format_field_column("left", np.array([np.nan]), False) == [""]


def test_rows_prefix_every_line() -> None:
    assert _rows("base,0", [["1", "2"], ["a", "b"]]) == b"base,0,1,a\nbase,0,2,b\n"
    assert _rows("base,0", [[], []]) == b""
