"""The MkDocs hooks (mkdocs.yml `hooks:`). They import the harness's page
reader (harness.pages), never tests/ or pytest; `python -m mkdocs` from the
repo root makes both packages importable."""
