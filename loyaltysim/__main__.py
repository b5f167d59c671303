"""`python -m loyaltysim` runs the command line."""

from loyaltysim.cli import main

main()
