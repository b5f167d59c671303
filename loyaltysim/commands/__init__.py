"""Commands with more machinery than a few lines, one module per family.

Each module defines plain click commands; ``cli.py`` adds them to its group. What they
share (exit codes, options, loading) is :mod:`loyaltysim.commands.common`; no command
imports ``cli.py``.
"""
