"""Commands: experiments (see the module that defines them)."""
