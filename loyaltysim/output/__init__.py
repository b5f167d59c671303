"""Results folders: where a run writes, the lock that keeps it to one run at a time."""
