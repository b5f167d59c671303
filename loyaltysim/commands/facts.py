"""Commands: facts (see the module that defines them)."""
