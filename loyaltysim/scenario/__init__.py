"""Scenario schema, loading, validation and overrides."""

from loyaltysim.scenario.schema import MAX_CUSTOMERS, Scenario

__all__ = ["MAX_CUSTOMERS", "Scenario"]
