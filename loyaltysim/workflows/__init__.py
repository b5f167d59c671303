"""User-facing jobs: each composes the layers below and is the only place that writes
results folders."""
