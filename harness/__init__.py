"""The docs harness: a pytest plugin (harness.plugin) that runs the code
blocks of docs/*.md in a fresh host container per page and host kind.

Importing this package imports nothing else: the site's hooks (site_hooks/)
read pages through harness.pages without pytest, and CI's site job runs
`python3 -m harness.merge_provenance` with no venv.
"""
