"""Commands: report (see the module that defines them)."""
