"""`python -m lab demo|down|bench`."""

from lab.cli import run

run()
