"""`python -m nncalc` runs the command line."""

from .cli import main

main()
