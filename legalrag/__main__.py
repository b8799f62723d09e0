"""`python -m legalrag` runs the CLI."""

from legalrag.cli import main

main()
