"""Sizes shared by the scenario's validation and the model, in a module both may import.

The scenario layer sits below the model (the model imports the scenario, never the other
way), yet validating a scenario needs to know how much memory a customer takes.
"""

from __future__ import annotations

# Bytes of state per customer row (every column of model.population.Population); used by
# the memory guard in the scenario's validation and checked against the dataclass by a
# unit test.
BYTES_PER_CUSTOMER = 4 * 21 + 8 * 4 + 4 * 11 + 2 * 2 + 1 * 9
