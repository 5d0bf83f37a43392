"""Subcommands that live in their own module.

Each module here imports `cli` from runbook.cli and registers its commands on
it; runbook.cli imports every module of this package once `cli` exists, so a
new command needs no edit to cli.py.
"""
