"""User-facing jobs, one module each: the only layer that writes folders and draws."""
