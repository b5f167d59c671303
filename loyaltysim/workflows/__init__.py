"""User-facing jobs: the only layer that writes results folders and draws charts."""
