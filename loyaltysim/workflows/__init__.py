"""Workflows: one module per user-facing job, the only layer that writes folders and draws."""
