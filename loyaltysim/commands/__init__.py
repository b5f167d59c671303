"""Commands with more machinery than a few lines, one module per family.

Each module attaches its commands to :data:`loyaltysim.cli.main`; ``cli.py`` imports
them at its end, which registers them.
"""
