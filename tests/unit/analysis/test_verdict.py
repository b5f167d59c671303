"""The guard's one vocabulary: SAFE / UNSAFE / UNDECIDED, exact bounds, repeated looks."""

from __future__ import annotations

import numpy as np
import pytest

from loyaltysim.analysis.verdict import (
    SAFE,
    UNDECIDED,
    UNSAFE,
    decide_risk,
    describe_risk,
    look_schedule,
    one_sided_bounds,
    risk_status,
    runs_to_decide,
    zero_event_runs,
)


def test_no_ruin_in_30_runs_is_described_not_judged() -> None:
    # One-sided exact 95% bound at 0 of n: 1 - 0.05 ** (1 / n).
    assert describe_risk(0, 30) == "no ruin in 30 runs (risk below 9.5%)"
    assert one_sided_bounds(0, 30, 0.05)[1] == pytest.approx(1 - 0.05 ** (1 / 30))
    assert describe_risk(30, 30) == "ruin in 30 of 30 runs (risk above 90%)"
    assert describe_risk(3, 30).startswith("ruin in 3 of 30 runs (risk 2.")


def test_30_clean_runs_cannot_show_a_risk_below_5_percent_and_say_what_would() -> None:
    d = decide_risk(0, 30, 0.05)
    assert d.status == UNDECIDED and d.label == "UNDECIDED"
    assert d.runs_needed == zero_event_runs(0.05) == 59  # 1 - 0.05 ** (1/59) < 5%
    assert decide_risk(0, d.runs_needed, 0.05).status == SAFE
    assert decide_risk(0, d.runs_needed - 1, 0.05).status == UNDECIDED
    assert "59 runs would decide it" in d.sentence()


def test_safe_and_unsafe_say_how_sure() -> None:
    safe = decide_risk(0, 120, 0.05)
    assert safe.status == SAFE
    assert safe.sentence().startswith("SAFE (95% sure): no ruin in 120 runs")
    unsafe = decide_risk(6, 10, 0.05)
    assert unsafe.status == UNSAFE and unsafe.lower > 0.05
    assert unsafe.sentence().startswith("UNSAFE (95% sure): ruin in 6 of 10 runs")


def test_more_looks_need_more_runs() -> None:
    # Bonferroni over the planned looks: each look is held to (1 - confidence) / K.
    assert zero_event_runs(0.05, looks=5) > zero_event_runs(0.05, looks=1)
    assert decide_risk(0, 80, 0.05, looks=1).status == SAFE
    assert decide_risk(0, 80, 0.05, looks=5).status == UNDECIDED


def test_runs_to_decide_at_the_observed_rate() -> None:
    # 2% seen in 100 runs, limit 5%: enough runs at 2% show it is below 5%.
    n = runs_to_decide(2, 100, 0.05, 0.05)
    assert n is not None and n > 100
    assert decide_risk(round(0.02 * n), n, 0.05).status == SAFE
    assert runs_to_decide(5, 100, 0.05, 0.05) is None  # the rate equals the limit


def test_look_schedule_doubles_to_the_cap() -> None:
    assert look_schedule(30, 480) == [30, 60, 120, 240, 480]
    assert look_schedule(30, 100) == [30, 60, 100]
    assert look_schedule(500, 480) == [480]


def first_verdicts(p: float, rows: int, seed: int) -> np.ndarray:
    """The verdict of ``rows`` simulated sequential checks of a true risk ``p`` (limit 5%,
    the looks of a check from 30 runs to 480), each stopped at its first decided look."""
    looks = look_schedule(30, 480)
    counts = np.cumsum(np.random.default_rng(seed).random((rows, looks[-1])) < p, axis=1)
    verdict = np.full(rows, UNDECIDED, dtype=object)
    for n in looks:
        ks = counts[:, n - 1]
        status = {k: risk_status(int(k), n, 0.05, looks=len(looks)) for k in np.unique(ks)}
        now = np.array([status[k] for k in ks], dtype=object)
        verdict = np.where((verdict == UNDECIDED) & (now != UNDECIDED), now, verdict)
    return verdict


TOLERANCE = 0.05 + 3 * np.sqrt(0.05 * 0.95 / 4000)


@pytest.mark.parametrize("p", [0.05, 0.08])
def test_the_sequential_rule_rarely_calls_a_risk_at_or_above_the_limit_safe(p: float) -> None:
    # The worst case for SAFE is a true risk at the limit.
    assert np.mean(first_verdicts(p, 4000, 12) == SAFE) <= TOLERANCE


@pytest.mark.parametrize("p", [0.0499, 0.02])
def test_the_sequential_rule_rarely_calls_a_risk_below_the_limit_unsafe(p: float) -> None:
    assert np.mean(first_verdicts(p, 4000, 13) == UNSAFE) <= TOLERANCE


def test_the_sequential_rule_decides_clear_cases() -> None:
    assert np.mean(first_verdicts(0.0, 500, 14) == SAFE) == 1.0
    assert np.mean(first_verdicts(0.5, 500, 15) == UNSAFE) == 1.0
