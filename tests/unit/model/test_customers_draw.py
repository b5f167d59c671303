"""draw_segments inverts the cumulative weights itself: it must draw exactly what numpy's
``Generator.choice(k, size, p=p)`` draws, and leave the generator where choice would."""

from __future__ import annotations

import numpy as np
import pytest

from loyaltysim.model.customers import draw_segments


@pytest.mark.parametrize("weights", [[0.35, 0.45, 0.2], [1.0, 2.0, 3.0, 0.5], [1.0]])
@pytest.mark.parametrize("count", [1, 2, 7, 500])
def test_draw_segments_is_numpys_choice(weights: list[float], count: int) -> None:
    w = np.array(weights)
    for seed in range(20):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        got = draw_segments(ours, w, count)
        want = theirs.choice(len(w), size=count, p=w / w.sum()).astype(np.int16)
        assert got.dtype == np.int16
        assert np.array_equal(got, want)
        assert ours.random() == theirs.random()  # the stream is left at the same place


def test_no_newcomers_draws_nothing() -> None:
    rng = np.random.default_rng(1)
    assert len(draw_segments(rng, np.array([1.0, 1.0]), 0)) == 0
    assert rng.random() == np.random.default_rng(1).random()
