"""Commands: check (see the module that defines them)."""
