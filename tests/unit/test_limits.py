"""The memory guard's bytes per customer are the model's row of columns."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from loyaltysim.limits import BYTES_PER_CUSTOMER
from loyaltysim.model.population import Population


def test_bytes_per_customer_is_one_row_of_every_population_column() -> None:
    population = Population()
    columns = [getattr(population, f.name) for f in fields(Population)]
    row = sum(c.dtype.itemsize for c in columns if isinstance(c, np.ndarray))
    assert row == BYTES_PER_CUSTOMER
