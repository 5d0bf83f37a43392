"""Build and check tools run from the repo root; the Python ones are also
importable (`from scripts.build_pyz import build`, `python -m scripts.guide_length`)."""
